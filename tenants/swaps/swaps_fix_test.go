package swaps_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/servicenet/servicenet/internal/domaintest"
	"github.com/servicenet/servicenet/tenants"
	"github.com/servicenet/servicenet/tenants/catalog"
	"github.com/servicenet/servicenet/tenants/customers"
	"github.com/servicenet/servicenet/tenants/swaps"
	"github.com/servicenet/servicenet/tenants/warranty"
	"github.com/servicenet/servicenet/tenants/warranty/entitlement"
)

// fixModel is a model of category at fen with a 12-month manufacturer
// warranty (the seed's whole-unit term), so that an extended warranty
// starts on day 366.
func fixModel(t *testing.T, e *domaintest.Env, number, category string, fen int64) string {
	t.Helper()
	m, err := e.Catalog.CreateProductModel(e.Ctx, e.Admin, catalog.NewProductModel{ModelNumber: number, Category: category,
		Name: "Model " + number, RetailPrice: domaintest.CNY(fen), WarrantyMonths: 12})
	require.NoError(t, err)
	return m.ID
}

// accidentalDamagePlan is a phone accidental-damage plan (rule 5: 50 % off
// a drop's repair, a swap for the schedule's depreciation), one year.
func accidentalDamagePlan(t *testing.T, e *domaintest.Env, schedule ...entitlement.DepreciationStep) string {
	t.Helper()
	p, err := e.Warranty.CreatePlan(e.Ctx, e.Admin, warranty.NewPlan{Code: "ADP-1Y", Name: "摔碰也管修", Kind: "accidental_damage",
		EligibleCategories: []string{"phone"}, DurationMonths: 12, DiscountPercent: intp(50), Price: domaintest.CNY(9900),
		DepreciationSchedule: schedule})
	require.NoError(t, err)
	return p.ID
}

func extendedPlan(t *testing.T, e *domaintest.Env, code string, categories ...string) string {
	t.Helper()
	p, err := e.Warranty.CreatePlan(e.Ctx, e.Admin, warranty.NewPlan{Code: code, Name: "两年延保", Kind: "extended_warranty",
		EligibleCategories: categories, DurationMonths: 24, Price: domaintest.CNY(19900)})
	require.NoError(t, err)
	return p.ID
}

