package bench

import (
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
// takes 3, its writes riding the adjudication job's insert. The server's
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
		requireTrips(t, proxy, 3, "claim submission", func() error { return c.submit(client, url, seqs.Add(1)) })
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
	require.Equal(t, want, trips-backgroundTrips(trace, conns), "%s:\n%s", what, strings.Join(trace, "\n"))
}

// backgroundTrips counts the round trips of trace that were none of the
// request's: River's notice of an inserted job (sent once per queue per
// fetch cooldown), the batched write of the keys' last use, the replica's
// heartbeat, a statement's preparation (its Parse and Describe, once per
// connection: on a connection the warm-up did not reach), a liveness
// probe (the pool's ping of a connection idle for over a second, a
// SELECT 1 of the server's own).
//
// Each connection's lines are read apart (conns: the connection of each
// line), since other connections' work interleaves with the request's.
func backgroundTrips(trace []string, conns []int) int64 {
	var n int64
	trip := map[int][]string{} // a connection's statements since its last round trip ended
	for i, l := range trace {
		c := conns[i]
		if l != "---- round trip ends" {
			trip[c] = append(trip[c], l)
			continue
		}
		if len(trip[c]) > 0 && !slices.ContainsFunc(trip[c], func(s string) bool {
			return !strings.HasPrefix(s, "P ") && s != "Q -- ping" && s != "Q SELECT 1" && !strings.Contains(s, "pg_notify") &&
				!strings.Contains(s, "last_used_at") && !strings.Contains(s, "api_replicas")
		}) {
			n++
		}
		trip[c] = nil
	}
	return n
}
