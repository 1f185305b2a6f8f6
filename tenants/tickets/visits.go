package tickets

import (
	"context"
	"errors"
	"maps"
	"slices"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/servicenet/servicenet/internal/i18n"
	"github.com/servicenet/servicenet/internal/pg"
	"github.com/servicenet/servicenet/tenants"
	"github.com/servicenet/servicenet/tenants/events"
	"github.com/servicenet/servicenet/tenants/warranty"
)

// Visit outcomes: on_site is a visit that got to work (a check-in); the
// others are the seed's visit exceptions, attempts that ended before the
// work could be done.
const (
	OutcomeOnSite             = "on_site"
	ExceptionNotHome          = "customer_not_home"
	ExceptionEntryRefused     = "entry_refused"
	ExceptionCredentialsDoubt = "credentials_doubted"
	ExceptionProductElsewhere = "product_elsewhere"
	ExceptionPowerCut         = "power_cut"
)

// VisitExceptions lists the visit exceptions.
var VisitExceptions = []string{ExceptionNotHome, ExceptionEntryRefused, ExceptionCredentialsDoubt, ExceptionProductElsewhere,
	ExceptionPowerCut}

// Conduct breaches the technician's checklist may report (Midea's "four
// don'ts" and "one ticket to the end"): each is serious and makes the
// service free (rule 8, Midea promise 3). An upheld conduct complaint
// names the same breaches (complaints.Breaches).
var ConductBreaches = []string{"drinking", "smoking", "eating", "accepting_gifts", "abandoned_service"}

// ConductBreachAliases are the names the checklist first published for
// two of ConductBreaches; still accepted, recorded under the shared name.
var ConductBreachAliases = map[string]string{"accepted_gift": "accepting_gifts", "refused_to_finish": "abandoned_service"}

// VisitChecklist is what the technician states about the visit, confirmed
// by the customer or found by an audit: a failed item makes the service
// free (rule 8; Midea promise 3: no licence or not matching the
// technician, charges beyond the price list, a serious conduct breach).
type VisitChecklist struct {
	LicenceShown           bool     `json:"licence_shown" doc:"The technician showed a service licence (上岗证). false: the service is free." example:"true"`
	LicenceMatches         bool     `json:"licence_matches" doc:"The licence shown is the technician's own (人证相符). false: the service is free." example:"true"`
	ChargesWithinPriceList bool     `json:"charges_within_price_list" doc:"Everything charged is within the price list shown. false: the service is free." example:"true"`
	ConductBreaches        []string `json:"conduct_breaches,omitempty" maxItems:"5" enum:"drinking,smoking,eating,accepting_gifts,abandoned_service,accepted_gift,refused_to_finish" doc:"Serious conduct breaches at the customer's: drinking, smoking or eating there, accepting gifts, abandoning the service (refusing to see the ticket through). Any one makes the service free. The names an upheld conduct complaint's breach takes; accepted_gift and refused_to_finish are older names of accepting_gifts and abandoned_service, accepted and recorded under those." example:"[]"`
	ConfirmedBy            string   `json:"confirmed_by" enum:"technician,customer,audit" doc:"Who made the statements: the technician alone, the technician with the customer's confirmation, or an audit." example:"customer"`
	Note                   string   `json:"note,omitempty" maxLength:"1000" doc:"More detail." example:"客户确认已出示上岗证"`
}

// failed reports whether any item fails.
func (c *VisitChecklist) failed() bool {
	return !c.LicenceShown || !c.LicenceMatches || !c.ChargesWithinPriceList || len(c.ConductBreaches) > 0
}

// NotHomeReport is the seed's knock protocol for a customer not at home:
// knock (two series of three light knocks, again every 30 seconds), call
// after 5 minutes, ask a neighbour, leave a message slip with the phone.
type NotHomeReport struct {
	KnockedMinutes int  `json:"knocked_minutes" minimum:"0" maximum:"120" doc:"How long the technician knocked before leaving; the protocol asks for at least 5 minutes." example:"5"`
	CalledCustomer bool `json:"called_customer" doc:"The technician phoned the customer after knocking; the protocol requires it." example:"true"`
	NeighbourAsked bool `json:"neighbour_asked,omitempty" doc:"A neighbour confirmed the customer is out." example:"true"`
	SlipLeft       bool `json:"slip_left" doc:"A message slip with the service phone was left on the door; the protocol requires it." example:"true"`
}