// Seed 002: 以换代修 (tablets: a new unit for a depreciation fee of at most
// 39% of the purchase price) and 延保 (after the manufacturer warranty:
// faults from dust, heat, moisture, power surges or unstable voltage
// repaired or replaced free; rule 4 and the engine cover performance
// faults too). A tablet bought 370 days ago for 2,999.00 holds both: the
// extended warranty started on day 366 (12-month warranty), the swap plan
// runs from day 31 for a year (start_offset_days 30), so both are in force.
// Its board died (unrepairable). Every fault the swap plan swaps for (a
// hardware, performance fault) the extended warranty replaces free, so a
// swap asked without naming a contract is under the extended warranty:
// fee 0.00 (the customer pays nothing; the plan pays the replacement),
// where it used to be the swap plan's 39% × 2,999.00 = 1,169.61.
//
// A phone with an accidental-damage plan and an extended warranty is
// different: only the accidental-damage plan covers a drop, only the
// extended warranty a performance fault, and the swap does not know the
// cause: it is priced under the accidental-damage plan (its schedule's
// 50% in month 13 of 2,999.00 = 1,499.50) and waits for the brand, with
// the reason naming the extended warranty.
func TestSwapsFixExtendedWarrantyBeatsAFeePlan(t *testing.T) {
	e := domaintest.New(t)
	tablet := fixModel(t, e, "T-FIX", "tablet", 299900)
	phone := fixModel(t, e, "P-FIX", "phone", 299900)
	ext := extendedPlan(t, e, "EXT-2Y", "tablet", "phone")
	swapPlan, err := e.Warranty.CreatePlan(e.Ctx, e.Admin, warranty.NewPlan{Code: "SWAP-T", Name: "以换代修（平板）", Kind: "swap_for_repair",
		EligibleCategories: []string{"tablet"}, DurationMonths: 12, StartOffsetDays: intp(30), DepreciationCapPercent: intp(39),
		Price: domaintest.CNY(9900)})
	require.NoError(t, err)
	adp := accidentalDamagePlan(t, e,
		entitlement.DepreciationStep{UpToMonth: 6, Percent: 30}, entitlement.DepreciationStep{UpToMonth: 12, Percent: 50})

	t.Run("TabletSwapPlanAndExtendedWarranty", func(t *testing.T) {
		unit := reviewUnit(t, e, tablet, "TSN-FIX-1", 370, 299900)
		kSwap := e.Contract(t, unit, swapPlan.ID, -370)
		kExt := e.Contract(t, unit, ext, -370)
		for _, k := range []string{kSwap, kExt} {
			c, err := e.Warranty.GetContract(e.Ctx, e.Admin, k)
			require.NoError(t, err)
			require.Equal(t, warranty.StateActive, c.State, "%s runs %s to %s", c.Plan.Kind, c.StartsOn, c.EndsOn)
		}

		s := evaluated(t, e, unit, "unrepairable")
		require.NotNil(t, s.ContractID)
		require.Equal(t, kExt, *s.ContractID, "the extended warranty replaces the unit free: %v", *s.FeeRule)
		require.Equal(t, domaintest.CNY(0), *s.Fee, "no fee: not 39%% of 2,999.00 = 1,169.61")
		require.Equal(t, domaintest.CNY(299900), *s.Amount, "the replacement's price, nothing deducted")

		// Named, the swap plan still prices its own fee: the customer's choice.
		s, err = e.Swaps.Reject(e.Ctx, e.Admin, s.ID, "asked again under the swap plan", 0)
		require.NoError(t, err)
		s, err = e.Swaps.RequestSwap(e.Ctx, e.Admin, swaps.NewSwap{UnitID: unit, Reason: "plan_swap", ContractID: kSwap})
		require.NoError(t, err)
		require.NoError(t, e.Swaps.Evaluate(e.Ctx, e.Tenant, s.ID))
		s, err = e.Swaps.GetSwap(e.Ctx, e.Admin, s.ID)
		require.NoError(t, err)
		require.Equal(t, domaintest.CNY(116961), *s.Fee, "39%% of 2,999.00, rounded down: %v", *s.FeeRule)
	})

	t.Run("PhoneAccidentalPlanAndExtendedWarrantyNeedTheBrand", func(t *testing.T) {
		unit := reviewUnit(t, e, phone, "PSN-FIX-1", 370, 299900)
		kAdp := e.Contract(t, unit, adp, -370)
		kExt := e.Contract(t, unit, ext, -370)
		s := evaluated(t, e, unit, "unrepairable")
		require.Equal(t, kAdp, *s.ContractID)
		require.Equal(t, domaintest.CNY(149950), *s.Fee, "month 13: the schedule's last step, 50%% of 2,999.00: %v", *s.FeeRule)
		require.Equal(t, swaps.StatePendingBrand, s.State)
		require.True(t, s.NeedsBrand)
		require.Contains(t, *s.StateReason, kExt)
	})
}

// Rule 1 (三包): a unit with a performance fault within 15 days is
// exchanged free, the brand's duty, using no plan. A tablet bought 5 days
// ago for 999.00 with a tablet swap plan (99.00, in force from the next day
// for a year) and a two-year extended warranty (199.00, pending until the
// manufacturer warranty ends) is exchanged: both plans follow the
// replacement with their dates and states, and the swap plan covers a
// hardware fault of the new unit today: a new unit for at most 39% of the
// purchase price, 999.00 × 39% = 389.61, paid by the customer. Before, the
// fulfilment consumed the swap plan and cancelled the extended warranty.
func TestSwapsFixPlansFollowAStatutoryExchange(t *testing.T) {
	e := domaintest.New(t)
	tablet := fixModel(t, e, "T-EXCH", "tablet", 99900)
	swapPlan, err := e.Warranty.CreatePlan(e.Ctx, e.Admin, warranty.NewPlan{Code: "SWAP-T", Name: "以换代修（平板）", Kind: "swap_for_repair",
		EligibleCategories: []string{"tablet"}, DurationMonths: 12, DepreciationCapPercent: intp(39), Price: domaintest.CNY(9900)})
	require.NoError(t, err)
	ext := extendedPlan(t, e, "EXT-2Y", "tablet")
	unit := reviewUnit(t, e, tablet, "TSN-EXCH-1", 5, 99900)
	kSwap := e.Contract(t, unit, swapPlan.ID, -5)
	kExt := e.Contract(t, unit, ext, -5)
	before := map[string]warranty.Contract{}
	for _, k := range []string{kSwap, kExt} {
		c, err := e.Warranty.GetContract(e.Ctx, e.Admin, k)
		require.NoError(t, err)
		before[k] = c
	}
	require.Equal(t, warranty.StateActive, before[kSwap].State)
	require.Equal(t, warranty.StatePending, before[kExt].State)

	s := evaluated(t, e, unit, "statutory_exchange")
	require.Equal(t, domaintest.CNY(0), *s.Fee)
	require.Equal(t, swaps.StateApproved, s.State, "999.00 is within the auto-approval limit")
	s, err = e.Swaps.Fulfil(e.Ctx, e.Admin, s.ID, swaps.Fulfilment{Serial: "TSN-EXCH-2"}, 0)
	require.NoError(t, err)
	nu := *s.ReplacementUnitID

	for _, k := range []string{kSwap, kExt} {
		c, err := e.Warranty.GetContract(e.Ctx, e.Admin, k)
		require.NoError(t, err)
		require.Equal(t, nu, c.UnitID, "%s follows the replacement", c.Plan.Kind)
		require.Equal(t, before[k].State, c.State)
		require.Equal(t, before[k].StartsOn, c.StartsOn)
		require.Equal(t, before[k].EndsOn, c.EndsOn)
		require.Equal(t, before[k].Price, c.Price)
		h, err := e.Warranty.ContractHistory(e.Ctx, e.Admin, k)
		require.NoError(t, err)
		require.Contains(t, h[len(h)-1].Reason, nu)
	}
	cs, _, err := e.Warranty.ListContracts(e.Ctx, e.Admin, warranty.ContractFilter{UnitID: unit})
	require.NoError(t, err)
	require.Empty(t, cs, "the old unit keeps no plan")

	no := false
	d, err := e.Warranty.Decide(e.Ctx, e.Admin, warranty.DecideRequest{UnitID: nu, RequestedRemedy: "swap",
		Fault: warranty.FaultReport{Cause: "performance", Repairable: &no}})
	require.NoError(t, err)
	require.Equal(t, entitlement.RemedySwap, d.Decision.Remedy, "%+v", d.Decision.Trace)
	require.Equal(t, entitlement.BasisSwapForRepair, d.Decision.Basis)
	require.Equal(t, kSwap, d.Decision.ContractID)
	require.Equal(t, domaintest.CNY(38961), d.Decision.Totals.Customer, "999.00 × 39%%, paid by the customer")
	require.Equal(t, domaintest.CNY(0), d.Decision.Totals.Brand)
}

