package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"maps"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"

	"github.com/servicenet/servicenet/internal/config"
	"github.com/servicenet/servicenet/internal/logging"
	"github.com/servicenet/servicenet/internal/pg"
	"github.com/servicenet/servicenet/internal/pgtest"
	"github.com/servicenet/servicenet/tenants"
	"github.com/servicenet/servicenet/tenants/identity"
)

// env is a getenv over a map.
func env(vars map[string]string) func(string) string {
	return func(k string) string { return vars[k] }
}

// syncBuffer is a goroutine-safe writer for the server's log and output.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// emptyDatabase creates a database with no schema at all and returns its
// owner URL; it is dropped when the test ends.
func emptyDatabase(t *testing.T) string {
	t.Helper()
	ctx := context.Background()
	admin := pgtest.OwnerURL(t)
	name := "servicenet_test_migrate_" + strings.ToLower(rand.Text()[:12])
	conn, err := pgx.Connect(ctx, admin)
	require.NoError(t, err)
	defer conn.Close(ctx)
	_, err = conn.Exec(ctx, `CREATE DATABASE `+name)
	require.NoError(t, err)
	t.Cleanup(func() {
		c, err := pgx.Connect(context.Background(), admin)
		if err != nil {
			t.Logf("drop %s: %v", name, err)
			return
		}
		defer c.Close(context.Background())
		if _, err := c.Exec(context.Background(), `DROP DATABASE IF EXISTS `+name+` WITH (FORCE)`); err != nil {
			t.Logf("drop %s: %v", name, err)
		}
	})
	u, err := url.Parse(admin)
	require.NoError(t, err)
	u.Path = "/" + name
	return u.String()
}

// schemaFingerprint describes the public schema: relations, policies and
// both migration ledgers.
func schemaFingerprint(t *testing.T, ownerURL string) string {
	t.Helper()
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, ownerURL)
	require.NoError(t, err)
	defer conn.Close(ctx)
	var fp string
	require.NoError(t, conn.QueryRow(ctx, `
		SELECT (SELECT string_agg(relname || ':' || relkind::text, ',' ORDER BY relname) FROM pg_class WHERE relnamespace = 'public'::regnamespace)
		    || '|' || (SELECT string_agg(tablename || '.' || policyname, ',' ORDER BY tablename, policyname) FROM pg_policies)
		    || '|' || (SELECT version::text FROM schema_version)
		    || '|' || (SELECT string_agg(version::text, ',' ORDER BY version) FROM river_migration)`).Scan(&fp))
	return fp
}

func TestRunMigrateIsIdempotent(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	dbURL := emptyDatabase(t)
	getenv := env(map[string]string{"DATABASE_URL": dbURL, "SERVICENET_APP_DB_PASSWORD": pgtest.AppPassword})

	var out1, out2, errOut bytes.Buffer
	require.NoError(t, run(ctx, []string{"migrate"}, getenv, &out1, &errOut), errOut.String())
	first := schemaFingerprint(t, dbURL)
	require.NoError(t, run(ctx, []string{"migrate"}, getenv, &out2, &errOut), errOut.String())
	require.Equal(t, first, schemaFingerprint(t, dbURL), "a second migrate changes nothing")
	require.Equal(t, out1.String(), out2.String())

	names, err := fs.Glob(pg.MigrationFiles, "migrations/*.sql")
	require.NoError(t, err)
	require.Contains(t, out1.String(), fmt.Sprintf("migrated: schema version %d,", len(names)))

	// The migrated database is ready for the application role.
	appURL, err := pg.AppURL(dbURL, pgtest.AppPassword)
	require.NoError(t, err)
	app, err := pg.Connect(ctx, appURL, pg.PoolOptions{Name: "migrate-test"})
	require.NoError(t, err)
	defer app.Close()
	require.NoError(t, pg.CheckAppRole(ctx, app))
	st, err := pg.CheckSchema(ctx, app)
	require.NoError(t, err)
	require.True(t, st.Current(), "%+v", st)
}

func TestRunMigrateConcurrently(t *testing.T) {
	// Replicas that start together each run migrate on an empty database.
	t.Parallel()
	dbURL := emptyDatabase(t)
	getenv := env(map[string]string{"DATABASE_URL": dbURL, "SERVICENET_APP_DB_PASSWORD": pgtest.AppPassword})
	const n = 3
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() { errs[i] = run(context.Background(), []string{"migrate"}, getenv, io.Discard, io.Discard) })
	}
	wg.Wait()
	for _, err := range errs {
		require.NoError(t, err)
	}
}

func TestRunMigrateWithoutDatabaseURL(t *testing.T) {
	t.Parallel()
	err := run(context.Background(), []string{"migrate"}, env(nil), io.Discard, io.Discard)
	require.ErrorContains(t, err, "DATABASE_URL")
}