// VisitExceptionInput reports an attempted visit that could not be done.
type VisitExceptionInput struct {
	Reason    string     `json:"reason" enum:"customer_not_home,entry_refused,credentials_doubted,product_elsewhere,power_cut" doc:"Why the visit could not be done: the customer was not home, refused entry, doubted the technician's credentials, the product is elsewhere, or the power is cut." example:"customer_not_home"`
	ArrivedAt *time.Time `json:"arrived_at,omitempty" doc:"When the technician got to the door; default now. Only before a check-in (a checked-in visit already has its arrival)." example:"2026-12-01T08:55:00+08:00"`
	// The knock protocol; required for customer_not_home and only for it.
	NotHome         *NotHomeReport `json:"not_home,omitempty"`
	LicenceShown    *bool          `json:"licence_shown,omitempty" doc:"For entry_refused and credentials_doubted (required): the technician showed the service licence. false: the service will be free (rule 8)." example:"true"`
	ProductLocation string         `json:"product_location,omitempty" maxLength:"300" doc:"For product_elsewhere (required): where the product is." example:"客户父母家，崂山区海尔路8号"`
	// The new window agreed with the customer: the ticket is scheduled again. Without it the ticket goes back to assigned until a window is agreed.
	Window *Window `json:"window,omitempty"`
	// ChargesConfirmed: the customer re-confirmed on the call what the new visit costs them.
	ChargesConfirmed bool   `json:"charges_confirmed,omitempty" doc:"As for a schedule (scheduleTicket): on the call that agreed the new window, the customer was told again what the ticket's entitlement decision charges them and agreed to it (seed 001: 如涉及收费问题,需与用户再次确认。如果客户有什么异议,引导客户拨打统一热线电话). Required (true) with a window when the ticket's decision of the round being served puts charges on the customer (entitlement.decision.totals.customer above zero, as on a ticket diagnosed on site whose visit a power cut ended): without it the exception is 422 at charges_confirmed and nothing is recorded; a customer who objects is directed to the brand's service hotline (named in the 422 with its number when the tenant set one: service_hotline, GET /v1/tenant). Given, it is recorded in the exception's timeline entry (detail.charges_confirmed), as a schedule records it." example:"true"`
	Note             string `json:"note,omitempty" maxLength:"500" doc:"More detail." example:"敲门5分钟无人应答，电话未接通，已贴留言条"`
}

// VisitEntry is one visit of a ticket's technician, or an attempted one.
type VisitEntry struct {
	TicketID     string  `json:"ticket_id" doc:"The ticket visited." example:"tkt_01jd3zq8w6v7t3y2k9x4n5m6pq"`
	Seq          int     `json:"seq" doc:"Order of the visit, from 1." example:"1"`
	Round        int     `json:"round" doc:"The ticket's reopen count at the visit: 0 for the first service, 1 after the first reopen, ..." example:"0"`
	TechnicianID *string `json:"technician_id,omitempty" example:"tec_01jd3zq8w6v7t3y2k9x4n5m6pr"`
	// The window agreed for the visit.
	Window         *Window        `json:"window,omitempty"`
	ArrivedAt      time.Time      `json:"arrived_at" doc:"When the technician arrived." example:"2026-12-01T09:20:00+08:00"`
	ArrivalMinutes *int           `json:"arrival_minutes,omitempty" doc:"Minutes after the agreed window closed (late); 0 inside the window; negative: minutes before it opened (early)." example:"20"`
	Arrival        *string        `json:"arrival,omitempty" enum:"early,on_time,late,very_late" doc:"Arrival class." example:"very_late"`
	Outcome        string         `json:"outcome" enum:"on_site,customer_not_home,entry_refused,credentials_doubted,product_elsewhere,power_cut" doc:"on_site: the technician got to work; otherwise the visit exception that ended the attempt." example:"on_site"`
	NetworkVisit   bool           `json:"network_visit" doc:"The visit counts against the network: a visit that got to work, or a failed attempt the technician was late for. An attempt the customer's side ended (not home, entry refused, product elsewhere, power cut) with the technician on time does not." example:"true"`
	Exception      map[string]any `json:"exception,omitempty" doc:"The exception's report (knock protocol, licence shown, product location; window_customer_unreachable: true when the window was booked without the customer's agreement after failed contact attempts). The product location is an address of the customer's: masked like the service address for whoever sees the ticket masked, [erased] after the customer's erasure."`
	// The technician's statements about the visit, when recorded.
	Checklist *VisitChecklist `json:"checklist,omitempty"`
	Actor     string          `json:"actor" example:"key_01jd3zq8w6v7t3y2k9x4n5m6pk"`
	At        time.Time       `json:"at" example:"2026-12-01T09:20:00+08:00"`
	EndedAt   *time.Time      `json:"ended_at,omitempty" doc:"When an attempt ended in an exception." example:"2026-12-01T09:30:00+08:00"`

	job bool // the ticket's relation to the principal (personal.go)
}

