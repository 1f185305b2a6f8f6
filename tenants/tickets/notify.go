package tickets

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/servicenet/servicenet/internal/i18n"
	"github.com/servicenet/servicenet/tenants"
	"github.com/servicenet/servicenet/tenants/customers"
	"github.com/servicenet/servicenet/tenants/network"
	"github.com/servicenet/servicenet/tenants/notifications"
)

// ActCustomerNotified is the timeline entry of a customer message sent
// about the ticket (detail: purpose, notification_id, via; the entry's
// delivery shows how the delivery goes). It is not an action: no endpoint,
// no event of its own (the notification.* events tell).
const ActCustomerNotified Action = "customer_notified"

// notice is a customer message a change asks for.
type notice struct {
	purpose string
	params  map[string]any
	// once: sent at most once per ticket (else once per ticket version).
	once bool
}

// moments works out the customer messages a change calls for, comparing
// the ticket before (nil: just opened) with after. Separate from the
// actions so that every flow run through act/commit (repairs,
// installations, returns) notifies the same way.
func moments(a Action, before *Ticket, t *Ticket) []notice {
	num := t.Number
	var out []notice
	if t.CustomerID != "" && (before == nil || before.CustomerID == "") {
		out = append(out, notice{notifications.PurposeTicketReceived, map[string]any{"ticket_number": num}, true})
	}
	if before == nil {
		return out
	}
	window := func() notifications.Window {
		return notifications.Window{Start: *t.Appointment.Start, End: *t.Appointment.End}
	}
	switch {
	case a == ActSchedule && t.Appointment.Start != nil:
		out = append(out, notice{notifications.PurposeTechnicianAssigned, map[string]any{"ticket_number": num,
			"window": window()}, false})
	case a == ActReschedule && t.Appointment.Start != nil:
		out = append(out, notice{notifications.PurposeVisitRescheduled, map[string]any{"ticket_number": num,
			"window": window()}, false})
	case t.State == StateAwaitingParts && before.State != StateAwaitingParts:
		out = append(out, notice{notifications.PurposePartsAwaited, map[string]any{"ticket_number": num}, false})
	case a == ActComplete && t.CustomerTotal != nil:
		out = append(out, notice{notifications.PurposeCompleted, map[string]any{"ticket_number": num,
			"charges": notifications.Money{Amount: t.CustomerTotal.Amount, Currency: t.CustomerTotal.Currency}}, false})
	}
	if due := t.SLA.CallbackDueAt; due != nil && (before.SLA.CallbackDueAt == nil || !before.SLA.CallbackDueAt.Equal(*due)) {
		out = append(out, notice{notifications.PurposeCallbackDue, map[string]any{"ticket_number": num, "due_at": *due}, false})
	}
	return out
}

// notifyCustomer requests the change's customer messages (moments plus
// what the action added to c.notices) in the change's transaction, with
// one customer_notified timeline entry each. A ticket without a customer
// (its phone not verified) sends nothing; a customer who opted out gets
// only the essential ones. Each
// message is deduplicated per ticket and version (once-only ones per
// ticket), so a retried request never sends twice.
func (s *Service) notifyCustomer(ctx context.Context, c *change, insert bool) error {
	if c.T.CustomerID == "" {
		return nil
	}
	var before *Ticket
	if !insert {
		before = &c.before
	}
	ns := append(moments(c.action, before, c.T), c.notices...)
	if len(ns) == 0 {
		return nil
	}
	var optedOut bool
	if c.optedOut != nil {
		optedOut = *c.optedOut
	} else {
		var err error
		if optedOut, err = customers.OptedOutTx(ctx, c.tx, c.T.CustomerID); err != nil {
			return err
		}
	}
	for _, n := range ns {
		if err := s.technicianParams(ctx, c, n); err != nil {
			return err
		}
		key := fmt.Sprintf("%s:%s:v%d", c.T.ID, n.purpose, c.T.Version)
		if n.once {
			key = onceKey(c.T.ID, n.purpose)
		}
		// Each message's timeline entry (a new one's or, the dedupe key
		// finding it requested already, the earlier one's) is written
		// with the change's steps (commit).
		d, err := s.notify.NotifyTx(ctx, c.tx, c.p.Subject(), notifications.Notice{Purpose: n.purpose, SubjectID: c.T.ID,
			To: c.T.Contact.Phone, Params: n.params, OptedOut: optedOut, DedupeKey: key, Prefetched: c.notice})
		if err != nil {
			return err
		}
		if d != nil {
			c.told = append(c.told, c.notifiedStep(n.purpose, d.NotificationID, d.Via))
		}
	}
	return nil
}

