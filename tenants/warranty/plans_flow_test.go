package warranty_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/servicenet/servicenet/internal/domaintest"
	"github.com/servicenet/servicenet/tenants/catalog"
	"github.com/servicenet/servicenet/tenants/customers"
	"github.com/servicenet/servicenet/tenants/warranty"
	"github.com/servicenet/servicenet/tenants/warranty/entitlement"
)

// fridgeShop is a brand selling a refrigerator (12 months' warranty), its
// control board (300.00), a price list (labour 150.00, visit 50.00 for
// refrigerators), a two-year extended warranty and a no-reason repair plan
// (80 % off accidental damage, 100.00 within 5 business days), in one
// rolled-back transaction. quote is the repair of the board with a visit:
// 500.00.
type fridgeShop struct {
	*domaintest.Env
	model, board, extended, noReason, quote string
}

func newFridgeShop(t *testing.T) fridgeShop {
	t.Helper()
	s := fridgeShop{Env: domaintest.New(t)}
	s.model, s.board = s.Product(t, "BCD-470", "refrigerator", 12, "control_board", 30000)
	_, err := s.Catalog.CreatePriceList(s.Ctx, s.Admin, catalog.NewPriceList{EffectiveFrom: domaintest.Today(0),
		Labor:     []catalog.LaborRate{{Category: "refrigerator", ServiceKind: "repair", Amount: cny(15000)}},
		VisitFees: []catalog.VisitFee{{Category: "refrigerator", Amount: cny(5000)}}})
	require.NoError(t, err)
	ext, err := s.Warranty.CreatePlan(s.Ctx, s.Admin, warranty.NewPlan{Code: "EXT-2Y", Name: "两年延保", Kind: "extended_warranty",
		EligibleCategories: []string{"refrigerator"}, DurationMonths: 24, Price: cny(29900)})
	require.NoError(t, err)
	s.extended = ext.ID
	comp := cny(10000)
	nr, err := s.Warranty.CreatePlan(s.Ctx, s.Admin, warranty.NewPlan{Code: "NRR-1Y", Name: "无理由保修", Kind: "no_reason_repair",
		EligibleCategories: []string{"refrigerator"}, DurationMonths: 12, DiscountPercent: intp(80), Compensation: &comp,
		PayoutBusinessDays: intp(5), DepreciationSchedule: []entitlement.DepreciationStep{{UpToMonth: 12, Percent: 10}},
		Price: cny(9900)})
	require.NoError(t, err)
	s.noReason = nr.ID
	// The price list starts today: the work is priced now and decided for
	// the service day.
	q, err := s.Catalog.CreateQuote(s.Ctx, s.Admin, catalog.NewQuote{ModelID: s.model, ServiceKind: "repair", IncludeVisit: true,
		Parts: []catalog.QuotePart{{PartID: s.board, Quantity: 1}}})
	require.NoError(t, err)
	s.quote = q.ID
	return s
}

// unit registers a refrigerator bought on purchase at the brand store.
func (s fridgeShop) unit(t *testing.T, serial, purchase string) string {
	t.Helper()
	u, err := s.Customers.RegisterUnit(s.Ctx, s.Admin, customers.NewUnit{ModelID: s.model, Serial: serial,
		Customer:     &customers.NewCustomer{Name: "孙八", Phones: []string{"+86 138 0000 " + serial[len(serial)-4:]}},
		PurchaseDate: purchase, PurchasePrice: cny(299900), Channel: "brand_store"})
	require.NoError(t, err)
	return u.ID
}

func (s fridgeShop) decide(t *testing.T, unit, cause, on string) warranty.Entitlement {
	t.Helper()
	e, err := s.Warranty.Decide(s.Ctx, s.Admin, warranty.DecideRequest{UnitID: unit, QuoteID: s.quote, On: on,
		Fault: warranty.FaultReport{Cause: cause, PartCategories: []string{"control_board"}}})
	require.NoError(t, err)
	return e
}

// payers asserts the decision's totals: list 500.00 (visit 50.00, labour
// 150.00, board 300.00) and what the customer, the brand and the plan pay.
func payers(t *testing.T, d entitlement.Decision, customer, brand, plan int64) {
	t.Helper()
	require.Equal(t, int64(50000), d.Totals.List.Amount, "visit 50.00 + labour 150.00 + board 300.00")
	require.Equal(t, customer, d.Totals.Customer.Amount, "customer")
	require.Equal(t, brand, d.Totals.Brand.Amount, "brand")
	require.Equal(t, plan, d.Totals.Plan.Amount, "plan")
	require.Equal(t, "CNY", d.Totals.List.Currency)
}