const visitColumns = `ticket_id, seq, round, technician_id, window_start, window_end, arrived_at, arrival_minutes, arrival, outcome,
	network_visit, exception, checklist, actor, at, ended_at`

func scanVisit(r pgx.Row) (VisitEntry, error) {
	var (
		e          VisitEntry
		start, end *time.Time
	)
	err := r.Scan(&e.TicketID, &e.Seq, &e.Round, &e.TechnicianID, &start, &end, &e.ArrivedAt, &e.ArrivalMinutes, &e.Arrival, &e.Outcome,
		&e.NetworkVisit, &e.Exception, &e.Checklist, &e.Actor, &e.At, &e.EndedAt)
	if start != nil && end != nil {
		e.Window = &Window{Start: *start, End: *end}
	}
	return e, err
}

func loadVisits(ctx context.Context, tx pg.TenantTx, ticketID string) ([]VisitEntry, error) {
	rows, err := tx.Query(ctx, `SELECT `+visitColumns+` FROM ticket_visits WHERE tenant_id = $1 AND ticket_id = $2 ORDER BY seq`,
		tx.TenantID, ticketID)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (VisitEntry, error) { return scanVisit(r) })
}

// Visits returns a ticket's visits and attempted visits, oldest first,
// each in the ticket's relation to p (a product location is personal data).
func (s *Service) Visits(ctx context.Context, p tenants.Principal, id string) ([]VisitEntry, error) {
	out := []VisitEntry{}
	err := pg.InTenantTx(ctx, s.DB, p.TenantID, func(tx pg.TenantTx) error {
		sc, err := resolveScope(ctx, tx, p)
		if err != nil {
			return err
		}
		t, err := getTicket(ctx, tx, sc, id, "")
		if err != nil {
			return err
		}
		ts := []Ticket{t}
		if err := relate(ctx, tx, p, s.now(), ts); err != nil {
			return err
		}
		vs, err := loadVisits(ctx, tx, id)
		for i := range vs {
			vs[i].job = ts[0].PersonalRelation().Job
		}
		if vs != nil {
			out = vs
		}
		return err
	})
	return out, pg.Translate(err)
}

// arrive records the technician's arrival at the agreed window as a new
// visit with outcome (on_site for a check-in). A late arrival is an
// arrival SLA breach (once per window) with the seed's follow-ups: an
// apology, and a gift when more than 15 minutes late.
func (c *change) arrive(ctx context.Context, arrived time.Time, outcome string, exception map[string]any) error {
	t := c.T
	var (
		mins  *int
		class *string
	)
	if t.Appointment.Start != nil {
		m := arrivalMinutes(*t.Appointment.Start, *t.Appointment.End, arrived)
		cl := classifyArrival(m)
		mins, class = &m, &cl
	}
	late := mins != nil && *mins > 0
	var ended *time.Time
	if outcome != OutcomeOnSite {
		now := c.now
		ended = &now
	}
	_, err := c.tx.Exec(ctx, `INSERT INTO ticket_visits (tenant_id, ticket_id, seq, round, technician_id, window_start, window_end,
			arrived_at, arrival_minutes, arrival, outcome, network_visit, exception, actor, at, ended_at)
		VALUES ($1, $2, (SELECT coalesce(max(seq), 0) + 1 FROM ticket_visits WHERE tenant_id = $1 AND ticket_id = $2),
			$3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)`,
		c.tx.TenantID, t.ID, t.ReopenCount, t.TechnicianID, t.Appointment.Start, t.Appointment.End, arrived, mins, class,
		outcome, outcome == OutcomeOnSite || late, exception, c.p.Subject(), c.now, ended)
	if err != nil {
		return err
	}
	t.Visits++
	t.Appointment.ArrivedAt, t.Appointment.ArrivalMinutes, t.Appointment.Arrival = &arrived, mins, class
	if late {
		return c.lateArrival(ctx, *mins)
	}
	return nil
}

