package network

import (
	"context"
	"errors"

	"github.com/jackc/pgx/v5"

	"github.com/servicenet/servicenet/internal/pg"
	"github.com/servicenet/servicenet/tenants"
)

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
