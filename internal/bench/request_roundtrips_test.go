package bench

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestRequestRoundTrips keeps the request path's database round trips where
// issue 11 left them, in the suite (the benchmarks report them, and nothing
// else would notice one more): an intake (POST /v1/tickets, complete, with
// an Idempotency-Key, as BenchmarkTickets sends it) takes 2, BEGIN and the
// key's claim riding its reads, its writes riding the stored response and
// COMMIT; a claim submission (POST /v1/claims, as BenchmarkClaims sends it)
// takes 2 the same way (it writes no adjudication job: the claim awaits the
// sweep). The server's
// pool goes through the counting proxy of BenchmarkIntakeRoundTrips, its
// connections warmed first.
// What may add a round trip now and then, and is not the request's (River's
// notice of an inserted job, the batched write of the keys' last use, the
// replica's heartbeat), is recognized by its statements and not counted.
func TestRequestRoundTrips(t *testing.T) {
	env, proxy := newCountedEnv(t, clients)
	client := newClient(t)
	f := newTicketFixture(t, env, "rt-intake-"+runID)
	warmHTTP(t, client, env.Server.URL+"/v1/me", f.agent)
	const n = 20
	ins := f.intakes(t, 2*clients+n)
	require.NoError(t, runConcurrently(2*clients, func(_, i int) error { _, err := f.open(client, ins[i]); return err }))
	for _, in := range ins[2*clients:] {
		requireTrips(t, proxy, 2, "intake", func() error { _, err := f.open(client, in); return err })
	}

	c := newClaimFixture(t, env, "rt-claims-"+runID, 8)
	url := env.Server.URL + "/v1/claims"
	require.NoError(t, runConcurrently(2*clients, func(_, _ int) error { return c.submit(client, url, seqs.Add(1)) }))
	for range n {
		requireTrips(t, proxy, 2, "claim submission", func() error { return c.submit(client, url, seqs.Add(1)) })
	}
}

// requireTrips runs request alone and requires that it took want round
// trips, not counting those of background work (see backgroundTrips).
func requireTrips(t *testing.T, proxy *tripCounter, want int64, what string, request func() error) {
	t.Helper()
	proxy.mu.Lock()
	proxy.trace, proxy.traceConn = nil, nil
	proxy.mu.Unlock()
	proxy.tracing.Store(true)
	before := proxy.trips.Load()
	err := request()
	trips := proxy.trips.Load() - before
	proxy.tracing.Store(false)
	require.NoError(t, err)
	proxy.mu.Lock()
	trace, conns := slices.Clone(proxy.trace), slices.Clone(proxy.traceConn)
	proxy.mu.Unlock()
	lines := make([]string, len(trace))
	for i, l := range trace {
		lines[i] = fmt.Sprintf("[%d] %s", conns[i], l)
	}
	require.Equal(t, want, trips-backgroundTrips(trace, conns), "%s:\n%s", what, strings.Join(lines, "\n"))
}

// backgroundTrips counts the round trips of trace that were none of the
// request's. The request's round trips are those of transactions (or
// single statements outside one) that began in the window and ran none
// of the statements of background work: the batched write of the keys'
// last use, the replica's heartbeat, a liveness probe (the pool's ping of a
// connection idle for over a second, a SELECT 1 of the server's own). A
// transaction that began before the window (its first round trip's
// statements were sent before it, or its connection was already in a
// transaction) is background work too: the request's all begin inside it.
// So is a round trip that only prepares a statement (its Parse and
// Describe, once per connection: on a connection the warm-up did not
// reach) or sends River's notice of an inserted job (once per queue per
// fetch cooldown, inside the inserting transaction), wherever it falls.
//
// Each connection's lines are read apart (conns: the connection of each
// line), since other connections' work interleaves with the request's; a
// connection's round trips are grouped into transactions by the status
// each round trip's end reports.
func backgroundTrips(trace []string, conns []int) int64 {
	type transaction struct {
		trips      int64
		background bool // began before the window, or ran background work
	}
	var n int64
	stmts := map[int][]string{}    // a connection's statements since its last round trip ended
	open := map[int]*transaction{} // a connection's transaction in progress
	for i, l := range trace {
		c := conns[i]
		if !strings.HasPrefix(l, tripEnd) {
			stmts[c] = append(stmts[c], l)
			continue
		}
		var before, after byte
		if _, err := fmt.Sscanf(l[len(tripEnd):], " %c %c", &before, &after); err != nil {
			panic("trace: " + l)
		}
		trip := stmts[c]
		stmts[c] = nil
		if len(trip) > 0 && !slices.ContainsFunc(trip, func(s string) bool {
			return !strings.HasPrefix(s, "P ") && !strings.Contains(s, "pg_notify")
		}) {
			n++ // a preparation, or River's notice (in the request's transaction or not)
			continue
		}
		tx := open[c]
		if tx == nil {
			tx = &transaction{background: len(trip) == 0 || before != 'I'}
			open[c] = tx
		}
		tx.trips++
		tx.background = tx.background || slices.ContainsFunc(trip, func(s string) bool {
			return s == "Q -- ping" || s == "Q SELECT 1" || strings.Contains(s, "last_used_at") || strings.Contains(s, "api_replicas")
		})
		if after == 'I' {
			if tx.background {
				n += tx.trips
			}
			delete(open, c)
		}
	}
	for _, tx := range open { // still running at the window's end: not the request's, which has answered
		n += tx.trips
	}
	return n
}

// TestBackgroundTrips: what the CI run of c2e14d0 saw in an intake's window
// (the keys' last-use batch as a transaction of two round trips, round
// trips of transactions begun before the window), against the request's.
func TestBackgroundTrips(t *testing.T) {
	trace := []struct {
		conn int
		line string
	}{
		{1, tripEnd + " T T"}, // its statements sent before the window
		{2, "B BEGIN"},
		{3, "B BEGIN"},
		{2, "B SELECT set_config('app.tenant_id', $1, true)"},
		{2, "B UPDATE api_keys k SET last_used_at = u.at"},
		{3, "B SELECT set_config('app.tenant_id', $1, true)"},
		{3, "B SELECT pg_advisory_xact_lock(hashtextextended($1, 0))"},
		{2, tripEnd + " I T"},
		{4, "B COMMIT"}, // a transaction begun before the window
		{3, tripEnd + " I T"},
		{4, tripEnd + " T I"},
		{3, "P -- name: PGNotifyMany :exec"},
		{3, tripEnd + " T T"},
		{3, "B SELECT pg_notify($1, $2)"},
		{3, tripEnd + " T T"},
		{2, "B COMMIT"},
		{3, "B INSERT INTO tickets"},
		{3, "B COMMIT"},
		{2, tripEnd + " T I"},
		{3, tripEnd + " T I"},
		{5, "Q -- ping"},
		{5, tripEnd + " I I"},
		{6, "B BEGIN"}, // still running at the window's end
		{6, tripEnd + " I T"},
	}
	lines, conns := make([]string, len(trace)), make([]int, len(trace))
	for i, l := range trace {
		lines[i], conns[i] = l.line, l.conn
	}
	// 10 round trips, the request's 2 of them: its BEGIN and reads, its
	// writes and COMMIT.
	require.Equal(t, int64(10-2), backgroundTrips(lines, conns))
}