// arrivalMinutes is an arrival against the window agreed with the
// customer (seed 001: 在与您约定的XX:00-XX:00之间为您提供上门服务): any
// time inside it is on time (0); after it closed, the whole minutes after
// its end, rounded up: a second late is late (rule 8: later than the
// agreed time, 超时免单) and 15 min 20 s is more than 15 minutes; before it
// opened, the whole minutes before its start, negative (the standard is
// 5-10 minutes early). An appointment at a point in time is a window of a
// minute.
func arrivalMinutes(start, end, arrived time.Time) int {
	switch {
	case arrived.After(end):
		d := arrived.Sub(end)
		m := int(d / time.Minute)
		if d%time.Minute > 0 {
			m++
		}
		return m
	case arrived.Before(start):
		return -int(start.Sub(arrived) / time.Minute)
	}
	return 0
}

// lateArrival records the arrival SLA's breach for the current window
// (unless its timer already did), on the timeline and as a
// ticket.sla_breached event, and opens the follow-up tasks.
func (c *change) lateArrival(ctx context.Context, mins int) error {
	t := c.T
	due := t.Appointment.End.Truncate(time.Microsecond)
	escalatedTo := EscalatedTo(1)
	tag, err := c.tx.Exec(ctx, `INSERT INTO ticket_sla_breaches (tenant_id, ticket_id, sla, due_at, level, escalated_to, node_id, breached_at)
		VALUES ($1, $2, $3, $4, 1, $5, $6, $7) ON CONFLICT DO NOTHING`,
		c.tx.TenantID, t.ID, string(SLAArrival), due, escalatedTo, t.NodeID, c.now)
	if err != nil {
		return err
	}
	kinds := []string{TaskApologise}
	if mins > lateApologyMinutes {
		kinds = append(kinds, TaskGift)
	}
	b := &pgx.Batch{}
	window := t.Appointment.Start.Truncate(time.Microsecond) // the tasks' window, as the sweep's
	for _, k := range kinds {
		queueTask(b, c.tx.TenantID, t, k, window, lateTaskReason(k, mins), c.now)
	}
	if err := c.tx.SendBatch(ctx, b).Close(); err != nil {
		return err
	}
	c.data["late_minutes"] = mins
	if tag.RowsAffected() == 0 {
		return nil // the window's timer recorded the breach already
	}
	t.SLA.EscalationLevel = max(t.SLA.EscalationLevel, 1)
	detail := map[string]any{"sla": SLAArrival, "due_at": due, "level": 1, "escalated_to": escalatedTo, "late_minutes": mins,
		"tasks": kinds}
	c.steps = append(c.steps, step{action: actSLABreached, from: t.State, to: t.State, detail: detail})
	return events.Append(ctx, c.tx, events.New{Type: TypeSLABreached, SubjectID: t.ID, Actor: c.p.Subject(), Data: map[string]any{
		"ticket_id": t.ID, "number": t.Number, "sla": SLAArrival, "due_at": due, "level": 1, "escalated_to": escalatedTo,
		"late_minutes": mins, "node_id": t.NodeID, "technician_id": t.TechnicianID, "storefront_id": t.StorefrontID}})
}

// lateApologyMinutes: late by up to this many minutes calls for an
// apology; later, for an apology and a gift (the seed's 15 minutes).
const lateApologyMinutes = 15

func lateTaskReason(kind string, mins int) string {
	switch kind {
	case TaskGift:
		return "technician arrived " + itoa(mins) + " minutes late (more than 15): apologise sincerely and give a small gift"
	}
	return "technician arrived " + itoa(mins) + " minutes late: apologise (traffic, never \"too many customers\"); if the apology is refused the node manager visits"
}

