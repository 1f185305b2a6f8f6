package claims

import (
	"context"

	"github.com/jackc/pgx/v5"

	"github.com/servicenet/servicenet/internal/pg"
)

// OfUnitsTx returns, inside the caller's transaction, every claim on the
// units (a data-subject export; no scope: the caller decided).
func OfUnitsTx(ctx context.Context, tx pg.TenantTx, unitIDs []string) ([]Claim, error) {
	rows, err := tx.Query(ctx, `SELECT `+claimColumns+claimFrom+` WHERE c.tenant_id = $1 AND c.unit_id = ANY ($2) ORDER BY c.id`,
		tx.TenantID, unitIDs)
	if err != nil {
		return nil, err
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (Claim, error) { return scanClaim(r) })
	if out == nil {
		out = []Claim{}
	}
	return out, err
}
