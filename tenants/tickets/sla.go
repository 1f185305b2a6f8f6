package tickets

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/servicenet/servicenet/internal/i18n"
	"github.com/servicenet/servicenet/internal/pg"
	"github.com/servicenet/servicenet/tenants"
	"github.com/servicenet/servicenet/tenants/events"
	"github.com/servicenet/servicenet/tenants/network"
)

// TypeSLAPolicyUpdated is the event of a changed SLA policy.
const TypeSLAPolicyUpdated = "sla_policy.updated"

// actSLABreached is the timeline action (and ticket.sla_breached the event)
// of a missed deadline.
const actSLABreached Action = "sla_breached"

// SLAArrival is the technician's arrival: due at the agreed window's
// start (the standard is 5-10 minutes early). Its timer breaches it when
// the window starts with the ticket still scheduled (no check-in), opening
// the seed's follow-ups (call the customer, apologise); a late check-in
// breaches it too. Its deadline is the ticket's window_start.
const SLAArrival SLA = "arrival"

// SystemActor is the actor of what the timers and the reconciliation write.
const SystemActor = "system"

// MaxEscalationLevel is the last escalation level (the brand).
const MaxEscalationLevel = 3

// CheckTimer is an SLA timer's work: in one tenant transaction it locks the
// ticket and, when the ticket's deadline for sla is still dueAt (not met,
// not moved) and the ticket is neither cancelled nor closed, records the
// breach at level (once: a rerun finds the row and does nothing more),
// raises the ticket's escalation level, appends an sla_breached timeline
// entry and a ticket.sla_breached event, and, below the last level, inserts
// the next level's timer for the same deadline, to run after the policy's
// escalation minutes. breached reports whether this call recorded the
// breach. An unknown ticket is not_found.
func (s *Service) CheckTimer(ctx context.Context, tenantID, ticketID string, sla SLA, dueAt time.Time, level int) (breached bool, err error) {
	return s.CheckTimerThen(ctx, tenantID, ticketID, sla, dueAt, level, nil)
}

// CheckTimerThen is CheckTimer for a timer with a chain (Timer.Then): in
// the same transaction, whatever the check found, it inserts the timer of
// the first deadline of then that the ticket still runs (not met, not
// moved), carrying the rest still running, scheduled at that deadline (on
// the ticket's test clock, if any: at once when the clock has passed it).
// Deadlines met or moved are dropped: their check would find nothing to do.
func (s *Service) CheckTimerThen(ctx context.Context, tenantID, ticketID string, sla SLA, dueAt time.Time, level int, then []Deadline) (breached bool, err error) {
	for _, d := range append([]Deadline{{SLA: sla}}, then...) {
		if !slices.Contains(SLAs, d.SLA) {
			return false, fmt.Errorf("tickets: unknown SLA %q", d.SLA)
		}
	}
	if level < 1 || level > MaxEscalationLevel {
		return false, fmt.Errorf("tickets: escalation level %d out of 1..%d", level, MaxEscalationLevel)
	}
	if !tenants.ValidID(tenants.PrefixTicket, ticketID) {
		return false, tenants.NotFound("ticket")
	}
	err = pg.InTenantTx(ctx, s.DB, tenantID, func(tx pg.TenantTx) error {
		var (
			state, number                      string
			running                            bool
			nodeID, technicianID, storefrontID *string
			st                                 SLAStatus
			windowStart                        *time.Time
		)
		// The deadline is compared in SQL, so dueAt goes through the same
		// (microsecond) encoding as the value the ticket core wrote.
		col, cond := sla.Column(), ""
		if sla == SLAArrival {
			// the window still starts then and nobody checked in
			col, cond = "window_start", " AND state = 'scheduled'"
		}
		err := tx.QueryRow(ctx, `SELECT state, number, `+col+` IS NOT NULL AND `+col+` = $3`+cond+`,
			node_id, technician_id, storefront_id, route_due_at, first_contact_due_at, response_due_at,
			completion_due_at, callback_due_at, verification_due_at, window_start
			FROM tickets WHERE tenant_id = $1 AND id = $2 FOR UPDATE`, tx.TenantID, ticketID, dueAt).
			Scan(&state, &number, &running, &nodeID, &technicianID, &storefrontID, &st.RouteDueAt, &st.FirstContactDueAt,
				&st.ResponseDueAt, &st.CompletionDueAt, &st.CallbackDueAt, &st.VerificationDueAt, &windowStart)
		if errors.Is(err, pgx.ErrNoRows) {
			return tenants.NotFound("ticket")
		} else if err != nil {
			return err
		}
		var later []Timer
		if running && State(state) != StateCancelled && State(state) != StateClosed {
			tr := timerRun{tx: tx, ticketID: ticketID, sla: sla, dueAt: dueAt, level: level, state: State(state), number: number,
				nodeID: nodeID, technicianID: technicianID, storefrontID: storefrontID}
			if later, err = s.breach(ctx, &tr); err != nil {
				return err
			}
			breached = tr.breached
		} // else met, moved, cleared or ended: nothing to do
		then = slices.DeleteFunc(slices.Clone(then), func(d Deadline) bool {
			at := *st.deadline(d.SLA)
			if d.SLA == SLAArrival {
				at = windowStart
			}
			return at == nil || !at.Equal(d.DueAt.Truncate(time.Microsecond))
		})
		if len(then) > 0 {
			clock, now, err := clockOf(ctx, tx, ticketID, s.now())
			if err != nil {
				return err
			}
			next := Timer{TenantID: tx.TenantID, TicketID: ticketID, SLA: then[0].SLA, DueAt: then[0].DueAt, Level: 1,
				Then: then[1:], TestClock: clock}
			if clock != "" && !next.DueAt.After(now) {
				// the clock passed it already: no advance will fire it
				next.TestClock, next.RunAt = "", time.Now()
			}
			later = append(later, next)
		}
		if len(later) == 0 {
			return nil
		}
		return s.enqueueTimers(ctx, tx.Tx, later)
	})
	if err != nil {
		return false, pg.Translate(err)
	}
	return breached, nil
}

