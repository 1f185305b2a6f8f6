package tickets

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/servicenet/servicenet/internal/i18n"
	"github.com/servicenet/servicenet/internal/pg"
	"github.com/servicenet/servicenet/tenants"
	"github.com/servicenet/servicenet/tenants/events"
	"github.com/servicenet/servicenet/tenants/notifications"
	"github.com/servicenet/servicenet/tenants/statemachine"
)

// Action is something done to a ticket: an endpoint
// (POST /v1/tickets/{id}/<action with dashes>) and an event type
// (ticket.<action>).
type Action string

// Ticket actions.
const (
	ActOpen        Action = "opened"
	ActProvideInfo Action = "info_provided"
	ActTriage      Action = "triaged"
	ActGuidance    Action = "guidance_recorded"
	ActDispatch    Action = "dispatched"
	ActAssign      Action = "assigned"
	ActAccept      Action = "accepted"
	ActReject      Action = "rejected"
	ActSchedule    Action = "scheduled"
	ActReschedule  Action = "rescheduled"
	ActCheckIn     Action = "checked_in"
	ActDiagnose    Action = "diagnosed"
	ActParts       Action = "parts_moved"
	ActCarryIn     Action = "carried_in"
	ActReturn      Action = "returned"
	ActSwap        Action = "swap_requested"
	ActComplete    Action = "completed"
	ActSendCode    Action = "signoff_code_sent"
	ActSignOff     Action = "signed_off"
	ActCallback    Action = "callback_recorded"
	ActReopen      Action = "reopened"
	ActCancel      Action = "cancelled"
	// ActVisitException: an attempted visit the seed's exceptions ended.
	ActVisitException Action = "visit_exception_recorded"
	// ActChecklist: the technician's checklist of the visit.
	ActChecklist Action = "checklist_recorded"
	// ActTaskCompleted: a follow-up task was done (or refused).
	ActTaskCompleted Action = "task_completed"
)

// Transition is one row of the published transition table: an action, the
// states it may be taken from, the states it may lead to, and the
// permission it needs.
type Transition struct {
	Action     Action   `json:"action" doc:"The action; its event type is ticket.<action>." example:"triaged"`
	Endpoint   string   `json:"endpoint" doc:"The operation that takes it." example:"POST /v1/tickets/{ticket_id}/triage"`
	From       []State  `json:"from" doc:"States it may be taken from." example:"[\"new\"]"`
	To         []State  `json:"to" doc:"States it leads to (several: the outcome decides)." example:"[\"remote_guidance\",\"dispatched\",\"triaged\"]"`
	Permission string   `json:"permission" doc:"The permission it needs." example:"tickets.triage"`
	Summary    string   `json:"summary" doc:"What it does." example:"Decide remote, on-site or carry-in; on-site and carry-in dispatch automatically."`
	Types      []string `json:"types" doc:"The ticket types whose flow it belongs to; on another type it is refused (409 naming the type)." example:"[\"repair\"]"`
}

var open = []State{StateNew, StateNeedsInfo, StateTriaged, StateRemoteGuidance, StateDispatched, StateAssigned,
	StateScheduled, StateOnSite, StateAwaitingParts, StateCarryIn, StateReturned, StateReopened}

