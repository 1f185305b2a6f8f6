package swaps

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/servicenet/servicenet/internal/pg"
	"github.com/servicenet/servicenet/tenants"
	"github.com/servicenet/servicenet/tenants/catalog"
	"github.com/servicenet/servicenet/tenants/customers"
	"github.com/servicenet/servicenet/tenants/testclocks"
	"github.com/servicenet/servicenet/tenants/warranty"
	"github.com/servicenet/servicenet/tenants/warranty/entitlement"
)

// Fee is a swap's depreciation fee under a plan's terms (rules 5-7) for a
// unit bought on purchase, swapped on on, exactly as the entitlement engine
// prices the plan's swap remedy (entitlement.SwapFee: flat fee, else the
// depreciation schedule by month of ownership, else the cap, else the
// kind's default; accidental-damage and no-reason plans are never free).
// Without a plan (statutory or manufacturer exchange) there is no fee. It
// returns the fee in minor units and the rule, readable; ok is false when
// there is no fee to give: the plan sets none and the seed's default is a
// CNY amount while the unit was bought (price) in another currency (a
// person sets it).
func Fee(plan *warranty.Plan, category string, price tenants.Money, purchase, on time.Time) (fee int64, rule string, ok bool) {
	if plan == nil {
		return 0, "no plan: a statutory or manufacturer exchange carries no fee", true
	}
	fee, why, ok := entitlement.SwapFee(string(plan.Kind), warranty.EngineTerms(*plan), category, price, purchase, on)
	return fee, string(plan.Kind) + " plan: " + why, ok
}

// ReasonStatutoryExchange is the reason of a swap the three guarantees
// owe (rule 1): it carries no plan's fee.
const ReasonStatutoryExchange = "statutory_exchange"

// ReasonNoReasonExchange is the reason of a seven-day change-of-mind
// exchange (rule 9, 七天无理由退换货): owed without any plan, like the
// statutory exchange, and free (the buyer pays the freight, outside the
// swap).
const ReasonNoReasonExchange = "no_reason_exchange"

// withoutPlan reports whether a swap for reason is owed without any plan:
// it uses no plan's benefit and carries no plan's fee.
func withoutPlan(reason string) bool {
	return reason == ReasonStatutoryExchange || reason == ReasonNoReasonExchange
}

// replacementCeiling is the most a replacement model other than the
// unit's own may cost (rule 6; seed: 新机的价格不超过原产品的购买价格):
// the unit's purchase price, else (none recorded, or only the retail price
// assumed at intake) its model's retail price; of names which.
func replacementCeiling(u customers.Unit, m catalog.ProductModel) (ceiling int64, of string) {
	if u.PurchasePrice.Amount > 0 && u.PurchasePriceSource != customers.PriceModelRetail {
		return u.PurchasePrice.Amount, "purchase price"
	}
	return m.RetailPrice.Amount, "retail price"
}

// clip is a swap's state_reason, at most 500 characters (the step keeps
// the whole reason).
func clip(reason string) string {
	if r := []rune(reason); len(r) > 500 {
		return string(r[:499]) + "…"
	}
	return reason
}

func major(m int64) string { return fmt.Sprintf("%d.%02d", m/100, m%100) }

// owedExchange is what exchangeOwed found: the basis owing a free
// exchange (empty: none), judged on day on, day day of ownership, for a
// fault of cause.
type owedExchange struct {
	basis           entitlement.Basis
	on, cause, ends string
	day             int
}

// why says, readable, why no free exchange is owed.
func (o owedExchange) why() string {
	return fmt.Sprintf("on %s (day %d; the manufacturer warranty ends %s) neither the three guarantees nor the warranty owes a free exchange for a %s fault",
		o.on, o.day, o.ends, o.cause)
}

