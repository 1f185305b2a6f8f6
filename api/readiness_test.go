package api_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/servicenet/servicenet/internal/app"
	"github.com/servicenet/servicenet/internal/pgtest"
)

// /readyz answers 200 only while the authentication cache listens for key
// changes: 503 unavailable before its listener is up (the app not started)
// and after it is gone (stopped), in the caller's language; a probe after
// Start waits (within its half second) for the listener rather than
// failing. A worker process, which runs no cache, does not wait for one.
func TestReadinessWaitsForTheAuthCache(t *testing.T) {
	t.Parallel()
	db := pgtest.NewDB(t)
	ctx := context.Background()
	probe := func(t *testing.T, a *app.App, lang string) (int, map[string]any) {
		t.Helper()
		rec := httptest.NewRecorder()
		req := httptest.NewRequest(http.MethodGet, "/readyz", nil)
		req.Header.Set("Accept-Language", lang)
		a.Handler().ServeHTTP(rec, req)
		var m map[string]any
		require.NoError(t, json.Unmarshal(rec.Body.Bytes(), &m), rec.Body.String())
		return rec.Code, m
	}
	notReady := func(t *testing.T, a *app.App) {
		t.Helper()
		for lang, detail := range map[string]string{
			"en":    "the authentication cache is not listening for key changes yet",
			"zh-CN": "认证缓存尚未开始监听密钥变更",
		} {
			took := time.Now()
			code, m := probe(t, a, lang)
			require.Equal(t, http.StatusServiceUnavailable, code, "%v", m)
			require.Equal(t, "unavailable", m["code"])
			require.Equal(t, detail, m["detail"])
			require.Equal(t, map[string]any{"code": "api.health.auth_cache"}, m["detail_i18n"])
			require.Less(t, time.Since(took), time.Second, "the probe gives up within its half second")
		}
	}

	a, err := app.New(ctx, app.Config{Mode: app.ModeAPI, RiverTestOnly: true}, db.App, nil)
	require.NoError(t, err)
	notReady(t, a) // built, not started: no listener

	require.NoError(t, a.Start(ctx))
	// At once: the probe waits (half a second) for the listener. On a
	// loaded machine its connection can take longer, and the orchestrator
	// probes again: until it is up, the only answer is the cache's 503.
	code, m := probe(t, a, "en")
	for deadline := time.Now().Add(30 * time.Second); code != http.StatusOK && time.Now().Before(deadline); {
		require.Equal(t, http.StatusServiceUnavailable, code, "%v", m)
		require.Equal(t, map[string]any{"code": "api.health.auth_cache"}, m["detail_i18n"])
		code, m = probe(t, a, "en")
	}
	require.Equal(t, http.StatusOK, code, "%v", m)
	require.Equal(t, "ready", m["status"])

	require.NoError(t, a.Stop(ctx)) // the listener is gone
	notReady(t, a)

	w, err := app.New(ctx, app.Config{Mode: app.ModeWorker, RiverTestOnly: true}, db.App, nil)
	require.NoError(t, err)
	code, m = probe(t, w, "en")
	require.Equal(t, http.StatusOK, code, "a worker runs no cache: %v", m)
}
