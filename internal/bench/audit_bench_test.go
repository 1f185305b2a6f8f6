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
// by triggers in the writing transaction (migrations 022, 027, 035, 042):
// no extra round trip and no extra statement from the client, but server
// work per audited row (an intake writes 3: one INSERT each, nothing else).
//
// SERVICENET_BENCH_AUDIT=off disables every audit trigger in the benchmark's
// database before BenchmarkTickets runs, so the same benchmark measures
// intake with and without the log.
//
// BenchmarkIntakeAudit measures both in one process, side by side: two
// stacks (API server and database each), one with the audit triggers
// disabled once at the start ("off") and one with them on ("on"), so no
// batch pays for switching them (every backend replanning its statements).
// It times pairs of batches, one per stack, off then on and on then off
// alternately (ABBA), so that a shared machine's load falls on both alike.
// Two writes are measured: the intake (POST /v1/tickets: 3 audit rows) and
// POST /v1/api-keys, the numerator of BenchmarkWriteThroughput's http/raw
// ratio (1 audit row; the raw insert is not audited, so that ratio drops by
// the same factor). The callers' units that an intake finds registered are
// registered before the first pair, not between batches.
//
// On a shared machine the wall-clock rate of a batch swings with the other
// processes' load, by more than the audit costs. The headline figure is
// therefore what a CPU-bound server's rate follows, the CPU time per
// operation, measured per batch: this process (the API servers and the
// clients) from getrusage, and the stack's database backends (client
// backends with a user: not autovacuum) from their /proc/<pid>/schedstat (a local
// cluster; elsewhere it is not reported). "cpu_off/on" is the CPU per
// intake without the log over the CPU per intake with it, over all pairs
// (the median of the pairs' ratios and their quartiles are printed): the
// intake rate with the log on, as a fraction of the rate without it, on a
// machine the intake saturates. "db_cpu_off/on" is the
// same for the database backends alone, where the audit's work is; the
// wall-clock ratio ("audit_on/off") is reported too, with its range.
// "apikey_cpu_off/on" likewise for POST /v1/api-keys.
//
// When SERVICENET_BENCH_PGSS_URL names a superuser connection to a server
// with pg_stat_statements loaded, it also reports the statements the server
// ran per intake (top-level ones, i.e. sent by the client, and nested ones,
// run by triggers and functions) on and off; with track_functions = 'pl',
// the audit trigger functions' calls and time per intake.

// setAuditTriggers enables or disables every audit trigger (<table>_audit).
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

// pgssPool connects to SERVICENET_BENCH_PGSS_URL, a superuser URL of the
// benchmark's cluster for reading pg_stat_statements; nil when it is unset.
func pgssPool(b *testing.B) *pgxpool.Pool {
	u := os.Getenv("SERVICENET_BENCH_PGSS_URL")
	if u == "" {
		return nil
	}
	su, err := pg.Connect(context.Background(), u, pg.PoolOptions{Name: "bench-pgss", MaxConns: 1})
	require.NoError(b, err)
	b.Cleanup(su.Close)
	return su
}

func pgssReset(ctx context.Context, su *pgxpool.Pool) error {
	_, err := su.Exec(ctx, `SELECT pg_stat_statements_reset()`)
	return err
}

func pgssCounts(ctx context.Context, su *pgxpool.Pool, db string) (stmtCounts, error) {
	var c stmtCounts
	err := su.QueryRow(ctx, `SELECT coalesce(sum(calls) FILTER (WHERE toplevel), 0)::bigint,
			coalesce(sum(calls) FILTER (WHERE NOT toplevel), 0)::bigint,
			coalesce(sum(total_exec_time) FILTER (WHERE toplevel), 0)::float8,
			coalesce(sum(total_exec_time) FILTER (WHERE NOT toplevel AND query LIKE '%audit_log%'), 0)::float8
		FROM pg_stat_statements WHERE dbid = (SELECT oid FROM pg_database WHERE datname = $1)
		  AND query NOT LIKE '%pg_stat_statements%'`, db).Scan(&c.top, &c.nested, &c.topMs, &c.auditMs)
	return c, err
}

// cpuSample is the CPU time used so far by this process and by each
// client backend connected to the benchmark's database.
type cpuSample struct {
	self     float64           // seconds
	backends map[int32]float64 // seconds by pid
}

// since is the CPU time used between s0 and s: this process's, and that of
// the backends connected at s (a backend that connected since counts
// whole; one that ended since is not counted, rather than subtracted).
func (s cpuSample) since(s0 cpuSample) float64 {
	return s.self - s0.self + s.dbSince(s0)
}