// timerRun is the locked ticket a timer found its deadline still running on.
type timerRun struct {
	tx                                 pg.TenantTx
	ticketID                           string
	sla                                SLA
	dueAt                              time.Time
	level                              int
	state                              State
	number                             string
	nodeID, technicianID, storefrontID *string
	breached                           bool
}

// breach records the breach of a running deadline at its level (once)
// and returns the next level's timer to insert, if any.
func (s *Service) breach(ctx context.Context, r *timerRun) ([]Timer, error) {
	tx, ticketID, sla, dueAt, level := r.tx, r.ticketID, r.sla, r.dueAt, r.level
	clock, now, err := clockOf(ctx, tx, ticketID, s.now())
	if err != nil {
		return nil, err
	}
	escalatedTo := EscalatedTo(level)
	tag, err := tx.Exec(ctx, `INSERT INTO ticket_sla_breaches (tenant_id, ticket_id, sla, due_at, level, escalated_to, node_id, breached_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT DO NOTHING`,
		tx.TenantID, ticketID, string(sla), dueAt, level, escalatedTo, r.nodeID, now)
	if err != nil {
		return nil, err
	}
	if tag.RowsAffected() == 0 {
		return nil, nil // recorded by an earlier run
	}
	r.breached = true
	b := &pgx.Batch{}
	b.Queue(`UPDATE tickets SET escalation_level = greatest(escalation_level, $3) WHERE tenant_id = $1 AND id = $2`,
		tx.TenantID, ticketID, level)
	detail := map[string]any{"sla": sla, "due_at": dueAt, "level": level, "escalated_to": escalatedTo}
	if sla == SLAArrival && level == 1 {
		// running late: the seed's follow-ups for the technician
		t := &Ticket{ID: ticketID, NodeID: r.nodeID, TechnicianID: r.technicianID}
		queueTask(b, tx.TenantID, t, TaskCallCustomer, dueAt,
			"the window started without the technician: call the customer (the standard: 1-2 minutes before the agreed time) to apologise and give the arrival time, or agree a new time", now)
		queueTask(b, tx.TenantID, t, TaskApologise, dueAt,
			"the technician is late: apologise on arrival (traffic, never \"too many customers\"); if the apology is refused the node manager visits", now)
		detail["tasks"] = []string{TaskCallCustomer, TaskApologise}
	}
	breach := step{action: actSLABreached, from: r.state, to: r.state, detail: detail}
	if err := queueTrail(b, tx, ticketID, []step{breach}, SystemActor, now, map[string]any{
		"ticket_id": ticketID, "number": r.number, "sla": sla, "due_at": dueAt, "level": level,
		"escalated_to": escalatedTo, "node_id": r.nodeID, "technician_id": r.technicianID, "storefront_id": r.storefrontID}); err != nil {
		return nil, err
	}
	if err := tx.SendBatch(ctx, b).Close(); err != nil {
		return nil, err
	}
	if level >= MaxEscalationLevel {
		return nil, nil
	}
	pol, err := LoadSLAPolicy(ctx, tx)
	if err != nil {
		return nil, err
	}
	return []Timer{{TenantID: tx.TenantID, TicketID: ticketID, SLA: sla, DueAt: dueAt,
		Level: level + 1, RunAt: now.Add(minutes(pol.EscalationMinutes)), TestClock: clock}}, nil
}

