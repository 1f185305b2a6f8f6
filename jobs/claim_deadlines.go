package jobs

import (
	"context"
	"time"

	"github.com/riverqueue/river"

	"github.com/servicenet/servicenet/internal/pg"
	"github.com/servicenet/servicenet/tenants/claims"
)

// ClaimDeadlineSweepInterval is how often the claims' review and decision
// deadlines are checked: a missed deadline is recorded at most this long
// after it passed (plus the sweep's own run). The deadlines are hours and
// days (24 h to respond, 30 days to decide by default).
const ClaimDeadlineSweepInterval = time.Minute

// ClaimDeadlineSweepArgs checks every active tenant's claims whose review
// or decision deadline is due, in both modes (claims.Service.SweepDeadlines):
// each deadline passed unmet is recorded once, with a claim.deadline_missed
// event. Claims have no test clocks: all are checked on the wall clock.
type ClaimDeadlineSweepArgs struct{}

// Kind is stored with every job; never rename it.
func (ClaimDeadlineSweepArgs) Kind() string { return "claim_deadline_sweep" }

// ClaimDeadlineSweepWorker runs ClaimDeadlineSweepArgs.
type ClaimDeadlineSweepWorker struct {
	river.WorkerDefaults[ClaimDeadlineSweepArgs]
	Claims *claims.Service
}

// Timeout: a periodic job (see PeriodicJobs); its rerun redoes nothing done
// (a missed deadline is recorded once per claim and deadline).
func (w *ClaimDeadlineSweepWorker) Timeout(*river.Job[ClaimDeadlineSweepArgs]) time.Duration {
	return PeriodicTimeout
}

// Work sweeps each active tenant and mode with claims due
// (claims.Service.TenantsDeadlinesDue: one question across tenants, not a
// transaction per tenant and mode). A tenant that fails does not stop the
// others; the job then fails, and the next sweep finds the same claims due.
func (w *ClaimDeadlineSweepWorker) Work(ctx context.Context, job *river.Job[ClaimDeadlineSweepArgs]) error {
	now := time.Now()
	due := func(ctx context.Context) ([]pg.TenantWork, error) { return w.Claims.TenantsDeadlinesDue(ctx, now) }
	return eachTenantWithWork(ctx, "claim deadline sweep", due, func(ctx context.Context, tenantID string) error {
		_, err := w.Claims.SweepDeadlines(ctx, tenantID, now)
		return err
	})
}