// dbSince is since for the database backends alone.
func (s cpuSample) dbSince(s0 cpuSample) float64 {
	var secs float64
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
	rows, err := owner.Query(ctx, `SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND usename IS NOT NULL`)
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

// auditSide sums one side's (off or on) batches of one operation.
type auditSide struct {
	n         int     // operations timed
	seconds   float64 // wall-clock time of the timed batches
	cpu, db   float64 // seconds: this process and the database's backends; the backends
	wal       float64 // bytes of WAL the cluster wrote
	audit     int64   // audit rows written
	stmts     stmtCounts
	withStats int
}

// auditRound is one timed batch: its rate and CPU per operation.
type auditRound struct{ rate, cpuMs, dbMs float64 }

// median returns the median of xs (0 for none); xs is sorted in place.
func median(xs []float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	slices.Sort(xs)
	return xs[len(xs)/2]
}

// spread describes xs: median, quartiles and range.
func spread(xs []float64) string {
	xs = slices.Clone(xs)
	slices.Sort(xs)
	q := func(f float64) float64 { return xs[int(f*float64(len(xs)-1)+0.5)] }
	return fmt.Sprintf("median=%.3f quartiles %.3f–%.3f range %.3f–%.3f", median(xs), q(0.25), q(0.75), xs[0], xs[len(xs)-1])
}

// auditStack is one side of the comparison: an API server and its
// database, with the audit triggers on or off.
type auditStack struct {
	env     *apitest.Env
	f       *ticketFixture
	keys    apitest.Tenant
	db      string // the database's name
	ins     []intake
	next    int // next intake of ins
	keySeq  int // Idempotency-Keys: batch number
	in, key auditSide
}

func BenchmarkIntakeAudit(b *testing.B) {
	const (
		batch    = 200       // timed intakes per batch
		keyBatch = 3 * batch // timed POST /v1/api-keys per batch (3 times faster)
	)
	// make bench runs it once (-benchtime=1x): 16 pairs, about 75 s after
	// the setup on an idle machine; on a busy one it stops starting pairs
	// after pairTime, with at least minPairs, so the run stays within about
	// 4 minutes.
	pairs := 16 * b.N
	const (
		minPairs = 8
		pairTime = 110 * time.Second
	)
	ctx := context.Background()
	client := newClient(b)
	su := pgssPool(b)
	var stacks [2]*auditStack // 0: off, 1: on
	for side := range stacks {
		env := newEnv(b)
		if side == 0 {
			require.NoError(b, setAuditTriggers(ctx, env.DB.Owner, false))
		}
		s := &auditStack{env: env, f: newTicketFixture(b, env, fmt.Sprintf("bench-audit-%d-%s", side, runID)),
			keys: env.CreateTenant(b, fmt.Sprintf("bench-audit-keys-%d-%s", side, runID))}
		require.NoError(b, env.DB.Owner.QueryRow(ctx, `SELECT current_database()`).Scan(&s.db))
		warmHTTP(b, client, env.Server.URL+"/v1/me", s.f.agent)
		// Every intake of the run, its registered units registered now;
		// and both paths warmed, untimed.
		s.ins = s.f.intakes(b, (pairs+1)*batch)
		stacks[side] = s
	}
	postKey := func(s *auditStack) func(_, i int) error {
		s.keySeq++
		seq := s.keySeq
		return func(_, i int) error {
			req, err := http.NewRequest(http.MethodPost, s.env.Server.URL+"/v1/api-keys", bytes.NewReader([]byte(`{"name":"bench key","roles":["dispatcher"]}`)))
			if err != nil {
				return err
			}
			req.Header.Set("Content-Type", "application/json")
			req.Header.Set("Authorization", "Bearer "+s.keys.AdminKey)
			req.Header.Set("Idempotency-Key", "bench-audit-key-"+runID+"-"+strconv.Itoa(seq)+"-"+strconv.Itoa(i))
			return expect(client, req, http.StatusCreated)
		}
	}
	intake := func(s *auditStack) func(_, i int) error {
		ins := s.ins[s.next : s.next+batch]
		s.next += batch
		return func(_, i int) error { _, err := s.f.open(client, ins[i]); return err }
	}
	auditRows := func(s *auditStack) int64 {
		var n int64
		require.NoError(b, pg.InTenantTx(ctx, s.env.DB.Owner, s.f.tenant.ID, func(tx pg.TenantTx) error {
			return tx.QueryRow(ctx, `SELECT count(*) FROM audit_log WHERE tenant_id = $1`, tx.TenantID).Scan(&n)
		}))
		return n
	}
	for _, s := range stacks {
		runBatch(b, batch, intake(s))
		runBatch(b, keyBatch, postKey(s))
	}

	// timed runs one batch of op on s and returns its rate and CPU.
	cpuOK := true
	timed := func(s *auditStack, n int, op func(_, i int) error, side *auditSide, count bool) auditRound {
		var before int64
		if count {
			before = auditRows(s)
		}
		if su != nil {
			require.NoError(b, pgssReset(ctx, su))
		}
		var wal float64
		require.NoError(b, s.env.DB.Owner.QueryRow(ctx, `SELECT pg_current_wal_insert_lsn() - '0/0'`).Scan(&wal))
		cpu0, ok0, err := cpuNow(ctx, s.env.DB.Owner)
		require.NoError(b, err)
		rate := runBatch(b, n, op)
		cpu1, ok1, err := cpuNow(ctx, s.env.DB.Owner)
		require.NoError(b, err)
		var wal1 float64
		require.NoError(b, s.env.DB.Owner.QueryRow(ctx, `SELECT pg_current_wal_insert_lsn() - '0/0'`).Scan(&wal1))
		side.wal += wal1 - wal
		cpuOK = cpuOK && ok0 && ok1
		if su != nil {
			c, err := pgssCounts(ctx, su, s.db)
			require.NoError(b, err)
			side.stmts.top += c.top
			side.stmts.nested += c.nested
			side.stmts.topMs += c.topMs
			side.stmts.auditMs += c.auditMs
			side.withStats += n
		}
		if count {
			side.audit += auditRows(s) - before
		}
		side.n += n
		side.seconds += float64(n) / rate
		cpu, db := cpu1.since(cpu0), cpu1.dbSince(cpu0)
		side.cpu += cpu
		side.db += db
		return auditRound{rate: rate, cpuMs: 1000 * cpu / float64(n), dbMs: 1000 * db / float64(n)}
	}
	// The audit trigger functions' calls and time (track_functions 'pl').
	var tracked string
	require.NoError(b, stacks[1].env.DB.Owner.QueryRow(ctx, `SHOW track_functions`).Scan(&tracked))
	auditFn := func() (calls int64, ms float64) {
		require.NoError(b, stacks[1].env.DB.Owner.QueryRow(ctx, `SELECT coalesce(sum(calls), 0)::bigint, coalesce(sum(self_time), 0)::float8
			FROM pg_stat_user_functions f WHERE EXISTS (SELECT FROM pg_trigger g JOIN pg_class c ON c.oid = g.tgrelid
				WHERE g.tgname = c.relname || '_audit' AND g.tgfoid = f.funcid)`).Scan(&calls, &ms))
		return calls, ms
	}
	if tracked != "none" {
		time.Sleep(11 * time.Second) // the setup's calls reported (idle backends: within 10 s)
	}
	fnCalls, fnMs := auditFn()

	// Pairs of batches, off then on and on then off alternately (ABBA);
	// each pair gives one ratio, and the medians are reported.
	var inRate, inCPU, inDB, keyRate, keyCPU, keyDB []float64
	start := time.Now()
	for p := range pairs {
		if p >= minPairs && time.Since(start) > pairTime {
			pairs = p
			break
		}
		var ri, rk [2]auditRound
		for _, side := range [2]int{p % 2, 1 - p%2} {
			s := stacks[side]
			ri[side] = timed(s, batch, intake(s), &s.in, true)
			rk[side] = timed(s, keyBatch, postKey(s), &s.key, false)
		}
		inRate = append(inRate, ri[1].rate/ri[0].rate)
		inCPU = append(inCPU, ri[0].cpuMs/ri[1].cpuMs)
		inDB = append(inDB, ri[0].dbMs/ri[1].dbMs)
		keyRate = append(keyRate, rk[1].rate/rk[0].rate)
		keyCPU = append(keyCPU, rk[0].cpuMs/rk[1].cpuMs)
		keyDB = append(keyDB, rk[0].dbMs/rk[1].dbMs)
	}
	off, on := stacks[0], stacks[1]
	rate := func(s auditSide) float64 { return float64(s.n) / s.seconds }
	perOp := func(v float64, s auditSide) float64 { return 1000 * v / float64(s.n) }
	b.ReportMetric(rate(on.in), "on-tickets/s")
	b.ReportMetric(rate(off.in), "off-tickets/s")
	b.ReportMetric(median(slices.Clone(inRate)), "audit_on/off")
	b.ReportMetric(median(slices.Clone(keyRate)), "apikey_on/off")
	b.ReportMetric(float64(on.in.audit)/float64(on.in.n), "audit-rows/intake")
	fmt.Printf("intake-audit: %d pairs of %d intakes and %d POST /v1/api-keys, one stack with the audit log off and one with it on (ABBA), %d clients\n",
		pairs, batch, keyBatch, clients)
	if cpuOK {
		// The ratio of the totals. At load average 35-43 (other work on the
		// 2 cores) it still moves by about ±0.05 run to run (after 042:
		// totals 0.928, 0.937, 0.932, 1.026; medians of the pairs 0.955,
		// 0.859, 0.931, 1.000).
		b.ReportMetric(perOp(off.in.cpu, off.in)/perOp(on.in.cpu, on.in), "cpu_off/on")
		b.ReportMetric(perOp(off.in.db, off.in)/perOp(on.in.db, on.in), "db_cpu_off/on")
		b.ReportMetric(perOp(off.key.cpu, off.key)/perOp(on.key.cpu, on.key), "apikey_cpu_off/on")
		fmt.Printf("intake-audit: intake CPU off/on (API server, clients and database backends): %s; total ms/intake on=%.3f off=%.3f (ratio %.3f)\n",
			spread(inCPU), perOp(on.in.cpu, on.in), perOp(off.in.cpu, off.in), perOp(off.in.cpu, off.in)/perOp(on.in.cpu, on.in))
		fmt.Printf("intake-audit: intake database CPU off/on (backends): %s; total ms/intake on=%.3f off=%.3f\n",
			spread(inDB), perOp(on.in.db, on.in), perOp(off.in.db, off.in))
		fmt.Printf("intake-audit: POST /v1/api-keys CPU off/on: %s; database %s; total ms/request on=%.3f off=%.3f\n",
			spread(keyCPU), spread(keyDB), perOp(on.key.cpu, on.key), perOp(off.key.cpu, off.key))
	}
	fmt.Printf("intake-audit: intake wall-clock on/off: %s; total on=%.1f off=%.1f tickets/s\n", spread(inRate), rate(on.in), rate(off.in))
	fmt.Printf("intake-audit: POST /v1/api-keys (the write-throughput http/raw numerator) wall-clock on/off: %s; total on=%.1f off=%.1f req/s\n",
		spread(keyRate), rate(on.key), rate(off.key))
	fmt.Printf("intake-audit: audit rows/intake on=%.2f off=%.2f\n",
		float64(on.in.audit)/float64(on.in.n), float64(off.in.audit)/float64(off.in.n))
	// WAL written per operation: the work the audit adds, independent of
	// the machine's load (cluster-wide: the other stack's background work
	// during a batch counts too).
	fmt.Printf("intake-audit: WAL bytes/intake on=%.0f off=%.0f; per POST /v1/api-keys on=%.0f off=%.0f\n",
		on.in.wal/float64(on.in.n), off.in.wal/float64(off.in.n), on.key.wal/float64(on.key.n), off.key.wal/float64(off.key.n))
	if tracked != "none" {
		// Idle backends report their function statistics within 10 s (PostgreSQL 15).
		time.Sleep(11 * time.Second)
		c2, m2 := auditFn()
		onOps := float64(on.in.n + on.key.n)
		fmt.Printf("intake-audit: audit trigger calls per timed operation with the log on=%.2f, their own time ms=%.3f (wall time, track_functions=%s)\n",
			float64(c2-fnCalls)/onOps, (m2-fnMs)/onOps, tracked)
	}
	if su != nil {
		per := func(s auditSide, n int64) float64 { return float64(n) / float64(s.withStats) }
		ms := func(s auditSide, v float64) float64 { return v / float64(s.withStats) }
		fmt.Printf("intake-audit: statements/intake on: top-level=%.2f nested=%.2f; off: top-level=%.2f nested=%.2f\n",
			per(on.in, on.in.stmts.top), per(on.in, on.in.stmts.nested),
			per(off.in, off.in.stmts.top), per(off.in, off.in.stmts.nested))
		fmt.Printf("intake-audit: server execution ms/intake (top-level, triggers included) on=%.3f off=%.3f; of which audit_log inserts on=%.3f\n",
			ms(on.in, on.in.stmts.topMs), ms(off.in, off.in.stmts.topMs), ms(on.in, on.in.stmts.auditMs))
	}
}
