package stock

import (
	"context"
	"fmt"
	"slices"

	"github.com/jackc/pgx/v5"

	"github.com/servicenet/servicenet/internal/pg"
	"github.com/servicenet/servicenet/tenants"
)

// DemoLoanersPerPoint is how many loaners SeedDemo registers at each repair
// point.
const DemoLoanersPerPoint = 2

// DemoStock is what SeedDemo wrote.
type DemoStock struct {
	Points, StockRows, Loaners int
}

// SeedDemo gives the demo brand's repair points (probation or active) a
// stock of the parts that fit the models of the categories they service (1
// to 6 of each, as receive movements noted "demo seed") and
// DemoLoanersPerPoint loaners of their first serviced category that has a
// model (serials LN-<external code>-<n>). Run it after the network and the
// catalog. Idempotent: a point that has stock gets none, and existing
// serials are skipped. It writes no events: the seed is the starting state.
func (s *Service) SeedDemo(ctx context.Context, p tenants.Principal) (DemoStock, error) {
	var out DemoStock
	err := pg.InTenantTx(ctx, s.DB, p.TenantID, func(tx pg.TenantTx) error {
		rows, err := tx.Query(ctx, `
			WITH pts AS (
			  SELECT n.id, n.categories FROM nodes n
			  WHERE n.tenant_id = $1 AND n.tier = 'repair_point' AND n.status IN ('probation', 'active')
			    AND NOT EXISTS (SELECT 1 FROM part_stock s WHERE s.tenant_id = n.tenant_id AND s.node_id = n.id)
			), fit AS (
			  SELECT DISTINCT pts.id AS node_id, pm.part_id FROM pts
			  JOIN product_models m ON m.tenant_id = $1 AND m.category = ANY (pts.categories)
			  JOIN part_models pm ON pm.tenant_id = m.tenant_id AND pm.model_id = m.id
			)
			INSERT INTO part_stock (tenant_id, node_id, part_id, on_hand)
			SELECT $1, node_id, part_id, 1 + abs(hashtext(node_id || part_id)) % 6 FROM fit ORDER BY node_id, part_id
			RETURNING node_id, part_id, on_hand`, tx.TenantID)
		if err != nil {
			return err
		}
		type row struct {
			node, part string
			qty        int
		}
		added, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (row, error) {
			var x row
			err := r.Scan(&x.node, &x.part, &x.qty)
			return x, err
		})
		if err != nil {
			return err
		}
		out.StockRows = len(added)
		if len(added) > 0 {
			ids, nodes, parts, qtys := make([]string, len(added)), make([]string, len(added)), make([]string, len(added)), make([]int32, len(added))
			for i, a := range added {
				ids[i], nodes[i], parts[i], qtys[i] = tenants.NewID(tenants.PrefixStockMove), a.node, a.part, int32(a.qty)
			}
			if _, err := tx.Exec(ctx, `
				INSERT INTO stock_moves (tenant_id, id, node_id, part_id, kind, quantity, note, actor)
				SELECT $1, m.id, m.node_id, m.part_id, 'receive', m.qty, 'demo seed', $6
				FROM unnest($2::text[], $3::text[], $4::text[], $5::int[]) m(id, node_id, part_id, qty)`,
				tx.TenantID, ids, nodes, parts, qtys, p.Subject()); err != nil {
				return err
			}
		}

		// Loaners: the first serviced category with a model, its first model.
		models := map[string]string{}
		rows, err = tx.Query(ctx, `SELECT DISTINCT ON (category) category, id FROM product_models
			WHERE tenant_id = $1 AND NOT discontinued ORDER BY category, model_number`, tx.TenantID)
		if err != nil {
			return err
		}
		for rows.Next() {
			var c, id string
			if err := rows.Scan(&c, &id); err != nil {
				return err
			}
			models[c] = id
		}
		if err := rows.Err(); err != nil {
			return err
		}
		rows, err = tx.Query(ctx, `SELECT id, external_code, categories FROM nodes
			WHERE tenant_id = $1 AND tier = 'repair_point' AND status IN ('probation', 'active') ORDER BY external_code`, tx.TenantID)
		if err != nil {
			return err
		}
		type point struct {
			id, code   string
			categories []string
		}
		points, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (point, error) {
			var x point
			err := r.Scan(&x.id, &x.code, &x.categories)
			return x, err
		})
		if err != nil {
			return err
		}
		out.Points = len(points)
		var lids, lnodes, lcats, lmodels, lserials []string
		for _, pt := range points {
			i := slices.IndexFunc(pt.categories, func(c string) bool { return models[c] != "" })
			if i < 0 {
				continue
			}
			c := pt.categories[i]
			for n := 1; n <= DemoLoanersPerPoint; n++ {
				lids = append(lids, tenants.NewID(tenants.PrefixLoaner))
				lnodes, lcats, lmodels = append(lnodes, pt.id), append(lcats, c), append(lmodels, models[c])
				lserials = append(lserials, fmt.Sprintf("LN-%s-%d", pt.code, n))
			}
		}
		if len(lids) == 0 {
			return nil
		}
		tag, err := tx.Exec(ctx, `
			INSERT INTO loaners (tenant_id, id, node_id, category, model_id, serial, note)
			SELECT $1, l.id, l.node_id, l.category, l.model_id, l.serial, 'demo seed'
			FROM unnest($2::text[], $3::text[], $4::text[], $5::text[], $6::text[]) l(id, node_id, category, model_id, serial)
			ON CONFLICT (tenant_id, livemode, serial) DO NOTHING`, tx.TenantID, lids, lnodes, lcats, lmodels, lserials)
		out.Loaners = int(tag.RowsAffected())
		return err
	})
	return out, pg.Translate(err)
}
