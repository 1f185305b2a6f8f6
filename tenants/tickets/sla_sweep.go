package tickets

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/servicenet/servicenet/internal/pg"
	"github.com/servicenet/servicenet/tenants"
	"github.com/servicenet/servicenet/tenants/testclocks"
)

// How SLA deadlines are checked (migration 049). A ticket's deadlines live
// on its row; sla_check_at says when they need looking at next. A change
// that writes the ticket sets it to the earliest running deadline
// (slaCheckAt); the sweep (SweepSLA, every few seconds for each tenant and
// mode with tickets due, jobs.TicketSLASweepArgs) checks the tickets due by
// its time, records each
// breach once per deadline and level, and moves sla_check_at on to the
// next deadline or escalation. A test clock's tickets are swept on the
// clock's time when it advances (SweepClockSLA). No job is inserted per
// deadline: an intake's four deadlines cost a value on the ticket's row.

// sweepPage bounds the due tickets one sweep query lists.
const sweepPage = 200

// slaCheckAt is the next check of t as a change writes it: its earliest
// running deadline (the arrival's window end while scheduled), nil when
// none runs or the ticket has ended. A deadline already breached gives a
// time in the past: the sweep then finds its escalation not yet due and
// moves the check on.
func slaCheckAt(t *Ticket) *time.Time {
	var first *time.Time
	for _, d := range runningDeadlines(t.State, t.SLA, t.Appointment.End) {
		if first == nil || d.DueAt.Before(*first) {
			at := d.DueAt
			first = &at
		}
	}
	return first
}

// runningDeadlines are the deadlines a ticket in state runs: every SLA
// deadline set on it, and the arrival by the agreed window's end while it
// is scheduled; none once it is cancelled or closed.
func runningDeadlines(state State, st SLAStatus, windowEnd *time.Time) []Deadline {
	if state == StateCancelled || state == StateClosed {
		return nil
	}
	var out []Deadline
	for _, sla := range SLAs {
		at := windowEnd
		if sla == SLAArrival {
			if state != StateScheduled {
				continue
			}
		} else if d := st.deadline(sla); d != nil {
			at = *d
		} else {
			continue
		}
		if at != nil {
			out = append(out, Deadline{SLA: sla, DueAt: at.Truncate(time.Microsecond)})
		}
	}
	return out
}

// Deadline is a running deadline of a ticket.
type Deadline struct {
	SLA   SLA
	DueAt time.Time
}

// TenantsSLADue are the active tenants, each in the modes in which it has
// tickets whose next SLA check is due by now on the wall clock: one
// statement across tenants (pg.TenantsWithWork), so that a sweep over
// tenants with nothing due costs one round trip, whatever their number.
func (s *Service) TenantsSLADue(ctx context.Context, now time.Time) ([]pg.TenantWork, error) {
	return pg.TenantsWithWork(ctx, s.DB, "tickets_sla_due", &now)
}

// SweepSLA checks the tenant's tickets whose deadlines are due by now on
// the wall clock (not those on a test clock), each in a transaction of its
// own: a ticket another transaction holds is left to the next sweep (its
// change writes sla_check_at again anyway). It returns the number of
// breaches recorded. A ticket that fails does not stop the others; their
// errors come back joined.
func (s *Service) SweepSLA(ctx context.Context, tenantID string, now time.Time) (int, error) {
	return s.sweep(ctx, tenantID, "", now)
}

// SweepClockSLA is SweepSLA for the tickets on test clock clockID, on the
// clock's time at (jobs.TestClockAdvanceWorker, once the clock has
// advanced to it). It waits for a ticket another transaction holds: the
// clock is swept once per advance, so a ticket skipped would miss its
// breach until the clock moved again.
func (s *Service) SweepClockSLA(ctx context.Context, tenantID, clockID string, at time.Time) (int, error) {
	return s.sweep(ctx, tenantID, clockID, at)
}

