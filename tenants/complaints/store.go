package complaints

import (
	"context"
	"errors"
	"slices"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/servicenet/servicenet/internal/i18n"
	"github.com/servicenet/servicenet/internal/pg"
	"github.com/servicenet/servicenet/tenants"
	"github.com/servicenet/servicenet/tenants/customers"
	"github.com/servicenet/servicenet/tenants/events"
	"github.com/servicenet/servicenet/tenants/network"
	"github.com/servicenet/servicenet/tenants/testclocks"
)

// scope is what complaints a principal sees: a storefront key its
// storefront's (storefront non-nil), a node-scoped key those of its
// subtree's nodes (nodes non-nil: network.ScopeNodesTx), and a technician
// key only the complaints about its own work (technician non-nil). The
// zero value sees all (the service's own reads).
type scope struct {
	storefront *string
	nodes      []string
	technician *string
}

// noTechnician is an id no technician has: a technician key that names no
// technician has no work to be complained about.
const noTechnician = "tec_none"

func resolveScope(ctx context.Context, tx pg.TenantTx, p tenants.Principal) (scope, error) {
	var sc scope
	if cs := customers.ScopeOf(p); !cs.Whole() {
		sc.storefront = &cs.StorefrontID
	}
	if customers.ActsAsTechnician(p) {
		tech := p.TechnicianID
		if tech == "" {
			tech = noTechnician
		}
		sc.technician = &tech
	}
	var err error
	sc.nodes, err = network.ScopeNodesTx(ctx, tx, p)
	return sc, err
}

// inScope is the scope predicate on a complaint row aliased c; $a is the
// scope's storefront, $b its nodes, $t its technician.
func inScope(a, b, t string) string {
	return `(` + a + `::text IS NULL OR c.storefront_id = ` + a + `::text)
		AND (` + b + `::text[] IS NULL OR c.node_id = ANY (` + b + `::text[]))
		AND (` + t + `::text IS NULL OR c.technician_id = ` + t + `::text)`
}

// complaintColumns ends with the time of the complaint's clock (NULL for
// none), read through the testclocks context's expression.
var complaintColumns = `c.id, c.ticket_id, c.node_id, c.technician_id, c.storefront_id, c.customer_id, c.category, c.severity,
	c.description, c.state, c.sla_due_at, c.sla_breached_at, c.escalation_level, c.resolution, c.resolved_at,
	c.upheld, c.breach, c.waiver, c.refund_payout_id, c.claimed_amount, c.claimed_currency, c.assessed_amount,
	c.assessed_currency, c.compensation_payout_id, c.damaged_item, c.reduction, c.resolution_rating, c.rating_comment, c.rated_at, c.reopen_count, c.closed_at, c.created_by, c.version,
	c.created_at, c.updated_at, c.test_clock_id, ` + testclocks.TimeOfSQL("c.tenant_id", "c.test_clock_id", "NULL::timestamptz")

// scanComplaint scans a row of complaintColumns; its overdue flag is
// judged at the complaint's clock's time, else at now.
func scanComplaint(row pgx.Row, now time.Time) (Complaint, error) {
	var c Complaint
	var claimed, assessed *int64
	var claimedCur, assessedCur *string
	err := row.Scan(&c.ID, &c.TicketID, &c.NodeID, &c.TechnicianID, &c.StorefrontID, &c.CustomerID, &c.Category, &c.Severity,
		&c.Description, &c.State, &c.SLADueAt, &c.SLABreachedAt, &c.EscalationLevel, &c.Resolution, &c.ResolvedAt,
		&c.Upheld, &c.Breach, &c.Waiver, &c.RefundPayoutID, &claimed, &claimedCur, &assessed, &assessedCur,
		&c.CompensationPayoutID, &c.DamagedItem, &c.Reduction, &c.ResolutionRating, &c.RatingComment, &c.RatedAt, &c.ReopenCount, &c.ClosedAt, &c.CreatedBy, &c.Version,
		&c.CreatedAt, &c.UpdatedAt, &c.TestClockID, &c.clockNow)
	if err != nil {
		return Complaint{}, err
	}
	now = c.at(now)
	c.ClaimedAmount, c.AssessedAmount = money(claimed, claimedCur), money(assessed, assessedCur)
	c.EscalatedTo = EscalatedTo(c.EscalationLevel)
	c.Overdue = running(c.State) && now.After(c.SLADueAt)
	c.AllowedActions = []string{}
	for _, a := range allowed[c.State] {
		if a != ActionEscalate || c.EscalationLevel < MaxLevel {
			c.AllowedActions = append(c.AllowedActions, a)
		}
	}
	return c, nil
}

