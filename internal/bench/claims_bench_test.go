package bench

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/require"

	"github.com/servicenet/servicenet/internal/apitest"
	"github.com/servicenet/servicenet/internal/pg"
	"github.com/servicenet/servicenet/jobs"
)

// claimFixture is a tenant with a washer model, a part that fits it, an
// extended warranty and units whose warranty has run into the extended one.
type claimFixture struct {
	tenant apitest.Tenant
	part   string
	units  []string
}

func benchToday(days int) string {
	loc, _ := time.LoadLocation("Asia/Shanghai")
	n := time.Now().In(loc)
	return time.Date(n.Year(), n.Month(), n.Day(), 0, 0, 0, 0, time.UTC).AddDate(0, 0, days).Format(time.DateOnly)
}

func benchCreate(b testing.TB, env *apitest.Env, key, path string, body any) string {
	b.Helper()
	r := env.Do(b, http.MethodPost, path, key, body)
	require.Equal(b, http.StatusCreated, r.Status, "%s: %s", path, r.Body)
	return r.JSON(b)["id"].(string)
}

func newClaimFixture(b testing.TB, env *apitest.Env, slug string, units int) claimFixture {
	b.Helper()
	cny := func(fen int64) map[string]any { return map[string]any{"amount": fen, "currency": "CNY"} }
	f := claimFixture{tenant: env.CreateTenant(b, slug)}
	key := f.tenant.AdminKey
	model := benchCreate(b, env, key, "/v1/catalog/models", map[string]any{"model_number": "XQG100", "category": "washer",
		"name": "滚筒洗衣机", "retail_price": cny(299900), "warranty_months": 12})
	f.part = benchCreate(b, env, key, "/v1/catalog/parts", map[string]any{"part_number": "XQG-CB-01", "name": "主控板",
		"category": "control_board", "price": cny(30000), "compatible_model_ids": []string{model}})
	plan := benchCreate(b, env, key, "/v1/coverage-plans", map[string]any{"code": "EXT-2Y", "name": "两年延保",
		"kind": "extended_warranty", "eligible_categories": []string{"washer"}, "duration_months": 24, "price": cny(19900)})
	for i := range units {
		u := benchCreate(b, env, key, "/v1/units", map[string]any{"model_id": model, "serial": fmt.Sprintf("WSH%06d", i),
			"customer":      map[string]any{"name": "客户", "phones": []string{fmt.Sprintf("+86 139 %04d %04d", i/10000, i%10000)}},
			"purchase_date": benchToday(-400), "purchase_price": cny(299900), "channel": "brand_store"})
		benchCreate(b, env, key, "/v1/contracts", map[string]any{"unit_id": u, "plan_id": plan, "sold_on": benchToday(-390)})
		f.units = append(f.units, u)
	}
	return f
}

func (f claimFixture) body(seq uint64) []byte {
	cny := func(fen int64) map[string]any { return map[string]any{"amount": fen, "currency": "CNY"} }
	b, _ := json.Marshal(map[string]any{"kind": "extended_warranty", "unit_id": f.units[int(seq)%len(f.units)],
		"reference": "B-" + runID + "-" + strconv.FormatUint(seq, 10), "occurred_on": benchToday(0),
		"fault": map[string]any{"cause": "power_surge", "part_categories": []string{"control_board"}},
		"lines": []map[string]any{{"kind": "labor", "requested": cny(10000)},
			{"kind": "part", "part_id": f.part, "quantity": 1, "requested": cny(30000)}},
		"total": cny(40000)})
	return b
}

func (f claimFixture) submit(client *http.Client, url string, seq uint64) error {
	req, err := http.NewRequest(http.MethodPost, url, bytes.NewReader(f.body(seq)))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+f.tenant.AdminKey)
	req.Header.Set("Idempotency-Key", "bench-clm-"+runID+"-"+strconv.FormatUint(seq, 10))
	return expect(client, req, http.StatusCreated)
}

