package api_test

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/danielgtaylor/huma/v2"
	"github.com/stretchr/testify/require"

	"github.com/servicenet/servicenet/authz"
	"github.com/servicenet/servicenet/internal/apitest"
)

// TestTextPostgresCannotStore walks the live document and sends, for every
// operation, a NUL and an invalid UTF-8 byte in each string parameter (path,
// query, header) and a NUL ("\u0000") in each string field of the request
// body, nested objects, arrays and maps included. Every answer must be a
// 4xx problem+json, never a 5xx; a refusal that reaches the text guard must
// name the field.
//
// Requests go straight to the handler, not over TCP: net/http refuses a
// header holding a NUL before any handler sees it (and its client will not
// send one), and a proxy in front of the API might not.
func TestTextPostgresCannotStore(t *testing.T) {
	t.Parallel()
	env := apitest.Shared(t)
	admin := env.CreateTenant(t, "text-guard").AdminKey
	doc := env.API.OpenAPI()
	h := env.API.Handler()

	type probe struct {
		op       *huma.Operation
		method   string
		path     string // filled template
		query    url.Values
		headers  map[string]string
		body     any
		location string // the field the guard should name
	}
	var probes []probe
	for tmpl, item := range doc.Paths {
		for method, op := range map[string]*huma.Operation{
			http.MethodGet: item.Get, http.MethodPost: item.Post, http.MethodPut: item.Put,
			http.MethodPatch: item.Patch, http.MethodDelete: item.Delete,
		} {
			if op == nil {
				continue
			}
			// A baseline request: every path parameter an id, required
			// query and header parameters a sample, a minimal body.
			pathVals := map[string]string{}
			baseQuery := url.Values{}
			baseHeaders := map[string]string{}
			var stringParams []*huma.Param
			for _, p := range op.Parameters {
				s := deref(doc, p.Schema)
				switch p.In {
				case "path":
					pathVals[p.Name] = "x_1"
				case "query":
					if p.Required {
						baseQuery.Set(p.Name, sampleString(s))
					}
				case "header":
					if p.Required {
						baseHeaders[p.Name] = sampleString(s)
					}
				}
				if s == nil || s.Type == "string" || s.Type == "" || (s.Type == "array" && deref(doc, s.Items) != nil && deref(doc, s.Items).Type == "string") {
					stringParams = append(stringParams, p)
				}
			}
			var bodySchema *huma.Schema
			var baseBody any
			if op.RequestBody != nil {
				if mt := op.RequestBody.Content["application/json"]; mt != nil {
					bodySchema = deref(doc, mt.Schema)
					baseBody = sample(doc, bodySchema, 0)
				}
			}
			for _, p := range stringParams {
				for _, bad := range []string{"a\x00b", "a\xffb"} {
					pv, q, hd := clone(pathVals), cloneValues(baseQuery), clone(baseHeaders)
					switch p.In {
					case "path":
						pv[p.Name] = bad
					case "query":
						q.Set(p.Name, bad)
					case "header":
						hd[p.Name] = bad
					}
					probes = append(probes, probe{op: op, method: method, path: fillRaw(tmpl, pv), query: q, headers: hd,
						body: baseBody, location: p.In + "." + p.Name})
				}
			}
			if bodySchema != nil {
				for _, field := range stringFields(doc, bodySchema, "", 0) {
					probes = append(probes, probe{op: op, method: method, path: fillRaw(tmpl, pathVals), query: baseQuery,
						headers: baseHeaders, body: withText(doc, bodySchema, baseBody, field.steps, "a\x00b"), location: "body" + field.loc})
				}
			}
		}
	}
	require.Greater(t, len(probes), 500, "the walk found too few inputs")

	var reached, refusedEarlier atomic.Int64
	var mu sync.Mutex
	var failures []string
	work := make(chan probe)
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			for pr := range work {
				cred := admin
				switch pr.op.Extensions["x-permission"] {
				case string(authz.Operator):
					cred = apitest.OperatorToken
				case string(authz.Public):
					cred = ""
				}
				var body *strings.Reader
				if pr.body != nil {
					b, err := json.Marshal(pr.body)
					if err != nil {
						panic(err)
					}
					body = strings.NewReader(string(b))
				} else {
					body = strings.NewReader("")
				}
				req := httptest.NewRequest(pr.method, "/", body)
				req.URL.Path, req.URL.RawPath, req.URL.RawQuery = pr.path, "", pr.query.Encode()
				req.RequestURI = req.URL.RequestURI()
				if pr.body != nil {
					req.Header.Set("Content-Type", "application/json")
				}
				if cred != "" {
					req.Header.Set("Authorization", "Bearer "+cred)
				}
				for k, v := range pr.headers {
					req.Header[http.CanonicalHeaderKey(k)] = []string{v}
				}
				rec := httptest.NewRecorder()
				h.ServeHTTP(rec, req)
				fail := func(why string) {
					mu.Lock()
					defer mu.Unlock()
					failures = append(failures, pr.op.OperationID+" "+pr.location+": "+why+": "+strconv.Itoa(rec.Code)+" "+rec.Body.String())
				}
				switch {
				case rec.Code >= 500 || rec.Code < 400:
					fail("not a 4xx")
					continue
				case !strings.HasPrefix(rec.Header().Get("Content-Type"), "application/problem+json"):
					fail("not problem+json")
					continue
				}
				if rec.Code == http.StatusUnauthorized || rec.Code == http.StatusForbidden {
					refusedEarlier.Add(1)
					continue
				}
				var prob struct {
					Errors []struct{ Location string } `json:"errors"`
				}
				if err := json.Unmarshal(rec.Body.Bytes(), &prob); err != nil {
					fail("the problem is not JSON: " + err.Error())
					continue
				}
				named := false
				for _, e := range prob.Errors {
					named = named || e.Location == pr.location
				}
				switch {
				case named:
					reached.Add(1)
				case !strings.HasPrefix(pr.location, "body"):
					// Parameters are checked before anything but authentication.
					fail("does not name " + pr.location)
				default:
					refusedEarlier.Add(1) // the sample body was refused for another field
				}
			}
		})
	}
	for _, pr := range probes {
		work <- pr
	}
	close(work)
	wg.Wait()
	sort.Strings(failures)
	require.Empty(t, failures, "%d of %d probes failed", len(failures), len(probes))
	t.Logf("%d probes: %d named the field, %d refused earlier (401/403 or another field)", len(probes), reached.Load(), refusedEarlier.Load())
	require.Greater(t, reached.Load(), int64(len(probes)*3/4), "most probes should reach the text guard")
}