// Rule 4 on a refrigerator bought on 31 January 2025 (a month's last day)
// with 12 months' warranty: the manufacturer warranty runs through
// 2026-01-30, the two-year extended warranty from the day after,
// 2026-01-31, through 2028-01-30. On the warranty's last day the brand
// repairs a performance fault; from the next day the plan does, and
// repairs dust or a surge free too, visit included (a large appliance):
// the customer pays nothing. Accidental damage is no fault the extended
// warranty repairs: the customer pays the price list.
func TestPlansFlowExtendedWarrantyFromAMonthEnd(t *testing.T) {
	s := newFridgeShop(t)
	unit := s.unit(t, "BCD-EXT-0001", "2025-01-31")
	c, err := s.Warranty.CreateContract(s.Ctx, s.Admin, warranty.NewContract{UnitID: unit, PlanID: s.extended, SoldOn: "2025-01-31"})
	require.NoError(t, err)
	require.Equal(t, "2026-01-31", c.StartsOn, "the day after the manufacturer warranty ends")
	require.Equal(t, "2028-01-30", c.EndsOn, "two years")
	require.Equal(t, cny(29900), c.Price)

	e := s.decide(t, unit, "performance", "2026-01-30")
	require.Equal(t, "2026-01-30", e.ManufacturerEnd)
	require.Equal(t, 365, e.Day)
	require.Equal(t, entitlement.BasisManufacturerWarranty, e.Decision.Basis)
	payers(t, e.Decision, 0, 50000, 0)

	for _, cause := range []string{"performance", "environmental_dust", "power_surge", "environmental_moisture"} {
		e = s.decide(t, unit, cause, "2026-01-31")
		require.Equal(t, entitlement.BasisExtendedWarranty, e.Decision.Basis, cause)
		require.Equal(t, c.ID, e.Decision.ContractID, cause)
		payers(t, e.Decision, 0, 0, 50000)
		require.Nil(t, e.Decision.Compensation, "an extended warranty owes no compensation")
	}

	e = s.decide(t, unit, "accidental_damage", "2026-02-15")
	payers(t, e.Decision, 50000, 0, 0)

	// Sold today, the manufacturer warranty long over: nothing to sell.
	late := s.unit(t, "BCD-EXT-0002", "2025-01-31")
	_, err = s.Warranty.CreateContract(s.Ctx, s.Admin, warranty.NewContract{UnitID: late, PlanID: s.extended})
	require.Equal(t, []string{"sold_on"}, domaintest.Fields(t, err))
}

// Rule 7 on a refrigerator bought on 1 October 2026, its no-reason plan
// valid from the next day for a year: environmental faults are
// repaired free and accidental damage 80 % off (visit 40.00 + labour
// 120.00 + board 240.00 by the plan, 100.00 by the customer), either way
// 100.00 owed to the customer by the plan within 5 business days of the
// repair (Tuesday 10 → Tuesday 17 November, day 41: past the three
// guarantees' 15 days). A performance fault is the manufacturer warranty's (the brand, no compensation: the plan covers
// faults outside the three guarantees), and human damage is never free
// (the customer, no compensation).
func TestPlansFlowNoReasonPlanCompensation(t *testing.T) {
	s := newFridgeShop(t)
	unit := s.unit(t, "BCD-NRR-0001", "2026-10-01")
	c, err := s.Warranty.CreateContract(s.Ctx, s.Admin, warranty.NewContract{UnitID: unit, PlanID: s.noReason, SoldOn: "2026-10-01"})
	require.NoError(t, err)
	require.Equal(t, "2026-10-02", c.StartsOn, "the next day")
	require.Equal(t, "2027-10-01", c.EndsOn, "one year")

	owed := func(t *testing.T, d entitlement.Decision) {
		t.Helper()
		require.Equal(t, entitlement.BasisNoReasonRepair, d.Basis)
		require.Equal(t, c.ID, d.ContractID)
		require.NotNil(t, d.Compensation)
		require.Equal(t, cny(10000), d.Compensation.Amount)
		require.Equal(t, "2026-11-17", d.Compensation.Due)
		require.Equal(t, "plan", d.Compensation.Payer)
	}
	e := s.decide(t, unit, "environmental_heat", "2026-11-10")
	owed(t, e.Decision)
	payers(t, e.Decision, 0, 0, 50000)

	e = s.decide(t, unit, "accidental_damage", "2026-11-10")
	owed(t, e.Decision)
	payers(t, e.Decision, 10000, 0, 40000)

	e = s.decide(t, unit, "performance", "2026-11-10")
	require.Equal(t, entitlement.BasisManufacturerWarranty, e.Decision.Basis)
	require.Nil(t, e.Decision.Compensation)
	payers(t, e.Decision, 0, 50000, 0)

	e = s.decide(t, unit, "human_damage", "2026-11-10")
	require.Nil(t, e.Decision.Compensation)
	payers(t, e.Decision, 50000, 0, 0)

	// The day of the purchase is before the plan: a surge then is the
	// customer's (no warranty fault, no plan yet), nothing owed.
	e = s.decide(t, unit, "power_surge", "2026-10-01")
	require.Nil(t, e.Decision.Compensation)
	payers(t, e.Decision, 50000, 0, 0)
}

