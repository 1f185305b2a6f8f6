package jobs

import (
	"context"
	"time"

	"github.com/riverqueue/river"

	"github.com/servicenet/servicenet/internal/pg"
	"github.com/servicenet/servicenet/tenants/tickets"
)

// TicketSLASweepInterval is how often the tickets' SLA deadlines are
// checked: a breach is recorded at most this long after its deadline (plus
// the sweep's own run), as River's scheduler (every 5 s) held the job per
// deadline that this replaces. The policy's deadlines and escalations are
// whole minutes.
const TicketSLASweepInterval = 5 * time.Second

// TicketSLASweepArgs checks every active tenant's tickets whose SLA
// deadlines are due, in both modes (tickets.Service.SweepSLA): each due
// deadline is breached at its next escalation level, once. A test clock's
// tickets wait for the clock (TestClockAdvanceWorker sweeps them).
type TicketSLASweepArgs struct{}

// Kind is stored with every job; never rename it.
func (TicketSLASweepArgs) Kind() string { return "ticket_sla_sweep" }

// TicketSLASweepWorker runs TicketSLASweepArgs.
type TicketSLASweepWorker struct {
	river.WorkerDefaults[TicketSLASweepArgs]
	Tickets *tickets.Service
}

// Timeout: a periodic job (see PeriodicJobs); its rerun redoes nothing done
// (a breach is recorded once per deadline and level).
func (w *TicketSLASweepWorker) Timeout(*river.Job[TicketSLASweepArgs]) time.Duration {
	return PeriodicTimeout
}

// Work sweeps each active tenant and mode with tickets due
// (tickets.Service.TenantsSLADue: one question across tenants, not a
// transaction per tenant and mode). A tenant (or a ticket) that fails does
// not stop the others; the job then fails, and the next sweep finds the
// same tickets due.
func (w *TicketSLASweepWorker) Work(ctx context.Context, job *river.Job[TicketSLASweepArgs]) error {
	now := time.Now()
	due := func(ctx context.Context) ([]pg.TenantWork, error) { return w.Tickets.TenantsSLADue(ctx, now) }
	return eachTenantWithWork(ctx, "ticket SLA sweep", due, func(ctx context.Context, tenantID string) error {
		_, err := w.Tickets.SweepSLA(ctx, tenantID, now)
		return err
	})
}

// TicketTimerArgs is the job each SLA deadline had before the sweep
// (migration 049). Jobs of this kind queued before it complete without
// doing anything: the migration handed their tickets to the sweep, which
// checks the same deadlines and escalations; their args are not read.
type TicketTimerArgs struct{}

// Kind is stored with every job; never rename it.
func (TicketTimerArgs) Kind() string { return "ticket_sla_timer" }

// TicketTimerWorker completes the SLA timer jobs queued before the sweep.
type TicketTimerWorker struct {
	river.WorkerDefaults[TicketTimerArgs]
}

func (w *TicketTimerWorker) Work(context.Context, *river.Job[TicketTimerArgs]) error { return nil }
