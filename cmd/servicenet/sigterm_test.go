package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"slices"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/servicenet/servicenet/internal/pg"
	"github.com/servicenet/servicenet/internal/pgtest"
	"github.com/servicenet/servicenet/tenants/network"
)

// TestSIGTERMLetsARunningImportFinish uploads a network import of 6,000
// rows to an API-only server, then starts a server that runs jobs and sends
// it SIGTERM (a deploy) while the import runs. The server stops fetching
// jobs but lets the import finish within its grace period, then exits: the
// import succeeded in that process, on its first attempt, and was never
// started over.
func TestSIGTERMLetsARunningImportFinish(t *testing.T) {
	if testing.Short() {
		t.Skip("starts server processes")
	}
	t.Parallel()
	ctx := context.Background()
	db := pgtest.NewDB(t)
	const operator = "snop_sigterm_test"
	srv := newCrashServer(t, db, operator, "SERVICENET_SHUTDOWN_TIMEOUT_SECONDS=60")
	env := slices.Clip(srv.env) // each mode appends its own copy
	srv.env = append(env, "SERVICENET_MODE=api")
	t.Cleanup(func() {
		if srv.cmd != nil && srv.cmd.ProcessState == nil {
			srv.kill()
		}
		if t.Failed() {
			t.Logf("child server log:\n%s", srv.logs.String())
		}
	})
	srv.start()

	do := func(method, path, secret, contentType string, body []byte) map[string]any {
		t.Helper()
		req, err := http.NewRequest(method, srv.base+path, bytes.NewReader(body))
		require.NoError(t, err)
		req.Header.Set("Authorization", "Bearer "+secret)
		if contentType != "" {
			req.Header.Set("Content-Type", contentType)
		}
		resp, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		defer resp.Body.Close()
		raw, err := io.ReadAll(resp.Body)
		require.NoError(t, err)
		require.Less(t, resp.StatusCode, 300, "%s %s: %s", method, path, raw)
		var m map[string]any
		require.NoError(t, json.Unmarshal(raw, &m))
		return m
	}
	body, _ := json.Marshal(map[string]any{"name": "SIGTERM brand", "slug": "sigterm"})
	m := do(http.MethodPost, "/v1/platform/tenants", operator, "application/json", body)
	admin := m["admin_key"].(map[string]any)["secret"].(string)
	tenantID := m["tenant"].(map[string]any)["id"].(string)
	im := do(http.MethodPost, "/v1/network/imports", admin, "application/x-ndjson", network.LargeNetwork(1, 1000, 5000))
	importID := im["id"].(string)
	srv.kill() // the API-only server ran no job

	srv.env = append(env, "SERVICENET_MODE=all")
	srv.start()
	var startedAt string
	require.Eventually(t, func() bool {
		im = do(http.MethodGet, "/v1/network/imports/"+importID, admin, "", nil)
		startedAt, _ = im["started_at"].(string)
		return im["state"] == string(network.ImportRunning)
	}, 30*time.Second, 20*time.Millisecond, "the import starts")
	signalled := time.Now()
	require.NoError(t, srv.cmd.Process.Signal(syscall.SIGTERM))
	exited := make(chan error, 1)
	go func() { exited <- srv.cmd.Wait() }()
	select {
	case err := <-exited:
		require.NoError(t, err, "the server stops cleanly")
	case <-time.After(90 * time.Second):
		t.Fatal("the server did not stop within its grace period")
	}
	t.Logf("the server exited %s after SIGTERM", time.Since(signalled).Round(time.Millisecond))

	var (
		state, started     string
		finished           time.Time
		attempt            int
		jobState           string
		created, processed int
	)
	require.NoError(t, pg.InTenantTx(ctx, db.App, tenantID, func(tx pg.TenantTx) error {
		return tx.QueryRow(ctx, `SELECT state, to_json(started_at)#>>'{}', finished_at, processed_rows,
				(counts->'technicians'->>'created')::int
			FROM network_imports WHERE tenant_id = $1 AND id = $2`, tx.TenantID, importID).Scan(&state, &started, &finished, &processed, &created)
	}))
	require.NoError(t, db.Owner.QueryRow(ctx, `SELECT attempt, state FROM river_job WHERE kind = 'network_import'`).Scan(&attempt, &jobState))
	require.Equal(t, string(network.ImportSucceeded), state, "the import finished before the server exited")
	require.Equal(t, 6000, processed)
	require.Equal(t, 5000, created)
	require.False(t, finished.IsZero())
	require.Equal(t, "completed", jobState)
	require.Equal(t, 1, attempt, "one attempt: it was never started over")
	st, err := time.Parse(time.RFC3339Nano, started)
	require.NoError(t, err)
	seen, err := time.Parse(time.RFC3339Nano, startedAt)
	require.NoError(t, err)
	require.True(t, st.Equal(seen), "the run that finished is the one that was running at SIGTERM")
}
