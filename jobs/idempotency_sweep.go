package jobs

import (
	"context"
	"fmt"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"

	"github.com/servicenet/servicenet/tenants/idempotency"
	"github.com/servicenet/servicenet/tenants/identity"
)

// IdempotencySweepArgs deletes idempotency records past their 24-hour
// retention, tenant by tenant (each under its own RLS scope), then the
// platform's. Deleting what is already gone is a no-op, so reruns are safe.
type IdempotencySweepArgs struct{}

// Kind is stored with every job; never rename it.
func (IdempotencySweepArgs) Kind() string { return "idempotency_sweep" }

// InsertOpts makes concurrent schedules collapse into one pending sweep.
func (IdempotencySweepArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{UniqueOpts: river.UniqueOpts{ByArgs: true, ByState: []rivertype.JobState{
		rivertype.JobStateAvailable, rivertype.JobStatePending, rivertype.JobStateRunning, rivertype.JobStateRetryable, rivertype.JobStateScheduled}}}
}

// IdempotencySweepWorker runs IdempotencySweepArgs.
type IdempotencySweepWorker struct {
	river.WorkerDefaults[IdempotencySweepArgs]
	Identity    *identity.Service
	Idempotency *idempotency.Store
}

func (w *IdempotencySweepWorker) Work(ctx context.Context, job *river.Job[IdempotencySweepArgs]) error {
	err := eachTenant(ctx, w.Identity, func(t identity.Tenant) error {
		if _, err := w.Idempotency.DeleteExpired(ctx, t.ID); err != nil {
			return fmt.Errorf("sweep %s: %w", t.ID, err)
		}
		return nil
	})
	if err != nil {
		return err
	}
	_, err = w.Idempotency.DeleteExpired(ctx, "")
	return err
}
