package jobs

import (
	"context"
	"log/slog"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river/rivertype"

	"github.com/servicenet/servicenet/internal/pg"
	"github.com/servicenet/servicenet/tenants/network"
)

// ImportWatchInterval is how often WatchImports looks for imports whose
// worker died. With network.ImportHeartbeat and network.ImportStaleAfter it
// bounds how long such an import waits: its last heartbeat was at most 2 s
// before the crash, its lease runs out 10 s after that heartbeat, and the
// next look queues its new run, so at most 10 + 2 s after the crash, on any
// live worker process, leader or not (River's leader is not needed, nor its
// rescuer's 30 s interval). Each look is one query on river_job.
const ImportWatchInterval = 2 * time.Second

// importResumer is network.Service.ResumeStalledImport.
type importResumer interface {
	ResumeStalledImport(ctx context.Context, tenantID, importID string) (bool, error)
}

// jobCanceller is River's Client.JobCancel.
type jobCanceller interface {
	JobCancel(ctx context.Context, jobID int64) (*rivertype.JobRow, error)
}

// WatchImports runs until ctx is done, in every process that works jobs:
// at once, then every ImportWatchInterval, it finds the network_import jobs
// that have been running for longer than network.ImportStaleAfter and
// resumes each import whose lease ran out (network.ResumeStalledImport: a
// new job, in the import's mode, that carries on from its checkpoint).
//
// The dead run's job is then cancelled (River's JobCancel): the leader's
// rescuer finalizes a running job marked so once it has run for
// RescueStuckJobsAfter, whatever its kind's timeout, so it leaves the
// running state within a rescuer run or two (30 s apart) instead of after
// 10 minutes. Were its process alive after all (frozen past the lease), the
// cancellation stops it, and the new job carries on from the checkpoint.
//
// Why not River's rescuer alone: it takes a job back only after the job's
// kind timeout, 10 minutes for imports (NetworkImportWorker.Timeout), and a
// shorter timeout would cut healthy long imports. The lease tells a dead
// run from a long one.
func WatchImports(ctx context.Context, db *pgxpool.Pool, imports importResumer, rc jobCanceller, log *slog.Logger) {
	sweep := func() {
		type stalled struct {
			JobID              int64
			TenantID, ImportID string
			Live               bool
		}
		rows, err := db.Query(ctx, `SELECT id, args->>'tenant_id', args->>'import_id', coalesce((metadata->>'livemode')::boolean, true)
			FROM river_job WHERE kind = $1 AND state = 'running' AND attempted_at < now() - make_interval(secs => $2)`,
			NetworkImportArgs{}.Kind(), network.ImportStaleAfter.Seconds())
		if err != nil {
			if ctx.Err() == nil {
				log.WarnContext(ctx, "looking for stalled imports", "error", err.Error())
			}
			return
		}
		found, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (stalled, error) {
			var s stalled
			return s, row.Scan(&s.JobID, &s.TenantID, &s.ImportID, &s.Live)
		})
		if err != nil {
			if ctx.Err() == nil {
				log.WarnContext(ctx, "looking for stalled imports", "error", err.Error())
			}
			return
		}
		for _, s := range found {
			resumed, err := imports.ResumeStalledImport(pg.WithLivemode(ctx, s.Live), s.TenantID, s.ImportID)
			switch {
			case err != nil && ctx.Err() == nil:
				log.WarnContext(ctx, "resuming a stalled import", "tenant_id", s.TenantID, "import_id", s.ImportID, "error", err.Error())
			case resumed:
				log.InfoContext(ctx, "resumed an import whose worker died", "tenant_id", s.TenantID, "import_id", s.ImportID, "dead_job_id", s.JobID)
				if _, err := rc.JobCancel(ctx, s.JobID); err != nil && ctx.Err() == nil {
					log.WarnContext(ctx, "cancelling a dead import's job", "job_id", s.JobID, "error", err.Error())
				}
			}
		}
	}
	sweep()
	t := time.NewTicker(ImportWatchInterval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			sweep()
		}
	}
}
