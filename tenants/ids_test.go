package tenants_test

import (
	"strings"
	"testing"

	"github.com/oklog/ulid/v2"
	"github.com/stretchr/testify/require"

	"github.com/servicenet/servicenet/tenants"
)

func TestNewIDIsPrefixAndLowercaseULID(t *testing.T) {
	seen := map[string]bool{}
	for range 1000 {
		id := tenants.NewID(tenants.PrefixTicket)
		require.True(t, tenants.ValidID(tenants.PrefixTicket, id), id)
		require.Equal(t, strings.ToLower(id), id)
		rest, ok := strings.CutPrefix(id, tenants.PrefixTicket+"_")
		require.True(t, ok, id)
		u, err := ulid.ParseStrict(strings.ToUpper(rest))
		require.NoError(t, err)
		require.Equal(t, strings.ToLower(u.String()), rest) // the form it always had
		require.False(t, seen[id])
		seen[id] = true
	}
}

// TestNewIDsSortInTheOrderMade: IDs made one after the other, many within
// the same millisecond, from several goroutines at once, each sort after
// the one its goroutine made before (a list in ID order is in creation
// order, which a random part per ID broke within a millisecond).
func TestNewIDsSortInTheOrderMade(t *testing.T) {
	const goroutines, each = 4, 2000
	errs := make(chan string, goroutines)
	for range goroutines {
		go func() {
			last := ""
			for range each {
				id := tenants.NewID(tenants.PrefixNode)
				if id <= last {
					errs <- id + " made after " + last
					return
				}
				last = id
			}
			errs <- ""
		}()
	}
	for range goroutines {
		require.Empty(t, <-errs)
	}
}
