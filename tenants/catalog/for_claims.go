package catalog

import (
	"context"
	"slices"

	"github.com/jackc/pgx/v5"

	"github.com/servicenet/servicenet/internal/pg"
)

// QueueParts queues on b the read of the tenant's parts with the given ids,
// with the models each fits, into out in part number order; ids that are
// not parts are left out. It lets a caller check parts against a unit's
// model in the round trip that reads the unit.
func QueueParts(b *pgx.Batch, tenantID string, ids []string, out *[]Part) {
	*out = []Part{}
	if len(ids) == 0 {
		return
	}
	b.Queue(`SELECT `+partColumns+` FROM parts p WHERE p.tenant_id = $1 AND p.id = ANY($2::text[]) ORDER BY p.part_number`,
		tenantID, ids).Query(func(rows pgx.Rows) error {
		for rows.Next() {
			p, err := scanPart(rows)
			if err != nil {
				return err
			}
			*out = append(*out, p)
		}
		return rows.Err()
	})
}

// PartsTx is QueueParts' read in its own round trip, inside the caller's
// transaction.
func PartsTx(ctx context.Context, tx pg.TenantTx, ids []string) ([]Part, error) {
	var out []Part
	b := &pgx.Batch{}
	QueueParts(b, tx.TenantID, ids, &out)
	return out, tx.SendBatch(ctx, b).Close()
}

// Fits reports whether the part fits the product model.
func (p Part) Fits(modelID string) bool {
	return slices.Contains(p.CompatibleModelIDs, modelID)
}

// QueuePartListPrices queues on b the price-list prices of parts on a date
// (YYYY-MM-DD) into out: the override of the price list version in effect
// that day; a part without one is left out (its own price applies).
func QueuePartListPrices(b *pgx.Batch, tenantID, on string, ids []string, out *map[string]int64) {
	*out = map[string]int64{}
	if len(ids) == 0 {
		return
	}
	b.Queue(`SELECT pp.part_id, pp.price FROM price_list_parts pp
		WHERE pp.tenant_id = $1 AND pp.part_id = ANY($3::text[]) AND pp.price_list_id = (
			SELECT pl.id FROM price_lists pl WHERE pl.tenant_id = $1 AND pl.effective_from <= $2::date
			ORDER BY pl.effective_from DESC LIMIT 1)`, tenantID, on, ids).Query(func(rows pgx.Rows) error {
		for rows.Next() {
			var id string
			var price int64
			if err := rows.Scan(&id, &price); err != nil {
				return err
			}
			(*out)[id] = price
		}
		return rows.Err()
	})
}

// RepairRates are what the price list version in effect on a date charges
// for a repair's labor and visit of one unit's model's category: Labor nil
// when the version has no rate for it, Visit the category's fee else the
// version's default; Found is false when no version is in effect that day.
type RepairRates struct {
	Found        bool
	Labor, Visit *int64
}

// QueueRepairRates queues on b the repair rates of unit unitID's model's
// category (the unit's model as tenants/customers exports it, the
// unit_models view) in the price list version in effect on a date
// (YYYY-MM-DD), into out: a caller reads them in the round trip that
// reads the unit.
func QueueRepairRates(b *pgx.Batch, tenantID, unitID, on string, out *RepairRates) {
	*out = RepairRates{}
	b.Queue(`WITH cat AS (
		  SELECT m.category FROM product_models m
		  WHERE m.tenant_id = $1 AND m.id = (SELECT um.model_id FROM unit_models um WHERE um.tenant_id = $1 AND um.unit_id = $2)
		), pl AS (
		  SELECT id, default_visit_fee FROM price_lists WHERE tenant_id = $1 AND effective_from <= $3::date
		  ORDER BY effective_from DESC LIMIT 1
		)
		SELECT (SELECT l.amount FROM price_list_labor l, cat WHERE l.tenant_id = $1 AND l.price_list_id = pl.id
		          AND l.category = cat.category AND l.service_kind = 'repair'),
		       coalesce((SELECT f.amount FROM price_list_visit_fees f, cat WHERE f.tenant_id = $1 AND f.price_list_id = pl.id
		          AND f.category = cat.category), pl.default_visit_fee)
		FROM pl`, tenantID, unitID, on).Query(func(rows pgx.Rows) error {
		for rows.Next() {
			out.Found = true
			if err := rows.Scan(&out.Labor, &out.Visit); err != nil {
				return err
			}
		}
		return rows.Err()
	})
}
