package network

import (
	"context"

	"github.com/jackc/pgx/v5"

	"github.com/servicenet/servicenet/internal/pg"
)

// RepairPoint is a repair point as the demo stock seed needs it.
type RepairPoint struct {
	ID, ExternalCode string
	// Categories are the product categories it services.
	Categories []string
}

// WorkingRepairPointsTx lists, inside the caller's transaction, the repair
// points on probation or active, in external code order.
func WorkingRepairPointsTx(ctx context.Context, tx pg.TenantTx) ([]RepairPoint, error) {
	rows, err := tx.Query(ctx, `SELECT id, external_code, categories FROM nodes
		WHERE tenant_id = $1 AND tier = 'repair_point' AND status IN ('probation', 'active') ORDER BY external_code`, tx.TenantID)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (RepairPoint, error) {
		var x RepairPoint
		err := r.Scan(&x.ID, &x.ExternalCode, &x.Categories)
		return x, err
	})
}
