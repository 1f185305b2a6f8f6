package network

import (
	"context"
	"errors"
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5"

	"github.com/servicenet/servicenet/internal/pg"
	"github.com/servicenet/servicenet/tenants"
)

// Scope is the part of the tree a principal may see: all of it, or the
// subtree under one node. Queries pass Path() as an ltree parameter and add
// `($n::ltree IS NULL OR path <@ $n)`.
type Scope struct {
	// Root is the scope's top node, empty for the whole tenant.
	Root string
	path *string
}

// Path is the scope's ltree path, or nil for the whole tenant.
func (s Scope) Path() *string { return s.path }

// Whole reports whether the scope is the tenant's whole network.
func (s Scope) Whole() bool { return s.path == nil }

// Contains reports whether a node path (dot-separated ids) lies in scope.
func (s Scope) Contains(path string) bool {
	return s.path == nil || path == *s.path || strings.HasPrefix(path, *s.path+".")
}

// InSubtree is the predicate "the row's node lies in the subtree at path"
// for a row aliased alias with a node_id column, path being the placeholder
// of a Scope's Path() (NULL: the whole tenant).
func InSubtree(alias, path string) string {
	return `(` + path + `::ltree IS NULL OR EXISTS (SELECT FROM nodes n WHERE n.tenant_id = ` + alias + `.tenant_id
		AND n.id = ` + alias + `.node_id AND n.path <@ ` + path + `::ltree))`
}

// noNode is a path no node has: the scope of a principal whose node is gone.
const noNode = "none"

// ResolveScope returns the principal's scope inside tx. A principal bound to
// a node sees that node's subtree; if the node does not exist it sees nothing.
func ResolveScope(ctx context.Context, tx pg.TenantTx, p tenants.Principal) (Scope, error) {
	if p.NodeID == "" {
		return Scope{}, nil
	}
	var path string
	err := tx.QueryRow(ctx, `SELECT path::text FROM nodes WHERE tenant_id = $1 AND id = $2`, tx.TenantID, p.NodeID).Scan(&path)
	if errors.Is(err, pgx.ErrNoRows) {
		path = noNode
	} else if err != nil {
		return Scope{}, err
	}
	return Scope{Root: p.NodeID, path: &path}, nil
}

func splitPath(path string) []string { return strings.Split(path, ".") }

func itoa(i int) string { return strconv.Itoa(i) }

func join(xs []string) string { return strings.Join(xs, ", ") }