// sweep checks the due tickets a page at a time, earliest check first,
// walking the index on the next check. The walk goes on from the last
// ticket listed (its check and ID), so a ticket that was skipped or failed
// is not listed again in the same sweep; the others leave the due set as
// they are checked. The check is carried as its text (exact, with its
// offset): a ticket handed over by migration 049 has -infinity, which
// time.Time cannot hold.
func (s *Service) sweep(ctx context.Context, tenantID, clock string, now time.Time) (int, error) {
	type due struct{ id, at string }
	var (
		breaches int
		errs     []error
		after    *due
	)
	for {
		var page []due
		err := pg.InTenantTx(ctx, s.DB, tenantID, func(tx pg.TenantTx) error {
			var afterAt, afterID *string
			if after != nil {
				afterAt, afterID = &after.at, &after.id
			}
			rows, err := tx.Query(ctx, `SELECT id, sla_check_at::text FROM tickets
				WHERE tenant_id = $1 AND sla_check_at <= $2 AND test_clock_id IS NOT DISTINCT FROM $3
				  AND ($4::text IS NULL OR (sla_check_at, id) > ($4::timestamptz, $5::text))
				ORDER BY sla_check_at, id LIMIT $6`, tx.TenantID, now, nonEmpty(clock), afterAt, afterID, sweepPage)
			if err != nil {
				return err
			}
			page, err = pgx.CollectRows(rows, func(r pgx.CollectableRow) (due, error) {
				var d due
				return d, r.Scan(&d.id, &d.at)
			})
			return err
		})
		if err != nil {
			return breaches, errors.Join(append(errs, pg.Translate(err))...)
		}
		for _, d := range page {
			n, err := s.checkSLA(ctx, tenantID, d.id, now, nil, clock != "")
			if err != nil {
				errs = append(errs, fmt.Errorf("ticket %s: %w", d.id, err))
			}
			breaches += n
		}
		if len(page) < sweepPage {
			return breaches, errors.Join(errs...)
		}
		after = &page[len(page)-1]
	}
}

// CheckTimer checks one deadline of a ticket at one escalation level now
// (the service's clock, or the ticket's test clock): when the ticket's
// deadline for sla is still dueAt (not met, not moved) and the ticket is
// neither cancelled nor closed, it records the breach at level (once: a
// rerun finds the row and does nothing more), raises the ticket's
// escalation level, appends an sla_breached timeline entry and a
// ticket.sla_breached event; then it moves the ticket's next check on.
// breached reports whether this call recorded the breach. An unknown
// ticket is not_found. The sweep checks every due deadline the same way;
// this runs one ahead of its time (support tooling, tests).
func (s *Service) CheckTimer(ctx context.Context, tenantID, ticketID string, sla SLA, dueAt time.Time, level int) (breached bool, err error) {
	if !slices.Contains(SLAs, sla) {
		return false, fmt.Errorf("tickets: unknown SLA %q", sla)
	}
	if level < 1 || level > MaxEscalationLevel {
		return false, fmt.Errorf("tickets: escalation level %d out of 1..%d", level, MaxEscalationLevel)
	}
	if !tenants.ValidID(tenants.PrefixTicket, ticketID) {
		return false, tenants.NotFound("ticket")
	}
	n, err := s.checkSLA(ctx, tenantID, ticketID, s.now(), &forced{sla: sla, dueAt: dueAt.Truncate(time.Microsecond), level: level}, true)
	return n > 0, err
}

// forced is one deadline and level CheckTimer breaches whatever the time.
type forced struct {
	sla   SLA
	dueAt time.Time
	level int
}

type deadlineKey struct {
	sla SLA
	due int64 // Unix microseconds
}

