package tickets

import (
	"context"
	"errors"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/servicenet/servicenet/internal/i18n"
	"github.com/servicenet/servicenet/internal/pg"
	"github.com/servicenet/servicenet/tenants"
	"github.com/servicenet/servicenet/tenants/notifications"
)

// Get returns a ticket in the principal's scope.
func (s *Service) Get(ctx context.Context, p tenants.Principal, id string) (Ticket, error) {
	var out Ticket
	err := pg.InTenantTx(ctx, s.DB, p.TenantID, func(tx pg.TenantTx) error {
		sc, err := resolveScope(ctx, tx, p)
		if err != nil {
			return err
		}
		if out, err = getTicket(ctx, tx, sc, id, ""); err != nil {
			return err
		}
		ts := []Ticket{out}
		err = relate(ctx, tx, p, s.now(), ts)
		out = ts[0]
		return err
	})
	return out, pg.Translate(err)
}

// Filter narrows a ticket listing; the views of each role are filters:
// a technician's jobs for a day (technician key, day), a node manager's
// queue (node key, states), a dispatcher's unassigned (unassigned) and
// at-risk tickets (due_within_minutes).
type Filter struct {
	State            []string
	NodeID           string
	TechnicianID     string
	CustomerID       string
	UnitID           string
	Unassigned       bool
	Day              string // appointments on this day (tenant zone)
	DueWithinMinutes int    // an SLA deadline runs out within this many minutes (or already has)
	Priority         []string
	// ExternalReference finds tickets by the storefront's own reference;
	// Number by the ticket's number.
	ExternalReference string
	Number            string
	// InvoiceOutstanding keeps the tickets with an invoice asked for and
	// not yet issued (invoice_outstanding_since set).
	InvoiceOutstanding bool
	// Order is "" (oldest first) or "priority": the dispatch order, urgent
	// first, then high, normal and low, oldest first within a priority.
	Order  string
	Limit  int
	Cursor string
}

// Priorities lists the ticket priorities, most pressing first.
var Priorities = []string{"urgent", "high", "normal", "low"}

// priorityRank is the SQL rank of a ticket's priority (urgent 0 … low 3),
// as indexed by tickets_priority_idx.
const priorityRank = `(CASE t.priority WHEN 'urgent' THEN 0 WHEN 'high' THEN 1 WHEN 'normal' THEN 2 ELSE 3 END)`

// List lists the tickets in the principal's scope, oldest first.
func (s *Service) List(ctx context.Context, p tenants.Principal, f Filter) ([]Ticket, string, error) {
	v := &tenants.Validation{}
	for _, st := range f.State {
		if !knownState(st) {
			v.AddMsg("state", i18n.M("tickets.state"), st)
		}
	}
	if f.Day != "" {
		if _, err := time.Parse(time.DateOnly, f.Day); err != nil {
			v.AddMsg("day", i18n.M("common.date_format"), f.Day)
		}
	}
	for _, pr := range f.Priority {
		if !slices.Contains(Priorities, pr) {
			v.AddMsg("priority", i18n.M("common.one_of", "Values", "urgent, high, normal, low"), pr)
		}
	}
	if f.Order != "" && f.Order != "priority" {
		v.AddMsg("order", i18n.M("tickets.priority_or_absent"), f.Order)
	}
	if err := v.Err(); err != nil {
		return nil, "", err
	}
	f.Limit = tenants.PageLimit(f.Limit)
	kind := "tickets"
	if f.Order == "priority" {
		kind = "tickets-by-priority"
	}
	after, err := tenants.PageAfter(kind, f.Cursor)
	if err != nil {
		return nil, "", err
	}
	afterRank := -1
	if f.Order == "priority" && after != "" {
		r, id, ok := strings.Cut(after, ":")
		n, err := strconv.Atoi(r)
		if !ok || err != nil || n < 0 || n > 3 {
			return nil, "", tenants.MalformedCursor(f.Cursor)
		}
		afterRank, after = n, id
	}
	if f.Priority == nil {
		f.Priority = []string{}
	}
	now := s.now()
	var out []Ticket
	err = pg.InTenantTx(ctx, s.DB, p.TenantID, func(tx pg.TenantTx) error {
		sc, err := resolveScope(ctx, tx, p)
		if err != nil {
			return err
		}
		st, err := tx.Settings(ctx)
		if err != nil {
			return err
		}
		var dayStart, dayEnd *time.Time
		if f.Day != "" {
			d, _ := time.ParseInLocation(time.DateOnly, f.Day, st.Location)
			e := d.AddDate(0, 0, 1)
			dayStart, dayEnd = &d, &e
		}
		var dueBy *time.Time
		if f.DueWithinMinutes > 0 {
			d := now.Add(minutes(f.DueWithinMinutes))
			dueBy = &d
		}
		if f.State == nil {
			f.State = []string{}
		}
		args := append([]any{tx.TenantID}, sc.args()...)
		args = append(args, after, f.State, f.NodeID, f.TechnicianID, f.CustomerID, f.UnitID, f.Unassigned,
			dayStart, dayEnd, dueBy, f.Limit+1, f.Priority, afterRank, f.ExternalReference, f.Number, f.InvoiceOutstanding)
		page, order := `t.id > $6`, `t.id`
		if f.Order == "priority" {
			page = `(` + priorityRank + `, t.id) > ($18::int, $6)`
			order = priorityRank + `, t.id`
		} else {
			page += ` AND $18::int IS NOT NULL`
		}
		rows, err := tx.Query(ctx, `SELECT `+ticketColumns+` FROM tickets t
			WHERE t.tenant_id = $1 AND `+inScope("$2", "$3", "$4", "$5")+` AND `+page+`
			  AND (cardinality($17::text[]) = 0 OR t.priority = ANY ($17))
			  AND (cardinality($7::text[]) = 0 OR t.state = ANY ($7))
			  AND ($8 = '' OR t.node_id = $8) AND ($9 = '' OR t.technician_id = $9)
			  AND ($10 = '' OR t.customer_id = $10) AND ($11 = '' OR t.unit_id = $11)
			  AND ($19 = '' OR t.external_reference = $19) AND ($20 = '' OR t.number = $20)
			  AND (NOT $21 OR t.invoice_requested_at IS NOT NULL)
			  AND (NOT $12 OR t.state IN ('new', 'needs_info', 'triaged', 'dispatched', 'reopened'))
			  AND ($13::timestamptz IS NULL OR (t.window_start >= $13 AND t.window_start < $14))
			  AND ($15::timestamptz IS NULL OR least(t.route_due_at, t.first_contact_due_at, t.response_due_at,
			        t.completion_due_at, t.callback_due_at, t.verification_due_at, t.workshop_due_at) <= $15)
			ORDER BY `+order+` LIMIT $16`, args...)
		if err != nil {
			return err
		}
		if out, err = pgx.CollectRows(rows, func(r pgx.CollectableRow) (Ticket, error) { return scanTicket(r) }); err != nil {
			return err
		}
		return relate(ctx, tx, p, now, out)
	})
	if err != nil {
		return nil, "", pg.Translate(err)
	}
	out, next := tenants.NextPage(kind, out, f.Limit, func(t Ticket) string {
		if f.Order == "priority" {
			return strconv.Itoa(slices.Index(Priorities, t.Priority)) + ":" + t.ID
		}
		return t.ID
	})
	return out, next, nil
}

