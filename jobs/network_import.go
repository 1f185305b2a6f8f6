package jobs

import (
	"context"
	"log/slog"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river"

	"github.com/servicenet/servicenet/tenants"
	"github.com/servicenet/servicenet/tenants/network"
)

// NetworkImportArgs runs one bulk import of nodes and technicians. The file
// is stored with the import; the job carries only its tenant and id.
type NetworkImportArgs struct {
	TenantID string `json:"tenant_id"`
	ImportID string `json:"import_id"`
}

// Kind is stored with every job; never rename it.
func (NetworkImportArgs) Kind() string { return "network_import" }

// InsertOpts: a few attempts; each resumes the import from its checkpoint
// (network.Service.RunImport commits batches with their checkpoint).
func (NetworkImportArgs) InsertOpts() river.InsertOpts { return river.InsertOpts{MaxAttempts: 5} }

// NetworkImportWorker runs NetworkImportArgs through network.Service.RunImport,
// which is idempotent: a finished import is left alone. When the last attempt
// fails, the import is marked failed so that its readers stop waiting.
type NetworkImportWorker struct {
	river.WorkerDefaults[NetworkImportArgs]
	Network *network.Service
	// Logger receives a failed heartbeat and a failure to mark the import
	// failed. Required: workers sets it from Deps.Logger, which NewClient
	// requires of a client that works jobs.
	Logger *slog.Logger
}

// Timeout leaves room for the largest files: 64 MiB is about 110,000 rows,
// and BenchmarkNetworkImport imported 60,000 rows in 52 s (1,150 rows/s, on
// 2 shared cores), so about 100 s. It is also how long River leaves the job
// of a dead worker "running" before its rescuer takes it back (jobs.go); the
// import itself does not wait for that: its lease runs out after
// network.ImportStaleAfter, and WatchImports queues a new job that resumes
// it and cancels the dead one.
// The import commits in batches with a checkpoint, so an attempt cut short
// (the timeout, SIGTERM past the grace, a dead worker) loses only its
// current batch: the retry resumes after the checkpoint.
func (w *NetworkImportWorker) Timeout(*river.Job[NetworkImportArgs]) time.Duration {
	return 10 * time.Minute
}

func (w *NetworkImportWorker) Work(ctx context.Context, job *river.Job[NetworkImportArgs]) error {
	// The import's lease: renewed while this run lives, so that
	// WatchImports never takes over a healthy run however long it takes.
	beat, stop := context.WithCancel(ctx)
	defer stop()
	go func() {
		t := time.NewTicker(network.ImportHeartbeat)
		defer t.Stop()
		for {
			select {
			case <-beat.Done():
				return
			case <-t.C:
				if err := w.Network.HeartbeatImport(beat, job.Args.TenantID, job.Args.ImportID); err != nil && beat.Err() == nil {
					w.Logger.WarnContext(beat, "import heartbeat", "import_id", job.Args.ImportID, "error", err.Error())
				}
			}
		}
	}()
	_, err := w.Network.RunImport(ctx, job.Args.TenantID, job.Args.ImportID)
	switch {
	case err == nil:
		return nil
	case tenants.ErrorCode(err) == tenants.CodeNotFound:
		return river.JobCancel(err) // the import (or its tenant) does not exist: retrying cannot help
	case job.Attempt >= job.MaxAttempts:
		if ferr := w.Network.FailImport(context.WithoutCancel(ctx), job.Args.TenantID, job.Args.ImportID, network.ImportFailure(err)); ferr != nil {
			w.Logger.ErrorContext(ctx, "marking import failed", "import_id", job.Args.ImportID, "error", ferr.Error())
		}
	}
	return err
}

// NetworkImportEnqueuer is network.Deps.EnqueueImport: it inserts
// the import's job in the caller's transaction, so the import and its job
// commit (or roll back) together.
func NetworkImportEnqueuer(rc Inserter) func(ctx context.Context, tx pgx.Tx, tenantID, importID string) error {
	return func(ctx context.Context, tx pgx.Tx, tenantID, importID string) error {
		_, err := rc.InsertTx(ctx, tx, NetworkImportArgs{TenantID: tenantID, ImportID: importID}, nil)
		return err
	}
}
