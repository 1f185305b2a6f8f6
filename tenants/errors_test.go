package tenants

import (
	"errors"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestRelocate(t *testing.T) {
	t.Parallel()
	var v Validation
	v.Add("parts[1].part_id", "no such part", nil)
	v.Add("on", "a date", nil)
	v.Add("", "no rows", nil)
	orig := v.Err()

	got := Relocate(orig, "", "work.", "on")
	var te *Error
	require.ErrorAs(t, got, &te)
	require.Equal(t, []string{"work.parts[1].part_id", "on", ""}, locations(te))
	require.ErrorAs(t, orig, &te)
	require.Equal(t, []string{"parts[1].part_id", "on", ""}, locations(te), "the original is not changed")

	require.ErrorAs(t, Relocate(orig, "parts", "lines"), &te)
	require.Equal(t, []string{"lines[1].part_id", "on", ""}, locations(te))

	other := errors.New("boom")
	require.Same(t, other, Relocate(other, "", "work."))
}

func locations(e *Error) []string {
	out := make([]string, len(e.Fields))
	for i, f := range e.Fields {
		out[i] = f.Location
	}
	return out
}
