package bench

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"

	"github.com/servicenet/servicenet/internal/pg"
	"github.com/servicenet/servicenet/internal/pgtest"
	"github.com/servicenet/servicenet/tenants"
	"github.com/servicenet/servicenet/tenants/dispatch"
	"github.com/servicenet/servicenet/tenants/network"
)

// Dispatch benchmark: one tenant with a 1,000-node network and 10,000
// technicians, and 90 days of ticket history, in a database it shares with
// 30 other tenants' networks.
const (
	dispatchNodes        = 1000
	dispatchTechnicians  = 10000
	dispatchTickets      = 100000 // over 90 days, about 1,100 a day
	dispatchDays         = 90
	dispatchOtherTenants = 30 // sharing the database: 30,000 more nodes
)

type dispatchNetwork struct {
	db        *pgtest.DB
	tenantID  string
	districts []string // the districts the network covers
	nodeIDs   []string
	now       time.Time
}

// loadDispatchNetwork builds the benchmark tenant: a root; one service
// center per province and one depot per city of 600 consecutive districts
// (covering their province, city); repair points up to 1,000 nodes, each
// covering 1-3 districts of its depot's city and servicing 3 categories;
// 10 technicians per node with 3 skills, licences valid, shifts 08:00-20:00
// all week; 100,000 tickets assigned to them over the last 90 days (today
// included), one in 20 cancelled, today's first 1,000 still scheduled.
func loadDispatchNetwork(b *testing.B) *dispatchNetwork {
	b.Helper()
	ctx := context.Background()
	start := time.Now()
	db := pgtest.NewDB(b)
	rows, err := db.App.Query(ctx, `SELECT code FROM regions WHERE level = 3 ORDER BY code`)
	require.NoError(b, err)
	all, err := pgx.CollectRows(rows, pgx.RowTo[string])
	require.NoError(b, err)
	districts := all[200:800]

	shanghai, err := time.LoadLocation("Asia/Shanghai")
	require.NoError(b, err)
	dn := &dispatchNetwork{db: db, tenantID: fmt.Sprintf("ten_%026d", 424242), districts: districts,
		now: time.Date(2026, 11, 30, 10, 0, 0, 0, shanghai)}
	r := rand.New(rand.NewPCG(2026, 12))
	cats, kinds := network.Categories, network.ServiceKinds

	type benchNode struct {
		id, tier, parent, path string
		coverage, categories   []string
		kinds                  []string
		lat, lon               float64
	}
	var nodes []benchNode
	add := func(tier string, parent *benchNode, coverage, categories []string, lat, lon float64) *benchNode {
		n := benchNode{id: tenants.NewID(tenants.PrefixNode), tier: tier, coverage: coverage, categories: categories,
			kinds: []string{"repair", "install", kinds[r.IntN(len(kinds))]}, lat: lat, lon: lon}
		n.path = n.id
		if parent != nil {
			n.parent, n.path = parent.id, parent.path+"."+n.id
		}
		slices.Sort(n.kinds)
		n.kinds = slices.Compact(n.kinds)
		nodes = append(nodes, n)
		return &nodes[len(nodes)-1]
	}
	nodes = make([]benchNode, 0, dispatchNodes)
	root := add("manufacturer", nil, []string{}, cats, 36, 120)
	// A rough position per district, so distances vary.
	pos := map[string][2]float64{}
	for i, d := range districts {
		pos[d] = [2]float64{30 + float64(i%40)*0.2, 110 + float64(i/40)*0.5}
	}
	centers, depots := map[string]*benchNode{}, map[string]*benchNode{}
	cityDistricts := map[string][]string{}
	for _, d := range districts {
		prov, city := d[:2]+"0000", d[:4]+"00"
		if centers[prov] == nil {
			centers[prov] = add("service_center", root, []string{prov}, cats, pos[d][0], pos[d][1])
		}
		if depots[city] == nil {
			depots[city] = add("specialist_depot", centers[prov], []string{city}, cats, pos[d][0], pos[d][1])
		}
		cityDistricts[city] = append(cityDistricts[city], d)
	}
	for len(nodes) < dispatchNodes {
		d := districts[r.IntN(len(districts))]
		city := d[:4] + "00"
		cov := []string{d}
		for range r.IntN(3) {
			cd := cityDistricts[city]
			cov = append(cov, cd[r.IntN(len(cd))])
		}
		slices.Sort(cov)
		cs := []string{cats[r.IntN(len(cats))], cats[r.IntN(len(cats))], cats[r.IntN(len(cats))]}
		slices.Sort(cs)
		add("repair_point", depots[city], slices.Compact(cov), slices.Compact(cs),
			pos[d][0]+r.Float64()*0.1, pos[d][1]+r.Float64()*0.1)
	}

	ids, tiers, parents, paths := make([]string, len(nodes)), make([]string, len(nodes)), make([]string, len(nodes)), make([]string, len(nodes))
	covs, ncats, nkinds := make([][]string, len(nodes)), make([][]string, len(nodes)), make([][]string, len(nodes))
	lats, lons := make([]float64, len(nodes)), make([]float64, len(nodes))
	for i, n := range nodes {
		dn.nodeIDs = append(dn.nodeIDs, n.id)
		ids[i], tiers[i], parents[i], paths[i] = n.id, n.tier, n.parent, n.path
		covs[i], ncats[i], nkinds[i], lats[i], lons[i] = n.coverage, n.categories, n.kinds, n.lat, n.lon
	}
	// Technicians: 10 per node.
	tids, tnodes, tskills := make([]string, dispatchTechnicians), make([]string, dispatchTechnicians), make([]string, dispatchTechnicians)
	tlats, tlons := make([]float64, dispatchTechnicians), make([]float64, dispatchTechnicians)
	for i := range dispatchTechnicians {
		n := nodes[i%len(nodes)]
		skills := map[string]int{}
		for range 3 {
			c := n.categories[r.IntN(len(n.categories))]
			skills[c] = 1 + r.IntN(5)
		}
		js, _ := json.Marshal(skills)
		tids[i], tnodes[i], tskills[i] = tenants.NewID(tenants.PrefixTechnician), n.id, string(js)
		tlats[i], tlons[i] = n.lat+r.Float64()*0.2-0.1, n.lon+r.Float64()*0.2-0.1
	}
	var shifts []network.Shift
	for wd := 1; wd <= 7; wd++ {
		shifts = append(shifts, network.Shift{Weekday: wd, Start: "08:00", End: "20:00"})
	}
	shiftJSON, _ := json.Marshal(shifts)

	cov, _ := json.Marshal(covs)
	cat, _ := json.Marshal(ncats)
	srv, _ := json.Marshal(nkinds)
	insertNodes := func(tx pg.TenantTx, ids, parents, paths []string) error {
		_, err := tx.Exec(ctx, `
			INSERT INTO nodes (tenant_id, id, external_code, name, tier, parent_id, path, status, grade, latitude, longitude,
			                   coverage, categories, service_kinds, daily_capacity)
			SELECT $1, u.id, u.id, u.id, u.tier, NULLIF(u.parent, ''), u.path::ltree, 'active',
			       (ARRAY['A','B','C',NULL])[1 + u.n % 4], u.lat, u.lon,
			       ARRAY(SELECT jsonb_array_elements_text(c.v)), ARRAY(SELECT jsonb_array_elements_text(k.v)),
			       ARRAY(SELECT jsonb_array_elements_text(s.v)), 20
			FROM unnest($2::text[], $3::text[], $4::text[], $5::text[], $9::float8[], $10::float8[])
			     WITH ORDINALITY AS u(id, tier, parent, path, lat, lon, n)
			JOIN jsonb_array_elements($6::jsonb) WITH ORDINALITY AS c(v, n) ON c.n = u.n
			JOIN jsonb_array_elements($7::jsonb) WITH ORDINALITY AS k(v, n) ON k.n = u.n
			JOIN jsonb_array_elements($8::jsonb) WITH ORDINALITY AS s(v, n) ON s.n = u.n`,
			tx.TenantID, ids, tiers, parents, paths, cov, cat, srv, lats, lons)
		return err
	}
	// Other tenants share the database, as in production: copies of the
	// network (nodes only) under other IDs.
	for f := range dispatchOtherTenants {
		tid := fmt.Sprintf("ten_%026d", f+1)
		relabel := func(id string) string { return fmt.Sprintf("nod_%04d", f) + id[8:] } // tenants.NewID starts "01"
		fids, fpaths, fparents := make([]string, len(ids)), make([]string, len(ids)), make([]string, len(ids))
		for i := range ids {
			fids[i] = relabel(ids[i])
			if parents[i] != "" {
				fparents[i] = relabel(parents[i])
			}
			labels := strings.Split(paths[i], ".")
			for j := range labels {
				labels[j] = relabel(labels[j])
			}
			fpaths[i] = strings.Join(labels, ".")
		}
		err := pg.InTenantTx(ctx, db.Owner, tid, func(tx pg.TenantTx) error {
			if _, err := tx.Exec(ctx, `INSERT INTO tenants (id, name, slug) VALUES ($1, $1, $2)`, tid, fmt.Sprintf("other-%d", f)); err != nil {
				return err
			}
			return insertNodes(tx, fids, fparents, fpaths)
		})
		require.NoError(b, err)
	}
	err = pg.InTenantTx(ctx, db.Owner, dn.tenantID, func(tx pg.TenantTx) error {
		if _, err := tx.Exec(ctx, `INSERT INTO tenants (id, name, slug) VALUES ($1, 'Dispatch bench', 'dispatch-bench')`, tx.TenantID); err != nil {
			return err
		}
		if err := insertNodes(tx, ids, parents, paths); err != nil {
			return fmt.Errorf("nodes: %w", err)
		}
		if _, err := tx.Exec(ctx, `
			INSERT INTO technicians (tenant_id, id, external_code, node_id, name, phone, status, skills, licence_number,
			                         licence_issued_on, licence_expires_on, shifts, daily_job_limit, home_latitude, home_longitude)
			SELECT $1, u.id, u.id, u.node, u.id, '13900000000', CASE WHEN u.n % 25 = 0 THEN 'on_leave' ELSE 'active' END,
			       u.skills, 'L-' || u.n, '2024-01-01', '2030-01-01', $5, 8, u.lat, u.lon
			FROM unnest($2::text[], $3::text[], $4::jsonb[], $6::float8[], $7::float8[]) WITH ORDINALITY AS u(id, node, skills, lat, lon, n)`,
			tx.TenantID, tids, tnodes, tskills, shiftJSON, tlats, tlons); err != nil {
			return fmt.Errorf("technicians: %w", err)
		}
		customer := tenants.NewID(tenants.PrefixCustomer)
		if _, err := tx.Exec(ctx, `INSERT INTO customers (tenant_id, id, name, phones) VALUES ($1, $2, 'bench', '{13800138000}')`,
			tx.TenantID, customer); err != nil {
			return err
		}
		// Ticket g goes to technician (g × 7919) mod 10,000, on day
		// g mod 90 before today, at 08:00 + (g mod 10) hours. Today's
		// tickets (g mod 90 = 0, all at 08:00) are scheduled up to g =
		// 90,000: their technicians repeat every 1,000 of them, and the
		// booking exclusion (018) forbids one technician two visits at
		// once; the rest of today's are closed.
		dayStart := time.Date(dn.now.Year(), dn.now.Month(), dn.now.Day(), 8, 0, 0, 0, dn.now.Location())
		if _, err := tx.Exec(ctx, `
			INSERT INTO tickets (tenant_id, id, number, channel, type, state, customer_id, contact, address, fault,
			                     node_id, technician_id, window_start, window_end, created_by, created_at, updated_at)
			SELECT $1, 'tkt_' || lpad(g::text, 26, '0'), 'SN-' || g, 'hotline', 'repair',
			       CASE WHEN g % 20 = 0 THEN 'cancelled' WHEN g % $6 = 0 AND g <= 1000 * $6 THEN 'scheduled' ELSE 'closed' END,
			       $2, '{}', '{}', '{}', ($4::text[])[1 + (g * 7919) % $7], ($3::text[])[1 + (g * 7919) % $7],
			       w, w + interval '2 hours', 'bench', w - interval '1 day', w
			FROM generate_series(1, $5::int) AS g,
			     LATERAL (SELECT $8::timestamptz - make_interval(days => g % $6) + make_interval(hours => g % 10) AS w) AS t`,
			tx.TenantID, customer, tids, tnodes, dispatchTickets, dispatchDays, dispatchTechnicians, dayStart); err != nil {
			return fmt.Errorf("tickets: %w", err)
		}
		return nil
	})
	require.NoError(b, err)
	// As autovacuum leaves a table in steady state: hint bits set, the
	// visibility map current, statistics fresh.
	for _, table := range []string{"nodes", "technicians", "tickets"} {
		_, err = db.Owner.Exec(ctx, `VACUUM (ANALYZE) `+table)
		require.NoError(b, err)
	}
	b.Logf("loaded 1 tenant × %d nodes, %d technicians, %d tickets in %s",
		len(nodes), dispatchTechnicians, dispatchTickets, time.Since(start).Round(time.Millisecond))
	return dn
}

