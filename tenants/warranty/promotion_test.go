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

// Seed 003 (美的服务热线): 美的又提出在3月1日-5月3日期间也同样给予非家电下乡洗衣机
// "三年免费保修": a washer bought from 1 March through 3 May is repaired
// free for three years, where the model's own whole-unit warranty is one
// year. The promotion is a dated term of the model (warranty_promotions):
// the purchase date decides, both ends of the window included, and the
// three years count from the purchase date like the model's own term. A
// performance fault repaired at labour 120.00 + visit 50.00 = 170.00 is
// the brand's inside the promoted term and the customer's after it; an
// extended warranty sold for a promoted washer starts the day after the
// three years.
func TestRolledBackWashersBoughtInThePromotionHaveThreeYears(t *testing.T) {
	e := domaintest.New(t)
	ctx, admin := e.Ctx, e.Admin
	m, err := e.Catalog.CreateProductModel(ctx, admin, catalog.NewProductModel{ModelNumber: "MG100V58WT", Category: "washer",
		Name: "10kg 滚筒洗衣机", RetailPrice: cny(299900), WarrantyMonths: 12,
		WarrantyPromotions: []catalog.WarrantyPromotion{{Name: "非家电下乡洗衣机三年免费保修", PurchasedFrom: "2023-03-01",
			PurchasedThrough: "2023-05-03", WarrantyMonths: 36}}})
	require.NoError(t, err)
	require.Len(t, m.WarrantyPromotions, 1)
	visit := cny(5000)
	_, err = e.Catalog.CreatePriceList(ctx, admin, catalog.NewPriceList{EffectiveFrom: domaintest.Today(0), DefaultVisitFee: &visit,
		Labor: []catalog.LaborRate{{Category: "washer", ServiceKind: "repair", Amount: cny(12000)}}})
	require.NoError(t, err)
	q, err := e.Catalog.CreateQuote(ctx, admin, catalog.NewQuote{ModelID: m.ID, ServiceKind: "repair", IncludeVisit: true})
	require.NoError(t, err)
	require.Equal(t, int64(17000), q.Total.Amount, "labour 120.00 + visit 50.00")
	unit := func(t *testing.T, serial, purchase string) string {
		t.Helper()
		u, err := e.Customers.RegisterUnit(ctx, admin, customers.NewUnit{ModelID: m.ID, Serial: serial,
			Customer:     &customers.NewCustomer{Name: "孙八", Phones: []string{"+86 138 0000 " + serial[len(serial)-4:]}},
			PurchaseDate: purchase, PurchasePrice: cny(299900), Channel: "brand_store"})
		require.NoError(t, err)
		return u.ID
	}
	decide := func(t *testing.T, unit, on string) warranty.Entitlement {
		t.Helper()
		out, err := e.Warranty.Decide(ctx, admin, warranty.DecideRequest{UnitID: unit, On: on, QuoteID: q.ID,
			Fault: warranty.FaultReport{Cause: "performance"}})
		require.NoError(t, err)
		return out
	}
	// free: the brand pays the 170.00, the customer nothing.
	free := func(t *testing.T, d entitlement.Decision) {
		t.Helper()
		require.Equal(t, entitlement.BasisManufacturerWarranty, d.Basis)
		require.Equal(t, int64(17000), d.Totals.List.Amount)
		require.Equal(t, int64(0), d.Totals.Customer.Amount)
		require.Equal(t, int64(17000), d.Totals.Brand.Amount)
	}
	// charged: out of warranty, the customer pays the 170.00.
	charged := func(t *testing.T, d entitlement.Decision) {
		t.Helper()
		require.Equal(t, entitlement.BasisOutOfWarranty, d.Basis)
		require.Equal(t, int64(17000), d.Totals.Customer.Amount)
		require.Equal(t, int64(0), d.Totals.Brand.Amount)
	}
	promotionTraced := func(t *testing.T, d entitlement.Decision) {
		t.Helper()
		for _, r := range d.Trace {
			if r.Rule == "R2.warranty_promotion" {
				require.True(t, r.Applied)
				require.Contains(t, r.Reason, "非家电下乡洗衣机三年免费保修")
				return
			}
		}
		t.Fatalf("no R2.warranty_promotion in the trace: %+v", d.Trace)
	}

	// The purchase date decides the term: 36 months bought 1 March through
	// 3 May, both days included, the model's 12 the day before and the day
	// after. Free through ends, charged on the day after; a promoted unit
	// is free too past the model's own year, and its decision names the
	// promotion.
	for _, c := range []struct {
		name, serial, purchased string
		months                  int
		ends, chargedOn         string
		pastTheModelsYear       string // a promoted unit's day after the model's own year
	}{
		{"BoughtOnTheFirstDayFreeThroughThreeYears", "SN-WASH-0301", "2023-03-01", 36, "2026-02-28", "2026-03-01", "2025-06-01"},
		{"BoughtOnTheLastDayFreeThroughThreeYears", "SN-WASH-0503", "2023-05-03", 36, "2026-05-02", "2026-05-03", "2024-05-03"},
		{"BoughtTheDayBeforeHasTheModelsYear", "SN-WASH-0228", "2023-02-28", 12, "2024-02-27", "2024-02-28", ""},
		{"BoughtTheDayAfterHasTheModelsYear", "SN-WASH-0504", "2023-05-04", 12, "2024-05-03", "2024-05-04", ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			u := unit(t, c.serial, c.purchased)
			last := decide(t, u, c.ends)
			require.Equal(t, c.ends, last.ManufacturerEnd, "%d months from %s", c.months, c.purchased)
			free(t, last.Decision)
			if c.months == 36 {
				promotionTraced(t, last.Decision)
				free(t, decide(t, u, c.pastTheModelsYear).Decision)
			}
			charged(t, decide(t, u, c.chargedOn).Decision)
		})
	}
	t.Run("APromotionSetOnAModelCoversItsUnitsAlreadySold", func(t *testing.T) {
		// A washer model without the promotion, its unit bought in the
		// window: the brand adds the promotion to the model, and the unit's
		// next decision has three years.
		other, err := e.Catalog.CreateProductModel(ctx, admin, catalog.NewProductModel{ModelNumber: "MB80V33", Category: "washer",
			Name: "8kg 波轮洗衣机", RetailPrice: cny(149900), WarrantyMonths: 12})
		require.NoError(t, err)
		u, err := e.Customers.RegisterUnit(ctx, admin, customers.NewUnit{ModelID: other.ID, Serial: "SN-WAVE-0410",
			Customer:     &customers.NewCustomer{Name: "周九", Phones: []string{"+86 138 0000 0410"}},
			PurchaseDate: "2023-04-10", PurchasePrice: cny(149900), Channel: "brand_store"})
		require.NoError(t, err)
		oq, err := e.Catalog.CreateQuote(ctx, admin, catalog.NewQuote{ModelID: other.ID, ServiceKind: "repair", IncludeVisit: true})
		require.NoError(t, err)
		before, err := e.Warranty.Decide(ctx, admin, warranty.DecideRequest{UnitID: u.ID, On: "2025-04-09", QuoteID: oq.ID,
			Fault: warranty.FaultReport{Cause: "performance"}})
		require.NoError(t, err)
		charged(t, before.Decision)
		promos := []catalog.WarrantyPromotion{{Name: "洗衣机三年免费保修", PurchasedFrom: "2023-03-01", PurchasedThrough: "2023-05-03", WarrantyMonths: 36}}
		updated, err := e.Catalog.UpdateProductModel(ctx, admin, other.ID, catalog.ProductModelUpdate{WarrantyPromotions: &promos}, other.Version)
		require.NoError(t, err)
		require.Equal(t, promos, updated.WarrantyPromotions)
		after, err := e.Warranty.Decide(ctx, admin, warranty.DecideRequest{UnitID: u.ID, On: "2025-04-09", QuoteID: oq.ID,
			Fault: warranty.FaultReport{Cause: "performance"}})
		require.NoError(t, err)
		require.Equal(t, "2026-04-09", after.ManufacturerEnd)
		free(t, after.Decision)
	})
	t.Run("APromotionMustLengthenTheTermOverAWindow", func(t *testing.T) {
		_, err := e.Catalog.CreateProductModel(ctx, admin, catalog.NewProductModel{ModelNumber: "MG80BAD", Category: "washer",
			Name: "8kg 滚筒洗衣机", RetailPrice: cny(199900), WarrantyMonths: 12,
			WarrantyPromotions: []catalog.WarrantyPromotion{
				{Name: "同期保修", PurchasedFrom: "2023-03-01", PurchasedThrough: "2023-05-03", WarrantyMonths: 12},
				{Name: "倒置", PurchasedFrom: "2023-05-03", PurchasedThrough: "2023-03-01", WarrantyMonths: 36},
				{Name: "日期", PurchasedFrom: "2023-02-30", PurchasedThrough: "2023-05-03", WarrantyMonths: 36},
				{Name: " ", PurchasedFrom: "2023-03-01", PurchasedThrough: "2023-05-03", WarrantyMonths: 36},
			}})
		require.ElementsMatch(t, []string{"warranty_promotions[0].warranty_months", "warranty_promotions[1].purchased_through",
			"warranty_promotions[2].purchased_from", "warranty_promotions[3].name"}, domaintest.Fields(t, err))
	})
	t.Run("AnExtendedWarrantyStartsAfterThePromotedTerm", func(t *testing.T) {
		plan, err := e.Warranty.CreatePlan(ctx, admin, warranty.NewPlan{Code: "EXT-2Y", Name: "两年延保", Kind: "extended_warranty",
			EligibleCategories: []string{"washer"}, DurationMonths: 24, Price: cny(19900)})
		require.NoError(t, err)
		u := unit(t, "SN-WASH-0415", "2023-04-15")
		c, err := e.Warranty.CreateContract(ctx, admin, warranty.NewContract{UnitID: u, PlanID: plan.ID, SoldOn: "2023-04-20"})
		require.NoError(t, err)
		require.Equal(t, "2026-04-15", c.StartsOn, "the day after the three years (2023-04-15 through 2026-04-14)")
		require.Equal(t, "2028-04-14", c.EndsOn)
	})
}
