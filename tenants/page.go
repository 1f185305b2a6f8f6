package tenants

import (
	"encoding/base64"
	"strings"
	"unicode/utf8"

	"github.com/servicenet/servicenet/internal/i18n"
)

// Pagination limits shared by every list operation.
const (
	DefaultPageLimit = 50
	MaxPageLimit     = 200
)

// EncodeCursor makes an opaque cursor from the sort key of the last item of a
// page. Cursors are opaque to clients; only DecodeCursor reads them.
func EncodeCursor(kind, lastKey string) string {
	return base64.RawURLEncoding.EncodeToString([]byte(kind + ":" + lastKey))
}

// DecodeCursor returns the sort key inside a cursor made by EncodeCursor for
// the same kind of list; anything else is MalformedCursor, a key that
// PostgreSQL text cannot hold (a NUL, invalid UTF-8) included: such a key
// is never made here, and bound to a query it failed as a 500.
func DecodeCursor(kind, cursor string) (string, error) {
	raw, err := base64.RawURLEncoding.DecodeString(cursor)
	if err != nil {
		return "", MalformedCursor(cursor)
	}
	key, ok := strings.CutPrefix(string(raw), kind+":")
	if !ok || key == "" || strings.IndexByte(key, 0) >= 0 || !utf8.ValidString(key) {
		return "", MalformedCursor(cursor)
	}
	return key, nil
}

// MalformedCursor is the validation error on cursor for a cursor this
// list did not make, including one whose sort key does not parse.
func MalformedCursor(cursor string) *Error {
	return InvalidMsg("cursor", i18n.M("common.malformed_cursor_list"), cursor)
}

// PageLimit is limit, or DefaultPageLimit when limit is not positive.
func PageLimit(limit int) int {
	if limit <= 0 {
		return DefaultPageLimit
	}
	return limit
}

// PageAfter returns the sort key after which the page a cursor asks for
// starts: "" for no cursor (the first page), else the non-empty key that
// DecodeCursor finds in it, with DecodeCursor's error.
func PageAfter(kind, cursor string) (string, error) {
	if cursor == "" {
		return "", nil
	}
	return DecodeCursor(kind, cursor)
}

// NextPage takes the rows of a page fetched with LIMIT limit+1 (limit > 0)
// and returns at most limit of them with the cursor of the next page: the
// cursor of this kind made from key of the last row kept, or "" when the
// extra row is absent and this page is the last.
func NextPage[T any](kind string, rows []T, limit int, key func(T) string) ([]T, string) {
	if len(rows) <= limit {
		return rows, ""
	}
	rows = rows[:limit]
	return rows, EncodeCursor(kind, key(rows[len(rows)-1]))
}
