package bench

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"os"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/require"

	"github.com/servicenet/servicenet/internal/apitest"
	"github.com/servicenet/servicenet/internal/pg"
)

// The audit log's cost on the write path (issue 15). Audit rows are written
// by triggers in the writing transaction (migrations 022, 027, 035): no
// extra round trip and no extra statement from the client, but server work
// per audited row (an intake writes 3: one INSERT each, nothing else).
//
// SERVICENET_BENCH_AUDIT=off disables every audit trigger in the benchmark's
// database before BenchmarkTickets (and BenchmarkIntakeAudit's first half)
// runs, so the same benchmark measures intake with and without the log.
//
// BenchmarkIntakeAudit measures both in one process, interleaved, so that a
// shared machine's noise falls on both alike: pairs of batches (160
// intakes, 480 API keys) by 16 clients, one batch with the triggers enabled and one
// with them disabled, off then on and on then off alternately (ABBA), each
// batch after 32 untimed operations that absorb the switch (the backends
// replan the statements on the tables whose triggers changed). Two writes
// are measured: the intake (POST /v1/tickets: 3 audit rows) and POST
// /v1/api-keys, the numerator of BenchmarkWriteThroughput's http/raw ratio
// (1 audit row; the raw insert is not audited, so that ratio drops by the
// same factor). Each pair gives a ratio; the medians are reported
// ("audit_on/off", "apikey_on/off"), with their ranges. It also reports
// what does not depend on the CPU: audit rows written per intake, and, when
// SERVICENET_BENCH_PGSS_URL names a superuser connection to a server with
// pg_stat_statements loaded, the statements the server ran per intake
// (top-level ones, i.e. sent by the client, and nested ones, run by
// triggers and functions) with the triggers on and off.
//
// On a shared machine the wall-clock rate of a batch swings with the other
// processes' load, by more than the audit costs. The benchmark therefore
// also reports what a CPU-bound server's rate follows, the CPU time per
// operation, measured per batch: this process (the API server and its
// clients) from getrusage, and the database's backends from their
// /proc/<pid>/schedstat (a local cluster; elsewhere it is not reported).
// "cpu_off/on" is the median over the pairs of the CPU per intake without
// the log over the CPU per intake with it: the intake rate with the log on,
// as a fraction of the rate without it, on a machine the intake saturates
// ("apikey_cpu_off/on" likewise for POST /v1/api-keys).

// setAuditTriggers enables or disables every audit_row trigger (<table>_audit).
func setAuditTriggers(ctx context.Context, owner *pgxpool.Pool, on bool) error {
	rows, err := owner.Query(ctx, `SELECT c.relname FROM pg_trigger g JOIN pg_class c ON c.oid = g.tgrelid
		WHERE g.tgname = c.relname || '_audit' AND c.relnamespace = 'public'::regnamespace`)
	if err != nil {
		return err
	}
	var tables []string
	for rows.Next() {
		var t string
		if err := rows.Scan(&t); err != nil {
			return err
		}
		tables = append(tables, t)
	}
	if err := rows.Err(); err != nil {
		return err
	}
	verb := "ENABLE"
	if !on {
		verb = "DISABLE"
	}
	for _, t := range tables {
		if _, err := owner.Exec(ctx, fmt.Sprintf(`ALTER TABLE %q %s TRIGGER %q`, t, verb, t+"_audit")); err != nil {
			return err
		}
	}
	if len(tables) == 0 {
		return fmt.Errorf("no audit triggers found")
	}
	return nil
}

// applyAuditSwitch disables the audit triggers when SERVICENET_BENCH_AUDIT=off.
func applyAuditSwitch(b *testing.B, env *apitest.Env) {
	b.Helper()
	if os.Getenv("SERVICENET_BENCH_AUDIT") == "off" {
		require.NoError(b, setAuditTriggers(context.Background(), env.DB.Owner, false))
		fmt.Println("audit: triggers disabled (SERVICENET_BENCH_AUDIT=off)")
	}
}

// stmtCounts are pg_stat_statements' call counts since the last reset.
// top and nested count calls; topMs is the server's execution time of the
// top-level statements (their triggers included), auditMs that of the
// nested statements writing audit_log.
type stmtCounts struct {
	top, nested    int64
	topMs, auditMs float64
}

