package catalog

import (
	"context"

	"github.com/servicenet/servicenet/internal/pg"
)

// PartsByCategoryTx maps, inside the caller's transaction, each product
// category to the ids of the parts that fit a model of it, in id order.
func PartsByCategoryTx(ctx context.Context, tx pg.TenantTx) (map[string][]string, error) {
	rows, err := tx.Query(ctx, `SELECT m.category, array_agg(DISTINCT pm.part_id ORDER BY pm.part_id)
		FROM product_models m JOIN part_models pm ON pm.tenant_id = m.tenant_id AND pm.model_id = m.id
		WHERE m.tenant_id = $1 GROUP BY m.category`, tx.TenantID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[string][]string{}
	for rows.Next() {
		var c string
		var ids []string
		if err := rows.Scan(&c, &ids); err != nil {
			return nil, err
		}
		out[c] = ids
	}
	return out, rows.Err()
}

// FirstModelsTx maps, inside the caller's transaction, each product
// category to its first model on sale (in model number order).
func FirstModelsTx(ctx context.Context, tx pg.TenantTx) (map[string]string, error) {
	rows, err := tx.Query(ctx, `SELECT DISTINCT ON (category) category, id FROM product_models
		WHERE tenant_id = $1 AND NOT discontinued ORDER BY category, model_number`, tx.TenantID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[string]string{}
	for rows.Next() {
		var c, id string
		if err := rows.Scan(&c, &id); err != nil {
			return nil, err
		}
		out[c] = id
	}
	return out, rows.Err()
}
