package api_test

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/servicenet/servicenet/internal/apitest"
	"github.com/servicenet/servicenet/internal/app"
	"github.com/servicenet/servicenet/internal/logging"
	"github.com/servicenet/servicenet/internal/pg"
)

// TestRevocationReachesEveryServer runs two API servers (two Apps, two
// pools) on one database. Both authenticate a key from their caches; once
// it is revoked through one, the other refuses it within a second.
func TestRevocationReachesEveryServer(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	env := apitest.New(t)
	ten := env.CreateTenant(t, "revoke-two")
	secret, id := env.Key(t, ten.AdminKey, "dispatcher")

	pool, err := pg.Connect(ctx, env.DB.AppURL, pg.PoolOptions{Name: "second-server"})
	require.NoError(t, err)
	t.Cleanup(pool.Close)
	second, err := app.New(ctx, app.Config{Mode: app.ModeAPI, RatePerSecond: 1e6, RateBurst: 1e6}, pool, logging.New(io.Discard, slog.LevelWarn))
	require.NoError(t, err)
	require.NoError(t, second.Start(ctx))
	other := httptest.NewServer(second.Handler())
	t.Cleanup(func() {
		other.Close()
		_ = second.Stop(context.Background())
	})

	me := func(base string) int {
		req, err := http.NewRequest(http.MethodGet, base+"/v1/me", nil)
		require.NoError(t, err)
		req.Header.Set("Authorization", "Bearer "+secret)
		resp, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		return resp.StatusCode
	}
	// Both servers have the key in their caches.
	for range 3 {
		require.Equal(t, http.StatusOK, me(env.Server.URL))
		require.Equal(t, http.StatusOK, me(other.URL))
	}

	r := env.Do(t, http.MethodPost, "/v1/api-keys/"+id+"/revoke", ten.AdminKey, nil)
	require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
	revoked := time.Now()
	require.Equal(t, http.StatusUnauthorized, me(env.Server.URL), "the revoking server refuses at once")
	require.Eventually(t, func() bool { return me(other.URL) == http.StatusUnauthorized }, time.Second, 10*time.Millisecond,
		"the other server still accepts a revoked key")
	t.Logf("the other server refused the revoked key %s after the revocation", time.Since(revoked).Round(time.Millisecond))
}

// TestFailedAuthenticationsAreLimitedPerAddress floods one address with
// unknown keys: past the budget it gets 429 with Retry-After, none of which
// reaches the database, while a key the server knows keeps working.
func TestFailedAuthenticationsAreLimitedPerAddress(t *testing.T) {
	t.Parallel()
	env := apitest.New(t, apitest.Options{RatePerSecond: 1, RateBurst: 5})
	ten := env.CreateTenant(t, "auth-flood")
	r := env.Do(t, http.MethodGet, "/v1/me", ten.AdminKey, nil)
	require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
	require.Equal(t, `"credential";q=5;w=5`, r.Header.Get("RateLimit-Policy"))
	require.Regexp(t, `^"credential";r=[34];t=[12]$`, r.Header.Get("RateLimit"), "a request of the 5 is spent")

	before := env.Identity.Lookups()
	statuses := map[int]int{}
	for i := range 40 {
		r := env.Do(t, http.MethodGet, "/v1/me", "sn_live_unknownkey"+strconv.Itoa(i), nil)
		statuses[r.Status]++
		if r.Status == http.StatusTooManyRequests {
			require.NotEmpty(t, r.Header.Get("Retry-After"))
			require.Contains(t, string(r.Body), `"rate_limited"`)
		}
	}
	require.LessOrEqual(t, statuses[http.StatusUnauthorized], 7, "about the burst of failures is answered 401: %v", statuses)
	require.GreaterOrEqual(t, statuses[http.StatusTooManyRequests], 33, "%v", statuses)
	require.LessOrEqual(t, env.Identity.Lookups()-before, int64(7), "refused requests never reach the database")

	r = env.Do(t, http.MethodGet, "/v1/me", "", nil)
	require.Equal(t, http.StatusTooManyRequests, r.Status, "a missing credential counts too")
	r = env.Do(t, http.MethodGet, "/v1/tenant", ten.AdminKey, nil)
	require.Equal(t, http.StatusOK, r.Status, "a known key from the same address still works: %s", r.Body)
}