// Breach is one recorded SLA breach: a deadline of a ticket not met, at an
// escalation level.
type Breach struct {
	TicketID     string    `json:"ticket_id" doc:"The ticket." example:"tkt_01jd3zq8w6v7t3y2k9x4n5m6pq"`
	Number       string    `json:"number" doc:"The ticket's number." example:"SN-20261130-00042"`
	SLA          SLA       `json:"sla" enum:"route,first_contact,response,completion,callback,arrival,verification" doc:"The deadline missed (arrival: the technician was not there at the window's start; verification: a ticket waiting in needs_info was not verified in time)." example:"first_contact"`
	DueAt        time.Time `json:"due_at" doc:"The deadline." example:"2026-11-30T10:00:00+08:00"`
	Level        int       `json:"level" minimum:"1" maximum:"3" doc:"Escalation level: 1 dispatcher, 2 node manager, 3 brand." example:"1"`
	EscalatedTo  string    `json:"escalated_to" enum:"dispatcher,node_manager,brand" doc:"Who the breach was escalated to." example:"dispatcher"`
	NodeID       *string   `json:"node_id" doc:"The node the ticket was with when it breached; null if not yet routed." example:"nod_01jd3zq8w6v7t3y2k9x4n5m6pb"`
	TechnicianID *string   `json:"technician_id" doc:"The ticket's technician now; null if none." example:"tec_01jd3zq8w6v7t3y2k9x4n5m6pc"`
	StorefrontID *string   `json:"storefront_id" doc:"The storefront the ticket came from; null if none." example:"sfr_01jd3zq8w6v7t3y2k9x4n5m6pd"`
	BreachedAt   time.Time `json:"breached_at" doc:"When the breach was recorded." example:"2026-11-30T10:00:02+08:00"`
	Summary      string    `json:"summary" doc:"The breach and its escalation told for people, in the response's Content-Language (summary_i18n)." example:"Ticket SN-20261130-00042 missed its first-contact deadline (2026-11-30T02:00:00Z): escalated to the dispatcher (level 1)"`
	// SummaryI18n is Summary as a catalog message.
	SummaryI18n *i18n.Message `json:"summary_i18n" doc:"The summary as a message code (sla.breached, with sla.name.*, sla.time and escalation.to.* messages as params)."`

	loc *time.Location // the tenant's time zone, for the summary
}

// BreachFilter narrows a breach listing; empty fields do not filter.
type BreachFilter struct {
	SLA   string
	Level int
	// Since keeps breaches recorded at or after it.
	Since  time.Time
	Limit  int
	Cursor string
}

const breachCursorKind = "sla_breaches"

// breachKey is a breach's sort key (newest first): breached_at, ticket, SLA,
// deadline and level, the times in Unix microseconds.
func breachKey(b Breach) string {
	return strings.Join([]string{strconv.FormatInt(b.BreachedAt.UnixMicro(), 10), b.TicketID, string(b.SLA),
		strconv.FormatInt(b.DueAt.UnixMicro(), 10), strconv.Itoa(b.Level)}, "|")
}

type breachAfter struct {
	at, due     *time.Time
	ticket, sla string
	level       int
}

func parseBreachCursor(cursor string) (breachAfter, error) {
	var a breachAfter
	key, err := tenants.PageAfter(breachCursorKind, cursor)
	if err != nil || key == "" {
		return a, err
	}
	parts := strings.Split(key, "|")
	if len(parts) != 5 {
		return a, tenants.MalformedCursor(cursor)
	}
	at, err1 := strconv.ParseInt(parts[0], 10, 64)
	due, err2 := strconv.ParseInt(parts[3], 10, 64)
	level, err3 := strconv.Atoi(parts[4])
	if err1 != nil || err2 != nil || err3 != nil {
		return a, tenants.MalformedCursor(cursor)
	}
	t1, t2 := time.UnixMicro(at), time.UnixMicro(due)
	return breachAfter{at: &t1, due: &t2, ticket: parts[1], sla: parts[2], level: level}, nil
}

