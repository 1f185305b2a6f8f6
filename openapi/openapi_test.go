package openapi_test

import (
	"bytes"
	"flag"
	"net/http"
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/danielgtaylor/huma/v2"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/servicenet/servicenet/api"
	"github.com/servicenet/servicenet/openapi"
)

var update = flag.Bool("update", false, "rewrite the committed OpenAPI documents")

// TestGolden fails when the committed documents differ from what the code
// generates: the spec is the contract, and a change to it must be reviewed
// as a change to the committed file. `make openapi` (or -update) rewrites them.
func TestGolden(t *testing.T) {
	docs, err := openapi.Generate()
	require.NoError(t, err)
	for _, name := range openapi.Files {
		if *update {
			require.NoError(t, os.WriteFile(name, docs[name], 0o644))
			continue
		}
		committed, err := os.ReadFile(name)
		require.NoError(t, err)
		if !bytes.Equal(committed, docs[name]) {
			t.Errorf("openapi/%s is stale: run `make openapi` and commit the result", name)
		}
	}
}

// TestGenerateIsDeterministic guards the golden test against map-order noise.
func TestGenerateIsDeterministic(t *testing.T) {
	a, err := openapi.Generate()
	require.NoError(t, err)
	b, err := openapi.Generate()
	require.NoError(t, err)
	for _, name := range openapi.Files {
		assert.Equal(t, string(a[name]), string(b[name]), name)
	}
}

var lowerCamel = regexp.MustCompile(`^[a-z][a-zA-Z0-9]+$`)

// TestOperationQuality walks every operation and holds it to what an
// integrator generating a client needs: a stable lowerCamel operationId, a
// summary and description, a declared tag, problem+json error responses,
// security unless public, a permission, and examples on request bodies.
func TestOperationQuality(t *testing.T) {
	doc := api.New(api.Config{Version: openapi.Version}, api.Deps{}).OpenAPI()
	declared := map[string]bool{}
	for _, tag := range doc.Tags {
		assert.NotEmpty(t, tag.Description, "tag %s has no description", tag.Name)
		declared[tag.Name] = true
	}
	ids := map[string]bool{}
	n := 0
	for path, item := range doc.Paths {
		for method, op := range map[string]*huma.Operation{
			http.MethodGet: item.Get, http.MethodPost: item.Post, http.MethodPut: item.Put,
			http.MethodPatch: item.Patch, http.MethodDelete: item.Delete,
		} {
			if op == nil {
				continue
			}
			n++
			where := method + " " + path
			assert.Regexp(t, lowerCamel, op.OperationID, "%s: operationId", where)
			assert.False(t, ids[op.OperationID], "%s: duplicate operationId %s", where, op.OperationID)
			ids[op.OperationID] = true
			assert.NotEmpty(t, op.Summary, "%s: summary", where)
			assert.LessOrEqual(t, len(op.Summary), 60, "%s: summary should be short", where)
			assert.False(t, strings.HasSuffix(op.Summary, "."), "%s: summary ends with a period", where)
			assert.NotEmpty(t, op.Description, "%s: description", where)
			if assert.Len(t, op.Tags, 1, "%s: exactly one tag", where) {
				assert.True(t, declared[op.Tags[0]], "%s: tag %q not declared in the document", where, op.Tags[0])
			}
			perm, _ := op.Extensions["x-permission"].(string)
			assert.NotEmpty(t, perm, "%s: x-permission", where)
			if perm != "public" {
				assert.NotEmpty(t, op.Security, "%s: security requirement", where)
			}

			ok := false
			for code, resp := range op.Responses {
				if strings.HasPrefix(code, "2") {
					ok = true
				}
				if strings.HasPrefix(code, "4") || strings.HasPrefix(code, "5") || code == "default" {
					_, problem := resp.Content["application/problem+json"]
					assert.True(t, problem, "%s: %s response is not application/problem+json", where, code)
					assert.NotEmpty(t, resp.Description, "%s: %s response description", where, code)
				}
			}
			assert.True(t, ok, "%s: no 2xx response", where)
			if perm != "public" {
				for _, code := range []string{"401", "403", "429", "500"} {
					assert.Contains(t, op.Responses, code, "%s: declares no %s", where, code)
				}
			}

			if op.RequestBody != nil {
				if mt := op.RequestBody.Content["application/json"]; mt != nil {
					assert.True(t, hasExamples(doc, mt.Schema), "%s: request body has no examples", where)
				} else {
					// A file upload (createNetworkImport): an example per media type.
					assert.NotEmpty(t, op.RequestBody.Content, "%s: request body has no media type", where)
					for ct, mt := range op.RequestBody.Content {
						assert.NotNil(t, mt.Example, "%s: %s request body has no example", where, ct)
					}
				}
			}
		}
	}
	assert.Greater(t, n, 10, "walked too few operations to mean anything")
}

// hasExamples reports whether a schema (resolved through the registry) has an
// example on itself or on every scalar property.
func hasExamples(doc *huma.OpenAPI, s *huma.Schema) bool {
	if s == nil {
		return false
	}
	if s.Ref != "" {
		s = doc.Components.Schemas.SchemaFromRef(s.Ref)
	}
	if len(s.Examples) > 0 {
		return true
	}
	if len(s.Properties) == 0 {
		return false
	}
	for _, p := range s.Properties {
		if p.Ref != "" || p.Type == "object" || p.Type == "array" {
			continue // nested: examples live on the leaves
		}
		if len(p.Examples) == 0 && p.Default == nil {
			return false
		}
	}
	return true
}
