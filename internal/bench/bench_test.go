package bench

import (
	"bytes"
	"context"
	"crypto/rand"
	"fmt"
	"io"
	"net/http"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/require"

	"github.com/servicenet/servicenet/internal/apitest"
	"github.com/servicenet/servicenet/internal/config"
	"github.com/servicenet/servicenet/internal/pg"
)

// clients is the number of concurrent clients in every benchmark.
const clients = 16

// benchTable is a plain table about as wide as api_keys, for the raw insert
// baseline: no RLS, no foreign keys, no triggers. Created once per
// database (a benchmark measuring two floors runs it twice).
const benchTable = `
CREATE TABLE IF NOT EXISTS bench_writes (
  tenant_id   text NOT NULL,
  id          text NOT NULL,
  name        text NOT NULL,
  prefix      text NOT NULL,
  secret_hash text NOT NULL,
  live        boolean NOT NULL,
  roles       text[] NOT NULL,
  created_by  text NOT NULL,
  created_at  timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (tenant_id, id)
);
GRANT SELECT, INSERT ON bench_writes TO ` + pg.AppRole

// newEnv starts the real stack with the rate limiter out of the way and the
// runtime tuned as servicenet serve tunes it.
func newEnv(b *testing.B) *apitest.Env {
	return newEnvWith(b, apitest.Options{})
}

// newEnvWith is newEnv with more options (the rate limiter stays out of
// the way).
func newEnvWith(b *testing.B, opts apitest.Options) *apitest.Env {
	b.Helper()
	cfg, err := config.Load(os.Getenv)
	require.NoError(b, err)
	cfg.TuneRuntime(os.Getenv)
	opts.RatePerSecond, opts.RateBurst = 1e9, 1e9
	opts.ServePool = true
	return apitest.New(b, opts)
}

// newClient is an HTTP client that keeps a connection per concurrent client.
func newClient(b testing.TB) *http.Client {
	tr := &http.Transport{MaxIdleConns: 4 * clients, MaxIdleConnsPerHost: 4 * clients, IdleConnTimeout: time.Minute}
	b.Cleanup(tr.CloseIdleConnections)
	return &http.Client{Transport: tr, Timeout: 30 * time.Second}
}

// runClients runs op b.N times in total from exactly clients goroutines and
// returns the rate in operations per second of wall time. op gets the
// client's number and a sequence number unique within the benchmark binary.
// The first error stops the run and fails the benchmark.
func runClients(b *testing.B, op func(client int, seq uint64) error) float64 {
	b.Helper()
	return runBatch(b, b.N, func(c, _ int) error { return op(c, seqs.Add(1)) })
}

// runBatch runs n operations in total from exactly clients goroutines,
// timed, and returns operations per second of wall time; op gets its
// client and the operation's index (0..n-1). The first error stops the
// run and fails the benchmark.
func runBatch(b *testing.B, n int, op func(client, i int) error) float64 {
	b.Helper()
	b.ResetTimer()
	b.StartTimer()
	err := runConcurrently(n, op)
	b.StopTimer()
	if err != nil {
		b.Fatal(err)
	}
	return float64(n) / b.Elapsed().Seconds()
}

// runConcurrently runs n operations in total from exactly clients
// goroutines (op as in runBatch), untimed; the first error stops the run
// and is returned.
func runConcurrently(n int, op func(client, i int) error) error {
	var (
		next     atomic.Int64
		failed   atomic.Bool
		firstErr error
		errOnce  sync.Once
		wg       sync.WaitGroup
	)
	for c := range clients {
		wg.Go(func() {
			for !failed.Load() {
				i := int(next.Add(1)) - 1
				if i >= n {
					return
				}
				if err := op(c, i); err != nil {
					errOnce.Do(func() { firstErr = err })
					failed.Store(true)
					return
				}
			}
		})
	}
	wg.Wait()
	return firstErr
}

// openLoopResult is what an open-loop run measured.
type openLoopResult struct {
	rate      int             // the arrival rate asked for, requests/s
	latencies []time.Duration // in sending order
	sorted    []time.Duration
	start     time.Time // when the first request was due
	elapsed   time.Duration
	errors    int
	firstErr  error
}

// slowerThan describes the requests slower than d: how many, and the
// stretch of the run they were due in (offsets from its start, and the
// wall clock), so that one stall (a cluster) is told from a spread; "" when
// none was.
func (r openLoopResult) slowerThan(d time.Duration) string {
	interval := time.Second / time.Duration(r.rate)
	n, first, last := 0, -1, -1
	for i, l := range r.latencies {
		if l > d {
			n++
			if first < 0 {
				first = i
			}
			last = i
		}
	}
	if n == 0 {
		return ""
	}
	at := func(i int) time.Duration { return time.Duration(i) * interval }
	return fmt.Sprintf("%d slower than %v, due from +%.2f s to +%.2f s of the run (%s to %s UTC)", n, d,
		at(first).Seconds(), at(last).Seconds(), r.start.Add(at(first)).UTC().Format("15:04:05.000"),
		r.start.Add(at(last)).UTC().Format("15:04:05.000"))
}

