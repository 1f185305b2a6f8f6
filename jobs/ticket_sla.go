package jobs

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river"

	"github.com/servicenet/servicenet/tenants"
	"github.com/servicenet/servicenet/tenants/tickets"
)

// TicketTimerArgs is an SLA timer: at its run time it checks whether the
// ticket's deadline for SLA is still DueAt (not met, not moved) and, if so,
// records a breach at Level and escalates (tickets.Service.CheckTimer).
type TicketTimerArgs struct {
	TenantID string    `json:"tenant_id"`
	TicketID string    `json:"ticket_id"`
	SLA      string    `json:"sla"`
	DueAt    time.Time `json:"due_at"`
	Level    int       `json:"level"`
	// Next are the ticket's level-1 deadlines checked after this one,
	// earliest first (tickets.Timer.Then): once it has checked its own,
	// the job inserts the job of the first still running, carrying the
	// rest. An intake thus inserts one job for its four deadlines.
	Next []TicketDeadline `json:"next,omitempty"`
}

// TicketDeadline is a deadline waiting in a timer's chain.
type TicketDeadline struct {
	SLA   string    `json:"sla"`
	DueAt time.Time `json:"due_at"`
}

// Kind is stored with every job; never rename it.
func (TicketTimerArgs) Kind() string { return "ticket_sla_timer" }

// InsertOpts makes a timer unique by its args (in every state River keeps),
// so inserting it again, e.g. from a retried transaction or a rerun
// escalation, does not add a second job.
func (TicketTimerArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{UniqueOpts: river.UniqueOpts{ByArgs: true}}
}

// TicketTimerWorker runs TicketTimerArgs through tickets.Service.CheckTimerThen,
// which is idempotent: a breach is recorded once per ticket, SLA, deadline
// and level.
type TicketTimerWorker struct {
	river.WorkerDefaults[TicketTimerArgs]
	Tickets *tickets.Service
}

func (w *TicketTimerWorker) Work(ctx context.Context, job *river.Job[TicketTimerArgs]) error {
	if w.Tickets == nil {
		// A client built without the tickets service (some tests): nothing to run.
		return river.JobCancel(errors.New("ticket SLA timer: no tickets service configured"))
	}
	a := job.Args
	if !slices.Contains(tickets.SLAs, tickets.SLA(a.SLA)) || a.Level < 1 || a.Level > tickets.MaxEscalationLevel {
		return river.JobCancel(fmt.Errorf("ticket SLA timer: bad args (sla %q, level %d)", a.SLA, a.Level))
	}
	var then []tickets.Deadline
	for _, d := range a.Next {
		if !slices.Contains(tickets.SLAs, tickets.SLA(d.SLA)) {
			return river.JobCancel(fmt.Errorf("ticket SLA timer: bad args (next sla %q)", d.SLA))
		}
		then = append(then, tickets.Deadline{SLA: tickets.SLA(d.SLA), DueAt: d.DueAt})
	}
	_, err := w.Tickets.CheckTimerThen(ctx, a.TenantID, a.TicketID, tickets.SLA(a.SLA), a.DueAt, a.Level, then)
	if tenants.ErrorCode(err) == tenants.CodeNotFound {
		return river.JobCancel(err) // the ticket (or its tenant) does not exist: retrying cannot help
	}
	return err
}

// TicketTimerEnqueuer is tickets.Deps.EnqueueTimers: it inserts
// all the timers of the caller's transaction in one batched insert (a
// timer's chain, Then, travels in its args as Next), each
// scheduled at its RunAt (DueAt when zero), so the ticket's deadlines and
// their timers commit (or roll back) together. Due times are kept to the
// microsecond, as PostgreSQL stores them.
func TicketTimerEnqueuer(rc Inserter) func(ctx context.Context, tx pgx.Tx, timers []tickets.Timer) error {
	return func(ctx context.Context, tx pgx.Tx, timers []tickets.Timer) error {
		if len(timers) == 0 {
			return nil
		}
		params := make([]river.InsertManyParams, len(timers))
		for i, t := range timers {
			due := t.DueAt.Truncate(time.Microsecond).UTC()
			at := t.RunAt
			if at.IsZero() {
				at = due
			}
			opts := &river.InsertOpts{ScheduledAt: at}
			if t.TestClock != "" {
				// on a test clock: parked until the clock passes at
				var err error
				if opts, err = parked(t.TestClock, at); err != nil {
					return err
				}
			}
			args := TicketTimerArgs{TenantID: t.TenantID, TicketID: t.TicketID, SLA: string(t.SLA), DueAt: due, Level: t.Level}
			for _, d := range t.Then {
				args.Next = append(args.Next, TicketDeadline{SLA: string(d.SLA), DueAt: d.DueAt.Truncate(time.Microsecond).UTC()})
			}
			params[i] = river.InsertManyParams{Args: args, InsertOpts: opts}
		}
		_, err := rc.InsertManyTx(ctx, tx, params)
		return err
	}
}
