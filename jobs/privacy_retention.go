package jobs

import (
	"context"
	"errors"
	"time"

	"github.com/riverqueue/river"
)

// PrivacyRetentionArgs masks at rest the personal data of tickets closed
// longer ago than their tenant's retention_days (the privacy policy), then
// of the customers the brand last served longer ago than that (no open
// ticket or complaint, no unit under warranty or contract:
// customers.MaskRetainedTx). It runs hourly for every active tenant and
// mode, one transaction each for tickets and for customers, each bounded to
// a batch (the next run goes on); a masked ticket or customer is not masked
// again, so reruns are no-ops.
type PrivacyRetentionArgs struct{}

// Kind is stored with every job; never rename it.
func (PrivacyRetentionArgs) Kind() string { return "privacy_retention" }

// retentionApplier masks one tenant's tickets, or customers, past retention.
type retentionApplier interface {
	ApplyRetention(ctx context.Context, tenantID string, now time.Time) (int, error)
}

// PrivacyRetentionWorker runs PrivacyRetentionArgs.
type PrivacyRetentionWorker struct {
	river.WorkerDefaults[PrivacyRetentionArgs]
	Tenants   tenantLister
	Tickets   retentionApplier
	Customers retentionApplier
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

// Timeout: a periodic job (see PeriodicJobs); its rerun redoes nothing done.
func (w *PrivacyRetentionWorker) Timeout(*river.Job[PrivacyRetentionArgs]) time.Duration {
	return PeriodicTimeout
}

// Work applies every active tenant's retention policy. A tenant that fails
// does not stop the others; the job then fails and its retry goes on.
func (w *PrivacyRetentionWorker) Work(ctx context.Context, job *river.Job[PrivacyRetentionArgs]) error {
	now := time.Now()
	if w.Now != nil {
		now = w.Now()
	}
	return eachActiveTenant(ctx, w.Tenants, "privacy retention", func(ctx context.Context, tenantID string) error {
		// Tickets first, then their customers; a failure of one does not
		// hold the other back.
		_, errT := w.Tickets.ApplyRetention(ctx, tenantID, now)
		_, errC := w.Customers.ApplyRetention(ctx, tenantID, now)
		return errors.Join(errT, errC)
	})
}