// pct is the q-quantile latency in milliseconds.
func (r openLoopResult) pct(q float64) float64 {
	return float64(r.sorted[min(len(r.sorted)-1, int(float64(len(r.sorted))*q))].Microseconds()) / 1000
}

// openLoop sends n requests at rate per second (open loop: a request is
// sent when it is due, whether or not earlier ones have answered, and its
// latency counts from when it was due) and counts the failed ones.
func openLoop(n, rate int, send func(i int) error) openLoopResult {
	latencies := make([]time.Duration, n)
	var errs atomic.Int64
	var firstErr atomic.Value
	var wg sync.WaitGroup
	interval := time.Second / time.Duration(rate)
	start := time.Now()
	for i := range n {
		due := start.Add(time.Duration(i) * interval)
		time.Sleep(time.Until(due))
		wg.Go(func() {
			if err := send(i); err != nil {
				errs.Add(1)
				firstErr.CompareAndSwap(nil, err)
			}
			latencies[i] = time.Since(due)
		})
	}
	wg.Wait()
	r := openLoopResult{rate: rate, latencies: latencies, sorted: slices.Sorted(slices.Values(latencies)), start: start,
		elapsed: time.Since(start), errors: int(errs.Load())}
	r.firstErr, _ = firstErr.Load().(error)
	return r
}

// report reports p50, p99, the achieved rate and the error count, prints
// them under what, and fails the benchmark on errors (a correctness
// failure, not a timing one).
func (r openLoopResult) report(b *testing.B, what string) {
	b.Helper()
	b.ReportMetric(r.pct(0.50), "p50-ms")
	b.ReportMetric(r.pct(0.99), "p99-ms")
	b.ReportMetric(float64(len(r.latencies))/r.elapsed.Seconds(), "req/s")
	b.ReportMetric(float64(r.errors), "errors")
	fmt.Printf("%s at %d req/s open loop: %d requests, p50 %.2f ms, p99 %.2f ms, max %.2f ms, %d errors\n",
		what, r.rate, len(r.latencies), r.pct(0.50), r.pct(0.99), r.pct(1), r.errors)
	if slow := r.slowerThan(30 * time.Millisecond); slow != "" {
		fmt.Printf("%s: %s\n", what, slow)
	}
	if r.errors > 0 {
		b.Fatalf("%d of %d requests failed; first: %v", r.errors, len(r.latencies), r.firstErr)
	}
}

// seqs numbers operations across runs (the framework calls a benchmark
// function several times with growing b.N), so keys and IDs never repeat.
var seqs atomic.Uint64

// runID keeps Idempotency-Keys and row IDs apart between benchmark binaries.
var runID = strings.ToLower(rand.Text()[:8])

