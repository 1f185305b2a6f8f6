package claims

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5"

	"github.com/servicenet/servicenet/internal/i18n"
	"github.com/servicenet/servicenet/internal/pg"
	"github.com/servicenet/servicenet/tenants"
	"github.com/servicenet/servicenet/tenants/testclocks"
)

// GetClaim returns a claim with its current version. Claims outside the
// principal's scope (another storefront's, another subtree's) are not found.
func (s *Service) GetClaim(ctx context.Context, p tenants.Principal, id string) (Claim, error) {
	var out Claim
	err := pg.InTenantTx(ctx, s.DB, p.TenantID, func(tx pg.TenantTx) error {
		sc, err := resolveScope(ctx, tx, p)
		if err != nil {
			return err
		}
		out, err = getClaim(ctx, tx, sc, id, "")
		return err
	})
	return out, pg.Translate(err)
}

// ListClaims lists the claims in the principal's scope, oldest first.
func (s *Service) ListClaims(ctx context.Context, p tenants.Principal, f ClaimFilter) ([]Claim, string, error) {
	v := &tenants.Validation{}
	if f.State != "" && !slices.Contains(States, State(f.State)) {
		v.AddMsg("state", i18n.M("claims.state"), f.State)
	}
	if f.Kind != "" && !slices.Contains(Kinds, Kind(f.Kind)) {
		v.AddMsg("kind", i18n.M("claims.kind"), f.Kind)
	}
	if err := v.Err(); err != nil {
		return nil, "", err
	}
	f.Limit = tenants.PageLimit(f.Limit)
	after, err := tenants.PageAfter("claims", f.Cursor)
	if err != nil {
		return nil, "", err
	}
	var out []Claim
	err = pg.InTenantTx(ctx, s.DB, p.TenantID, func(tx pg.TenantTx) error {
		sc, err := resolveScope(ctx, tx, p)
		if err != nil {
			return err
		}
		rows, err := tx.Query(ctx, `SELECT `+claimColumns+claimFrom+`
			WHERE c.tenant_id = $1 AND c.id > $2 AND `+inScope("$3", "$4")+`
			  AND ($5 = '' OR c.state = $5) AND ($6 = '' OR c.kind = $6) AND ($7 = '' OR c.unit_id = $7)
			  AND ($9 = '' OR c.reference = $9)
			  AND (NOT $10 OR (`+overdueAt(testclocks.TimeOfSQL("c.tenant_id", "c.test_clock_id", "$11::timestamptz"))+`))
			ORDER BY c.id LIMIT $8`,
			tx.TenantID, after, sc.storefront, sc.nodes, f.State, f.Kind, f.UnitID, f.Limit+1, f.Reference, f.Overdue, s.now())
		if err != nil {
			return err
		}
		out, err = pgx.CollectRows(rows, func(r pgx.CollectableRow) (Claim, error) { return scanClaim(r) })
		return err
	})
	if err != nil {
		return nil, "", pg.Translate(err)
	}
	if out == nil {
		out = []Claim{}
	}
	out, next := tenants.NextPage("claims", out, f.Limit, func(c Claim) string { return c.ID })
	return out, next, nil
}

// ListVersions returns every submitted version of a claim, oldest first.
func (s *Service) ListVersions(ctx context.Context, p tenants.Principal, id string) ([]ClaimVersion, error) {
	out := []ClaimVersion{}
	err := pg.InTenantTx(ctx, s.DB, p.TenantID, func(tx pg.TenantTx) error {
		sc, err := resolveScope(ctx, tx, p)
		if err != nil {
			return err
		}
		if _, err := getClaim(ctx, tx, sc, id, ""); err != nil {
			return err
		}
		rows, err := tx.Query(ctx, `SELECT version, fault_cause, fault_part_categories, fault_description,
			to_char(occurred_on, 'YYYY-MM-DD'), ticket_id, service_record_id, note, lines, total_requested, currency,
			submitted_by, submitted_at, adjudicated_at
			FROM claim_versions WHERE tenant_id = $1 AND claim_id = $2 ORDER BY version`, tx.TenantID, id)
		if err != nil {
			return err
		}
		out, err = pgx.CollectRows(rows, func(r pgx.CollectableRow) (ClaimVersion, error) {
			var v ClaimVersion
			var desc *string
			err := r.Scan(&v.Version, &v.Fault.Cause, &v.Fault.PartCategories, &desc, &v.OccurredOn, &v.TicketID,
				&v.ServiceRecordID, &v.Note, &v.Lines, &v.TotalRequested.Amount, &v.TotalRequested.Currency,
				&v.SubmittedBy, &v.SubmittedAt, &v.AdjudicatedAt)
			if desc != nil {
				v.Fault.Description = *desc
			}
			return v, err
		})
		return err
	})
	return out, pg.Translate(err)
}