// Transitions is the ticket state machine, published at
// GET /v1/tickets/transitions and enforced by every action.
var Transitions = []Transition{
	{ActProvideInfo, "POST /v1/tickets/{ticket_id}/info", []State{StateNeedsInfo, StateNew}, []State{StateNew, StateNeedsInfo}, "tickets.triage",
		"Complete or correct the intake; the ticket becomes new when nothing is left to verify.", nil},
	{ActTriage, "POST /v1/tickets/{ticket_id}/triage", []State{StateNew}, []State{StateRemoteGuidance, StateDispatched, StateTriaged}, "tickets.triage",
		"Decide remote, on-site or carry-in; on-site and carry-in are dispatched automatically (triaged stays when no node can take it). Remote only for the types whose flow records guidance; on-site and carry-in only for the types served by a visit (a consultation is remote only).", nil},
	{ActGuidance, "POST /v1/tickets/{ticket_id}/guidance", []State{StateRemoteGuidance}, []State{StateResolved, StateRemoteGuidance, StateDispatched, StateTriaged}, "tickets.triage",
		"Record remote guidance's outcome: resolved (callback in 2 h), observe (callback in 30 min) or failed (dispatched for a visit; refused for a consultation, which is remote only).", nil},
	{ActDispatch, "POST /v1/tickets/{ticket_id}/dispatch", []State{StateTriaged, StateDispatched, StateAssigned, StateScheduled, StateReopened}, []State{StateDispatched, StateTriaged}, "tickets.dispatch",
		"Dispatch (again) by the scoring rules, or to a chosen node and technician with a reason (override); a scheduled ticket (改派 to another node) gives up its window: the new technician agrees one.", nil},
	{ActAssign, "POST /v1/tickets/{ticket_id}/assign", []State{StateDispatched, StateAssigned, StateScheduled}, []State{StateAssigned, StateScheduled}, "tickets.dispatch",
		"The node assigns one of its technicians; a scheduled job is reassigned (改派) with its agreed window, booked for the new technician.", nil},
	{ActAccept, "POST /v1/tickets/{ticket_id}/accept", []State{StateDispatched}, []State{StateAssigned}, "tickets.work",
		"The proposed technician (or the node for them) accepts the job.", nil},
	{ActReject, "POST /v1/tickets/{ticket_id}/reject", []State{StateDispatched, StateAssigned}, []State{StateDispatched, StateTriaged}, "tickets.work",
		"The technician or the node rejects the job with a reason code; the ticket is re-dispatched without them.", nil},
	{ActSchedule, "POST /v1/tickets/{ticket_id}/schedule", []State{StateAssigned}, []State{StateScheduled}, "tickets.work",
		"Record the appointment window agreed with the customer (first contact), or, after a failed contact attempt, the window the network promises a customer it could not reach (customer_unreachable).", nil},
	{ActReschedule, "POST /v1/tickets/{ticket_id}/reschedule", []State{StateScheduled, StateAwaitingParts}, []State{StateScheduled}, "tickets.work",
		"Move the appointment, with the reason (customer asked, technician conflict, parts).", nil},
	{ActEnRoute, "POST /v1/tickets/{ticket_id}/en-route", []State{StateScheduled}, []State{StateScheduled}, "tickets.work",
		"The technician is on the way, with the expected arrival: the customer is told (running late, with the new time, after the agreed window's end).", nil},
	{ActCheckIn, "POST /v1/tickets/{ticket_id}/check-in", []State{StateScheduled}, []State{StateOnSite}, "tickets.work",
		"The technician arrives; the arrival is classified against the window.", nil},
	{ActDiagnose, "POST /v1/tickets/{ticket_id}/diagnose", []State{StateOnSite, StateCarryIn}, []State{StateOnSite, StateCarryIn, StateDispatched, StateTriaged}, "tickets.work",
		"Record the diagnosis; the entitlement decision and the price-list quote are stored and shown before any charge. A hard fault (or a skill level) beyond the ticket's node or technician sends it up a tier: dispatched again by the rules (triaged when no node can take it).", nil},
	{ActParts, "POST /v1/tickets/{ticket_id}/parts", []State{StateOnSite, StateCarryIn, StateAwaitingParts, StateCompleted, StateClosed},
		[]State{StateOnSite, StateCarryIn, StateAwaitingParts, StateCompleted, StateClosed}, "tickets.work",
		"Reserve, issue, use or return parts of the node's stock; a shortage makes the ticket wait for parts. Once the ticket is completed (or closed), only returns: the parts issued and not fitted back on the shelf, the replaced parts taken back for the brand.", nil},
	{ActCarryIn, "POST /v1/tickets/{ticket_id}/carry-in", []State{StateOnSite}, []State{StateCarryIn}, "tickets.work",
		"Take the unit to the node with a receipt, lending a loaner.", nil},
	{ActReturn, "POST /v1/tickets/{ticket_id}/return", []State{StateCarryIn}, []State{StateReturned}, "tickets.work",
		"Return the unit to the customer and take the loaner back.", nil},
	{ActSwap, "POST /v1/tickets/{ticket_id}/swap", []State{StateOnSite, StateCarryIn}, []State{StateOnSite, StateCarryIn}, "tickets.work",
		"The repair is impossible: request a unit swap (approved by the swap chain).", nil},
	{ActComplete, "POST /v1/tickets/{ticket_id}/complete", []State{StateOnSite, StateReturned}, []State{StateCompleted}, "tickets.work",
		"Record the test run and settle the charges, with the service promises' waivers applied. A reopened round is settled by its own decision (a diagnosis, or the installation or maintenance report): without one it is 409 and nothing changes.", nil},
	{ActSendCode, "POST /v1/tickets/{ticket_id}/sign-off/code", []State{StateCompleted}, []State{StateCompleted}, "tickets.work",
		"Send the customer a one-time sign-off code.", nil},
	{ActSignOff, "POST /v1/tickets/{ticket_id}/sign-off", []State{StateCompleted}, []State{StateCompleted}, "tickets.work",
		"The customer signs off with the code and rates the service.", nil},
	{ActCallback, "POST /v1/tickets/{ticket_id}/callback", []State{StateCompleted, StateResolved, StateRemoteGuidance}, []State{StateClosed, StateReopened, StateCompleted, StateResolved, StateRemoteGuidance, StateDispatched}, "tickets.triage",
		"Record the follow-up callback: satisfied closes, unsatisfied reopens and re-dispatches (a consultation: back to remote guidance), unreachable waits (or closes by the tenant's rule).", nil},
	{ActReopen, "POST /v1/tickets/{ticket_id}/reopen", []State{StateCompleted, StateClosed, StateResolved}, []State{StateReopened, StateRemoteGuidance}, "tickets.triage",
		"Reopen a finished ticket (a complaint, a repeat fault); a consultation goes back to remote guidance.", nil},
	{ActCancel, "POST /v1/tickets/{ticket_id}/cancel", open, []State{StateCancelled}, "tickets.cancel",
		"Cancel an open ticket with a reason.", nil},
	{ActVisitException, "POST /v1/tickets/{ticket_id}/visit-exception", []State{StateScheduled, StateOnSite}, []State{StateScheduled, StateAssigned}, "tickets.work",
		"Record an attempted visit that could not be done (customer not home, entry refused, credentials doubted, product elsewhere, power cut) and reschedule.", nil},
	{ActChecklist, "POST /v1/tickets/{ticket_id}/checklist", []State{StateOnSite, StateCarryIn, StateReturned}, []State{StateOnSite, StateCarryIn, StateReturned}, "tickets.work",
		"Record the technician's checklist of the visit (licence, charges, conduct); a failed item makes the service free.", nil},
	{ActContactAttempt, "POST /v1/tickets/{ticket_id}/contact-attempt", []State{StateAssigned, StateScheduled, StateAwaitingParts},
		[]State{StateAssigned, StateScheduled, StateAwaitingParts}, "tickets.work",
		"Record a failed call to the customer before the visit (no answer, busy, unobtainable, wrong number): counted on the ticket; not a first contact, but it lets a schedule book the promised visit without the customer's agreement.", nil},
	{ActTaskCompleted, "POST /v1/tickets/{ticket_id}/tasks/{task_id}/complete", withTasks, withTasks, "tickets.work",
		"Complete a follow-up task (call, apology, gift, manager visit, reaching the customer).", nil},
	{ActInvoiceRequested, "POST /v1/tickets/{ticket_id}/invoice", withReceipts, withReceipts, "tickets.work",
		"The customer asks for an invoice (发票) on a receipt: title, a company's taxpayer id, delivery (on site, later, mailed). A ticket without a receipt (nothing charged) is refused.", nil},
	{ActInvoiceIssued, "POST /v1/tickets/{ticket_id}/invoice/issued", withReceipts, withReceipts, "tickets.work",
		"Record the invoice asked for as issued (its number and date): the obligation is closed.", nil},
	{ActChargesReduced, "POST /v1/tickets/{ticket_id}/reduce-charges", withTasks, withTasks, "tickets.reduce",
		"The centre reduces the customer's charges (named lines or an amount), the brand bearing it: at the completion, or at once with a refund when the charges were settled.", nil},
}

