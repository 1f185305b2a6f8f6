package swaps_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/servicenet/servicenet/internal/domaintest"
	"github.com/servicenet/servicenet/tenants"
	"github.com/servicenet/servicenet/tenants/swaps"
	"github.com/servicenet/servicenet/tenants/warranty"
	"github.com/servicenet/servicenet/tenants/warranty/entitlement"
)

// swapEventHas counts swap id's events of type typ whose data say the
// customer's fee is fee, the rest amount, borne by borneBy, the fee set
// by feeSetBy.
func swapEventHas(t *testing.T, e *domaintest.Env, id, typ string, fee, amount int64, borneBy, feeSetBy string) int {
	t.Helper()
	return e.Count(t, `SELECT count(*) FROM events WHERE tenant_id = $1 AND subject_id = $2 AND type = $3
		AND (data->'fee'->>'amount')::bigint = $4 AND (data->'amount'->>'amount')::bigint = $5
		AND data->>'borne_by' = $6 AND data->>'fee_set_by' = $7`, id, typ, fee, amount, borneBy, feeSetBy)
}

// A swap no rule owes free waits for the brand ("the brand decides"); the
// brand's operations team offers the customer an exchange for a fee. A
// phone bought 200 days ago for 2,999.00, holding no plan, dropped and
// broken beyond repair: accidental damage, which neither the three
// guarantees (past day 15) nor the manufacturer warranty (a performance
// fault's) owes, and no plan covers. The brand approves it with the
// customer paying the depreciation it offers, 30% of 2,999.00 = 899.70:
// the swap's fee is 899.70, the customer's; the brand bears the rest of the
// new phone, 2,999.00 - 899.70 = 2,099.30. GET and the swap.approved event
// say so. A negative fee, one above the new phone's price, or one in
// another currency is 422 naming customer_fee and changes nothing.
func TestBrandFeeOnASwapNoRuleOwesFree(t *testing.T) {
	e := domaintest.New(t)
	phone := fixModel(t, e, "P-GOODWILL", "phone", 299900)
	unit := reviewUnit(t, e, phone, "PSN-GW-1", 199, 299900)

	s, err := e.Swaps.RequestSwap(e.Ctx, e.Admin, swaps.NewSwap{UnitID: unit, Reason: "unrepairable", FaultCause: "accidental_damage"})
	require.NoError(t, err)
	require.NoError(t, e.Swaps.Evaluate(e.Ctx, e.Tenant, s.ID))
	s, err = e.Swaps.GetSwap(e.Ctx, e.Admin, s.ID)
	require.NoError(t, err)
	require.Equal(t, swaps.StatePendingBrand, s.State, "%v", *s.StateReason)
	require.True(t, s.BrandSetsFee, "no rule owes it free, no plan prices it")
	require.Nil(t, s.ContractID)
	require.Equal(t, domaintest.CNY(0), *s.Fee)
	require.Equal(t, domaintest.CNY(299900), *s.Amount)
	require.Equal(t, swaps.BorneByBrand, s.BorneBy)

	for _, c := range []struct {
		name  string
		fee   tenants.Money
		field string
	}{
		{"Negative", domaintest.CNY(-1), "customer_fee.amount"},
		{"AboveTheReplacementsPrice", domaintest.CNY(299901), "customer_fee.amount"},
		{"AnotherCurrency", tenants.Money{Amount: 89970, Currency: "USD"}, "customer_fee.currency"},
	} {
		_, err := e.Swaps.Approve(e.Ctx, e.Admin, s.ID, swaps.Approval{CustomerFee: &c.fee}, 0)
		require.Equal(t, []string{c.field}, domaintest.Fields(t, err), c.name)
		got, err := e.Swaps.GetSwap(e.Ctx, e.Admin, s.ID)
		require.NoError(t, err)
		require.Equal(t, s.Version, got.Version, "%s: nothing changed", c.name)
		require.Equal(t, swaps.StatePendingBrand, got.State, c.name)
	}

	fee := domaintest.CNY(89970)
	s, err = e.Swaps.Approve(e.Ctx, e.Admin, s.ID, swaps.Approval{Note: "goodwill: the customer pays 30%", CustomerFee: &fee}, 0)
	require.NoError(t, err)
	require.Equal(t, swaps.StateApproved, s.State)
	require.Equal(t, domaintest.CNY(89970), *s.Fee, "the customer pays the brand's fee")
	require.Equal(t, domaintest.CNY(299900-89970), *s.Amount, "the brand bears the rest of the new phone")
	require.Equal(t, swaps.BorneByBrand, s.BorneBy)
	require.Equal(t, swaps.FeeSetByBrand, s.FeeSetBy)
	require.Contains(t, *s.FeeRule, "the customer pays 899.70, the brand bears 2099.30")

	got, err := e.Swaps.GetSwap(e.Ctx, e.Admin, s.ID)
	require.NoError(t, err)
	require.Equal(t, s.Fee, got.Fee)
	require.Equal(t, s.Amount, got.Amount)
	require.Equal(t, swaps.FeeSetByBrand, got.FeeSetBy)
	require.Equal(t, 1, swapEventHas(t, e, s.ID, swaps.TypeSwapApproved, 89970, 299900-89970, "brand", "brand"))

	// Handed over: the replacement is the customer's for the fee.
	s, err = e.Swaps.Fulfil(e.Ctx, e.Admin, s.ID, swaps.Fulfilment{Serial: "PSN-GW-2"}, 0)
	require.NoError(t, err)
	require.Equal(t, swaps.StateFulfilled, s.State)
	require.Equal(t, domaintest.CNY(89970), *s.Fee)
}