// ListBreaches lists the tenant's SLA breaches, newest first, filtered by
// SLA, level and time. A node-scoped principal sees the breaches of tickets
// that were with a node of its subtree.
func (s *Service) ListBreaches(ctx context.Context, p tenants.Principal, f BreachFilter) ([]Breach, string, error) {
	v := &tenants.Validation{}
	if f.SLA != "" && !slices.Contains(SLAs, SLA(f.SLA)) {
		v.AddMsg("sla", i18n.M("common.one_of", "Values", "route, first_contact, response, completion, callback, arrival"), f.SLA)
	}
	if f.Level != 0 && (f.Level < 1 || f.Level > MaxEscalationLevel) {
		v.AddMsg("level", i18n.M("common.range", "Min", 1, "Max", 3), f.Level)
	}
	if err := v.Err(); err != nil {
		return nil, "", err
	}
	f.Limit = tenants.PageLimit(f.Limit)
	after, err := parseBreachCursor(f.Cursor)
	if err != nil {
		return nil, "", err
	}
	var since *time.Time
	if !f.Since.IsZero() {
		since = &f.Since
	}
	var out []Breach
	err = pg.InTenantTx(ctx, s.DB, p.TenantID, func(tx pg.TenantTx) error {
		nodes, err := network.ScopeNodesTx(ctx, tx, p)
		if err != nil {
			return err
		}
		st, err := tx.Settings(ctx) // read before the rows: one query at a time on a connection
		if err != nil {
			return err
		}
		rows, err := tx.Query(ctx, `SELECT b.ticket_id, t.number, b.sla, b.due_at, b.level, b.escalated_to, b.node_id,
			t.technician_id, t.storefront_id, b.breached_at
			FROM ticket_sla_breaches b JOIN tickets t ON t.tenant_id = b.tenant_id AND t.id = b.ticket_id
			WHERE b.tenant_id = $1
			  AND ($2::timestamptz IS NULL OR (b.breached_at, b.ticket_id, b.sla, b.due_at, b.level) < ($2, $3, $4, $5, $6))
			  AND ($7::text[] IS NULL OR b.node_id = ANY ($7::text[]))
			  AND ($8::text IS NULL OR t.storefront_id = $8) AND ($9::text IS NULL OR t.technician_id = $9)
			  AND ($10 = '' OR b.sla = $10) AND ($11 = 0 OR b.level = $11)
			  AND ($12::timestamptz IS NULL OR b.breached_at >= $12)
			ORDER BY b.breached_at DESC, b.ticket_id DESC, b.sla DESC, b.due_at DESC, b.level DESC LIMIT $13`,
			tx.TenantID, after.at, after.ticket, after.sla, after.due, after.level, nodes,
			nonEmpty(p.StorefrontID), nonEmpty(p.TechnicianID), f.SLA, f.Level, since, f.Limit+1)
		if err != nil {
			return err
		}
		out, err = pgx.CollectRows(rows, func(r pgx.CollectableRow) (Breach, error) {
			b := Breach{loc: st.Location}
			err := r.Scan(&b.TicketID, &b.Number, &b.SLA, &b.DueAt, &b.Level, &b.EscalatedTo, &b.NodeID,
				&b.TechnicianID, &b.StorefrontID, &b.BreachedAt)
			return b, err
		})
		return err
	})
	if err != nil {
		return nil, "", pg.Translate(err)
	}
	out, next := tenants.NextPage(breachCursorKind, out, f.Limit, breachKey)
	return out, next, nil
}

