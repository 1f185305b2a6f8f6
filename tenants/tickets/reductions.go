package tickets

import (
	"context"
	"slices"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/servicenet/servicenet/internal/i18n"
	"github.com/servicenet/servicenet/internal/pg"
	"github.com/servicenet/servicenet/tenants"
	"github.com/servicenet/servicenet/tenants/customers"
	"github.com/servicenet/servicenet/tenants/warranty/entitlement"
)

// ActChargesReduced is the action (POST /v1/tickets/{id}/reduce-charges,
// timeline entry and ticket.charges_reduced event) of a reduction of the
// customer's charges the centre approved, directly or by upholding a fee
// complaint (ReduceChargesTx).
const ActChargesReduced Action = "charges_reduced"

// ReductionLines are the line kinds a reduction may name: the service's
// charges (labour, parts, the visit fee, other), not a plan's swap fee,
// which is no charge of the service (promiseWaives).
var ReductionLines = []string{entitlement.LineLabor, entitlement.LinePart, entitlement.LineVisit, entitlement.LineOther}

// Reduction is what the centre takes off the customer's charges for a
// ticket's service: named lines or an amount, exactly one.
type Reduction struct {
	Amount *tenants.Money `json:"amount,omitempty" doc:"An amount off the customer's charges (> 0, in the charges' currency), taken from the service's lines in their order; never more than the customer pays for the service after the earlier reductions and waivers (422 at amount.amount, nothing changed). Either amount or lines (422 at lines with both, at amount with neither)."`
	Lines  []string       `json:"lines,omitempty" enum:"labor,part,visit,other" doc:"The lines the customer no longer pays, by kind (减免上门费: visit): what the customer pays on each is taken off whole. A line the customer does not pay (or no longer pays: an earlier reduction took it) is 422 at lines[i], nothing changed." example:"[\"visit\"]"`
}

// ReduceChargesInput is the centre's reduction of a ticket's charges.
type ReduceChargesInput struct {
	Reduction
	Reason string `json:"reason" minLength:"1" maxLength:"500" doc:"The centre's decision and why (seed 000: 根据中心批示处理): kept with the reduction, on the timeline, the event and the refund's reason." example:"中心批示：客户坚持，减免上门费"`
}

// ChargeReduction is a reduction of the customer's charges the centre
// approved, as the ticket (and the completion that applied it) keeps it.
// The brand bears it: a goodwill reduction decided for the brand.
type ChargeReduction struct {
	Amount         tenants.Money `json:"amount" doc:"What it takes off the customer's charges, the brand paying it instead: before it applies, the amount approved or what the named lines cost the customer at the diagnosis; once applied, what moved on the completion's lines (no more than the customer paid)."`
	Lines          []string      `json:"lines,omitempty" enum:"labor,part,visit,other" doc:"The lines it takes off whole, when it named lines rather than an amount." example:"[\"visit\"]"`
	Reason         string        `json:"reason" doc:"The centre's decision and why." example:"中心批示：客户坚持，减免上门费"`
	ApprovedBy     string        `json:"approved_by" doc:"The API key that approved it (the centre: a dispatcher, call-centre agent or the tenant admin), or that resolved the fee complaint carrying it." example:"key_01jd3zq8w6v7t3y2k9x4n5m6pa"`
	ApprovedAt     time.Time     `json:"approved_at" example:"2026-12-01T10:00:00+08:00"`
	Source         string        `json:"source,omitempty" doc:"The fee complaint whose upheld resolution carried it; absent for a reduction approved on the ticket." example:"cmp_01jd3zq8w6v7t3y2k9x4n5m6pz"`
	AppliedAt      *time.Time    `json:"applied_at,omitempty" doc:"When it applied to a completion's charges: at once when the ticket had a settled completion, else at the completion; absent while it waits for the completion." example:"2026-12-01T10:30:00+08:00"`
	RefundPayoutID *string       `json:"refund_payout_id,omitempty" doc:"The payout refunding the customer what it took off charges already settled, owed by the brand." example:"pay_01jd3zq8w6v7t3y2k9x4n5m6pb"`
	Taken          []ReducedLine `json:"taken,omitempty" doc:"Once applied, what it took off each of the completion's lines, in their order (a line it took nothing from is absent): together its amount. One the completion applied (approved before it, not refunded) is owed to the node by the brand: a claim for the ticket's repair is owed it line by line."`
}

// ReducedLine is what a reduction took off one of a completion's lines,
// moving it from the customer's share to the brand's.
type ReducedLine struct {
	Kind   string        `json:"kind" enum:"labor,part,visit,other" doc:"The line's kind." example:"visit"`
	Code   string        `json:"code,omitempty" doc:"The part number, on a part line." example:"WM-PUMP-01"`
	Amount tenants.Money `json:"amount" doc:"What moved to the brand."`
}

