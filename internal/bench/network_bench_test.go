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
	"github.com/servicenet/servicenet/tenants/network"
)

// Network read benchmarks: 1,000 tenants × 300 nodes in one database.
const (
	benchTenants        = 1000
	benchNodesPerTenant = 300 // 1 root, 6 centers, 40 depots, 253 repair points
)

type benchNetwork struct {
	db        *pgtest.DB
	tenantIDs []string
	roots     map[string]string // tenant → root node id
	centers   map[string][]string
	covered   map[string][]string // tenant → districts its repair points cover
}

// loadNetworks fills a fresh database with benchTenants tenants, each with a
// 4-tier network of benchNodesPerTenant nodes covering real districts.
func loadNetworks(b *testing.B) *benchNetwork {
	b.Helper()
	ctx := context.Background()
	db := pgtest.NewDB(b)
	rows, err := db.App.Query(ctx, `SELECT code FROM regions WHERE level = 3 ORDER BY code`)
	require.NoError(b, err)
	districts, err := pgx.CollectRows(rows, pgx.RowTo[string])
	require.NoError(b, err)

	r := rand.New(rand.NewPCG(2026, 11))
	cats := network.Categories
	kinds := network.ServiceKinds
	bn := &benchNetwork{db: db, roots: map[string]string{}, centers: map[string][]string{}, covered: map[string][]string{}}
	start := time.Now()
	for t := range benchTenants {
		tid := fmt.Sprintf("ten_%026d", t)
		bn.tenantIDs = append(bn.tenantIDs, tid)
		var (
			ids, codes, tiers, parents, paths []string
			coverage, categories, services    [][]string
		)
		add := func(tier, parent, parentPath string, cov []string) (string, string) {
			id := tenants.NewID(tenants.PrefixNode)
			path := id
			if parentPath != "" {
				path = parentPath + "." + id
			}
			ids, codes, tiers, parents, paths = append(ids, id), append(codes, fmt.Sprintf("N%d", len(ids))), append(tiers, tier), append(parents, parent), append(paths, path)
			if cov == nil {
				cov = []string{}
			}
			coverage = append(coverage, cov)
			cs := []string{cats[r.IntN(len(cats))], cats[r.IntN(len(cats))]}
			slices.Sort(cs)
			categories = append(categories, slices.Compact(cs))
			services = append(services, []string{"repair", kinds[r.IntN(len(kinds))]})
			return id, path
		}
		// Each tenant's network sits in a few provinces' districts.
		base := r.IntN(len(districts) - 400)
		region := districts[base : base+400]
		root, rootPath := add("manufacturer", "", "", nil)
		bn.roots[tid] = root
		depot := 0
		for c := range 6 {
			center, centerPath := add("service_center", root, rootPath, []string{region[c*60][:2] + "0000"})
			bn.centers[tid] = append(bn.centers[tid], center)
			depotsHere := 6 // 4×6 + 2×8 = 40 depots
			if c >= 4 {
				depotsHere = 8
			}
			for range depotsHere {
				depotID, depotPath := add("specialist_depot", center, centerPath, []string{region[(c*60+depot*7)%400][:4] + "00"})
				// 253 repair points over 40 depots: the first 13 get 7, the rest 6.
				points := 6
				if depot < 13 {
					points = 7
				}
				depot++
				for range points {
					cov := []string{region[r.IntN(len(region))], region[r.IntN(len(region))]}
					slices.Sort(cov)
					cov = slices.Compact(cov)
					bn.covered[tid] = append(bn.covered[tid], cov...)
					add("repair_point", depotID, depotPath, cov)
				}
			}
		}
		require.Len(b, ids, benchNodesPerTenant)
		err := pg.InTenantTx(ctx, db.Owner, tid, func(tx pg.TenantTx) error {
			if _, err := tx.Exec(ctx, `INSERT INTO tenants (id, name, slug) VALUES ($1, $1, $2)`, tid, fmt.Sprintf("bench-%d", t)); err != nil {
				return err
			}
			cov, _ := json.Marshal(coverage)
			cat, _ := json.Marshal(categories)
			srv, _ := json.Marshal(services)
			_, err := tx.Exec(ctx, `
				INSERT INTO nodes (tenant_id, id, external_code, name, tier, parent_id, path, status, coverage, categories, service_kinds, daily_capacity)
				SELECT $1, u.id, u.code, u.code, u.tier, NULLIF(u.parent, ''), u.path::ltree, 'active',
				       ARRAY(SELECT jsonb_array_elements_text(c.v)), ARRAY(SELECT jsonb_array_elements_text(k.v)),
				       ARRAY(SELECT jsonb_array_elements_text(s.v)), 20
				FROM unnest($2::text[], $3::text[], $4::text[], $5::text[], $6::text[]) WITH ORDINALITY AS u(id, code, tier, parent, path, n)
				JOIN jsonb_array_elements($7::jsonb) WITH ORDINALITY AS c(v, n) ON c.n = u.n
				JOIN jsonb_array_elements($8::jsonb) WITH ORDINALITY AS k(v, n) ON k.n = u.n
				JOIN jsonb_array_elements($9::jsonb) WITH ORDINALITY AS s(v, n) ON s.n = u.n`,
				tid, ids, codes, tiers, parents, paths, cov, cat, srv)
			return err
		})
		require.NoError(b, err)
	}
	_, err = db.Owner.Exec(ctx, `ANALYZE nodes`)
	require.NoError(b, err)
	b.Logf("loaded %d tenants × %d nodes in %s", benchTenants, benchNodesPerTenant, time.Since(start).Round(time.Millisecond))
	return bn
}