// visitReport is how the service went so far, for the service promises,
// from the ticket's visits: every visit's arrival (the late promise,
// once earned, holds for the whole service), the technician's
// checklists, whether the customer refused the apology, and the service
// promises upheld complaints established (a late arrival the check-in
// did not show, a licence not shown, ...), whenever they were upheld.
// A reopened round the network visits again is no promise of its own:
// the repeat-visit promise is an installation's (Ticket.decide), and a
// fault back after a paid repair is the repeat-fault promise's, which the
// engine reads from the unit's history.
func (c *change) visitReport(ctx context.Context) (*warranty.VisitReport, error) {
	t := c.T
	v := &warranty.VisitReport{PriceListNotShown: t.PriceShownAt == nil}
	visits, err := loadVisits(ctx, c.tx, t.ID)
	if err != nil {
		return nil, err
	}
	for _, vi := range visits {
		if vi.ArrivalMinutes != nil {
			v.ArrivalMinutes = append(v.ArrivalMinutes, *vi.ArrivalMinutes)
			v.LateMinutes = max(v.LateMinutes, *vi.ArrivalMinutes)
		}
		if cl := vi.Checklist; cl != nil {
			v.LicenceNotShown = v.LicenceNotShown || !cl.LicenceShown
			v.LicenceNotMatching = v.LicenceNotMatching || (cl.LicenceShown && !cl.LicenceMatches)
			v.ChargedBeyondPriceList = v.ChargedBeyondPriceList || !cl.ChargesWithinPriceList
			v.ConductBreach = v.ConductBreach || len(cl.ConductBreaches) > 0
		}
		if shown, ok := vi.Exception["licence_shown"].(bool); ok && !shown {
			v.LicenceNotShown = true
		}
	}
	if len(visits) == 0 {
		// a ticket checked in before visits were recorded
		if m := t.Appointment.ArrivalMinutes; m != nil {
			v.ArrivalMinutes = []int{*m}
			v.LateMinutes = max(0, *m)
		}
	}
	// A window the network missed (MissedWindow) is a late arrival, as
	// late as the customer waited (LateMinutes), whatever the next
	// window's arrival. Read with whether the customer refused the
	// apology, in one statement. The promises upheld complaints
	// established on the ticket (WaiveChargesTx) are the ticket's.
	var missed []MissedWindow
	err = c.tx.QueryRow(ctx, `
		SELECT `+missedWindowsOf("$1", "$2")+`,
		       EXISTS (SELECT 1 FROM ticket_tasks WHERE tenant_id = $1 AND ticket_id = $2
		               AND kind = 'apologise' AND state = 'refused')`,
		c.tx.TenantID, t.ID).Scan(&missed, &v.CustomerRefused)
	for _, w := range missed {
		v.LateMinutes = max(v.LateMinutes, w.LateMinutes())
	}
	for _, code := range t.UpheldPromises {
		establish(v, code)
	}
	return v, err
}

