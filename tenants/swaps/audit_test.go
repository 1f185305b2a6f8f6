package swaps_test

import (
	"fmt"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/servicenet/servicenet/internal/domaintest"
	"github.com/servicenet/servicenet/tenants/customers"
	"github.com/servicenet/servicenet/tenants/swaps"
	"github.com/servicenet/servicenet/tenants/warranty"
	"github.com/servicenet/servicenet/tenants/warranty/entitlement"
)

// Rule 6, seed 002 (以换代修, 平板电脑: 消费者支付最高为购机金额39%的折旧费,
// 即可获得服务商提供的更换新机服务; 在产品交易成功次日零时起生效, 有效期一年).
// A tablet bought for 2,999.00 with the swap plan, on day 200 of ownership
// (the plan runs from day 2 to day 366): its board dies. The customer pays
// at most 39% of 2,999.00 = 1,169.61 (299900 × 39 / 100 = 116961, rounded
// down: "at most"); the plan bears the rest of the new unit, 2,999.00 -
// 1,169.61 = 1,829.39, which is above the 1,000.00 auto-approval limit and
// within the node manager's 5,000.00: a node manager approves, the brand is
// not asked. The same model is handed over; the swap plan is used up and
// does not follow the replacement, which keeps the normal warranty from
// the day it is handed over.
func TestAuditTabletSwappedOnDay200(t *testing.T) {
	e := domaintest.New(t)
	manager := rootManager(t, e)
	tablet := fixModel(t, e, "T-200", "tablet", 299900)
	plan, err := e.Warranty.CreatePlan(e.Ctx, e.Admin, warranty.NewPlan{Code: "SWAP-T", Name: "以换代修（平板）", Kind: "swap_for_repair",
		EligibleCategories: []string{"tablet"}, DurationMonths: 12, DepreciationCapPercent: intp(39), Price: domaintest.CNY(9900)})
	require.NoError(t, err)
	unit := reviewUnit(t, e, tablet, "TSN-200-1", 199, 299900)
	k := e.Contract(t, unit, plan.ID, -199)
	c, err := e.Warranty.GetContract(e.Ctx, e.Admin, k)
	require.NoError(t, err)
	require.Equal(t, domaintest.Today(-198), c.StartsOn, "valid from the next day")
	require.Equal(t, warranty.StateActive, c.State)

	// The engine shown before any charge: the plan's swap, the customer
	// paying the fee and nothing else.
	no := false
	d, err := e.Warranty.Decide(e.Ctx, e.Admin, warranty.DecideRequest{UnitID: unit, RequestedRemedy: "swap",
		Fault: warranty.FaultReport{Cause: "performance", Repairable: &no}})
	require.NoError(t, err)
	require.Equal(t, 200, d.Day)
	require.Equal(t, entitlement.RemedySwap, d.Decision.Remedy, "%+v", d.Decision.Trace)
	require.Equal(t, entitlement.BasisSwapForRepair, d.Decision.Basis)
	require.Equal(t, domaintest.CNY(116961), d.Decision.Totals.Customer)
	require.Equal(t, domaintest.CNY(0), d.Decision.Totals.Brand)

	s := evaluated(t, e, unit, "plan_swap")
	require.Equal(t, k, *s.ContractID)
	require.Equal(t, domaintest.CNY(116961), *s.Fee, "39%% of 2,999.00, paid by the customer: %v", *s.FeeRule)
	require.Equal(t, domaintest.CNY(299900-116961), *s.Amount, "the plan bears the rest of the new unit")
	require.Equal(t, tablet, *s.ReplacementModelID, "the same brand and model")
	require.Equal(t, swaps.StatePendingNodeManager, s.State)
	require.False(t, s.NeedsBrand)

	s, err = e.Swaps.Approve(e.Ctx, manager, s.ID, swaps.Approval{}, 0)
	require.NoError(t, err)
	require.Equal(t, swaps.StateApproved, s.State)
	s, err = e.Swaps.Fulfil(e.Ctx, manager, s.ID, swaps.Fulfilment{Serial: "TSN-200-2"}, 0)
	require.NoError(t, err)
	nu := *s.ReplacementUnitID

	used, err := e.Warranty.GetContract(e.Ctx, e.Admin, k)
	require.NoError(t, err)
	require.Equal(t, warranty.StateConsumed, used.State)
	require.Equal(t, unit, used.UnitID)
	cs, _, err := e.Warranty.ListContracts(e.Ctx, e.Admin, warranty.ContractFilter{UnitID: nu})
	require.NoError(t, err)
	require.Empty(t, cs, "the replacement is not covered by the plan")

	// The replacement's hardware fault today: the three guarantees count
	// from the hand-over (day 1): an exchange, free, the brand's.
	d, err = e.Warranty.Decide(e.Ctx, e.Admin, warranty.DecideRequest{UnitID: nu, RequestedRemedy: "swap",
		Fault: warranty.FaultReport{Cause: "performance", Repairable: &no}})
	require.NoError(t, err)
	require.Equal(t, domaintest.Today(0), d.On)
	require.Equal(t, 1, d.Day)
	require.NotEqual(t, entitlement.BasisSwapForRepair, d.Decision.Basis, "%+v", d.Decision.Trace)
	require.Equal(t, domaintest.CNY(0), d.Decision.Totals.Customer)
}

