package tenants_test

import (
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/servicenet/servicenet/internal/i18n"
)

// freeTextAllowed are the places in tenants/ that may build a domain error
// from free text, by file and function, each with its reason.
var freeTextAllowed = map[string]string{
	"errors.go:Errorf":     "the free-text constructor itself (kept for api/, which has no domain texts of its own)",
	"errors.go:Invalid":    "the free-text constructor itself; InvalidMsg builds on it with the rendered English",
	"errors.go:InvalidMsg": "passes the catalog message rendered in English to Invalid and keeps the message",
	"errors.go:Add":        "the free-text method itself",
}

// TestDomainErrorsUseCatalogMessages scans the domain packages (tenants/
// and below, test files aside) and fails where a domain error is built
// from free text instead of a catalog message: a call of tenants.Invalid,
// tenants.Errorf or Validation.Add (any method Add with three arguments), or
// a tenants.Error or tenants.FieldError literal with a Message and no Msg.
// Use tenants.InvalidMsg, tenants.ErrorMsg, Validation.AddMsg and
// tenants.FieldMsg with i18n.M(code, params...), and add the code to both
// catalogs. It also fails when a message code named there is not in the
// catalog.
func TestDomainErrorsUseCatalogMessages(t *testing.T) {
	t.Parallel()
	require.NoError(t, i18n.Load())
	fset := token.NewFileSet()
	var problems []string
	codes := 0
	err := filepath.WalkDir(".", func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && d.Name() == "testdata" {
			return filepath.SkipDir
		}
		if d.IsDir() || !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return nil
		}
		f, err := parser.ParseFile(fset, path, nil, 0)
		if err != nil {
			return err
		}
		root := f.Name.Name == "tenants"
		named := func(e ast.Expr, name string) bool {
			switch e := e.(type) {
			case *ast.SelectorExpr:
				x, ok := e.X.(*ast.Ident)
				return ok && x.Name == "tenants" && e.Sel.Name == name
			case *ast.Ident:
				return root && e.Name == name
			}
			return false
		}
		for _, decl := range f.Decls {
			fn := "(package level)"
			if fd, ok := decl.(*ast.FuncDecl); ok {
				fn = fd.Name.Name
			}
			if _, ok := freeTextAllowed[filepath.ToSlash(path)+":"+fn]; ok {
				continue
			}
			report := func(n ast.Node, what string) {
				problems = append(problems, fset.Position(n.Pos()).String()+" ("+fn+"): "+what)
			}
			// literal checks the fields of a tenants.Error or FieldError literal.
			literal := func(cl *ast.CompositeLit, what string) {
				var message, msg bool
				for _, el := range cl.Elts {
					if kv, ok := el.(*ast.KeyValueExpr); ok {
						if k, ok := kv.Key.(*ast.Ident); ok {
							message = message || k.Name == "Message"
							msg = msg || k.Name == "Msg"
						}
					}
				}
				if message && !msg {
					report(cl, what+" literal with a Message and no Msg: use tenants.ErrorMsg / tenants.FieldMsg")
				}
			}
			ast.Inspect(decl, func(n ast.Node) bool {
				switch n := n.(type) {
				case *ast.CallExpr:
					switch {
					case named(n.Fun, "Invalid"):
						report(n, "tenants.Invalid with free text: use tenants.InvalidMsg")
					case named(n.Fun, "Errorf"):
						report(n, "tenants.Errorf with free text: use tenants.ErrorMsg")
					default:
						if sel, ok := n.Fun.(*ast.SelectorExpr); ok && sel.Sel.Name == "Add" && len(n.Args) == 3 {
							report(n, "Validation.Add with free text: use AddMsg")
						}
						if sel, ok := n.Fun.(*ast.SelectorExpr); ok && sel.Sel.Name == "M" && len(n.Args) > 0 {
							if x, ok := sel.X.(*ast.Ident); ok && x.Name == "i18n" {
								if lit, ok := n.Args[0].(*ast.BasicLit); ok && lit.Kind == token.STRING {
									code, _ := strconv.Unquote(lit.Value)
									codes++
									if !i18n.Has(code) {
										report(n, "message code "+code+" is not in the catalog")
									}
								}
							}
						}
					}
				case *ast.CompositeLit:
					switch {
					case named(n.Type, "Error"):
						literal(n, "tenants.Error")
					case named(n.Type, "FieldError"):
						literal(n, "tenants.FieldError")
					default:
						if at, ok := n.Type.(*ast.ArrayType); ok && named(at.Elt, "FieldError") {
							for _, el := range n.Elts {
								if cl, ok := el.(*ast.CompositeLit); ok && cl.Type == nil {
									literal(cl, "tenants.FieldError")
								}
							}
						}
					}
				}
				return true
			})
		}
		return nil
	})
	require.NoError(t, err)
	require.Greater(t, codes, 300, "the scan found the catalog messages of tenants/")
	require.Empty(t, problems, "domain errors with free text (see TestDomainErrorsUseCatalogMessages):\n%s", strings.Join(problems, "\n"))
}
