package swaps_test

import (
	"fmt"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/servicenet/servicenet/internal/domaintest"
	"github.com/servicenet/servicenet/tenants"
	"github.com/servicenet/servicenet/tenants/catalog"
	"github.com/servicenet/servicenet/tenants/customers"
	"github.com/servicenet/servicenet/tenants/network"
	"github.com/servicenet/servicenet/tenants/swaps"
	"github.com/servicenet/servicenet/tenants/warranty"
	"github.com/servicenet/servicenet/tenants/warranty/entitlement"
)

// reviewUnit registers a unit of model bought daysAgo days ago for fen.
func reviewUnit(t *testing.T, e *domaintest.Env, model, serial string, daysAgo int, fen int64) string {
	t.Helper()
	u, err := e.Customers.RegisterUnit(e.Ctx, e.Admin, customers.NewUnit{ModelID: model, Serial: serial,
		Customer:     &customers.NewCustomer{Name: "周八", Phones: []string{"+86 139 0000 0088"}},
		PurchaseDate: domaintest.Today(-daysAgo), PurchasePrice: domaintest.CNY(fen)})
	require.NoError(t, err)
	return u.ID
}

// evaluated requests a swap of unit for reason as the brand and runs its
// evaluation.
func evaluated(t *testing.T, e *domaintest.Env, unit, reason string) swaps.Swap {
	t.Helper()
	s, err := e.Swaps.RequestSwap(e.Ctx, e.Admin, swaps.NewSwap{UnitID: unit, Reason: reason})
	require.NoError(t, err)
	require.NoError(t, e.Swaps.Evaluate(e.Ctx, e.Tenant, s.ID))
	s, err = e.Swaps.GetSwap(e.Ctx, e.Admin, s.ID)
	require.NoError(t, err)
	return s
}

func rootManager(t *testing.T, e *domaintest.Env) tenants.Principal {
	t.Helper()
	n, err := e.Network.CreateNode(e.Ctx, e.Admin, network.NewNode{NodeFields: network.NodeFields{ExternalCode: "ROOT", Name: "ROOT"},
		Tier: "manufacturer", Status: "active"})
	require.NoError(t, err)
	return e.As(tenants.Principal{NodeID: n.ID}, tenants.RoleNodeManager)
}

// Rule 1: a performance fault within 15 days of the purchase may be
// exchanged, free. A plan the unit also carries (a tablet's swap plan,
// valid from the next day; a washer's no-reason plan, valid from the next
// day) does not turn the statutory exchange into a plan swap with a
// depreciation fee.
func TestReviewStatutoryExchangeCarriesNoPlanFee(t *testing.T) {
	e := domaintest.New(t)
	tablet := model(t, e, "T-1", "tablet", 299900)
	swapPlan, err := e.Warranty.CreatePlan(e.Ctx, e.Admin, warranty.NewPlan{Code: "SWAP-T", Name: "以换代修（平板）", Kind: "swap_for_repair",
		EligibleCategories: []string{"tablet"}, DurationMonths: 12, DepreciationCapPercent: intp(39), Price: domaintest.CNY(9900)})
	require.NoError(t, err)
	washer := model(t, e, "W-1", "washer", 299900)
	nrr, err := e.Warranty.CreatePlan(e.Ctx, e.Admin, warranty.NewPlan{Code: "NRR-1Y", Name: "无理由保修", Kind: "no_reason_repair",
		EligibleCategories: []string{"washer"}, DurationMonths: 12, DiscountPercent: intp(80),
		Compensation: new(domaintest.CNY(10000)), PayoutBusinessDays: intp(5), Price: domaintest.CNY(5900),
		DepreciationSchedule: []entitlement.DepreciationStep{{UpToMonth: 6, Percent: 5}, {UpToMonth: 12, Percent: 10}}})
	require.NoError(t, err)

	for _, c := range []struct{ name, model, plan, serial string }{
		{"Tablet", tablet, swapPlan.ID, "TSN-1"},
		{"Washer", washer, nrr.ID, "WSN-1"},
	} {
		t.Run(c.name, func(t *testing.T) {
			unit := reviewUnit(t, e, c.model, c.serial, 5, 299900)
			k := e.Contract(t, unit, c.plan, -5)
			ct, err := e.Warranty.GetContract(e.Ctx, e.Admin, k)
			require.NoError(t, err)
			require.Equal(t, warranty.StateActive, ct.State, "the plan is valid from the day after the purchase")

			// A statutory exchange is not under a plan: naming one is refused.
			_, err = e.Swaps.RequestSwap(e.Ctx, e.Admin, swaps.NewSwap{UnitID: unit, Reason: "statutory_exchange", ContractID: k})
			require.Equal(t, tenants.CodeInvalid, tenants.ErrorCode(err), "%v", err)
			require.Contains(t, err.Error(), "contract_id")

			s := evaluated(t, e, unit, "statutory_exchange")
			require.Equal(t, domaintest.CNY(0), *s.Fee, "a statutory exchange is free: %v", *s.FeeRule)
			require.Nil(t, s.ContractID, "no plan's benefit is used")
			require.Equal(t, domaintest.CNY(299900), *s.Amount, "the replacement's price, nothing deducted")

			// The same unit swapped under its plan pays the plan's fee.
			s, err = e.Swaps.Reject(e.Ctx, e.Admin, s.ID, "asked again as a plan swap", 0)
			require.NoError(t, err)
			s = evaluated(t, e, unit, "plan_swap")
			require.Equal(t, k, *s.ContractID)
			require.Positive(t, s.Fee.Amount)
		})
	}
}