// ListTransitions returns a claim's state history, oldest first.
func (s *Service) ListTransitions(ctx context.Context, p tenants.Principal, id string) ([]ClaimTransition, error) {
	out := []ClaimTransition{}
	err := pg.InTenantTx(ctx, s.DB, p.TenantID, func(tx pg.TenantTx) error {
		sc, err := resolveScope(ctx, tx, p)
		if err != nil {
			return err
		}
		if _, err := getClaim(ctx, tx, sc, id, ""); err != nil {
			return err
		}
		rows, err := tx.Query(ctx, `SELECT version, from_state, to_state, reason, actor, changed_at FROM claim_state_changes
			WHERE tenant_id = $1 AND claim_id = $2 ORDER BY seq`, tx.TenantID, id)
		if err != nil {
			return err
		}
		out, err = pgx.CollectRows(rows, func(r pgx.CollectableRow) (ClaimTransition, error) {
			var t ClaimTransition
			err := r.Scan(&t.Version, &t.FromState, &t.ToState, &t.Reason, &t.Actor, &t.ChangedAt)
			return t, err
		})
		return err
	})
	return out, pg.Translate(err)
}

func checkReason(loc, reason string, required bool) error {
	n := len([]rune(strings.TrimSpace(reason)))
	if (required && n < 1) || len([]rune(reason)) > 1000 {
		return tenants.InvalidMsg(loc, i18n.M("common.length", "Min", 1, "Max", 1000), reason)
	}
	return nil
}

// act runs one action on a claim in scope: the runner locks the claim and
// checks If-Match (ifRevision > 0) and that the state admits the action
// (conflict naming the state otherwise), then fn changes it.
func (s *Service) act(ctx context.Context, p tenants.Principal, id, action string, ifRevision int, fn func(tx pg.TenantTx, c Claim) error) (Claim, error) {
	var out Claim
	err := pg.InTenantTx(ctx, s.DB, p.TenantID, func(tx pg.TenantTx) error {
		c, err := machine.Lock(ctx, tx, p, id, ifRevision, action)
		if err != nil {
			return err
		}
		if err := onClock(ctx, tx, &c); err != nil {
			return err
		}
		if err := fn(tx, c); err != nil {
			return err
		}
		out, err = getClaim(ctx, tx, scope{}, id, "")
		return err
	})
	return out, pg.Translate(err)
}

// RequestInfo asks the submitter for more information: under_review →
// needs_info with the reason. The submitter answers with ResubmitClaim.
func (s *Service) RequestInfo(ctx context.Context, p tenants.Principal, id, reason string, ifRevision int) (Claim, error) {
	if err := checkReason("reason", reason, true); err != nil {
		return Claim{}, err
	}
	return s.act(ctx, p, id, ActionRequestInfo, ifRevision, func(tx pg.TenantTx, c Claim) error {
		if _, err := tx.Exec(ctx, `UPDATE claims SET reasons = array_append(reasons, $3) WHERE tenant_id = $1 AND id = $2`,
			tx.TenantID, c.ID, "information requested: "+reason); err != nil {
			return err
		}
		return transition(ctx, tx, c, StateNeedsInfo, reason, p.Subject(), TypeNeedsInfo, nil)
	})
}

// ClaimLineAmount is a reviewer's approved amount for one line.
type ClaimLineAmount struct {
	Line     int           `json:"line" minimum:"0" maximum:"49" doc:"The line, 0-based." example:"0"`
	Approved tenants.Money `json:"approved"`
	Reason   string        `json:"reason,omitempty" maxLength:"500" doc:"Why, when it differs from the calculation." example:"labor capped at the price list"`
	// OverrideReason is the reviewer's override of the calculation.
	OverrideReason string `json:"override_reason,omitempty" maxLength:"500" doc:"Required to approve the line above its calculated amount (never above its requested amount): why the brand pays more than adjudication found owed. Recorded on the line as its override, with who approved it. Only for an amount above the calculation (422 otherwise)." example:"two technicians: the drum had to be lifted"`
}

