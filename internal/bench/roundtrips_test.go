package bench

import (
	"bufio"
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http/httptest"
	"net/url"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/servicenet/servicenet/internal/apitest"
	"github.com/servicenet/servicenet/internal/app"
	"github.com/servicenet/servicenet/internal/config"
	"github.com/servicenet/servicenet/internal/logging"
	"github.com/servicenet/servicenet/internal/pg"
	"github.com/servicenet/servicenet/internal/pgtest"
)

// BenchmarkIntakeRoundTrips counts what does not depend on the machine's
// load: the database round trips and statements one intake (POST
// /v1/tickets, complete, with an Idempotency-Key, as BenchmarkTickets sends
// it) costs. The server's pool goes through a counting TCP proxy, which
// counts the ReadyForQuery messages the server sends: one per round trip
// the client waits for (a simple query, or a Sync closing a pipelined
// batch; an extra describe round trip of a statement not yet prepared
// counts too). River runs insert-only (app.ModeAPI), so nothing but the
// requests talks to the database during the count. When
// SERVICENET_BENCH_PGSS_URL names a superuser connection to a server with
// pg_stat_statements loaded, it also reports the statements per intake
// (top-level: sent by the server; nested: run by triggers and functions).
func BenchmarkIntakeRoundTrips(b *testing.B) {
	n := 200 // intakes counted, half registered serials, half new
	if v, err := strconv.Atoi(os.Getenv("SERVICENET_BENCH_INTAKES")); err == nil && v > 0 {
		n = v // more, for a profile of the server or the database
	}
	ctx := context.Background()
	env, proxy := newCountedEnv(b, clients)
	f := newTicketFixture(b, env, "bench-rt-"+runID)
	client := newClient(b)
	warmHTTP(b, client, env.Server.URL+"/v1/me", f.agent)
	su := pgssPool(b)
	// Warm: every statement of the path prepared on every connection.
	warm := f.intakes(b, 4*clients)
	runBatch(b, len(warm), func(_, i int) error { _, err := f.open(client, warm[i]); return err })
	// Statistics, as BenchmarkTickets has them: on a new database's
	// unanalyzed tables a connection's cached plans may walk a tenant's
	// rows (deploy/README), which put 1.7 ms of database CPU on an intake
	// where 1.3 ms is its cost.
	analyze(b, env)

	ins := f.intakes(b, n)
	if su != nil {
		require.NoError(b, pgssReset(ctx, su))
	}
	meter := newCPUMeter(ctx, env.DB.Owner)
	trips0 := proxy.trips.Load()
	_, db0 := meter.read()
	// One client: the counts are the same at any concurrency, and the
	// pool keeps its warm connections.
	for i := range ins {
		_, err := f.open(client, ins[i])
		require.NoError(b, err)
	}
	_, db1 := meter.read()
	trips := float64(proxy.trips.Load()-trips0) / float64(n)
	b.ReportMetric(0, "ns/op")
	b.ReportMetric(trips, "roundtrips/intake")
	line := fmt.Sprintf("intake: %.2f database round trips per intake", trips)
	if meter.postmaster != 0 {
		// One client: the database's CPU per intake without contention
		// (the database serves only this count meanwhile, or the figure
		// includes other work: rerun on a private cluster).
		dbMs := float64((db1 - db0).Microseconds()) / 1000 / float64(n)
		b.ReportMetric(dbMs, "db-cpu-ms/intake")
		line += fmt.Sprintf(", %.3f ms database CPU", dbMs)
	}
	if su != nil {
		c, err := pgssCounts(ctx, su, env.DB.Name)
		require.NoError(b, err)
		top, nested := c.top, c.nested
		b.ReportMetric(float64(top)/float64(n), "stmts/intake")
		b.ReportMetric(float64(nested)/float64(n), "nested-stmts/intake")
		line += fmt.Sprintf(", %.2f statements sent (+%.2f run by triggers and functions)", float64(top)/float64(n), float64(nested)/float64(n))
	}
	fmt.Println(line + fmt.Sprintf(" (%d intakes)", n))
	if su != nil && os.Getenv("SERVICENET_BENCH_TRACE") != "" {
		stmts, err := pgssRows(ctx, su, env.DB.Name)
		require.NoError(b, err)
		printStatements("intake", n, stmts)
	}
	if os.Getenv("SERVICENET_BENCH_TRACE") != "" {
		// One more intake of each kind, its statements and round trips.
		for _, in := range f.intakes(b, 2) {
			proxy.tracing.Store(true)
			_, err := f.open(client, in)
			proxy.tracing.Store(false)
			require.NoError(b, err)
			fmt.Printf("intake (registered serial: %t):\n", in.registered)
			for _, l := range proxy.trace {
				fmt.Println("  " + strings.Join(strings.Fields(l), " ")[:min(len(strings.Join(strings.Fields(l), " ")), 140)])
			}
			proxy.trace = nil
		}
	}
}

