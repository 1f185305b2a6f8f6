package tickets

import (
	"context"
	"errors"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/servicenet/servicenet/internal/i18n"
	"github.com/servicenet/servicenet/tenants"
	"github.com/servicenet/servicenet/tenants/dispatch"
	"github.com/servicenet/servicenet/tenants/network"
)

func itoa(n int) string { return strconv.Itoa(n) }

// ScheduleInput is the appointment window agreed with the customer.
type ScheduleInput struct {
	Window Window `json:"window"`
	// ChargesConfirmed: the customer re-confirmed on the call what the visit costs them.
	ChargesConfirmed bool `json:"charges_confirmed,omitempty" doc:"On the call, the customer was told again what the ticket's entitlement decision charges them (the lines they pay and the total) and agreed to it (seed 001 电话沟通注意事项 (1): 如涉及收费问题,需与用户再次确认。如果客户有什么异议,引导客户拨打统一热线电话). Required (true) when the ticket's decision of the round being served puts charges on the customer (entitlement.decision.totals.customer above zero: out of warranty, damage by misuse; a service promise upheld by a complaint makes the service free but for a swap's fee), as on a ticket diagnosed and then sent up a tier or back for another visit: without it the schedule is 422 at charges_confirmed and nothing is booked. A customer who objects is directed to the brand's service hotline (named in the 422 with its number when the tenant set one: service_hotline, GET /v1/tenant) and the visit is not booked until the charges are agreed. A ticket not yet diagnosed has no decision (it is stored at the diagnosis and shown with the price list before any charge), nor has a reopened one for its new round until the round decides it again (its last decision was settled at its completion; a diagnosis of the new round, or the technician's visit checklist of the round, which decides the diagnosed ticket again at once, is that round's decision), nor has a return or exchange once inspected (its outcome, a refund in full, an exchange with no fee or a refusal, settles the inspection's decision and charges the customer nothing): it needs none, and a confirmation given anyway is recorded all the same. Recorded in the schedule's timeline entry (detail.charges_confirmed): the decision's basis and date (on), what the customer pays (customer) and the lines they pay some of, each with its payer and shares, as they were then, and when (confirmed_at)." example:"true"`
	// CustomerUnreachable: the window is booked without the customer's agreement.
	CustomerUnreachable bool   `json:"customer_unreachable,omitempty" doc:"The customer could not be reached and the visit is booked as the network's promise, to the address, without their agreement (seed 001 电话沟通注意事项 (2): 如未联系上用户(包括占线、电话无人接听等)仍需要按照承诺到达客户处; seed 000 一.3.4: 如果用户一直联系不上,服务工程师要按地址上门). Only after a failed contact attempt since the last window agreed with the customer (recordTicketContactAttempt; contact_attempts.since_agreed above zero): 422 at customer_unreachable otherwise and nothing is booked. The window must end by what the network promised while the response deadline runs: the response deadline (sla.response_due_at) or, when later, the end of the window the customer asked for at intake (preferred_window); 422 at window.end otherwise; it is recorded with reason customer_unreachable and shown as appointment.customer_unreachable. It is no first contact: first_contact_due_at keeps running until the technician arrives (or a window is agreed). The late-arrival promise holds against it as against an agreed window: a late arrival makes the service free (rule 8, 超时免单). Nothing was confirmed with the customer: charges_confirmed with it is 422; charges the ticket's decision puts on the customer are recorded in the timeline entry as still to be confirmed (detail.charges_to_confirm) and are confirmed on site: a completion that charges the customer is 409 (tickets.unreachable_charges_not_shown) until a diagnosis after the check-in shows the price list and the decision (price_list_shown). A customer not home at such a visit is a visit exception as any other (customer_not_home: the knock protocol and the message slip, 留言条, required; not a network visit unless the technician was late), recorded with window_customer_unreachable." example:"false"`
	Note                string `json:"note,omitempty" maxLength:"500" doc:"What was agreed." example:"客户上午在家"`
}

