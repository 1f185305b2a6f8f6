package jobs

import (
	"context"
	"time"

	"github.com/riverqueue/river"

	"github.com/servicenet/servicenet/tenants/quality"
)

// QualityFoldArgs folds every active tenant's new feed events (tickets,
// visits, callbacks, complaints, SLA breaches) into the quality rollups.
// It runs every minute; the fold stores its feed position in the same
// transaction as each batch, so a rerun folds nothing twice.
type QualityFoldArgs struct{}

// Kind is stored with every job; never rename it.
func (QualityFoldArgs) Kind() string { return "quality_fold" }

// QualityFoldWorker runs QualityFoldArgs.
type QualityFoldWorker struct {
	river.WorkerDefaults[QualityFoldArgs]
	Quality *quality.Service
}

// Timeout: a periodic job (see PeriodicJobs).
func (w *QualityFoldWorker) Timeout(*river.Job[QualityFoldArgs]) time.Duration {
	return PeriodicTimeout
}

// Work folds each active tenant and mode with events to fold
// (quality.Service.TenantsToFold: one question across tenants, not a
// transaction per tenant and mode), at most a bounded number of events per
// tenant per run (the next run goes on).
func (w *QualityFoldWorker) Work(ctx context.Context, job *river.Job[QualityFoldArgs]) error {
	return eachTenantWithWork(ctx, "quality fold", w.Quality.TenantsToFold, func(ctx context.Context, tenantID string) error {
		_, err := w.Quality.Fold(ctx, tenantID, 50*quality.FoldBatch)
		return err
	})
}

// QualityMonthlyArgs closes each active tenant's previous month once: the
// rollups folded up to date, a scorecard.ready event, and the month's
// grading proposals when the tenant has a grading policy. It runs hourly;
// a month is closed once, so reruns are no-ops.
type QualityMonthlyArgs struct{}

// Kind is stored with every job; never rename it.
func (QualityMonthlyArgs) Kind() string { return "quality_monthly" }

// QualityMonthlyWorker runs QualityMonthlyArgs.
type QualityMonthlyWorker struct {
	river.WorkerDefaults[QualityMonthlyArgs]
	Tenants tenantLister
	Quality *quality.Service
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

// Timeout: a periodic job (see PeriodicJobs).
func (w *QualityMonthlyWorker) Timeout(*river.Job[QualityMonthlyArgs]) time.Duration {
	return PeriodicTimeout
}

// Work closes the previous month of each active tenant.
func (w *QualityMonthlyWorker) Work(ctx context.Context, job *river.Job[QualityMonthlyArgs]) error {
	now := time.Now()
	if w.Now != nil {
		now = w.Now()
	}
	return eachActiveTenant(ctx, w.Tenants, "quality monthly", func(ctx context.Context, tenantID string) error {
		_, err := w.Quality.MonthlyClose(ctx, tenantID, now)
		return err
	})
}