// withTasks are the states whose follow-up tasks may be completed: every
// state a task can be opened in. An upheld complaint opens tasks on a
// ticket already closed (or cancelled after a visit): the apology a
// late_arrival or property_damage complaint asks for, the node manager's
// visit when it is refused.
var withTasks = append(slices.Clone(open), StateCompleted, StateClosed, StateCancelled)

// withReceipts are the states a ticket with receipts may be in: completed,
// closed, or any a ticket reopened after a charging completion reaches
// again (open, or cancelled). Its receipts' invoices are asked for and
// issued whatever its state: the same states as its follow-up tasks.
var withReceipts = withTasks

func transitionOf(a Action) Transition {
	for _, t := range Transitions {
		if t.Action == a {
			return t
		}
	}
	panic("tickets: unknown action " + string(a))
}

// Allowed lists the actions that may be taken from state.
func Allowed(state State) []Transition {
	var out []Transition
	for _, t := range Transitions {
		if slices.Contains(t.From, state) {
			out = append(out, t)
		}
	}
	return out
}

func illegal(tr Transition, state State) error {
	var names []string
	for _, t := range Allowed(state) {
		names = append(names, string(t.Action))
	}
	allowed := "none: the ticket is finished"
	if len(names) > 0 {
		allowed = strings.Join(names, ", ")
	}
	_, verb, _ := strings.Cut(tr.Endpoint, "{ticket_id}/")
	return tenants.ErrorMsg(tenants.CodeConflict, i18n.M("tickets.action_not_allowed", "Action", verb, "State", state, "Allowed", allowed))
}

