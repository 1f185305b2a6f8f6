package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/servicenet/servicenet/internal/pgtest"
	"github.com/servicenet/servicenet/internal/replicas"
)

// TestRateLimitHoldsAcrossChildReplicas runs two child server processes on
// one database, each configured for 20 requests/s with a burst of 20, and
// sends one key's requests to both at a steady 100 requests/s each for three
// seconds. Together they admit the configured rate (within 20 %), not twice
// it. The client is paced and counts per replica, so a starved client shows
// as fewer requests sent, not as a limiter that admits too few. Each replica
// has authenticated the key once before the flood: a bucket admits its burst
// and then its rate from the moment a request reaches it, and a first
// request that waits for the key's lookup (up to a second under the race
// detector on a loaded machine) would leave the bucket full, its refill
// lost, for as long.
func TestRateLimitHoldsAcrossChildReplicas(t *testing.T) {
	if testing.Short() {
		t.Skip("starts server processes")
	}
	t.Parallel()
	const rate, burst = 20.0, 20
	const perReplica = 100 // requests/s sent to each replica, five times its share
	db := pgtest.NewDB(t)
	const operator = "snop_ratelimit_test"
	limits := []string{"SERVICENET_RATE_PER_SECOND=20", "SERVICENET_RATE_BURST=20"}
	servers := []*crashServer{newCrashServer(t, db, operator, limits...), newCrashServer(t, db, operator, limits...)}
	for _, s := range servers {
		s.start()
	}

	client := &http.Client{Timeout: 5 * time.Second}
	do := func(base, method, path, secret string, body any) (int, http.Header, map[string]any) {
		var buf bytes.Buffer
		if body != nil {
			require.NoError(t, json.NewEncoder(&buf).Encode(body))
		}
		req, err := http.NewRequest(method, base+path, &buf)
		require.NoError(t, err)
		req.Header.Set("Authorization", "Bearer "+secret)
		req.Header.Set("Content-Type", "application/json")
		resp, err := client.Do(req)
		require.NoError(t, err)
		defer resp.Body.Close()
		var m map[string]any
		_ = json.NewDecoder(resp.Body).Decode(&m)
		return resp.StatusCode, resp.Header, m
	}
	// The operator and the brand's admin are limited too: setting up spends
	// a few of their own budgets, not the key's under test.
	status, _, m := do(servers[0].base, http.MethodPost, "/v1/platform/tenants", operator, map[string]any{"name": "Two replicas", "slug": "two-replicas"})
	require.Equal(t, http.StatusCreated, status, "%v", m)
	admin := m["admin_key"].(map[string]any)["secret"].(string)
	status, _, m = do(servers[0].base, http.MethodPost, "/v1/api-keys", admin, map[string]any{"name": "flooded", "roles": []string{"dispatcher"}})
	require.Equal(t, http.StatusCreated, status, "%v", m)
	secret := m["secret"].(string)

	// Both replicas are registered; after two renewal periods each has seen
	// the other and holds half the key's budget.
	require.Eventually(t, func() bool {
		var n int
		err := db.Owner.QueryRow(context.Background(), `SELECT count(*) FROM api_replicas WHERE seen_at > now() - make_interval(secs => $1)`,
			replicas.Stale.Seconds()).Scan(&n)
		return err == nil && n == 2
	}, 10*time.Second, 50*time.Millisecond, "both replicas registered")
	// Each replica looks the key up (its authentication cache's miss) and
	// connects to the client before the window; the token this spends is
	// back long before the sleep ends.
	for i, s := range servers {
		status, _, m := do(s.base, http.MethodGet, "/v1/me", secret, nil)
		require.Equal(t, http.StatusOK, status, "replica %d: %v", i, m)
	}
	time.Sleep(2 * replicas.Period)

	type count struct {
		sent, admitted, refused, other int
		// idle is the longest the replica was left without a request
		// (from the start to the first, or between two sends).
		idle time.Duration
	}
	counts := make([]count, len(servers))
	start := time.Now()
	const window = 3 * time.Second
	var wg sync.WaitGroup
	for i, s := range servers {
		wg.Go(func() {
			tick := time.NewTicker(time.Second / perReplica)
			defer tick.Stop()
			last := start
			for time.Since(start) < window {
				<-tick.C
				c := &counts[i]
				c.sent++
				c.idle = max(c.idle, time.Since(last))
				last = time.Now()
				req, _ := http.NewRequest(http.MethodGet, s.base+"/v1/me", nil)
				req.Header.Set("Authorization", "Bearer "+secret)
				resp, err := client.Do(req)
				if err != nil {
					t.Errorf("replica %d: %v", i, err)
					c.other++
					continue
				}
				_ = resp.Body.Close()
				switch resp.StatusCode {
				case http.StatusOK:
					c.admitted++
					if p := resp.Header.Get("RateLimit-Policy"); p != `"credential";q=20;w=1` {
						t.Errorf("replica %d: RateLimit-Policy %q", i, p)
					}
				case http.StatusTooManyRequests:
					c.refused++
					if resp.Header.Get("Retry-After") == "" {
						t.Errorf("replica %d: 429 without Retry-After", i)
					}
				default:
					c.other++
				}
			}
		})
	}
	wg.Wait()
	elapsed := time.Since(start).Seconds()
	want := float64(burst) + rate*elapsed // the whole bucket and its refill
	admitted := 0
	for i, c := range counts {
		t.Logf("replica %d: sent %d (%.0f/s), admitted %d, refused %d, other %d; at most %s without a request",
			i, c.sent, float64(c.sent)/elapsed, c.admitted, c.refused, c.other, c.idle.Round(time.Millisecond))
		require.Zero(t, c.other)
		require.Positive(t, c.refused, "replica %d was sent more than its share", i)
		// A bucket left without requests for longer than it takes to fill
		// loses its refill: the client, not the limiter, would be measured.
		require.Less(t, c.idle, time.Duration(float64(burst)/rate*float64(time.Second)),
			"replica %d was left idle long enough for its bucket to fill", i)
		admitted += c.admitted
	}
	t.Logf("admitted %d in %.2f s through two child replicas; the configured rate allows %.0f", admitted, elapsed, want)
	require.InDelta(t, want, float64(admitted), 0.2*want, "two replicas hold the key to the configured rate within 20 %%")
}

