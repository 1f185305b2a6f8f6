package network

import (
	"context"
	"errors"

	"github.com/jackc/pgx/v5"

	"github.com/servicenet/servicenet/internal/pg"
)

// NodeOfTechnicianTx reads the node technician id belongs to (a manual
// dispatch names the technician); found is false when the tenant has no
// such technician.
func NodeOfTechnicianTx(ctx context.Context, tx pg.TenantTx, id string) (nodeID string, found bool, err error) {
	err = tx.QueryRow(ctx, `SELECT node_id FROM technicians WHERE tenant_id = $1 AND id = $2`, tx.TenantID, id).Scan(&nodeID)
	if errors.Is(err, pgx.ErrNoRows) {
		return "", false, nil
	}
	return nodeID, err == nil, err
}
