package jobs

import (
	"context"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river"

	"github.com/servicenet/servicenet/tenants"
	"github.com/servicenet/servicenet/tenants/complaints"
)

// ComplaintSLAArgs is a complaint's SLA timer: at DueAt, escalate the
// complaint to Level if its deadline is still DueAt and it is unresolved.
type ComplaintSLAArgs struct {
	TenantID    string    `json:"tenant_id"`
	ComplaintID string    `json:"complaint_id"`
	Level       int       `json:"level"`
	DueAt       time.Time `json:"due_at"`
}

// Kind is stored with every job; never rename it.
func (ComplaintSLAArgs) Kind() string { return "complaint_sla" }

// ComplaintSLAWorker runs complaints.Service.SLAExpired, which is idempotent
// on (complaint, level, due time): a complaint resolved meanwhile, whose
// deadline moved or that is already at the level is left alone.
type ComplaintSLAWorker struct {
	river.WorkerDefaults[ComplaintSLAArgs]
	Complaints *complaints.Service
}

func (w *ComplaintSLAWorker) Work(ctx context.Context, job *river.Job[ComplaintSLAArgs]) error {
	_, err := w.Complaints.SLAExpired(ctx, job.Args.TenantID, job.Args.ComplaintID, job.Args.Level, job.Args.DueAt)
	if tenants.ErrorCode(err) == tenants.CodeNotFound {
		return river.JobCancel(err) // the complaint (or its tenant) does not exist: retrying cannot help
	}
	return err
}

// ComplaintSLAEnqueuer is complaints.Deps.EnqueueSLA: it schedules
// the timer at dueAt in the caller's transaction, so the complaint's change
// and its timer commit (or roll back) together. The timer of a complaint on
// a test clock is parked until the clock's advance passes dueAt.
func ComplaintSLAEnqueuer(rc Inserter) func(ctx context.Context, tx pgx.Tx, tenantID, complaintID string, clock *string, level int, dueAt time.Time) error {
	return func(ctx context.Context, tx pgx.Tx, tenantID, complaintID string, clock *string, level int, dueAt time.Time) error {
		opts := &river.InsertOpts{ScheduledAt: dueAt}
		if clock != nil {
			var err error
			if opts, err = parked(*clock, dueAt); err != nil {
				return err
			}
		}
		_, err := rc.InsertTx(ctx, tx, ComplaintSLAArgs{TenantID: tenantID, ComplaintID: complaintID, Level: level, DueAt: dueAt}, opts)
		return err
	}
}
