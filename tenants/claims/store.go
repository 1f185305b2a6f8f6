package claims

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/servicenet/servicenet/internal/i18n"
	"github.com/servicenet/servicenet/internal/pg"
	"github.com/servicenet/servicenet/tenants"
	"github.com/servicenet/servicenet/tenants/customers"
	"github.com/servicenet/servicenet/tenants/events"
	"github.com/servicenet/servicenet/tenants/identity"
	"github.com/servicenet/servicenet/tenants/network"
	"github.com/servicenet/servicenet/tenants/notifications"
)

// scope is what claims a principal sees: a storefront key its
// storefront's (storefront non-nil), a node-scoped key those of its
// subtree's nodes (nodes non-nil: network.ScopeNodesTx), anyone else all.
// The zero value sees all (the service's own reads).
type scope struct {
	storefront *string
	nodes      []string
}

func resolveScope(ctx context.Context, tx pg.TenantTx, p tenants.Principal) (scope, error) {
	var sc scope
	if cs := customers.ScopeOf(p); !cs.Whole() {
		sc.storefront = &cs.StorefrontID
	}
	var err error
	sc.nodes, err = network.ScopeNodesTx(ctx, tx, p)
	return sc, err
}

// inScope is the scope predicate on a claim row aliased c; $a is the
// scope's storefront, $b its nodes.
func inScope(a, b string) string {
	return `(` + a + `::text IS NULL OR c.storefront_id = ` + a + `::text)
		AND (` + b + `::text[] IS NULL OR c.node_id = ANY (` + b + `::text[]))`
}

const claimColumns = `c.id, c.kind, c.unit_id, c.contract_id, c.storefront_id, c.node_id, c.reference, c.state, c.state_reason,
	c.current_version, c.currency, c.flags, c.reasons, c.decision, to_char(c.approved_on, 'YYYY-MM-DD'), c.paid_at, c.revision,
	c.created_at, c.updated_at, c.review_due_at, c.decision_due_at, c.responded_at,
	c.review_missed_at IS NOT NULL, c.decision_missed_at IS NOT NULL, c.test_clock_id,
	v.fault_cause, v.fault_part_categories, v.fault_description, to_char(v.occurred_on, 'YYYY-MM-DD'), v.ticket_id,
	v.service_record_id, v.note, v.lines, v.total_requested`

const claimFrom = ` FROM claims c JOIN claim_versions v ON v.tenant_id = c.tenant_id AND v.claim_id = c.id AND v.version = c.current_version `

func scanClaim(row pgx.Row) (Claim, error) {
	var (
		c        Claim
		desc     *string
		decision []byte
		total    int64
		flags    []byte
		cur      string
		partCats []string
		missed   [2]bool
	)
	err := row.Scan(&c.ID, &c.Kind, &c.UnitID, &c.ContractID, &c.StorefrontID, &c.NodeID, &c.Reference, &c.State, &c.StateReason,
		&c.Version, &cur, &flags, &c.Reasons, &decision, &c.ApprovedOn, &c.PaidAt, &c.Revision, &c.CreatedAt, &c.UpdatedAt,
		&c.ReviewDueAt, &c.DecisionDueAt, &c.RespondedAt, &missed[0], &missed[1], &c.TestClockID,
		&c.Fault.Cause, &partCats, &desc, &c.OccurredOn, &c.TicketID, &c.ServiceRecordID, &c.Note, &c.Lines, &total)
	if err != nil {
		return Claim{}, err
	}
	c.Fault.PartCategories = partCats
	for i, d := range []string{DeadlineReview, DeadlineDecision} {
		if missed[i] {
			c.DeadlinesMissed = append(c.DeadlinesMissed, d)
		}
	}
	if desc != nil {
		c.Fault.Description = *desc
	}
	if err := json.Unmarshal(flags, &c.Flags); err != nil {
		return Claim{}, err
	}
	if len(decision) > 0 {
		c.Decision = &ClaimDecision{}
		if err := json.Unmarshal(decision, c.Decision); err != nil {
			return Claim{}, err
		}
	}
	finish(&c, cur, total)
	return c, nil
}

