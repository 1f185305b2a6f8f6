package openapi_test

import (
	"fmt"
	"os"
	"sort"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.yaml.in/yaml/v3"
)

// TestDocumentForClients holds the committed documents to what makes a
// generated client read as if written by hand: no required array is
// nullable, and every value set is one named schema (no enum of two or more
// values inline, none declared twice).
func TestDocumentForClients(t *testing.T) {
	t.Parallel()
	for _, file := range []string{"openapi.yaml", "openapi-3.0.yaml"} {
		t.Run(file, func(t *testing.T) {
			b, err := os.ReadFile(file)
			require.NoError(t, err)
			var doc map[string]any
			require.NoError(t, yaml.Unmarshal(b, &doc))
			sets := map[string][]string{}
			var walk func(v any, path string, required map[string]bool, name string)
			walk = func(v any, path string, required map[string]bool, name string) {
				switch v := v.(type) {
				case map[string]any:
					if e, ok := v["enum"].([]any); ok && len(e) >= 2 {
						set := fmt.Sprint(e)
						sets[set] = append(sets[set], path)
						if !strings.HasPrefix(path, "components.schemas.") || strings.Count(path, ".") != 2 {
							if !strings.HasPrefix(path, "servers") { // a server variable is not a schema
								t.Errorf("%s: enum %v declared inline; make it a named schema (api/spec.go valueSetNames)", path, e)
							}
						}
					}
					if required[name] && nullableArray(v) {
						t.Errorf("%s: a required array is nullable", path)
					}
					req := map[string]bool{}
					if rs, ok := v["required"].([]any); ok {
						for _, r := range rs {
							req[fmt.Sprint(r)] = true
						}
					}
					for k, x := range v {
						if k == "properties" {
							if props, ok := x.(map[string]any); ok {
								for pn, p := range props {
									walk(p, path+".properties."+pn, req, pn)
								}
								continue
							}
						}
						walk(x, path+"."+k, nil, "")
					}
				case []any:
					for i, x := range v {
						walk(x, fmt.Sprintf("%s[%d]", path, i), nil, "")
					}
				}
			}
			for k, v := range doc {
				walk(v, k, nil, "")
			}
			var dups []string
			for set, where := range sets {
				if len(where) > 1 {
					sort.Strings(where)
					dups = append(dups, fmt.Sprintf("%s at %v", set, where))
				}
			}
			assert.Empty(t, dups, "value sets declared more than once")
		})
	}
}

func nullableArray(s map[string]any) bool {
	if s["nullable"] == true && s["type"] == "array" {
		return true
	}
	ts, ok := s["type"].([]any)
	if !ok {
		return false
	}
	arr, null := false, false
	for _, x := range ts {
		arr = arr || x == "array"
		null = null || x == "null"
	}
	return arr && null
}