// A fee is the brand's to set only where no rule sets it. A statutory
// exchange (rule 1: day 5, a 5,999.00 washer) is owed free: its node
// manager cannot add a fee at the node manager's step, nor the brand at its
// own (422 naming customer_fee). A swap under a plan whose fee the plan
// fixes (a phone holding an accidental-damage plan and an extended
// warranty, priced under the accidental-damage plan's 50% in month 13 and
// waiting for the brand) keeps its plan's fee: a brand fee is 422 there
// too, and approving without one charges the plan's 1,499.50.
func TestBrandFeeRefusedWhereARuleSetsTheFee(t *testing.T) {
	e := domaintest.New(t)
	manager := rootManager(t, e)

	t.Run("StatutoryExchangeIsOwedFree", func(t *testing.T) {
		washer := fixModel(t, e, "W-STAT-FEE", "washer", 599900)
		unit := reviewUnit(t, e, washer, "WSN-STAT-FEE", 4, 599900)
		s := evaluated(t, e, unit, "statutory_exchange")
		require.Equal(t, swaps.StatePendingNodeManager, s.State)
		require.True(t, s.NeedsBrand)
		require.False(t, s.BrandSetsFee)
		fee := domaintest.CNY(10000)
		_, err := e.Swaps.Approve(e.Ctx, manager, s.ID, swaps.Approval{CustomerFee: &fee}, 0)
		require.Equal(t, []string{"customer_fee"}, domaintest.Fields(t, err), "the node manager's step")
		s, err = e.Swaps.Approve(e.Ctx, manager, s.ID, swaps.Approval{}, 0)
		require.NoError(t, err)
		require.Equal(t, swaps.StatePendingBrand, s.State)
		_, err = e.Swaps.Approve(e.Ctx, e.Admin, s.ID, swaps.Approval{CustomerFee: &fee}, 0)
		require.Equal(t, []string{"customer_fee"}, domaintest.Fields(t, err), "owed free")
		s, err = e.Swaps.Approve(e.Ctx, e.Admin, s.ID, swaps.Approval{}, 0)
		require.NoError(t, err)
		require.Equal(t, domaintest.CNY(0), *s.Fee)
		require.Equal(t, domaintest.CNY(599900), *s.Amount)
		require.Equal(t, swaps.BorneByBrand, s.BorneBy)
		require.Equal(t, swaps.FeeSetByEvaluation, s.FeeSetBy)
	})

	t.Run("PlanFixesTheFee", func(t *testing.T) {
		phone := fixModel(t, e, "P-PLAN-FEE", "phone", 299900)
		ext := extendedPlan(t, e, "EXT-FEE", "phone")
		adp := accidentalDamagePlan(t, e,
			entitlement.DepreciationStep{UpToMonth: 6, Percent: 30}, entitlement.DepreciationStep{UpToMonth: 12, Percent: 50})
		unit := reviewUnit(t, e, phone, "PSN-PLAN-FEE", 370, 299900)
		kAdp := e.Contract(t, unit, adp, -370)
		e.Contract(t, unit, ext, -370)
		s := evaluated(t, e, unit, "unrepairable")
		require.Equal(t, swaps.StatePendingBrand, s.State)
		require.Equal(t, kAdp, *s.ContractID)
		require.False(t, s.BrandSetsFee)
		fee := domaintest.CNY(50000)
		_, err := e.Swaps.Approve(e.Ctx, e.Admin, s.ID, swaps.Approval{CustomerFee: &fee}, 0)
		require.Equal(t, []string{"customer_fee"}, domaintest.Fields(t, err))
		s, err = e.Swaps.Approve(e.Ctx, e.Admin, s.ID, swaps.Approval{}, 0)
		require.NoError(t, err)
		require.Equal(t, swaps.StateApproved, s.State)
		require.Equal(t, domaintest.CNY(149950), *s.Fee, "the plan's fee")
		require.Equal(t, domaintest.CNY(299900-149950), *s.Amount)
		require.Equal(t, swaps.BorneByPlan, s.BorneBy)
		require.Equal(t, swaps.FeeSetByEvaluation, s.FeeSetBy)
	})
}

