package bench

import (
	"context"
	"flag"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"

	"github.com/servicenet/servicenet/internal/apitest"
	"github.com/servicenet/servicenet/internal/pg"
	"github.com/servicenet/servicenet/tenants"
	"github.com/servicenet/servicenet/tenants/quality"
)

// qualityTickets is how many tickets' worth of rollups BenchmarkQuality
// seeds (a year of them). The default is the 10 million; pass
// -quality.tickets=200000 for a quicker run on a small machine.
var qualityExplain = flag.Bool("quality.explain", false, "log the plan of a region's monthly ranking query (with -v)")

var qualityTickets = flag.Int("quality.tickets", 10_000_000, "tickets' worth of quality rollups to seed")

// BenchmarkQuality seeds one tenant with a year of quality rollups for
// quality.tickets tickets across 1,000 nodes and 10,000 technicians (3
// categories, 30 provinces; each ticket a dozen metric counters), in
// batches of one day, then reports:
//   - NodeMonth: a node's monthly scorecard, p50-ms / p99-ms (target p99 ≤ 50 ms);
//   - RegionRanking: a province's nodes ranked by first-time fix for a month;
//   - Fold10k: the time to fold 10,000 new feed events (complaints) into the rollups.
func BenchmarkQuality(b *testing.B) {
	// API only: the periodic quality_fold job would otherwise fold part of
	// Fold10k's events under it (and take CPU from the reads measured).
	env := newEnvWith(b, apitest.Options{APIOnly: true})
	ctx := context.Background()
	ten := env.CreateTenant(b, "quality-bench")
	net := env.CreateNetwork(b, ten.AdminKey, "qb")
	const nodes, techs, days = 1000, 10000, 365
	perDay := *qualityTickets / days
	metrics := []string{"tickets", "first_contact.count", "first_contact.seconds", "arrival.count", "arrival.seconds",
		"visits.timed", "visits.early", "ftf.eligible", "ftf.fixed", "rating.count", "rating.sum", "callback.satisfied",
		"callback.due", "callback.on_time", "signoff.count", "signoff.code", "cost.tickets", "cost.customer"}
	loc, _ := time.LoadLocation("Asia/Shanghai")
	now := time.Now().In(loc)
	first := time.Date(now.Year(), now.Month(), now.Day(), 0, 0, 0, 0, time.UTC).AddDate(0, 0, -days)
	node := `CASE WHEN (t / 10) = 0 THEN $5 ELSE 'nod_qb' || lpad((t / 10)::text, 22, '0') END`
	region := `(11 + (t / 10) % 30)::text || lpad(((t / 10) % 97)::text, 4, '0')`
	start := time.Now()
	for d := range days {
		// One ticket a bucket: a technician (spread by a hash), a category.
		err := pg.InTenantTx(ctx, env.DB.Owner, ten.ID, func(tx pg.TenantTx) error {
			_, err := tx.Exec(ctx, `INSERT INTO quality_daily (tenant_id, day, node_id, technician_id, category, region_code, metric, n)
				SELECT $1, $2::date, `+node+`, 'tec_qb' || lpad(t::text, 22, '0'), (ARRAY['washer','fridge','ac'])[1 + g % 3], `+region+`,
				       m, CASE WHEN m LIKE '%seconds' THEN 3600 ELSE 1 END
				FROM generate_series(1, $3::int) g, LATERAL (SELECT ((g::bigint * 7919 + $4::bigint * 104729) % `+fmt.Sprint(techs)+`)::int AS t) x,
				     unnest($6::text[]) m
				ON CONFLICT (tenant_id, livemode, day, node_id, technician_id, category, region_code, metric) DO UPDATE SET n = quality_daily.n + EXCLUDED.n`,
				ten.ID, first.AddDate(0, 0, d), perDay, d, net.Point, metrics)
			return err
		})
		require.NoError(b, err)
	}
	require.NoError(b, pg.InTenantTx(ctx, env.DB.Owner, ten.ID, func(tx pg.TenantTx) error {
		_, err := tx.Exec(ctx, `INSERT INTO quality_monthly (tenant_id, month, node_id, category, region_code, metric, n)
			SELECT tenant_id, date_trunc('month', day)::date, node_id, category, region_code, metric, sum(n)
			FROM quality_daily WHERE tenant_id = $1 GROUP BY 1, 2, 3, 4, 5, 6`, ten.ID)
		return err
	}))
	_, err := env.DB.Owner.Exec(ctx, `ANALYZE quality_daily; ANALYZE quality_monthly`)
	require.NoError(b, err)
	var rows int64
	require.NoError(b, pg.InTenantTx(ctx, env.DB.Owner, ten.ID, func(tx pg.TenantTx) error {
		return tx.QueryRow(ctx, `SELECT count(*) FROM quality_daily WHERE tenant_id = $1`, ten.ID).Scan(&rows)
	}))
	b.Logf("seeded %d tickets' worth (%d daily rollup rows, %d nodes, %d technicians) in %s", perDay*days, rows, nodes, techs, time.Since(start).Round(time.Second))

	p := tenants.Principal{TenantID: ten.ID, KeyID: ten.AdminID, Roles: []string{tenants.RoleTenantAdmin}, Live: true}
	month := time.Date(now.Year(), now.Month(), 1, 0, 0, 0, 0, time.UTC).AddDate(0, -1, 0).Format(time.DateOnly)
	if *qualityExplain {
		for _, sql := range []string{
			`SELECT node_id, metric, sum(n)::bigint FROM quality_monthly WHERE tenant_id = $1 AND month = $2 AND region_code ~>=~ $3 AND region_code ~<~ $4 AND metric = ANY($5) AND node_id <> '' GROUP BY node_id, metric`,
		} {
			require.NoError(b, pg.InTenantTx(ctx, env.DB.App, ten.ID, func(tx pg.TenantTx) error {
				rows, err := tx.Query(ctx, "EXPLAIN (ANALYZE, BUFFERS) "+sql, ten.ID, month, "11", "12", []string{"tickets", "cancelled", "ftf.eligible", "ftf.fixed"})
				if err != nil {
					return err
				}
				lines, err := pgx.CollectRows(rows, pgx.RowTo[string])
				b.Logf("%s\n%s", sql, strings.Join(lines, "\n"))
				return err
			}))
		}
	}
	q := env.App.Quality
	b.Run("NodeMonth", func(b *testing.B) {
		latencies(b, func(int) error {
			sc, err := q.Scorecard(ctx, p, quality.ScorecardQuery{PeriodQuery: quality.PeriodQuery{Period: "month", Date: month}, Scope: quality.ScopeNode, ID: net.Point})
			if err == nil && sc.Tickets == 0 {
				err = fmt.Errorf("empty scorecard")
			}
			return err
		})
	})
	b.Run("RegionRanking", func(b *testing.B) {
		latencies(b, func(i int) error {
			r, err := q.Ranking(ctx, p, quality.RankingQuery{PeriodQuery: quality.PeriodQuery{Period: "month", Date: month},
				Region: fmt.Sprint(11 + i%30), KPI: "first_time_fix_rate"})
			if err == nil && len(r.Entries) == 0 {
				err = fmt.Errorf("empty ranking")
			}
			return err
		})
	})
	round := 0 // across the runs b.Run makes: event ids stay unique
	b.Run("Fold10k", func(b *testing.B) {
		for range min(b.N, 3) { // each round is 10,000 events: a few rounds are enough
			round++
			i := round
			require.NoError(b, pg.InTenantTx(ctx, env.DB.App, ten.ID, func(tx pg.TenantTx) error {
				_, err := tx.Exec(ctx, `INSERT INTO events (tenant_id, id, type, subject_id, actor, data)
					SELECT $1, 'evt_' || lpad(($2 * 10000 + g)::text, 26, '0'), 'complaint.filed', 'cmp_qb' || lpad(($2 * 10000 + g)::text, 20, '0'), 'bench',
					       jsonb_build_object('complaint_id', 'cmp_qb' || lpad(($2 * 10000 + g)::text, 20, '0'),
					         'node_id', 'nod_qb' || lpad((g % 1000)::text, 22, '0'), 'technician_id', 'tec_qb' || lpad((g % 10000)::text, 22, '0'),
					         'category', 'late', 'severity', 'low')
					FROM generate_series(1, 10000) g`, ten.ID, i)
				return err
			}))
			t0 := time.Now()
			r, err := q.Fold(ctx, ten.ID, 0)
			require.NoError(b, err)
			require.GreaterOrEqual(b, r.Events, 10000)
			b.ReportMetric(float64(time.Since(t0).Milliseconds()), "fold-10k-ms")
		}
	})
}
