package jobs

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"

	"github.com/servicenet/servicenet/tenants/identity"
)

// LicenceExpiryArgs marks technicians' service licences that have expired in
// their tenant's time zone and announces each with a
// technician.licence_expired event. It runs hourly for every active tenant,
// one transaction per tenant; a licence is marked once, so reruns are no-ops.
type LicenceExpiryArgs struct{}

// Kind is stored with every job; never rename it.
func (LicenceExpiryArgs) Kind() string { return "licence_expiry" }

// InsertOpts makes concurrent schedules collapse into one pending run.
func (LicenceExpiryArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{UniqueOpts: river.UniqueOpts{ByArgs: true, ByState: []rivertype.JobState{
		rivertype.JobStateAvailable, rivertype.JobStatePending, rivertype.JobStateRunning, rivertype.JobStateRetryable, rivertype.JobStateScheduled}}}
}

// tenantLister lists the platform's tenants a page at a time.
type tenantLister interface {
	ListTenants(ctx context.Context, limit int, cursor string) ([]identity.Tenant, string, error)
}

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

// Work marks every active tenant's expired licences. A tenant that fails does
// not stop the others; the job then fails and its retry redoes only what is
// still unmarked.
func (w *LicenceExpiryWorker) Work(ctx context.Context, job *river.Job[LicenceExpiryArgs]) error {
	now := time.Now()
	if w.Now != nil {
		now = w.Now()
	}
	var errs []error
	cursor := ""
	for {
		ts, next, err := w.Tenants.ListTenants(ctx, 200, cursor)
		if err != nil {
			return err
		}
		for _, t := range ts {
			if t.Status != "active" {
				continue
			}
			if _, err := w.Network.ExpireLicences(ctx, t.ID, now); err != nil {
				errs = append(errs, fmt.Errorf("licence expiry for %s: %w", t.ID, err))
			}
		}
		if next == "" {
			break
		}
		cursor = next
	}
	return errors.Join(errs...)
}
