package network

import (
	"context"

	"github.com/servicenet/servicenet/internal/pg"
	"github.com/servicenet/servicenet/tenants"
)

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
