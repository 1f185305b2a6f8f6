package network

import (
	"context"
	"errors"

	"github.com/jackc/pgx/v5"

	"github.com/servicenet/servicenet/internal/pg"
	"github.com/servicenet/servicenet/tenants"
)

// Reads several contexts make of the network inside their own transaction.

// NodeOfTechnicianTx reads, inside the caller's transaction, the node of
// technician id whatever the caller's scope; found is false for an unknown
// or malformed id.
func NodeOfTechnicianTx(ctx context.Context, tx pg.TenantTx, id string) (node string, found bool, err error) {
	if !tenants.ValidID(tenants.PrefixTechnician, id) {
		return "", false, nil
	}
	err = tx.QueryRow(ctx, `SELECT node_id FROM technicians WHERE tenant_id = $1 AND id = $2`, tx.TenantID, id).Scan(&node)
	if errors.Is(err, pgx.ErrNoRows) {
		return "", false, nil
	}
	return node, err == nil, err
}

// ScopeNodesTx is the principal's network scope as a value, inside the
// caller's transaction: nil for the whole tenant, else the ids of the nodes
// of its subtree (empty when its node is gone: it sees nothing). Contexts
// whose rows carry a node_id (claims, complaints, stock) turn it into
// their own predicate, `($n::text[] IS NULL OR x.node_id = ANY ($n))`.
// It costs one round trip, as ResolveScope does.
func ScopeNodesTx(ctx context.Context, tx pg.TenantTx, p tenants.Principal) ([]string, error) {
	if p.NodeID == "" {
		return nil, nil
	}
	ids, err := SubtreeIDsTx(ctx, tx, p.NodeID)
	if ids == nil {
		ids = []string{}
	}
	return ids, err
}