// newCountedEnv is apitest.New with the server's pool behind a round-trip
// counting proxy and River insert-only.
func newCountedEnv(b testing.TB, conns int32) (*apitest.Env, *tripCounter) {
	b.Helper()
	db := pgtest.NewDB(b)
	p := newTripCounter(b, db.AppURL)
	// The serve pool's timeouts: with its lock_timeout equal to the
	// idempotency claim's wait, the claim needs no SET LOCAL around its
	// lock, as in servicenet serve (the counts are the server's).
	cfg, err := config.Load(os.Getenv)
	require.NoError(b, err)
	pool, err := pg.Connect(context.Background(), p.url, pg.PoolOptions{Name: "bench-counted", MaxConns: conns,
		StatementTimeout: cfg.DBStatementTimeout, LockTimeout: cfg.DBLockTimeout})
	require.NoError(b, err)
	b.Cleanup(pool.Close)
	logs := &apitest.SyncBuffer{}
	a, err := app.New(context.Background(), app.Config{Mode: app.ModeAPI, RiverTestOnly: true,
		RatePerSecond: 1e9, RateBurst: 1e9, OperatorToken: apitest.OperatorToken, TenantConcurrency: 10000},
		pool, logging.New(logs, slog.LevelWarn))
	require.NoError(b, err)
	ctx, cancel := context.WithCancel(context.Background())
	require.NoError(b, a.Start(ctx))
	hs := httptest.NewServer(a.Handler())
	b.Cleanup(func() {
		hs.Close()
		cancel()
		_ = a.Stop(context.Background())
	})
	return &apitest.Env{App: a, DB: db, Server: hs, Logs: logs}, p
}

// tripCounter is a TCP proxy to a PostgreSQL server that counts the
// ReadyForQuery messages the server sends.
type tripCounter struct {
	url   string
	trips atomic.Int64

	// While tracing, the statements the client sends and the round-trip
	// boundaries are logged (to see where an intake's round trips go).
	tracing atomic.Bool
	mu      sync.Mutex
	trace   []string
	// traceConn is the proxied connection of each trace line (from 0, in
	// the order they were accepted).
	traceConn []int
}

func (t *tripCounter) log(conn int, s string) {
	if !t.tracing.Load() {
		return
	}
	t.mu.Lock()
	t.trace = append(t.trace, s)
	t.traceConn = append(t.traceConn, conn)
	t.mu.Unlock()
}

// client copies the client's messages to the server; while tracing it logs
// the statements they run (Parse and simple Query; Bind of a prepared
// statement by its SQL).
func (t *tripCounter) client(conn int, dst io.Writer, src io.Reader) {
	r := bufio.NewReader(src)
	w := bufio.NewWriter(dst)
	named := map[string]string{}
	var l [4]byte
	if _, err := io.ReadFull(r, l[:]); err != nil { // startup: no type byte
		return
	}
	body := make([]byte, binary.BigEndian.Uint32(l[:])-4)
	if _, err := io.ReadFull(r, body); err != nil {
		return
	}
	_, _ = w.Write(l[:])
	_, _ = w.Write(body)
	_ = w.Flush()
	for {
		var head [5]byte
		if _, err := io.ReadFull(r, head[:]); err != nil {
			return
		}
		body := make([]byte, binary.BigEndian.Uint32(head[1:])-4)
		if _, err := io.ReadFull(r, body); err != nil {
			return
		}
		switch head[0] {
		case 'Q':
			t.log(conn, "Q "+cstr(body))
		case 'P':
			name := cstr(body)
			sql := cstr(body[len(name)+1:])
			if name != "" {
				named[name] = sql
			}
			t.log(conn, "P "+sql)
		case 'B':
			portal := cstr(body)
			stmt := cstr(body[len(portal)+1:])
			if stmt != "" {
				t.log(conn, "B "+named[stmt])
			}
		}
		_, _ = w.Write(head[:])
		_, _ = w.Write(body)
		if r.Buffered() == 0 {
			if err := w.Flush(); err != nil {
				return
			}
		}
	}
}

func cstr(b []byte) string {
	if i := bytes.IndexByte(b, 0); i >= 0 {
		return string(b[:i])
	}
	return string(b)
}

func newTripCounter(b testing.TB, rawURL string) *tripCounter {
	b.Helper()
	u, err := url.Parse(rawURL)
	require.NoError(b, err)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(b, err)
	b.Cleanup(func() { _ = ln.Close() })
	target := u.Host
	u.Host = ln.Addr().String()
	t := &tripCounter{url: u.String()}
	go func() {
		conns := 0
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			s, err := net.Dial("tcp", target)
			if err != nil {
				_ = c.Close()
				continue
			}
			conn := conns
			conns++
			go func() { t.client(conn, s, c); _ = s.Close() }()
			go func() { t.count(conn, c, s); _ = c.Close() }()
		}
	}()
	return t
}

// count copies the server's messages to the client, counting the
// ReadyForQuery ('Z') ones. Server messages are a type byte and a length
// (itself included); the startup phase sends nothing untyped. While
// tracing, a ReadyForQuery is logged as tripEnd followed by the
// transaction status before and after the round trip ('I' idle, 'T' in a
// transaction, 'E' in a failed one).
func (t *tripCounter) count(conn int, dst io.Writer, src io.Reader) {
	buf := make([]byte, 64<<10)
	var head [5]byte
	have, skip := 0, 0 // bytes of the header read; bytes of a body left to pass
	status, ready := byte('I'), false
	for {
		n, err := src.Read(buf)
		for i := 0; i < n; {
			if skip > 0 {
				if ready { // a ReadyForQuery's body: the transaction status
					t.log(conn, tripEnd+string([]byte{' ', status, ' ', buf[i]}))
					status, ready = buf[i], false
				}
				k := min(skip, n-i)
				skip -= k
				i += k
				continue
			}
			head[have] = buf[i]
			have++
			i++
			if have == 5 {
				if head[0] == 'Z' {
					t.trips.Add(1)
					ready = true
				}
				skip = int(binary.BigEndian.Uint32(head[1:])) - 4
				have = 0
			}
		}
		if n > 0 {
			if _, werr := dst.Write(buf[:n]); werr != nil {
				return
			}
		}
		if err != nil {
			return
		}
	}
}

// tripEnd begins the trace line of a round trip's end.
const tripEnd = "---- round trip ends"