// ApproveClaim approves an under_review claim. Each line's approved amount
// is the reviewer's when given, else the calculated amount, else (no
// calculation: the engine could not decide) the requested amount. A
// reviewer's amount is at most the line's requested amount, and at most
// its calculated amount unless it is an override (OverrideReason), which
// the line then carries with the reviewer (Override); bad amounts, an
// override_reason on a line not above its calculation and a line given
// twice are invalid at lines[i] and change nothing. OnApproved runs in the
// same transaction.
func (s *Service) ApproveClaim(ctx context.Context, p tenants.Principal, id, reason string, lines []ClaimLineAmount, ifRevision int) (Claim, error) {
	if err := checkReason("reason", reason, false); err != nil {
		return Claim{}, err
	}
	if reason == "" {
		reason = "approved by a reviewer"
	}
	var approved Claim
	_, err := s.act(ctx, p, id, ActionApprove, ifRevision, func(tx pg.TenantTx, c Claim) error {
		v := &tenants.Validation{}
		given := map[int]ClaimLineAmount{}
		for i, la := range lines {
			at := "lines[" + strconv.Itoa(i) + "]"
			switch {
			case la.Line < 0 || la.Line >= len(c.Lines):
				v.AddMsg(at+".line", i18n.M("claims.line_range", "Last", len(c.Lines)-1), la.Line)
				continue
			case la.Approved.Currency != c.TotalRequested.Currency:
				v.AddMsg(at+".approved.currency", i18n.M("claims.claim_currency", "Currency", c.TotalRequested.Currency), la.Approved.Currency)
			case la.Approved.Amount < 0 || la.Approved.Amount > c.Lines[la.Line].Requested.Amount:
				v.AddMsg(at+".approved.amount", i18n.M("claims.up_to_requested", "Requested", c.Lines[la.Line].Requested.Amount), la.Approved.Amount)
			}
			// Above the calculation (what the rules owe) only by an
			// override that says why; an override of nothing is refused.
			l, above := c.Lines[la.Line], false
			if l.Calculated != nil {
				above = la.Approved.Amount > l.Calculated.Amount
			}
			switch override := strings.TrimSpace(la.OverrideReason) != ""; {
			case above && !override && la.Approved.Amount <= l.Requested.Amount:
				v.AddMsg(at+".approved.amount", i18n.M("claims.above_calculated", "Calculated", l.Calculated.Amount,
					"Requested", l.Requested.Amount), la.Approved.Amount)
			case !above && la.OverrideReason != "":
				calc := l.Requested.Amount
				if l.Calculated != nil {
					calc = l.Calculated.Amount
				}
				v.AddMsg(at+".override_reason", i18n.M("claims.override_not_above", "Calculated", calc), la.OverrideReason)
			case len([]rune(la.OverrideReason)) > 500:
				v.AddMsg(at+".override_reason", i18n.M("common.length", "Min", 1, "Max", 500), la.OverrideReason)
			}
			if _, twice := given[la.Line]; twice {
				v.AddMsg(at+".line", i18n.M("common.duplicate"), la.Line)
			}
			given[la.Line] = la
		}
		if err := v.Err(); err != nil {
			return err
		}
		for i := range c.Lines {
			l := &c.Lines[i]
			amt := l.Requested
			why := "approved by a reviewer"
			if l.Calculated != nil {
				amt = *l.Calculated
				why = "approved as calculated"
			}
			l.Override = nil
			if la, ok := given[i]; ok {
				amt = la.Approved
				why = "approved by a reviewer"
				if la.Reason != "" {
					why = la.Reason
				}
				if l.Calculated != nil && amt.Amount > l.Calculated.Amount {
					l.Override = &LineOverride{Calculated: *l.Calculated, Reason: la.OverrideReason, By: p.Subject()}
					why = fmt.Sprintf("approved %d above the calculated %d by %s: %s", amt.Amount, l.Calculated.Amount, p.Subject(), la.OverrideReason)
				}
			}
			a := amt
			l.Approved = &a
			l.Reason = why
			l.Decision = lineDecision(amt.Amount, l.Requested.Amount)
		}
		var err error
		approved, err = s.approve(ctx, tx, c, reason, p.Subject(), nil, nil)
		return err
	})
	if err != nil {
		return Claim{}, err
	}
	return approved, nil
}

