package network

import (
	"context"
	"errors"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/servicenet/servicenet/internal/pg"
)

// An import's lease (migration 033). A run stamps the import's heartbeat_at
// when it starts and with every batch it commits; its job renews the stamp
// every ImportHeartbeat in between (HeartbeatImport), so a healthy run's
// stamp is never older than that, however long a batch takes. A running
// import whose stamp is older than ImportStaleAfter has lost its worker:
// ResumeStalledImport queues a new run of it.
//
// A batch holds the import's row from its checkpoint check to its commit,
// so its heartbeats skip the row meanwhile; ResumeStalledImport then waits
// for the batch and sees the stamp its commit wrote: a slow batch is never
// taken for a dead run. A dead run's connection is closed by Postgres, and
// its lock with it.
//
// A run that was only slow, not dead (a process frozen for longer than
// ImportStaleAfter), is safe as well: both runs then check the import's
// checkpoint under its row lock before each batch, so each batch commits
// once and the run that finds the import moved on stops.
const (
	ImportHeartbeat  = 2 * time.Second
	ImportStaleAfter = 10 * time.Second
)

// HeartbeatImport renews a running import's lease. It does not wait for a
// batch that holds the import's row: that batch renews the lease itself
// when it commits. An import that is not running is left alone.
func (s *Service) HeartbeatImport(ctx context.Context, tenantID, importID string) error {
	return pg.Translate(pg.InTenantTx(ctx, s.DB, tenantID, func(tx pg.TenantTx) error {
		_, err := tx.Exec(ctx, `UPDATE network_imports SET heartbeat_at = now()
			WHERE tenant_id = $1 AND id = (SELECT id FROM network_imports WHERE tenant_id = $1 AND id = $2
				AND state = 'running' FOR UPDATE SKIP LOCKED)`, tx.TenantID, importID)
		return err
	}))
}

// ResumeStalledImport queues a new run of an import that is running but
// whose lease ran out (ImportStaleAfter without a heartbeat: its worker
// died), and reports whether it did. The lease is renewed in the same
// transaction as the job is queued, so callers racing over one stalled
// import queue one job between them. The new run resumes from the import's
// checkpoint. An import that is finished, queued or alive is left alone.
func (s *Service) ResumeStalledImport(ctx context.Context, tenantID, importID string) (bool, error) {
	resumed := false
	err := pg.InTenantTx(ctx, s.DB, tenantID, func(tx pg.TenantTx) error {
		var id string
		err := tx.QueryRow(ctx, `UPDATE network_imports SET heartbeat_at = now()
			WHERE tenant_id = $1 AND id = $2 AND state = 'running'
				AND coalesce(heartbeat_at, started_at) < now() - make_interval(secs => $3)
			RETURNING id`, tx.TenantID, importID, ImportStaleAfter.Seconds()).Scan(&id)
		if errors.Is(err, pgx.ErrNoRows) {
			return nil
		}
		if err != nil {
			return err
		}
		resumed = true
		return s.enqueueImport(ctx, tx.Tx, tx.TenantID, importID)
	})
	return resumed, pg.Translate(err)
}