// Two plans on one phone, each paying for its own causes (rules 4 and 5):
// bought on 15 October 2025 with 12 months' warranty, an accidental-damage
// plan (50 % off, from day 31 for a year: 2025-11-14 to 2026-11-13) and a
// two-year extended warranty (from 2026-10-15) overlap for a month. On
// 2026-11-01 a dropped phone's screen (1,200.00 + labour 80.00) is the
// accidental plan's, half each; a performance fault of the same screen is
// the extended warranty's, all of it. After the accidental plan's year, a
// drop is the customer's.
func TestPlansFlowTwoPlansOnAPhoneEachPaysItsCause(t *testing.T) {
	s := newPhoneShop(t)
	ext, err := s.Warranty.CreatePlan(s.Ctx, s.Admin, warranty.NewPlan{Code: "EXT-PHONE-2Y", Name: "手机两年延保", Kind: "extended_warranty",
		EligibleCategories: []string{"phone"}, DurationMonths: 24, Price: cny(29900)})
	require.NoError(t, err)
	u, err := s.Customers.RegisterUnit(s.Ctx, s.Admin, customers.NewUnit{ModelID: s.phone, Serial: "SN-P60-TWO-0001",
		Customer:     &customers.NewCustomer{Name: "周九", Phones: []string{"+86 138 0000 7001"}},
		PurchaseDate: "2025-10-15", PurchasePrice: cny(499900), Channel: "brand_store"})
	require.NoError(t, err)
	acc, err := s.Warranty.CreateContract(s.Ctx, s.Admin, warranty.NewContract{UnitID: u.ID, PlanID: s.plan, SoldOn: "2025-10-15"})
	require.NoError(t, err)
	require.Equal(t, []string{"2025-11-14", "2026-11-13"}, []string{acc.StartsOn, acc.EndsOn})
	xw, err := s.Warranty.CreateContract(s.Ctx, s.Admin, warranty.NewContract{UnitID: u.ID, PlanID: ext.ID, SoldOn: "2025-10-15"})
	require.NoError(t, err)
	require.Equal(t, []string{"2026-10-15", "2028-10-14"}, []string{xw.StartsOn, xw.EndsOn})

	q, err := s.Catalog.CreateQuote(s.Ctx, s.Admin, catalog.NewQuote{ModelID: s.phone, ServiceKind: "repair",
		Parts: []catalog.QuotePart{{PartID: s.screen, Quantity: 1}}})
	require.NoError(t, err)
	decide := func(t *testing.T, cause, on string) entitlement.Decision {
		t.Helper()
		e, err := s.Warranty.Decide(s.Ctx, s.Admin, warranty.DecideRequest{UnitID: u.ID, QuoteID: q.ID, On: on,
			Fault: warranty.FaultReport{Cause: cause, PartCategories: []string{"screen"}}})
		require.NoError(t, err)
		require.Equal(t, int64(128000), e.Decision.Totals.List.Amount, "screen 1,200.00 + labour 80.00")
		return e.Decision
	}
	d := decide(t, "accidental_damage", "2026-11-01")
	require.Equal(t, entitlement.BasisAccidentalDamage, d.Basis)
	require.Equal(t, acc.ID, d.ContractID)
	require.Equal(t, []int64{64000, 0, 64000}, []int64{d.Totals.Customer.Amount, d.Totals.Brand.Amount, d.Totals.Plan.Amount})

	d = decide(t, "performance", "2026-11-01")
	require.Equal(t, entitlement.BasisExtendedWarranty, d.Basis)
	require.Equal(t, xw.ID, d.ContractID)
	require.Equal(t, []int64{0, 0, 128000}, []int64{d.Totals.Customer.Amount, d.Totals.Brand.Amount, d.Totals.Plan.Amount})

	d = decide(t, "accidental_damage", "2026-11-14")
	require.Empty(t, d.ContractID)
	require.Equal(t, []int64{128000, 0, 0}, []int64{d.Totals.Customer.Amount, d.Totals.Brand.Amount, d.Totals.Plan.Amount})
}