// RescheduleInput moves the appointment.
type RescheduleInput struct {
	Window Window `json:"window"`
	Reason string `json:"reason" enum:"customer_request,technician_conflict,parts,other" doc:"Why it moves: the customer asked, the technician cannot make it, parts are awaited, other." example:"customer_request"`
	// CustomerAgreed: the customer agreed to the new window.
	CustomerAgreed bool `json:"customer_agreed,omitempty" doc:"The customer agreed to the new window. Required (true) for a move for the network's reasons (technician_conflict, parts, other; seed 001: 征得用户同意与用户改约时间): a customer who does not agree, or cannot be reached, keeps the agreed window (如未联系上用户…仍需要按照承诺到达客户处), and the job goes to another technician who keeps it (assign; 改派). Without it such a move is 422 at customer_agreed and nothing moves. A move the customer asked for (customer_request) needs no statement of it." example:"true"`
	// ChargesConfirmed: the customer re-confirmed on the call what the return visit costs them.
	ChargesConfirmed bool   `json:"charges_confirmed,omitempty" doc:"As for a schedule (scheduleTicket): on the call, the customer was told again what the ticket's entitlement decision charges them and agreed to it (seed 001: 如涉及收费问题,需与用户再次确认。如果客户有什么异议,引导客户拨打统一热线电话). Required (true) to book the return visit of a ticket awaiting parts whose decision puts charges on the customer (entitlement.decision.totals.customer above zero: the parts, labour and visit fee of a unit out of warranty): without it the move is 422 at charges_confirmed and nothing moves; a customer who objects is directed to the brand's service hotline (named in the 422 with its number when the tenant set one: service_hotline, GET /v1/tenant). A move of a window already agreed needs none. Given, it is recorded in the timeline entry of the move (detail.charges_confirmed), as a schedule records it." example:"true"`
	Note             string `json:"note,omitempty" maxLength:"500" doc:"More detail." example:"客户临时出差"`
}

// appoint books window w for the ticket's technician: the window must fit
// one of the technician's shifts (invalid at window otherwise), the
// technician's licence must be valid on the window's day (invalid at
// window.start otherwise), the technician's daily job limit that day must
// not be taken (a conflict at window) and the window must not overlap
// another booking of theirs (a conflict naming the other ticket). The technician's row is
// locked first, so two bookings of one technician are decided one after
// the other; the exclusion constraint tickets_technician_booking_excl
// backs the check up. A ticket holds its technician's time while
// scheduled or on site.
func (c *change) appoint(ctx context.Context, w Window, reason, note string) error {
	t := c.T
	if err := c.checkBooking(ctx, w); err != nil {
		return err
	}
	_, err := c.tx.Exec(ctx, `INSERT INTO ticket_appointments (tenant_id, ticket_id, seq, window_start, window_end, reason, note, technician_id, actor, at)
		VALUES ($1, $2, (SELECT coalesce(max(seq), 0) + 1 FROM ticket_appointments WHERE tenant_id = $1 AND ticket_id = $2), $3, $4, $5, $6, $7, $8, $9)`,
		c.tx.TenantID, t.ID, w.Start, w.End, reason, nullIfEmpty(note), t.TechnicianID, c.p.Subject(), c.now)
	if err != nil {
		return err
	}
	t.Appointment = Appointment{Start: &w.Start, End: &w.End}
	c.data["window"] = w
	return nil
}