// finish fills what is derived from the stored columns.
func finish(c *Claim, cur string, total int64) {
	c.TotalRequested = tenants.Money{Amount: total, Currency: cur}
	if c.Flags == nil {
		c.Flags = []ClaimFlag{}
	}
	if c.Reasons == nil {
		c.Reasons = []string{}
	}
	if c.Lines == nil {
		c.Lines = []ClaimLine{}
	}
	if c.DeadlinesMissed == nil {
		c.DeadlinesMissed = []string{}
	}
	c.AllowedActions = slices.Clone(allowed[c.State])
	if c.AllowedActions == nil {
		c.AllowedActions = []string{}
	}
	var calc, appr int64
	calcAll, apprAll := len(c.Lines) > 0, len(c.Lines) > 0
	for _, l := range c.Lines {
		if l.Calculated != nil {
			calc += l.Calculated.Amount
		} else {
			calcAll = false
		}
		if l.Approved != nil {
			appr += l.Approved.Amount
		} else {
			apprAll = false
		}
	}
	if calcAll {
		c.TotalCalculated = &tenants.Money{Amount: calc, Currency: cur}
	}
	if apprAll {
		c.TotalApproved = &tenants.Money{Amount: appr, Currency: cur}
	}
}

// getClaim reads a claim in the principal's scope; lock is "" or
// "FOR UPDATE OF c".
// queueGetClaim queues getClaim's read (no lock) of a valid id on b, into c.
func queueGetClaim(b *pgx.Batch, tenantID string, sc scope, id string, c *Claim) {
	b.Queue(`SELECT `+claimColumns+claimFrom+`
		WHERE c.tenant_id = $1 AND c.id = $2 AND `+inScope("$3", "$4"), tenantID, id, sc.storefront, sc.nodes).
		QueryRow(func(row pgx.Row) error {
			var err error
			if *c, err = scanClaim(row); errors.Is(err, pgx.ErrNoRows) {
				return tenants.NotFound("claim")
			}
			return err
		})
}

func getClaim(ctx context.Context, tx pg.TenantTx, sc scope, id, lock string) (Claim, error) {
	if !tenants.ValidID(tenants.PrefixClaim, id) {
		return Claim{}, tenants.NotFound("claim")
	}
	c, err := scanClaim(tx.QueryRow(ctx, `SELECT `+claimColumns+claimFrom+`
		WHERE c.tenant_id = $1 AND c.id = $2 AND `+inScope("$3", "$4")+` `+lock, tx.TenantID, id, sc.storefront, sc.nodes))
	if errors.Is(err, pgx.ErrNoRows) {
		return Claim{}, tenants.NotFound("claim")
	}
	return c, err
}

// conflictState is the 409 for an action the claim's state does not admit.
func conflictState(c Claim, action string) error {
	acts := allowed[c.State]
	list := "none"
	if len(acts) > 0 {
		list = strings.Join(acts, ", ")
	}
	return tenants.ErrorMsg(tenants.CodeConflict, i18n.M("claims.action_not_allowed", "State", c.State, "Allowed", list, "Action", action))
}

func can(c Claim, action string) bool { return slices.Contains(allowed[c.State], action) }

// transition moves c to state with its history row and event, bumping the
// revision; for a claim just inserted (c.State empty) it writes only the
// history row and the event.
func transition(ctx context.Context, tx pg.TenantTx, c Claim, to State, reason, actor, eventType string, extra map[string]any) error {
	b := &pgx.Batch{}
	if err := queueTransition(b, tx, c, to, reason, actor, eventType, extra); err != nil {
		return err
	}
	return tx.SendBatch(ctx, b).Close()
}

