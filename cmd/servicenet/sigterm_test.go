package main

import (
	"context"
	"fmt"
	"net/http"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
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
	q := queueImport(t, db, operator, "sigterm", 300, 1500, "SERVICENET_SHUTDOWN_TIMEOUT_SECONDS=60")
	srv, env, admin, tenantID, importID := q.srv, q.env, q.admin, q.tenantID, q.importID
	do := srv.json

	srv.env = append(env, "SERVICENET_MODE=all")
	srv.start()
	var startedAt string
	require.Eventually(t, func() bool {
		im := do(http.MethodGet, "/v1/network/imports/"+importID, admin, "", nil)
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
	require.Equal(t, 1800, processed)
	require.Equal(t, 1500, created)
	require.False(t, finished.IsZero())
	require.Equal(t, "completed", jobState)
	require.Equal(t, 1, attempt, "one attempt: it was never started over")
	st, err := time.Parse(time.RFC3339Nano, started)
	require.NoError(t, err)
	seen, err := time.Parse(time.RFC3339Nano, startedAt)
	require.NoError(t, err)
	require.True(t, st.Equal(seen), "the run that finished is the one that was running at SIGTERM")
}

// TestSIGTERMImportResumesFromItsCheckpoint sends SIGTERM to a server
// running a network import of 12,000 rows with a grace of 1 s, too short for
// the import: River cancels it, and the batches it committed stay with their
// checkpoint. The next server process resumes the import from that
// checkpoint: its progress never goes back, the rows written before the stop
// keep their ids and versions, and every row's effect (the object, its
// created event and status history) exists exactly once.
func TestSIGTERMImportResumesFromItsCheckpoint(t *testing.T) {
	if testing.Short() {
		t.Skip("starts server processes")
	}
	t.Parallel()
	ctx := context.Background()
	db := pgtest.NewDB(t)
	const operator = "snop_sigterm_resume_test"
	const nodes, technicians = 2000, 10000
	q := queueImport(t, db, operator, "sigterm-resume", nodes, technicians, "SERVICENET_SHUTDOWN_TIMEOUT_SECONDS=1")
	srv, env, admin, tenantID, importID := q.srv, q.env, q.admin, q.tenantID, q.importID
	do := srv.json

	srv.env = append(env, "SERVICENET_MODE=all")
	srv.start()
	var startedAt string
	require.Eventually(t, func() bool {
		im := do(http.MethodGet, "/v1/network/imports/"+importID, admin, "", nil)
		startedAt, _ = im["started_at"].(string)
		return im["processed_rows"].(float64) >= 1000
	}, 120*time.Second, 20*time.Millisecond, "the import commits its first batches")
	require.NoError(t, srv.cmd.Process.Signal(syscall.SIGTERM))
	exited := make(chan error, 1)
	go func() { exited <- srv.cmd.Wait() }()
	select {
	case err := <-exited:
		require.NoError(t, err, "the server stops cleanly")
	case <-time.After(60 * time.Second):
		t.Fatal("the server did not stop within its grace period")
	}

	// Where the stopped run left it.
	type checkpoint struct {
		state            string
		phase, row, done int
	}
	read := func() checkpoint {
		var c checkpoint
		require.NoError(t, pg.InTenantTx(ctx, db.App, tenantID, func(tx pg.TenantTx) error {
			return tx.QueryRow(ctx, `SELECT state, phase, phase_row, processed_rows FROM network_imports
				WHERE tenant_id = $1 AND id = $2`, tx.TenantID, importID).Scan(&c.state, &c.phase, &c.row, &c.done)
		}))
		return c
	}
	stopped := read()
	t.Logf("stopped at phase %d, line %d, %d rows processed", stopped.phase, stopped.row, stopped.done)
	require.Equal(t, string(network.ImportRunning), stopped.state, "the grace was too short for the import")
	require.GreaterOrEqual(t, stopped.done, 1000, "the committed batches stay committed")
	require.Less(t, stopped.done, nodes+technicians)
	written := map[string]int{} // node and technician ids written before the stop, with their versions
	require.NoError(t, pg.InTenantTx(ctx, db.App, tenantID, func(tx pg.TenantTx) error {
		rows, err := tx.Query(ctx, `SELECT id, version FROM nodes WHERE tenant_id = $1 UNION ALL SELECT id, version FROM technicians WHERE tenant_id = $1`, tx.TenantID)
		if err != nil {
			return err
		}
		var (
			id      string
			version int
		)
		_, err = pgx.ForEachRow(rows, []any{&id, &version}, func() error { written[id] = version; return nil })
		return err
	}))
	require.NotEmpty(t, written)

	srv.start() // the next process resumes it
	lowest := nodes + technicians
	require.Eventually(t, func() bool {
		c := read()
		lowest = min(lowest, c.done)
		return c.state == string(network.ImportSucceeded)
	}, 180*time.Second, 10*time.Millisecond, "the import finishes in the next process")
	require.GreaterOrEqual(t, lowest, stopped.done, "progress never went back: the run resumed, it did not restart from zero")

	im := do(http.MethodGet, "/v1/network/imports/"+importID, admin, "", nil)
	require.Equal(t, float64(nodes+technicians), im["processed_rows"])
	counts := im["counts"].(map[string]any)
	require.Equal(t, map[string]any{"created": float64(nodes), "updated": 0.0, "unchanged": 0.0, "failed": 0.0}, counts["nodes"])
	require.Equal(t, map[string]any{"created": float64(technicians), "updated": 0.0, "unchanged": 0.0, "failed": 0.0}, counts["technicians"])
	require.Equal(t, startedAt, im["started_at"], "the same import run carried on")
	count := func(sql string) int {
		var n int
		require.NoError(t, pg.InTenantTx(ctx, db.App, tenantID, func(tx pg.TenantTx) error {
			return tx.QueryRow(ctx, sql, tx.TenantID).Scan(&n)
		}))
		return n
	}
	require.Equal(t, nodes, count(`SELECT count(*) FROM nodes WHERE tenant_id = $1`))
	require.Equal(t, technicians, count(`SELECT count(*) FROM technicians WHERE tenant_id = $1`))
	require.Equal(t, nodes, count(`SELECT count(*) FROM events WHERE tenant_id = $1 AND type = 'node.created'`), "one created event per node")
	require.Equal(t, nodes, count(`SELECT count(DISTINCT subject_id) FROM events WHERE tenant_id = $1 AND type = 'node.created'`))
	require.Equal(t, technicians, count(`SELECT count(*) FROM events WHERE tenant_id = $1 AND type = 'technician.created'`), "one created event per technician")
	require.Equal(t, nodes, count(`SELECT count(*) FROM node_status_changes WHERE tenant_id = $1`))
	require.Equal(t, 1, count(`SELECT count(*) FROM events WHERE tenant_id = $1 AND type = 'network_import.finished'`))
	require.Equal(t, 0, count(`SELECT count(*) FROM network_import_errors WHERE tenant_id = $1`))
	require.Equal(t, 0, count(`SELECT count(*) FROM network_import_codes WHERE tenant_id = $1`), "the file's index is dropped")
	require.NoError(t, pg.InTenantTx(ctx, db.App, tenantID, func(tx pg.TenantTx) error {
		for id, version := range written {
			var now int
			if err := tx.QueryRow(ctx, `SELECT version FROM nodes WHERE tenant_id = $1 AND id = $2
				UNION ALL SELECT version FROM technicians WHERE tenant_id = $1 AND id = $2`, tx.TenantID, id).Scan(&now); err != nil {
				return fmt.Errorf("%s: %w", id, err)
			}
			if now != version {
				return fmt.Errorf("%s: version %d, was %d before the stop: written again", id, now, version)
			}
		}
		return nil
	}))
}