// onceKey is the dedupe key of a notice sent once per ticket.
func onceKey(ticketID, purpose string) string { return ticketID + ":" + purpose }

// notified writes the customer_notified timeline entry of a message.
func (c *change) notified(ctx context.Context, purpose string, d *notifications.NotificationDelivery) error {
	b := &pgx.Batch{}
	queueTimeline(b, c.tx.TenantID, c.T.ID, []step{c.notifiedStep(purpose, d.NotificationID, d.Via)}, c.p.Subject(), c.now)
	return c.tx.SendBatch(ctx, b).Close()
}

// notifiedStep is the customer_notified timeline entry of a message.
func (c *change) notifiedStep(purpose, notificationID, via string) step {
	return step{action: ActCustomerNotified, from: c.T.State, to: c.T.State, reason: purpose,
		detail: map[string]any{"purpose": purpose, "notification_id": notificationID, "via": via}}
}

// technicianParams adds the technician's name and licence number to the
// messages that name them.
func (s *Service) technicianParams(ctx context.Context, c *change, n notice) error {
	switch n.purpose {
	case notifications.PurposeTechnicianAssigned, notifications.PurposeRunningLate, notifications.PurposeOnTheWay:
	default:
		return nil
	}
	name, licence := "", ""
	if c.T.TechnicianID != nil {
		var err error
		if name, licence, err = network.TechnicianCardTx(ctx, c.tx, *c.T.TechnicianID); err != nil {
			return err
		}
	}
	n.params["technician_name"] = name
	if n.purpose == notifications.PurposeTechnicianAssigned {
		n.params["licence_number"] = licence
	}
	return nil
}

// EnRouteInput is the technician's word that they are on the way.
type EnRouteInput struct {
	ETA time.Time `json:"eta" doc:"When the technician expects to arrive. After the agreed window's end, the customer is told the technician is running late, with this time; otherwise that the technician is on the way." example:"2026-12-01T09:10:00+08:00"`
}

// ActEnRoute: the technician set off (or reports a new arrival time).
const ActEnRoute Action = "en_route_reported"

// ReportEnRoute records that the technician is on the way to a scheduled
// visit, expecting to arrive at in.ETA, and tells the customer: on the way,
// or running late with the new time when ETA is after the agreed window's
// end (inside the window is on time).
// An ETA in the past (on the ticket's time: its test clock's, if any) is
// invalid (eta).
func (s *Service) ReportEnRoute(ctx context.Context, p tenants.Principal, id string, in EnRouteInput, ifVersion int) (Ticket, error) {
	if in.ETA.IsZero() {
		return Ticket{}, tenants.InvalidMsg("eta", i18n.M("tickets.time_not_past"), in.ETA)
	}
	return s.act(ctx, p, id, ifVersion, ActEnRoute, func(c *change) error {
		if in.ETA.Before(c.now.Add(-time.Minute)) {
			return tenants.InvalidMsg("eta", i18n.M("tickets.time_not_past"), in.ETA)
		}
		late := c.T.Appointment.End != nil && in.ETA.After(*c.T.Appointment.End)
		purpose := notifications.PurposeOnTheWay
		params := map[string]any{"ticket_number": c.T.Number, "eta": in.ETA}
		if late {
			purpose = notifications.PurposeRunningLate
			params = map[string]any{"ticket_number": c.T.Number, "new_time": in.ETA}
		}
		c.data["eta"], c.data["late"] = in.ETA, late
		c.note("", map[string]any{"eta": in.ETA, "late": late})
		c.notices = append(c.notices, notice{purpose, params, false})
		return nil
	})
}