// A contract named at the request is checked again when the swap is
// evaluated and approved, on the swap's day: cancelled in between, its plan
// neither prices nor pays the swap. A phone under its accidental-damage
// plan (day 40; 20% in month 2 of 2,999.00 = 599.80 from the customer, the
// plan 2,399.20) is dropped and broken.
//
//   - CancelledBeforeTheEvaluation: the evaluation drops the contract and
//     judges the swap as one naming none, as a request made then could
//     only be (the request refuses a contract not active): no plan in force
//     covers the drop and nothing else owes a new phone, so the brand
//     decides (and may charge the customer a fee).
//   - CancelledBeforeTheApproval: evaluated under the plan (a node manager
//     approves 2,399.20), then cancelled: the node manager's approval is
//     not applied; the swap is evaluated again as naming none and waits
//     for the brand, no plan payment. The brand approves it with the
//     customer paying the 599.80 the plan would have charged: the brand
//     bears 2,399.20.
func TestSwapRechecksItsContract(t *testing.T) {
	e := domaintest.New(t)
	manager := rootManager(t, e)
	phone := fixModel(t, e, "P-RECHECK", "phone", 299900)
	adp := accidentalDamagePlan(t, e,
		entitlement.DepreciationStep{UpToMonth: 3, Percent: 20}, entitlement.DepreciationStep{UpToMonth: 12, Percent: 35})

	noPlanPayment := func(t *testing.T, s swaps.Swap, k string) {
		t.Helper()
		require.Nil(t, s.ContractID, "no longer under the cancelled contract")
		require.Equal(t, swaps.StatePendingBrand, s.State, "%v", *s.StateReason)
		require.True(t, s.BrandSetsFee)
		require.Contains(t, *s.StateReason, k+" is cancelled")
		require.Equal(t, domaintest.CNY(0), *s.Fee)
		require.Equal(t, domaintest.CNY(299900), *s.Amount)
		require.Equal(t, swaps.BorneByBrand, s.BorneBy)
		c, err := e.Warranty.GetContract(e.Ctx, e.Admin, k)
		require.NoError(t, err)
		require.Equal(t, warranty.StateCancelled, c.State)
	}

	t.Run("CancelledBeforeTheEvaluation", func(t *testing.T) {
		unit := reviewUnit(t, e, phone, "PSN-RC-1", 39, 299900)
		k := e.Contract(t, unit, adp, -39)
		s, err := e.Swaps.RequestSwap(e.Ctx, e.Admin, swaps.NewSwap{UnitID: unit, Reason: "unrepairable", ContractID: k, FaultCause: "accidental_damage"})
		require.NoError(t, err)
		_, err = e.Warranty.CancelContract(e.Ctx, e.Admin, k, "customer cancelled the plan", 0)
		require.NoError(t, err)
		require.NoError(t, e.Swaps.Evaluate(e.Ctx, e.Tenant, s.ID))
		s, err = e.Swaps.GetSwap(e.Ctx, e.Admin, s.ID)
		require.NoError(t, err)
		noPlanPayment(t, s, k)
		require.Equal(t, 1, e.Count(t, `SELECT count(*) FROM events WHERE tenant_id = $1 AND subject_id = $2
			AND type = 'swap.evaluated' AND data->>'dropped_contract_id' = $3`, s.ID, k))
	})

	t.Run("CancelledBeforeTheApproval", func(t *testing.T) {
		unit := reviewUnit(t, e, phone, "PSN-RC-2", 39, 299900)
		k := e.Contract(t, unit, adp, -39)
		s, err := e.Swaps.RequestSwap(e.Ctx, e.Admin, swaps.NewSwap{UnitID: unit, Reason: "unrepairable", ContractID: k, FaultCause: "accidental_damage"})
		require.NoError(t, err)
		require.NoError(t, e.Swaps.Evaluate(e.Ctx, e.Tenant, s.ID))
		s, err = e.Swaps.GetSwap(e.Ctx, e.Admin, s.ID)
		require.NoError(t, err)
		require.Equal(t, swaps.StatePendingNodeManager, s.State)
		require.Equal(t, domaintest.CNY(59980), *s.Fee)
		require.Equal(t, domaintest.CNY(299900-59980), *s.Amount)
		require.Equal(t, swaps.BorneByPlan, s.BorneBy)

		_, err = e.Warranty.CancelContract(e.Ctx, e.Admin, k, "customer cancelled the plan", 0)
		require.NoError(t, err)
		s, err = e.Swaps.Approve(e.Ctx, manager, s.ID, swaps.Approval{}, 0)
		require.NoError(t, err)
		noPlanPayment(t, s, k)
		require.Equal(t, 0, e.Count(t, `SELECT count(*) FROM events WHERE tenant_id = $1 AND subject_id = $2 AND type = 'swap.approved'`, s.ID))

		fee := domaintest.CNY(59980)
		s, err = e.Swaps.Approve(e.Ctx, e.Admin, s.ID, swaps.Approval{CustomerFee: &fee}, 0)
		require.NoError(t, err)
		require.Equal(t, swaps.StateApproved, s.State)
		require.Nil(t, s.ContractID)
		require.Equal(t, domaintest.CNY(59980), *s.Fee)
		require.Equal(t, domaintest.CNY(299900-59980), *s.Amount)
		require.Equal(t, swaps.BorneByBrand, s.BorneBy, "the brand, not the cancelled plan")

		// Handed over: the cancelled contract stays cancelled, not consumed.
		s, err = e.Swaps.Fulfil(e.Ctx, e.Admin, s.ID, swaps.Fulfilment{Serial: "PSN-RC-3"}, 0)
		require.NoError(t, err)
		c, err := e.Warranty.GetContract(e.Ctx, e.Admin, k)
		require.NoError(t, err)
		require.Equal(t, warranty.StateCancelled, c.State)
	})
}