// explainDispatch returns the plan of sql (as the application role, in the
// tenant's transaction) and fails if it scans nodes, technicians or tickets
// sequentially.
func explainDispatch(b *testing.B, db *pgtest.DB, tenantID, sql string, args ...any) string {
	b.Helper()
	ctx := context.Background()
	var plan string
	err := pg.InTenantTx(ctx, db.App, tenantID, func(tx pg.TenantTx) error {
		rows, err := tx.Query(ctx, "EXPLAIN (ANALYZE, BUFFERS) "+sql, args...)
		if err != nil {
			return err
		}
		lines, err := pgx.CollectRows(rows, pgx.RowTo[string])
		plan = strings.Join(lines, "\n")
		return err
	})
	require.NoError(b, err)
	require.NotContains(b, plan, "Seq Scan on nodes", "the query must use an index:\n%s", plan)
	require.NotContains(b, plan, "Seq Scan on technicians", "the query must use an index:\n%s", plan)
	require.NotContains(b, plan, "Seq Scan on tickets", "the query must use an index:\n%s", plan)
	return plan
}

// BenchmarkDispatchDecision measures dispatch.Decide, the ticket service's
// automatic dispatch, for a tenant with 1,000 nodes, 10,000 technicians and
// 100,000 tickets of history: one tenant transaction per decision (BEGIN,
// the three queries, COMMIT), serially, across random covered districts,
// categories and service kinds, half with an appointment window and half
// for the rest of today, one in five a hard fault. Target: p99 ≤ 10 ms. The
// two queries' plans are printed and checked for index use. Reported:
// p50-ms, p99-ms, nodes/op and technicians/op (candidates listed), and
// placed-% (decisions with a node and a technician). The empty_tenant_tx
// sub-benchmark (BEGIN with the tenant scope, SELECT 1, COMMIT) is the
// floor to read them against.
func BenchmarkDispatchDecision(b *testing.B) {
	dn := loadDispatchNetwork(b)
	ctx := context.Background()
	loc := dn.now.Location()
	dayStart := time.Date(dn.now.Year(), dn.now.Month(), dn.now.Day(), 0, 0, 0, 0, loc)

	var nodeIDs []string
	require.NoError(b, pg.InTenantTx(ctx, dn.db.App, dn.tenantID, func(tx pg.TenantTx) error {
		rows, err := tx.Query(ctx, `SELECT id FROM nodes WHERE tenant_id = $1 AND tier = 'repair_point' ORDER BY id LIMIT 3`, tx.TenantID)
		if err != nil {
			return err
		}
		nodeIDs, err = pgx.CollectRows(rows, pgx.RowTo[string])
		return err
	}))
	plan := explainDispatch(b, dn.db, dn.tenantID, dispatch.NodesSQL, dn.tenantID, network.RegionAncestors(dn.districts[0]),
		[]string{"repair_point", "specialist_depot", "service_center", "manufacturer"}, "washer", "repair", nil, []string{},
		dn.now, "", "")
	b.Logf("dispatch nodes query plan:\n%s", plan)
	plan = explainDispatch(b, dn.db, dn.tenantID, dispatch.TechniciansSQL, dn.tenantID, nodeIDs, "washer",
		dayStart.Format(time.DateOnly), dayStart, dayStart.AddDate(0, 0, 1), "", dayStart.Add(14*time.Hour), dayStart.Add(16*time.Hour))
	b.Logf("dispatch technicians query plan:\n%s", plan)

	// The floor: a tenant transaction with one trivial query, to read the
	// decision's figures against (the machine's load shows in both).
	b.Run("empty_tenant_tx", func(b *testing.B) {
		latencies(b, func(int) error {
			return pg.InTenantTx(ctx, dn.db.App, dn.tenantID, func(tx pg.TenantTx) error {
				var one int
				return tx.QueryRow(ctx, `SELECT 1`).Scan(&one)
			})
		})
	})
	// The two queries alone, each in its own tenant transaction.
	r := rand.New(rand.NewPCG(3, 3))
	b.Run("nodes_query", func(b *testing.B) {
		latencies(b, func(int) error {
			return pg.InTenantTx(ctx, dn.db.App, dn.tenantID, func(tx pg.TenantTx) error {
				rows, err := tx.Query(ctx, dispatch.NodesSQL, tx.TenantID,
					network.RegionAncestors(dn.districts[r.IntN(len(dn.districts))]),
					[]string{"repair_point", "specialist_depot", "service_center", "manufacturer"},
					network.Categories[r.IntN(len(network.Categories))], "repair", nil, []string{}, dn.now, "", "")
				if err != nil {
					return err
				}
				rows.Close()
				return rows.Err()
			})
		})
	})
	b.Run("technicians_query", func(b *testing.B) {
		latencies(b, func(int) error {
			return pg.InTenantTx(ctx, dn.db.App, dn.tenantID, func(tx pg.TenantTx) error {
				rows, err := tx.Query(ctx, dispatch.TechniciansSQL, tx.TenantID,
					[]string{dn.nodeIDs[r.IntN(len(dn.nodeIDs))], dn.nodeIDs[r.IntN(len(dn.nodeIDs))], dn.nodeIDs[r.IntN(len(dn.nodeIDs))]},
					network.Categories[r.IntN(len(network.Categories))], dayStart.Format(time.DateOnly), dayStart, dayStart.AddDate(0, 0, 1), "",
					dayStart.Add(14*time.Hour), dayStart.Add(16*time.Hour))
				if err != nil {
					return err
				}
				rows.Close()
				return rows.Err()
			})
		})
	})
	b.Run("decide", func(b *testing.B) {
		benchDecide(b, dn, dayStart)
	})

	// The same with the index proposed for node loads (not in the
	// migrations): a node's load that day becomes a range scan instead of a
	// walk over the node's whole ticket history.
	_, err := dn.db.Owner.Exec(ctx, NodeDayIndexSQL)
	require.NoError(b, err)
	_, err = dn.db.Owner.Exec(ctx, `VACUUM (ANALYZE) tickets`)
	require.NoError(b, err)
	b.Run("nodes_query_with_node_day_index", func(b *testing.B) {
		latencies(b, func(int) error {
			return pg.InTenantTx(ctx, dn.db.App, dn.tenantID, func(tx pg.TenantTx) error {
				rows, err := tx.Query(ctx, dispatch.NodesSQL, tx.TenantID,
					network.RegionAncestors(dn.districts[r.IntN(len(dn.districts))]),
					[]string{"repair_point", "specialist_depot", "service_center", "manufacturer"},
					network.Categories[r.IntN(len(network.Categories))], "repair", nil, []string{}, dn.now, "", "")
				if err != nil {
					return err
				}
				rows.Close()
				return rows.Err()
			})
		})
	})
	b.Run("decide_with_node_day_index", func(b *testing.B) {
		benchDecide(b, dn, dayStart)
	})
}

