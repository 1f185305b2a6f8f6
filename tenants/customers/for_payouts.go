package customers

import (
	"context"

	"github.com/jackc/pgx/v5"

	"github.com/servicenet/servicenet/internal/pg"
)

// QueueUnitStorefronts queues on b the read of the storefront that sold
// each of the units (nil: not sold through a storefront) into out; ids that
// are not units are left out. No scope applies: the caller has its own.
func QueueUnitStorefronts(b *pgx.Batch, tenantID string, unitIDs []string, out *map[string]*string) {
	*out = make(map[string]*string, len(unitIDs))
	if len(unitIDs) == 0 {
		return
	}
	b.Queue(`SELECT id, storefront_id FROM units WHERE tenant_id = $1 AND id = ANY ($2)`, tenantID, unitIDs).
		Query(func(rows pgx.Rows) error {
			for rows.Next() {
				var id string
				var sf *string
				if err := rows.Scan(&id, &sf); err != nil {
					return err
				}
				(*out)[id] = sf
			}
			return rows.Err()
		})
}

// UnitStorefrontsTx is QueueUnitStorefronts' read in its own round trip.
func UnitStorefrontsTx(ctx context.Context, tx pg.TenantTx, unitIDs []string) (map[string]*string, error) {
	var out map[string]*string
	b := &pgx.Batch{}
	QueueUnitStorefronts(b, tx.TenantID, unitIDs, &out)
	return out, tx.SendBatch(ctx, b).Close()
}

// StorefrontUnitIDsTx lists, inside the caller's transaction, the ids of
// the units storefrontID sold: the rows a storefront-bound principal sees
// in the contexts that hang off units, as a value for their own predicate.
func StorefrontUnitIDsTx(ctx context.Context, tx pg.TenantTx, storefrontID string) ([]string, error) {
	rows, err := tx.Query(ctx, `SELECT id FROM units WHERE tenant_id = $1 AND storefront_id = $2`, tx.TenantID, storefrontID)
	if err != nil {
		return nil, err
	}
	ids, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if ids == nil {
		ids = []string{}
	}
	return ids, err
}