// change is one action on a locked ticket: fn mutates T and records what
// happened; run writes it all in the same transaction.
type change struct {
	tx     pg.TenantTx
	p      tenants.Principal
	now    time.Time
	policy SLAPolicy
	T      *Ticket
	action Action
	steps  []step
	// clock is the test clock the ticket is attached to (now is its time)
	clock string
	data  map[string]any
	// fail, when set by fn, is returned to the caller after the change is
	// committed (a wrong sign-off code still counts as an attempt).
	fail error
	// before is the ticket as it was locked (act), to tell which customer
	// messages the change calls for (notify.go).
	before Ticket
	// notices are customer messages the action asks for beyond those the
	// change itself implies (moments).
	notices []notice
	// optedOut is the customer's opt-out when the change read the customer
	// already (identify); nil: notifyCustomer reads it.
	optedOut *bool
	// notice is the reads of a notice queued ahead (Open: ticket_received).
	notice *notifications.Prefetch
	// told are the customer_notified timeline entries of the messages the
	// change sent (notifyCustomer), written after steps in one insert.
	told []step
}

type step struct {
	action   Action
	from, to State
	reason   string
	detail   map[string]any
}

// moveTo moves the ticket to state, recording a timeline step.
func (c *change) moveTo(to State, reason string, detail map[string]any) {
	c.steps = append(c.steps, step{action: c.action, from: c.T.State, to: to, reason: reason, detail: detail})
	c.T.State = to
	if reason != "" {
		c.T.StateReason = &reason
	} else {
		c.T.StateReason = nil
	}
}

// note records a timeline step that does not change the state.
func (c *change) note(reason string, detail map[string]any) {
	c.steps = append(c.steps, step{action: c.action, from: c.T.State, to: c.T.State, reason: reason, detail: detail})
}

// deadline is where the ticket keeps an SLA's running deadline; nil for
// an SLA that never runs on the ticket (the arrival's is the window's end,
// the on-site repair is measured at the completion).
func (st *SLAStatus) deadline(sla SLA) **time.Time {
	switch sla {
	case SLARoute:
		return &st.RouteDueAt
	case SLAFirstContact:
		return &st.FirstContactDueAt
	case SLAResponse:
		return &st.ResponseDueAt
	case SLACompletion:
		return &st.CompletionDueAt
	case SLAVerification:
		return &st.VerificationDueAt
	case SLAWorkshop:
		return &st.WorkshopDueAt
	case SLACallback:
		return &st.CallbackDueAt
	}
	return nil
}

