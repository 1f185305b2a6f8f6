package tenants_test

import (
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// Each bounded context owns its tables. The ownership map is declared once,
// in the migrations' headers ("-- Owned by tenants/<context>: table, …").
// SQL written in one context may name only its own tables; another context's
// rows are reached through the owning context's exported …Tx functions, with
// the transaction passed in.
//
// crossings is what the code still does otherwise: each entry is a context,
// a table it names and the owner, as they were when the test was written.
// The list may only shrink. A new crossing fails the test; a crossing that
// has been removed fails it too until it is struck from the list, so the
// list stays the true map of the debt.
var crossings = map[string]bool{
	"catalog → units (customers)":          true,
	"customers → product_models (catalog)": true,
	"dispatch → nodes (network)":           true,
	"dispatch → technicians (network)":     true,
	"dispatch → tenants (identity)":        true,
	"dispatch → tickets (tickets)":         true,
	"webhooks → events (events)":           true,
}

const migrationsDir = "../internal/pg/migrations"

var ownedBy = regexp.MustCompile(`(?m)^-- Owned by (?:tenants|internal)/([a-z]+): (.+)$`)

// tableOwners reads the ownership map from the migrations' headers.
func tableOwners(t *testing.T) map[string]string {
	t.Helper()
	owners := map[string]string{}
	entries, err := os.ReadDir(migrationsDir)
	require.NoError(t, err)
	created := regexp.MustCompile(`(?im)^\s*CREATE TABLE (?:IF NOT EXISTS )?([a-z_][a-z0-9_]*)`)
	for _, e := range entries {
		sql, err := os.ReadFile(filepath.Join(migrationsDir, e.Name()))
		require.NoError(t, err)
		for _, m := range ownedBy.FindAllStringSubmatch(string(sql), -1) {
			for _, table := range strings.Split(m[2], ",") {
				table = strings.TrimSpace(table)
				require.NotContains(t, owners, table, "%s: table %s has two owners", e.Name(), table)
				owners[table] = m[1]
			}
		}
		for _, m := range created.FindAllStringSubmatch(string(sql), -1) {
			if _, ok := owners[m[1]]; !ok && !strings.HasPrefix(m[1], "zz_") {
				t.Errorf("%s creates table %s without declaring its owner in an \"-- Owned by tenants/<context>: …\" header", e.Name(), m[1])
			}
		}
	}
	return owners
}

// sqlTable finds the tables a SQL text names where rows are read or written.
// Our SQL writes its keywords in capitals, which tells it from prose ("no
// units from that storefront"), also in fragments that are concatenated.
var sqlTable = regexp.MustCompile(`\b(?:FROM|JOIN|INTO|UPDATE|TABLE|COPY)\s+(?:ONLY\s+)?([a-z_][a-z0-9_]*)`)

// crossing is one context naming another context's table.
type crossing struct{ context, table, owner, where string }

func (c crossing) key() string { return c.context + " → " + c.table + " (" + c.owner + ")" }

// findCrossings parses the Go files under root (tenants/) and reports every
// SQL literal in one context that names a table owned by another.
func findCrossings(t *testing.T, root string, owners map[string]string) []crossing {
	t.Helper()
	var found []crossing
	fset := token.NewFileSet()
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return err
		}
		rel, _ := filepath.Rel(root, path)
		context, _, nested := strings.Cut(filepath.ToSlash(rel), "/")
		if !nested {
			return nil // the shared kernel (tenants/*.go) holds no SQL of a context
		}
		file, err := parser.ParseFile(fset, path, nil, parser.SkipObjectResolution)
		if err != nil {
			return err
		}
		ast.Inspect(file, func(n ast.Node) bool {
			lit, ok := n.(*ast.BasicLit)
			if !ok || lit.Kind != token.STRING {
				return true
			}
			text, err := strconv.Unquote(lit.Value)
			if err != nil {
				return true
			}
			for _, m := range sqlTable.FindAllStringSubmatch(text, -1) {
				table := strings.ToLower(m[1])
				owner, known := owners[table]
				if known && owner != context {
					found = append(found, crossing{context, table, owner, fset.Position(lit.Pos()).String()})
				}
			}
			return true
		})
		return nil
	})
	require.NoError(t, err)
	return found
}

func TestContextsOwnTheirTables(t *testing.T) {
	t.Parallel()
	owners := tableOwners(t)
	require.Contains(t, owners, "tickets", "the ownership map was read")

	t.Run("NoNewCrossings", func(t *testing.T) {
		t.Parallel()
		seen := map[string][]string{}
		for _, c := range findCrossings(t, ".", owners) {
			seen[c.key()] = append(seen[c.key()], c.where)
		}
		var added, gone []string
		for k, where := range seen {
			if !crossings[k] {
				added = append(added, fmt.Sprintf("%s at %s", k, strings.Join(where, ", ")))
			}
		}
		for k := range crossings {
			if _, ok := seen[k]; !ok {
				gone = append(gone, k)
			}
		}
		slices.Sort(added)
		slices.Sort(gone)
		require.Empty(t, added, "SQL names another context's table; call the owner's …Tx function instead:\n%s", strings.Join(added, "\n"))
		require.Empty(t, gone, "these crossings are gone: strike them from the crossings list:\n%s", strings.Join(gone, "\n"))
		t.Logf("%d known crossings remain", len(crossings))
	})

	t.Run("CatchesACrossContextQuery", func(t *testing.T) {
		t.Parallel()
		// A fixture context that reads the tickets table directly.
		root := t.TempDir()
		require.NoError(t, os.MkdirAll(filepath.Join(root, "complaints"), 0o755))
		require.NoError(t, os.WriteFile(filepath.Join(root, "complaints", "peek.go"), []byte("package complaints\n\n"+
			"const peek = `SELECT t.state FROM complaints c JOIN tickets t ON t.tenant_id = c.tenant_id AND t.id = c.ticket_id`\n"+
			"const prose = \"update tickets from the list\"\n"), 0o644))
		got := findCrossings(t, root, owners)
		require.Len(t, got, 1, "the SQL literal is caught, the prose is not")
		require.Equal(t, "complaints → tickets (tickets)", got[0].key())
	})
}