// checkSLA checks ticket id's running deadlines at now, in one tenant
// transaction: each deadline due (at its time for level 1, each next level
// the escalation minutes after the one before fell due) is breached at its
// next level, and at each further level that fell due since (a late
// check catches up). With only set (CheckTimer), only that deadline is breached,
// at that level, and now becomes the ticket's test clock's time if it has
// one (the sweep of a clock passes the clock's time itself). Then
// sla_check_at becomes the earliest deadline or escalation still ahead,
// in the same update that raises the escalation level. It returns the
// breaches recorded.
//
// A check that must not miss the ticket (wait: one asked for, or a test
// clock's sweep, which runs once per advance and has no next tick) waits
// for a ticket another transaction holds; the wall clock's sweep skips it
// for its next tick.
func (s *Service) checkSLA(ctx context.Context, tenantID, id string, now time.Time, only *forced, wait bool) (int, error) {
	breaches := 0
	err := pg.InTenantTx(ctx, s.DB, tenantID, func(tx pg.TenantTx) error {
		breaches = 0
		var (
			r           timerRun
			st          SLAStatus
			windowStart *time.Time // the arrival's tasks' window
			windowEnd   *time.Time // the arrival's deadline
			clock       *string
		)
		lock := "FOR UPDATE SKIP LOCKED"
		if wait {
			lock = "FOR UPDATE"
		}
		b := &pgx.Batch{}
		b.Queue(`SELECT state, number, node_id, technician_id, storefront_id, route_due_at, first_contact_due_at,
			response_due_at, completion_due_at, callback_due_at, verification_due_at, window_start, window_end, test_clock_id,
			workshop_due_at, contact_attempts FROM tickets WHERE tenant_id = $1 AND id = $2 `+lock, tx.TenantID, id).QueryRow(func(row pgx.Row) error {
			return row.Scan(&r.state, &r.number, &r.nodeID, &r.technicianID, &r.storefrontID, &st.RouteDueAt,
				&st.FirstContactDueAt, &st.ResponseDueAt, &st.CompletionDueAt, &st.CallbackDueAt, &st.VerificationDueAt,
				&windowStart, &windowEnd, &clock, &st.WorkshopDueAt, &r.contactAttempts)
		})
		past := map[deadlineKey]int{} // the highest level recorded
		b.Queue(`SELECT sla, due_at, max(level) FROM ticket_sla_breaches
			WHERE tenant_id = $1 AND ticket_id = $2 GROUP BY sla, due_at`, tx.TenantID, id).Query(func(rows pgx.Rows) error {
			for rows.Next() {
				var sla SLA
				var due time.Time
				var level int
				if err := rows.Scan(&sla, &due, &level); err != nil {
					return err
				}
				past[deadlineKey{sla, due.UnixMicro()}] = level
			}
			return rows.Err()
		})
		var pol SLAPolicy
		QueueSLAPolicy(b, tx.TenantID, &pol)
		if err := tx.SendBatch(ctx, b).Close(); errors.Is(err, pgx.ErrNoRows) {
			if only != nil {
				return tenants.NotFound("ticket")
			}
			return nil // locked by a change (which writes the next check) or gone
		} else if err != nil {
			return err
		}
		if only != nil && clock != nil && !pg.Livemode(ctx) {
			var err error
			if now, err = testclocks.NowTx(ctx, tx, *clock); err != nil {
				return err
			}
		}
		escalate := minutes(pol.EscalationMinutes)
		// upcoming is a deadline's next breach. The levels fall due on the
		// deadline's own schedule: level 1 at the deadline, each next level
		// the escalation minutes after the one before fell due (level 3 of
		// a 60-minute policy two hours after the deadline), whenever a
		// check recorded them. A check that comes late (a test clock
		// advanced days past the deadline, a sweep that did not run, a
		// ticket a change held) catches up on the levels live time would
		// have reached, and the next level stays where live time puts it,
		// not the escalation minutes after the late check.
		upcoming := func(recorded int, d Deadline) (int, time.Time) {
			return recorded + 1, d.DueAt.Add(time.Duration(recorded) * escalate)
		}
		r.tx, r.ticketID, r.now = tx, id, now
		// What the breaches leave behind, and the ticket's escalation level
		// and next check, go in one batch after the last breach.
		trail := &pgx.Batch{}
		var (
			next   *time.Time
			raised int // the highest level recorded now
		)
		r.windowStart = windowStart
		for _, d := range runningDeadlines(r.state, st, windowEnd) {
			recordedLevel := past[deadlineKey{d.SLA, d.DueAt.UnixMicro()}]
			record := func(level int) error {
				r.sla, r.dueAt, r.level = d.SLA, d.DueAt, level
				recorded, err := s.breach(ctx, &r, trail)
				if err != nil {
					return err
				}
				if recorded {
					breaches++
					raised = max(raised, level)
				}
				recordedLevel = max(recordedLevel, level) // now, or by an earlier check
				return nil
			}
			if only != nil { // the deadline asked for, at its level; no other
				if d.SLA == only.sla && d.DueAt.Equal(only.dueAt) {
					if err := record(only.level); err != nil {
						return err
					}
				}
			} else {
				// Every level due by now, in order, each once.
				for {
					level, due := upcoming(recordedLevel, d)
					if level > MaxEscalationLevel || due.After(now) {
						break
					}
					if err := record(level); err != nil {
						return err
					}
				}
			}
			if level, due := upcoming(recordedLevel, d); level <= MaxEscalationLevel && (next == nil || due.Before(*next)) {
				next = &due
			}
		}
		trail.Queue(`UPDATE tickets SET sla_check_at = $3, escalation_level = greatest(escalation_level, $4)
			WHERE tenant_id = $1 AND id = $2`, tx.TenantID, id, next, raised)
		return tx.SendBatch(ctx, trail).Close()
	})
	return breaches, pg.Translate(err)
}