// RefundFunc schedules, in the caller's transaction, the refund to the
// customer of unitID of a charge the customer had paid and no longer
// owes, owed by the brand, and returns the payout's id
// (payouts.Service.RefundWaivedCharge); clock is the ticket's test clock.
type RefundFunc func(ctx context.Context, tx pg.TenantTx, unitID string, clock *string, amount tenants.Money, reason, source string) (string, error)

// Check refuses a malformed reduction before anything is read: amount
// and lines together (at lines) or neither (at amount), a line kind that
// is not a service charge or named twice (at lines[i]).
func (r Reduction) Check() error {
	switch {
	case r.Amount != nil && len(r.Lines) > 0:
		return tenants.InvalidMsg("lines", i18n.M("tickets.reduction_amount_or_lines"), r.Lines)
	case r.Amount == nil && len(r.Lines) == 0:
		return tenants.InvalidMsg("amount", i18n.M("tickets.reduction_amount_or_lines"), nil)
	}
	v := &tenants.Validation{}
	for i, k := range r.Lines {
		loc := "lines[" + itoa(i) + "]"
		switch {
		case !slices.Contains(ReductionLines, k):
			v.AddMsg(loc, i18n.M("common.one_of", "Values", strings.Join(ReductionLines, ", ")), k)
		case slices.Index(r.Lines, k) < i:
			v.AddMsg(loc, i18n.M("tickets.reduction_line_twice"), k)
		}
	}
	if r.Amount != nil && r.Amount.Amount <= 0 {
		v.AddMsg("amount.amount", i18n.M("common.must_be_positive"), r.Amount.Amount)
	}
	return v.Err()
}

// ReducedCharges is what approving a reduction changed.
type ReducedCharges struct {
	// Reduction is the reduction as the ticket keeps it.
	Reduction ChargeReduction
	// Refund is what the customer had paid and is refunded (zero when
	// the reduction waits for the completion).
	Refund tenants.Money
}

// ReduceCharges records the centre's reduction of the customer's charges
// on a ticket (seed 000, 五.4: 如果用户一再坚持则将信息处理结果报回中心,根据
// 中心批示处理), borne by the brand, as one action (If-Match, timeline,
// ticket.charges_reduced): see reduceCharges for what it applies and
// refuses. Only the centre's keys hold the permission (the
// transition's); the technician on site promises nothing.
func (s *Service) ReduceCharges(ctx context.Context, p tenants.Principal, id string, in ReduceChargesInput, ifVersion int) (Ticket, error) {
	if err := in.Check(); err != nil {
		return Ticket{}, err
	}
	if strings.TrimSpace(in.Reason) == "" {
		return Ticket{}, tenants.InvalidMsg("reason", i18n.M("common.required"), in.Reason)
	}
	return s.act(ctx, p, id, ifVersion, ActChargesReduced, func(c *change) error {
		reason, detail, data, _, err := reduceCharges(ctx, c.tx, c.T, in.Reduction, in.Reason, c.p.Subject(), "", c.now,
			s.payouts.RefundWaivedCharge)
		if err != nil {
			return err
		}
		c.note(reason, detail)
		for k, v := range data {
			c.data[k] = v
		}
		return nil
	})
}

// ReduceChargesTx records, in the caller's transaction, the reduction an
// upheld fee complaint (source) carries, approved by actor, exactly as
// ReduceCharges does (reduceCharges), refunding through refund. A ticket
// that does not exist is not found.
func ReduceChargesTx(ctx context.Context, tx pg.TenantTx, actor, ticketID, source string, r Reduction, reason string, refund RefundFunc, now time.Time) (ReducedCharges, error) {
	if err := r.Check(); err != nil {
		return ReducedCharges{}, err
	}
	t, err := getTicket(ctx, tx, scope{}, ticketID, "FOR UPDATE OF t")
	if err != nil {
		return ReducedCharges{}, err
	}
	note, detail, data, out, err := reduceCharges(ctx, tx, &t, r, reason, actor, source, now, refund)
	if err != nil {
		return ReducedCharges{}, err
	}
	b := &pgx.Batch{}
	queueSave(b, tx.TenantID, &t, false)
	ev := ticketEventData(&t, t.State, t.State)
	for k, v := range data {
		ev[k] = v
	}
	if err := queueTrail(b, tx, t.ID, []step{{action: ActChargesReduced, from: t.State, to: t.State, reason: note, detail: detail}},
		actor, now, ev); err != nil {
		return ReducedCharges{}, err
	}
	return out, tx.SendBatch(ctx, b).Close()
}