// fillRaw fills a path template with unescaped values.
func fillRaw(tmpl string, values map[string]string) string {
	return pathParam.ReplaceAllStringFunc(tmpl, func(m string) string { return values[strings.Trim(m, "{}")] })
}

func clone(m map[string]string) map[string]string {
	c := make(map[string]string, len(m))
	for k, v := range m {
		c[k] = v
	}
	return c
}

func cloneValues(v url.Values) url.Values {
	c := url.Values{}
	for k, vs := range v {
		c[k] = append([]string(nil), vs...)
	}
	return c
}

// deref follows a $ref to the registered schema.
func deref(doc *huma.OpenAPI, s *huma.Schema) *huma.Schema {
	for i := 0; s != nil && s.Ref != "" && i < 10; i++ {
		s = doc.Components.Schemas.SchemaFromRef(s.Ref)
	}
	return s
}

// sampleString is a value for a string schema that likely passes validation.
func sampleString(s *huma.Schema) string {
	if s == nil {
		return "x"
	}
	if len(s.Examples) > 0 {
		if v, ok := s.Examples[0].(string); ok {
			return v
		}
	}
	if v, ok := s.Default.(string); ok {
		return v
	}
	if len(s.Enum) > 0 {
		if v, ok := s.Enum[0].(string); ok {
			return v
		}
	}
	switch s.Format {
	case "date-time":
		return time.Now().Add(24 * time.Hour).UTC().Format(time.RFC3339)
	case "date":
		return time.Now().AddDate(0, 0, 1).Format(time.DateOnly)
	case "email":
		return "a@example.com"
	case "uri", "url":
		return "https://example.com/x"
	}
	n := 1
	if s.MinLength != nil && *s.MinLength > n {
		n = *s.MinLength
	}
	return strings.Repeat("x", n)
}