func TestRunUsage(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	var out, errOut bytes.Buffer
	require.Error(t, run(ctx, nil, env(nil), &out, &errOut))
	require.Contains(t, errOut.String(), "usage: servicenet")
	require.ErrorContains(t, run(ctx, []string{"frobnicate"}, env(nil), io.Discard, io.Discard), `unknown command "frobnicate"`)
	require.ErrorContains(t, run(ctx, []string{"version"}, env(map[string]string{"SERVICENET_MODE": "sideways"}), io.Discard, io.Discard),
		"SERVICENET_MODE", "configuration is checked before any command")
	out.Reset()
	require.NoError(t, run(ctx, []string{"version"}, env(nil), &out, io.Discard))
	require.True(t, strings.HasPrefix(out.String(), "servicenet "))
}

func readEnv(t *testing.T, path string) map[string]string {
	t.Helper()
	info, err := os.Stat(path)
	require.NoError(t, err)
	require.Equal(t, os.FileMode(0o600), info.Mode().Perm(), "the env file holds secrets")
	vals := readEnvFile(path)
	for _, k := range []string{"SERVICENET_URL", "DEMO_TENANT_ID", "DEMO_API_KEY", "OPERATOR_TOKEN"} {
		require.NotEmpty(t, vals[k], "%s in %s", k, path)
	}
	return vals
}

func TestSeed(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := pgtest.NewDB(t)
	getenv := env(map[string]string{"DATABASE_URL": db.OwnerURL, "SERVICENET_PUBLIC_URL": "http://servicenet.test"})
	idn := &identity.Service{DB: db.App}
	envFile := filepath.Join(t.TempDir(), "data", "demo.env")
	seedOnce := func(t *testing.T) map[string]string {
		t.Helper()
		var out bytes.Buffer
		require.NoError(t, run(ctx, []string{"seed", "-env-file", envFile}, getenv, &out, io.Discard))
		vals := readEnv(t, envFile)
		require.Contains(t, out.String(), vals["DEMO_API_KEY"])
		require.Contains(t, out.String(), "Demo catalog and sales:")
		return vals
	}

	first := seedOnce(t)
	require.Equal(t, "http://servicenet.test", first["SERVICENET_URL"])
	p, err := idn.Authenticate(ctx, first["DEMO_API_KEY"])
	require.NoError(t, err)
	require.Equal(t, first["DEMO_TENANT_ID"], p.TenantID)
	require.True(t, p.HasRole(tenants.RoleTenantAdmin))

	// Sequential steps: each builds on the state the previous one left.
	t.Run("SecondRunReusesTheKey", func(t *testing.T) {
		second := seedOnce(t)
		require.Equal(t, first, second)
		keys, _, err := idn.ListAPIKeys(ctx, p, identity.KeyFilter{Limit: 10})
		require.NoError(t, err)
		require.Len(t, keys, 1, "no new key was issued")
	})

	t.Run("AWorldReadableFileBecomesPrivate", func(t *testing.T) {
		require.NoError(t, os.Chmod(envFile, 0o644))
		require.Equal(t, first, seedOnce(t))
	})

	t.Run("RevokedKeyIsReplaced", func(t *testing.T) {
		other, err := idn.CreateAPIKey(ctx, p, identity.NewAPIKey{Name: "other admin", Roles: []string{tenants.RoleTenantAdmin}})
		require.NoError(t, err)
		op, err := idn.Authenticate(ctx, other.Secret)
		require.NoError(t, err)
		_, err = idn.RevokeAPIKey(ctx, op, p.KeyID)
		require.NoError(t, err)

		third := seedOnce(t)
		require.NotEqual(t, first["DEMO_API_KEY"], third["DEMO_API_KEY"])
		require.Equal(t, first["DEMO_TENANT_ID"], third["DEMO_TENANT_ID"])
		require.Equal(t, first["OPERATOR_TOKEN"], third["OPERATOR_TOKEN"])
		_, err = idn.Authenticate(ctx, third["DEMO_API_KEY"])
		require.NoError(t, err)
	})
}

// served is a server started in-process by startServe.
type served struct {
	base      string
	cfg       config.Config
	logs, out *syncBuffer
	stop      context.CancelFunc
	done      chan error
}

// startServe runs serve in this process on a free port with the settings
// given on top of a test database's.
func startServe(t *testing.T, db *pgtest.DB, settings map[string]string) *served {
	t.Helper()
	all := map[string]string{
		"DATABASE_URL":                        db.OwnerURL,
		"SERVICENET_ADDR":                     "127.0.0.1:0",
		"SERVICENET_OPERATOR_TOKEN":           "snop_serve_test",
		"SERVICENET_SHUTDOWN_TIMEOUT_SECONDS": "5",
	}
	maps.Copy(all, settings)
	cfg, err := config.Load(env(all))
	require.NoError(t, err)
	s := &served{cfg: cfg, logs: &syncBuffer{}, out: &syncBuffer{}, done: make(chan error, 1)}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("server log:\n%s", s.logs.String())
		}
	})
	var serveCtx context.Context
	serveCtx, s.stop = context.WithCancel(context.Background())
	t.Cleanup(s.stop)
	listening := make(chan string, 1)
	go func() { s.done <- serve(serveCtx, cfg, logging.New(s.logs, slog.LevelInfo), s.out, listening) }()
	select {
	case addr := <-listening:
		s.base = "http://" + addr
	case err := <-s.done:
		t.Fatalf("serve returned before listening: %v", err)
	case <-time.After(30 * time.Second):
		t.Fatal("serve did not start listening within 30s")
	}
	return s
}