// reduceCharges applies the centre's reduction r of the customer's
// charges to the locked ticket t (not saved) and returns the timeline
// entry's reason and detail and the event's data. The brand bears it
// (a goodwill reduction decided for the brand).
//
// On a ticket with a settled completion (completed or closed, or reopened
// or cancelled after one) it applies at once: what it takes off the
// customer's lines moves to the brand, the completion's reductions name
// it with who approved it, the unit's service history is settled at the
// new amount, and what the customer had paid is refunded as one payout
// owed by the brand (refund). On one diagnosed and not yet completed it
// waits on the ticket and the completion applies it (nothing is paid, so
// nothing is refunded); a later round of a reopened ticket is decided
// afresh, without the reductions an earlier completion applied.
//
// It is refused, nothing changed: on a ticket whose charges are not known
// yet (never diagnosed, or cancelled before a completion) as a conflict;
// an amount beyond what the customer pays for the service (its lines
// after the waivers and the earlier reductions; the plan's swap fee is
// no charge of the service) at amount.amount, a currency other than the
// charges' at amount.currency, a line the customer does not pay at
// lines[i], all 422.
func reduceCharges(ctx context.Context, tx pg.TenantTx, t *Ticket, r Reduction, reason, actor, source string, now time.Time,
	refund RefundFunc) (string, map[string]any, map[string]any, ReducedCharges, error) {
	var out ReducedCharges
	charges, settled := t.chargesToReduce()
	if charges == nil {
		return "", nil, nil, out, tenants.ErrorMsg(tenants.CodeConflict, i18n.M("tickets.reduction_no_charges", "Ticket", t.Number))
	}
	if err := charges.checkReduction(r); err != nil {
		return "", nil, nil, out, err
	}
	currency := charges.Totals.Customer.Currency
	moved, taken := charges.reduce(r)
	red := ChargeReduction{Amount: tenants.Money{Amount: moved, Currency: currency}, Lines: r.Lines,
		Reason: reason, ApprovedBy: actor, ApprovedAt: now, Source: source}
	note := "the centre reduced the customer's charges by " + red.Amount.Text() + ", the brand pays it: " + reason
	detail := map[string]any{"reduction": red.Amount}
	data := map[string]any{"reduction": red.Amount, "approved_by": actor}
	if source != "" {
		detail["source"], data["source"] = source, source
	}
	if len(r.Lines) > 0 {
		detail["lines"], data["reduced_lines"] = r.Lines, r.Lines
	}
	if !settled {
		note += "; the completion applies it"
		detail["applies_at"], data["applies_at"] = "completion", "completion"
	} else {
		// charges.reduce above moved the settled completion's lines
		at := now
		red.AppliedAt, red.Taken = &at, taken
		comp := t.Completion
		total := comp.Totals.Customer
		t.CustomerTotal = &total
		if t.UnitID != nil && red.Amount.Amount > 0 {
			// the unit's history: what the customer finally paid
			if err := customers.SettleServiceTx(ctx, tx, *t.UnitID, t.Number, total); err != nil {
				return "", nil, nil, out, err
			}
			why := "refund: charges reduced by the centre, the brand pays them; " + reason
			if source != "" {
				why += " (complaint " + source + ")"
			}
			pid, err := refund(ctx, tx, *t.UnitID, t.TestClockID, red.Amount, why, firstOf(source, actor))
			if err != nil {
				return "", nil, nil, out, err
			}
			red.RefundPayoutID, out.Refund = &pid, red.Amount
			detail["refund_payout_id"], data["refund_payout_id"] = pid, pid
			data["refund"] = red.Amount
			note += "; the customer's " + red.Amount.Text() + " is refunded"
		}
		comp.Reductions = append(comp.Reductions, red)
		comp.Trace = append(comp.Trace, reductionTrace(red))
		detail["totals"], data["customer_total"] = comp.Totals, total
	}
	t.ChargeReductions = append(t.ChargeReductions, red)
	out.Reduction = red
	return note, detail, data, out, nil
}

// chargesToReduce is what the customer pays for the ticket's service, as
// a completion whose lines a reduction may take from: the settled
// completion itself (settled), else a copy of the diagnosis's decision
// with the reductions waiting for the completion applied. nil: no charges
// known (never diagnosed, or cancelled before a completion).
func (t *Ticket) chargesToReduce() (*Completion, bool) {
	if t.Completion != nil {
		return t.Completion, true
	}
	if t.State == StateCancelled || t.Entitlement == nil {
		return nil, false
	}
	d := t.Entitlement.Decision
	pending := &Completion{Lines: slices.Clone(d.Lines), Totals: d.Totals}
	for _, r := range t.ChargeReductions {
		if r.AppliedAt == nil {
			pending.reduce(r.reduction())
		}
	}
	return pending, false
}