// RejectClaim rejects an under_review claim with the reason; every line's
// approved amount is zero.
func (s *Service) RejectClaim(ctx context.Context, p tenants.Principal, id, reason string, ifRevision int) (Claim, error) {
	if err := checkReason("reason", reason, true); err != nil {
		return Claim{}, err
	}
	return s.act(ctx, p, id, ActionReject, ifRevision, func(tx pg.TenantTx, c Claim) error {
		return s.reject(ctx, tx, c, reason, p.Subject())
	})
}

func (s *Service) reject(ctx context.Context, tx pg.TenantTx, c Claim, reason, actor string) error {
	b := &pgx.Batch{}
	queueSaveLines(b, tx.TenantID, rejected(c, reason))
	return s.sendReject(ctx, tx, b, c, reason, actor)
}

// rejected is c with every line approved at zero and rejected, lines
// without a reason of their own giving reason.
func rejected(c Claim, reason string) Claim {
	c.Lines = slices.Clone(c.Lines)
	for i := range c.Lines {
		l := &c.Lines[i]
		l.Approved = &tenants.Money{Amount: 0, Currency: l.Requested.Currency}
		l.Decision = DecisionRejected
		if l.Reason == "" {
			l.Reason = reason
		}
	}
	return c
}

// sendReject sends, after the statements on b (the rejected lines' save
// among them), the rejection's reason and transition with the customer's
// contact in one round trip, then tells the customer.
func (s *Service) sendReject(ctx context.Context, tx pg.TenantTx, b *pgx.Batch, c Claim, reason, actor string) error {
	// The move to rejected and the reason in one update.
	b.Queue(`UPDATE claims SET state = $3, state_reason = $4, reasons = array_append(reasons, $4),
		revision = revision + 1, updated_at = `+nowSQL("$5")+deadlineSet(StateRejected, "$5")+` WHERE tenant_id = $1 AND id = $2`,
		tx.TenantID, c.ID, StateRejected, reason, c.now)
	if err := queueTransitionRecordTx(b, tx, c, StateRejected, reason, actor, TypeRejected, nil); err != nil {
		return err
	}
	notice := queueDecidedNotice(b, tx.TenantID, c)
	if err := tx.SendBatch(ctx, b).Close(); err != nil {
		return err
	}
	return s.notifyDecided(ctx, tx, c, actor, tenants.Money{Amount: 0, Currency: c.TotalRequested.Currency}, notice)
}

// WithdrawClaim withdraws a submitted or needs_info claim.
func (s *Service) WithdrawClaim(ctx context.Context, p tenants.Principal, id, reason string, ifRevision int) (Claim, error) {
	if err := checkReason("reason", reason, false); err != nil {
		return Claim{}, err
	}
	if reason == "" {
		reason = "withdrawn by the submitter"
	}
	return s.act(ctx, p, id, ActionWithdraw, ifRevision, func(tx pg.TenantTx, c Claim) error {
		return transition(ctx, tx, c, StateWithdrawn, reason, p.Subject(), TypeWithdrawn, nil)
	})
}

// MarkPaid records that an approved claim was paid.
func (s *Service) MarkPaid(ctx context.Context, p tenants.Principal, id, reference string, ifRevision int) (Claim, error) {
	if err := checkReason("payment_reference", reference, false); err != nil {
		return Claim{}, err
	}
	reason := "paid"
	if reference != "" {
		reason = "paid: " + reference
	}
	return s.act(ctx, p, id, ActionMarkPaid, ifRevision, func(tx pg.TenantTx, c Claim) error {
		if _, err := tx.Exec(ctx, `UPDATE claims SET paid_at = `+nowSQL("$3")+` WHERE tenant_id = $1 AND id = $2`, tx.TenantID, c.ID, c.now); err != nil {
			return err
		}
		return transition(ctx, tx, c, StatePaid, reason, p.Subject(), TypePaid, nil)
	})
}

// loadPolicy reads the tenant's policy, or the defaults.
func loadPolicy(ctx context.Context, tx pg.TenantTx, currency string) (ClaimPolicy, error) {
	var pol ClaimPolicy
	b := &pgx.Batch{}
	queuePolicy(b, tx.TenantID, &pol)
	err := tx.SendBatch(ctx, b).Close()
	return pol.withCurrency(currency), err
}

