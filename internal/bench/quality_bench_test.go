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

var qualityExplain = flag.Bool("quality.explain", false, "log the plan of a region's monthly ranking query (with -v)")

var (
	qualityMonths = flag.Int("quality.months", 12, "months of quality rollups to seed (about 850,000 tickets a month)")
	qualityDetail = flag.Int("quality.detail", 7, "days (the latest of the latest month) whose daily per-technician rollups are seeded too (about 200,000 rows a day)")
)

// qualityBuckets generates a tenant's technician-days: 10,000 technicians
// (ten per node, node 0 the demo network's repair point), each working four
// days in five, in one product category a day, with 1 to 6 tickets (3.5 on
// average: about 10.2 million tickets a year). Every figure of a day comes
// from a hash of the technician and the day (qualityMetrics), so the daily
// and the monthly rollups generated from it agree. $1 is the tenant, $2 and
// $3 the first and last day, $4 the repair point's node ID.
const qualityBuckets = `
	WITH days AS (SELECT d::date AS day FROM generate_series($2::date, $3::date, '1 day') d),
	b AS (
		SELECT day, t, h, 1 + h % 6 AS k,
		       CASE WHEN t / 10 = 0 THEN $4 ELSE 'nod_qb' || lpad((t / 10)::text, 22, '0') END AS node,
		       'tec_qb' || lpad(t::text, 22, '0') AS tech,
		       (ARRAY['washer', 'refrigerator', 'air_conditioner'])[1 + (h / 7) % 3] AS category,
		       (11 + (t / 10) % 30)::text || lpad(((t / 10) % 97)::text, 4, '0') AS region
		FROM days, generate_series(0, 9999) t,
		     LATERAL (SELECT abs(hashint8(t::bigint * 100003 + (day - DATE '2000-01-01'))) AS h) x
		WHERE h % 5 <> 0)`

// qualityMetrics are the counters of a technician-day of k tickets, as SQL
// over the day's hash h (metrics that come out 0 are not stored).
var qualityMetrics = [][2]string{
	{"tickets", "k"}, {"cancelled", "(h / 11) % 2"}, {"first_contact.count", "k"}, {"first_contact.seconds", "k * (1800 + h % 3600)"},
	{"arrival.count", "k"}, {"arrival.seconds", "k * (86400 + h % 43200)"},
	{"visits.timed", "k + (h / 17) % 2"}, {"visits.early", "k - (h / 13) % 2"}, {"visits.on_time", "(h / 13) % 2"}, {"visits.late", "(h / 17) % 2"},
	{"ftf.eligible", "k"}, {"ftf.fixed", "k - (h / 19) % 2"}, {"repeat.eligible", "k"}, {"repeat.30", "(h / 23) % 2 * ((h / 29) % 2)"},
	{"repeat.90", "(h / 23) % 2"}, {"rating.count", "k"}, {"rating.sum", "4 * k + (h / 37) % 2"},
	{"callback.satisfied", "k - (h / 41) % 2"}, {"callback.unsatisfied", "(h / 41) % 2"}, {"callback.due", "k"}, {"callback.on_time", "k - (h / 43) % 2"},
	{"complaint.total", "CASE WHEN (h / 47) % 10 = 0 THEN 1 ELSE 0 END"}, {"complaint.late.low", "CASE WHEN (h / 47) % 10 = 0 THEN 1 ELSE 0 END"},
	{"signoff.count", "k"}, {"signoff.code", "k - (h / 53) % 2"}, {"cost.tickets", "k"}, {"cost.customer", "k * 12000"}, {"cost.brand", "k * 5000"},
	{"parts.used", "(h / 59) % 3"}, {"parts.tickets", "least(k, (h / 59) % 3)"}, {"breach.arrival", "CASE WHEN (h / 61) % 5 = 0 THEN 1 ELSE 0 END"},
}