// TestUnknownKeyFloodChild floods a child server with one unknown key from
// eight clients: every answer is 401 (or 429 once the address keeps
// failing), and the server's own count of database lookups
// (servicenet_auth_lookups_total on /metrics) rises by at most two.
func TestUnknownKeyFloodChild(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a server process")
	}
	t.Parallel()
	db := pgtest.NewDB(t)
	srv := newCrashServer(t, db, "snop_unknown_key_test")
	srv.start()
	lookups := func() float64 {
		t.Helper()
		resp, err := http.Get(srv.base + "/metrics") //nolint:noctx
		require.NoError(t, err)
		defer resp.Body.Close()
		raw, err := io.ReadAll(resp.Body)
		require.NoError(t, err)
		for _, line := range strings.Split(string(raw), "\n") {
			if v, ok := strings.CutPrefix(line, "servicenet_auth_lookups_total "); ok {
				f, err := strconv.ParseFloat(v, 64)
				require.NoError(t, err)
				return f
			}
		}
		t.Fatal("no servicenet_auth_lookups_total on /metrics")
		return 0
	}

	unknown := func() int {
		t.Helper()
		req, _ := http.NewRequest(http.MethodGet, srv.base+"/v1/me", nil)
		req.Header.Set("Authorization", "Bearer sn_live_neverissued0000000000000000")
		resp, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		_ = resp.Body.Close()
		return resp.StatusCode
	}
	// The cache serves once its listener is connected (which /readyz waits
	// for): until then every call is a lookup. Wait until a second request
	// with the key costs nothing.
	waited := time.Now()
	require.Eventually(t, func() bool {
		require.Equal(t, http.StatusUnauthorized, unknown())
		n := lookups()
		require.Equal(t, http.StatusUnauthorized, unknown())
		return lookups() == n
	}, 10*time.Second, 20*time.Millisecond, "the authentication cache serves")
	t.Logf("the cache served %s after the child was ready", time.Since(waited).Round(time.Millisecond))

	before := lookups()
	statuses := make([]map[int]int, 8)
	var wg sync.WaitGroup
	for g := range statuses {
		statuses[g] = map[int]int{}
		wg.Go(func() {
			for range 50 {
				req, _ := http.NewRequest(http.MethodGet, srv.base+"/v1/me", nil)
				req.Header.Set("Authorization", "Bearer sn_live_neverissued0000000000000000")
				resp, err := http.DefaultClient.Do(req)
				if err != nil {
					t.Errorf("%v", err)
					return
				}
				_ = resp.Body.Close()
				statuses[g][resp.StatusCode]++
			}
		})
	}
	wg.Wait()
	total := map[int]int{}
	for _, s := range statuses {
		for k, v := range s {
			total[k] += v
		}
	}
	n := lookups() - before
	t.Logf("400 requests with one unknown key: statuses %v, %.0f database lookups", total, n)
	require.Equal(t, 400, total[http.StatusUnauthorized]+total[http.StatusTooManyRequests], "%v", total)
	require.LessOrEqual(t, n, 2.0, "the flood is answered from the negative entry (one lookup; two if its 5 s expired mid-flood)")
}
