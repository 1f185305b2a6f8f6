package events

import (
	"encoding"
	"encoding/json"
	"reflect"
	"slices"
	"strconv"
	"time"
	"unicode/utf8"
)

// An event's data is nearly always a map[string]any of strings, IDs,
// numbers, flags, times and nested maps. appendJSON writes that shape
// without encoding/json's reflection (sorted keys, escapes and all: the
// bytes are json.Marshal's, which the tests check) and hands every other
// value to json.Marshal, so the result is always json.Marshal's.

var (
	jsonMarshaler = reflect.TypeFor[json.Marshaler]()
	textMarshaler = reflect.TypeFor[encoding.TextMarshaler]()
)

// maxDataDepth bounds appendJSON's walk of nested maps: deeper data (a
// cycle, say) is json.Marshal's to write or refuse.
const maxDataDepth = 16

// appendJSON appends json.Marshal(v) to buf.
func appendJSON(buf []byte, v any) ([]byte, error) { return appendJSONDepth(buf, v, 0) }

func appendJSONDepth(buf []byte, v any, depth int) ([]byte, error) {
	if depth > maxDataDepth {
		return appendMarshal(buf, v)
	}
	switch x := v.(type) {
	case nil:
		return append(buf, "null"...), nil
	case string:
		return appendJSONString(buf, x), nil
	case bool:
		return strconv.AppendBool(buf, x), nil
	case int:
		return strconv.AppendInt(buf, int64(x), 10), nil
	case int32:
		return strconv.AppendInt(buf, int64(x), 10), nil
	case int64:
		return strconv.AppendInt(buf, x, 10), nil
	case *string:
		if x == nil {
			return append(buf, "null"...), nil
		}
		return appendJSONString(buf, *x), nil
	case time.Time:
		return appendMarshaler(buf, x)
	case *time.Time:
		if x == nil {
			return append(buf, "null"...), nil
		}
		return appendMarshaler(buf, *x)
	case json.RawMessage:
		if x == nil {
			return append(buf, "null"...), nil
		}
	case map[string]any:
		if x == nil {
			return append(buf, "null"...), nil
		}
		keys := make([]string, 0, len(x))
		for k := range x {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		buf = append(buf, '{')
		for i, k := range keys {
			if i > 0 {
				buf = append(buf, ',')
			}
			buf = append(appendJSONString(buf, k), ':')
			var err error
			if buf, err = appendJSONDepth(buf, x[k], depth+1); err != nil {
				return nil, err
			}
		}
		return append(buf, '}'), nil
	default:
		// A named string type (a state, a kind) or a pointer to one, as
		// encoding/json writes it when the type has no marshaler.
		rv := reflect.ValueOf(v)
		if rv.Kind() == reflect.Pointer && rv.Type().Elem().Kind() == reflect.String && !marshals(rv.Type()) && !marshals(rv.Type().Elem()) {
			if rv.IsNil() {
				return append(buf, "null"...), nil
			}
			rv = rv.Elem()
		}
		if rv.Kind() == reflect.String && !marshals(rv.Type()) && !marshals(reflect.PointerTo(rv.Type())) {
			return appendJSONString(buf, rv.String()), nil
		}
	}
	return appendMarshal(buf, v)
}

func appendMarshal(buf []byte, v any) ([]byte, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	return append(buf, b...), nil
}

func marshals(t reflect.Type) bool {
	return t.Implements(jsonMarshaler) || t.Implements(textMarshaler)
}

func appendMarshaler(buf []byte, m json.Marshaler) ([]byte, error) {
	b, err := m.MarshalJSON()
	if err != nil {
		return nil, &json.MarshalerError{Type: reflect.TypeOf(m), Err: err}
	}
	return append(buf, b...), nil
}

// appendJSONString appends s quoted as json.Marshal quotes it: a string
// with nothing to escape as it is, any other by encoding/json itself.
func appendJSONString(buf []byte, s string) []byte {
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c < 0x20 || c == '"' || c == '\\' || c == '<' || c == '>' || c == '&' {
				return appendMarshaled(buf, s)
			}
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError || r == '\u2028' || r == '\u2029' {
			return appendMarshaled(buf, s)
		}
		i += size
	}
	buf = append(buf, '"')
	buf = append(buf, s...)
	return append(buf, '"')
}

func appendMarshaled(buf []byte, s string) []byte {
	b, _ := json.Marshal(s) // a string always encodes
	return append(buf, b...)
}
