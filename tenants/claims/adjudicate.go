package claims

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/servicenet/servicenet/internal/pg"
	"github.com/servicenet/servicenet/tenants"
	"github.com/servicenet/servicenet/tenants/events"
	"github.com/servicenet/servicenet/tenants/warranty"
	"github.com/servicenet/servicenet/tenants/warranty/entitlement"
)

// Adjudicate runs the adjudication of a claim's version, in one
// transaction: submitted → under_review, the entitlement engine on the
// unit, fault and date with the claim's lines as the quote (per-line
// calculated amounts: what the brand or plan owes), the checks (duplicate
// claim for the same unit and fault cause within the policy's window,
// purchase date after the unit's registration, the serial registered to
// another model too, parts that do not fit the
// model, parts above the markup cap), then an automatic decision: approved
// (approved = calculated) when nothing is flagged and the calculated total
// is within the policy's limit; rejected when the customer pays everything;
// else left under_review with the reasons. It is idempotent: a version that
// is no longer current, or a claim no longer submitted, is left alone.
// An unknown claim is not_found.
func (s *Service) Adjudicate(ctx context.Context, tenantID, claimID string, version int) error {
	err := pg.InTenantTx(ctx, s.DB, tenantID, func(tx pg.TenantTx) error {
		c, err := getClaim(ctx, tx, scope{}, claimID, "FOR UPDATE OF c")
		if err != nil {
			return err
		}
		if c.Version != version || c.State != StateSubmitted {
			return nil // already adjudicated, resubmitted since, or withdrawn
		}
		if err := transition(ctx, tx, c, StateUnderReview, "adjudicating version "+strconv.Itoa(version), "system", TypeUnderReview, nil); err != nil {
			return err
		}
		c.State = StateUnderReview
		return s.adjudicate(ctx, tx, c)
	})
	return pg.Translate(err)
}

