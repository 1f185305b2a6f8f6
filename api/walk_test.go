package api_test

import (
	"net/http"
	"regexp"
	"sort"
	"strings"
	"testing"

	"github.com/danielgtaylor/huma/v2"
)

// operation is one operation of the live OpenAPI document.
type operation struct {
	ID, Method, Path, Permission string
	HasBody                      bool
}

// operations walks the API's OpenAPI document, so a test over it covers
// every operation added later without being edited.
func operations(t testing.TB, doc *huma.OpenAPI) []operation {
	t.Helper()
	var ops []operation
	for path, item := range doc.Paths {
		for method, op := range map[string]*huma.Operation{
			http.MethodGet: item.Get, http.MethodPost: item.Post, http.MethodPut: item.Put,
			http.MethodPatch: item.Patch, http.MethodDelete: item.Delete,
		} {
			if op == nil {
				continue
			}
			perm, _ := op.Extensions["x-permission"].(string)
			ops = append(ops, operation{ID: op.OperationID, Method: method, Path: path, Permission: perm, HasBody: op.RequestBody != nil})
		}
	}
	sort.Slice(ops, func(i, j int) bool { return ops[i].ID < ops[j].ID })
	if len(ops) == 0 {
		t.Fatal("no operations in the document")
	}
	return ops
}

var pathParam = regexp.MustCompile(`\{([a-z_]+)\}`)

// params returns the path parameter names of a path template.
func params(path string) []string {
	var names []string
	for _, m := range pathParam.FindAllStringSubmatch(path, -1) {
		names = append(names, m[1])
	}
	return names
}

// fill substitutes path parameters using values by parameter name.
func fill(t testing.TB, path string, values map[string]string) string {
	t.Helper()
	return pathParam.ReplaceAllStringFunc(path, func(m string) string {
		name := strings.Trim(m, "{}")
		v, ok := values[name]
		if !ok {
			t.Fatalf("no test value for path parameter %q of %s: add one", name, path)
		}
		return v
	})
}