// Rule 6 (seed: 新机的价格不超过原产品的购买价格): a discontinued model is
// replaced by a similar model priced no higher than what the customer paid
// for the original, not its list price.
func TestReviewReplacementPricedNoHigherThanThePurchasePrice(t *testing.T) {
	e := domaintest.New(t)
	manager := rootManager(t, e)
	orig := model(t, e, "W-ORIG", "washer", 899900)
	above := model(t, e, "W-7999", "washer", 799900)
	within := model(t, e, "W-6499", "washer", 649900)
	unit := reviewUnit(t, e, orig, "WSN-P-1", 100, 699900) // bought at 6,999.00 in a sale
	yes := true
	_, err := e.Catalog.UpdateProductModel(e.Ctx, e.Admin, orig, catalog.ProductModelUpdate{Discontinued: &yes}, 0)
	require.NoError(t, err)

	s := evaluated(t, e, unit, "unrepairable")
	require.NotNil(t, s.ReplacementModelID, "%v", *s.StateReason)
	require.Equal(t, within, *s.ReplacementModelID, "6,499.00 is within the 6,999.00 paid; 7,999.00 is not")
	require.Equal(t, domaintest.CNY(649900), *s.Amount, "no plan: no fee")
	require.Equal(t, swaps.StatePendingNodeManager, s.State)
	require.True(t, s.NeedsBrand, "6,499.00 is above the node limit 5,000.00")

	_, err = e.Swaps.Approve(e.Ctx, manager, s.ID, swaps.Approval{ReplacementModelID: above}, 0)
	require.Equal(t, []string{"replacement_model_id"}, domaintest.Fields(t, err), "7,999.00 is above the 6,999.00 paid")
	s, err = e.Swaps.Approve(e.Ctx, manager, s.ID, swaps.Approval{ReplacementModelID: within}, 0)
	require.NoError(t, err)
	require.Equal(t, swaps.StatePendingBrand, s.State)
}

// The approval chain by amount, at its edges: at most 1,000.00 is approved
// at once; up to 5,000.00 a node manager approves; above, a node manager
// and then the brand.
func TestReviewSwapApprovalChainEdges(t *testing.T) {
	e := domaintest.New(t)
	for _, c := range []struct {
		fen   int64
		state swaps.State
		brand bool
	}{
		{100000, swaps.StateApproved, false},
		{100001, swaps.StatePendingNodeManager, false},
		{500000, swaps.StatePendingNodeManager, false},
		{500001, swaps.StatePendingNodeManager, true},
	} {
		number := fmt.Sprintf("E-%d", c.fen)
		unit := reviewUnit(t, e, model(t, e, number, "washer", c.fen), "SN-"+number, 100, c.fen)
		s := evaluated(t, e, unit, "unrepairable")
		require.Equal(t, domaintest.CNY(c.fen), *s.Amount, number)
		require.Equal(t, c.state, s.State, number)
		require.Equal(t, c.brand, s.NeedsBrand, number)
	}
}

// Rule 5: an unrepairable phone under the accidental-damage plan is swapped
// for the plan's depreciation fee (20% of the 2,999.00 paid in month 2 of
// ownership: 599.80, paid by the customer); the replacement is no longer
// covered by the plan but keeps the normal warranty.
func TestReviewAccidentalDamageReplacementIsNotCovered(t *testing.T) {
	e := domaintest.New(t)
	manager := rootManager(t, e)
	phone := model(t, e, "P-1", "phone", 299900)
	adp := accidentalDamagePlan(t, e,
		entitlement.DepreciationStep{UpToMonth: 3, Percent: 20}, entitlement.DepreciationStep{UpToMonth: 12, Percent: 35})
	unit := reviewUnit(t, e, phone, "PSN-1", 40, 299900)
	k := e.Contract(t, unit, adp, -40)

	s := evaluated(t, e, unit, "unrepairable")
	require.Equal(t, k, *s.ContractID)
	require.Equal(t, domaintest.CNY(59980), *s.Fee, "%v", *s.FeeRule)
	require.Equal(t, domaintest.CNY(299900-59980), *s.Amount)
	require.Equal(t, swaps.StatePendingNodeManager, s.State)
	s, err := e.Swaps.Approve(e.Ctx, manager, s.ID, swaps.Approval{}, 0)
	require.NoError(t, err)
	require.Equal(t, swaps.StateApproved, s.State)
	s, err = e.Swaps.Fulfil(e.Ctx, manager, s.ID, swaps.Fulfilment{Serial: "PSN-2"}, 0)
	require.NoError(t, err)

	old, err := e.Warranty.GetContract(e.Ctx, e.Admin, k)
	require.NoError(t, err)
	require.Equal(t, warranty.StateConsumed, old.State)
	cs, _, err := e.Warranty.ListContracts(e.Ctx, e.Admin, warranty.ContractFilter{UnitID: *s.ReplacementUnitID})
	require.NoError(t, err)
	require.Empty(t, cs, "the replacement carries no plan")
	yes := true
	d, err := e.Warranty.Decide(e.Ctx, e.Admin, warranty.DecideRequest{UnitID: *s.ReplacementUnitID,
		Fault: warranty.FaultReport{Cause: "accidental_damage", Repairable: &yes}})
	require.NoError(t, err)
	require.NotEqual(t, entitlement.BasisAccidentalDamage, d.Decision.Basis, "the replacement is not covered by the plan")
	d, err = e.Warranty.Decide(e.Ctx, e.Admin, warranty.DecideRequest{UnitID: *s.ReplacementUnitID,
		Fault: warranty.FaultReport{Cause: "performance", Repairable: &yes}})
	require.NoError(t, err)
	require.Contains(t, []entitlement.Basis{entitlement.BasisManufacturerWarranty, entitlement.BasisStatutoryExchange,
		entitlement.BasisStatutoryReturn}, d.Decision.Basis, "it keeps the normal warranty")
}
