package warranty_test

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/servicenet/servicenet/internal/domaintest"
	"github.com/servicenet/servicenet/tenants"
	"github.com/servicenet/servicenet/tenants/catalog"
	"github.com/servicenet/servicenet/tenants/customers"
	"github.com/servicenet/servicenet/tenants/warranty"
	"github.com/servicenet/servicenet/tenants/warranty/entitlement"
)

// phoneShop is a brand with a phone model, its screen, a price list (labour
// 80.00, no visit fee), an accidental-damage plan (50 % off, from day 31)
// and a storefront, in one rolled-back transaction.
type phoneShop struct {
	*domaintest.Env
	phone, screen, plan string
	shop                tenants.Principal // the storefront's key
}

func cny(fen int64) tenants.Money { return tenants.Money{Amount: fen, Currency: "CNY"} }

func intp(n int) *int { return &n }

func newPhoneShop(t *testing.T) phoneShop {
	t.Helper()
	s := phoneShop{Env: domaintest.New(t)}
	ctx, p := s.Ctx, s.Admin
	m, err := s.Catalog.CreateProductModel(ctx, p, catalog.NewProductModel{ModelNumber: "P60-PRO", Category: "phone", Name: "Model P60-PRO",
		RetailPrice: cny(499900), WarrantyMonths: 12})
	require.NoError(t, err)
	s.phone = m.ID
	part, err := s.Catalog.CreatePart(ctx, p, catalog.NewPart{PartNumber: "P60-LCD", Name: "屏幕总成", Category: "screen",
		Price: cny(120000), CompatibleModelIDs: []string{s.phone}})
	require.NoError(t, err)
	s.screen = part.ID
	zero := cny(0)
	_, err = s.Catalog.CreatePriceList(ctx, p, catalog.NewPriceList{EffectiveFrom: domaintest.Today(0), DefaultVisitFee: &zero,
		Labor: []catalog.LaborRate{{Category: "phone", ServiceKind: "repair", Amount: cny(8000)}}})
	require.NoError(t, err)
	plan, err := s.Warranty.CreatePlan(ctx, p, warranty.NewPlan{Code: "ADP-1Y", Name: "碎屏意外保", Kind: "accidental_damage",
		EligibleCategories: []string{"phone"}, DurationMonths: 12, DiscountPercent: intp(50), Price: cny(19900),
		DepreciationSchedule: []entitlement.DepreciationStep{{UpToMonth: 6, Percent: 20}, {UpToMonth: 12, Percent: 40}}})
	require.NoError(t, err)
	s.plan = plan.ID
	sf, err := s.Customers.CreateStorefront(ctx, p, customers.NewStorefront{Code: "SHOP-A", Name: "SHOP-A", Platform: "tmall"})
	require.NoError(t, err)
	s.shop = s.As(tenants.Principal{StorefrontID: sf.ID}, tenants.RoleStorefront)
	return s
}

// sell registers a phone bought daysAgo days ago through the storefront,
// with the plan sold at the purchase: the unit's and the contract's ids.
func (s phoneShop) sell(t *testing.T, serial string, daysAgo int) (unit, contract string) {
	t.Helper()
	purchase := domaintest.Today(-daysAgo)
	u, err := s.Customers.RegisterUnit(s.Ctx, s.shop, customers.NewUnit{ModelID: s.phone, Serial: serial,
		Customer:     &customers.NewCustomer{Name: "赵六", Phones: []string{"+86 138 0000 " + serial[len(serial)-4:]}},
		PurchaseDate: purchase, PurchasePrice: cny(499900), InvoiceNumber: "FP-" + serial})
	require.NoError(t, err)
	c, err := s.Warranty.CreateContract(s.Ctx, s.shop, warranty.NewContract{UnitID: u.ID, PlanID: s.plan, SoldOn: purchase,
		ExternalReference: "TM-" + serial})
	require.NoError(t, err)
	return u.ID, c.ID
}