// Rule 6, seed 002 (以换代修, 厨房电器/生活电器: 消费者支付30元手续费; 自产品
// 交易成功第31日零时起生效, 有效期一年). A kettle bought for 599.00 with the
// kitchen swap plan (flat 30.00): on day 31 its heating element fails and
// the customer gets a new kettle for 30.00; the plan bears 599.00 - 30.00 =
// 569.00, within the auto-approval limit, approved at once. On day 30 the
// plan is not yet in force: a plan swap asked that day is no plan's swap,
// and must not be handed out free and approved at once as if the law owed
// it (day 30 is past the statutory exchange's 15 days; the manufacturer
// warranty owes a free repair, not a new unit).
func TestAuditKitchenSwapDay30And31(t *testing.T) {
	e := domaintest.New(t)
	kettle := fixModel(t, e, "K-31", "kitchen", 59900)
	plan, err := e.Warranty.CreatePlan(e.Ctx, e.Admin, warranty.NewPlan{Code: "SWAP-K", Name: "以换代修（厨房）", Kind: "swap_for_repair",
		EligibleCategories: []string{"kitchen", "small_appliance"}, DurationMonths: 12, FlatFee: new(domaintest.CNY(3000)), Price: domaintest.CNY(2900)})
	require.NoError(t, err)

	t.Run("Day31", func(t *testing.T) {
		unit := reviewUnit(t, e, kettle, "KSN-31", 30, 59900)
		k := e.Contract(t, unit, plan.ID, -30)
		c, err := e.Warranty.GetContract(e.Ctx, e.Admin, k)
		require.NoError(t, err)
		require.Equal(t, domaintest.Today(0), c.StartsOn, "day 31 is today")
		s := evaluated(t, e, unit, "plan_swap")
		require.Equal(t, k, *s.ContractID)
		require.Equal(t, domaintest.CNY(3000), *s.Fee, "30.00, paid by the customer: %v", *s.FeeRule)
		require.Equal(t, domaintest.CNY(56900), *s.Amount)
		require.Equal(t, swaps.StateApproved, s.State)
		require.False(t, s.NeedsBrand)
	})

	t.Run("Day30", func(t *testing.T) {
		unit := reviewUnit(t, e, kettle, "KSN-30", 29, 59900)
		k := e.Contract(t, unit, plan.ID, -29)
		c, err := e.Warranty.GetContract(e.Ctx, e.Admin, k)
		require.NoError(t, err)
		require.Equal(t, domaintest.Today(1), c.StartsOn, "day 31 is tomorrow")
		require.Equal(t, warranty.StatePending, c.State)

		// Naming the plan is refused: it is not in force.
		_, err = e.Swaps.RequestSwap(e.Ctx, e.Admin, swaps.NewSwap{UnitID: unit, Reason: "plan_swap", ContractID: k})
		require.Equal(t, []string{"contract_id"}, domaintest.Fields(t, err))

		// The engine offers no plan swap today.
		no := false
		d, err := e.Warranty.Decide(e.Ctx, e.Admin, warranty.DecideRequest{UnitID: unit, RequestedRemedy: "swap",
			Fault: warranty.FaultReport{Cause: "performance", Repairable: &no}})
		require.NoError(t, err)
		for _, r := range d.Decision.Remedies {
			require.NotEqual(t, entitlement.BasisSwapForRepair, r.Basis, "%+v", d.Decision.Trace)
		}

		// Asked without naming it, the swap is under no plan: not a free
		// swap approved by amount.
		s := evaluated(t, e, unit, "plan_swap")
		require.Nil(t, s.ContractID)
		require.NotEqual(t, swaps.StateApproved, s.State, "%v", *s.StateReason)
		require.Equal(t, swaps.StatePendingBrand, s.State)
		require.True(t, s.NeedsBrand)
	})
}