func pgssReset(ctx context.Context, su *pgxpool.Pool) error {
	_, err := su.Exec(ctx, `SELECT pg_stat_statements_reset()`)
	return err
}

func pgssCounts(ctx context.Context, su *pgxpool.Pool) (stmtCounts, error) {
	var c stmtCounts
	err := su.QueryRow(ctx, `SELECT coalesce(sum(calls) FILTER (WHERE toplevel), 0)::bigint,
			coalesce(sum(calls) FILTER (WHERE NOT toplevel), 0)::bigint,
			coalesce(sum(total_exec_time) FILTER (WHERE toplevel), 0)::float8,
			coalesce(sum(total_exec_time) FILTER (WHERE NOT toplevel AND query LIKE '%audit_log%'), 0)::float8
		FROM pg_stat_statements WHERE query NOT LIKE '%pg_stat_statements%'`).Scan(&c.top, &c.nested, &c.topMs, &c.auditMs)
	return c, err
}

// cpuSample is the CPU time used so far by this process and by each
// backend connected to the benchmark's database.
type cpuSample struct {
	self     float64           // seconds
	backends map[int32]float64 // seconds by pid
}

// since is the CPU time used between s0 and s: this process's, and that of
// the backends connected at s (a backend that connected since counts
// whole; one that ended since is not counted, rather than subtracted).
func (s cpuSample) since(s0 cpuSample) float64 {
	secs := s.self - s0.self
	for pid, v := range s.backends {
		secs += v - s0.backends[pid]
	}
	return secs
}

// cpuNow samples the CPU time of this process and of the backends
// connected to owner's database; ok is false when the backends' times
// cannot be read (the database is not on this machine).
func cpuNow(ctx context.Context, owner *pgxpool.Pool) (s cpuSample, ok bool, err error) {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return s, false, err
	}
	s.self = float64(ru.Utime.Nano()+ru.Stime.Nano()) / 1e9
	rows, err := owner.Query(ctx, `SELECT pid FROM pg_stat_activity WHERE datname = current_database()`)
	if err != nil {
		return s, false, err
	}
	pids, err := pgx.CollectRows(rows, pgx.RowTo[int32])
	if err != nil {
		return s, false, err
	}
	s.backends = make(map[int32]float64, len(pids))
	for _, pid := range pids {
		// schedstat: nanoseconds on the CPU, waiting, time slices.
		raw, err := os.ReadFile("/proc/" + strconv.Itoa(int(pid)) + "/schedstat")
		if err != nil {
			if os.IsNotExist(err) {
				continue // a backend that ended since
			}
			return s, false, nil
		}
		ns, err := strconv.ParseInt(strings.Fields(string(raw))[0], 10, 64)
		if err != nil {
			return s, false, nil
		}
		s.backends[pid] = float64(ns) / 1e9
	}
	return s, len(s.backends) > 0, nil
}

// auditSide sums one side's (off or on) batches.
type auditSide struct {
	n         int     // operations timed
	seconds   float64 // wall-clock time of the timed batches
	cpu       float64 // seconds: this process and the database's backends
	audit     int64   // audit rows written
	stmts     stmtCounts
	withStats int
}

// auditRound is one timed batch: its rate and CPU per operation.
type auditRound struct{ rate, cpuMs float64 }

// median returns the median of xs (0 for none); xs is sorted in place.
func median(xs []float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	slices.Sort(xs)
	return xs[len(xs)/2]
}

