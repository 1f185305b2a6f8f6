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
// Where one statement must combine two contexts' rows, the owner may export
// a view or a SQL function instead, declared in its migration and named in
// the header with "(exported view)" or "(exported function)":
//
//	-- Owned by tenants/tickets: ticket_workload (exported view)
//
// Other contexts may name an exported object in their SQL; it is the
// owner's published interface (the columns and rules others rely on), not
// its tables. Only views and functions are exported, never a table.
//
// crossings is what the code still does otherwise: each entry is a context,
// a table it names and the owner, as they were when the test was written.
// The list may only shrink. A new crossing fails the test; a crossing that
// has been removed fails it too until it is struck from the list, so the
// list stays the true map of the debt.
var crossings = map[string]bool{}

const migrationsDir = "../internal/pg/migrations"

var ownedBy = regexp.MustCompile(`(?m)^-- Owned by (?:tenants|internal)/([a-z]+): (.+)$`)

// owner is the context that owns a table, view or function, and whether
// the object is exported (other contexts may name it).
type owner struct {
	context  string
	exported bool
}

// exportedObject is a header entry for an exported view or function.
var exportedObject = regexp.MustCompile(`^([a-z_][a-z0-9_]*)(\(\))? \(exported (view|function)\)$`)

// tableOwners reads the ownership map from the migrations' headers.
func tableOwners(t *testing.T) map[string]owner {
	t.Helper()
	owners := map[string]owner{}
	entries, err := os.ReadDir(migrationsDir)
	require.NoError(t, err)
	created := regexp.MustCompile(`(?im)^\s*CREATE (?:OR REPLACE )?(TABLE|VIEW|FUNCTION) (?:IF NOT EXISTS )?([a-z_][a-z0-9_]*)`)
	kinds := map[string]string{}   // object → TABLE, VIEW or FUNCTION, as created
	exports := map[string]string{} // exported object → view or function, as declared
	for _, e := range entries {
		sql, err := os.ReadFile(filepath.Join(migrationsDir, e.Name()))
		require.NoError(t, err)
		for _, m := range ownedBy.FindAllStringSubmatch(string(sql), -1) {
			for _, name := range strings.Split(m[2], ",") {
				name = strings.TrimSpace(name)
				o := owner{context: m[1]}
				if x := exportedObject.FindStringSubmatch(name); x != nil {
					name, o.exported = x[1], true
					exports[name] = x[3]
				}
				require.NotContains(t, owners, name, "%s: %s has two owners", e.Name(), name)
				owners[name] = o
			}
		}
		for _, m := range created.FindAllStringSubmatch(string(sql), -1) {
			kind, name := strings.ToUpper(m[1]), m[2]
			if kinds[name] == "" {
				kinds[name] = kind
			}
			if _, ok := owners[name]; !ok && kind != "FUNCTION" && !strings.HasPrefix(name, "zz_") {
				t.Errorf("%s creates %s %s without declaring its owner in an \"-- Owned by tenants/<context>: …\" header",
					e.Name(), strings.ToLower(kind), name)
			}
		}
	}
	for name, kind := range exports {
		if got := kinds[name]; !strings.EqualFold(got, kind) {
			t.Errorf("%s is declared an exported %s but created as %q: only views and functions are exported, never a table",
				name, kind, strings.ToLower(got))
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
// SQL literal in one context that names a table owned by another (an object
// its owner exports is not a crossing).
func findCrossings(t *testing.T, root string, owners map[string]owner) []crossing {
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
				o, known := owners[table]
				if known && o.context != context && !o.exported {
					found = append(found, crossing{context, table, o.context, fset.Position(lit.Pos()).String()})
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
	require.False(t, owners["tickets"].exported, "a table is not exported")

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
		require.Empty(t, added, "SQL names another context's table; call the owner's …Tx function, or name a view or function it exports, instead:\n%s", strings.Join(added, "\n"))
		require.Empty(t, gone, "these crossings are gone: strike them from the crossings list:\n%s", strings.Join(gone, "\n"))
		t.Logf("%d known crossings remain", len(crossings))
	})

	t.Run("CatchesACrossContextQuery", func(t *testing.T) {
		t.Parallel()
		// A fixture context that reads the tickets table directly, and the
		// view the tickets context exports (which is allowed).
		root := t.TempDir()
		require.NoError(t, os.MkdirAll(filepath.Join(root, "complaints"), 0o755))
		require.NoError(t, os.WriteFile(filepath.Join(root, "complaints", "peek.go"), []byte("package complaints\n\n"+
			"const peek = `SELECT t.state FROM complaints c JOIN tickets t ON t.tenant_id = c.tenant_id AND t.id = c.ticket_id`\n"+
			"const load = `SELECT count(*) FROM complaints c JOIN ticket_workload w ON w.tenant_id = c.tenant_id AND w.ticket_id = c.ticket_id`\n"+
			"const prose = \"update tickets from the list\"\n"), 0o644))
		require.True(t, owners["ticket_workload"].exported, "the tickets context exports ticket_workload")
		got := findCrossings(t, root, owners)
		require.Len(t, got, 1, "the SQL literal naming the table is caught; the exported view and the prose are not")
		require.Equal(t, "complaints → tickets (tickets)", got[0].key())
	})
}
