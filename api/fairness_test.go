package api_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/servicenet/servicenet/internal/apitest"
	"github.com/servicenet/servicenet/internal/app"
	"github.com/servicenet/servicenet/internal/logging"
	"github.com/servicenet/servicenet/internal/pg"
)

// get sends GET path with a bearer credential to base.
func get(t *testing.T, base, path, secret string) (int, http.Header) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, base+path, nil)
	require.NoError(t, err)
	req.Header.Set("Authorization", "Bearer "+secret)
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode, resp.Header
}

// secondServer starts another API server (its own App and pool) on env's
// database, with the given rate.
func secondServer(t *testing.T, env *apitest.Env, rate float64, burst int) (*app.App, string) {
	t.Helper()
	ctx := context.Background()
	pool, err := pg.Connect(ctx, env.DB.AppURL, pg.PoolOptions{Name: "second-server"})
	require.NoError(t, err)
	t.Cleanup(pool.Close)
	a, err := app.New(ctx, app.Config{Mode: app.ModeAPI, RatePerSecond: rate, RateBurst: burst}, pool, logging.New(io.Discard, slog.LevelWarn))
	require.NoError(t, err)
	require.NoError(t, a.Start(ctx))
	srv := httptest.NewServer(a.Handler())
	t.Cleanup(func() {
		srv.Close()
		_ = a.Stop(context.Background())
	})
	return a, srv.URL
}

// TestRateLimitHoldsAcrossReplicas runs two API servers on one database,
// each configured for 20 requests/s with a burst of 20, and floods one key
// through both for three seconds. Each server enforces its half, so the two
// together admit the configured rate (within 20 %), not twice it; no request
// writes to the database for it. The headers state the key's whole policy.
func TestRateLimitHoldsAcrossReplicas(t *testing.T) {
	t.Parallel()
	const rate, burst = 20.0, 20
	env := apitest.New(t, apitest.Options{RatePerSecond: rate, RateBurst: burst})
	ten := env.CreateTenant(t, "two-replicas")
	secret, _ := env.Key(t, ten.AdminKey, "dispatcher")
	second, other := secondServer(t, env, rate, burst)
	require.Eventually(t, func() bool { return env.Replicas.Count() == 2 && second.Replicas.Count() == 2 },
		5*time.Second, 50*time.Millisecond, "the replicas see each other")

	status, h := get(t, env.Server.URL, "/v1/me", secret)
	require.Equal(t, http.StatusOK, status)
	require.Equal(t, `"credential";q=20;w=1`, h.Get("RateLimit-Policy"))
	require.Regexp(t, `^"credential";r=1[0-9];t=1$`, h.Get("RateLimit"), "one of the 20 is spent (this replica holds 10)")

	var admitted, refused atomic.Int64
	start := time.Now()
	var wg sync.WaitGroup
	for w := range 4 {
		base := env.Server.URL
		if w%2 == 1 {
			base = other
		}
		wg.Go(func() {
			for time.Since(start) < 3*time.Second {
				status, h := get(t, base, "/v1/me", secret)
				switch status {
				case http.StatusOK:
					admitted.Add(1)
				case http.StatusTooManyRequests:
					refused.Add(1)
					require.NotEmpty(t, h.Get("Retry-After"))
					time.Sleep(5 * time.Millisecond)
				default:
					t.Errorf("status %d", status)
				}
			}
		})
	}
	wg.Wait()
	elapsed := time.Since(start).Seconds()
	want := float64(burst-1) + rate*elapsed // the bucket, less the request above, and its refill
	got := float64(admitted.Load())
	t.Logf("admitted %d and refused %d in %.2f s through two replicas; the configured rate allows %.0f", admitted.Load(), refused.Load(), elapsed, want)
	require.InDelta(t, want, got, 0.2*want, "two replicas hold the key to the configured rate within 20 %%")
	require.Positive(t, refused.Load())
}