// queuePolicy queues loadPolicy's read on b, into pol; the default auto-
// approval limit has no currency until the caller sets it (withCurrency).
func queuePolicy(b *pgx.Batch, tenantID string, pol *ClaimPolicy) {
	*pol = ClaimPolicy{AutoApproveLimit: tenants.Money{Amount: DefaultAutoApproveLimit},
		DuplicateWindowDays: DefaultDuplicateWindowDays, PartsMarkupCapPercent: DefaultPartsMarkupCapPercent,
		ReviewHours: DefaultReviewHours, DecisionDays: DefaultDecisionDays}
	b.Queue(`SELECT auto_approve_limit, duplicate_window_days, parts_markup_cap_percent, review_hours, decision_days
		FROM claim_policies WHERE tenant_id = $1`, tenantID).QueryRow(func(row pgx.Row) error {
		err := row.Scan(&pol.AutoApproveLimit.Amount, &pol.DuplicateWindowDays, &pol.PartsMarkupCapPercent,
			&pol.ReviewHours, &pol.DecisionDays)
		if errors.Is(err, pgx.ErrNoRows) {
			return nil
		}
		return err
	})
}

// withCurrency is pol with its amounts in the tenant's currency.
func (pol ClaimPolicy) withCurrency(currency string) ClaimPolicy {
	pol.AutoApproveLimit.Currency = currency
	return pol
}

// GetPolicy returns the tenant's adjudication policy (the defaults until set).
func (s *Service) GetPolicy(ctx context.Context, p tenants.Principal) (ClaimPolicy, error) {
	var out ClaimPolicy
	err := pg.InTenantTx(ctx, s.DB, p.TenantID, func(tx pg.TenantTx) error {
		st, err := tx.Settings(ctx)
		if err != nil {
			return err
		}
		out, err = loadPolicy(ctx, tx, st.Currency)
		return err
	})
	return out, pg.Translate(err)
}

// SetPolicy replaces the tenant's adjudication policy; it applies to claims
// adjudicated from then on, its deadlines (review_hours, decision_days: the
// defaults when zero) to claims filed from then on. Bad values are invalid
// naming the field; review_hours may not exceed decision_days in hours.
func (s *Service) SetPolicy(ctx context.Context, p tenants.Principal, in ClaimPolicy) (ClaimPolicy, error) {
	err := pg.InTenantTx(ctx, s.DB, p.TenantID, func(tx pg.TenantTx) error {
		st, err := tx.Settings(ctx)
		if err != nil {
			return err
		}
		v := &tenants.Validation{}
		tenants.CheckMoney(v, "auto_approve_limit", in.AutoApproveLimit, st.Currency)
		if in.DuplicateWindowDays < 0 || in.DuplicateWindowDays > 3650 {
			v.AddMsg("duplicate_window_days", i18n.M("common.range", "Min", 0, "Max", 3650), in.DuplicateWindowDays)
		}
		if in.PartsMarkupCapPercent < 0 || in.PartsMarkupCapPercent > 1000 {
			v.AddMsg("parts_markup_cap_percent", i18n.M("common.range", "Min", 0, "Max", 1000), in.PartsMarkupCapPercent)
		}
		if in.ReviewHours == 0 {
			in.ReviewHours = DefaultReviewHours
		}
		if in.DecisionDays == 0 {
			in.DecisionDays = DefaultDecisionDays
		}
		switch {
		case in.DecisionDays < 1 || in.DecisionDays > 365:
			v.AddMsg("decision_days", i18n.M("common.range", "Min", 1, "Max", 365), in.DecisionDays)
		case in.ReviewHours < 1 || in.ReviewHours > min(720, in.DecisionDays*24):
			v.AddMsg("review_hours", i18n.M("common.range", "Min", 1, "Max", min(720, in.DecisionDays*24)), in.ReviewHours)
		}
		if err := v.Err(); err != nil {
			return err
		}
		_, err = tx.Exec(ctx, `INSERT INTO claim_policies (tenant_id, auto_approve_limit, duplicate_window_days, parts_markup_cap_percent,
			  review_hours, decision_days)
			VALUES ($1, $2, $3, $4, $5, $6)
			ON CONFLICT (tenant_id, livemode) DO UPDATE SET auto_approve_limit = $2, duplicate_window_days = $3,
			  parts_markup_cap_percent = $4, review_hours = $5, decision_days = $6,
			  version = claim_policies.version + 1, updated_at = now()`,
			tx.TenantID, in.AutoApproveLimit.Amount, in.DuplicateWindowDays, in.PartsMarkupCapPercent, in.ReviewHours, in.DecisionDays)
		return err
	})
	return in, pg.Translate(err)
}
