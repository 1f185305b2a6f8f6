package tickets

import (
	"context"
	"slices"
	"time"

	"github.com/servicenet/servicenet/internal/i18n"
	"github.com/servicenet/servicenet/tenants"
)

// ActContactAttempt: a call to the customer before the visit failed.
const ActContactAttempt Action = "contact_attempted"

// How a contact attempt failed. A call that reached the customer is not
// recorded as an attempt: it agreed a window (Schedule) or moved one.
const (
	ContactNoAnswer     = "no_answer"
	ContactBusy         = "busy"
	ContactUnobtainable = "unobtainable"
	ContactWrongNumber  = "wrong_number"
)

// ContactOutcomes lists the outcomes of a failed contact attempt.
var ContactOutcomes = []string{ContactNoAnswer, ContactBusy, ContactUnobtainable, ContactWrongNumber}

// ReasonCustomerUnreachable is the appointment reason of a window booked
// without the customer's agreement (ScheduleInput.CustomerUnreachable).
const ReasonCustomerUnreachable = "customer_unreachable"

// ContactAttemptInput is a failed call to the customer before the visit.
type ContactAttemptInput struct {
	Outcome string `json:"outcome" enum:"no_answer,busy,unobtainable,wrong_number" doc:"How the call failed: no_answer (无人接听: call again later, 稍后继续拨打), busy (占线), unobtainable (switched off, out of service or not in service), wrong_number (the person who answered is not the customer: the phone on the ticket is to be verified, 电话错; a task to reach the customer opens, for the dispatcher or information officer to verify it, else to reach the customer another way). unobtainable opens the same task." example:"no_answer"`
	Note    string `json:"note,omitempty" maxLength:"500" doc:"More detail." example:"两次拨打无人接听，稍后再拨"`
}

// RecordContactAttempt records a failed call to the customer before the
// visit (seed 001 电话沟通注意事项 (2), (4): 如未联系上用户(包括占线、电话无人
// 接听等)…; 如果用户电话无人接听,服务工程师应稍后继续拨打,尽量联系上用户), by p
// at the ticket's time: counted on the ticket (contact_attempts), on the
// timeline and as a ticket.contact_attempted event. An attempt is not a
// first contact: the first_contact deadline is an agreed appointment and
// keeps running (a breach records the attempts made, contact_attempts),
// but the attempts let a schedule book the visit the network promised
// without the customer's agreement (ScheduleInput.CustomerUnreachable).
// A wrong or unobtainable number opens a task to reach the customer
// (reach_customer: verify the phone with the dispatcher or information
// officer, else reach the customer another way; seed 000 一.1: 电话错…
// 首先同派工的信息员或调度核实,如核实不到则直接联系用户核实), unless one is
// open already (openReachCustomer).
// An outcome not in ContactOutcomes is invalid at outcome.
func (s *Service) RecordContactAttempt(ctx context.Context, p tenants.Principal, id string, in ContactAttemptInput, ifVersion int) (Ticket, error) {
	if !slices.Contains(ContactOutcomes, in.Outcome) {
		return Ticket{}, tenants.InvalidMsg("outcome", i18n.M("common.one_of", "Values", joinComma(ContactOutcomes)), in.Outcome)
	}
	return s.act(ctx, p, id, ifVersion, ActContactAttempt, func(c *change) error {
		t := c.T
		now := c.now
		a := &t.ContactAttempts
		a.Count++
		a.SinceAgreed++
		a.LastAt, a.LastOutcome = &now, &in.Outcome
		detail := map[string]any{"outcome": in.Outcome, "attempt": a.Count, "since_agreed": a.SinceAgreed}
		if in.Note != "" {
			detail["note"] = in.Note
		}
		var tasks []string
		if in.Outcome == ContactWrongNumber || in.Outcome == ContactUnobtainable {
			opened, err := openReachCustomer(ctx, c, in.Outcome)
			if err != nil {
				return err
			}
			if opened {
				tasks = append(tasks, TaskReachCustomer)
				detail["tasks"] = tasks
			}
		}
		c.data["outcome"], c.data["contact_attempts"], c.data["tasks"] = in.Outcome, a.Count, tasks
		c.note("", detail)
		return nil
	})
}