// startSLA sets an SLA's deadline on the ticket: saving the ticket puts
// its next check no later than that (slaCheckAt).
func (c *change) startSLA(sla SLA, after time.Duration) {
	due := c.now.Add(after).Truncate(time.Microsecond)
	*c.T.SLA.deadline(sla) = &due
}

// meetSLA clears running deadlines: the sweep no longer checks them. An
// SLA that never runs on the ticket (arrival, on-site repair) has none.
func (c *change) meetSLA(slas ...SLA) {
	for _, sla := range slas {
		if d := c.T.SLA.deadline(sla); d != nil {
			*d = nil
		}
	}
}

// machine is the ticket state machine for the runner: a ticket is locked
// in the principal's scope, and an action must belong to the ticket's type
// and be allowed from its state by the transition table.
var machine = statemachine.Machine[Ticket, Transition]{
	Noun: "ticket",
	Load: func(ctx context.Context, tx pg.TenantTx, p tenants.Principal, id string) (Ticket, error) {
		sc, err := resolveScope(ctx, tx, p)
		if err != nil {
			return Ticket{}, err
		}
		return getTicket(ctx, tx, sc, id, "FOR UPDATE OF t")
	},
	Version: func(t Ticket) int { return t.Version },
	Check: func(t Ticket, tr Transition) error {
		if !slices.Contains(tr.Types, t.Type) {
			return wrongType(tr, t.Type)
		}
		if !slices.Contains(tr.From, t.State) {
			return illegal(tr, t.State)
		}
		return nil
	},
}

// act runs one action on ticket id for p in one tenant transaction: the
// runner locks the ticket in p's scope and checks If-Match and the
// transition table, fn changes it, then commit writes the ticket, its
// timeline and the event (and its next SLA check, slaCheckAt).
func (s *Service) act(ctx context.Context, p tenants.Principal, id string, ifVersion int, a Action, fn func(c *change) error) (Ticket, error) {
	tr := transitionOf(a)
	var out Ticket
	var fail error
	err := pg.InTenantTx(ctx, s.DB, p.TenantID, func(tx pg.TenantTx) error {
		t, err := machine.Lock(ctx, tx, p, id, ifVersion, tr)
		if err != nil {
			return err
		}
		policy, err := LoadSLAPolicy(ctx, tx)
		if err != nil {
			return err
		}
		clock, now, err := clockOf(ctx, tx, t.ID, s.now())
		if err != nil {
			return err
		}
		c := &change{tx: tx, p: p, now: now, clock: clock, policy: policy, T: &t, action: a, data: map[string]any{}, before: t}
		if err := fn(c); err != nil {
			return err
		}
		if err := s.commit(ctx, c, false); err != nil {
			return err
		}
		out, fail = t, c.fail
		return nil
	})
	if err == nil && fail != nil {
		return Ticket{}, fail
	}
	return out, pg.Translate(err)
}