// exchangeOwed asks the entitlement engine whether anything but a plan owes
// the owner of unitID a free exchange on the day of at (the swap's time):
// the three guarantees (rule 1: within 15 days, or repaired twice within
// the warranty and still faulty), the manufacturer warranty (an
// unrepairable performance fault within it), delivery damage, or the
// seven-day change of mind (rule 9). It judges a swap asked for reason with
// the fault's cause (a performance fault when the request gave none; a
// change of mind for no_reason_exchange, the unit taken as resaleable): a
// swap because the unit cannot be repaired is judged unrepairable, one
// asked as a statutory or plan swap repairable (the law's exchange does
// not need it; the warranty then owes a repair, not a new unit).
func exchangeOwed(ctx context.Context, tx pg.TenantTx, unitID, reason string, cause *string, at time.Time) (owedExchange, error) {
	repairable := reason != "unrepairable" && reason != "repair_cost_above_retail"
	f, what := warranty.FaultReport{Cause: string(entitlement.CausePerformance), Repairable: &repairable}, ""
	if cause != nil {
		f.Cause = *cause
	}
	if what = f.Cause; reason == ReasonNoReasonExchange {
		f, what = warranty.FaultReport{ChangeOfMind: true, Resaleable: true}, "change-of-mind"
	}
	e, err := warranty.DecideSystemTx(ctx, tx, warranty.DecideRequest{UnitID: unitID, RequestedRemedy: "exchange", Fault: f}, at)
	o := owedExchange{on: e.On, day: e.Day, ends: e.ManufacturerEnd, cause: what}
	if tenants.ErrorCode(err) == tenants.CodeInvalid {
		return o, nil // not decidable on that day (before the purchase): nothing is owed
	}
	if err != nil {
		return o, err
	}
	for _, r := range e.Decision.Remedies {
		if r.Kind == entitlement.RemedyExchange {
			o.basis = r.Basis
			break
		}
	}
	return o, nil
}

// swapPlans are the plan kinds whose benefit includes a swap.
var swapPlans = map[warranty.PlanKind]bool{warranty.KindSwapForRepair: true, warranty.KindAccidentalDamage: true,
	warranty.KindNoReasonRepair: true, warranty.KindExtendedWarranty: true}

// planChoice is the plan a swap requested without naming a contract is
// under (choosePlan).
type planChoice struct {
	contract *warranty.Contract
	// undecided is the extended warranty that would replace the unit free
	// when the fault's cause is one it covers, while contract (a plan with
	// a fee) covers another: the swap does not know the cause, so a person
	// decides.
	undecided *warranty.Contract
	why       string
}

// swapCovers reports whether plan p swaps a unit whose fault has cause c:
// the plan's kind covers the cause (entitlement.PlanCoversCause, the
// engine's rules 4-7), and never a cause the plan excludes, human damage or
// force majeure.
func swapCovers(p warranty.Plan, c entitlement.Cause) bool {
	return !c.NeverFree() && !slices.Contains(p.Exclusions, string(c)) && entitlement.PlanCoversCause(string(p.Kind), c)
}

// inForce reports whether contract c covers day: active, and its dates
// hold the day (a contract past its end the lifecycle job has not yet
// expired is not in force).
func inForce(c *warranty.Contract, day time.Time) bool {
	starts, _ := time.Parse(time.DateOnly, c.StartsOn)
	ends, _ := time.Parse(time.DateOnly, c.EndsOn)
	return c.State == warranty.StateActive && warranty.StateOn(starts, ends, day) == warranty.StateActive
}

// lapsed says why the contract a swap names, one of cs, no longer covers
// it on day (its day: days.of): cancelled, consumed or expired since the
// request, or its dates no longer holding the day; "" while in force.
func lapsed(cs []warranty.Contract, id string, days swapDays) string {
	i := slices.IndexFunc(cs, func(c warranty.Contract) bool { return c.ID == id })
	if i < 0 {
		return "contract " + id + " is no longer the unit's"
	}
	c := &cs[i]
	day := days.of(c)
	if inForce(c, day) {
		return ""
	}
	if c.State != warranty.StateActive {
		return "contract " + id + " is " + string(c.State)
	}
	return "contract " + id + " runs " + c.StartsOn + " to " + c.EndsOn + ", not on " + day.Format(time.DateOnly)
}