func (s *Service) adjudicate(ctx context.Context, tx pg.TenantTx, c Claim) error {
	r, err := warranty.LoadUnitRecords(ctx, tx, tenants.Principal{TenantID: tx.TenantID}, c.UnitID)
	if err != nil {
		return err
	}
	cur := r.Settings.Currency
	var flags []ClaimFlag
	var reasons []string
	flag := func(code string, line int, detail string) {
		f := ClaimFlag{Code: code, Detail: detail}
		if line >= 0 {
			l := line
			f.Line = &l
		}
		flags = append(flags, f)
	}

	// One round trip for what the checks read beside the unit's records:
	// the policy, the duplicates, the serial under another model, the
	// parts and their price-list prices.
	var ids []string
	for _, l := range c.Lines {
		if l.Kind == LinePart && l.PartID != "" {
			ids = append(ids, l.PartID)
		}
	}
	type dup struct{ id, on string }
	var (
		pol             ClaimPolicy
		dups            []dup
		serialElsewhere bool
		parts           map[string]partRow
		listPrices      map[string]int64
	)
	b := &pgx.Batch{}
	queuePolicy(b, tx.TenantID, cur, &pol)
	// Duplicate: another live claim for the same unit and fault cause
	// within the window (the policy's, read in the same statement).
	b.Queue(`SELECT c.id, to_char(c.occurred_on, 'YYYY-MM-DD')
		FROM claims c, (SELECT coalesce((SELECT duplicate_window_days FROM claim_policies WHERE tenant_id = $1), $6::int) AS days) w
		WHERE c.tenant_id = $1 AND c.unit_id = $2 AND c.fault_cause = $3 AND c.id <> $4 AND c.state NOT IN ('rejected', 'withdrawn')
		  AND c.occurred_on BETWEEN $5::date - w.days AND $5::date + w.days
		ORDER BY c.id LIMIT 5`, tx.TenantID, c.UnitID, c.Fault.Cause, c.ID, c.OccurredOn, DefaultDuplicateWindowDays).
		Query(func(rows pgx.Rows) error {
			var err error
			dups, err = pgx.CollectRows(rows, func(r pgx.CollectableRow) (dup, error) {
				var d dup
				err := r.Scan(&d.id, &d.on)
				return d, err
			})
			return err
		})
	// Serial vs model: the serial registered to another model too.
	b.Queue(`SELECT EXISTS (SELECT FROM units WHERE tenant_id = $1 AND serial = $2 AND model_id <> $3)`,
		tx.TenantID, r.Unit.Serial, r.Unit.ModelID).QueryRow(func(row pgx.Row) error { return row.Scan(&serialElsewhere) })
	// Parts: fit and markup cap against the price list on the date.
	queueModelParts(b, tx.TenantID, r.Unit.ModelID, ids, &parts)
	queuePartListPrices(b, tx.TenantID, c.OccurredOn, ids, &listPrices)
	if err := tx.SendBatch(ctx, b).Close(); err != nil {
		return err
	}

	for _, d := range dups {
		flag("duplicate", -1, fmt.Sprintf("claim %s for the same unit and fault cause (%s) on %s, within %d days", d.id, c.Fault.Cause, d.on, pol.DuplicateWindowDays))
	}

	// Purchase date vs registration.
	if registered := r.Unit.CreatedAt.In(r.Settings.Location).Format(time.DateOnly); r.Unit.PurchaseDate > registered {
		flag("purchase_after_registration", -1, "the unit's purchase date "+r.Unit.PurchaseDate+" is after its registration on "+registered)
	}

	if serialElsewhere {
		flag("serial_model_mismatch", -1, "serial "+r.Unit.Serial+" is also registered to another model than "+r.Model.ModelNumber)
	}

	quote := entitlement.Quote{Lines: make([]entitlement.QuoteLine, len(c.Lines))}
	for i, l := range c.Lines {
		amount := l.Requested.Amount
		ql := entitlement.QuoteLine{Kind: l.Kind, Description: l.Description}
		if l.Kind == LinePart {
			p, ok := parts[l.PartID]
			switch {
			case !ok:
				flag("part_incompatible", i, "part "+l.PartID+" no longer exists")
			case !p.fits:
				flag("part_incompatible", i, "part "+p.number+" does not fit model "+r.Model.ModelNumber)
			}
			ql.Code, ql.PartCategory = p.number, p.category
			list, listed := listPrices[l.PartID]
			if !listed {
				list = p.price
			}
			capped := (list*int64(l.Quantity)*int64(100+pol.PartsMarkupCapPercent) + 50) / 100
			if ok && amount > capped {
				flag("markup_above_cap", i, fmt.Sprintf("part %s asks %d for %d, above the price list's %d each plus %d%% (at most %d)",
					p.number, amount, l.Quantity, list, pol.PartsMarkupCapPercent, capped))
				amount = capped
			}
		}
		ql.Amount = tenants.Money{Amount: amount, Currency: cur}
		quote.Lines[i] = ql
	}

	// The entitlement engine.
	in := engineInput(r, c, quote)
	d, err := entitlement.Decide(in)
	if err != nil {
		var te *tenants.Error
		if !errors.As(err, &te) {
			return err
		}
		reasons = append(reasons, "the entitlement engine cannot decide: "+te.Error())
		return settle(ctx, tx, c, flags, reasons, nil)
	}
	dec := &ClaimDecision{Basis: d.Basis, ContractID: d.ContractID, Remedy: d.Remedy, Compensation: d.Compensation}
	repair := d.Remedy == entitlement.RemedyRepair && len(d.Lines) == len(c.Lines)
	if !repair && d.Remedy != entitlement.RemedyNone {
		flag("not_repair", -1, "the engine selects "+string(d.Remedy)+" under "+string(d.Basis)+", not a repair: a person decides")
	}
	var calcTotal int64
	for i := range c.Lines {
		l := &c.Lines[i]
		var owed int64
		if repair {
			owed = d.Lines[i].BrandPays.Amount + d.Lines[i].PlanPays.Amount
		}
		calc := tenants.Money{Amount: owed, Currency: cur}
		l.Calculated = &calc
		calcTotal += owed
		switch {
		case owed == l.Requested.Amount:
			l.Reason = string(d.Basis) + ": owed in full"
		case owed == 0:
			l.Reason = string(d.Basis) + ": the customer pays this line"
		default:
			l.Reason = fmt.Sprintf("%s: %d of the %d requested is owed", d.Basis, owed, l.Requested.Amount)
		}
	}
	c.Decision = dec

	switch {
	case calcTotal == 0 && (repair || d.Remedy == entitlement.RemedyNone):
		reason := "auto-rejected: nothing is owed (" + string(d.Basis) + "): " + appliedReason(d)
		c.Flags, c.Reasons = orEmpty(flags), append(reasons, reason)
		if err := storeAdjudication(ctx, tx, c); err != nil {
			return err
		}
		if err := flagged(ctx, tx, c); err != nil {
			return err
		}
		return s.reject(ctx, tx, c, reason, "system")
	case len(flags) == 0 && calcTotal <= pol.AutoApproveLimit.Amount:
		for i := range c.Lines {
			l := &c.Lines[i]
			a := *l.Calculated
			l.Approved = &a
			switch {
			case a.Amount == l.Requested.Amount:
				l.Decision = DecisionApproved
			case a.Amount == 0:
				l.Decision = DecisionRejected
			default:
				l.Decision = DecisionPartlyApproved
			}
		}
		c.Flags, c.Reasons = []ClaimFlag{}, reasons
		if err := storeAdjudication(ctx, tx, c); err != nil {
			return err
		}
		_, err := s.approve(ctx, tx, c, fmt.Sprintf("auto-approved: %s, nothing flagged, %d within the limit of %d", d.Basis, calcTotal, pol.AutoApproveLimit.Amount), "system")
		return err
	}
	if calcTotal > pol.AutoApproveLimit.Amount {
		reasons = append(reasons, fmt.Sprintf("the calculated total %d is above the auto-approval limit %d", calcTotal, pol.AutoApproveLimit.Amount))
	}
	return settle(ctx, tx, c, flags, reasons, dec)
}