// A plan swap uses its plan: that contract ends with the old unit (rule 5:
// the replacement is not covered by it), while the customer's other plan
// follows the replacement.
func TestSwapsFixPlanSwapEndsOnlyItsPlan(t *testing.T) {
	e := domaintest.New(t)
	phone := fixModel(t, e, "P-ADP", "phone", 99900)
	adp := accidentalDamagePlan(t, e,
		entitlement.DepreciationStep{UpToMonth: 3, Percent: 20}, entitlement.DepreciationStep{UpToMonth: 12, Percent: 35})
	ext := extendedPlan(t, e, "EXT-2Y", "phone")
	unit := reviewUnit(t, e, phone, "PSN-ADP-1", 40, 99900)
	kAdp := e.Contract(t, unit, adp, -40)
	kExt := e.Contract(t, unit, ext, -40)

	s, err := e.Swaps.RequestSwap(e.Ctx, e.Admin, swaps.NewSwap{UnitID: unit, Reason: "unrepairable", ContractID: kAdp})
	require.NoError(t, err)
	require.NoError(t, e.Swaps.Evaluate(e.Ctx, e.Tenant, s.ID))
	s, err = e.Swaps.GetSwap(e.Ctx, e.Admin, s.ID)
	require.NoError(t, err)
	require.Equal(t, domaintest.CNY(19980), *s.Fee, "month 2: 20%% of 999.00")
	require.Equal(t, swaps.StateApproved, s.State, "999.00 - 199.80 = 799.20 within the auto-approval limit")
	s, err = e.Swaps.Fulfil(e.Ctx, e.Admin, s.ID, swaps.Fulfilment{Serial: "PSN-ADP-2"}, 0)
	require.NoError(t, err)

	used, err := e.Warranty.GetContract(e.Ctx, e.Admin, kAdp)
	require.NoError(t, err)
	require.Equal(t, warranty.StateConsumed, used.State)
	require.Equal(t, unit, used.UnitID)
	other, err := e.Warranty.GetContract(e.Ctx, e.Admin, kExt)
	require.NoError(t, err)
	require.Equal(t, warranty.StatePending, other.State)
	require.Equal(t, *s.ReplacementUnitID, other.UnitID)
}