// timerRun is the locked ticket a check found a deadline due on.
type timerRun struct {
	tx                                 pg.TenantTx
	ticketID                           string
	now                                time.Time
	sla                                SLA
	dueAt                              time.Time
	level                              int
	state                              State
	number                             string
	nodeID, technicianID, storefrontID *string
	windowStart                        *time.Time // the agreed window's, for the arrival's tasks
	contactAttempts                    int        // the failed contact attempts, for a first contact's breach
}

// breach records the breach of a running deadline at its level, once, and
// queues on b what it leaves behind (the timeline entry, the event, the
// arrival's follow-up tasks); the caller raises the ticket's escalation
// level. It reports false when an earlier check recorded the breach.
func (s *Service) breach(ctx context.Context, r *timerRun, b *pgx.Batch) (bool, error) {
	tx, ticketID, sla, dueAt, level, now := r.tx, r.ticketID, r.sla, r.dueAt, r.level, r.now
	escalatedTo := EscalatedTo(level)
	tag, err := tx.Exec(ctx, `INSERT INTO ticket_sla_breaches (tenant_id, ticket_id, sla, due_at, level, escalated_to, node_id, breached_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT DO NOTHING`,
		tx.TenantID, ticketID, string(sla), dueAt, level, escalatedTo, r.nodeID, now)
	if err != nil {
		return false, err
	}
	if tag.RowsAffected() == 0 {
		return false, nil // recorded by an earlier run
	}
	detail := map[string]any{"sla": sla, "due_at": dueAt, "level": level, "escalated_to": escalatedTo}
	if sla == SLAArrival && level == 1 {
		// running late: the seed's follow-ups for the technician
		t := &Ticket{ID: ticketID, NodeID: r.nodeID, TechnicianID: r.technicianID}
		window := dueAt
		if r.windowStart != nil {
			window = r.windowStart.Truncate(time.Microsecond)
		}
		queueTask(b, tx.TenantID, t, TaskCallCustomer, window,
			"the agreed window closed without the technician: call the customer (the standard: 1-2 minutes before the agreed time) to apologise and give the arrival time, or agree a new time", now)
		queueTask(b, tx.TenantID, t, TaskApologise, window,
			"the technician is late: apologise on arrival (traffic, never \"too many customers\"); if the apology is refused the node manager visits", now)
		detail["tasks"] = []string{TaskCallCustomer, TaskApologise}
	}
	data := map[string]any{"ticket_id": ticketID, "number": r.number, "sla": sla, "due_at": dueAt, "level": level,
		"escalated_to": escalatedTo, "node_id": r.nodeID, "technician_id": r.technicianID, "storefront_id": r.storefrontID}
	if sla == SLAFirstContact {
		// no appointment agreed in time: whether the network tried
		detail["contact_attempts"], data["contact_attempts"] = r.contactAttempts, r.contactAttempts
	}
	breach := step{action: actSLABreached, from: r.state, to: r.state, detail: detail}
	if err := queueTrail(b, tx, ticketID, []step{breach}, SystemActor, now, data); err != nil {
		return false, err
	}
	return true, nil
}

