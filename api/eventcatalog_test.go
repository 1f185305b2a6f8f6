package api_test

import (
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"net/http"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/servicenet/servicenet/api"
	"github.com/servicenet/servicenet/internal/apitest"
	"github.com/servicenet/servicenet/internal/i18n"
)

// TestEventCatalogCoversCode fails when code under tenants/ or jobs/ can
// emit an event type the published document does not declare: every
// Type… constant with a dotted value, and every string literal given as an
// events.New Type, and every ticket action (ticket.<action>: the
// transition table's, which the catalog walks, and the actions outside it:
// ticket.opened, ticket.charges_waived …).
func TestEventCatalogCoversCode(t *testing.T) {
	t.Parallel()
	declared := map[string]bool{}
	for _, ev := range api.EventCatalog {
		declared[ev.Type] = true
	}
	// The document the shared server publishes (api.PublishedOpenAPI,
	// built once per server), not a build of its own.
	r := apitest.Shared(t).Do(t, http.MethodGet, "/openapi.yaml", "", nil)
	require.Equal(t, http.StatusOK, r.Status)
	for typ := range declared {
		assert.Contains(t, string(r.Body), "\n  "+typ+":\n", "event type %s has no webhook in the document", typ)
	}

	emitted := map[string]string{}
	for _, root := range []string{"../tenants", "../jobs"} {
		require.NoError(t, filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() || !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
				return err
			}
			f, err := parser.ParseFile(token.NewFileSet(), path, nil, 0)
			if err != nil {
				return err
			}
			ast.Inspect(f, func(n ast.Node) bool {
				switch n := n.(type) {
				case *ast.ValueSpec:
					// A ticket action (tickets.Action) is emitted as ticket.<action>
					// by the change whose last step it is (queueEvent).
					if typ, ok := n.Type.(*ast.Ident); ok && typ.Name == "Action" && strings.Contains(filepath.ToSlash(path), "tenants/tickets/") {
						for i := range min(len(n.Names), len(n.Values)) {
							if v, ok := stringLit(n.Values[i]); ok && !timelineOnlyActions[v] {
								emitted["ticket."+v] = path + ": tickets action " + n.Names[i].Name
							}
						}
						return true
					}
					for i, name := range n.Names {
						if strings.HasPrefix(name.Name, "Type") && i < len(n.Values) {
							if v, ok := stringLit(n.Values[i]); ok && strings.Contains(v, ".") {
								emitted[v] = path + ": " + name.Name
							}
						}
					}
				case *ast.CompositeLit:
					if sel, ok := n.Type.(*ast.SelectorExpr); ok && sel.Sel.Name == "New" {
						for _, el := range n.Elts {
							if kv, ok := el.(*ast.KeyValueExpr); ok {
								if k, ok := kv.Key.(*ast.Ident); ok && k.Name == "Type" {
									if v, ok := stringLit(kv.Value); ok {
										emitted[v] = path + ": events.New literal"
									}
								}
							}
						}
					}
				}
				return true
			})
			return nil
		}))
	}
	require.Greater(t, len(emitted), 60, "the scan found too few event types: is it looking in the right place?")
	for typ, where := range emitted {
		assert.True(t, declared[typ], "%s emits %s, which the event catalog (api/eventcatalog.go) does not declare", where, typ)
	}
}

// timelineOnlyActions are the ticket actions that are timeline entries
// only, never an event: customer_notified (a message sent) rides another
// change's timeline (change.told), not its event.
var timelineOnlyActions = map[string]bool{"customer_notified": true}

func stringLit(e ast.Expr) (string, bool) {
	bl, ok := e.(*ast.BasicLit)
	if !ok || bl.Kind != token.STRING {
		return "", false
	}
	s, err := strconv.Unquote(bl.Value)
	return s, err == nil
}

// TestEventSummariesInCatalog: every event type has its summary in the
// catalog (event.<type>), in every language; outside ticket.* (whose
// catalog summaries are written for people, not cut from the transition
// table) the English is the catalog's Summary.
func TestEventSummariesInCatalog(t *testing.T) {
	t.Parallel()
	for _, ev := range api.EventCatalog {
		code := "event." + ev.Type
		require.True(t, i18n.Has(code), "event type %s has no message %s", ev.Type, code)
		if !strings.HasPrefix(ev.Type, "ticket.") {
			require.Equal(t, ev.Summary, i18n.Render(i18n.English, code, nil), code)
		}
		require.NotEqual(t, code, i18n.Render(i18n.Chinese, code, nil))
	}
}

// TestEventDataProblemsNameTheField: a problem names where in the event it
// is (data.<field>), whichever of the data's fields the check reaches
// first.
func TestEventDataProblemsNameTheField(t *testing.T) {
	t.Parallel()
	require.Empty(t, api.EventDataProblems("ticket.completed", map[string]any{"ticket_id": "tkt_x", "number": "T-1", "state": "completed"}))
	require.Equal(t, []string{"ticket.completed: data expected required property number to be present"},
		api.EventDataProblems("ticket.completed", map[string]any{"ticket_id": "tkt_x", "state": "completed"}))
	require.Equal(t, []string{"ticket.completed: data.bogus unexpected property"},
		api.EventDataProblems("ticket.completed", map[string]any{"ticket_id": "tkt_x", "number": "T-1", "bogus": 1}))
	require.Equal(t, []string{"swap.completed: not in the event catalog"}, api.EventDataProblems("swap.completed", map[string]any{}))
}