// RecordVisitException records an attempted visit the seed's visit
// exceptions ended: the customer not home (after the knock protocol),
// entry refused or credentials doubted (the node manager visits next),
// the product elsewhere, a power cut. From scheduled it is the arrival
// (classified, a late one breaching the arrival SLA); from on_site it
// ends the checked-in visit. The ticket is scheduled again when a new
// window is given, else it goes back to assigned. An attempt on the
// customer's side does not count against the network unless the
// technician was late for it; a late arrival earns the late promise for
// the whole service either way. The arrival and the new window are
// judged on the ticket's time (its test clock's, if any). Agreeing the
// new window is an appointment call like a schedule: charges the decision
// puts on the customer must have been confirmed again (confirmCharges:
// invalid at charges_confirmed otherwise, nothing recorded). An exception
// at a window booked without the customer's agreement
// (Appointment.CustomerUnreachable) says so in its report
// (window_customer_unreachable) and counts no more against the customer
// than any other.
func (s *Service) RecordVisitException(ctx context.Context, p tenants.Principal, id string, in VisitExceptionInput, ifVersion int) (Ticket, error) {
	v := &tenants.Validation{}
	if !slices.Contains(VisitExceptions, in.Reason) {
		v.AddMsg("reason", i18n.M("common.one_of", "Values", joinComma(VisitExceptions)), in.Reason)
	}
	exception := map[string]any{"reason": in.Reason}
	if in.Note != "" {
		exception["note"] = in.Note
	}
	switch in.Reason {
	case ExceptionNotHome:
		nh := in.NotHome
		switch {
		case nh == nil:
			v.AddMsg("not_home", i18n.M("tickets.knock_required"), nil)
		case nh.KnockedMinutes < 5:
			v.AddMsg("not_home.knocked_minutes", i18n.M("tickets.knock_protocol"), nh.KnockedMinutes)
		case !nh.CalledCustomer:
			v.AddMsg("not_home.called_customer", i18n.M("tickets.phone_after_knocking"), nh.CalledCustomer)
		case !nh.SlipLeft:
			v.AddMsg("not_home.slip_left", i18n.M("tickets.leave_slip"), nh.SlipLeft)
		default:
			exception["knocked_minutes"], exception["called_customer"] = nh.KnockedMinutes, nh.CalledCustomer
			exception["neighbour_asked"], exception["slip_left"] = nh.NeighbourAsked, nh.SlipLeft
		}
	case ExceptionEntryRefused, ExceptionCredentialsDoubt:
		if in.LicenceShown == nil {
			v.AddMsg("licence_shown", i18n.M("tickets.licence_shown_required", "Reason", in.Reason), nil)
		} else {
			exception["licence_shown"] = *in.LicenceShown
		}
	case ExceptionProductElsewhere:
		if in.ProductLocation == "" {
			v.AddMsg("product_location", i18n.M("tickets.product_location_required"), nil)
		} else {
			exception["product_location"] = in.ProductLocation
		}
	}
	if in.NotHome != nil && in.Reason != ExceptionNotHome {
		v.AddMsg("not_home", i18n.M("tickets.only_customer_not_home"), nil)
	}
	if in.LicenceShown != nil && in.Reason != ExceptionEntryRefused && in.Reason != ExceptionCredentialsDoubt {
		v.AddMsg("licence_shown", i18n.M("tickets.only_entry_refused"), *in.LicenceShown)
	}
	if in.ProductLocation != "" && in.Reason != ExceptionProductElsewhere {
		v.AddMsg("product_location", i18n.M("tickets.only_product_elsewhere"), in.ProductLocation)
	}
	if err := v.Err(); err != nil {
		return Ticket{}, err
	}
	return s.act(ctx, p, id, ifVersion, ActVisitException, func(c *change) error {
		t := c.T
		v := &tenants.Validation{}
		if in.ArrivedAt != nil && in.ArrivedAt.After(c.now.Add(time.Minute)) {
			v.AddMsg("arrived_at", i18n.M("common.must_not_be_in_future"), in.ArrivedAt)
		}
		checkWindow(v, "window", in.Window, c.now)
		if err := v.Err(); err != nil {
			return err
		}
		if t.Appointment.CustomerUnreachable {
			// the visit the network promised a customer it could not
			// reach: the customer never agreed to be home (留言条 left)
			exception["window_customer_unreachable"] = true
		}
		if t.State == StateScheduled {
			arrived := c.now
			if in.ArrivedAt != nil {
				arrived = *in.ArrivedAt
			}
			if t.Appointment.Start != nil && arrived.Before(t.Appointment.Start.Add(-12*time.Hour)) {
				return tenants.InvalidMsg("arrived_at", i18n.M("tickets.more_than_12h_before"), in.ArrivedAt)
			}
			if err := c.arrive(ctx, arrived, in.Reason, exception); err != nil {
				return err
			}
			c.meetSLA(SLAResponse, SLAFirstContact)
		} else {
			if in.ArrivedAt != nil {
				return tenants.InvalidMsg("arrived_at", i18n.M("tickets.visit_checked_in"), in.ArrivedAt)
			}
			tag, err := c.tx.Exec(ctx, `UPDATE ticket_visits SET outcome = $3, exception = $4, ended_at = $5,
					network_visit = coalesce(arrival_minutes, 0) > 0
				WHERE tenant_id = $1 AND ticket_id = $2 AND outcome = 'on_site'
				  AND seq = (SELECT max(seq) FROM ticket_visits WHERE tenant_id = $1 AND ticket_id = $2)`,
				c.tx.TenantID, t.ID, in.Reason, exception, c.now)
			if err != nil {
				return err
			}
			if tag.RowsAffected() == 0 {
				return tenants.ErrorMsg(tenants.CodeConflict, i18n.M("tickets.no_checked_in_visit"))
			}
		}
		due := c.now
		if t.Appointment.Start != nil {
			due = *t.Appointment.Start
		}
		b := &pgx.Batch{}
		var tasks []string
		switch in.Reason {
		case ExceptionEntryRefused, ExceptionCredentialsDoubt:
			queueTask(b, c.tx.TenantID, t, TaskManagerVisit, due.Truncate(time.Microsecond),
				"the customer would not let the technician in ("+in.Reason+"): agree a new time; the node manager visits in person", c.now)
			tasks = append(tasks, TaskManagerVisit)
		case ExceptionNotHome:
			queueTask(b, c.tx.TenantID, t, TaskReachCustomer, due.Truncate(time.Microsecond),
				"the customer was not home: find out why and reach the customer (message slip left) to agree a new time", c.now)
			tasks = append(tasks, TaskReachCustomer)
		}
		if b.Len() > 0 {
			if err := c.tx.SendBatch(ctx, b).Close(); err != nil {
				return err
			}
		}
		c.data["exception"], c.data["tasks"] = in.Reason, tasks
		// The timeline, append-only, does not repeat the product location
		// (personal data): the visit keeps it, masked, erased and retained
		// with the ticket's contact.
		onTimeline := maps.Clone(exception)
		delete(onTimeline, "product_location")
		detail := map[string]any{"exception": onTimeline, "tasks": tasks}
		// a new window is agreed on a call: its charges are confirmed again
		if in.Window != nil || in.ChargesConfirmed {
			if err := c.confirmCharges(ctx, in.ChargesConfirmed, detail); err != nil {
				return err
			}
		}
		if in.Window != nil {
			if err := c.agree(ctx, *in.Window, "other", "visit exception: "+in.Reason); err != nil {
				return err
			}
			detail["window"] = in.Window
			c.moveTo(StateScheduled, in.Reason, detail)
			return nil
		}
		t.Appointment = Appointment{}
		c.moveTo(StateAssigned, in.Reason, detail)
		return nil
	})
}