// Rule 6's default flat fee is 30 CNY: a unit bought in another currency
// (the tenant's, with no exchange rate configured) gets no fee read off it.
func TestSwapsFixDefaultFlatFeeIsCNY(t *testing.T) {
	t.Parallel()
	purchase, on := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC), time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC)
	legacy := &warranty.Plan{Kind: warranty.KindSwapForRepair} // made before a kitchen swap plan had to set its flat fee
	fee, _, ok := swaps.Fee(legacy, "kitchen", domaintest.CNY(59900), purchase, on)
	require.True(t, ok)
	require.Equal(t, int64(3000), fee, "30.00 CNY")
	fee, rule, ok := swaps.Fee(legacy, "kitchen", tenants.Money{Amount: 59900, Currency: "HKD"}, purchase, on)
	require.False(t, ok, rule)
	require.Zero(t, fee)
	require.Contains(t, rule, "CNY")
}

// Seed 002 (七天无理由退换货): a storefront's online sale, received 7 days
// ago (the last of the seven days, which run from the day after receipt:
// 七日期间自消费者签收商品的次日开始起算), that the customer no longer wants
// (突然不喜欢了) and can be resold: the exchange is allowed, nothing is
// charged, and the buyer pays the freight (nobody's fault). Received 8 days
// ago: refused.
func TestSwapsFixChangeOfMindExchange(t *testing.T) {
	e := domaintest.New(t)
	kettle := fixModel(t, e, "K-FIX", "small_appliance", 29900)
	sf, err := e.Customers.CreateStorefront(e.Ctx, e.Admin, customers.NewStorefront{Code: "FIX-SHOP", Name: "FIX-SHOP", Platform: "tmall"})
	require.NoError(t, err)
	shop := e.As(tenants.Principal{StorefrontID: sf.ID}, tenants.RoleStorefront)
	for _, c := range []struct {
		name    string
		days    int
		allowed bool
	}{{"SeventhDayAfterReceipt", 7, true}, {"EighthDayAfterReceipt", 8, false}} {
		t.Run(c.name, func(t *testing.T) {
			u, err := e.Customers.RegisterUnit(e.Ctx, shop, customers.NewUnit{ModelID: kettle, Serial: "KSN-" + c.name,
				Customer:     &customers.NewCustomer{Name: "李四", Phones: []string{"+86 139 0000 0077"}},
				PurchaseDate: domaintest.Today(-c.days), PurchasePrice: domaintest.CNY(29900)})
			require.NoError(t, err)
			d, err := e.Warranty.Decide(e.Ctx, e.Admin, warranty.DecideRequest{UnitID: u.ID, RequestedRemedy: "exchange",
				Fault: warranty.FaultReport{ChangeOfMind: true, Resaleable: true}})
			require.NoError(t, err)
			if !c.allowed {
				require.Equal(t, entitlement.RemedyNone, d.Decision.Remedy)
				require.Empty(t, d.Decision.Remedies)
				return
			}
			require.Equal(t, entitlement.RemedyExchange, d.Decision.Remedy, "%+v", d.Decision.Trace)
			require.Equal(t, entitlement.BasisNoReasonReturn, d.Decision.Basis)
			require.NotNil(t, d.Decision.Freight)
			require.Equal(t, "buyer", d.Decision.Freight.Payer)
			require.Equal(t, domaintest.CNY(0), d.Decision.Totals.Customer)
			require.Equal(t, domaintest.CNY(0), d.Decision.Totals.Brand)
		})
	}
}