// TestUnknownKeyFloodIsServedFromTheCache floods the API with one unknown
// key from an address whose budget is large: every answer is 401, and the
// database is asked once, the cache's negative entry answering the rest.
func TestUnknownKeyFloodIsServedFromTheCache(t *testing.T) {
	t.Parallel()
	env := apitest.New(t)
	ten := env.CreateTenant(t, "negative-cache")
	status, _ := get(t, env.Server.URL, "/v1/me", ten.AdminKey)
	require.Equal(t, http.StatusOK, status)

	before := env.Identity.Lookups()
	var wg sync.WaitGroup
	var unauthorized atomic.Int64
	for range 8 {
		wg.Go(func() {
			for range 50 {
				if status, _ := get(t, env.Server.URL, "/v1/me", "sn_live_neverissued0000000000000000"); status == http.StatusUnauthorized {
					unauthorized.Add(1)
				}
			}
		})
	}
	wg.Wait()
	require.EqualValues(t, 400, unauthorized.Load())
	lookups := env.Identity.Lookups() - before
	t.Logf("400 requests with one unknown key cost %d database lookups", lookups)
	require.LessOrEqual(t, lookups, int64(2), "the flood is answered from the negative entry (one lookup; two if its 5 s expired mid-flood)")
}

// openUpload starts a network import whose body the test writes: it
// returns the body's writer and a channel that receives the status.
func openUpload(t *testing.T, env *apitest.Env, secret string) (*io.PipeWriter, <-chan int) {
	t.Helper()
	pr, pw := io.Pipe()
	req, err := http.NewRequest(http.MethodPost, env.Server.URL+"/v1/network/imports", pr)
	require.NoError(t, err)
	req.Header.Set("Authorization", "Bearer "+secret)
	req.Header.Set("Content-Type", "application/x-ndjson")
	done := make(chan int, 1)
	go func() {
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			done <- 0
			return
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		done <- resp.StatusCode
	}()
	t.Cleanup(func() { _ = pw.CloseWithError(io.ErrUnexpectedEOF) })
	return pw, done
}

// uploadLocks counts the upload slots one tenant holds: its two-key
// advisory locks (objsubid 2), not the other advisory locks that tests
// running in parallel on the same database take meanwhile.
func uploadLocks(t *testing.T, env *apitest.Env, tenantID string) int {
	t.Helper()
	var n int
	require.NoError(t, env.DB.Owner.QueryRow(context.Background(),
		`SELECT count(*) FROM pg_locks
		  WHERE locktype = 'advisory' AND granted AND objsubid = 2
		    AND database = (SELECT oid FROM pg_database WHERE datname = current_database())
		    AND classid = hashtext('network_import_upload:' || $1)::oid`, tenantID).Scan(&n))
	return n
}

func nodeLine(code string) string {
	return fmt.Sprintf(`{"type":"node","external_code":%q,"name":"网点 %s","tier":"manufacturer","status":"active","coverage":["370000"],"categories":["washer"],"service_kinds":["repair"],"daily_capacity":0}`+"\n", code, code)
}

// TestFourthConcurrentUploadIsRefused holds three uploads of one tenant
// open: a fourth is refused with 429 and Retry-After (another tenant's is
// not), and once the three finish they are all imported.
func TestFourthConcurrentUploadIsRefused(t *testing.T) {
	t.Parallel()
	env := apitest.New(t)
	a := env.CreateTenant(t, "uploads-a")
	b := env.CreateTenant(t, "uploads-b")
	var open []*io.PipeWriter
	var dones []<-chan int
	for i := range 3 {
		pw, done := openUpload(t, env, a.AdminKey)
		_, err := pw.Write([]byte(nodeLine(fmt.Sprintf("MFR%d", i))))
		require.NoError(t, err)
		open, dones = append(open, pw), append(dones, done)
	}
	require.Eventually(t, func() bool { return uploadLocks(t, env, a.ID) == 3 }, 30*time.Second, 10*time.Millisecond)

	r := env.Do(t, http.MethodPost, "/v1/network/imports", a.AdminKey, nodeLine("MFR9"), "Content-Type: application/x-ndjson")
	require.Equal(t, http.StatusTooManyRequests, r.Status, "%s", r.Body)
	require.Equal(t, "5", r.Header.Get("Retry-After"))
	require.Contains(t, string(r.Body), `"rate_limited"`)
	r = env.Do(t, http.MethodPost, "/v1/network/imports", b.AdminKey, nodeLine("B"), "Content-Type: application/x-ndjson")
	require.Equal(t, http.StatusAccepted, r.Status, "another tenant uploads meanwhile: %s", r.Body)

	for i, pw := range open {
		require.NoError(t, pw.Close())
		require.Equal(t, http.StatusAccepted, <-dones[i])
	}
	r = env.Do(t, http.MethodPost, "/v1/network/imports", a.AdminKey, nodeLine("MFR9"), "Content-Type: application/x-ndjson")
	require.Equal(t, http.StatusAccepted, r.Status, "a slot is free again: %s", r.Body)
	var imports int
	require.NoError(t, pg.InTenantTx(context.Background(), env.DB.App, a.ID, func(tx pg.TenantTx) error {
		return tx.QueryRow(context.Background(), `SELECT count(*) FROM network_imports WHERE tenant_id = $1`, tx.TenantID).Scan(&imports)
	}))
	require.Equal(t, 4, imports, "the refused upload stored nothing")
}