// commit writes a change in one round trip: the ticket (inserted when
// new, with its next SLA check: slaCheckAt), its timeline steps and one
// event per action, all in the change's transaction.
func (s *Service) commit(ctx context.Context, c *change, insert bool) error {
	if len(c.steps) == 0 {
		c.note("", nil)
	}
	if insert && c.T.Number == "" {
		// The number comes from the tenant's sequence (migration 029): no
		// lock, so concurrent intakes never wait for each other; a failed
		// intake leaves its number unused (documented on Ticket.Number).
		if err := c.tx.QueryRow(ctx, `SELECT next_ticket_number($1)`, c.T.CreatedAt).Scan(&c.T.Number); err != nil {
			return err
		}
	}
	b := &pgx.Batch{}
	if !insert {
		// a deadline the change stops after it passed is a breach (sla_sweep.go)
		if err := s.recordMetLate(ctx, c, b); err != nil {
			return err
		}
	}
	queueSave(b, c.tx.TenantID, c.T, insert)
	first, last := c.steps[0], c.steps[len(c.steps)-1]
	data := ticketEventData(c.T, first.from, last.to)
	if last.reason != "" {
		data["reason"] = last.reason
	}
	for k, v := range c.data {
		data[k] = v
	}
	if err := queueEvent(b, c.tx, c.T.ID, c.steps, c.p.Subject(), data); err != nil {
		return err
	}
	if insert {
		// A new ticket is at version 1, updated when created (as the
		// database stores it: to the microsecond). Its insert's RETURNING
		// only confirms that, so its writes need no round trip of their
		// own: they ride the transaction's next one (the notice's or the
		// COMMIT's).
		c.T.Version, c.T.UpdatedAt = 1, c.T.CreatedAt.Truncate(time.Microsecond).Local()
		version, updatedAt := c.T.Version, c.T.UpdatedAt
		b.QueuedQueries[0].QueryRow(func(row pgx.Row) error {
			var v int
			var at time.Time
			if err := row.Scan(&v, &at); err != nil {
				return err
			}
			if v != version || !at.Equal(updatedAt) {
				return fmt.Errorf("tickets: inserted ticket at version %d updated %s, not %d, %s", v, at, version, updatedAt)
			}
			return nil
		})
		if err := c.tx.Defer(ctx, b); err != nil {
			return err
		}
	} else if err := c.tx.SendBatch(ctx, b).Close(); err != nil {
		return err
	}
	if err := s.notifyCustomer(ctx, c, insert); err != nil {
		return err
	}
	// The timeline, the change's steps and then its messages, in one
	// insert that rides the next round trip (the COMMIT's).
	tb := &pgx.Batch{}
	queueTimeline(tb, c.tx.TenantID, c.T.ID, slices.Concat(c.steps, c.told), c.p.Subject(), c.now)
	if err := c.tx.Defer(ctx, tb); err != nil {
		return err
	}
	return nil
}

// queueTrail queues what a ticket change leaves behind into b: its
// timeline entries (queueTimeline) and its event (queueEvent), by actor
// at at.
func queueTrail(b *pgx.Batch, tx pg.TenantTx, ticketID string, steps []step, actor string, at time.Time, data map[string]any) error {
	queueTimeline(b, tx.TenantID, ticketID, steps, actor, at)
	return queueEvent(b, tx, ticketID, steps, actor, data)
}

// ticketEventData is the data every ticket.<action> event starts from:
// the ticket (id and number), the state it left (from: null for a ticket
// just opened) and the one it is in (to), and who serves it (storefront,
// node, technician). The caller adds its action's own fields.
func ticketEventData(t *Ticket, from, to State) map[string]any {
	return map[string]any{"ticket_id": t.ID, "number": t.Number, "from_state": nullState(from), "state": to,
		"storefront_id": t.StorefrontID, "node_id": t.NodeID, "technician_id": t.TechnicianID}
}

// queueEvent queues the ticket.<action> event of a change (the last
// step's action) with data, by actor; it joins tx's event buffer
// (events.QueueTx).
func queueEvent(b *pgx.Batch, tx pg.TenantTx, ticketID string, steps []step, actor string, data map[string]any) error {
	return events.QueueTx(b, tx, events.New{Type: "ticket." + string(steps[len(steps)-1].action), SubjectID: ticketID,
		Actor: actor, Data: data})
}

// queueTimeline queues on b one insert of a ticket's timeline entries, one
// per step in order, by actor at at.
func queueTimeline(b *pgx.Batch, tenantID, ticketID string, steps []step, actor string, at time.Time) {
	if len(steps) == 0 {
		return
	}
	var sql strings.Builder
	sql.WriteString(`INSERT INTO ticket_timeline (tenant_id, ticket_id, action, from_state, to_state, reason, detail, actor, at) VALUES `)
	args := make([]any, 4, 4+5*len(steps))
	args[0], args[1], args[2], args[3] = tenantID, ticketID, actor, at
	for i, st := range steps {
		detail := st.detail
		if detail == nil {
			detail = map[string]any{}
		}
		if i > 0 {
			sql.WriteString(", ")
		}
		n := len(args)
		fmt.Fprintf(&sql, "($1, $2, $%d, $%d, $%d, $%d, $%d, $3, $4)", n+1, n+2, n+3, n+4, n+5)
		args = append(args, st.action, nullState(st.from), st.to, nullIfEmpty(st.reason), detail)
	}
	b.Queue(sql.String(), args...)
}

func nullState(s State) *State {
	if s == "" {
		return nil
	}
	return &s
}
