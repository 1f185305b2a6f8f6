package tenants

import (
	"crypto/rand"
	"strings"

	"github.com/oklog/ulid/v2"
)

// ID prefixes. An ID is "<prefix>_<26 lowercase Crockford base32 chars>" built
// from a ULID, so IDs of one kind sort by creation time. Clients must treat
// IDs as opaque strings.
const (
	PrefixTenant         = "ten"
	PrefixAPIKey         = "key"
	PrefixEvent          = "evt"
	PrefixIdempotencyKey = "idk"
	PrefixNode           = "nod"
	PrefixNodeStatus     = "nsc"
	PrefixTechnician     = "tec"
	PrefixImport         = "imp"
	PrefixProductModel   = "mdl"
	PrefixPart           = "prt"
	PrefixPriceList      = "prl"
	PrefixQuote          = "quo"
	PrefixCustomer       = "cus"
	PrefixUnit           = "unt"
	PrefixServiceRecord  = "svr"
	PrefixStorefront     = "sfr"
	PrefixPlan           = "pln"
	PrefixContract       = "ctr"
	PrefixClaim          = "clm"
	PrefixPayout         = "pay"
	PrefixSwap           = "swp"
	PrefixWebhook        = "whk"
	PrefixDelivery       = "dlv"
	PrefixGateway        = "ngw"
	PrefixNotification   = "ntf"
	PrefixTicket         = "tkt"
	PrefixStockMove      = "stm"
	PrefixLoaner         = "lnr"
	PrefixComplaint      = "cmp"
	PrefixTicketTask     = "tsk"
	PrefixTestClock      = "clk"
)

// NewID returns a fresh ID with the given prefix.
func NewID(prefix string) string {
	var text [ulid.EncodedSize]byte
	_ = ulid.MustNew(ulid.Now(), rand.Reader).MarshalTextTo(text[:]) // cannot fail: the buffer has the size
	for i, c := range text {
		if 'A' <= c && c <= 'Z' {
			text[i] = c + 'a' - 'A'
		}
	}
	var b strings.Builder
	b.Grow(len(prefix) + 1 + len(text))
	b.WriteString(prefix)
	b.WriteByte('_')
	b.Write(text[:])
	return b.String() // one allocation (it was three)
}

// ValidID reports whether s is shaped like an ID with the given prefix. A
// malformed ID can never name an object, so callers answer it with not_found
// rather than a validation error: an ID is opaque to the client.
func ValidID(prefix, s string) bool {
	rest, ok := strings.CutPrefix(s, prefix+"_")
	if !ok || len(rest) != ulid.EncodedSize {
		return false
	}
	_, err := ulid.ParseStrict(strings.ToUpper(rest))
	return err == nil
}
