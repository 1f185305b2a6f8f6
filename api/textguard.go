package api

import (
	"fmt"
	"net/http"
	"reflect"
	"strconv"
	"strings"
	"sync"
	"unicode/utf8"

	"github.com/danielgtaylor/huma/v2"

	"github.com/servicenet/servicenet/tenants"
)

// PostgreSQL text cannot hold U+0000, and the driver refuses invalid UTF-8:
// such a string reaching a query was a 500. The guard refuses it at the edge
// as a 422 naming the field, in two places that together see every string
// input of every operation:
//
//   - textGuard, a Huma middleware (after authentication, before the
//     idempotency store records the path), checks the raw bytes of every
//     parameter the operation declares (path, query, header).
//   - bodyText, called by register after Huma parsed and validated the
//     body, walks the decoded Body by reflection and names each field by its
//     JSON path (body.lines[2].note). A JSON string cannot carry invalid
//     UTF-8 past encoding/json (it becomes U+FFFD, as do lone surrogates),
//     but a \u0000 escape decodes to a NUL.
//
// Neither reads the request body itself (see the 499 cascade in the notes).

// maxTextProblems bounds the field details of one refusal.
const maxTextProblems = 20

// badText says what is wrong with s for PostgreSQL text, as the suffix of a
// catalog code (api.text.<it>, api.text.key_<it>), or "".
func badText(s string) string {
	switch {
	case strings.IndexByte(s, 0) >= 0:
		return "nul"
	case !utf8.ValidString(s):
		return "invalid_utf8"
	}
	return ""
}

func textProblem(fields []*FieldDetail) *Problem {
	p := newProblem(http.StatusUnprocessableEntity, tenants.CodeInvalid, "").withMsg("api.text.unstorable")
	p.Errors = fields
	return p
}

// textGuard refuses a request whose declared parameters hold a NUL or
// invalid UTF-8. The value is not echoed.
func (s *Server) textGuard(ctx huma.Context, next func(huma.Context)) {
	var fields []*FieldDetail
	var query map[string][]string
	for _, p := range ctx.Operation().Parameters {
		if p == nil || len(fields) >= maxTextProblems {
			continue
		}
		var values []string
		switch p.In {
		case "path":
			values = []string{ctx.Param(p.Name)}
		case "query":
			if query == nil {
				u := ctx.URL()
				query = u.Query()
			}
			values = query[p.Name]
		case "header":
			ctx.EachHeader(func(name, value string) {
				if strings.EqualFold(name, p.Name) {
					values = append(values, value)
				}
			})
		default:
			continue
		}
		for _, v := range values {
			if msg := badText(v); msg != "" {
				fields = append(fields, fieldMsg(p.In+"."+p.Name, "api.text."+msg))
				break
			}
		}
	}
	if len(fields) > 0 {
		writeProblem(ctx, textProblem(fields))
		return
	}
	next(ctx)
}

// bodyText checks every string in the parsed input's Body (nested structs,
// pointers, slices, arrays, maps and interface values included) and returns
// the problem naming each offending field, or nil. It allocates nothing
// for a body whose text is good: the field's path is only written out for
// a field it refuses, and types that cannot hold a string are skipped.
func bodyText(in any) *Problem {
	v := reflect.ValueOf(in)
	for v.Kind() == reflect.Pointer {
		if v.IsNil() {
			return nil
		}
		v = v.Elem()
	}
	if v.Kind() != reflect.Struct {
		return nil
	}
	body := v.FieldByName("Body")
	if !body.IsValid() {
		return nil
	}
	w := textWalk{path: make([]byte, 0, 64)}
	w.path = append(w.path, "body"...)
	w.walk(body, 0)
	if len(w.fields) == 0 {
		return nil
	}
	return textProblem(w.fields)
}

// textWalk is bodyText's walk: path is the JSON path of the value being
// looked at (body.lines[2].note), fields what was found.
type textWalk struct {
	path   []byte
	fields []*FieldDetail
}

func (w *textWalk) bad(msg string) {
	w.fields = append(w.fields, fieldMsg(string(w.path), "api.text."+msg))
}

