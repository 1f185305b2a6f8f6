package jobs

import (
	"context"
	"time"

	"github.com/riverqueue/river"
)

// CareRemindersArgs emits unit.care_due for every active tenant's units
// whose care is due under the tenant's care policy (customers.RemindCare),
// in both modes. It runs hourly, one transaction per tenant and mode; each
// unit and due date is announced once, so reruns are no-ops.
type CareRemindersArgs struct{}

// Kind is stored with every job; never rename it.
func (CareRemindersArgs) Kind() string { return "care_reminders" }

// careReminder emits one tenant's due care reminders.
type careReminder interface {
	RemindCare(ctx context.Context, tenantID string, now time.Time) (int, error)
}

// CareRemindersWorker runs CareRemindersArgs.
type CareRemindersWorker struct {
	river.WorkerDefaults[CareRemindersArgs]
	Tenants   tenantLister
	Customers careReminder
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

// Timeout: a periodic job (see PeriodicJobs); its rerun redoes nothing done.
func (w *CareRemindersWorker) Timeout(*river.Job[CareRemindersArgs]) time.Duration {
	return PeriodicTimeout
}

// Work emits every active tenant's due reminders. A tenant that fails does
// not stop the others; the job then fails and its retry emits only what
// has not been emitted.
func (w *CareRemindersWorker) Work(ctx context.Context, job *river.Job[CareRemindersArgs]) error {
	now := time.Now()
	if w.Now != nil {
		now = w.Now()
	}
	return eachActiveTenant(ctx, w.Tenants, "care reminders", func(ctx context.Context, tenantID string) error {
		_, err := w.Customers.RemindCare(ctx, tenantID, now)
		return err
	})
}
