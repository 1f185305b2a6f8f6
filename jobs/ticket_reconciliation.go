package jobs

import (
	"context"
	"errors"
	"time"

	"github.com/riverqueue/river"

	"github.com/servicenet/servicenet/tenants"
	"github.com/servicenet/servicenet/tenants/tickets"
)

// TicketReconciliationArgs reconciles every active tenant's yesterday (in
// the tenant's time zone): completed tickets whose sign-off was not in by
// the end of the day, or whose rating the customer did not confirm by code,
// and tickets with an invoice promised by the day and not issued by its end
// (invoice_overdue), are recorded as findings. It runs hourly; a finding is
// recorded once, so reruns are no-ops.
//
// With TestClock set (test mode only), it reconciles instead the tickets
// attached to that test clock of TenantID on the clock's time: every day
// that ended on the clock. TestClockAdvanceWorker inserts it when the clock
// advances; the periodic, wall-clock run leaves a clock's tickets to it.
type TicketReconciliationArgs struct {
	TenantID  string `json:"tenant_id,omitempty"`
	TestClock string `json:"test_clock,omitempty"`
}

// Kind is stored with every job; never rename it.
func (TicketReconciliationArgs) Kind() string { return "ticket_reconciliation" }

// TicketReconciliationWorker runs TicketReconciliationArgs.
type TicketReconciliationWorker struct {
	river.WorkerDefaults[TicketReconciliationArgs]
	Tenants tenantLister
	Tickets *tickets.Service
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

// Timeout: a periodic job (see PeriodicJobs); its rerun redoes nothing done.
func (w *TicketReconciliationWorker) Timeout(*river.Job[TicketReconciliationArgs]) time.Duration {
	return PeriodicTimeout
}

// Work reconciles each active tenant's yesterday. A tenant that fails does
// not stop the others; the job then fails and its retry redoes the day.
func (w *TicketReconciliationWorker) Work(ctx context.Context, job *river.Job[TicketReconciliationArgs]) error {
	if a := job.Args; a.TestClock != "" {
		if JobLivemode(job.JobRow) {
			return river.JobCancel(errors.New("ticket reconciliation: a live job for a test clock (test clocks exist in test mode only)"))
		}
		_, err := w.Tickets.ReconcileClock(ctx, a.TenantID, a.TestClock)
		if tenants.ErrorCode(err) == tenants.CodeNotFound {
			return river.JobCancel(err) // the clock was deleted with the test data
		}
		return err
	}
	now := time.Now()
	if w.Now != nil {
		now = w.Now()
	}
	return eachActiveTenant(ctx, w.Tenants, "ticket reconciliation", func(ctx context.Context, tenantID string) error {
		_, _, err := w.Tickets.ReconcileYesterday(ctx, tenantID, now)
		return err
	})
}
