package tenants_test

import "testing"

func TestZZListCrossings(t *testing.T) {
	for _, c := range findCrossings(t, ".", tableOwners(t)) {
		t.Log(c.key(), c.where)
	}
}
