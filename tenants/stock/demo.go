package stock

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/jackc/pgx/v5"

	"github.com/servicenet/servicenet/internal/pg"
	"github.com/servicenet/servicenet/tenants"
	"github.com/servicenet/servicenet/tenants/catalog"
	"github.com/servicenet/servicenet/tenants/network"
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
		points, err := network.WorkingRepairPointsTx(ctx, tx)
		if err != nil {
			return err
		}
		fits, err := catalog.PartsByCategoryTx(ctx, tx)
		if err != nil {
			return err
		}
		// Each point's parts: those fitting a model of a category it services.
		type key struct{ node, part string }
		var keys []key
		for _, pt := range points {
			seen := map[string]bool{}
			for _, c := range pt.Categories {
				for _, part := range fits[c] {
					if !seen[part] {
						seen[part] = true
						keys = append(keys, key{pt.ID, part})
					}
				}
			}
		}
		slices.SortFunc(keys, func(a, b key) int {
			if a.node != b.node {
				return strings.Compare(a.node, b.node)
			}
			return strings.Compare(a.part, b.part)
		})
		knodes, kparts := make([]string, len(keys)), make([]string, len(keys))
		for i, k := range keys {
			knodes[i], kparts[i] = k.node, k.part
		}
		rows, err := tx.Query(ctx, `
			INSERT INTO part_stock (tenant_id, node_id, part_id, on_hand)
			SELECT $1, k.node_id, k.part_id, 1 + abs(hashtext(k.node_id || k.part_id)) % 6
			FROM unnest($2::text[], $3::text[]) WITH ORDINALITY k(node_id, part_id, n)
			WHERE NOT EXISTS (SELECT 1 FROM part_stock s WHERE s.tenant_id = $1 AND s.node_id = k.node_id)
			ORDER BY k.n
			RETURNING node_id, part_id, on_hand`, tx.TenantID, knodes, kparts)
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
		models, err := catalog.FirstModelsTx(ctx, tx)
		if err != nil {
			return err
		}
		out.Points = len(points)
		var lids, lnodes, lcats, lmodels, lserials []string
		for _, pt := range points {
			i := slices.IndexFunc(pt.Categories, func(c string) bool { return models[c] != "" })
			if i < 0 {
				continue
			}
			c := pt.Categories[i]
			for n := 1; n <= DemoLoanersPerPoint; n++ {
				lids = append(lids, tenants.NewID(tenants.PrefixLoaner))
				lnodes, lcats, lmodels = append(lnodes, pt.ID), append(lcats, c), append(lmodels, models[c])
				lserials = append(lserials, fmt.Sprintf("LN-%s-%d", pt.ExternalCode, n))
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
