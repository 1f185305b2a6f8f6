package main

import (
	"context"
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"

	"github.com/servicenet/servicenet/internal/pg"
	"github.com/servicenet/servicenet/internal/pgtest"
	"github.com/servicenet/servicenet/tenants/network"
)

// TestKilledImportResumesWithinAMinute kills (SIGKILL) a server while it
// runs a network import of 6,000 rows, after its first batches committed,
// and restarts it at once. River would take the dead job back only after
// the import kind's 10-minute timeout; the import's lease runs out instead
// and the new process resumes it from its checkpoint in a new job (the dead
// one is cancelled): it finishes within 60 s of the restart, and so does
// every job, its progress never goes back, the rows written
// before the kill are not written again, and every node and technician,
// with its created event and status history, exists exactly once.
func TestKilledImportResumesWithinAMinute(t *testing.T) {
	if testing.Short() {
		t.Skip("starts server processes")
	}
	t.Parallel()
	ctx := context.Background()
	db := pgtest.NewDB(t)
	const operator = "snop_import_kill_test"
	const nodes, technicians = 1000, 5000
	q := queueImport(t, db, operator, "import-kill", nodes, technicians)
	srv, env, admin, tenantID, importID := q.srv, q.env, q.admin, q.tenantID, q.importID
	do := srv.json

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
	srv.env = append(env, "SERVICENET_MODE=all")
	srv.start()
	require.Eventually(t, func() bool { return read().done >= 1000 }, 120*time.Second, 10*time.Millisecond,
		"the import commits its first batches")
	srv.kill()
	killed := read()
	t.Logf("killed at phase %d, line %d, %d rows processed", killed.phase, killed.row, killed.done)
	require.Equal(t, string(network.ImportRunning), killed.state, "the import was cut short")
	require.Less(t, killed.done, nodes+technicians)
	written := map[string]int{} // node and technician ids written before the kill, with their versions
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
	var jobState string
	require.NoError(t, db.Owner.QueryRow(ctx, `SELECT state FROM river_job WHERE kind = 'network_import'`).Scan(&jobState))
	require.Equal(t, "running", jobState, "the dead process's job is left running")

	restart := time.Now()
	srv.start()
	t.Logf("restarted and ready in %v", time.Since(restart).Round(time.Millisecond))
	lowest := nodes + technicians
	var resumed time.Duration
	require.Eventually(t, func() bool {
		c := read()
		lowest = min(lowest, c.done)
		if resumed == 0 && c.done > killed.done {
			resumed = time.Since(restart)
		}
		return c.state == string(network.ImportSucceeded)
	}, 60*time.Second-time.Since(restart), 20*time.Millisecond, "the import finishes within 60 s of the restart")
	t.Logf("the import moved on %v after the restart and finished %v after it", resumed.Round(time.Millisecond),
		time.Since(restart).Round(time.Millisecond))
	require.GreaterOrEqual(t, lowest, killed.done, "progress never went back: the run resumed, it did not restart from zero")

	// The new process ran the import in a new job, which completed, and
	// the dead job was cancelled: every job is finished within 60 s of the
	// restart, not after the import kind's 10-minute timeout.
	var jobs, completed, cancelled int
	require.Eventually(t, func() bool {
		err := db.Owner.QueryRow(ctx, `SELECT count(*), count(*) FILTER (WHERE state = 'completed'),
				count(*) FILTER (WHERE state = 'cancelled')
			FROM river_job WHERE kind = 'network_import'`).Scan(&jobs, &completed, &cancelled)
		return err == nil && completed+cancelled == jobs
	}, 60*time.Second-time.Since(restart), 100*time.Millisecond, "every import job is finished within 60 s of the restart")
	t.Logf("every import job finished %v after the restart", time.Since(restart).Round(time.Millisecond))
	require.Equal(t, 2, jobs, "one new job resumed the import")
	require.Equal(t, 1, completed, "the new job completed")
	require.Equal(t, 1, cancelled, "the dead job was cancelled")

	im := do(http.MethodGet, "/v1/network/imports/"+importID, admin, "", nil)
	require.Equal(t, float64(nodes+technicians), im["processed_rows"])
	counts := im["counts"].(map[string]any)
	require.Equal(t, map[string]any{"created": float64(nodes), "updated": 0.0, "unchanged": 0.0, "failed": 0.0}, counts["nodes"])
	require.Equal(t, map[string]any{"created": float64(technicians), "updated": 0.0, "unchanged": 0.0, "failed": 0.0}, counts["technicians"])
	count := func(sql string) int {
		var n int
		require.NoError(t, pg.InTenantTx(ctx, db.App, tenantID, func(tx pg.TenantTx) error {
			return tx.QueryRow(ctx, sql, tx.TenantID).Scan(&n)
		}))
		return n
	}
	require.Equal(t, nodes, count(`SELECT count(*) FROM nodes WHERE tenant_id = $1`))
	require.Equal(t, nodes, count(`SELECT count(DISTINCT external_code) FROM nodes WHERE tenant_id = $1`))
	require.Equal(t, technicians, count(`SELECT count(*) FROM technicians WHERE tenant_id = $1`))
	require.Equal(t, technicians, count(`SELECT count(DISTINCT external_code) FROM technicians WHERE tenant_id = $1`))
	require.Equal(t, nodes, count(`SELECT count(*) FROM events WHERE tenant_id = $1 AND type = 'node.created'`), "one created event per node")
	require.Equal(t, nodes, count(`SELECT count(DISTINCT subject_id) FROM events WHERE tenant_id = $1 AND type = 'node.created'`))
	require.Equal(t, technicians, count(`SELECT count(*) FROM events WHERE tenant_id = $1 AND type = 'technician.created'`), "one created event per technician")
	require.Equal(t, technicians, count(`SELECT count(DISTINCT subject_id) FROM events WHERE tenant_id = $1 AND type = 'technician.created'`))
	require.Equal(t, nodes, count(`SELECT count(*) FROM node_status_changes WHERE tenant_id = $1`))
	require.Equal(t, 1, count(`SELECT count(*) FROM events WHERE tenant_id = $1 AND type = 'network_import.finished'`))
	require.Equal(t, 0, count(`SELECT count(*) FROM network_import_errors WHERE tenant_id = $1`))
	require.NoError(t, pg.InTenantTx(ctx, db.App, tenantID, func(tx pg.TenantTx) error {
		for id, version := range written {
			var now int
			if err := tx.QueryRow(ctx, `SELECT version FROM nodes WHERE tenant_id = $1 AND id = $2
				UNION ALL SELECT version FROM technicians WHERE tenant_id = $1 AND id = $2`, tx.TenantID, id).Scan(&now); err != nil {
				return fmt.Errorf("%s: %w", id, err)
			}
			if now != version {
				return fmt.Errorf("%s: version %d, was %d before the kill: written again", id, now, version)
			}
		}
		return nil
	}))
}