// NodeDayIndexSQL is the index proposed for dispatch's node loads.
// Its expression is ticket_workload.occupies_at's (migration 096).
const NodeDayIndexSQL = `CREATE INDEX tickets_node_day_idx ON tickets (tenant_id, node_id,
	(COALESCE(window_start, CASE WHEN preferred_end > updated_at THEN preferred_start END, updated_at)))
	WHERE node_id IS NOT NULL AND state <> 'cancelled'`

func benchDecide(b *testing.B, dn *dispatchNetwork, dayStart time.Time) {
	ctx := context.Background()
	r := rand.New(rand.NewPCG(12, 1))
	var nodes, techs, placed int
	latencies(b, func(int) error {
		req := dispatch.Request{
			RegionCode:    dn.districts[r.IntN(len(dn.districts))],
			Category:      network.Categories[r.IntN(len(network.Categories))],
			ServiceKind:   []string{"repair", "repair", "install", "maintenance"}[r.IntN(4)],
			RequiredLevel: 1 + r.IntN(3),
			HardFault:     r.IntN(5) == 0,
		}
		if r.IntN(2) == 0 {
			ws := dayStart.Add(time.Duration(9+r.IntN(8)) * time.Hour)
			we := ws.Add(2 * time.Hour)
			req.WindowStart, req.WindowEnd = &ws, &we
		}
		lat, lon := 30+r.Float64()*3, 110+r.Float64()*7
		req.Latitude, req.Longitude = &lat, &lon
		return pg.InTenantTx(ctx, dn.db.App, dn.tenantID, func(tx pg.TenantTx) error {
			d, err := dispatch.Decide(ctx, tx, dn.now, req)
			nodes += len(d.Nodes)
			techs += len(d.Technicians)
			if d.TechnicianID != "" {
				placed++
			}
			return err
		})
	})
	b.ReportMetric(float64(nodes)/float64(b.N), "nodes/op")
	b.ReportMetric(float64(techs)/float64(b.N), "technicians/op")
	b.ReportMetric(100*float64(placed)/float64(b.N), "placed-%")
}
