package api

import (
	"bytes"
	"cmp"
	"io"
	"math"
	"slices"
	"strconv"
	"sync"
	"unicode/utf8"

	"github.com/go-json-experiment/json/jsontext"
)

// canonicalJSON appends to dst exactly what encoding/json's
// Marshal(Unmarshal(body, &any)) gives (objects' members sorted by name,
// the last of a repeated name kept, strings and numbers re-encoded as
// encoding/json writes them, no spaces), without building the map of
// maps: the idempotency key's request hash is taken over it, and it must
// not change from one release to the next (a retry across a deploy must
// still find its record). ok is false when the fast path cannot vouch for
// the answer (malformed JSON, a repeated name, invalid UTF-8, a surrogate
// escape, a number out of float64's range, deep nesting): the caller then
// takes encoding/json's own way, which decides.
func canonicalJSON(dst, body []byte) (_ []byte, ok bool) {
	if !utf8.Valid(body) || hasSurrogateEscape(body) {
		return dst, false
	}
	c := canonicalizers.Get().(*canonicalizer)
	defer func() {
		c.d.Reset(emptyReader) // do not keep body alive in the pool
		c.members, c.names, c.tmp, c.scratch = c.members[:0], c.names[:0], c.tmp[:0], c.scratch[:0]
		canonicalizers.Put(c)
	}()
	c.in = *bytes.NewBuffer(body)
	c.d.Reset(&c.in, allowDuplicateNames)
	out, err := c.value(dst, 0)
	if err != nil {
		return dst, false
	}
	if _, err := c.d.ReadToken(); err != io.EOF { // more than one value, or trailing bytes: encoding/json refuses them
		return dst, false
	}
	return out, true
}

var (
	canonicalizers = sync.Pool{New: func() any { return &canonicalizer{d: jsontext.NewDecoder(emptyReader)} }}
	emptyReader    = bytes.NewReader(nil)
	// A repeated name is kept (the last one wins, as in a map), not
	// refused: the decoder need not remember names.
	allowDuplicateNames = jsontext.AllowDuplicateNames(true)
)

// maxCanonicalDepth bounds the nesting the fast path follows (encoding/json
// refuses beyond 10,000).
const maxCanonicalDepth = 1000

// canonicalizer is canonicalJSON's reusable workspace.
type canonicalizer struct {
	d       *jsontext.Decoder
	in      bytes.Buffer // the body, read in place by d
	scratch []byte       // a string's decoded bytes
	// members and names are stacks: each object pushes its members and
	// their decoded names and pops them once written in order.
	members []member
	names   []byte
	tmp     []byte // an object's members as read, while they are reordered
}

// readString reads the next string (a value or an object's name) and
// returns its decoded content, valid until the next call.
func (c *canonicalizer) readString() ([]byte, error) {
	raw, err := c.d.ReadValue()
	if err != nil {
		return nil, err
	}
	return c.unquote(raw)
}

// unquote is the decoded content of a raw JSON string, valid until the
// next call: the raw bytes themselves when it has no escape.
func (c *canonicalizer) unquote(raw []byte) ([]byte, error) {
	if bytes.IndexByte(raw, '\\') < 0 {
		return raw[1 : len(raw)-1], nil
	}
	var err error
	c.scratch, err = jsontext.AppendUnquote(c.scratch[:0], raw)
	return c.scratch, err
}

// errCanonical stops the fast path; the caller falls back.
type errCanonical struct{}

func (errCanonical) Error() string { return "canonical JSON: fall back to encoding/json" }

// member is an object member written out: its decoded name in the
// names stack, its encoded name and value relative to the object's start.
type member struct {
	nameStart, nameEnd int
	start, end         int
}