// checkBooking checks window w against the ticket technician's shifts,
// licence and other bookings (see appoint); a ticket without a technician
// books nothing. A technician no longer at the ticket's node (moved since
// accepting) or no longer active is a conflict at window: the ticket is to
// be dispatched again.
func (c *change) checkBooking(ctx context.Context, w Window) error {
	t := c.T
	if t.TechnicianID == nil {
		return nil
	}
	name, shifts, err := network.LockTechnicianShiftsTx(ctx, c.tx, *t.TechnicianID)
	if err != nil {
		return err
	}
	st, err := c.tx.Settings(ctx)
	if err != nil {
		return err
	}
	if !dispatch.FitsShift(shifts, w.Start.In(st.Location), w.End.In(st.Location)) {
		return tenants.InvalidMsg("window", i18n.M("tickets.outside_shifts", "Name", name, "Technician", *t.TechnicianID, "Shifts", shiftsText(shifts)), w)
	}
	// The licence must be valid on the window's day, as dispatch requires
	// it (valid through its expiry day in the tenant's zone): a technician
	// who could accept today may not be booked past the licence's end.
	day := w.Start.In(st.Location).Format(time.DateOnly)
	standing, found, err := network.TechnicianAtNodeTx(ctx, c.tx, *t.TechnicianID, deref(t.NodeID), day, deref(t.Category))
	if err != nil {
		return err
	}
	if !found {
		// moved to another node since accepting: they no longer work for
		// the node serving the ticket, whose rules (status, licence, daily
		// limit) cannot be read for them (dispatch the ticket again)
		gone := i18n.M("tickets.no_technician_at_node")
		return tenants.ErrorMsg(tenants.CodeConflict, i18n.M("tickets.window_rejected", "Reason", gone)).With(
			tenants.FieldMsg("window", gone, *t.TechnicianID))
	}
	if standing.Status != network.TechnicianActive {
		// on leave, suspended or left since accepting: no appointment in
		// their name (dispatch the ticket again)
		return tenants.ErrorMsg(tenants.CodeConflict, i18n.M("tickets.window_rejected",
			"Reason", i18n.M("tickets.technician_status", "Status", string(standing.Status)))).With(
			tenants.FieldMsg("window", i18n.M("tickets.technician_status", "Status", string(standing.Status)), *t.TechnicianID))
	}
	if err := checkLicence(standing, day, "window.start", w.Start); err != nil {
		return err
	}
	if err := c.checkDailyLimit(ctx, w, st.Location, day, standing.DailyJobLimit); err != nil {
		return err
	}
	var other, number string
	var os, oe time.Time
	err = c.tx.QueryRow(ctx, `SELECT id, number, window_start, window_end FROM tickets
		WHERE tenant_id = $1 AND technician_id = $2 AND id <> $3 AND state IN ('scheduled', 'on_site')
		  AND window_start IS NOT NULL AND tstzrange(window_start, window_end) && tstzrange($4, $5)
		ORDER BY window_start LIMIT 1`, c.tx.TenantID, *t.TechnicianID, t.ID, w.Start, w.End).Scan(&other, &number, &os, &oe)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil
	} else if err != nil {
		return err
	}
	booked := i18n.M("tickets.technician_booked", "Name", name,
		"Start", os.In(st.Location).Format(time.RFC3339), "End", oe.In(st.Location).Format(time.RFC3339), "Ticket", other, "Number", number)
	return tenants.ErrorMsg(tenants.CodeConflict, i18n.M("tickets.window_rejected", "Reason", booked)).With(
		tenants.FieldMsg("window", booked, other))
}

// checkLicence refuses (invalid at loc, with value) a technician whose
// standing was read for day (network.TechnicianAtNodeTx) without a licence
// valid on that day, in the words of dispatch's rule (licence_invalid): the
// one check of a booking (the window's day) and of an assignment or
// acceptance (the ticket's serviceDay).
func checkLicence(standing network.TechnicianStanding, day, loc string, value any) error {
	if standing.LicenceValid {
		return nil
	}
	return tenants.InvalidMsg(loc, i18n.M("dispatch.excluded_technician", "Rule", dispatch.RuleLicenceInvalid,
		"Reason", i18n.M("dispatch.rule.licence_invalid", "Day", day)), value)
}

// serviceDay is the day (YYYY-MM-DD, the tenant's zone) the ticket is to
// be served on, on which a technician taking it must hold a valid licence:
// its appointment's day, else the day of the customer's preferred window
// while that window is ahead (the day dispatch judged the technicians on
// and placed the ticket on: ticket_workload.occupies_at), else today; never
// a day before today (a window passed is served from today on).
func (c *change) serviceDay(ctx context.Context) (string, error) {
	st, today, err := c.tx.Today(ctx, c.now)
	if err != nil {
		return "", err
	}
	t := c.T
	var start *time.Time
	switch {
	case t.Appointment.Start != nil:
		start = t.Appointment.Start
	case t.PreferredWindow != nil && t.PreferredWindow.End.After(c.now):
		start = &t.PreferredWindow.Start
	default:
		return today, nil
	}
	return max(start.In(st.Location).Format(time.DateOnly), today), nil
}