// recordMetLate records, inside a change to a ticket (commit, before the
// ticket is saved), the breach of each deadline the change stops after it
// passed: met late (first contact agreed 3 hours after its due time),
// cleared by a cancellation, or replaced by a new one. Live, the sweep
// would have recorded it within seconds of the deadline; but a change that
// lands between two sweeps, or on a test clock before the clock's sweep
// has run, takes the deadline off the ticket before any sweep saw it, and
// the breach would never be recorded: not in the quality KPIs, not
// escalated. So the change records it at level 1, as the sweep would,
// with the sweep's row, timeline entry and ticket.sla_breached event at
// the change's time: once, the row's key (ticket, SLA, deadline, level)
// making a breach the sweep already recorded a no-op. A deadline met at
// its very instant is met. The arrival is left to the check-in, which
// judges it by the arrival's time, not by when the change lands
// (lateArrival). The breach is the state's before the change, and the
// node's the ticket was with then; the ticket's escalation level rises to
// at least 1 with the change's save.
func (s *Service) recordMetLate(ctx context.Context, c *change, b *pgx.Batch) error {
	before := &c.before
	if before.ID == "" {
		return nil // a new ticket: nothing ran before it
	}
	still := map[deadlineKey]bool{}
	for _, d := range runningDeadlines(c.T.State, c.T.SLA, c.T.Appointment.End) {
		still[deadlineKey{d.SLA, d.DueAt.UnixMicro()}] = true
	}
	r := timerRun{tx: c.tx, ticketID: c.T.ID, now: c.now, level: 1, state: before.State, number: c.T.Number,
		nodeID: before.NodeID, technicianID: before.TechnicianID, storefrontID: before.StorefrontID,
		contactAttempts: before.ContactAttempts.Count}
	for _, d := range runningDeadlines(before.State, before.SLA, before.Appointment.End) {
		if d.SLA == SLAArrival || still[deadlineKey{d.SLA, d.DueAt.UnixMicro()}] || !c.now.After(d.DueAt) {
			continue
		}
		r.sla, r.dueAt = d.SLA, d.DueAt
		recorded, err := s.breach(ctx, &r, b)
		if err != nil {
			return err
		}
		if recorded {
			c.T.SLA.EscalationLevel = max(c.T.SLA.EscalationLevel, 1)
		}
	}
	return nil
}

// onSiteRepairLate records, inside the completion of a repair, the
// on-site repair's breach (seed 002, 4.2.3 维修时效: 对于一般性故障,维修工程师
// 将在1小时内完成维修) when the completion comes more than the policy's
// on_site_repair_minutes after the visit's check-in. A general fault is
// the one repaired in the visit: a repair ticket completed from on_site,
// with no swap requested; the visit is the one checked in last (a visit
// that ended waiting for parts, in a visit exception or with the fault
// sent up a tier completed nothing: the visit that completes the repair is
// measured from its own check-in). A unit carried in is completed from
// returned and is under the workshop's deadline instead. The deadline
// never runs on the ticket (nothing for the sweep: the completion knows
// whether it was late), so the completion records the breach as the sweep
// would, at level 1 with its row, timeline entry and ticket.sla_breached
// event at the completion's time, and raises the ticket's escalation level
// to at least 1; a completed repair has nothing left to escalate. Its
// timeline entry and event ride the completion's own round trip
// (TenantTx.Defer), before the completion's. A completion at the
// deadline's very instant is in time.
func (s *Service) onSiteRepairLate(ctx context.Context, c *change) error {
	before := &c.before
	if before.Type != TypeRepair || before.State != StateOnSite || before.SwapID != nil || before.Appointment.ArrivedAt == nil {
		return nil
	}
	due := before.Appointment.ArrivedAt.Add(minutes(c.policy.OnSiteRepairMinutes)).Truncate(time.Microsecond)
	if !c.now.After(due) {
		return nil
	}
	r := timerRun{tx: c.tx, ticketID: c.T.ID, now: c.now, sla: SLAOnSiteRepair, dueAt: due, level: 1, state: before.State,
		number: c.T.Number, nodeID: before.NodeID, technicianID: before.TechnicianID, storefrontID: before.StorefrontID}
	b := &pgx.Batch{}
	recorded, err := s.breach(ctx, &r, b)
	if err != nil {
		return err
	}
	if recorded {
		c.T.SLA.EscalationLevel = max(c.T.SLA.EscalationLevel, 1)
	}
	return c.tx.Defer(ctx, b) // with the completion's own writes
}