// The contract is judged on the swap's own day and clock: a phone bought
// 360 days ago with its accidental-damage plan sold on a test clock (the
// plan runs from day 31 for a year, to about day 395) is dropped and
// broken; the swap, naming the contract, lives on its clock. The clock
// moves 40 days on before the evaluation (the contract's lifecycle job
// has not run: its state still says active): on the clock's day the plan
// has ended, so it neither prices nor bears the swap, which waits for the
// brand.
func TestSwapRechecksItsContractOnTheClocksDay(t *testing.T) {
	const day = 24 * time.Hour
	e := domaintest.New(t)
	e.TestMode()
	phone := fixModel(t, e, "P-RC-CLK", "phone", 299900)
	adp := accidentalDamagePlan(t, e,
		entitlement.DepreciationStep{UpToMonth: 3, Percent: 20}, entitlement.DepreciationStep{UpToMonth: 12, Percent: 35})
	start := time.Now().Truncate(time.Second)
	clock := e.TestClock(t, start)
	unit := reviewUnit(t, e, phone, "PSN-RC-CLK", 360, 299900)
	c, err := e.Warranty.CreateContract(e.Ctx, e.Admin, warranty.NewContract{UnitID: unit, PlanID: adp,
		SoldOn: domaintest.Today(-360), TestClockID: clock})
	require.NoError(t, err)
	require.Equal(t, warranty.StateActive, c.State)

	s, err := e.Swaps.RequestSwap(e.Ctx, e.Admin, swaps.NewSwap{UnitID: unit, Reason: "unrepairable", ContractID: c.ID, FaultCause: "accidental_damage"})
	require.NoError(t, err)
	require.Equal(t, clock, *s.TestClockID)
	e.AdvanceClock(t, clock, start.Add(40*day))
	require.NoError(t, e.Swaps.Evaluate(e.Ctx, e.Tenant, s.ID))
	s, err = e.Swaps.GetSwap(e.Ctx, e.Admin, s.ID)
	require.NoError(t, err)
	require.Nil(t, s.ContractID, "%v", *s.StateReason)
	require.Contains(t, *s.StateReason, "contract "+c.ID+" runs "+c.StartsOn+" to "+c.EndsOn+", not on "+domaintest.Today(40))
	require.Equal(t, swaps.StatePendingBrand, s.State)
	require.True(t, s.BrandSetsFee)
	require.Equal(t, domaintest.CNY(0), *s.Fee)
	require.Equal(t, domaintest.CNY(299900), *s.Amount)
	require.Equal(t, swaps.BorneByBrand, s.BorneBy)
}