// checkDailyLimit refuses (a conflict at window) to book window w, on day
// (its day in the tenant's zone loc), for a technician who already has
// limit jobs that day, counted as dispatch counts them
// (daily_limit_reached): the technician's other tickets not cancelled
// that occupy that day (ticket_workload.occupies_at: booked that day, or
// not yet booked for a preferred window that day, or else last changed
// that day). Moving this ticket within its day is not one job more.
func (c *change) checkDailyLimit(ctx context.Context, w Window, loc *time.Location, day string, limit int) error {
	t := c.T
	s := w.Start.In(loc)
	first := time.Date(s.Year(), s.Month(), s.Day(), 0, 0, 0, 0, loc)
	next := first.AddDate(0, 0, 1)
	var jobs int
	if err := c.tx.QueryRow(ctx, `SELECT count(*) FROM ticket_workload
		WHERE tenant_id = $1 AND technician_id = $2 AND ticket_id <> $3
		  AND occupies_at >= $4 AND occupies_at < $5`,
		c.tx.TenantID, *t.TechnicianID, t.ID, first, next).Scan(&jobs); err != nil {
		return err
	}
	if jobs < limit {
		return nil
	}
	full := i18n.M("dispatch.excluded_technician", "Rule", dispatch.RuleDailyLimitReached,
		"Reason", i18n.M("dispatch.rule.daily_limit_reached", "Jobs", jobs, "Limit", limit, "Day", day))
	return tenants.ErrorMsg(tenants.CodeConflict, i18n.M("tickets.window_rejected", "Reason", full)).With(
		tenants.FieldMsg("window", full, w))
}

// shiftsText lists shifts for people: "Mon 08:00-18:00, Tue 08:00-12:00"
// in English, "周一 08:00-18:00、周二 08:00-12:00" in Chinese (a list of
// problem.shift messages, or problem.no_shifts).
func shiftsText(shifts []network.Shift) any {
	if len(shifts) == 0 {
		return i18n.M("problem.no_shifts")
	}
	out := make([]i18n.Message, 0, len(shifts))
	for _, sh := range shifts {
		out = append(out, i18n.M("problem.shift", "Weekday", i18n.M("problem.weekday."+strconv.Itoa(sh.Weekday)), "Start", sh.Start, "End", sh.End))
	}
	return out
}

// Schedule records the window agreed with the customer: the first contact.
// The window is judged on the ticket's time (its test clock's, if any).
// When the ticket's decision puts charges on the customer, the call must
// have re-confirmed them (confirmCharges: invalid at charges_confirmed
// otherwise, nothing booked). With in.CustomerUnreachable the window is
// the network's promise to a customer it could not reach, booked after a
// failed contact attempt and not agreed (scheduleUnreachable): no first
// contact, and charges to be confirmed on site.
func (s *Service) Schedule(ctx context.Context, p tenants.Principal, id string, in ScheduleInput, ifVersion int) (Ticket, error) {
	return s.act(ctx, p, id, ifVersion, ActSchedule, func(c *change) error {
		if err := windowErr("window", &in.Window, c.now); err != nil {
			return err
		}
		detail := map[string]any{"window": in.Window}
		if in.CustomerUnreachable {
			if err := c.scheduleUnreachable(ctx, in.Window, in.ChargesConfirmed, in.Note, detail); err != nil {
				return err
			}
			c.moveTo(StateScheduled, ReasonCustomerUnreachable, detail)
			return nil
		}
		if err := c.confirmCharges(ctx, in.ChargesConfirmed, detail); err != nil {
			return err
		}
		if err := c.agree(ctx, in.Window, "agreed", in.Note); err != nil {
			return err
		}
		c.meetSLA(SLAFirstContact)
		c.moveTo(StateScheduled, "", detail)
		return nil
	})
}