// queueTransition queues transition's writes on b, for a caller that sends
// them with its own in one round trip.
func queueTransition(b *pgx.Batch, tx pg.TenantTx, c Claim, to State, reason, actor, eventType string, extra map[string]any) error {
	if c.State != "" { // else the claim was just inserted in state to
		b.Queue(`UPDATE claims SET state = $3, state_reason = $4, revision = revision + 1, updated_at = `+nowSQL("$5")+
			deadlineSet(to, "$5")+` WHERE tenant_id = $1 AND id = $2`, tx.TenantID, c.ID, to, reason, c.now)
	}
	return queueTransitionRecordTx(b, tx, c, to, reason, actor, eventType, extra)
}

// queueTransitionRecordTx queues on b the history row of c's move from
// c.State ("" for a claim just inserted) to to, for a caller that updates
// the claim's row itself; the event joins tx's event buffer
// (events.QueueTx: one insert for the transaction's events, with the
// COMMIT, in the order appended).
func queueTransitionRecordTx(b *pgx.Batch, tx pg.TenantTx, c Claim, to State, reason, actor, eventType string, extra map[string]any) error {
	queueHistory(b, tx.TenantID, c, to, reason, actor)
	return events.QueueTx(b, tx, transitionEvent(c, to, reason, actor, eventType, extra))
}

// queueHistory queues the history row of c's move from c.State ("" for a
// claim just inserted) to to.
func queueHistory(b *pgx.Batch, tenantID string, c Claim, to State, reason, actor string) {
	var from *State
	if c.State != "" {
		f := c.State
		from = &f
	}
	b.Queue(`INSERT INTO claim_state_changes (tenant_id, claim_id, version, from_state, to_state, reason, actor, changed_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, `+nowSQL("$8")+`)`, tenantID, c.ID, c.Version, from, to, reason, actor, c.now)
}

// transitionEvent is the event of c's move from c.State ("" for a claim
// just inserted) to to.
func transitionEvent(c Claim, to State, reason, actor, eventType string, extra map[string]any) events.New {
	var from *State
	if c.State != "" {
		f := c.State
		from = &f
	}
	return events.New{Type: eventType, SubjectID: c.ID, Actor: actor, Data: eventData(c, from, to, reason, extra)}
}

func eventData(c Claim, from *State, to State, reason string, extra map[string]any) map[string]any {
	d := map[string]any{"claim_id": c.ID, "kind": c.Kind, "unit_id": c.UnitID, "storefront_id": c.StorefrontID,
		"node_id": c.NodeID, "reference": c.Reference, "version": c.Version, "from_state": from, "to_state": to, "reason": reason}
	for k, v := range extra {
		d[k] = v
	}
	return d
}

// queueSaveLines queues on b the save of the current version's lines
// (after a decision; the adjudication saves them itself, queueAdjudicated).
func queueSaveLines(b *pgx.Batch, tenantID string, c Claim) {
	b.Queue(`UPDATE claim_versions SET lines = $4 WHERE tenant_id = $1 AND claim_id = $2 AND version = $3`,
		tenantID, c.ID, c.Version, c.Lines)
}

// approve records c's approval (lines already carry their approved amounts)
// and calls the OnApproved dependency. The writes, the claim's read-back
// and the customer's contact go in one round trip, after the statements
// the caller queued on pre (nil: none); a caller that passes pre has
// queued the lines' save on it. st is the tenant's settings when the
// caller has them (nil: read here).
func (s *Service) approve(ctx context.Context, tx pg.TenantTx, c Claim, reason, actor string, pre *pgx.Batch, st *pg.TenantSettings) (Claim, error) {
	if st == nil {
		read, err := tx.Settings(ctx)
		if err != nil {
			return Claim{}, err
		}
		st = &read
	}
	today := st.Today(c.timeOr(s.now()))
	b := pre
	if b == nil {
		b = &pgx.Batch{}
		queueSaveLines(b, tx.TenantID, c)
	}
	// The move to approved, the approval date and the reason in one update.
	b.Queue(`UPDATE claims SET state = $3, state_reason = $4, approved_on = $5::date, reasons = array_append(reasons, $4),
		revision = revision + 1, updated_at = `+nowSQL("$6")+deadlineSet(StateApproved, "$6")+` WHERE tenant_id = $1 AND id = $2`,
		tx.TenantID, c.ID, StateApproved, reason, today, c.now)
	var total int64
	for _, l := range c.Lines {
		if l.Approved != nil {
			total += l.Approved.Amount
		}
	}
	approved := tenants.Money{Amount: total, Currency: c.TotalRequested.Currency}
	if err := queueTransitionRecordTx(b, tx, c, StateApproved, reason, actor, TypeApproved,
		map[string]any{"total_approved": approved}); err != nil {
		return Claim{}, err
	}
	var out Claim
	queueGetClaim(b, tx.TenantID, scope{}, c.ID, &out)
	notice := queueDecidedNotice(b, tx.TenantID, c)
	if err := tx.SendBatch(ctx, b).Close(); err != nil {
		return Claim{}, err
	}
	if err := s.onApproved(ctx, tx, out); err != nil {
		return Claim{}, err
	}
	if err := s.notifyDecided(ctx, tx, c, actor, approved, notice); err != nil {
		return Claim{}, err
	}
	return out, nil
}

