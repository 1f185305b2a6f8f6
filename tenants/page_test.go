package tenants

import (
	"strconv"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestPageHelpers(t *testing.T) {
	t.Parallel()

	t.Run("FirstPageHasNoKey", func(t *testing.T) {
		t.Parallel()
		after, err := PageAfter("parts", "")
		require.NoError(t, err)
		require.Empty(t, after)
	})

	t.Run("NextCursorRoundTrips", func(t *testing.T) {
		t.Parallel()
		page, next := NextPage("seqs", []int{1, 2, 3}, 2, strconv.Itoa)
		require.Equal(t, []int{1, 2}, page)
		require.Equal(t, EncodeCursor("seqs", "2"), next)
		after, err := PageAfter("seqs", next)
		require.NoError(t, err)
		require.Equal(t, "2", after)
	})

	t.Run("LastPageHasNoCursor", func(t *testing.T) {
		t.Parallel()
		page, next := NextPage("seqs", []int{1, 2}, 2, strconv.Itoa)
		require.Equal(t, []int{1, 2}, page)
		require.Empty(t, next)
	})

	t.Run("CursorOfAnotherListIsMalformed", func(t *testing.T) {
		t.Parallel()
		_, err := PageAfter("parts", EncodeCursor("units", "unt_1"))
		require.Equal(t, MalformedCursor(EncodeCursor("units", "unt_1")), err)
	})

	t.Run("KeyPostgresCannotHoldIsMalformed", func(t *testing.T) {
		t.Parallel()
		for _, key := range []string{"\xff\xfe", "unt_1\x00", "2026-01-01T00:00:00Z|\xff"} {
			c := EncodeCursor("units", key)
			_, err := PageAfter("units", c)
			require.Equal(t, MalformedCursor(c), err, "%q", key)
		}
	})

	t.Run("DefaultLimit", func(t *testing.T) {
		t.Parallel()
		require.Equal(t, DefaultPageLimit, PageLimit(0))
		require.Equal(t, 7, PageLimit(7))
	})
}
