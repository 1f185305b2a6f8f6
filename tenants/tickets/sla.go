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
	"github.com/servicenet/servicenet/tenants/events"
	"github.com/servicenet/servicenet/tenants/network"
)

// TypeSLAPolicyUpdated is the event of a changed SLA policy.
const TypeSLAPolicyUpdated = "sla_policy.updated"

// actSLABreached is the timeline action (and ticket.sla_breached the event)
// of a missed deadline.
const actSLABreached Action = "sla_breached"

// SLAArrival is the technician's arrival: due inside the window agreed
// with the customer (the standard is 5-10 minutes before it opens;
// arriving after it closed is late, 超时). The sweep breaches it when the
// window closes with the ticket still scheduled (no check-in), opening
// the seed's follow-ups (call the customer, apologise); a late check-in
// breaches it too. Its deadline is the ticket's window_end.
const SLAArrival SLA = "arrival"

// SystemActor is the actor of what the timers and the reconciliation write.
const SystemActor = "system"

// MaxEscalationLevel is the last escalation level (the brand).
const MaxEscalationLevel = 3

// Breach is one recorded SLA breach: a deadline of a ticket not met, at an
// escalation level.
type Breach struct {
	TicketID     string    `json:"ticket_id" doc:"The ticket." example:"tkt_01jd3zq8w6v7t3y2k9x4n5m6pq"`
	Number       string    `json:"number" doc:"The ticket's number." example:"SN-20261130-00042"`
	SLA          SLA       `json:"sla" doc:"The deadline missed (arrival: the technician was not there by the agreed window's end; verification: a ticket waiting in needs_info was not verified in time; workshop: a unit carried to the node was not repaired and handed back within the policy's working days; on_site_repair: a repair completed in the visit more than the policy's on_site_repair_minutes after the visit's check-in, recorded at the completion)." example:"first_contact"`
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
		v.AddMsg("sla", i18n.M("common.one_of", "Values", tenants.Values(SLAs)), f.SLA)
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
	{"workshop_working_days", 1, 30, func(p SLAPolicy) int { return p.WorkshopWorkingDays }},
	{"untested_callback_minutes", 1, 10080, func(p SLAPolicy) int { return p.UntestedCallbackMinutes }},
	{"on_site_repair_minutes", 1, 1440, func(p SLAPolicy) int { return p.OnSiteRepairMinutes }},
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
				urgent_percent, high_percent, low_percent, install_minutes, workshop_working_days,
				untested_callback_minutes, on_site_repair_minutes)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19)
			ON CONFLICT (tenant_id, livemode) DO UPDATE SET route_minutes = $2, first_contact_minutes = $3, response_minutes = $4,
				completion_minutes = $5, callback_minutes = $6, guidance_callback_minutes = $7, observe_callback_minutes = $8,
				uncertain_callback_minutes = $9, escalation_minutes = $10, unreachable_close_after = $11,
				verification_minutes = $12, urgent_percent = $13, high_percent = $14, low_percent = $15, install_minutes = $16,
				workshop_working_days = $17, untested_callback_minutes = $18, on_site_repair_minutes = $19, version = sla_policies.version + 1, updated_at = now()
			RETURNING `+slaPolicyColumns,
			tx.TenantID, in.RouteMinutes, in.FirstContactMinutes, in.ResponseMinutes, in.CompletionMinutes, in.CallbackMinutes,
			in.GuidanceCallbackMinutes, in.ObserveCallbackMinutes, in.UncertainCallbackMinutes, in.EscalationMinutes,
			in.UnreachableCloseAfter, in.VerificationMinutes, in.UrgentPercent, in.HighPercent, in.LowPercent, in.InstallMinutes,
			in.WorkshopWorkingDays, in.UntestedCallbackMinutes, in.OnSiteRepairMinutes))
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