// BenchmarkWriteThroughput compares raw single-row insert transactions with
// authenticated, authorized, idempotent POSTs through the real HTTP stack,
// against the same database, at 16 concurrent clients. See the package doc.
func BenchmarkWriteThroughput(b *testing.B) {
	ctx := context.Background()
	env := newEnv(b)
	ten := env.CreateTenant(b, "bench-"+runID)

	_, err := env.DB.Owner.Exec(ctx, benchTable)
	require.NoError(b, err)
	raw, err := pg.Connect(ctx, env.DB.AppURL, pg.PoolOptions{Name: "bench-raw", MaxConns: clients})
	require.NoError(b, err)
	b.Cleanup(raw.Close)
	warmPool(b, raw)

	client := newClient(b)
	warmHTTP(b, client, env.Server.URL+"/v1/me", ten.AdminKey)
	url := env.Server.URL + "/v1/api-keys"
	body := []byte(`{"name":"bench key","roles":["dispatcher"]}`)
	post := func(seq uint64) error {
		req, err := http.NewRequest(http.MethodPost, url, bytes.NewReader(body))
		if err != nil {
			return err
		}
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Authorization", "Bearer "+ten.AdminKey)
		req.Header.Set("Idempotency-Key", "bench-"+runID+"-"+strconv.FormatUint(seq, 10))
		return expect(client, req, http.StatusCreated)
	}
	// The write path warm, then the statistics a database in service has
	// (see analyze): without them, half the runs kept a claim plan that
	// walked the tenant's idempotency records and ran at half the rate.
	require.NoError(b, runConcurrently(8*clients, func(int, int) error { return post(seqs.Add(1)) }))
	analyze(b, env)

	var rawRate, httpRate float64

	b.Run("raw_pgx_insert", func(b *testing.B) {
		const hash = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"
		roles := []string{"dispatcher"}
		rate := runClients(b, func(_ int, seq uint64) error {
			tx, err := raw.Begin(ctx)
			if err != nil {
				return err
			}
			defer tx.Rollback(ctx) //nolint:errcheck // no-op after Commit
			id := "key_" + runID + strconv.FormatUint(seq, 10)
			if _, err := tx.Exec(ctx, `INSERT INTO bench_writes (tenant_id, id, name, prefix, secret_hash, live, roles, created_by)
				VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
				ten.ID, id, "bench key", "sn_live_Ab3dE9", hash, true, roles, ten.AdminID); err != nil {
				return err
			}
			return tx.Commit(ctx)
		})
		b.ReportMetric(rate, "tx/s")
		rawRate = rate
	})

	b.Run("http_idempotent_post", func(b *testing.B) {
		rate := runClients(b, func(_ int, seq uint64) error { return post(seq) })
		b.ReportMetric(rate, "req/s")
		httpRate = rate
	})

	if rawRate == 0 || httpRate == 0 {
		return // a sub-benchmark was filtered out or failed
	}
	ratio := httpRate / rawRate
	b.Run("ratio", func(b *testing.B) {
		b.ReportMetric(0, "ns/op") // not a timed operation
		b.ReportMetric(ratio, "http/raw")
	})
	fmt.Printf("write-throughput: raw_pgx=%.0f tx/s http_post=%.0f req/s ratio=%.3f (%d clients)\n",
		rawRate, httpRate, ratio, clients)
}

// BenchmarkAuthenticatedGET measures GET /v1/me with the tenant admin key at
// 16 concurrent clients (authentication, authorization and two reads)
// against its physical limit in the same run: GET /healthz, the HTTP floor
// (routing, logging, metrics; no credential, no database).
func BenchmarkAuthenticatedGET(b *testing.B) {
	env := newEnv(b)
	ten := env.CreateTenant(b, "bench-get-"+runID)
	client := newClient(b)
	url := env.Server.URL + "/v1/me"
	warmHTTP(b, client, url, ten.AdminKey)
	get := func(url, key string) func(int, uint64) error {
		return func(int, uint64) error {
			req, err := http.NewRequest(http.MethodGet, url, nil)
			if err != nil {
				return err
			}
			if key != "" {
				req.Header.Set("Authorization", "Bearer "+key)
			}
			return expect(client, req, http.StatusOK)
		}
	}
	var floor, me float64
	b.Run("healthz", func(b *testing.B) {
		floor = runClients(b, get(env.Server.URL+"/healthz", ""))
		b.ReportMetric(floor, "req/s")
	})
	b.Run("me", func(b *testing.B) {
		me = runClients(b, get(url, ten.AdminKey))
		b.ReportMetric(me, "req/s")
	})
	if floor == 0 || me == 0 {
		return
	}
	b.Run("ratio", func(b *testing.B) {
		b.ReportMetric(0, "ns/op")
		b.ReportMetric(me/floor, "me/healthz")
	})
	fmt.Printf("authentication: healthz=%.0f req/s me=%.0f req/s ratio=%.3f (%d clients)\n", floor, me, me/floor, clients)
}

// expect sends req, drains the body (so the connection is reused) and checks
// the status.
func expect(client *http.Client, req *http.Request, status int) error {
	resp, err := client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	got, err := io.ReadAll(resp.Body)
	if err != nil {
		return err
	}
	if resp.StatusCode != status {
		return fmt.Errorf("%s %s: status %d, want %d: %s", req.Method, req.URL.Path, resp.StatusCode, status, got)
	}
	return nil
}

// analyze gives the benchmark's database the statistics a database in
// service has, once its write path is warm: like pgbench's vacuum before
// a run. A fresh database has none, and autoanalyze needs a minute and
// 10 % of a table changed; meanwhile the plans cached on each pooled
// connection while its tables were empty stay in use, and some walk the
// tenant's rows: measured on an intake run, the notice's dedupe lookup
// scanned notifications_subject_idx on tenant_id alone (16.2 M index
// entries read in 5,694 lookups) instead of the unique (tenant_id,
// dedupe_key) index, so each intake cost more than the one before (CPU
// per intake 3.6 → 5.7 ms over nine rounds). ANALYZE invalidates those
// plans; the next execution plans with the statistics.
func analyze(b *testing.B, env *apitest.Env) {
	b.Helper()
	_, err := env.DB.Owner.Exec(context.Background(), `ANALYZE`)
	require.NoError(b, err)
}

// warmPool opens all of the pool's connections before timing starts.
func warmPool(b *testing.B, pool *pgxpool.Pool) {
	b.Helper()
	ctx := context.Background()
	conns := make([]*pgxpool.Conn, 0, clients)
	for range clients {
		c, err := pool.Acquire(ctx)
		require.NoError(b, err)
		conns = append(conns, c)
	}
	for _, c := range conns {
		c.Release()
	}
}

// warmHTTP opens clients keep-alive connections to the server (and warms the
// server's database pool) with concurrent authenticated GETs.
func warmHTTP(b testing.TB, client *http.Client, url, key string) {
	b.Helper()
	errs := make(chan error, clients)
	for range clients {
		go func() {
			req, err := http.NewRequest(http.MethodGet, url, nil)
			if err == nil {
				req.Header.Set("Authorization", "Bearer "+key)
				err = expect(client, req, http.StatusOK)
			}
			errs <- err
		}()
	}
	for range clients {
		require.NoError(b, <-errs)
	}
}

// BenchmarkWriteRoundTrips counts, for the write BenchmarkWriteThroughput
// times (POST /v1/api-keys with the admin key and a fresh
// Idempotency-Key), what does not depend on the machine's load: database
// round trips per POST (through the counting proxy of
// BenchmarkIntakeRoundTrips) and, with SERVICENET_BENCH_PGSS_URL (a
// superuser connection to a server with pg_stat_statements loaded), the
// statements per POST and each statement's calls per POST and mean time.
// SERVICENET_BENCH_TRACE prints one POST's statements and round trips.
func BenchmarkWriteRoundTrips(b *testing.B) {
	const n = 300
	ctx := context.Background()
	env, proxy := newCountedEnv(b, clients)
	ten := env.CreateTenant(b, "bench-wrt-"+runID)
	client := newClient(b)
	warmHTTP(b, client, env.Server.URL+"/v1/me", ten.AdminKey)
	su := pgssPool(b)
	url := env.Server.URL + "/v1/api-keys"
	body := []byte(`{"name":"bench key","roles":["dispatcher"]}`)
	post := func() error {
		req, err := http.NewRequest(http.MethodPost, url, bytes.NewReader(body))
		if err != nil {
			return err
		}
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Authorization", "Bearer "+ten.AdminKey)
		req.Header.Set("Idempotency-Key", "bench-"+runID+"-"+strconv.FormatUint(seqs.Add(1), 10))
		return expect(client, req, http.StatusCreated)
	}
	// Warm: every statement of the path prepared on every connection.
	runBatch(b, 8*clients, func(int, int) error { return post() })
	if su != nil {
		require.NoError(b, pgssReset(ctx, su))
	}
	trips0 := proxy.trips.Load()
	for range n { // one client: the counts are the same at any concurrency
		require.NoError(b, post())
	}
	trips := float64(proxy.trips.Load()-trips0) / n
	b.ReportMetric(0, "ns/op")
	b.ReportMetric(trips, "roundtrips/post")
	line := fmt.Sprintf("write: %.2f database round trips per POST /v1/api-keys", trips)
	if su != nil {
		c, err := pgssCounts(ctx, su, env.DB.Name)
		require.NoError(b, err)
		b.ReportMetric(float64(c.top)/n, "stmts/post")
		b.ReportMetric(float64(c.nested)/n, "nested-stmts/post")
		b.ReportMetric(c.topMs*1000/n, "db-µs/post")
		line += fmt.Sprintf(", %.2f statements sent (+%.2f run by triggers and functions), %.0f µs of server execution",
			float64(c.top)/n, float64(c.nested)/n, c.topMs*1000/n)
		rows, err := su.Query(ctx, `SELECT toplevel, calls, mean_exec_time, left(regexp_replace(query, '\s+', ' ', 'g'), 110)
			FROM pg_stat_statements WHERE dbid = (SELECT oid FROM pg_database WHERE datname = $1)
			  AND query NOT LIKE '%pg_stat_statements%' ORDER BY total_exec_time DESC`, env.DB.Name)
		require.NoError(b, err)
		for rows.Next() {
			var top bool
			var calls int64
			var mean float64
			var q string
			require.NoError(b, rows.Scan(&top, &calls, &mean, &q))
			lvl := "nested"
			if top {
				lvl = "top"
			}
			fmt.Printf("  %-6s %5.2f/post %7.1f µs  %s\n", lvl, float64(calls)/n, mean*1000, q)
		}
		require.NoError(b, rows.Err())
	}
	fmt.Println(line + fmt.Sprintf(" (%d POSTs)", n))
	if os.Getenv("SERVICENET_BENCH_TRACE") != "" {
		proxy.tracing.Store(true)
		require.NoError(b, post())
		proxy.tracing.Store(false)
		for _, l := range proxy.trace {
			l = strings.Join(strings.Fields(l), " ")
			fmt.Println("  " + l[:min(len(l), 160)])
		}
		proxy.trace = nil
	}
}
