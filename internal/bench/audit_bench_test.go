package bench

import (
	"context"
	"fmt"
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
// shared machine's noise falls on both alike: batches of 200 intakes by 16
// clients, alternately with the triggers enabled and disabled, and reports
// each rate and their ratio ("audit_on/off"). It also reports what does
// not depend on the CPU: audit rows written per intake, and, when
// SERVICENET_BENCH_PGSS_URL names a superuser connection to a server with
// pg_stat_statements loaded, the statements the server ran per intake
// (top-level ones, i.e. sent by the client, and nested ones, run by
// triggers and functions) with the triggers on and off.
//
// On a shared machine the wall-clock rate of a batch swings with the other
// processes' load, by more than the audit costs. The benchmark therefore
// also reports what a CPU-bound server's rate follows, the CPU time per
// intake, measured per batch: this process (the API server and its
// clients) from getrusage, and the database's backends from their
// /proc/<pid>/schedstat (a local cluster; elsewhere it is not reported).
// "cpu_off/on" is the CPU per intake without the log over the CPU per
// intake with it: the intake rate with the log on, as a fraction of the
// rate without it, on a machine the intake saturates. The wall-clock
// ratio is reported as the median and range of adjacent off/on pairs.

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

// cpuSeconds is the CPU time used so far by this process and by the
// backends connected to owner's database; ok is false when the backends'
// times cannot be read (the database is not on this machine).
func cpuSeconds(ctx context.Context, owner *pgxpool.Pool) (secs float64, ok bool, err error) {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0, false, err
	}
	secs = float64(ru.Utime.Nano()+ru.Stime.Nano()) / 1e9
	rows, err := owner.Query(ctx, `SELECT pid FROM pg_stat_activity WHERE datname = current_database()`)
	if err != nil {
		return 0, false, err
	}
	pids, err := pgx.CollectRows(rows, pgx.RowTo[int32])
	if err != nil {
		return 0, false, err
	}
	ok = true
	for _, pid := range pids {
		// schedstat: nanoseconds on the CPU, waiting, time slices.
		raw, err := os.ReadFile("/proc/" + strconv.Itoa(int(pid)) + "/schedstat")
		if err != nil {
			if os.IsNotExist(err) {
				continue // a backend that ended since
			}
			return secs, false, nil
		}
		ns, err := strconv.ParseInt(strings.Fields(string(raw))[0], 10, 64)
		if err != nil {
			return secs, false, nil
		}
		secs += float64(ns) / 1e9
	}
	return secs, ok && len(pids) > 0, nil
}

