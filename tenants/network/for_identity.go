package network

import (
	"context"
	"errors"

	"github.com/jackc/pgx/v5"

	"github.com/servicenet/servicenet/internal/pg"
)

// TechnicianUnderTx reads, for an API key bound to technician technicianID
// and node nodeID ("" for none), the technician's node and whether it is
// nodeID or lies under it (always, without a node). found is false when the
// tenant has no such technician.
func TechnicianUnderTx(ctx context.Context, tx pg.TenantTx, technicianID, nodeID string) (techNode string, inside, found bool, err error) {
	err = tx.QueryRow(ctx, `SELECT t.node_id, $3 = '' OR n.path <@ (SELECT path FROM nodes WHERE tenant_id = $1 AND id = $3)
		FROM technicians t JOIN nodes n ON n.tenant_id = t.tenant_id AND n.id = t.node_id
		WHERE t.tenant_id = $1 AND t.id = $2`, tx.TenantID, technicianID, nodeID).Scan(&techNode, &inside)
	if errors.Is(err, pgx.ErrNoRows) {
		return "", false, false, nil
	}
	return techNode, inside, err == nil, err
}