// getComplaint reads a complaint in the principal's scope; lock is "" or
// "FOR UPDATE OF c".
func getComplaint(ctx context.Context, tx pg.TenantTx, sc scope, id, lock string, now time.Time) (Complaint, error) {
	if !tenants.ValidID(tenants.PrefixComplaint, id) {
		return Complaint{}, tenants.NotFound("complaint")
	}
	c, err := scanComplaint(tx.QueryRow(ctx, `SELECT `+complaintColumns+` FROM complaints c
		WHERE c.tenant_id = $1 AND c.id = $2 AND `+inScope("$3", "$4", "$5")+` `+lock, tx.TenantID, id, sc.storefront, sc.nodes, sc.technician), now)
	if errors.Is(err, pgx.ErrNoRows) {
		return Complaint{}, tenants.NotFound("complaint")
	}
	return c, err
}

// getDetail reads a complaint (already known to be in scope) with its history.
func getDetail(ctx context.Context, tx pg.TenantTx, id string, now time.Time) (ComplaintDetail, error) {
	c, err := getComplaint(ctx, tx, scope{}, id, "", now)
	if err != nil {
		return ComplaintDetail{}, err
	}
	rows, err := tx.Query(ctx, `SELECT action, from_state, to_state, from_level, to_level, note, actor, at
		FROM complaint_changes WHERE tenant_id = $1 AND complaint_id = $2 ORDER BY seq`, tx.TenantID, id)
	if err != nil {
		return ComplaintDetail{}, err
	}
	h, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (ComplaintChange, error) {
		var ch ComplaintChange
		err := r.Scan(&ch.Action, &ch.FromState, &ch.ToState, &ch.FromLevel, &ch.ToLevel, &ch.Note, &ch.Actor, &ch.At)
		return ch, err
	})
	if err != nil {
		return ComplaintDetail{}, err
	}
	return ComplaintDetail{Complaint: c, History: h}, nil
}

// can reports whether c's state (and level) admit action.
func can(c Complaint, action string) bool { return slices.Contains(c.AllowedActions, action) }

// conflictState is the 409 for an action the complaint does not admit now.
func conflictState(c Complaint, action string) error {
	list := "none"
	if len(c.AllowedActions) > 0 {
		list = strings.Join(c.AllowedActions, ", ")
	}
	var why any = ""
	if action == ActionEscalate && c.EscalationLevel >= MaxLevel && running(c.State) {
		why = i18n.M("complaints.at_brand_level", "Level", MaxLevel)
	}
	return tenants.ErrorMsg(tenants.CodeConflict, i18n.M("complaints.action_not_allowed", "State", c.State, "Reason", why, "Allowed", list, "Action", action))
}

// change is one recorded change of a complaint.
type change struct {
	action    string
	to        State
	level     int
	note      *string
	actor     string
	eventType string
	extra     map[string]any
	// at is when it happened: the complaint's time (its clock's, else now).
	at time.Time
}

// record writes a change of c (as it was before) to ch.to and ch.level: the
// complaint's state, level and version (other columns the caller has
// updated), the history row and the events (ch.eventType, then any
// followUp types). For a complaint just inserted (c.State empty) it writes
// only the history row and the event.
func record(ctx context.Context, tx pg.TenantTx, c Complaint, ch change, followUp ...string) error {
	var from *State
	var fromLevel *int
	if c.State != "" {
		f, l := c.State, c.EscalationLevel
		from, fromLevel = &f, &l
		if _, err := tx.Exec(ctx, `UPDATE complaints SET state = $3, escalation_level = $4, version = version + 1, updated_at = now()
			WHERE tenant_id = $1 AND id = $2`, tx.TenantID, c.ID, ch.to, ch.level); err != nil {
			return err
		}
	}
	if _, err := tx.Exec(ctx, `INSERT INTO complaint_changes (tenant_id, complaint_id, action, from_state, to_state, from_level, to_level, note, actor, at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`, tx.TenantID, c.ID, ch.action, from, ch.to, fromLevel, ch.level, ch.note, ch.actor, ch.at); err != nil {
		return err
	}
	d := map[string]any{"complaint_id": c.ID, "storefront_id": c.StorefrontID, "ticket_id": c.TicketID, "node_id": c.NodeID,
		"technician_id": c.TechnicianID, "customer_id": c.CustomerID, "category": c.Category, "severity": c.Severity,
		"level": ch.level, "escalated_to": nullable(EscalatedTo(ch.level)), "from_state": from, "to_state": ch.to, "note": ch.note}
	for k, v := range ch.extra {
		d[k] = v
	}
	for _, typ := range append([]string{ch.eventType}, followUp...) {
		if err := events.Append(ctx, tx, events.New{Type: typ, SubjectID: c.ID, Actor: ch.actor, Data: d}); err != nil {
			return err
		}
	}
	return nil
}

func nullable(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

// money is a stored amount and currency (both null: none).
func money(amount *int64, currency *string) *tenants.Money {
	if amount == nil || currency == nil {
		return nil
	}
	return &tenants.Money{Amount: *amount, Currency: *currency}
}