// sample builds a minimal value of a schema: required properties only,
// examples where the schema has them.
func sample(doc *huma.OpenAPI, s *huma.Schema, depth int) any {
	s = deref(doc, s)
	if s == nil || depth > 8 {
		return nil
	}
	if len(s.Examples) > 0 && s.Type != "object" {
		return s.Examples[0]
	}
	if s.Default != nil {
		return s.Default
	}
	if len(s.Enum) > 0 {
		return s.Enum[0]
	}
	if len(s.OneOf) > 0 {
		return sample(doc, s.OneOf[0], depth+1)
	}
	if len(s.AnyOf) > 0 {
		return sample(doc, s.AnyOf[0], depth+1)
	}
	switch s.Type {
	case "object":
		m := map[string]any{}
		for _, name := range s.Required {
			if p := s.Properties[name]; p != nil {
				m[name] = sample(doc, p, depth+1)
			}
		}
		return m
	case "array":
		n := 0
		if s.MinItems != nil {
			n = *s.MinItems
		}
		items := make([]any, n)
		for i := range items {
			items[i] = sample(doc, s.Items, depth+1)
		}
		return items
	case "string":
		return sampleString(s)
	case "integer", "number":
		if s.Minimum != nil {
			return *s.Minimum
		}
		if s.ExclusiveMinimum != nil {
			return *s.ExclusiveMinimum + 1
		}
		return 1
	case "boolean":
		return false
	}
	return nil
}

// step is one move down a body: a property, an array's first element or a
// map entry.
type step struct {
	prop  string
	index bool
	entry bool
}

type textField struct {
	steps []step
	loc   string // .lines[0].note
}

// stringFields lists every string leaf of a body schema.
func stringFields(doc *huma.OpenAPI, s *huma.Schema, loc string, depth int) []textField {
	s = deref(doc, s)
	if s == nil || depth > 8 {
		return nil
	}
	prepend := func(st step, fs []textField) []textField {
		for i := range fs {
			fs[i].steps = append([]step{st}, fs[i].steps...)
		}
		return fs
	}
	var out []textField
	switch s.Type {
	case "string":
		return []textField{{loc: loc}}
	case "array":
		out = append(out, prepend(step{index: true}, stringFields(doc, s.Items, loc+"[0]", depth+1))...)
	case "object":
		names := make([]string, 0, len(s.Properties))
		for name := range s.Properties {
			names = append(names, name)
		}
		sort.Strings(names)
		for _, name := range names {
			out = append(out, prepend(step{prop: name}, stringFields(doc, s.Properties[name], loc+"."+name, depth+1))...)
		}
		if ap, ok := s.AdditionalProperties.(*huma.Schema); ok {
			out = append(out, prepend(step{entry: true}, stringFields(doc, ap, loc+".k", depth+1))...)
		}
	}
	return out
}

// withText returns a deep copy of base with the string at steps set to text,
// creating the objects and arrays on the way from the schema.
func withText(doc *huma.OpenAPI, s *huma.Schema, base any, steps []step, text string) any {
	s = deref(doc, s)
	if len(steps) == 0 {
		return text
	}
	st := steps[0]
	switch {
	case st.index:
		items, _ := base.([]any)
		var first any
		if len(items) > 0 {
			first = items[0]
		} else {
			first = sample(doc, s.Items, 0)
		}
		out := append([]any{withText(doc, s.Items, first, steps[1:], text)}, items[min(1, len(items)):]...)
		return out
	default:
		m := map[string]any{}
		if bm, ok := base.(map[string]any); ok {
			for k, v := range bm {
				m[k] = v
			}
		}
		name, child := st.prop, (*huma.Schema)(nil)
		if st.entry {
			name = "k"
			child, _ = s.AdditionalProperties.(*huma.Schema)
		} else {
			child = s.Properties[name]
		}
		cur, ok := m[name]
		if !ok {
			cur = sample(doc, child, 0)
		}
		m[name] = withText(doc, child, cur, steps[1:], text)
		return m
	}
}
