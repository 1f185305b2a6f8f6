package pg

import (
	"slices"
	"strconv"
	"strings"

	"github.com/servicenet/servicenet/tenants"
)

// Keyset is one page of a list read in the order of a unique sort key
// (keyset pagination): the rows after the key the request's cursor carries,
// at most Limit of them. The query asks for Fetch() rows, one more than the
// page, so that the extra row tells whether a next page exists; Page then
// cuts the rows to the page and makes the next cursor. Cursors are
// tenants.EncodeCursor's, opaque to clients and bound to their list (Kind):
// a cursor of another list is a validation error on cursor.
type Keyset struct {
	Kind  string // the list's name inside its cursors
	Limit int    // the page size: the one asked for, or tenants.DefaultPageLimit
	After string // the sort key the page starts after; "" on the first page

	cursor string // as the request sent it, for the error on a malformed one
}

// NewKeyset reads a list request's cursor and limit. A cursor this list did
// not make is tenants.MalformedCursor (422 on cursor); no cursor is the
// first page.
func NewKeyset(kind, cursor string, limit int) (Keyset, error) {
	after, err := tenants.PageAfter(kind, cursor)
	if err != nil {
		return Keyset{}, err
	}
	return Keyset{Kind: kind, Limit: tenants.PageLimit(limit), After: after, cursor: cursor}, nil
}

// Fetch is the query's LIMIT: one row more than the page.
func (k Keyset) Fetch() int { return k.Limit + 1 }

// First reports whether the page is the list's first (no cursor).
func (k Keyset) First() bool { return k.After == "" }

// AfterOr is the key the page starts after, or start on the first page: a
// key that sorts before every row in the list's order ("imp_~" for a list
// of imp_ IDs newest first).
func (k Keyset) AfterOr(start string) string {
	if k.First() {
		return start
	}
	return k.After
}

// Page cuts rows, fetched with LIMIT k.Fetch(), to the page and returns the
// next page's cursor, made of key of the page's last row, or "" when the
// extra row is absent and this page is the last.
func Page[T any](k Keyset, rows []T, key func(T) string) ([]T, string) {
	return tenants.NextPage(k.Kind, rows, k.Limit, key)
}

// CompositeKey is the cursor key of a row sorted by several columns (a
// time and the ID that breaks ties), for Page's key function; Parts reads
// it back.
func CompositeKey(parts ...string) string { return strings.Join(parts, keySep) }

// keySep separates a composite key's parts: a byte no ID, date or number holds.
const keySep = "|"

// Parts is the page's composite key split in its n parts (nil on the first
// page); a key of another number of parts, or with an empty one, is
// tenants.MalformedCursor. Bind them to RowsAfter's placeholders.
func (k Keyset) Parts(n int) ([]any, error) {
	if k.First() {
		return make([]any, n), nil // NULLs: RowsAfter holds for every row
	}
	parts := strings.Split(k.After, keySep)
	if len(parts) != n || slices.Contains(parts, "") {
		return nil, tenants.MalformedCursor(k.cursor)
	}
	out := make([]any, n)
	for i, p := range parts {
		out[i] = p
	}
	return out, nil
}

// RowsAfter is the predicate that starts a page of a list sorted by cols
// after the row whose key the placeholders from $first hold: "(created_at,
// id) < ($3, $4)" for RowsAfter(true, 3, "created_at", "id"), a list newest
// first; ">" for one oldest first. On the first page the placeholders are
// bound to NULL and the predicate holds for every row.
func RowsAfter(desc bool, first int, cols ...string) string {
	op := ">"
	if desc {
		op = "<"
	}
	ph := make([]string, len(cols))
	for i := range cols {
		ph[i] = "$" + strconv.Itoa(first+i)
	}
	return "($" + strconv.Itoa(first) + " IS NULL OR (" + strings.Join(cols, ", ") + ") " + op + " (" + strings.Join(ph, ", ") + "))"
}