// The decision's money: the list price, and who pays it (customer, plan,
// brand), from DESIGN.md's entitlement rules.
func TestRolledBackDecideEntitlement(t *testing.T) {
	s := newPhoneShop(t)
	unit, contract := s.sell(t, "SN-P60-0001", 39) // today is day 40
	screenRepair := &warranty.Work{ServiceKind: "repair", Parts: []catalog.QuotePart{{PartID: s.screen, Quantity: 1}}}
	dropped := warranty.FaultReport{Cause: "accidental_damage", PartCategories: []string{"screen"}}
	human := warranty.FaultReport{Cause: "human_damage", PartCategories: []string{"screen"}}
	totals := func(t *testing.T, req warranty.DecideRequest) entitlement.Totals {
		t.Helper()
		e, err := s.Warranty.Decide(s.Ctx, s.shop, req)
		require.NoError(t, err)
		return e.Decision.Totals
	}

	t.Run("DroppedPhoneOnDay40IsAtLeastHalfOff", func(t *testing.T) {
		e, err := s.Warranty.Decide(s.Ctx, s.shop, warranty.DecideRequest{UnitID: unit, Fault: dropped, Work: screenRepair})
		require.NoError(t, err)
		require.Equal(t, 40, e.Day)
		require.Equal(t, domaintest.Today(0), e.On)
		require.Equal(t, 1, e.PriceListVersion)
		d := e.Decision
		require.Equal(t, entitlement.Basis("accidental_damage"), d.Basis)
		require.Equal(t, contract, d.ContractID)
		require.Equal(t, entitlement.RemedyKind("repair"), d.Remedy)
		require.Equal(t, int64(128000), d.Totals.List.Amount, "screen 1,200 + labour 80")
		// Rule 5, the plan's discount_percent 50 (the seed: at least 50 %
		// off): the customer pays half of 1,280.00, the plan the other half,
		// the brand nothing.
		require.Equal(t, int64(64000), d.Totals.Customer.Amount)
		require.Equal(t, int64(64000), d.Totals.Plan.Amount)
		require.Equal(t, int64(0), d.Totals.Brand.Amount)
		var applied []string
		refused := 0
		for _, r := range d.Trace {
			if r.Applied {
				applied = append(applied, r.Rule+": "+r.Reason)
			} else {
				refused++
			}
		}
		require.NotZero(t, refused, "the trace says why other rules did not apply")
		require.Contains(t, strings.Join(applied, "\n"), "accidental", "the trace names the plan's rule")
	})

	t.Run("BeforeDay31ThePlanHasNotStarted", func(t *testing.T) {
		// The price list starts today: price the work now, decide for day 30.
		q, err := s.Catalog.CreateQuote(s.Ctx, s.Admin, catalog.NewQuote{ModelID: s.phone, ServiceKind: "repair",
			Parts: []catalog.QuotePart{{PartID: s.screen, Quantity: 1}}})
		require.NoError(t, err)
		e, err := s.Warranty.Decide(s.Ctx, s.Admin, warranty.DecideRequest{UnitID: unit, Fault: dropped, QuoteID: q.ID, On: domaintest.Today(-10)})
		require.NoError(t, err)
		require.Equal(t, 30, e.Day)
		require.NotEqual(t, entitlement.Basis("accidental_damage"), e.Decision.Basis)
		// Day 30: the plan starts on day 31 (rule 5), and accidental damage
		// is no warranty fault: the customer pays the whole 1,280.00.
		tot := e.Decision.Totals
		require.Equal(t, int64(128000), tot.List.Amount)
		require.Equal(t, int64(128000), tot.Customer.Amount)
		require.Equal(t, int64(0), tot.Plan.Amount)
		require.Equal(t, int64(0), tot.Brand.Amount)
	})

	t.Run("HumanDamageIsNeverFreeEvenInsideThePlan", func(t *testing.T) {
		// Rule 1: damage by the user is never free, plan or not.
		tot := totals(t, warranty.DecideRequest{UnitID: unit, Fault: human, Work: screenRepair})
		require.Equal(t, int64(128000), tot.List.Amount)
		require.Equal(t, int64(128000), tot.Customer.Amount)
		require.Equal(t, int64(0), tot.Plan.Amount)
		require.Equal(t, int64(0), tot.Brand.Amount)
	})

	t.Run("TheLowerWarrantyCardChargeApplies", func(t *testing.T) {
		// Rule 2 (seed: 如果收费标准与用户保修证标准不符，要以二者中最低收费标准为准):
		// the price list says 1,280.00, the card 1,000.00: the customer pays
		// 1,000.00 and the brand bears the 280.00 difference.
		card := cny(100000)
		tot := totals(t, warranty.DecideRequest{UnitID: unit, Fault: human, Work: screenRepair, CardCharge: &card})
		require.Equal(t, int64(128000), tot.List.Amount)
		require.Equal(t, int64(100000), tot.Customer.Amount)
		require.Equal(t, int64(28000), tot.Brand.Amount)
		require.Equal(t, int64(0), tot.Plan.Amount)
		// A card charging more than the price list changes nothing.
		card = cny(150000)
		tot = totals(t, warranty.DecideRequest{UnitID: unit, Fault: human, Work: screenRepair, CardCharge: &card})
		require.Equal(t, int64(128000), tot.Customer.Amount)
		require.Equal(t, int64(0), tot.Brand.Amount)
	})

	t.Run("AStoredQuoteKeepsItsPriceListVersion", func(t *testing.T) {
		q, err := s.Catalog.CreateQuote(s.Ctx, s.shop, catalog.NewQuote{ModelID: s.phone, ServiceKind: "repair",
			Parts: []catalog.QuotePart{{PartID: s.screen, Quantity: 1}}})
		require.NoError(t, err)
		// A new version from tomorrow does not reprice the stored quote.
		zero := cny(0)
		_, err = s.Catalog.CreatePriceList(s.Ctx, s.Admin, catalog.NewPriceList{EffectiveFrom: domaintest.Today(1), DefaultVisitFee: &zero,
			Labor: []catalog.LaborRate{{Category: "phone", ServiceKind: "repair", Amount: cny(50000)}}})
		require.NoError(t, err)
		e, err := s.Warranty.Decide(s.Ctx, s.shop, warranty.DecideRequest{UnitID: unit, Fault: dropped, QuoteID: q.ID})
		require.NoError(t, err)
		require.Equal(t, q.ID, e.QuoteID)
		require.Equal(t, 1, e.PriceListVersion)
		require.Equal(t, int64(128000), e.Decision.Totals.List.Amount)
	})

	t.Run("BadInputNamesTheInputField", func(t *testing.T) {
		for _, c := range []struct {
			name  string
			req   warranty.DecideRequest
			field string
		}{
			{"FutureDate", warranty.DecideRequest{UnitID: unit, Fault: dropped, On: domaintest.Today(1)}, "on"},
			{"BeforePurchase", warranty.DecideRequest{UnitID: unit, Fault: dropped, On: domaintest.Today(-60)}, "on"},
			{"UnknownQuote", warranty.DecideRequest{UnitID: unit, Fault: dropped, QuoteID: "quo_00000000000000000000000000"}, "quote_id"},
		} {
			_, err := s.Warranty.Decide(s.Ctx, s.shop, c.req)
			require.Contains(t, domaintest.Fields(t, err), c.field, c.name)
		}
		_, err := s.Warranty.Decide(s.Ctx, s.shop, warranty.DecideRequest{UnitID: "unt_00000000000000000000000000", Fault: dropped})
		require.Equal(t, tenants.CodeNotFound, tenants.ErrorCode(err), "%v", err)
	})
}

// The seven-day no-reason return is for storefront sales in resaleable
// condition, at the buyer's freight.
func TestRolledBackDecideSevenDayReturn(t *testing.T) {
	s := newPhoneShop(t)
	unit, _ := s.sell(t, "SN-P60-0002", 5) // day 6
	e, err := s.Warranty.Decide(s.Ctx, s.shop, warranty.DecideRequest{UnitID: unit, RequestedRemedy: "return",
		Fault: warranty.FaultReport{Cause: "performance", ChangeOfMind: true, Resaleable: true}})
	require.NoError(t, err)
	require.Equal(t, entitlement.RemedyKind("return"), e.Decision.Remedy)
	require.NotNil(t, e.Decision.Freight)
	require.Equal(t, "buyer", e.Decision.Freight.Payer)
}