// checkReduction refuses a reduction of comp's customer charges beyond
// them (reduce does not change comp): an amount above what the customer
// pays on the service's lines or in another currency, a line the
// customer does not pay.
func (comp *Completion) checkReduction(r Reduction) error {
	var payable int64
	for _, l := range comp.Lines {
		if promiseWaives(l) {
			payable += l.CustomerPays.Amount
		}
	}
	currency := comp.Totals.Customer.Currency
	v := &tenants.Validation{}
	if r.Amount != nil {
		if r.Amount.Currency != currency {
			v.AddMsg("amount.currency", i18n.M("tickets.reduction_currency", "Currency", currency), r.Amount.Currency)
		} else if r.Amount.Amount > payable {
			v.AddMsg("amount.amount", i18n.M("tickets.reduction_beyond_charges",
				"Payable", tenants.Money{Amount: payable, Currency: currency}.Text()), r.Amount.Amount)
		}
	}
	for i, k := range r.Lines {
		if !slices.ContainsFunc(comp.Lines, func(l entitlement.Charge) bool {
			return l.Kind == k && promiseWaives(l) && l.CustomerPays.Amount > 0
		}) {
			v.AddMsg("lines["+itoa(i)+"]", i18n.M("tickets.reduction_line_not_charged"), k)
		}
	}
	return v.Err()
}

// reduce takes what r names off comp's customer lines and gives it to the
// brand (moveToBrand): the named lines whole, or the amount from the
// service's lines in their order. It returns what moved, in all and by
// line (the lines it took something from, in their order).
func (comp *Completion) reduce(r Reduction) (int64, []ReducedLine) {
	take := func(l entitlement.Charge) int64 {
		if slices.Contains(r.Lines, l.Kind) {
			return l.CustomerPays.Amount
		}
		return 0
	}
	if r.Amount != nil {
		left := r.Amount.Amount
		take = func(l entitlement.Charge) int64 {
			n := min(left, l.CustomerPays.Amount)
			left -= n
			return n
		}
	}
	var taken []ReducedLine
	moved := comp.moveToBrand(func(l entitlement.Charge) int64 {
		n := take(l)
		if n > 0 {
			taken = append(taken, ReducedLine{Kind: l.Kind, Code: l.Code, Amount: tenants.Money{Amount: n, Currency: l.CustomerPays.Currency}})
		}
		return n
	})
	return moved, taken
}

// reduction is what a kept reduction takes off a completion: its lines,
// else its amount.
func (r ChargeReduction) reduction() Reduction {
	if len(r.Lines) > 0 {
		return Reduction{Lines: r.Lines}
	}
	amount := r.Amount
	return Reduction{Amount: &amount}
}

// applyReductions applies to a new completion the reductions the ticket
// waits with (approved before it): each moves its share of the
// customer's lines to the brand, is kept as applied with what moved (in
// all and by line: what a claim for the repair is owed, reducedForClaims),
// and is named in the completion's reductions and trace.
func (t *Ticket) applyReductions(comp *Completion, now time.Time) {
	cloned := false
	for i := range t.ChargeReductions {
		r := &t.ChargeReductions[i]
		if r.AppliedAt != nil {
			continue
		}
		if !cloned {
			// the decision's lines are the entitlement's too
			comp.Lines, cloned = slices.Clone(comp.Lines), true
		}
		r.Amount.Amount, r.Taken = comp.reduce(r.reduction())
		at := now
		r.AppliedAt = &at
		comp.Reductions = append(comp.Reductions, *r)
		comp.Trace = append(comp.Trace, reductionTrace(*r))
	}
}

// reducedInAll is what the reductions comp applied took off the
// customer's charges in all; nil when it applied none.
func (comp *Completion) reducedInAll() *tenants.Money {
	if len(comp.Reductions) == 0 {
		return nil
	}
	sum := tenants.Money{Currency: comp.Totals.Customer.Currency}
	for _, r := range comp.Reductions {
		sum.Amount += r.Amount.Amount
	}
	return &sum
}

// reductionTrace is the trace entry of a reduction applied to a
// completion.
func reductionTrace(r ChargeReduction) entitlement.TraceEntry {
	reason := "the centre reduced the customer's charges by " + r.Amount.Text() + " (approved by " + r.ApprovedBy
	if r.Source != "" {
		reason += ", fee complaint " + r.Source + " upheld"
	}
	return entitlement.TraceEntry{Rule: "centre.charge_reduction", Applied: true, Reason: reason + "): the brand pays it; " + r.Reason}
}

// firstOf is a, else b.
func firstOf(a, b string) string {
	if a != "" {
		return a
	}
	return b
}
