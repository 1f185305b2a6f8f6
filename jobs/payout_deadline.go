package jobs

import (
	"context"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river"

	"github.com/servicenet/servicenet/tenants"
	"github.com/servicenet/servicenet/tenants/payouts"
)

// PayoutDeadlineArgs checks one payout when its due day ends (in the
// tenant's time zone): still unpaid, it is marked missed with a
// payout.missed event.
type PayoutDeadlineArgs struct {
	TenantID string `json:"tenant_id"`
	PayoutID string `json:"payout_id"`
}

// Kind is stored with every job; never rename it.
func (PayoutDeadlineArgs) Kind() string { return "payout_deadline" }

// PayoutDeadlineWorker runs PayoutDeadlineArgs through
// payouts.Service.CheckDeadline, which is idempotent; run early, it snoozes
// until the due day has ended.
type PayoutDeadlineWorker struct {
	river.WorkerDefaults[PayoutDeadlineArgs]
	Payouts *payouts.Service
}

func (w *PayoutDeadlineWorker) Work(ctx context.Context, job *river.Job[PayoutDeadlineArgs]) error {
	wait, err := w.Payouts.CheckDeadline(ctx, job.Args.TenantID, job.Args.PayoutID)
	switch {
	case tenants.ErrorCode(err) == tenants.CodeNotFound:
		return river.JobCancel(err)
	case err != nil:
		return err
	case wait > 0:
		return river.JobSnooze(wait + time.Second)
	}
	return nil
}

// PayoutClockDeadlineEnqueuer is payouts.Deps.EnqueueClockDeadline: the
// deadline check of a payout on a test clock, parked until the clock
// passes at.
func PayoutClockDeadlineEnqueuer(rc Inserter) func(ctx context.Context, tx pgx.Tx, tenantID, payoutID, clockID string, at time.Time) error {
	return func(ctx context.Context, tx pgx.Tx, tenantID, payoutID, clockID string, at time.Time) error {
		opts, err := parked(clockID, at)
		if err != nil {
			return err
		}
		_, err = rc.InsertTx(ctx, tx, PayoutDeadlineArgs{TenantID: tenantID, PayoutID: payoutID}, opts)
		return err
	}
}

// PayoutDeadlineEnqueuer is payouts.Deps.EnqueueDeadline: it
// inserts the deadline check in the caller's transaction, scheduled at at.
func PayoutDeadlineEnqueuer(rc Inserter) func(ctx context.Context, tx pgx.Tx, tenantID, payoutID string, at time.Time) error {
	return func(ctx context.Context, tx pgx.Tx, tenantID, payoutID string, at time.Time) error {
		_, err := rc.InsertTx(ctx, tx, PayoutDeadlineArgs{TenantID: tenantID, PayoutID: payoutID}, &river.InsertOpts{ScheduledAt: at})
		return err
	}
}