// nonEmpty is s, or nil (SQL NULL: no filter) when s is empty.
func nonEmpty(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

// GetSLAPolicy returns the tenant's SLA policy: the defaults (version 0)
// until the tenant sets one.
func (s *Service) GetSLAPolicy(ctx context.Context, p tenants.Principal) (SLAPolicy, error) {
	var out SLAPolicy
	err := pg.InTenantTx(ctx, s.DB, p.TenantID, func(tx pg.TenantTx) error {
		var err error
		out, err = LoadSLAPolicy(ctx, tx)
		return err
	})
	return out, pg.Translate(err)
}

// slaPolicyBounds are the policy fields' ranges (as the table checks them).
var slaPolicyBounds = []struct {
	field    string
	min, max int
	get      func(SLAPolicy) int
}{
	{"route_minutes", 1, 10080, func(p SLAPolicy) int { return p.RouteMinutes }},
	{"first_contact_minutes", 1, 10080, func(p SLAPolicy) int { return p.FirstContactMinutes }},
	{"response_minutes", 1, 43200, func(p SLAPolicy) int { return p.ResponseMinutes }},
	{"completion_minutes", 1, 43200, func(p SLAPolicy) int { return p.CompletionMinutes }},
	{"callback_minutes", 1, 43200, func(p SLAPolicy) int { return p.CallbackMinutes }},
	{"guidance_callback_minutes", 1, 10080, func(p SLAPolicy) int { return p.GuidanceCallbackMinutes }},
	{"observe_callback_minutes", 1, 10080, func(p SLAPolicy) int { return p.ObserveCallbackMinutes }},
	{"uncertain_callback_minutes", 1, 10080, func(p SLAPolicy) int { return p.UncertainCallbackMinutes }},
	{"escalation_minutes", 1, 10080, func(p SLAPolicy) int { return p.EscalationMinutes }},
	{"unreachable_close_after", 0, 10, func(p SLAPolicy) int { return p.UnreachableCloseAfter }},
	{"verification_minutes", 1, 10080, func(p SLAPolicy) int { return p.VerificationMinutes }},
	{"urgent_percent", 10, 100, func(p SLAPolicy) int { return p.UrgentPercent }},
	{"high_percent", 10, 100, func(p SLAPolicy) int { return p.HighPercent }},
	{"low_percent", 100, 400, func(p SLAPolicy) int { return p.LowPercent }},
	{"install_minutes", 1, 43200, func(p SLAPolicy) int { return p.InstallMinutes }},
}

// SetSLAPolicy replaces the tenant's SLA policy (every field; Version and
// UpdatedAt are ignored) and bumps its version, with a sla_policy.updated
// event. Deadlines already running keep their due times; SLAs started from
// then on follow the new policy. ifVersion (If-Match), when not nil, must be
// the current version, 0 while the defaults apply; a mismatch is
// precondition_failed.
func (s *Service) SetSLAPolicy(ctx context.Context, p tenants.Principal, in SLAPolicy, ifVersion *int) (SLAPolicy, error) {
	in.defaultPriorityAndVerification()
	v := &tenants.Validation{}
	for _, b := range slaPolicyBounds {
		if n := b.get(in); n < b.min || n > b.max {
			v.AddMsg(b.field, i18n.M("common.range", "Min", b.min, "Max", b.max), n)
		}
	}
	if err := v.Err(); err != nil {
		return SLAPolicy{}, err
	}
	var out SLAPolicy
	err := pg.InTenantTx(ctx, s.DB, p.TenantID, func(tx pg.TenantTx) error {
		current := 0
		err := tx.QueryRow(ctx, `SELECT version FROM sla_policies WHERE tenant_id = $1 FOR UPDATE`, tx.TenantID).Scan(&current)
		if err != nil && !errors.Is(err, pgx.ErrNoRows) {
			return err
		}
		if ifVersion != nil && *ifVersion != current {
			return tenants.ErrorMsg(tenants.CodePreconditionFailed, i18n.M("tickets.sla_policy_changed", "Version", current))
		}
		out, err = scanSLAPolicy(tx.QueryRow(ctx, `INSERT INTO sla_policies (tenant_id, route_minutes, first_contact_minutes,
				response_minutes, completion_minutes, callback_minutes, guidance_callback_minutes, observe_callback_minutes,
				uncertain_callback_minutes, escalation_minutes, unreachable_close_after, verification_minutes,
				urgent_percent, high_percent, low_percent, install_minutes)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16)
			ON CONFLICT (tenant_id, livemode) DO UPDATE SET route_minutes = $2, first_contact_minutes = $3, response_minutes = $4,
				completion_minutes = $5, callback_minutes = $6, guidance_callback_minutes = $7, observe_callback_minutes = $8,
				uncertain_callback_minutes = $9, escalation_minutes = $10, unreachable_close_after = $11,
				verification_minutes = $12, urgent_percent = $13, high_percent = $14, low_percent = $15, install_minutes = $16,
				version = sla_policies.version + 1, updated_at = now()
			RETURNING `+slaPolicyColumns,
			tx.TenantID, in.RouteMinutes, in.FirstContactMinutes, in.ResponseMinutes, in.CompletionMinutes, in.CallbackMinutes,
			in.GuidanceCallbackMinutes, in.ObserveCallbackMinutes, in.UncertainCallbackMinutes, in.EscalationMinutes,
			in.UnreachableCloseAfter, in.VerificationMinutes, in.UrgentPercent, in.HighPercent, in.LowPercent, in.InstallMinutes))
		if err != nil {
			return err
		}
		if ifVersion != nil && out.Version != *ifVersion+1 {
			// another request created the policy meanwhile (no row to lock)
			return tenants.ErrorMsg(tenants.CodePreconditionFailed, i18n.M("tickets.sla_policy_changed", "Version", out.Version-1))
		}
		return events.Append(ctx, tx, events.New{Type: TypeSLAPolicyUpdated, SubjectID: tx.TenantID, Actor: p.Subject(), Data: out})
	})
	if err != nil {
		return SLAPolicy{}, pg.Translate(err)
	}
	return out, nil
}
