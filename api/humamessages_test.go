package api

import (
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/servicenet/servicenet/internal/i18n"
)

// humaValidationVars lists the Msg* variables of the Huma version in go.mod,
// read from its source.
func humaValidationVars(t *testing.T) []string {
	t.Helper()
	out, err := exec.Command("go", "list", "-m", "-f", "{{.Dir}}", "github.com/danielgtaylor/huma/v2").Output()
	require.NoError(t, err, "go list -m github.com/danielgtaylor/huma/v2")
	dir := filepath.Join(strings.TrimSpace(string(out)), "validation")
	files, err := filepath.Glob(filepath.Join(dir, "*.go"))
	require.NoError(t, err)
	var names []string
	for _, fname := range files {
		if strings.HasSuffix(fname, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(token.NewFileSet(), fname, nil, 0)
		require.NoError(t, err)
		for _, d := range f.Decls {
			g, ok := d.(*ast.GenDecl)
			if !ok || g.Tok != token.VAR {
				continue
			}
			for _, s := range g.Specs {
				for _, n := range s.(*ast.ValueSpec).Names {
					if n.IsExported() {
						names = append(names, n.Name)
					}
				}
			}
		}
	}
	slices.Sort(names)
	require.NotEmpty(t, names)
	return names
}

// TestHumaMessagesMapped walks every message variable of Huma's validation
// package: each must be in humaMessages with a catalog code, so a Huma
// upgrade that adds one fails here. Every mapped message, formatted the way
// Huma formats it, gives back its code and params and renders in every
// language.
func TestHumaMessagesMapped(t *testing.T) {
	t.Parallel()
	var mapped []string
	for _, m := range humaMessages {
		if m.name != "" {
			mapped = append(mapped, m.name)
		}
	}
	slices.Sort(mapped)
	require.Equal(t, humaValidationVars(t), mapped, "map every validation.Msg* of Huma in humaMessages (api/humamessages.go) and the catalog")

	for _, m := range humaMessages {
		require.True(t, i18n.Has(m.code), "%s: %s is not in the catalog", m.name, m.code)
		verbs := verb.FindAllString(*m.format, -1)
		require.Len(t, m.params, len(verbs), "%q: one param per verb", *m.format)
		args := make([]any, len(verbs))
		want := map[string]any{}
		for i, v := range verbs {
			var a any = fmt.Sprintf("value%d", i)
			if strings.HasSuffix(v, "d") {
				a = 40 + i
			}
			args[i] = a
			want[m.params[i]] = fmt.Sprint(a)
		}
		text := *m.format
		if len(args) > 0 {
			text = fmt.Sprintf(*m.format, args...)
		}
		got := humaMsg(text)
		require.NotNil(t, got, "%q is not recognised", text)
		require.Equal(t, m.code, got.Code, "%q", text)
		if len(want) > 0 {
			require.Equal(t, want, got.Params, "%q", text)
		}
		for _, lang := range i18n.Languages {
			out := got.Render(lang)
			require.NotEqual(t, m.code, out)
			require.NotContains(t, out, "<no value>", "%s in %s", m.code, lang)
		}
	}
	require.Nil(t, humaMsg("invalid character 'x' looking for beginning of value"))
}
