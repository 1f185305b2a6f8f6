package tenants

import (
	"encoding/base64"
	"strings"
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
// the same kind of list; anything else is a validation error on query.cursor.
func DecodeCursor(kind, cursor string) (string, error) {
	bad := Invalid("query.cursor", "malformed cursor; pass next_cursor from a previous page of this list", cursor)
	raw, err := base64.RawURLEncoding.DecodeString(cursor)
	if err != nil {
		return "", bad
	}
	key, ok := strings.CutPrefix(string(raw), kind+":")
	if !ok || key == "" {
		return "", bad
	}
	return key, nil
}