// RecordChecklist records the technician's checklist on the current visit
// (the last one): licence shown and matching, charges within the price
// list, conduct breaches. A failed item makes the service free (rule 8):
// a diagnosed ticket's decision is made again at once, and completion
// settles by it.
func (s *Service) RecordChecklist(ctx context.Context, p tenants.Principal, id string, in VisitChecklist, ifVersion int) (Ticket, error) {
	v := &tenants.Validation{}
	seen := map[string]bool{}
	in.ConductBreaches = slices.Clone(in.ConductBreaches)
	for i, b := range in.ConductBreaches {
		if name, ok := ConductBreachAliases[b]; ok {
			b, in.ConductBreaches[i] = name, name
		}
		if !slices.Contains(ConductBreaches, b) {
			v.AddMsg("conduct_breaches["+itoa(i)+"]", i18n.M("common.one_of", "Values", joinComma(ConductBreaches)), b)
		} else if seen[b] {
			v.AddMsg("conduct_breaches["+itoa(i)+"]", i18n.M("tickets.listed_twice"), b)
		}
		seen[b] = true
	}
	if !slices.Contains([]string{"technician", "customer", "audit"}, in.ConfirmedBy) {
		v.AddMsg("confirmed_by", i18n.M("common.one_of", "Values", "technician, customer, audit"), in.ConfirmedBy)
	}
	if err := v.Err(); err != nil {
		return Ticket{}, err
	}
	if in.ConductBreaches == nil {
		in.ConductBreaches = []string{}
	}
	return s.act(ctx, p, id, ifVersion, ActChecklist, func(c *change) error {
		t := c.T
		var seq int
		err := c.tx.QueryRow(ctx, `UPDATE ticket_visits SET checklist = $3
			WHERE tenant_id = $1 AND ticket_id = $2
			  AND seq = (SELECT max(seq) FROM ticket_visits WHERE tenant_id = $1 AND ticket_id = $2) RETURNING seq`,
			c.tx.TenantID, t.ID, in).Scan(&seq)
		if errors.Is(err, pgx.ErrNoRows) {
			return tenants.ErrorMsg(tenants.CodeConflict, i18n.M("tickets.no_visit_to_report"))
		} else if err != nil {
			return err
		}
		if t.Diagnosis != nil {
			e, err := t.decide(ctx, c, *t.Diagnosis)
			if err != nil {
				return err
			}
			t.Entitlement = &e
			c.data["customer_pays"] = e.Decision.Totals.Customer
		}
		c.data["visit"], c.data["checklist_failed"] = seq, in.failed()
		c.note("", map[string]any{"visit": seq, "checklist": in, "failed": in.failed()})
		return nil
	})
}

func joinComma(ss []string) string {
	out := ""
	for i, s := range ss {
		if i > 0 {
			out += ", "
		}
		out += s
	}
	return out
}