func BenchmarkIntakeAudit(b *testing.B) {
	const batch = 200
	ctx := context.Background()
	env := newEnv(b)
	f := newTicketFixture(b, env, "bench-audit-"+runID)
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
	// Warm the intake path untimed.
	warm := f.intakes(b, batch)
	runBatch(b, batch, func(_, i int) error { _, err := f.open(client, warm[i]); return err })

	type side struct {
		intakes   int
		seconds   float64
		audit     int64
		stmts     stmtCounts
		withStats int
		fnCalls   int64
		fnMs      float64
		cpu       float64 // seconds, this process and the backends
	}
	var sides [2]side // 0: off, 1: on
	rounds := 3 * b.N
	fnCalls, fnMs := auditFn() // the off rounds call it never: the delta is the on rounds'
	cpuOK := true
	var pairs []float64 // wall-clock rate on / off of adjacent batches
	var offRate float64
	for r := range 2 * rounds {
		on := r%2 == 1
		require.NoError(b, setAuditTriggers(ctx, env.DB.Owner, on))
		ins := f.intakes(b, batch)
		before := auditRows()
		if su != nil {
			require.NoError(b, pgssReset(ctx, su))
		}
		cpu0, ok0, err := cpuSeconds(ctx, env.DB.Owner)
		require.NoError(b, err)
		rate := runBatch(b, batch, func(_, i int) error { _, err := f.open(client, ins[i]); return err })
		cpu1, ok1, err := cpuSeconds(ctx, env.DB.Owner)
		require.NoError(b, err)
		cpuOK = cpuOK && ok0 && ok1
		s := &sides[0]
		if on {
			s = &sides[1]
			pairs = append(pairs, rate/offRate)
		} else {
			offRate = rate
		}
		s.cpu += cpu1 - cpu0
		if su != nil {
			c, err := pgssCounts(ctx, su)
			require.NoError(b, err)
			s.stmts.top += c.top
			s.stmts.nested += c.nested
			s.stmts.topMs += c.topMs
			s.stmts.auditMs += c.auditMs
			s.withStats += batch
		}
		s.audit += auditRows() - before
		s.intakes += batch
		s.seconds += float64(batch) / rate
	}
	require.NoError(b, setAuditTriggers(ctx, env.DB.Owner, true))
	// Idle backends report their function statistics within 10 s (PostgreSQL 15).
	time.Sleep(11 * time.Second)
	c2, m2 := auditFn()
	sides[1].fnCalls, sides[1].fnMs = c2-fnCalls, m2-fnMs
	off, on := float64(sides[0].intakes)/sides[0].seconds, float64(sides[1].intakes)/sides[1].seconds
	b.ReportMetric(on, "on-tickets/s")
	b.ReportMetric(off, "off-tickets/s")
	b.ReportMetric(on/off, "audit_on/off")
	b.ReportMetric(float64(sides[1].audit)/float64(sides[1].intakes), "audit-rows/intake")
	slices.Sort(pairs)
	fmt.Printf("intake-audit: wall-clock on/off of %d adjacent pairs: median=%.3f range %.3f–%.3f\n",
		len(pairs), pairs[len(pairs)/2], pairs[0], pairs[len(pairs)-1])
	if cpuOK {
		cpuOff, cpuOn := 1000*sides[0].cpu/float64(sides[0].intakes), 1000*sides[1].cpu/float64(sides[1].intakes)
		b.ReportMetric(cpuOff/cpuOn, "cpu_off/on")
		fmt.Printf("intake-audit: CPU ms/intake (API server, clients and database backends) on=%.3f off=%.3f; cpu_off/on=%.3f\n",
			cpuOn, cpuOff, cpuOff/cpuOn)
	}
	fmt.Printf("intake-audit: on=%.1f tickets/s off=%.1f tickets/s on/off=%.3f audit rows/intake on=%.2f off=%.2f (%d intakes each, %d clients)\n",
		on, off, on/off, float64(sides[1].audit)/float64(sides[1].intakes), float64(sides[0].audit)/float64(sides[0].intakes),
		sides[1].intakes, clients)
	fmt.Printf("intake-audit: audit_row calls/intake on=%.2f, its server time ms/intake on=%.3f (needs track_functions = pl; "+
		"includes the untimed registration of half the callers' units, a customer and a unit each)\n",
		float64(sides[1].fnCalls)/float64(sides[1].intakes), sides[1].fnMs/float64(sides[1].intakes))
	if su != nil {
		per := func(s side, n int64) float64 { return float64(n) / float64(s.withStats) }
		ms := func(s side, v float64) float64 { return v / float64(s.withStats) }
		fmt.Printf("intake-audit: statements/intake on: top-level=%.2f nested=%.2f; off: top-level=%.2f nested=%.2f\n",
			per(sides[1], sides[1].stmts.top), per(sides[1], sides[1].stmts.nested),
			per(sides[0], sides[0].stmts.top), per(sides[0], sides[0].stmts.nested))
		fmt.Printf("intake-audit: server execution ms/intake (top-level, triggers included) on=%.3f off=%.3f; of which audit_log inserts on=%.3f\n",
			ms(sides[1], sides[1].stmts.topMs), ms(sides[0], sides[0].stmts.topMs), ms(sides[1], sides[1].stmts.auditMs))
	}
}
