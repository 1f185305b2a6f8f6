package api

import (
	"fmt"
	"net/http"
	"reflect"
	"strconv"
	"strings"
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
// the problem naming each offending field, or nil.
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
	var fields []*FieldDetail
	walkText(body, "body", &fields, 0)
	if len(fields) == 0 {
		return nil
	}
	return textProblem(fields)
}

// walkText appends a FieldDetail for each bad string under v, located by
// JSON path from loc.
func walkText(v reflect.Value, loc string, fields *[]*FieldDetail, depth int) {
	if len(*fields) >= maxTextProblems || depth > 64 {
		return
	}
	switch v.Kind() {
	case reflect.String:
		if msg := badText(v.String()); msg != "" {
			*fields = append(*fields, fieldMsg(loc, "api.text."+msg))
		}
	case reflect.Pointer, reflect.Interface:
		if !v.IsNil() {
			walkText(v.Elem(), loc, fields, depth+1)
		}
	case reflect.Slice, reflect.Array:
		if v.Type().Elem().Kind() == reflect.Uint8 { // []byte is not text
			return
		}
		for i := range v.Len() {
			walkText(v.Index(i), loc+"["+strconv.Itoa(i)+"]", fields, depth+1)
		}
	case reflect.Map:
		iter := v.MapRange()
		for iter.Next() {
			k := iter.Key()
			for k.Kind() == reflect.Interface && !k.IsNil() {
				k = k.Elem()
			}
			name := ""
			if k.Kind() == reflect.String {
				name = k.String()
				if msg := badText(name); msg != "" {
					// Name the map, not the key: the key is what is wrong.
					*fields = append(*fields, fieldMsg(loc, "api.text.key_"+msg))
					continue
				}
			} else if k.CanInterface() {
				name = fmt.Sprint(k.Interface())
			}
			walkText(iter.Value(), loc+"."+name, fields, depth+1)
		}
	case reflect.Struct:
		t := v.Type()
		for i := range t.NumField() {
			f := t.Field(i)
			tag := f.Tag.Get("json")
			if tag == "-" || (!f.IsExported() && !f.Anonymous) {
				continue
			}
			name, _, _ := strings.Cut(tag, ",")
			if f.Anonymous && name == "" {
				walkText(v.Field(i), loc, fields, depth+1) // embedded: its fields are inlined
				continue
			}
			if name == "" {
				name = f.Name
			}
			walkText(v.Field(i), loc+"."+name, fields, depth+1)
		}
	}
}
