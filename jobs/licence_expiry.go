package jobs

import (
	"context"
	"time"

	"github.com/riverqueue/river"
)

// LicenceExpiryArgs marks technicians' service licences that have expired in
// their tenant's time zone and announces each with a
// technician.licence_expired event. It runs hourly for every active tenant,
// one transaction per tenant; a licence is marked once, so reruns are no-ops.
type LicenceExpiryArgs struct{}

// Kind is stored with every job; never rename it.
func (LicenceExpiryArgs) Kind() string { return "licence_expiry" }

// licenceExpirer marks one tenant's expired licences.
type licenceExpirer interface {
	ExpireLicences(ctx context.Context, tenantID string, now time.Time) (int, error)
}

// LicenceExpiryWorker runs LicenceExpiryArgs.
type LicenceExpiryWorker struct {
	river.WorkerDefaults[LicenceExpiryArgs]
	Tenants tenantLister
	Network licenceExpirer
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

// Timeout: a periodic job (see PeriodicJobs); its rerun redoes nothing done.
func (w *LicenceExpiryWorker) Timeout(*river.Job[LicenceExpiryArgs]) time.Duration {
	return PeriodicTimeout
}

// Work marks every active tenant's expired licences. A tenant that fails does
// not stop the others; the job then fails and its retry redoes only what is
// still unmarked.
func (w *LicenceExpiryWorker) Work(ctx context.Context, job *river.Job[LicenceExpiryArgs]) error {
	now := time.Now()
	if w.Now != nil {
		now = w.Now()
	}
	return eachActiveTenant(ctx, w.Tenants, "licence expiry", func(ctx context.Context, tenantID string) error {
		_, err := w.Network.ExpireLicences(ctx, tenantID, now)
		return err
	})
}