// Reschedule moves the appointment, keeping the history and the reason.
// The window is judged on the ticket's time. A move for the network's
// reasons (anything but customer_request) needs the customer's agreement
// (seed 001: 征得用户同意与用户改约时间; 在用户同意的前提下改约上门时间):
// without it the move is invalid at customer_agreed and the agreed window
// stands, to be kept by the technician or by another one (Assign, 改派).
// Booking the return visit of a ticket awaiting parts is an appointment
// call like a schedule: charges the decision puts on the customer must
// have been confirmed again (confirmCharges: invalid at charges_confirmed
// otherwise, nothing moved).
func (s *Service) Reschedule(ctx context.Context, p tenants.Principal, id string, in RescheduleInput, ifVersion int) (Ticket, error) {
	if in.Reason != "customer_request" && !in.CustomerAgreed {
		return Ticket{}, tenants.InvalidMsg("customer_agreed", i18n.M("tickets.reschedule_not_agreed", "Reason", in.Reason), in.CustomerAgreed)
	}
	return s.act(ctx, p, id, ifVersion, ActReschedule, func(c *change) error {
		if err := windowErr("window", &in.Window, c.now); err != nil {
			return err
		}
		detail := map[string]any{"window": in.Window, "reason": in.Reason, "note": in.Note, "customer_agreed": true}
		// booking the return visit of a ticket awaiting parts is an
		// appointment call: its charges are confirmed again
		if c.T.State == StateAwaitingParts || in.ChargesConfirmed {
			if err := c.confirmCharges(ctx, in.ChargesConfirmed, detail); err != nil {
				return err
			}
		}
		if err := c.agree(ctx, in.Window, in.Reason, in.Note); err != nil {
			return err
		}
		c.data["reason_code"] = in.Reason
		c.moveTo(StateScheduled, in.Reason, detail)
		return nil
	})
}

// CheckInInput records the technician's arrival.
type CheckInInput struct {
	ArrivedAt *time.Time `json:"arrived_at,omitempty" doc:"When the technician arrived; default now. Not in the future." example:"2026-12-01T09:20:00+08:00"`
}

// Arrival classes against the agreed window (arrivalMinutes): the
// standard is 5-10 minutes before it opens; any time inside it is on
// time; late up to 15 minutes after it closed calls for an apology, later
// for more (the entitlement engine's rule 8 waives the charges of any late
// arrival).
func classifyArrival(minutesAfter int) string {
	switch {
	case minutesAfter <= -5:
		return "early"
	case minutesAfter <= 0:
		return "on_time"
	case minutesAfter <= 15:
		return "late"
	}
	return "very_late"
}

// CheckIn records the arrival on site and classifies it. An arrival after
// the ticket's time (its test clock's, if any) is invalid (arrived_at).
func (s *Service) CheckIn(ctx context.Context, p tenants.Principal, id string, in CheckInInput, ifVersion int) (Ticket, error) {
	return s.act(ctx, p, id, ifVersion, ActCheckIn, func(c *change) error {
		t := c.T
		if in.ArrivedAt != nil && in.ArrivedAt.After(c.now.Add(time.Minute)) {
			return tenants.InvalidMsg("arrived_at", i18n.M("common.must_not_be_in_future"), in.ArrivedAt)
		}
		arrived := c.now
		if in.ArrivedAt != nil {
			arrived = *in.ArrivedAt
		}
		if t.Appointment.Start != nil && arrived.Before(t.Appointment.Start.Add(-12*time.Hour)) {
			return tenants.InvalidMsg("arrived_at", i18n.M("tickets.more_than_12h_before"), in.ArrivedAt)
		}
		// every visit keeps its own arrival: the late promise belongs to
		// the service, not to the last visit
		if err := c.arrive(ctx, arrived, OutcomeOnSite, nil); err != nil {
			return err
		}
		if t.Appointment.Arrival != nil {
			c.data["arrival"], c.data["arrival_minutes"] = *t.Appointment.Arrival, *t.Appointment.ArrivalMinutes
		}
		c.data["visit"] = t.Visits
		c.meetSLA(SLAResponse, SLAFirstContact)
		c.moveTo(StateOnSite, "", map[string]any{"arrived_at": arrived, "arrival": t.Appointment.Arrival, "arrival_minutes": t.Appointment.ArrivalMinutes})
		return nil
	})
}
