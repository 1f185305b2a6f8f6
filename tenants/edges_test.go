package tenants_test

import (
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// wireLocation is a field location in the request's terms: the domain names
// a field relative to its service's input (contact.phone, cursor) and api/
// places it in the request.
var wireLocation = regexp.MustCompile(`^(body|query|path|header)\.[A-Za-z_]`)

// TestDomainSpeaksItsOwnTerms fails when a file in tenants/ imports Huma or
// writes a string that starts like a request location (body.…, query.…,
// path.…, header.…).
func TestDomainSpeaksItsOwnTerms(t *testing.T) {
	t.Parallel()
	var found []string
	fset := token.NewFileSet()
	err := filepath.WalkDir(".", func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(path, ".go") {
			return err
		}
		f, err := parser.ParseFile(fset, path, nil, parser.SkipObjectResolution)
		if err != nil {
			return err
		}
		for _, imp := range f.Imports {
			if strings.Contains(imp.Path.Value, "danielgtaylor/huma") {
				found = append(found, fset.Position(imp.Pos()).String()+": imports "+imp.Path.Value)
			}
		}
		ast.Inspect(f, func(n ast.Node) bool {
			lit, ok := n.(*ast.BasicLit)
			if !ok || lit.Kind != token.STRING {
				return true
			}
			if s, err := strconv.Unquote(lit.Value); err == nil && wireLocation.MatchString(s) && !strings.ContainsAny(s, " \n") {
				found = append(found, fset.Position(lit.Pos()).String()+": "+lit.Value)
			}
			return true
		})
		return nil
	})
	require.NoError(t, err)
	require.Empty(t, found, "tenants/ speaks the wire: name fields relative to the service's input and let api/ place them")
}