// walk appends a FieldDetail for each bad string under v, located by JSON
// path from w.path, which it leaves as it found it.
func (w *textWalk) walk(v reflect.Value, depth int) {
	if len(w.fields) >= maxTextProblems || depth > 64 || !holdsText(v.Type()) {
		return
	}
	n := len(w.path)
	switch v.Kind() {
	case reflect.String:
		if msg := badText(v.String()); msg != "" {
			w.bad(msg)
		}
	case reflect.Pointer, reflect.Interface:
		if !v.IsNil() {
			w.walk(v.Elem(), depth+1)
		}
	case reflect.Slice, reflect.Array:
		for i := range v.Len() {
			w.path = append(strconv.AppendInt(append(w.path[:n], '['), int64(i), 10), ']')
			w.walk(v.Index(i), depth+1)
		}
	case reflect.Map:
		iter := v.MapRange()
		for iter.Next() {
			k := iter.Key()
			for k.Kind() == reflect.Interface && !k.IsNil() {
				k = k.Elem()
			}
			w.path = append(w.path[:n], '.')
			if k.Kind() == reflect.String {
				name := k.String()
				if msg := badText(name); msg != "" {
					// Name the map, not the key: the key is what is wrong.
					w.path = w.path[:n]
					w.bad("key_" + msg)
					continue
				}
				w.path = append(w.path, name...)
			} else if k.CanInterface() {
				w.path = fmt.Append(w.path, k.Interface())
			}
			w.walk(iter.Value(), depth+1)
		}
	case reflect.Struct:
		for _, f := range textFieldsOf(v.Type()) {
			if f.inline { // embedded: its fields are inlined
				w.walk(v.Field(f.index), depth+1)
				continue
			}
			w.path = append(append(w.path[:n], '.'), f.name...)
			w.walk(v.Field(f.index), depth+1)
		}
	}
	w.path = w.path[:n]
}

// textField is a struct field bodyText walks: its index, its JSON name, and
// whether it is embedded without a name (its fields are inlined).
type textField struct {
	index  int
	name   string
	inline bool
}

var (
	textFields  sync.Map // reflect.Type (struct) -> []textField
	textHolders sync.Map // reflect.Type -> bool
)

// textFieldsOf lists the fields of struct type t that bodyText walks: the
// exported ones and the embedded ones, except json:"-", named by their
// JSON name (else their Go name).
func textFieldsOf(t reflect.Type) []textField {
	if v, ok := textFields.Load(t); ok {
		return v.([]textField)
	}
	var out []textField
	for i := range t.NumField() {
		f := t.Field(i)
		tag := f.Tag.Get("json")
		if tag == "-" || (!f.IsExported() && !f.Anonymous) || !holdsText(f.Type) {
			continue
		}
		name, _, _ := strings.Cut(tag, ",")
		if f.Anonymous && name == "" {
			out = append(out, textField{index: i, inline: true})
			continue
		}
		if name == "" {
			name = f.Name
		}
		out = append(out, textField{index: i, name: name})
	}
	textFields.Store(t, out)
	return out
}

// holdsText reports whether a value of type t can hold a string bodyText
// checks: a string, or a type reaching one through pointers, elements, map
// keys or values, or the fields it walks; an interface may hold anything.
// []byte is not text.
func holdsText(t reflect.Type) bool {
	if v, ok := textHolders.Load(t); ok {
		return v.(bool)
	}
	h := reachesText(t, map[reflect.Type]bool{})
	textHolders.Store(t, h)
	return h
}

// reachesText is holdsText without the memo; seen breaks cycles.
func reachesText(t reflect.Type, seen map[reflect.Type]bool) bool {
	if seen[t] {
		return false
	}
	seen[t] = true
	switch t.Kind() {
	case reflect.String, reflect.Interface:
		return true
	case reflect.Pointer:
		return reachesText(t.Elem(), seen)
	case reflect.Slice, reflect.Array:
		return t.Elem().Kind() != reflect.Uint8 && reachesText(t.Elem(), seen)
	case reflect.Map:
		return reachesText(t.Key(), seen) || reachesText(t.Elem(), seen)
	case reflect.Struct:
		for i := range t.NumField() {
			f := t.Field(i)
			if f.Tag.Get("json") == "-" || (!f.IsExported() && !f.Anonymous) {
				continue
			}
			if reachesText(f.Type, seen) {
				return true
			}
		}
	}
	return false
}