// Rule 1 (三包): an exchange is owed within 15 days of the purchase, or
// after two repairs within the warranty that did not fix the fault. A
// kettle bought for 599.00 exchanged on day 15 is the brand's duty, free,
// approved at once (599.00 is within the auto-approval limit). The same
// kettle on day 200, never repaired, is owed a free repair, not a new unit:
// a swap asked as a statutory exchange is refused at reason and nothing is
// requested. Repaired twice under the warranty (days 100 and 150) and
// failing again on day 200, it is owed the exchange: free, approved at once.
func TestAuditStatutoryExchangeWindow(t *testing.T) {
	e := domaintest.New(t)
	kettle := fixModel(t, e, "K-STAT", "kitchen", 59900)

	day15 := reviewUnit(t, e, kettle, "KSN-D15", 14, 59900)
	s := evaluated(t, e, day15, "statutory_exchange")
	require.Equal(t, domaintest.CNY(0), *s.Fee)
	require.Equal(t, domaintest.CNY(59900), *s.Amount, "the brand bears the new unit")
	require.Equal(t, swaps.StateApproved, s.State)

	day16 := reviewUnit(t, e, kettle, "KSN-D16", 15, 59900)
	_, err := e.Swaps.RequestSwap(e.Ctx, e.Admin, swaps.NewSwap{UnitID: day16, Reason: "statutory_exchange"})
	require.Equal(t, []string{"reason"}, domaintest.Fields(t, err), "day 16: past the 15 days")

	day200 := reviewUnit(t, e, kettle, "KSN-D200", 199, 59900)
	_, err = e.Swaps.RequestSwap(e.Ctx, e.Admin, swaps.NewSwap{UnitID: day200, Reason: "statutory_exchange"})
	require.Equal(t, []string{"reason"}, domaintest.Fields(t, err), "day 200, never repaired: a free repair is owed, not a new unit")
	require.Zero(t, e.Count(t, `SELECT count(*) FROM swaps WHERE tenant_id = $1 AND unit_id = $2`, day200))

	for i, daysAgo := range []int{100, 50} {
		_, err := e.Customers.RecordServiceEvent(e.Ctx, e.Admin, day200, customers.NewServiceRecord{Kind: "repair",
			OccurredOn: domaintest.Today(-daysAgo), Basis: "manufacturer_warranty", FaultCause: "performance",
			Reference: fmt.Sprintf("REPAIR-%d", i)})
		require.NoError(t, err)
	}
	s = evaluated(t, e, day200, "statutory_exchange")
	require.Equal(t, domaintest.CNY(0), *s.Fee)
	require.Equal(t, domaintest.CNY(59900), *s.Amount)
	require.Equal(t, swaps.StateApproved, s.State, "the third failure within the warranty")
}

// Rule 5, seed 002 (摔碰也管修: 自笔记本电脑/相机/手机交易成功第31日零时起生效).
// A phone dropped and broken beyond repair on day 30 holds an
// accidental-damage plan not yet in force: no plan covers the drop, and
// accidental damage is never the warranty's or the law's: the swap is not
// a free one approved by amount (999.00, within the auto-approval limit).
func TestAuditAccidentalDamageBeforeDay31(t *testing.T) {
	e := domaintest.New(t)
	phone := fixModel(t, e, "P-30", "phone", 99900)
	adp := accidentalDamagePlan(t, e,
		entitlement.DepreciationStep{UpToMonth: 3, Percent: 20}, entitlement.DepreciationStep{UpToMonth: 12, Percent: 35})
	unit := reviewUnit(t, e, phone, "PSN-30", 29, 99900)
	e.Contract(t, unit, adp, -29)

	s, err := e.Swaps.RequestSwap(e.Ctx, e.Admin, swaps.NewSwap{UnitID: unit, Reason: "unrepairable", FaultCause: "accidental_damage"})
	require.NoError(t, err)
	require.NoError(t, e.Swaps.Evaluate(e.Ctx, e.Tenant, s.ID))
	s, err = e.Swaps.GetSwap(e.Ctx, e.Admin, s.ID)
	require.NoError(t, err)
	require.Nil(t, s.ContractID)
	require.NotEqual(t, swaps.StateApproved, s.State, "%v", *s.StateReason)
	require.Equal(t, swaps.StatePendingBrand, s.State)
}