func (c *canonicalizer) value(dst []byte, depth int) ([]byte, error) {
	if depth > maxCanonicalDepth {
		return dst, errCanonical{}
	}
	switch c.d.PeekKind() {
	case '{':
		if _, err := c.d.ReadToken(); err != nil {
			return dst, err
		}
		// The members are written as they come, then reordered by name.
		start, mBase, nBase := len(dst), len(c.members), len(c.names)
		for c.d.PeekKind() != '}' {
			name, err := c.readString()
			if err != nil {
				return dst, err
			}
			m := member{nameStart: len(c.names), start: len(dst) - start}
			c.names = append(c.names, name...)
			m.nameEnd = len(c.names)
			dst = appendJSONString(dst, name)
			dst = append(dst, ':')
			if dst, err = c.value(dst, depth+1); err != nil {
				return dst, err
			}
			m.end = len(dst) - start
			c.members = append(c.members, m)
		}
		if _, err := c.d.ReadToken(); err != nil {
			return dst, err
		}
		// Sorted by name; of a repeated name the last is kept, as
		// Unmarshal into a map does.
		ms := c.members[mBase:]
		name := func(m member) []byte { return c.names[m.nameStart:m.nameEnd] }
		slices.SortStableFunc(ms, func(a, b member) int { return bytes.Compare(name(a), name(b)) })
		c.tmp = append(c.tmp[:0], dst[start:]...)
		dst = append(dst[:start], '{')
		first := true
		for i, m := range ms {
			if i+1 < len(ms) && bytes.Equal(name(m), name(ms[i+1])) {
				continue
			}
			if !first {
				dst = append(dst, ',')
			}
			first = false
			dst = append(dst, c.tmp[m.start:m.end]...)
		}
		c.members, c.names = c.members[:mBase], c.names[:nBase]
		return append(dst, '}'), nil
	case '[':
		if _, err := c.d.ReadToken(); err != nil {
			return dst, err
		}
		dst = append(dst, '[')
		first := true
		for c.d.PeekKind() != ']' {
			if !first {
				dst = append(dst, ',')
			}
			first = false
			var err error
			if dst, err = c.value(dst, depth+1); err != nil {
				return dst, err
			}
		}
		if _, err := c.d.ReadToken(); err != nil {
			return dst, err
		}
		return append(dst, ']'), nil
	case '"':
		s, err := c.readString()
		if err != nil {
			return dst, err
		}
		return appendJSONString(dst, s), nil
	case '0':
		raw, err := c.d.ReadValue()
		if err != nil {
			return dst, err
		}
		f, err := strconv.ParseFloat(string(raw), 64)
		if err != nil {
			return dst, err
		}
		return appendJSONFloat(dst, f), nil
	case 'n', 't', 'f':
		raw, err := c.d.ReadValue()
		if err != nil {
			return dst, err
		}
		return append(dst, raw...), nil
	default:
		_, err := c.d.ReadToken() // the decoder's own error
		return dst, cmp.Or(err, error(errCanonical{}))
	}
}

// hasSurrogateEscape reports whether body holds a \uD800-\uDFFF escape:
// encoding/json and jsontext may decode a lone one differently.
func hasSurrogateEscape(body []byte) bool {
	for i := 0; ; {
		j := bytes.Index(body[i:], []byte(`\u`))
		if j < 0 {
			return false
		}
		i += j + 2
		if i < len(body) && (body[i] == 'd' || body[i] == 'D') && i+1 < len(body) {
			switch body[i+1] {
			case '8', '9', 'a', 'b', 'c', 'd', 'e', 'f', 'A', 'B', 'C', 'D', 'E', 'F':
				return true
			}
		}
	}
}

// appendJSONString is encoding/json's string encoding (Marshal's, HTML
// characters escaped), copied from encoding/json's appendString.
func appendJSONString(dst, src []byte) []byte {
	const hex = "0123456789abcdef"
	dst = append(dst, '"')
	start := 0
	for i := 0; i < len(src); {
		if b := src[i]; b < utf8.RuneSelf {
			if b >= 0x20 && b != '"' && b != '\\' && b != '<' && b != '>' && b != '&' {
				i++
				continue
			}
			dst = append(dst, src[start:i]...)
			switch b {
			case '\\', '"':
				dst = append(dst, '\\', b)
			case '\b':
				dst = append(dst, '\\', 'b')
			case '\f':
				dst = append(dst, '\\', 'f')
			case '\n':
				dst = append(dst, '\\', 'n')
			case '\r':
				dst = append(dst, '\\', 'r')
			case '\t':
				dst = append(dst, '\\', 't')
			default:
				dst = append(dst, '\\', 'u', '0', '0', hex[b>>4], hex[b&0xF])
			}
			i++
			start = i
			continue
		}
		c, size := utf8.DecodeRune(src[i:])
		if c == utf8.RuneError && size == 1 {
			dst = append(dst, src[start:i]...)
			dst = append(dst, `\ufffd`...)
			i += size
			start = i
			continue
		}
		if c == '\u2028' || c == '\u2029' {
			dst = append(dst, src[start:i]...)
			dst = append(dst, '\\', 'u', '2', '0', '2', hex[c&0xF])
			i += size
			start = i
			continue
		}
		i += size
	}
	dst = append(dst, src[start:]...)
	return append(dst, '"')
}

// appendJSONFloat is encoding/json's float64 encoding (as ES6 writes
// numbers), copied from encoding/json's floatEncoder.
func appendJSONFloat(b []byte, f float64) []byte {
	abs := math.Abs(f)
	format := byte('f')
	if abs != 0 && (abs < 1e-6 || abs >= 1e21) {
		format = 'e'
	}
	b = strconv.AppendFloat(b, f, format, -1, 64)
	if format == 'e' {
		// clean up e-09 to e-9
		n := len(b)
		if n >= 4 && b[n-4] == 'e' && b[n-3] == '-' && b[n-2] == '0' {
			b[n-2] = b[n-1]
			b = b[:n-1]
		}
	}
	return b
}