// choosePlan picks, among the unit's plans in force for its category (each
// judged on the day todayOf gives it: the swap's, or its own test clock's),
// the one that gives the customer the swap on the best terms:
//
//   - An extended warranty replaces the unit free (rule 4, seed 延保:
//     免费维修或更换) for a performance or environmental fault. A
//     swap-for-repair plan (以换代修, rule 6) swaps only for a hardware
//     (performance) fault, for a fee, so whenever it applies the extended
//     warranty applies too, free: the extended warranty wins, whatever the
//     cause.
//   - An accidental-damage plan (rule 5) or a no-reason plan (rule 7) swaps
//     for accidental damage, which no extended warranty covers: which plan
//     applies depends on the fault's cause. Given the cause (the swap's
//     fault_cause: the ticket's diagnosis, which the tickets context owns
//     and passes), only the plans covering it are weighed, the extended
//     warranty first; none covering it, the swap is under no plan. Without
//     a cause, with both in force, the fee plan prices the swap and the
//     brand approves (undecided).
//   - Otherwise the one swap-giving plan in force, if any.
func choosePlan(cs []warranty.Contract, category string, cause *string, todayOf func(*warranty.Contract) time.Time) planChoice {
	var ext, fee *warranty.Contract
	for i := range cs {
		c := &cs[i]
		if !inForce(c, todayOf(c)) || !swapPlans[c.Plan.Kind] || !slices.Contains(c.Plan.EligibleCategories, category) ||
			(cause != nil && !swapCovers(c.Plan, entitlement.Cause(*cause))) {
			continue
		}
		switch {
		case c.Plan.Kind == warranty.KindExtendedWarranty:
			if ext == nil {
				ext = c
			}
		case fee == nil:
			fee = c
		}
	}
	switch {
	case ext != nil && fee != nil && fee.Plan.Kind == warranty.KindSwapForRepair:
		return planChoice{contract: ext, why: "extended warranty " + ext.ID + " replaces the unit free; swap plan " + fee.ID +
			" would charge a fee for the same hardware fault"}
	case ext != nil && fee != nil && cause != nil: // both cover the known cause: the free one
		return planChoice{contract: ext, why: "extended warranty " + ext.ID + " replaces the unit free for " + *cause +
			"; " + string(fee.Plan.Kind) + " plan " + fee.ID + " would charge a fee"}
	case ext != nil && fee != nil:
		return planChoice{contract: fee, undecided: ext}
	case ext != nil:
		return planChoice{contract: ext}
	default:
		return planChoice{contract: fee}
	}
}

// swapDays are the days a swap's evaluation judges on, in the tenant's
// zone: swap, the swap's own (its test clock's, else the wall clock's),
// and, for a swap on no clock, the day of each test clock its unit's
// contracts are on (of gives a contract's).
type swapDays struct {
	swap   time.Time
	clocks map[string]time.Time
}

// of is the day contract c is judged on: its test clock's for a swap on
// no clock, else the swap's (a contract on no clock is judged on the day
// of the swap's clock: its dates are facts, not timers).
func (d swapDays) of(c *warranty.Contract) time.Time {
	if c.TestClockID != nil {
		if day, ok := d.clocks[*c.TestClockID]; ok {
			return day
		}
	}
	return d.swap
}

// clockDays reads, inside tx, the days swap w's evaluation judges on
// (swapDays), cs being its unit's contracts.
func (s *Service) clockDays(ctx context.Context, tx pg.TenantTx, st pg.TenantSettings, w Swap, cs []warranty.Contract) (swapDays, error) {
	day := func(clock *string) (time.Time, error) {
		at, err := testclocks.TimeOf(ctx, tx, clock, s.now())
		d, _ := time.Parse(time.DateOnly, st.Today(at))
		return d, err
	}
	var d swapDays
	var err error
	if d.swap, err = day(w.TestClockID); err != nil || w.TestClockID != nil {
		return d, err
	}
	for _, c := range cs {
		if c.TestClockID == nil {
			continue
		}
		if _, ok := d.clocks[*c.TestClockID]; ok {
			continue
		}
		if d.clocks == nil {
			d.clocks = map[string]time.Time{}
		}
		if d.clocks[*c.TestClockID], err = day(c.TestClockID); err != nil {
			return d, err
		}
	}
	return d, nil
}

// Evaluate runs a requested swap's evaluation (the swap_evaluation job): the
// depreciation fee by the plan's terms (Fee), the replacement (the same
// model unless discontinued, else the best similar model priced no higher
// than the original's purchase price (replacementCeiling); none leaves the
// choice to the brand; a statutory exchange carries no plan's fee),
// and the route by amount (the replacement's retail price less the fee):
// at most the auto-approval limit is approved at once, at most the node
// limit waits for a node manager, above it for a node manager and then the
// brand. The brand alone approves when no fee can be given, when the plan
// depends on a fault cause the swap does not know (choosePlan), or when the
// swap is under no plan in force and neither the three guarantees nor the
// manufacturer warranty owes a free exchange on its day (exchangeOwed: a
// plan not yet in force, a drop no plan covers, a unit out of warranty).
// A swap no longer requested is left alone: the job is idempotent. The day the plan
// in force and the fee's month of ownership are judged on is the swap's:
// its test clock's when it lives on one, and a swap on no clock evaluated
// under a contract on one takes that clock (Swap.TestClockID).
//
// A swap naming a contract (contract_id, given at the request) is judged
// again here: the contract must still be in force on the swap's day (on
// its clock: active and within its dates), as the request required. One
// cancelled, consumed or expired since is dropped and the swap evaluated
// as one naming none (choosePlan, else under no plan), as a request made
// now could only be: the lapsed plan neither prices nor bears the swap,
// and the step says which contract was dropped and why.
func (s *Service) Evaluate(ctx context.Context, tenantID, id string) error {
	err := pg.InTenantTx(ctx, s.DB, tenantID, func(tx pg.TenantTx) error {
		w, err := getSwap(ctx, tx, "", id, "FOR UPDATE")
		if err != nil || w.State != StateRequested {
			return err
		}
		_, err = s.evaluate(ctx, tx, w, "system")
		return err
	})
	return pg.Translate(err)
}