// The approval chain goes by the amount the swap costs beyond the
// customer's fee: the replacement's price less the fee. Tablets under the
// swap plan (fee 39% of the price paid, rounded down) bought for 1,639.34
// pay 639.34 and leave exactly 1,000.00: approved at once; bought for
// 1,639.35 they pay 639.34 too (639.3465 rounded down) and leave 1,000.01:
// a node manager approves. Bought for 8,196.72 (fee 3,196.72) they leave
// 5,000.00: a node manager alone; for 8,196.73 (the same fee) 5,000.01: a
// node manager and then the brand.
func TestAuditApprovalChainAfterTheFee(t *testing.T) {
	e := domaintest.New(t)
	plan, err := e.Warranty.CreatePlan(e.Ctx, e.Admin, warranty.NewPlan{Code: "SWAP-T", Name: "以换代修（平板）", Kind: "swap_for_repair",
		EligibleCategories: []string{"tablet"}, DurationMonths: 12, DepreciationCapPercent: intp(39), Price: domaintest.CNY(9900)})
	require.NoError(t, err)
	for _, c := range []struct {
		price, fee, amount int64
		state              swaps.State
		brand              bool
	}{
		{163934, 63934, 100000, swaps.StateApproved, false},
		{163935, 63934, 100001, swaps.StatePendingNodeManager, false},
		{819672, 319672, 500000, swaps.StatePendingNodeManager, false},
		{819673, 319672, 500001, swaps.StatePendingNodeManager, true},
	} {
		number := fmt.Sprintf("T-%d", c.price)
		unit := reviewUnit(t, e, fixModel(t, e, number, "tablet", c.price), "SN-"+number, 60, c.price)
		e.Contract(t, unit, plan.ID, -60)
		s := evaluated(t, e, unit, "plan_swap")
		require.Equal(t, domaintest.CNY(c.fee), *s.Fee, number)
		require.Equal(t, domaintest.CNY(c.amount), *s.Amount, number)
		require.Equal(t, c.state, s.State, number)
		require.Equal(t, c.brand, s.NeedsBrand, number)
	}
}

// Rule 5 covers drops, crushing and impact; human damage is never free,
// not even inside a plan (rule 1), and a hardware fault of a phone in its
// first year is the manufacturer warranty's, free. A phone under its
// accidental-damage plan (day 40, in force since day 31) asked to be
// swapped under that plan for a cause the plan does not cover is refused at
// contract_id, nothing requested: it is not priced as the plan's swap.
func TestAuditNamedPlanMustCoverTheCause(t *testing.T) {
	e := domaintest.New(t)
	phone := fixModel(t, e, "P-NAMED", "phone", 299900)
	adp := accidentalDamagePlan(t, e,
		entitlement.DepreciationStep{UpToMonth: 3, Percent: 20}, entitlement.DepreciationStep{UpToMonth: 12, Percent: 35})
	unit := reviewUnit(t, e, phone, "PSN-NAMED", 39, 299900)
	k := e.Contract(t, unit, adp, -39)

	for _, cause := range []string{"human_damage", "performance"} {
		_, err := e.Swaps.RequestSwap(e.Ctx, e.Admin, swaps.NewSwap{UnitID: unit, Reason: "unrepairable", ContractID: k, FaultCause: cause})
		require.Equal(t, []string{"contract_id"}, domaintest.Fields(t, err), cause)
		require.Zero(t, e.Count(t, `SELECT count(*) FROM swaps WHERE tenant_id = $1 AND unit_id = $2`, unit), cause)
	}

	// Dropped: the plan's swap, 20% of 2,999.00 in month 2 = 599.80, paid
	// by the customer; the plan bears 2,399.20.
	s, err := e.Swaps.RequestSwap(e.Ctx, e.Admin, swaps.NewSwap{UnitID: unit, Reason: "unrepairable", ContractID: k, FaultCause: "accidental_damage"})
	require.NoError(t, err)
	require.NoError(t, e.Swaps.Evaluate(e.Ctx, e.Tenant, s.ID))
	s, err = e.Swaps.GetSwap(e.Ctx, e.Admin, s.ID)
	require.NoError(t, err)
	require.Equal(t, domaintest.CNY(59980), *s.Fee, "%v", *s.FeeRule)
	require.Equal(t, domaintest.CNY(299900-59980), *s.Amount)
}