// decidedNotice is what notifyDecided reads on the deciding transaction's
// batch (queueDecidedNotice), so telling the customer costs no round trip
// of its own: the unit's owner, the notice's template, dedupe and gateway
// reads (notifications.QueueNotice) and the tenant's language and zone.
type decidedNotice struct {
	owner    customers.Owner
	prefetch *notifications.Prefetch
	lang     string
	loc      *time.Location
}

// queueDecidedNotice queues on b the reads notifyDecided needs to tell c's
// unit's owner of the decision.
func queueDecidedNotice(b *pgx.Batch, tenantID string, c Claim) *decidedNotice {
	n := &decidedNotice{}
	customers.QueueUnitOwner(b, tenantID, c.UnitID, &n.owner)
	n.prefetch = notifications.QueueNotice(b, tenantID, notifications.PurposeClaimDecided, decidedKey(c))
	identity.QueueLocale(b, tenantID, &n.lang, &n.loc)
	return n
}

// decidedKey is the decision notice's dedupe key: one per claim version,
// so a retried decision never sends it twice.
func decidedKey(c Claim) string {
	return fmt.Sprintf("%s:%s:v%d", c.ID, notifications.PurposeClaimDecided, c.Version)
}

// notifyDecided tells the unit's customer, in the deciding transaction,
// that claim c was decided, with its reference, the decision (approved,
// partly_approved when less than requested was approved, rejected) and the
// amount approved. A customer who opted out, or was erased, is not told;
// the message is sent once per claim version (decidedKey).
//
// n is what queueDecidedNotice read.
func (s *Service) notifyDecided(ctx context.Context, tx pg.TenantTx, c Claim, actor string, approved tenants.Money, n *decidedNotice) error {
	if n.owner.Phone == "" {
		return nil
	}
	decision := notifications.Decision("approved")
	switch {
	case approved.Amount == 0:
		decision = "rejected"
	case approved.Amount < c.TotalRequested.Amount:
		decision = "partly_approved"
	}
	n.prefetch.SetLocale(n.lang, n.loc)
	_, err := s.notify.NotifyTx(ctx, tx, actor, notifications.Notice{Purpose: notifications.PurposeClaimDecided, SubjectID: c.ID,
		To: n.owner.Phone, OptedOut: n.owner.OptedOut, DedupeKey: decidedKey(c), Prefetched: n.prefetch,
		Params: map[string]any{"claim_reference": c.Reference, "decision": decision,
			"amount": notifications.Money{Amount: approved.Amount, Currency: approved.Currency}}})
	return err
}

// LoadClaimTx reads a claim of tx's tenant, whoever filed it, in the
// caller's transaction: other contexts check a claim they are given (a
// payout's claim_id) with it. An unknown, malformed or other tenant's id is
// not_found.
func LoadClaimTx(ctx context.Context, tx pg.TenantTx, id string) (Claim, error) {
	return getClaim(ctx, tx, scope{}, id, "")
}
