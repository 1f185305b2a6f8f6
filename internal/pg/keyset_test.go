package pg

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/servicenet/servicenet/tenants"
)

func TestKeysetWalksPages(t *testing.T) {
	ids := []string{"a1", "a2", "a3", "a4", "a5"}
	fetch := func(k Keyset) []string { // what "id > $after ORDER BY id LIMIT $fetch" answers
		var out []string
		for _, id := range ids {
			if id > k.After && len(out) < k.Fetch() {
				out = append(out, id)
			}
		}
		return out
	}
	var seen []string
	cursor := ""
	for range 4 {
		k, err := NewKeyset("things", cursor, 2)
		require.NoError(t, err)
		page, next := Page(k, fetch(k), func(s string) string { return s })
		require.LessOrEqual(t, len(page), 2)
		seen = append(seen, page...)
		if cursor = next; next == "" {
			break
		}
	}
	require.Equal(t, ids, seen)
	require.Empty(t, cursor, "the last page has no next cursor")
}

func TestKeysetDefaultsAndCursors(t *testing.T) {
	k, err := NewKeyset("things", "", 0)
	require.NoError(t, err)
	require.Equal(t, tenants.DefaultPageLimit, k.Limit)
	require.Equal(t, tenants.DefaultPageLimit+1, k.Fetch())
	require.True(t, k.First())
	require.Equal(t, "imp_~", k.AfterOr("imp_~"))

	_, err = NewKeyset("things", tenants.EncodeCursor("others", "a1"), 10)
	require.Equal(t, tenants.CodeInvalid, tenants.ErrorCode(err), "a cursor of another list")
	_, err = NewKeyset("things", "%%%", 10)
	require.Equal(t, tenants.CodeInvalid, tenants.ErrorCode(err), "not a cursor")

	k, err = NewKeyset("things", tenants.EncodeCursor("things", "a1"), 10)
	require.NoError(t, err)
	require.Equal(t, "a1", k.AfterOr("imp_~"))
}

func TestKeysetCompositeKey(t *testing.T) {
	first, err := NewKeyset("events", "", 10)
	require.NoError(t, err)
	parts, err := first.Parts(2)
	require.NoError(t, err)
	require.Equal(t, []any{nil, nil}, parts, "the first page binds NULLs")

	key := CompositeKey("2026-11-30T10:00:00Z", "evt_01")
	k, err := NewKeyset("events", tenants.EncodeCursor("events", key), 10)
	require.NoError(t, err)
	parts, err = k.Parts(2)
	require.NoError(t, err)
	require.Equal(t, []any{"2026-11-30T10:00:00Z", "evt_01"}, parts)

	for _, bad := range []string{"evt_01", "a|b|c", "|evt_01"} {
		k, err := NewKeyset("events", tenants.EncodeCursor("events", bad), 10)
		require.NoError(t, err)
		_, err = k.Parts(2)
		require.Equal(t, tenants.CodeInvalid, tenants.ErrorCode(err), bad)
	}

	require.Equal(t, "($3 IS NULL OR (created_at, id) < ($3, $4))", RowsAfter(true, 3, "created_at", "id"))
	require.Equal(t, "($2 IS NULL OR (occurred_on, id) > ($2, $3))", RowsAfter(false, 2, "occurred_on", "id"))
}