// settle leaves c under review for a person, with its flags and reasons.
func settle(ctx context.Context, tx pg.TenantTx, c Claim, flags []ClaimFlag, reasons []string, dec *ClaimDecision) error {
	for _, f := range flags {
		reasons = append(reasons, "flagged "+f.Code+": "+f.Detail)
	}
	c.Flags, c.Reasons, c.Decision = orEmpty(flags), append(reasons, "left for a reviewer"), dec
	if err := storeAdjudication(ctx, tx, c); err != nil {
		return err
	}
	return flagged(ctx, tx, c)
}

func orEmpty(f []ClaimFlag) []ClaimFlag {
	if f == nil {
		return []ClaimFlag{}
	}
	return f
}

func storeAdjudication(ctx context.Context, tx pg.TenantTx, c Claim) error {
	if err := saveLines(ctx, tx, c, true); err != nil {
		return err
	}
	if c.Reasons == nil {
		c.Reasons = []string{}
	}
	_, err := tx.Exec(ctx, `UPDATE claims SET flags = $3, reasons = $4, decision = $5, revision = revision + 1, updated_at = now()
		WHERE tenant_id = $1 AND id = $2`, tx.TenantID, c.ID, c.Flags, c.Reasons, c.Decision)
	return err
}

// flagged appends claim.flagged when adjudication raised flags.
func flagged(ctx context.Context, tx pg.TenantTx, c Claim) error {
	if len(c.Flags) == 0 {
		return nil
	}
	codes := make([]string, 0, len(c.Flags))
	for _, f := range c.Flags {
		if !slices.Contains(codes, f.Code) {
			codes = append(codes, f.Code)
		}
	}
	return events.Append(ctx, tx, events.New{Type: TypeFlagged, SubjectID: c.ID, Actor: "system",
		Data: eventData(c, nil, c.State, "flagged: "+strings.Join(codes, ", "), map[string]any{"flags": c.Flags})})
}

// appliedReason is the engine's reason for its basis: the last rule that
// applied before the selection.
func appliedReason(d entitlement.Decision) string {
	why := ""
	for _, t := range d.Trace {
		if t.Applied && t.Rule != "selection" && !strings.HasPrefix(t.Rule, "R2.lower") {
			why = t.Reason
			if strings.HasPrefix(t.Rule, "R1.never_free") {
				break
			}
		}
	}
	if why == "" {
		return "no warranty or plan covers the fault"
	}
	return why
}

// queuePartListPrices queues on b the read of the price-list prices of
// parts on a date, into out: the price list version's override, else
// absent (the part's own price applies).
func queuePartListPrices(b *pgx.Batch, tenantID, on string, ids []string, out *map[string]int64) {
	*out = map[string]int64{}
	if len(ids) == 0 {
		return
	}
	b.Queue(`SELECT pp.part_id, pp.price FROM price_list_parts pp
		WHERE pp.tenant_id = $1 AND pp.part_id = ANY($3::text[]) AND pp.price_list_id = (
			SELECT pl.id FROM price_lists pl WHERE pl.tenant_id = $1 AND pl.effective_from <= $2::date
			ORDER BY pl.effective_from DESC LIMIT 1)`, tenantID, on, ids).Query(func(rows pgx.Rows) error {
		for rows.Next() {
			var id string
			var price int64
			if err := rows.Scan(&id, &price); err != nil {
				return err
			}
			(*out)[id] = price
		}
		return rows.Err()
	})
}

// engineInput builds the engine's input from the unit's records. (The
// warranty package's own converters are unexported; these mirror them.)
func engineInput(r warranty.UnitRecords, c Claim, quote entitlement.Quote) entitlement.Input {
	purchase, _ := time.Parse(time.DateOnly, r.Unit.PurchaseDate)
	date, _ := time.Parse(time.DateOnly, c.OccurredOn)
	in := entitlement.Input{Unit: warranty.EngineUnit(r.Unit, r.Model, purchase), Date: date, Quote: quote,
		RequestedRemedy: entitlement.RemedyRepair,
		Fault:           entitlement.Fault{Cause: entitlement.Cause(c.Fault.Cause), PartCategories: c.Fault.PartCategories, Repairable: true}}
	for _, ct := range r.Contracts {
		if c.ContractID != nil && ct.ID != *c.ContractID && string(ct.Plan.Kind) == string(c.Kind) {
			continue // the claim names its contract of this kind
		}
		in.Contracts = append(in.Contracts, warranty.EngineContract(ct))
	}
	for _, h := range r.History {
		if c.ServiceRecordID != nil && h.ID == *c.ServiceRecordID {
			continue // the repair this claim is for is not an earlier one
		}
		if rep, ok := warranty.EngineRepair(h); ok {
			in.History = append(in.History, rep)
		}
	}
	return in
}
