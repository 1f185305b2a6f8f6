package payouts

import (
	"context"

	"github.com/jackc/pgx/v5"

	"github.com/servicenet/servicenet/internal/pg"
)

// OfUnitsTx returns, inside the caller's transaction, every payout for the
// units (a data-subject export; no scope: the caller decided).
func OfUnitsTx(ctx context.Context, tx pg.TenantTx, unitIDs []string) ([]Payout, error) {
	rows, err := tx.Query(ctx, `SELECT `+payoutColumns+payoutFrom+` WHERE p.tenant_id = $1 AND p.unit_id = ANY ($2) ORDER BY p.id`,
		tx.TenantID, unitIDs)
	if err != nil {
		return nil, err
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (Payout, error) { return scanPayout(r) })
	if err != nil {
		return nil, err
	}
	if out == nil {
		out = []Payout{}
	}
	return out, withStorefronts(ctx, tx, out)
}