// TestUploadLargerThanTheLimitIsRefused streams past the size limit: 413,
// nothing stored, whether the length is declared or not.
func TestUploadLargerThanTheLimitIsRefused(t *testing.T) {
	t.Parallel()
	env := apitest.New(t, apitest.Options{MaxImportBytes: 64 << 10})
	ten := env.CreateTenant(t, "too-large")
	file := strings.Repeat(nodeLine("MFR"), (64<<10)/len(nodeLine("MFR"))+1)
	r := env.Do(t, http.MethodPost, "/v1/network/imports", ten.AdminKey, file, "Content-Type: application/x-ndjson")
	require.Equal(t, http.StatusRequestEntityTooLarge, r.Status, "declared length: %s", r.Body)

	pw, done := openUpload(t, env, ten.AdminKey)
	go func() {
		_, _ = pw.Write([]byte(file))
		_ = pw.Close()
	}()
	require.Equal(t, http.StatusRequestEntityTooLarge, <-done, "streamed without a length")
	var imports, chunks int
	require.NoError(t, pg.InTenantTx(context.Background(), env.DB.App, ten.ID, func(tx pg.TenantTx) error {
		if err := tx.QueryRow(context.Background(), `SELECT count(*) FROM network_imports WHERE tenant_id = $1`, tx.TenantID).Scan(&imports); err != nil {
			return err
		}
		return tx.QueryRow(context.Background(), `SELECT count(*) FROM network_import_chunks WHERE tenant_id = $1`, tx.TenantID).Scan(&chunks)
	}))
	require.Zero(t, imports)
	require.Zero(t, chunks)
}

// TestTenantShareOfConcurrentRequests gives each tenant two concurrent
// requests: with two uploads of tenant A open, A's next request waits
// briefly and is refused with 429, while tenant B is served at once.
func TestTenantShareOfConcurrentRequests(t *testing.T) {
	t.Parallel()
	env := apitest.New(t, apitest.Options{TenantConcurrency: 2})
	a := env.CreateTenant(t, "share-a")
	b := env.CreateTenant(t, "share-b")
	for i := range 2 {
		pw, _ := openUpload(t, env, a.AdminKey)
		_, err := pw.Write([]byte(nodeLine(fmt.Sprintf("MFR%d", i))))
		require.NoError(t, err)
	}
	require.Eventually(t, func() bool { return uploadLocks(t, env, a.ID) == 2 }, 30*time.Second, 10*time.Millisecond)

	start := time.Now()
	r := env.Do(t, http.MethodGet, "/v1/me", a.AdminKey, nil)
	require.Equal(t, http.StatusTooManyRequests, r.Status, "%s", r.Body)
	require.Equal(t, "1", r.Header.Get("Retry-After"))
	require.GreaterOrEqual(t, time.Since(start), 400*time.Millisecond, "it waited for a slot first")

	r = env.Do(t, http.MethodGet, "/v1/me", b.AdminKey, nil)
	require.Equal(t, http.StatusOK, r.Status, "tenant B has its own share: %s", r.Body)
}