func BenchmarkIntakeAudit(b *testing.B) {
	const (
		batch    = 160         // timed intakes per batch
		keyBatch = 3 * batch   // timed POST /v1/api-keys per batch (3 times faster)
		warm     = 2 * clients // untimed operations after each switch
	)
	ctx := context.Background()
	env := newEnv(b)
	f := newTicketFixture(b, env, "bench-audit-"+runID)
	keys := env.CreateTenant(b, "bench-audit-keys-"+runID)
	client := newClient(b)
	warmHTTP(b, client, env.Server.URL+"/v1/me", f.agent)
	var su *pgxpool.Pool
	if u := os.Getenv("SERVICENET_BENCH_PGSS_URL"); u != "" {
		var err error
		su, err = pg.Connect(ctx, u, pg.PoolOptions{Name: "bench-pgss", MaxConns: 1})
		require.NoError(b, err)
		b.Cleanup(su.Close)
	}
	auditRows := func() int64 {
		var n int64
		require.NoError(b, pg.InTenantTx(ctx, env.DB.Owner, f.tenant.ID, func(tx pg.TenantTx) error {
			return tx.QueryRow(ctx, `SELECT count(*) FROM audit_log WHERE tenant_id = $1`, tx.TenantID).Scan(&n)
		}))
		return n
	}
	// The audit trigger's own time, when track_functions is 'pl' or 'all'.
	auditFn := func() (calls int64, ms float64) {
		require.NoError(b, env.DB.Owner.QueryRow(ctx, `SELECT coalesce(sum(calls), 0)::bigint, coalesce(sum(total_time), 0)::float8
			FROM pg_stat_user_functions WHERE funcname IN ('audit_row', 'audit_rows')`).Scan(&calls, &ms))
		return calls, ms
	}
	keySeq := 0 // Idempotency-Keys: batch number and index
	postKey := func(_, i int) error {
		req, err := http.NewRequest(http.MethodPost, env.Server.URL+"/v1/api-keys", bytes.NewReader([]byte(`{"name":"bench key","roles":["dispatcher"]}`)))
		if err != nil {
			return err
		}
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Authorization", "Bearer "+keys.AdminKey)
		req.Header.Set("Idempotency-Key", "bench-audit-key-"+runID+"-"+strconv.Itoa(keySeq)+"-"+strconv.Itoa(i))
		return expect(client, req, http.StatusCreated)
	}
	// Warm both paths untimed.
	ins := f.intakes(b, batch)
	runBatch(b, batch, func(_, i int) error { _, err := f.open(client, ins[i]); return err })
	keySeq++
	runBatch(b, keyBatch, postKey)

	// timed runs op batch times with the audit triggers on or off, after
	// warm untimed ones (which absorb the switch: every backend replans
	// the statements on the tables whose triggers changed), and returns
	// the batch's rate and CPU time.
	cpuOK := true
	timed := func(on bool, batch int, prepare func(int) func(_, i int) error, s *auditSide, count bool) auditRound {
		require.NoError(b, setAuditTriggers(ctx, env.DB.Owner, on))
		runBatch(b, warm, prepare(warm))
		op := prepare(batch)
		var before int64
		if count {
			before = auditRows()
		}
		if su != nil {
			require.NoError(b, pgssReset(ctx, su))
		}
		cpu0, ok0, err := cpuNow(ctx, env.DB.Owner)
		require.NoError(b, err)
		rate := runBatch(b, batch, op)
		cpu1, ok1, err := cpuNow(ctx, env.DB.Owner)
		require.NoError(b, err)
		cpuOK = cpuOK && ok0 && ok1
		if su != nil {
			c, err := pgssCounts(ctx, su)
			require.NoError(b, err)
			s.stmts.top += c.top
			s.stmts.nested += c.nested
			s.stmts.topMs += c.topMs
			s.stmts.auditMs += c.auditMs
			s.withStats += batch
		}
		if count {
			s.audit += auditRows() - before
		}
		s.n += batch
		s.seconds += float64(batch) / rate
		cpu := cpu1.since(cpu0)
		s.cpu += cpu
		return auditRound{rate: rate, cpuMs: 1000 * cpu / float64(batch)}
	}
	intake := func(n int) func(_, i int) error {
		ins := f.intakes(b, n)
		return func(_, i int) error { _, err := f.open(client, ins[i]); return err }
	}
	keyOp := func(int) func(_, i int) error {
		keySeq++
		return postKey
	}

	// Pairs of batches, off then on and on then off alternately (ABBA), so
	// that a drift in the machine's load falls on both sides alike; each
	// pair gives one ratio, and the medians are reported.
	var in, key [2]auditSide // 0: off, 1: on
	var inRate, inCPU, keyRate, keyCPU []float64
	// make bench runs it once (-benchtime=1x): 24 pairs, about two minutes.
	pairs := 24 * b.N
	fnCalls, fnMs := auditFn() // the off batches call it never: the delta is the on batches'
	for p := range pairs {
		var ri, rk [2]auditRound
		for _, on := range [2]bool{p%2 == 1, p%2 == 0} {
			side := 0
			if on {
				side = 1
			}
			ri[side] = timed(on, batch, intake, &in[side], true)
			rk[side] = timed(on, keyBatch, keyOp, &key[side], false)
		}
		inRate = append(inRate, ri[1].rate/ri[0].rate)
		inCPU = append(inCPU, ri[0].cpuMs/ri[1].cpuMs)
		keyRate = append(keyRate, rk[1].rate/rk[0].rate)
		keyCPU = append(keyCPU, rk[0].cpuMs/rk[1].cpuMs)
	}
	require.NoError(b, setAuditTriggers(ctx, env.DB.Owner, true))
	// Idle backends report their function statistics within 10 s (PostgreSQL 15).
	time.Sleep(11 * time.Second)
	c2, m2 := auditFn()
	rate := func(s auditSide) float64 { return float64(s.n) / s.seconds }
	cpuMs := func(s auditSide) float64 { return 1000 * s.cpu / float64(s.n) }
	b.ReportMetric(rate(in[1]), "on-tickets/s")
	b.ReportMetric(rate(in[0]), "off-tickets/s")
	b.ReportMetric(median(slices.Clone(inRate)), "audit_on/off")
	b.ReportMetric(median(slices.Clone(keyRate)), "apikey_on/off")
	b.ReportMetric(float64(in[1].audit)/float64(in[1].n), "audit-rows/intake")
	rng := func(xs []float64) string {
		xs = slices.Clone(xs)
		slices.Sort(xs)
		return fmt.Sprintf("median=%.3f range %.3f–%.3f", median(xs), xs[0], xs[len(xs)-1])
	}
	fmt.Printf("intake-audit: %d pairs of %d intakes and %d POST /v1/api-keys (off/on interleaved ABBA, %d untimed after each switch), %d clients\n",
		pairs, batch, keyBatch, warm, clients)
	fmt.Printf("intake-audit: intake wall-clock on/off: %s; total on=%.1f off=%.1f tickets/s\n", rng(inRate), rate(in[1]), rate(in[0]))
	fmt.Printf("intake-audit: POST /v1/api-keys (the write-throughput http/raw numerator) wall-clock on/off: %s; total on=%.1f off=%.1f req/s\n",
		rng(keyRate), rate(key[1]), rate(key[0]))
	if cpuOK {
		b.ReportMetric(median(slices.Clone(inCPU)), "cpu_off/on")
		b.ReportMetric(median(slices.Clone(keyCPU)), "apikey_cpu_off/on")
		fmt.Printf("intake-audit: intake CPU off/on (API server, clients and database backends): %s; total ms/intake on=%.3f off=%.3f\n",
			rng(inCPU), cpuMs(in[1]), cpuMs(in[0]))
		fmt.Printf("intake-audit: POST /v1/api-keys CPU off/on: %s; total ms/request on=%.3f off=%.3f\n",
			rng(keyCPU), cpuMs(key[1]), cpuMs(key[0]))
	}
	fmt.Printf("intake-audit: audit rows/intake on=%.2f off=%.2f\n",
		float64(in[1].audit)/float64(in[1].n), float64(in[0].audit)/float64(in[0].n))
	onOps := float64(in[1].n + key[1].n + pairs*2*warm)
	fmt.Printf("intake-audit: audit_rows calls per timed or warm-up operation with the log on=%.2f, its server time ms=%.3f (needs track_functions = pl; "+
		"includes the untimed registration of half the callers' units, a customer and a unit each)\n",
		float64(c2-fnCalls)/onOps, (m2-fnMs)/onOps)
	if su != nil {
		per := func(s auditSide, n int64) float64 { return float64(n) / float64(s.withStats) }
		ms := func(s auditSide, v float64) float64 { return v / float64(s.withStats) }
		fmt.Printf("intake-audit: statements/intake on: top-level=%.2f nested=%.2f; off: top-level=%.2f nested=%.2f\n",
			per(in[1], in[1].stmts.top), per(in[1], in[1].stmts.nested),
			per(in[0], in[0].stmts.top), per(in[0], in[0].stmts.nested))
		fmt.Printf("intake-audit: server execution ms/intake (top-level, triggers included) on=%.3f off=%.3f; of which audit_log inserts on=%.3f\n",
			ms(in[1], in[1].stmts.topMs), ms(in[0], in[0].stmts.topMs), ms(in[1], in[1].stmts.auditMs))
	}
}
