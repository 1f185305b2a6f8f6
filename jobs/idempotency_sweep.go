package jobs

import (
	"context"
	"fmt"
	"time"

	"github.com/riverqueue/river"

	"github.com/servicenet/servicenet/internal/pg"
	"github.com/servicenet/servicenet/tenants/idempotency"
	"github.com/servicenet/servicenet/tenants/identity"
)

// IdempotencySweepArgs deletes idempotency records past their 24-hour
// retention, tenant by tenant (each under its own RLS scope), then the
// platform's. Deleting what is already gone is a no-op, so reruns are safe.
type IdempotencySweepArgs struct{}

// Kind is stored with every job; never rename it.
func (IdempotencySweepArgs) Kind() string { return "idempotency_sweep" }

// IdempotencySweepWorker runs IdempotencySweepArgs.
type IdempotencySweepWorker struct {
	river.WorkerDefaults[IdempotencySweepArgs]
	Identity    *identity.Service
	Idempotency *idempotency.Store
}

// Timeout: a periodic job (see PeriodicJobs); its rerun redoes nothing done.
func (w *IdempotencySweepWorker) Timeout(*river.Job[IdempotencySweepArgs]) time.Duration {
	return PeriodicTimeout
}

func (w *IdempotencySweepWorker) Work(ctx context.Context, job *river.Job[IdempotencySweepArgs]) error {
	err := eachTenant(ctx, w.Identity, func(t identity.Tenant) error {
		for _, live := range modes {
			if _, err := w.Idempotency.DeleteExpired(pg.WithLivemode(ctx, live), t.ID); err != nil {
				return fmt.Errorf("sweep %s (%s): %w", t.ID, pg.ModeName(live), err)
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	_, err = w.Idempotency.DeleteExpired(ctx, "")
	return err
}