// TimelineEntry is one thing that happened to a ticket.
type TimelineEntry struct {
	Seq       int64          `json:"seq" doc:"Order on the timeline." example:"3"`
	Action    string         `json:"action" doc:"What was done (the event type is ticket.<action>; sla_breached for timers)." example:"dispatched"`
	FromState *string        `json:"from_state,omitempty" doc:"State before; absent on the opening entry." example:"triaged"`
	ToState   string         `json:"to_state" doc:"State after." example:"dispatched"`
	Reason    *string        `json:"reason,omitempty" doc:"Why, when given." example:"repair point nearest with capacity"`
	Detail    map[string]any `json:"detail" doc:"What changed: windows, decisions, outcomes."`
	Actor     string         `json:"actor" doc:"Who: the API key, or system for timers." example:"key_01jd3zq8w6v7t3y2k9x4n5m6pk"`
	At        time.Time      `json:"at" doc:"When." example:"2026-11-30T10:01:00+08:00"`
	Summary   string         `json:"summary,omitempty" doc:"What happened, told for people in the response's Content-Language (summary_i18n): the summary of the ticket.<action> event, or the SLA breach." example:"Ticket dispatched to a node"`
	// SummaryI18n is Summary as a catalog message.
	SummaryI18n *i18n.Message `json:"summary_i18n,omitempty" doc:"The summary as a message code (event.ticket.<action>, or sla.missed for an SLA breach) and its params."`
	// Delivery is read from the notifications context.
	// On a customer_notified entry: how the message's delivery goes now (queued, sent, failed, with the attempts; requested when the tenant delivers it from the notification.requested event).
	Delivery *notifications.NotificationDelivery `json:"delivery,omitempty"`

	loc *time.Location // the tenant's time zone, for the summary
}

// timelineDeliverySQL reads a customer_notified entry's delivery status.
var timelineDeliverySQL = notifications.DeliveryByIDSQL("tl.tenant_id", "tl.detail ->> 'notification_id'")

