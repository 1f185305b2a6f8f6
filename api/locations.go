package api

import (
	"errors"
	"fmt"
	"reflect"
	"strings"

	"github.com/danielgtaylor/huma/v2"

	"github.com/servicenet/servicenet/tenants"
)

// locationsKey is operation metadata (a map[string]string) naming the wire
// location of a field the domain calls by another name than the request
// does: the key is the first segment of the domain's location, the value
// the location it has in the request ({"id": "path.id"}: the rest of the
// domain's location is appended).
const locationsKey = "locations"

// locator turns the location of a field the domain names relative to the
// service's input (contact.phone, lines[2].part_id, cursor) into where the
// field is in the request. Derived once per operation from its input type:
// a location whose first segment is one of the operation's parameters
// (path:"x", query:"x", header:"X") is that parameter (path.x, query.x,
// header.X); anything else is in the body (body.contact.phone, and "" is
// the body as a whole). Locations the api layer wrote itself (body.…,
// query.…, path.…, header.…) stay as they are.
type locator struct {
	op        string
	params    map[string]string // parameter name → its wire location
	overrides map[string]string // domain name → wire location (locationsKey)
}

// newLocator derives the operation's locator from its input type. It panics
// when a parameter shares its name with a top-level body field and no
// override says which one the domain means: the location would be
// ambiguous.
func newLocator(in reflect.Type, op *huma.Operation) locator {
	l := locator{op: op.OperationID, params: map[string]string{}}
	if o, ok := op.Metadata[locationsKey].(map[string]string); ok {
		l.overrides = o
	}
	body := map[string]bool{}
	var walk func(t reflect.Type)
	walk = func(t reflect.Type) {
		if t.Kind() != reflect.Struct {
			return
		}
		for f := range t.Fields() {
			switch {
			case f.Name == "Body":
				jsonFields(f.Type, body)
			case f.Anonymous:
				walk(f.Type)
			}
			for _, in := range []string{"path", "query", "header"} {
				if name, _, _ := strings.Cut(f.Tag.Get(in), ","); name != "" {
					l.params[name] = in + "." + name
				}
			}
		}
	}
	walk(in)
	for name := range l.params {
		if _, over := l.overrides[name]; body[name] && !over {
			panic(fmt.Sprintf("api: operation %s: %q is both a parameter and a body field; say which one the domain means in Metadata[%q]", op.OperationID, name, locationsKey))
		}
	}
	return l
}

// jsonFields adds the JSON names of a struct's fields (embedded structs'
// included) to names.
func jsonFields(t reflect.Type, names map[string]bool) {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if t.Kind() != reflect.Struct {
		return
	}
	for f := range t.Fields() {
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		switch {
		case name == "-":
		case f.Anonymous && name == "":
			jsonFields(f.Type, names)
		case name != "":
			names[name] = true
		case f.IsExported():
			names[f.Name] = true
		}
	}
}

// wireLocation is where the field the domain names loc is in the request.
func (l locator) wireLocation(loc string) string {
	if loc == "" || loc == "body" {
		return "body"
	}
	for _, in := range []string{"body.", "query.", "path.", "header."} {
		if strings.HasPrefix(loc, in) {
			return loc
		}
	}
	end := strings.IndexAny(loc, ".[")
	if end < 0 {
		end = len(loc)
	}
	first, rest := loc[:end], loc[end:]
	if w, ok := l.overrides[first]; ok {
		return w + rest
	}
	if w, ok := l.params[first]; ok {
		return w + rest
	}
	return "body." + loc
}

// wire returns err with its field locations in the request's terms. A
// *tenants.Error is copied, never changed: domain errors may be shared
// values.
func (l locator) wire(err error) error {
	var te *tenants.Error
	if !errors.As(err, &te) || len(te.Fields) == 0 {
		return err
	}
	out := *te
	out.Fields = make([]tenants.FieldError, len(te.Fields))
	for i, f := range te.Fields {
		f.Location = l.wireLocation(f.Location)
		out.Fields[i] = f
	}
	return &out
}

// authLocator places the fields of an authentication error: the secret is
// the Authorization header's.
var authLocator = locator{op: "authenticate", overrides: map[string]string{"secret": "header.Authorization"}}