// qualityDailySQL inserts a day's rollups per technician: one row per
// technician-day and metric.
func qualityDailySQL() string {
	var vals []string
	for _, m := range qualityMetrics {
		vals = append(vals, "('"+m[0]+"', ("+m[1]+")::bigint)")
	}
	return qualityBuckets + `
		INSERT INTO quality_daily (tenant_id, day, node_id, technician_id, category, region_code, metric, n)
		SELECT $1, day, node, tech, category, region, v.metric, v.n
		FROM b, LATERAL (VALUES ` + strings.Join(vals, ", ") + `) AS v(metric, n) WHERE v.n <> 0`
}

// qualityMonthlySQL inserts a month's rollups per node: the technician-days
// summed per node, category and region first, then one row per metric.
func qualityMonthlySQL() string {
	var sums, vals []string
	for i, m := range qualityMetrics {
		sums = append(sums, fmt.Sprintf("sum((%s)::bigint) AS m%d", m[1], i))
		vals = append(vals, fmt.Sprintf("('%s', m%d)", m[0], i))
	}
	return qualityBuckets + `,
		g AS (SELECT node, category, region, ` + strings.Join(sums, ", ") + ` FROM b GROUP BY node, category, region)
		INSERT INTO quality_monthly (tenant_id, month, node_id, category, region_code, metric, n)
		SELECT $1, $2::date, node, category, region, v.metric, v.n
		FROM g, LATERAL (VALUES ` + strings.Join(vals, ", ") + `) AS v(metric, n) WHERE v.n <> 0`
}

// BenchmarkQuality seeds one tenant with quality.months months (default a
// year: about 10 million tickets) of quality rollups, generated in SQL one
// month per transaction: the monthly rollups of every month and, for the
// latest quality.detail days, the daily rollups per technician too (the
// reads measured use the monthly ones; the fold writes both; a whole month
// of daily rows, about 6 million, took over 9 minutes on the loaded 2-core
// machine). It reports:
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
	const nodes, techs = 1000, 10000
	loc, _ := time.LoadLocation("Asia/Shanghai")
	now := time.Now().In(loc)
	thisMonth := time.Date(now.Year(), now.Month(), 1, 0, 0, 0, 0, time.UTC)
	start := time.Now()
	var tickets, daily, monthly int64
	for i := range *qualityMonths { // the months before this one, the latest first
		from := thisMonth.AddDate(0, -1-i, 0)
		to := from.AddDate(0, 1, -1)
		t0 := time.Now()
		err := pg.InTenantTx(ctx, env.DB.Owner, ten.ID, func(tx pg.TenantTx) error {
			tag, err := tx.Exec(ctx, qualityMonthlySQL(), ten.ID, from, to, net.Point)
			if err != nil {
				return err
			}
			monthly += tag.RowsAffected()
			if i == 0 && *qualityDetail > 0 {
				tag, err = tx.Exec(ctx, qualityDailySQL(), ten.ID, maxTime(from, to.AddDate(0, 0, 1-*qualityDetail)), to, net.Point)
				if err != nil {
					return err
				}
				daily += tag.RowsAffected()
			}
			var n int64
			err = tx.QueryRow(ctx, `SELECT coalesce(sum(n), 0)::bigint FROM quality_monthly WHERE tenant_id = $1 AND month = $2 AND metric = 'tickets'`,
				ten.ID, from).Scan(&n)
			tickets += n
			return err
		})
		require.NoError(b, err)
		b.Logf("seeded %s: %s", from.Format("2006-01"), time.Since(t0).Round(time.Millisecond))
	}
	_, err := env.DB.Owner.Exec(ctx, `ANALYZE quality_daily; ANALYZE quality_monthly`)
	require.NoError(b, err)
	b.Logf("seeded %d tickets' worth over %d months (%d monthly rollup rows; %d daily rollup rows for the latest %d days; %d nodes, %d technicians) in %s",
		tickets, *qualityMonths, monthly, daily, *qualityDetail, nodes, techs, time.Since(start).Round(time.Second))

	p := tenants.Principal{TenantID: ten.ID, KeyID: ten.AdminID, Roles: []string{tenants.RoleTenantAdmin}, Live: true}
	month := thisMonth.AddDate(0, -1, 0).Format(time.DateOnly)
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
					         'category', 'late', 'severity', 'low', 'level', 0, 'to_state', 'open')
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

func maxTime(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}
