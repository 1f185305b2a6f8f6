package swaps_test

import (
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

func intp(n int) *int { return &n }

func model(t *testing.T, e *domaintest.Env, number, category string, fen int64) string {
	t.Helper()
	m, err := e.Catalog.CreateProductModel(e.Ctx, e.Admin, catalog.NewProductModel{ModelNumber: number, Category: category,
		Name: "Model " + number, RetailPrice: domaintest.CNY(fen), WarrantyMonths: 36})
	require.NoError(t, err)
	return m.ID
}

// A discontinued washer under the no-reason plan is swapped for a similar
// model priced no higher, for the plan's depreciation fee; above the node's
// limit the node manager and then the brand approve; fulfilment registers
// the replacement for the same owner and ends the old unit's plan. Each
// step is one transition with its event; evaluation is one job.
func TestRolledBackSwapDiscontinuedModel(t *testing.T) {
	e := domaintest.New(t)
	old := model(t, e, "W-OLD", "washer", 899900)
	similar := model(t, e, "W-SIM", "washer", 799900)
	dear := model(t, e, "W-DEAR", "washer", 999900)
	nrr, err := e.Warranty.CreatePlan(e.Ctx, e.Admin, warranty.NewPlan{Code: "NRR-1Y", Name: "无理由保修", Kind: "no_reason_repair",
		EligibleCategories: []string{"refrigerator", "air_conditioner", "washer", "tv"}, DurationMonths: 12, DiscountPercent: intp(80),
		Compensation: new(domaintest.CNY(10000)), PayoutBusinessDays: intp(5), Price: domaintest.CNY(5900),
		DepreciationSchedule: []entitlement.DepreciationStep{{UpToMonth: 6, Percent: 5}, {UpToMonth: 12, Percent: 10}}})
	require.NoError(t, err)
	sf, err := e.Customers.CreateStorefront(e.Ctx, e.Admin, customers.NewStorefront{Code: "SWAP-SHOP", Name: "SWAP-SHOP", Platform: "tmall"})
	require.NoError(t, err)
	shop := e.As(tenants.Principal{StorefrontID: sf.ID}, tenants.RoleStorefront)
	node, err := e.Network.CreateNode(e.Ctx, e.Admin, network.NewNode{NodeFields: network.NodeFields{ExternalCode: "ROOT", Name: "ROOT"},
		Tier: "manufacturer", Status: "active"})
	require.NoError(t, err)
	manager := e.As(tenants.Principal{NodeID: node.ID}, tenants.RoleNodeManager)

	purchase := domaintest.Today(-10)
	u, err := e.Customers.RegisterUnit(e.Ctx, shop, customers.NewUnit{ModelID: old, Serial: "WSN-0001",
		Customer:     &customers.NewCustomer{Name: "孙七", Phones: []string{"+86 139 0000 0001"}},
		PurchaseDate: purchase, PurchasePrice: domaintest.CNY(899900)})
	require.NoError(t, err)
	c, err := e.Warranty.CreateContract(e.Ctx, shop, warranty.NewContract{UnitID: u.ID, PlanID: nrr.ID, SoldOn: purchase})
	require.NoError(t, err)
	yes := true
	_, err = e.Catalog.UpdateProductModel(e.Ctx, e.Admin, old, catalog.ProductModelUpdate{Discontinued: &yes}, 0)
	require.NoError(t, err)

	s, err := e.Swaps.RequestSwap(e.Ctx, shop, swaps.NewSwap{UnitID: u.ID, Reason: "unrepairable"})
	require.NoError(t, err)
	require.Equal(t, swaps.State("requested"), s.State)
	require.Equal(t, 1, e.Jobs(t, "swap_evaluation"))
	require.NoError(t, e.Swaps.Evaluate(e.Ctx, e.Tenant, s.ID))
	s, err = e.Swaps.GetSwap(e.Ctx, shop, s.ID)
	require.NoError(t, err)
	require.Equal(t, swaps.State("pending_node_manager"), s.State)
	require.Equal(t, similar, *s.ReplacementModelID)
	require.Equal(t, c.ID, *s.ContractID, "the unit's active plan")
	require.True(t, s.NeedsBrand, "7,549.05 is above the node limit")
	// Rule 7: the plan's 5 % depreciation in month 1 of ownership, of the
	// purchase price 8,999.00, is the customer's fee: 449.95; the swap is
	// worth the replacement's 7,999.00 less the fee.
	require.Equal(t, domaintest.CNY(44995), *s.Fee)
	require.Contains(t, *s.FeeRule, "5% of the purchase price 899900 in month 1 of ownership")
	require.Equal(t, domaintest.CNY(799900-44995), *s.Amount)
	// The job again changes nothing.
	require.NoError(t, e.Swaps.Evaluate(e.Ctx, e.Tenant, s.ID))
	again, err := e.Swaps.GetSwap(e.Ctx, shop, s.ID)
	require.NoError(t, err)
	require.Equal(t, s.Version, again.Version)

	_, err = e.Swaps.Approve(e.Ctx, e.Admin, s.ID, swaps.Approval{}, 0)
	require.Equal(t, tenants.CodeForbidden, tenants.ErrorCode(err), "the brand is not the node manager: %v", err)
	_, err = e.Swaps.Fulfil(e.Ctx, manager, s.ID, swaps.Fulfilment{Serial: "WSN-0002"}, 0)
	require.Equal(t, tenants.CodeConflict, tenants.ErrorCode(err), "%v", err)
	s, err = e.Swaps.Approve(e.Ctx, manager, s.ID, swaps.Approval{Note: "photos checked"}, 0)
	require.NoError(t, err)
	require.Equal(t, swaps.State("pending_brand"), s.State)
	_, err = e.Swaps.Reject(e.Ctx, manager, s.ID, "no", 0)
	require.Equal(t, tenants.CodeForbidden, tenants.ErrorCode(err), "not the node manager's step: %v", err)
	for _, m := range []string{dear, old} {
		_, err = e.Swaps.Approve(e.Ctx, e.Admin, s.ID, swaps.Approval{ReplacementModelID: m}, 0)
		require.Equal(t, []string{"replacement_model_id"}, domaintest.Fields(t, err), "priced higher, or discontinued")
	}
	s, err = e.Swaps.Approve(e.Ctx, e.Admin, s.ID, swaps.Approval{}, 0)
	require.NoError(t, err)
	require.Equal(t, swaps.State("approved"), s.State)

	s, err = e.Swaps.Fulfil(e.Ctx, manager, s.ID, swaps.Fulfilment{Serial: "wsn-0002"}, 0)
	require.NoError(t, err)
	require.Equal(t, swaps.State("fulfilled"), s.State)
	var states []swaps.State
	for _, st := range s.Steps {
		states = append(states, st.ToState)
	}
	require.Equal(t, []swaps.State{"requested", "pending_node_manager", "pending_brand", "approved", "fulfilled"}, states)
	oldUnit, err := e.Customers.GetUnit(e.Ctx, shop, u.ID)
	require.NoError(t, err)
	require.Equal(t, "replaced", string(oldUnit.Status))
	nu, err := e.Customers.GetUnit(e.Ctx, shop, *s.ReplacementUnitID)
	require.NoError(t, err)
	require.Equal(t, similar, nu.ModelID)
	require.Equal(t, "WSN-0002", nu.Serial)
	require.Equal(t, oldUnit.CustomerID, nu.CustomerID, "same owner")
	ct, err := e.Warranty.GetContract(e.Ctx, e.Admin, c.ID)
	require.NoError(t, err)
	require.Equal(t, "consumed", string(ct.State), "the old unit's plan ends")
	for _, typ := range []string{"swap.requested", "swap.approved", "swap.fulfilled"} {
		require.Equal(t, 1, e.Count(t, `SELECT count(*) FROM events WHERE tenant_id = $1 AND type = $2 AND subject_id = $3`, typ, s.ID), typ)
	}
	for _, action := range []func() error{
		func() error { _, err := e.Swaps.Approve(e.Ctx, e.Admin, s.ID, swaps.Approval{}, 0); return err },
		func() error { _, err := e.Swaps.Reject(e.Ctx, e.Admin, s.ID, "x", 0); return err },
	} {
		require.Equal(t, tenants.CodeConflict, tenants.ErrorCode(action()), "a fulfilled swap is final")
	}
}

// A small swap under a swap-for-repair plan is approved at once, for the
// plan's flat fee; one open swap per unit.
func TestRolledBackSwapSmallUnderPlanApprovedAtOnce(t *testing.T) {
	e := domaintest.New(t)
	agent := e.As(tenants.Principal{}, tenants.RoleAgent)
	kettle := model(t, e, "K-1", "small_appliance", 59900)
	plan, err := e.Warranty.CreatePlan(e.Ctx, e.Admin, warranty.NewPlan{Code: "SWAP-K", Name: "以换代修（厨房）", Kind: "swap_for_repair",
		EligibleCategories: []string{"kitchen", "small_appliance"}, DurationMonths: 12, FlatFee: new(domaintest.CNY(3000)), Price: domaintest.CNY(2900)})
	require.NoError(t, err)
	u := e.Unit(t, kettle, "KSN-0001", -40, "+86 139 0000 0002")
	c := e.Contract(t, u, plan.ID, -40)
	s, err := e.Swaps.RequestSwap(e.Ctx, agent, swaps.NewSwap{UnitID: u, Reason: "plan_swap", ContractID: c})
	require.NoError(t, err)
	_, err = e.Swaps.RequestSwap(e.Ctx, agent, swaps.NewSwap{UnitID: u, Reason: "plan_swap"})
	require.Equal(t, tenants.CodeConflict, tenants.ErrorCode(err), "one open swap per unit: %v", err)
	require.NoError(t, e.Swaps.Evaluate(e.Ctx, e.Tenant, s.ID))
	s, err = e.Swaps.GetSwap(e.Ctx, agent, s.ID)
	require.NoError(t, err)
	require.Equal(t, swaps.State("approved"), s.State)
	require.Equal(t, domaintest.CNY(3000), *s.Fee, "the plan's flat fee")
	require.Equal(t, domaintest.CNY(56900), *s.Amount)
	require.Equal(t, kettle, *s.ReplacementModelID, "not discontinued: the same model")
	s, err = e.Swaps.Reject(e.Ctx, e.Admin, s.ID, "customer kept the unit", 0)
	require.NoError(t, err)
	require.Equal(t, swaps.State("rejected"), s.State)
	require.Equal(t, 1, e.Count(t, `SELECT count(*) FROM events WHERE tenant_id = $1 AND type = 'swap.rejected' AND subject_id = $2`, s.ID))
}