// latencies runs op b.N times serially and reports p50 and p99 in ms.
func latencies(b *testing.B, op func(i int) error) {
	b.Helper()
	ds := make([]time.Duration, 0, b.N)
	b.ResetTimer()
	for i := range b.N {
		t0 := time.Now()
		if err := op(i); err != nil {
			b.Fatal(err)
		}
		ds = append(ds, time.Since(t0))
	}
	b.StopTimer()
	slices.Sort(ds)
	pct := func(p float64) float64 {
		return float64(ds[min(len(ds)-1, int(float64(len(ds))*p))].Microseconds()) / 1000
	}
	b.ReportMetric(pct(0.50), "p50-ms")
	b.ReportMetric(pct(0.99), "p99-ms")
}

// explain returns the plan of sql (as the application role, in the tenant's
// transaction) and fails if any node of it scans nodes sequentially.
func explain(b *testing.B, db *pgtest.DB, tenantID, sql string, args ...any) string {
	b.Helper()
	ctx := context.Background()
	var plan string
	err := pg.InTenantTx(ctx, db.App, tenantID, func(tx pg.TenantTx) error {
		rows, err := tx.Query(ctx, "EXPLAIN "+sql, args...)
		if err != nil {
			return err
		}
		lines, err := pgx.CollectRows(rows, pgx.RowTo[string])
		plan = strings.Join(lines, "\n")
		return err
	})
	require.NoError(b, err)
	require.NotContains(b, plan, "Seq Scan on nodes", "the query must use an index:\n%s", plan)
	return plan
}

// BenchmarkNetworkQueries measures the candidate query (dispatch's "which
// nodes cover district D for category C and service kind K") and a subtree
// page, with 1,000 tenants × 300 nodes in the database, through the network
// service (tenant transaction, RLS, scope resolution included). Targets: p99
// ≤ 5 ms each. The plans are printed and checked for index use.
func BenchmarkNetworkQueries(b *testing.B) {
	bn := loadNetworks(b)
	svc := &network.Service{DB: bn.db.App}
	ctx := context.Background()
	r := rand.New(rand.NewPCG(7, 7))
	principal := func(tid string) tenants.Principal { return tenants.Principal{TenantID: tid, KeyID: "key_bench"} }

	t0 := bn.tenantIDs[0]
	d0 := bn.covered[t0][0]
	plan := explain(b, bn.db, t0, network.CandidatesSQL, t0, network.RegionAncestors(d0), "washer", "repair", nil, "", 50)
	b.Logf("candidate query plan:\n%s", plan)
	var rootPath string
	require.NoError(b, pg.InTenantTx(ctx, bn.db.App, t0, func(tx pg.TenantTx) error {
		return tx.QueryRow(ctx, `SELECT path::text FROM nodes WHERE tenant_id = $1 AND id = $2`, t0, bn.centers[t0][0]).Scan(&rootPath)
	}))
	plan = explain(b, bn.db, t0, network.SubtreeSQL, t0, rootPath, "", 0, 51)
	b.Logf("subtree page plan:\n%s", plan)

	b.Run("candidates", func(b *testing.B) {
		found := 0
		latencies(b, func(int) error {
			tid := bn.tenantIDs[r.IntN(len(bn.tenantIDs))]
			cov := bn.covered[tid]
			cs, err := svc.Candidates(ctx, principal(tid), network.CandidateQuery{
				RegionCode: cov[r.IntN(len(cov))], Category: network.Categories[r.IntN(len(network.Categories))],
				ServiceKind: "repair", Limit: 50})
			found += len(cs)
			return err
		})
		b.ReportMetric(float64(found)/float64(b.N), "candidates/op")
	})
	b.Run("subtree_page", func(b *testing.B) {
		latencies(b, func(int) error {
			tid := bn.tenantIDs[r.IntN(len(bn.tenantIDs))]
			top := bn.roots[tid]
			if r.IntN(2) == 0 {
				top = bn.centers[tid][r.IntN(len(bn.centers[tid]))]
			}
			page, _, err := svc.Subtree(ctx, principal(tid), top, 0, 50, "")
			if err == nil && len(page) == 0 {
				err = fmt.Errorf("empty subtree page for %s", top)
			}
			return err
		})
	})
}