// BenchmarkClaims measures claim submission (POST /v1/claims: validation
// against the unit, parts and contracts, the claim, its version, state
// change and event; the claim awaits adjudication, no job is written) as a
// ratio to raw single-row pgx inserts in the same run, and adjudication
// throughput: claims submitted and adjudicated per second with the River
// workers (the adjudication sweep) running (the clock stops when no claim
// is left in submitted). Claims cycle over 64
// units, so most are flagged as duplicates: the whole adjudication still
// runs for each. adjudicate_backlog adjudicates, alone, claims submitted
// while the claims queue was paused: the drain rate and the CPU per
// adjudication (this process and the database backends), the sweep's
// listing included; and the rate of those submissions, with no
// adjudication sharing the machine: the API tier's own.
func BenchmarkClaims(b *testing.B) {
	ctx := context.Background()
	env := newEnv(b)
	f := newClaimFixture(b, env, "bench-claims-"+runID, 64)

	_, err := env.DB.Owner.Exec(ctx, benchTable)
	require.NoError(b, err)
	raw, err := pg.Connect(ctx, env.DB.AppURL, pg.PoolOptions{Name: "bench-raw", MaxConns: clients})
	require.NoError(b, err)
	b.Cleanup(raw.Close)
	warmPool(b, raw)
	client := newClient(b)
	warmHTTP(b, client, env.Server.URL+"/v1/me", f.tenant.AdminKey)
	url := env.Server.URL + "/v1/claims"

	pending := func() int {
		var n int
		require.NoError(b, pg.InTenantTx(ctx, env.DB.Owner, f.tenant.ID, func(tx pg.TenantTx) error {
			return tx.QueryRow(ctx, `SELECT count(*) FROM claims WHERE tenant_id = $1 AND state = 'submitted'`, tx.TenantID).Scan(&n)
		}))
		return n
	}
	drain := func() {
		for pending() > 0 {
			time.Sleep(20 * time.Millisecond)
		}
	}

	// The submission and adjudication paths warmed (a batch submitted
	// and adjudicated), then the statistics of a database in service.
	runBatch(b, 8*clients, func(int, int) error { return f.submit(client, url, seqs.Add(1)) })
	drain()
	analyze(b, env)

	var rawRate, submitRate, aloneRate float64
	b.Run("raw_pgx_insert", func(b *testing.B) {
		const hash = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"
		roles := []string{"dispatcher"}
		rate := runClients(b, func(_ int, seq uint64) error {
			tx, err := raw.Begin(ctx)
			if err != nil {
				return err
			}
			defer tx.Rollback(ctx) //nolint:errcheck // no-op after Commit
			id := "clm_" + runID + strconv.FormatUint(seq, 10)
			if _, err := tx.Exec(ctx, `INSERT INTO bench_writes (tenant_id, id, name, prefix, secret_hash, live, roles, created_by)
				VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
				f.tenant.ID, id, "bench claim", "sn_live_Ab3dE9", hash, true, roles, f.tenant.AdminID); err != nil {
				return err
			}
			return tx.Commit(ctx)
		})
		b.ReportMetric(rate, "tx/s")
		rawRate = rate
	})

	b.Run("submit_claim", func(b *testing.B) {
		drain()
		rate := runClients(b, func(_ int, seq uint64) error { return f.submit(client, url, seq) })
		b.ReportMetric(rate, "claims/s")
		submitRate = rate
	})

	b.Run("adjudication", func(b *testing.B) {
		drain()
		start := time.Now()
		runClients(b, func(_ int, seq uint64) error { return f.submit(client, url, seq) })
		drain()
		rate := float64(b.N) / time.Since(start).Seconds()
		b.ReportMetric(rate, "claims/s")
		fmt.Printf("claims: adjudicated=%.0f claims/s (submitted and adjudicated, workers running, %d clients)\n", rate, clients)
	})

	// A backlog of claims submitted while the claims queue is paused,
	// then adjudicated alone: the drain rate, and the CPU per adjudication
	// (this process: the sweep's listing and the adjudications; and the
	// database backends), which, unlike the rate, a busy machine moves
	// little.
	b.Run("adjudicate_backlog", func(b *testing.B) {
		n := 640 * b.N // b.N rounds of 640: the figures are per adjudication
		drain()
		require.NoError(b, env.River.QueuePause(ctx, jobs.QueueClaims, nil))
		// The sweep sees the pause at its next pass (a pass under way ends
		// its page).
		time.Sleep(jobs.ClaimAdjudicationInterval + 500*time.Millisecond)
		start := seqs.Add(uint64(n)) - uint64(n)
		submitted := time.Now()
		runBatch(b, n, func(_, i int) error { return f.submit(client, url, start+uint64(i)) })
		// The API tier's own rate: no adjudication shares the machine
		// (as with workers in processes of their own, serve -mode worker).
		alone := float64(n) / time.Since(submitted).Seconds()
		b.ReportMetric(alone, "submitted-alone/s")
		aloneRate = alone
		if rawRate > 0 {
			fmt.Printf("claims: submitted while the claims queue was paused: %.0f claims/s = %.3f of raw (%d clients)\n", alone, alone/rawRate, clients)
		}
		su := pgssPool(b) // with it, the statements of the drain (the sweep's included) per adjudication
		if su != nil {
			require.NoError(b, pgssReset(ctx, su))
		}
		backlog := pending()
		require.NoError(b, env.River.QueueResume(ctx, jobs.QueueClaims, nil))
		// The clock and the CPU meter start at the first adjudication: the
		// sweep sees the resume at its next pass, up to
		// ClaimAdjudicationInterval later.
		for backlog > 0 && pending() == backlog {
			time.Sleep(10 * time.Millisecond)
		}
		cpu0, ok0, err := cpuNow(ctx, env.DB.Owner)
		require.NoError(b, err)
		t0 := time.Now()
		n = pending() // the backlog the clock sees drained
		drain()
		rate := float64(n) / time.Since(t0).Seconds()
		cpu1, ok1, err := cpuNow(ctx, env.DB.Owner)
		require.NoError(b, err)
		if su != nil {
			var db string
			require.NoError(b, env.DB.Owner.QueryRow(ctx, `SELECT current_database()`).Scan(&db))
			s, err := pgssRows(ctx, su, db)
			require.NoError(b, err)
			printStatements("claims: backlog (the adjudication sweep)", n, s)
		}
		b.ReportMetric(rate, "claims/s")
		if ok0 && ok1 {
			ms, self := 1000*cpu1.since(cpu0)/float64(n), 1000*(cpu1.self-cpu0.self)/float64(n)
			b.ReportMetric(ms, "cpu-ms/adjudication")
			fmt.Printf("claims: backlog of %d adjudicated at %.0f claims/s, CPU per adjudication = %.3f ms (this process %.3f, database backends %.3f)\n",
				n, rate, ms, self, ms-self)
		}
	})

	if rawRate == 0 || submitRate == 0 {
		return
	}
	ratio := submitRate / rawRate
	b.Run("ratio", func(b *testing.B) {
		b.ReportMetric(0, "ns/op")
		b.ReportMetric(ratio, "submit/raw")
		if aloneRate > 0 {
			b.ReportMetric(aloneRate/rawRate, "submit-alone/raw")
		}
	})
	// The API tier's rate is the submission's alone (goal ≥ 10 % of raw):
	// workers in processes of their own (serve -mode worker) leave it
	// that; on one machine the adjudications take their share of it.
	fmt.Printf("claims: raw_pgx=%.0f tx/s; submitted alone %.0f claims/s ratio=%.3f (goal ≥ 0.10); with the adjudication sweep "+
		"on the same machine %.0f claims/s ratio=%.3f (%d clients)\n", rawRate, aloneRate, aloneRate/rawRate, submitRate, ratio, clients)
}

// stmtRow is one statement's pg_stat_statements figures since the last
// reset.
type stmtRow struct {
	top     bool
	calls   int64
	totalMs float64
	planMs  float64 // 0 unless pg_stat_statements.track_planning is on
	rows    int64
	query   string
}

// pgssRows reads the statements run in the benchmark's database since the
// last reset, most called first.
func pgssRows(ctx context.Context, su *pgxpool.Pool, db string) ([]stmtRow, error) {
	rows, err := su.Query(ctx, `SELECT s.toplevel, s.calls, s.total_exec_time, s.total_plan_time, s.rows, regexp_replace(s.query, '\s+', ' ', 'g')
		FROM pg_stat_statements s JOIN pg_database d ON d.oid = s.dbid
		WHERE d.datname = $1 AND s.query NOT LIKE '%pg_stat_statements%'
		ORDER BY s.toplevel DESC, s.calls DESC, s.total_exec_time DESC`, db)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (stmtRow, error) {
		var s stmtRow
		err := r.Scan(&s.top, &s.calls, &s.totalMs, &s.planMs, &s.rows, &s.query)
		return s, err
	})
}

// printStatements prints, per operation (n of them), the top-level
// statements (those a client sent: BEGIN and COMMIT included) and the
// nested ones (run by triggers and functions), with their server time.
func printStatements(what string, n int, stmts []stmtRow) {
	slices.SortFunc(stmts, func(a, b stmtRow) int { return cmp.Compare(b.totalMs, a.totalMs) })
	var top, nested int64
	var topMs, nestedMs, planMs float64
	for _, s := range stmts {
		planMs += s.planMs
		if s.top {
			top += s.calls
			topMs += s.totalMs
		} else {
			nested += s.calls
			nestedMs += s.totalMs
		}
	}
	fmt.Printf("%s: per operation (%d): top-level statements=%.2f (%.3f ms server time), nested=%.2f (%.3f ms, inside the top-level time), planning %.3f ms (0 unless track_planning)\n",
		what, n, float64(top)/float64(n), topMs/float64(n), float64(nested)/float64(n), nestedMs/float64(n), planMs/float64(n))
	for _, s := range stmts {
		if float64(s.calls)/float64(n) < 0.05 {
			continue
		}
		kind := "top"
		if !s.top {
			kind = "nested"
		}
		q := s.query
		if len(q) > 110 {
			q = q[:110] + "…"
		}
		fmt.Printf("%s:   %-6s %5.2f/op %7.3f ms/op %7.3f ms/call (plan %.3f)  %s\n", what, kind, float64(s.calls)/float64(n),
			s.totalMs/float64(n), s.totalMs/float64(s.calls), s.planMs/float64(s.calls), q)
	}
}

// BenchmarkClaimsStatements (run it once: -benchtime=1x) counts what a claim submission and an
// adjudication cost the database: statements per operation, top-level
// (sent by the server process: a batch's statements count one each) and
// nested (triggers, functions), and the server's execution time of each,
// from pg_stat_statements. Counts do not depend on the machine's load; run
// it on a private cluster with pg_stat_statements loaded
// (shared_preload_libraries, track = all) and
// SERVICENET_BENCH_PGSS_URL naming a superuser connection to it;
// without that it is skipped. River only queues jobs here (APIOnly):
// n claims are submitted over HTTP one at a time, with an
// Idempotency-Key, then adjudicated by calling the job's service method
// (Adjudicate) directly, so River's own fetch and completion statements are
// left out. Claims cycle over units, so the first adjudication pass
// approves (one claim per unit) and the second flags duplicates. It also
// reports the CPU time per submission (this process and the database's
// backends) over a concurrent run, a figure that, unlike the rate, a busy
// machine moves little.
func BenchmarkClaimsStatements(b *testing.B) {
	su := pgssPool(b)
	if su == nil {
		b.Skip("SERVICENET_BENCH_PGSS_URL is not set")
	}
	const units, n = 32, 64 // n = 2 × units: one approval and one duplicate per unit
	ctx := context.Background()
	env := newEnvWith(b, apitest.Options{APIOnly: true})
	f := newClaimFixture(b, env, "bench-claims-stmts-"+runID, units)
	var db string
	require.NoError(b, env.DB.Owner.QueryRow(ctx, `SELECT current_database()`).Scan(&db))
	client := newClient(b)
	warmHTTP(b, client, env.Server.URL+"/v1/me", f.tenant.AdminKey)
	url := env.Server.URL + "/v1/claims"
	// A fixture tenant of its own for the measured claims: every unit
	// claimed twice, in order.
	f2 := newClaimFixture(b, env, "bench-claims-stmts2-"+runID, units)
	base := seqs.Add(uint64(2*n)) - uint64(2*n)
	for i := range 4 { // warm the server's connections' statement caches
		require.NoError(b, f.submit(client, url, base+uint64(i)))
	}
	require.NoError(b, pgssReset(ctx, su))
	for i := range n {
		require.NoError(b, f2.submit(client, url, base+uint64(n+i)))
	}
	s, err := pgssRows(ctx, su, db)
	require.NoError(b, err)
	printStatements("claims-stmts: submit (POST /v1/claims, authentication and idempotency included)", n, s)

	claimIDs := submittedClaims(b, env, f2.tenant.ID)
	require.Len(b, claimIDs, n)
	adjudicate := func(what string, ids []string) {
		require.NoError(b, pgssReset(ctx, su))
		cpu0, ok0, err := cpuNow(ctx, env.DB.Owner)
		require.NoError(b, err)
		for _, id := range ids {
			require.NoError(b, env.Claims.Adjudicate(ctx, f2.tenant.ID, id, 1))
		}
		cpu1, ok1, err := cpuNow(ctx, env.DB.Owner)
		require.NoError(b, err)
		s, err := pgssRows(ctx, su, db)
		require.NoError(b, err)
		printStatements("claims-stmts: "+what, len(ids), s)
		if ok0 && ok1 {
			n := float64(len(ids))
			fmt.Printf("claims-stmts: %s: CPU per adjudication, one at a time, without River = %.3f ms (this process %.3f, database backends %.3f)\n",
				what, 1000*cpu1.since(cpu0)/n, 1000*(cpu1.self-cpu0.self)/n, 1000*cpu1.dbSince(cpu0)/n)
		}
	}
	adjudicate("adjudicate, approved (first claim of its unit)", claimIDs[:units])
	adjudicate("adjudicate, left for review (a duplicate)", claimIDs[units:])

	// CPU per submission over a concurrent run.
	const batch = 320
	cpu0, ok0, err := cpuNow(ctx, env.DB.Owner)
	require.NoError(b, err)
	start := seqs.Add(batch)
	rate := runBatch(b, batch, func(_, i int) error { return f.submit(client, url, start+uint64(i)) })
	cpu1, ok1, err := cpuNow(ctx, env.DB.Owner)
	require.NoError(b, err)
	if ok0 && ok1 {
		ms := 1000 * cpu1.since(cpu0) / batch
		self := 1000 * (cpu1.self - cpu0.self) / batch
		b.ReportMetric(ms, "cpu-ms/claim")
		fmt.Printf("claims-stmts: CPU per submission = %.3f ms (API server and its %d clients %.3f, database backends %.3f) over %d submissions at %.0f claims/s\n",
			ms, clients, self, ms-self, batch, rate)
	}
}

// submittedClaims are the IDs of tenantID's claims still submitted, in
// the order they were filed.
func submittedClaims(b *testing.B, env *apitest.Env, tenantID string) []string {
	b.Helper()
	ctx := context.Background()
	var ids []string
	require.NoError(b, pg.InTenantTx(ctx, env.DB.Owner, tenantID, func(tx pg.TenantTx) error {
		rows, err := tx.Query(ctx, `SELECT id FROM claims WHERE tenant_id = $1 AND state = 'submitted' ORDER BY created_at, id`, tx.TenantID)
		if err != nil {
			return err
		}
		ids, err = pgx.CollectRows(rows, pgx.RowTo[string])
		return err
	}))
	return ids
}

// BenchmarkClaimRoundTrips (run it once: -benchtime=1x) counts the
// database round trips of a claim submission (POST /v1/claims, with an
// Idempotency-Key, as BenchmarkClaims sends it) and of a resubmission
// (POST /v1/claims/{id}/resubmit of a claim in needs_info), the whole
// request, on the server's pool: BEGIN and the key's claim riding the
// operation's first round trip, the operation, and the COMMIT with the
// stored response. The server's pool
// goes through the counting proxy of BenchmarkIntakeRoundTrips; River runs
// no job. A figure no machine's load changes.
func BenchmarkClaimRoundTrips(b *testing.B) {
	const units = 16
	ctx := context.Background()
	env, proxy := newCountedEnv(b, clients)
	f := newClaimFixture(b, env, "bench-claim-rt-"+runID, units)
	client := newClient(b)
	warmHTTP(b, client, env.Server.URL+"/v1/me", f.tenant.AdminKey)
	url := env.Server.URL + "/v1/claims"
	base := seqs.Add(uint64(4*units)) - uint64(4*units)
	// Warm: every statement of the path prepared on every connection.
	runBatch(b, 2*units, func(_, i int) error { return f.submit(client, url, base+uint64(i)) })

	// A second claim per unit, one at a time: the counted submissions.
	trips0 := proxy.trips.Load()
	for i := range units {
		require.NoError(b, f.submit(client, url, base+uint64(2*units+i)))
	}
	submit := float64(proxy.trips.Load()-trips0) / units

	// Every claim adjudicated (the second of each unit is a duplicate, left
	// for review), the duplicates sent back for information, then
	// resubmitted: the counted resubmissions.
	ids := submittedClaims(b, env, f.tenant.ID)
	for _, id := range ids {
		require.NoError(b, env.Claims.Adjudicate(ctx, f.tenant.ID, id, 1))
	}
	var review []string
	for _, id := range ids {
		path := "/v1/claims/" + id
		r := env.Do(b, http.MethodPost, path+"/request-info", f.tenant.AdminKey, map[string]any{"reason": "发票照片不清晰"},
			env.IfMatch(b, path, f.tenant.AdminKey)...)
		if r.Status == http.StatusOK {
			review = append(review, id)
		}
	}
	require.NotEmpty(b, review)
	var body map[string]any
	require.NoError(b, json.Unmarshal(f.body(base), &body))
	for _, k := range []string{"kind", "unit_id", "reference"} {
		delete(body, k)
	}
	ifMatch := make([][]string, len(review))
	for i, id := range review {
		ifMatch[i] = env.IfMatch(b, "/v1/claims/"+id, f.tenant.AdminKey)
	}
	trips0 = proxy.trips.Load()
	for i, id := range review {
		r := env.Do(b, http.MethodPost, "/v1/claims/"+id+"/resubmit", f.tenant.AdminKey, body,
			append(ifMatch[i], "Idempotency-Key: bench-rsb-"+runID+"-"+id)...)
		require.Equal(b, http.StatusOK, r.Status, "%s", r.Body)
	}
	resubmit := float64(proxy.trips.Load()-trips0) / float64(len(review))
	b.ReportMetric(0, "ns/op")
	b.ReportMetric(submit, "roundtrips/submit")
	b.ReportMetric(resubmit, "roundtrips/resubmit")
	fmt.Printf("claims: %.2f database round trips per submission (%d), %.2f per resubmission (%d), whole request\n",
		submit, units, resubmit, len(review))
}