// Timeline returns a ticket's timeline, oldest first.
func (s *Service) Timeline(ctx context.Context, p tenants.Principal, id string) ([]TimelineEntry, error) {
	return ofTicket(ctx, s, p, id, func(ctx context.Context, tx pg.TenantTx) ([]TimelineEntry, error) {
		st, err := tx.Settings(ctx)
		if err != nil {
			return nil, err
		}
		rows, err := tx.Query(ctx, `SELECT tl.seq, tl.action, tl.from_state, tl.to_state, tl.reason, tl.detail, tl.actor, tl.at,
				CASE WHEN tl.action = 'customer_notified' THEN `+timelineDeliverySQL+` END
			FROM ticket_timeline tl WHERE tl.tenant_id = $1 AND tl.ticket_id = $2 ORDER BY tl.seq`, tx.TenantID, id)
		if err != nil {
			return nil, err
		}
		return pgx.CollectRows(rows, func(r pgx.CollectableRow) (TimelineEntry, error) {
			e := TimelineEntry{loc: st.Location}
			err := r.Scan(&e.Seq, &e.Action, &e.FromState, &e.ToState, &e.Reason, &e.Detail, &e.Actor, &e.At, &e.Delivery)
			return e, err
		})
	})
}

// ofTicket reads what belongs to ticket id (its timeline, appointments,
// parts) in one tenant transaction, after checking the ticket is in p's
// scope (not_found otherwise).
func ofTicket[T any](ctx context.Context, s *Service, p tenants.Principal, id string, read func(context.Context, pg.TenantTx) ([]T, error)) ([]T, error) {
	var out []T
	err := pg.InTenantTx(ctx, s.DB, p.TenantID, func(tx pg.TenantTx) error {
		sc, err := resolveScope(ctx, tx, p)
		if err != nil {
			return err
		}
		if _, err := getTicket(ctx, tx, sc, id, ""); err != nil {
			return err
		}
		out, err = read(ctx, tx)
		return err
	})
	if out == nil {
		out = []T{}
	}
	return out, pg.Translate(err)
}

// AllowedNow lists the actions a ticket allows in its current state.
func (s *Service) AllowedNow(ctx context.Context, p tenants.Principal, id string) (Ticket, []Transition, error) {
	t, err := s.Get(ctx, p, id)
	if err != nil {
		return t, nil, err
	}
	return t, Allowed(t.State), nil
}

// Appointment history.

// AppointmentEntry is one agreed window.
type AppointmentEntry struct {
	Seq          int       `json:"seq" example:"1"`
	Window       Window    `json:"window"`
	Reason       string    `json:"reason" enum:"agreed,customer_request,technician_conflict,parts,other,customer_unreachable" doc:"agreed: the schedule's window, agreed with the customer; customer_request, technician_conflict, parts, other: a move's reason (technician_conflict also for a job reassigned with its window, 改派); customer_unreachable: not agreed, the network's promise booked after failed contact attempts (scheduleTicket's customer_unreachable)." example:"agreed"`
	Note         *string   `json:"note,omitempty" example:"客户上午在家"`
	TechnicianID *string   `json:"technician_id,omitempty" example:"tec_01jd3zq8w6v7t3y2k9x4n5m6pr"`
	Actor        string    `json:"actor" example:"key_01jd3zq8w6v7t3y2k9x4n5m6pk"`
	At           time.Time `json:"at" example:"2026-11-30T10:20:00+08:00"`
}

// Appointments returns a ticket's appointment history, oldest first.
func (s *Service) Appointments(ctx context.Context, p tenants.Principal, id string) ([]AppointmentEntry, error) {
	return ofTicket(ctx, s, p, id, func(ctx context.Context, tx pg.TenantTx) ([]AppointmentEntry, error) {
		rows, err := tx.Query(ctx, `SELECT seq, window_start, window_end, reason, note, technician_id, actor, at FROM ticket_appointments
			WHERE tenant_id = $1 AND ticket_id = $2 ORDER BY seq`, tx.TenantID, id)
		if err != nil {
			return nil, err
		}
		return pgx.CollectRows(rows, func(r pgx.CollectableRow) (AppointmentEntry, error) {
			var e AppointmentEntry
			err := r.Scan(&e.Seq, &e.Window.Start, &e.Window.End, &e.Reason, &e.Note, &e.TechnicianID, &e.Actor, &e.At)
			return e, err
		})
	})
}

// visitWindowSQL selects the start of the window of a ticket's visit
// ($1 the tenant, $2 the ticket, $3 the ticket's own window start): the
// ticket's window, else the last one agreed (its appointment history),
// else NULL. The late-arrival waiver and the damage apology open their
// tasks for it.
const visitWindowSQL = `coalesce($3::timestamptz, (SELECT window_start FROM ticket_appointments
	WHERE tenant_id = $1 AND ticket_id = $2 ORDER BY seq DESC LIMIT 1))`

// ServingNodeTx is the node serving a unit, inside the caller's transaction:
// that of its latest ticket dispatched to a node, open tickets first; nil
// when no ticket of the unit names a node.
func ServingNodeTx(ctx context.Context, tx pg.TenantTx, unitID string) (*string, error) {
	var node *string
	err := tx.QueryRow(ctx, `SELECT node_id FROM tickets WHERE tenant_id = $1 AND unit_id = $2 AND node_id IS NOT NULL
		ORDER BY state NOT IN ('completed', 'closed', 'cancelled', 'resolved') DESC, updated_at DESC, id DESC LIMIT 1`,
		tx.TenantID, unitID).Scan(&node)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, nil
	}
	return node, err
}
