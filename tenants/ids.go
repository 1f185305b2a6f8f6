package tenants

import (
	"crypto/rand"
	"strings"
	"sync"

	"github.com/oklog/ulid/v2"
)

// ID prefixes. An ID is "<prefix>_<26 lowercase Crockford base32 chars>" built
// from a ULID, so IDs of one kind sort by creation time (to the
// millisecond, and within one in the order one process made them: a list
// in ID order is in creation order). Clients must treat IDs as opaque
// strings.
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

// ids makes the ULIDs of NewID: the time in milliseconds, never before
// the last one's (after the clock steps back, IDs keep the last one's time
// until it catches up), and a random part from
// crypto/rand which, within one millisecond, is the last one's plus a
// random increment. IDs made in the same millisecond (a fixture's rows, a
// batch) so sort in the order they were made; with a random part each,
// two objects created within a millisecond were listed in a random order.
// The time is read under the lock: read before it, a caller holding an
// earlier millisecond could reset the sequence under another's feet.
var ids = struct {
	sync.Mutex
	last    uint64
	entropy *ulid.MonotonicEntropy
}{entropy: ulid.Monotonic(rand.Reader, 0)}

// NewID returns a fresh ID with the given prefix.
func NewID(prefix string) string {
	ids.Lock()
	ms := max(ulid.Now(), ids.last)
	ids.last = ms
	id, err := ulid.New(ms, ids.entropy)
	ids.Unlock()
	if err != nil { // the random part reached its top within the millisecond (one in about 2^48)
		id = ulid.MustNew(ms, rand.Reader)
	}
	var text [ulid.EncodedSize]byte
	_ = id.MarshalTextTo(text[:]) // cannot fail: the buffer has the size
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