// evaluate runs swap w's evaluation (Evaluate), w locked by the caller,
// and records it as a step from w's state by actor. It returns the swap
// as evaluated.
func (s *Service) evaluate(ctx context.Context, tx pg.TenantTx, w Swap, actor string) (Swap, error) {
	var out Swap
	id := w.ID
	err := func() error {
		u, err := customers.LoadUnitSystemTx(ctx, tx, w.UnitID)
		if err != nil {
			return err
		}
		model, err := catalog.LoadModel(ctx, tx, u.ModelID)
		if err != nil {
			return err
		}
		// The plan: the one named (or chosen for the fault's cause at the
		// request), else the best in force (choosePlan). Rule 1: a statutory exchange is the law's remedy, free: no plan's
		// fee applies and no plan's benefit is used (a request names no
		// contract for it), so its unit's contracts are not read.
		var cs []warranty.Contract
		if !withoutPlan(w.Reason) {
			if cs, err = warranty.UnitContracts(ctx, tx, u.ID); err != nil {
				return err
			}
		}
		st, err := tx.Settings(ctx)
		if err != nil {
			return err
		}
		purchase, _ := time.Parse(time.DateOnly, u.PurchaseDate)
		// The swap's day: its test clock's (its ticket's or its contract's),
		// else the wall clock's. A swap on no clock judges a contract on
		// one on the contract's clock, and lives on it once under it.
		days, err := s.clockDays(ctx, tx, st, w, cs)
		if err != nil {
			return err
		}
		var plan *warranty.Plan
		var choice planChoice
		var under *warranty.Contract
		contractID, dropped := w.ContractID, ""
		if contractID != nil {
			// The contract named at the request must still be in force on
			// the swap's day; one that lapsed since is dropped.
			if dropped = lapsed(cs, *contractID, days); dropped != "" {
				contractID = nil
			}
		}
		if contractID != nil {
			for i := range cs {
				if cs[i].ID == *contractID {
					plan, under = &cs[i].Plan, &cs[i]
				}
			}
		} else if choice = choosePlan(cs, u.Category, w.FaultCause, days.of); choice.contract != nil {
			plan, contractID, under = &choice.contract.Plan, &choice.contract.ID, choice.contract
		}
		clock, today := w.TestClockID, days.swap
		if clock == nil && under != nil && under.TestClockID != nil {
			clock, today = under.TestClockID, days.of(under)
		}
		// Evaluated at the swap's time: its clock's (the one it lives on
		// from now), else now.
		at, err := testclocks.TimeOf(ctx, tx, clock, s.now())
		if err != nil {
			return err
		}
		fee, feeRule, feeOK := Fee(plan, u.Category, u.PurchasePrice, purchase, today)
		if choice.why != "" {
			feeRule += " (" + choice.why + ")"
		}
		// Under no plan the swap is free only when something else owes the
		// exchange (exchangeOwed): a plan not yet in force (a kitchen swap
		// plan on day 30) or a drop no plan covers gives no free unit. A
		// statutory or seven-day exchange was judged at its request.
		owed, notOwed := true, ""
		if contractID == nil && !withoutPlan(w.Reason) {
			o, err := exchangeOwed(ctx, tx, u.ID, w.Reason, w.FaultCause, at)
			if err != nil {
				return err
			}
			if owed, notOwed = o.basis != "", o.why(); owed {
				feeRule += " (owed on the basis " + string(o.basis) + ")"
			}
		}
		feeArg := &fee
		if !feeOK {
			fee, feeArg = 0, nil // no fee to give: the brand decides (below)
		}

		// The replacement: the same model, else the best similar model
		// priced no higher than the original (replacementCeiling).
		var replacement *catalog.ProductModel
		pick := ""
		ceiling, ceilingOf := replacementCeiling(u, model)
		if !model.Discontinued {
			replacement, pick = &model, "the same model "+model.ModelNumber
		} else {
			sims, err := catalog.SimilarModels(ctx, tx, model.ID, ceiling, 1)
			if err != nil {
				return err
			}
			if len(sims) > 0 {
				replacement = &sims[0]
				pick = "model " + model.ModelNumber + " is discontinued: similar model " + sims[0].ModelNumber +
					" at " + major(sims[0].RetailPrice.Amount) + ", no more than the original's " + ceilingOf + " " + major(ceiling)
			}
		}
		amount := u.PurchasePrice.Amount - fee
		var replacementID *string
		if replacement != nil {
			amount, replacementID = replacement.RetailPrice.Amount-fee, &replacement.ID
		}
		amount = max(amount, 0)

		auto, node := s.limits()
		var to State
		var reason string
		// brandFee: no rule fixes the fee (below): the brand's approval
		// may charge the customer one (Approval.CustomerFee).
		needsBrand, brandFee := false, false
		switch {
		case !feeOK:
			to, needsBrand, brandFee = StatePendingBrand, true, true
			reason = feeRule + ": the brand decides the fee"
		case contractID == nil && w.FaultCause != nil && entitlement.Cause(*w.FaultCause).NeverFree():
			// Rule 1: human damage and force majeure are never free; no
			// plan covers them and no warranty owes the unit: not a free
			// exchange the amount chain could approve at once.
			to, needsBrand, brandFee = StatePendingBrand, true, true
			reason = "fault cause " + *w.FaultCause + " is never free (rule 1) and no plan covers it: the brand decides"
		case !owed:
			to, needsBrand, brandFee = StatePendingBrand, true, true
			reason = "no plan in force covers the swap and " + notOwed + " (rule 1): the brand decides"
		case choice.undecided != nil:
			to, needsBrand = StatePendingBrand, true
			reason = "the unit holds extended warranty " + choice.undecided.ID + " (a free replacement for a performance or environmental fault) and " +
				string(choice.contract.Plan.Kind) + " plan " + choice.contract.ID + " (fee " + major(fee) + "; it alone covers accidental damage): " +
				"the fault's cause decides which covers the swap and the swap does not record it; priced under " + choice.contract.ID +
				": the brand approves, or rejects and asks again naming " + choice.undecided.ID
		case replacement == nil:
			to, needsBrand = StatePendingBrand, true
			reason = "model " + model.ModelNumber + " is discontinued and no similar model is priced no higher than the original's " +
				ceilingOf + " " + major(ceiling) + ": the brand chooses the replacement"
		case amount <= auto:
			to = StateApproved
			reason = pick + "; amount " + major(amount) + " within the auto-approval limit " + major(auto)
		case amount <= node:
			to = StatePendingNodeManager
			reason = pick + "; amount " + major(amount) + " above the auto-approval limit " + major(auto) + ": a node manager approves"
		default:
			to, needsBrand = StatePendingNodeManager, true
			reason = pick + "; amount " + major(amount) + " above the node limit " + major(node) + ": a node manager, then the brand approve"
		}
		if dropped != "" {
			reason = dropped + " since the request (evaluated as naming none); " + reason
		}
		var feeBy *string
		if feeArg != nil {
			by := FeeSetByEvaluation
			feeBy = &by
		}
		if _, err := tx.Exec(ctx, `UPDATE swaps SET contract_id = $3, fee = $4, fee_rule = $5, amount = $6, replacement_model_id = $7,
			needs_brand = $8, state = $9, state_reason = $10, test_clock_id = $11, version = version + 1, updated_at = $12,
			brand_sets_fee = $13, fee_set_by = $14
			WHERE tenant_id = $1 AND id = $2`,
			tx.TenantID, id, contractID, feeArg, feeRule, amount, replacementID, needsBrand, to, clip(reason), clock, at,
			brandFee, feeBy); err != nil {
			return err
		}
		from := w.State
		if out, err = getSwap(ctx, tx, "", id, ""); err != nil {
			return err
		}
		typ := TypeSwapEvaluated
		if to == StateApproved {
			typ = TypeSwapApproved
		}
		extra := map[string]any{"amount": out.Amount, "fee_rule": feeRule}
		if dropped != "" {
			extra["dropped_contract_id"] = *w.ContractID
		}
		return step(ctx, tx, out, &from, at, reason, actor, typ, extra)
	}()
	return out, err
}