// With the fault's cause (a ticket's diagnosis) the plan is the one that
// covers it: the same phone (accidental-damage plan and extended warranty
// in force, 2,999.00, month 13) dropped and broken is the accidental-damage
// plan's swap for its 50% = 1,499.50, paid by the customer, and the
// amount 2,999.00 - 1,499.50 = 1,499.50 needs a node manager only; with a
// performance fault it is the extended warranty's, free. A cause outside
// the engine's vocabulary is refused at fault_cause and nothing is
// requested.
func TestSwapsFixFaultCauseChoosesThePlan(t *testing.T) {
	e := domaintest.New(t)
	phone := fixModel(t, e, "P-CAUSE", "phone", 299900)
	ext := extendedPlan(t, e, "EXT-2Y", "phone")
	adp := accidentalDamagePlan(t, e,
		entitlement.DepreciationStep{UpToMonth: 6, Percent: 30}, entitlement.DepreciationStep{UpToMonth: 12, Percent: 50})
	unit := reviewUnit(t, e, phone, "PSN-CAUSE-1", 370, 299900)
	kAdp := e.Contract(t, unit, adp, -370)
	kExt := e.Contract(t, unit, ext, -370)

	_, err := e.Swaps.RequestSwap(e.Ctx, e.Admin, swaps.NewSwap{UnitID: unit, Reason: "unrepairable", FaultCause: "dropped"})
	require.Equal(t, []string{"fault_cause"}, domaintest.Fields(t, err))
	require.Zero(t, e.Count(t, `SELECT count(*) FROM swaps WHERE tenant_id = $1 AND unit_id = $2`, unit))

	ask := func(cause string) swaps.Swap {
		s, err := e.Swaps.RequestSwap(e.Ctx, e.Admin, swaps.NewSwap{UnitID: unit, Reason: "unrepairable", FaultCause: cause})
		require.NoError(t, err)
		require.NoError(t, e.Swaps.Evaluate(e.Ctx, e.Tenant, s.ID))
		s, err = e.Swaps.GetSwap(e.Ctx, e.Admin, s.ID)
		require.NoError(t, err)
		require.Equal(t, cause, *s.FaultCause)
		return s
	}
	s := ask("accidental_damage")
	require.Equal(t, kAdp, *s.ContractID)
	require.Equal(t, domaintest.CNY(149950), *s.Fee, "%v", *s.FeeRule)
	require.Equal(t, domaintest.CNY(149950), *s.Amount)
	require.Equal(t, swaps.StatePendingNodeManager, s.State)
	require.False(t, s.NeedsBrand)
	_, err = e.Swaps.Reject(e.Ctx, e.Admin, s.ID, "asked again", 0)
	require.NoError(t, err)

	s = ask("performance")
	require.Equal(t, kExt, *s.ContractID)
	require.Equal(t, domaintest.CNY(0), *s.Fee, "%v", *s.FeeRule)
	require.Equal(t, domaintest.CNY(299900), *s.Amount)
	require.Contains(t, s.Steps[0].Reason, "fault cause performance")
	_, err = e.Swaps.Reject(e.Ctx, e.Admin, s.ID, "asked again", 0)
	require.NoError(t, err)

	// A cause no plan covers (the unit was crushed on purpose) is under no
	// plan: not priced as the accidental-damage plan's swap, and never free
	// (rule 1): the brand decides, whatever the amount.
	s = ask("human_damage")
	require.Nil(t, s.ContractID, "%v", *s.FeeRule)
	require.Equal(t, swaps.StatePendingBrand, s.State)
	require.True(t, s.NeedsBrand)
}

// A seven-day change-of-mind exchange (rule 9: a storefront sale) is a
// swap owed without a plan: no fee, no plan used (naming one is refused),
// and the unit's plans follow the replacement.
func TestSwapsFixNoReasonExchangeUsesNoPlan(t *testing.T) {
	e := domaintest.New(t)
	tablet := fixModel(t, e, "T-NRX", "tablet", 99900)
	swapPlan, err := e.Warranty.CreatePlan(e.Ctx, e.Admin, warranty.NewPlan{Code: "SWAP-T", Name: "以换代修（平板）", Kind: "swap_for_repair",
		EligibleCategories: []string{"tablet"}, DurationMonths: 12, DepreciationCapPercent: intp(39), Price: domaintest.CNY(9900)})
	require.NoError(t, err)
	sf, err := e.Customers.CreateStorefront(e.Ctx, e.Admin, customers.NewStorefront{Code: "NRX-SHOP", Name: "NRX-SHOP", Platform: "tmall"})
	require.NoError(t, err)
	shop := e.As(tenants.Principal{StorefrontID: sf.ID}, tenants.RoleStorefront)
	u, err := e.Customers.RegisterUnit(e.Ctx, shop, customers.NewUnit{ModelID: tablet, Serial: "TSN-NRX-1",
		Customer:     &customers.NewCustomer{Name: "周八", Phones: []string{"+86 139 0000 0088"}},
		PurchaseDate: domaintest.Today(-3), PurchasePrice: domaintest.CNY(99900)})
	require.NoError(t, err)
	unit := u.ID
	k := e.Contract(t, unit, swapPlan.ID, -3)

	_, err = e.Swaps.RequestSwap(e.Ctx, e.Admin, swaps.NewSwap{UnitID: unit, Reason: "no_reason_exchange", ContractID: k})
	require.Equal(t, []string{"contract_id"}, domaintest.Fields(t, err))
	s := evaluated(t, e, unit, "no_reason_exchange")
	require.Nil(t, s.ContractID)
	require.Equal(t, domaintest.CNY(0), *s.Fee, "%v", *s.FeeRule)
	require.Equal(t, swaps.StateApproved, s.State)
	s, err = e.Swaps.Fulfil(e.Ctx, e.Admin, s.ID, swaps.Fulfilment{Serial: "TSN-NRX-2"}, 0)
	require.NoError(t, err)
	c, err := e.Warranty.GetContract(e.Ctx, e.Admin, k)
	require.NoError(t, err)
	require.Equal(t, *s.ReplacementUnitID, c.UnitID)
	require.Equal(t, warranty.StateActive, c.State)
}