// get answers a GET with the status and body.
func (s *served) get(t *testing.T, path, secret string) (*http.Response, string) {
	t.Helper()
	req, err := http.NewRequestWithContext(context.Background(), http.MethodGet, s.base+path, nil)
	require.NoError(t, err)
	if secret != "" {
		req.Header.Set("Authorization", "Bearer "+secret)
	}
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return resp, string(b)
}

// shutdown cancels serve and waits for it to return.
func (s *served) shutdown(t *testing.T) {
	t.Helper()
	s.stop()
	select {
	case err := <-s.done:
		require.NoError(t, err)
	case <-time.After(15 * time.Second):
		t.Fatal("serve did not return within 15s of cancellation")
	}
}

func TestServe(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := pgtest.NewDB(t)
	_, key, err := (&identity.Service{DB: db.App}).CreateTenant(ctx, identity.NewTenant{Name: "Acme", Slug: "acme"}, "test")
	require.NoError(t, err)
	s := startServe(t, db, nil)
	base, cfg, logs, stdout := s.base, s.cfg, s.logs, s.out
	get := func(path, secret string) (*http.Response, string) { t.Helper(); return s.get(t, path, secret) }

	resp, body := get("/healthz", "")
	require.Equal(t, http.StatusOK, resp.StatusCode, body)
	require.Contains(t, stdout.String(), base, "serve prints where it listens before it answers")
	resp, body = get("/readyz", "")
	require.Equal(t, http.StatusOK, resp.StatusCode, body)
	resp, body = get("/v1/me", key.Secret)
	require.Equal(t, http.StatusOK, resp.StatusCode, body)
	require.Contains(t, body, key.ID)
	resp, body = get("/v1/me", "")
	require.Equal(t, http.StatusUnauthorized, resp.StatusCode, body)
	require.Equal(t, "application/problem+json", resp.Header.Get("Content-Type"))
	require.Contains(t, body, `"unauthenticated"`)

	s.shutdown(t)
	require.Contains(t, logs.String(), "jobs stopped")
	// Graceful: serve closed its pool (HTTP and River) before returning;
	// the server backends exit a moment after their clients hang up.
	require.Eventually(t, func() bool {
		var open int
		require.NoError(t, db.App.QueryRow(ctx, `SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND application_name = $1`,
			"servicenet-"+cfg.Mode).Scan(&open))
		return open == 0
	}, 5*time.Second, 20*time.Millisecond, "the server's database connections outlive serve")
	_, err = http.Get(base + "/healthz") //nolint:noctx
	require.Error(t, err, "the listener is closed")
}

// A worker serves no API, but its probes and its metrics, the job metrics
// among them: what it worked, and the depth of the queues.
func TestServeWorker(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := pgtest.NewDB(t)
	s := startServe(t, db, map[string]string{"SERVICENET_MODE": "worker"})
	resp, body := s.get(t, "/healthz", "")
	require.Equal(t, http.StatusOK, resp.StatusCode, body)
	require.Contains(t, s.out.String(), "worker running", "printed before it answers")
	resp, body = s.get(t, "/readyz", "")
	require.Equal(t, http.StatusOK, resp.StatusCode, body)
	resp, body = s.get(t, "/v1/me", "")
	require.Equal(t, http.StatusNotFound, resp.StatusCode, "a worker serves no API: %s", body)

	// The leader runs the periodic jobs on start; their work is recorded, and
	// a job scheduled for later shows in the queue's depth.
	_, err := db.Owner.Exec(ctx, `INSERT INTO river_job (args, kind, max_attempts, queue, state, scheduled_at)
		VALUES ('{}', 'idempotency_sweep', 1, 'default', 'scheduled', now() + interval '1 hour')`)
	require.NoError(t, err)
	require.Eventually(t, func() bool {
		_, metrics := s.get(t, "/metrics", "")
		return strings.Contains(metrics, `servicenet_job_work_seconds_count{kind="idempotency_sweep",outcome="ok",queue="default"}`) &&
			strings.Contains(metrics, `servicenet_job_queue_jobs{queue="default",state="scheduled"} 1`) &&
			strings.Contains(metrics, "servicenet_db_pool_")
	}, 20*time.Second, 200*time.Millisecond, "job metrics on the worker's /metrics")
	s.shutdown(t)
}