// openReachCustomer opens c's ticket a reach_customer task after an
// attempt that found the phone outcome (wrong or unobtainable), unless one
// is open already: the phone is verified once, however often it fails
// before that (the ticket's row lock orders the attempts). Keyed on the
// appointment's window (or the attempt's time without one), a task done
// for one window leaves the next wrong number another. opened is false
// when one was open.
func openReachCustomer(ctx context.Context, c *change, outcome string) (opened bool, err error) {
	t := c.T
	window := c.now
	if t.Appointment.Start != nil {
		window = *t.Appointment.Start
	}
	kind := TaskReachCustomer
	reason := "the customer's phone was " + outcome + " before the visit: verify the phone with the dispatcher or information officer, " +
		"else reach the customer another way, and correct the ticket's contact"
	args := newTaskArgs(c.tx.TenantID, t, kind, window.Truncate(time.Microsecond), reason, c.now, nil)
	tag, err := c.tx.Exec(ctx, insertTask+` SELECT $1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12
		WHERE NOT EXISTS (SELECT 1 FROM ticket_tasks WHERE tenant_id = $1 AND ticket_id = $3 AND kind = $4 AND state = $13)
		ON CONFLICT DO NOTHING`, append(args, TaskOpen)...)
	return tag.RowsAffected() == 1, err
}

// scheduleUnreachable books window w for a customer the network could not
// reach (ScheduleInput.CustomerUnreachable), recording what it did in
// detail: allowed only after a failed contact attempt since the last
// window agreed with the customer (invalid at customer_unreachable
// otherwise); the window must end by the time the network promised
// (promisedBy: invalid at window.end otherwise); and nothing can have been confirmed with a customer not
// reached (charges_confirmed given is invalid). Charges the ticket's
// decision puts on the customer are recorded as still to be confirmed on
// site (charges_to_confirm): the completion refuses them until the price
// list is shown after the check-in (chargesAgreedOnSite). The first-contact
// deadline keeps running.
func (c *change) scheduleUnreachable(ctx context.Context, w Window, chargesConfirmed bool, note string, detail map[string]any) error {
	t := c.T
	if t.ContactAttempts.SinceAgreed == 0 {
		return tenants.InvalidMsg("customer_unreachable", i18n.M("tickets.unreachable_without_attempt"), true)
	}
	if chargesConfirmed {
		return tenants.InvalidMsg("charges_confirmed", i18n.M("tickets.unreachable_charges_confirmed"), chargesConfirmed)
	}
	if due := t.promisedBy(); due != nil && w.End.After(*due) {
		return tenants.InvalidMsg("window.end", i18n.M("tickets.unreachable_after_promise", "Due", due.Format(time.RFC3339)), w.End)
	}
	d, lines, total, err := c.customerCharges(ctx)
	if err != nil {
		return err
	}
	if total.Amount > 0 {
		detail["charges_to_confirm"] = ChargesConfirmation{Basis: d.Basis, On: t.Entitlement.On, Customer: &total, Lines: lines}
	}
	if err := c.appoint(ctx, w, ReasonCustomerUnreachable, note); err != nil {
		return err
	}
	t.Appointment.CustomerUnreachable = true
	detail["customer_unreachable"], detail["contact_attempts"] = true, t.ContactAttempts.SinceAgreed
	c.data["customer_unreachable"], c.data["contact_attempts"] = true, t.ContactAttempts.SinceAgreed
	return nil
}

// promisedBy is when the network promised to be at the customer's: the
// response deadline while it runs or, when later, the end of the window
// the customer asked for at intake (the hotline's 与用户约定服务时间); nil
// when neither binds it (the response met by an earlier visit).
func (t *Ticket) promisedBy() *time.Time {
	due := t.SLA.ResponseDueAt
	if due == nil {
		return nil
	}
	if pw := t.PreferredWindow; pw != nil && pw.End.After(*due) {
		return &pw.End
	}
	return due
}

// agree books window w agreed with the customer (appoint): the failed
// contact attempts since the last agreement are behind.
func (c *change) agree(ctx context.Context, w Window, reason, note string) error {
	if err := c.appoint(ctx, w, reason, note); err != nil {
		return err
	}
	c.T.ContactAttempts.SinceAgreed = 0
	return nil
}

// chargesAgreedOnSite refuses (a conflict) a completion that charges the
// customer (customer above zero) on a visit booked without the customer's
// agreement unless the price list and the decision were shown on site,
// after the check-in (a diagnosis with price_list_shown since): the
// appointment call could not confirm the charges (seed 001: 如涉及收费问题,
// 需与用户再次确认), so the customer agrees to them at the door, before any
// paid work.
func (c *change) chargesAgreedOnSite(customer int64) error {
	a := c.T.Appointment
	if !a.CustomerUnreachable || a.ArrivedAt == nil || customer <= 0 {
		return nil
	}
	if shown := c.T.PriceShownAt; shown != nil && !shown.Before(*a.ArrivedAt) {
		return nil
	}
	return tenants.ErrorMsg(tenants.CodeConflict, i18n.M("tickets.unreachable_charges_not_shown"))
}
