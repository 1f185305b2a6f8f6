package catalog

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/servicenet/servicenet/internal/pg"
	"github.com/servicenet/servicenet/internal/pgtest"
	"github.com/servicenet/servicenet/tenants"
	"github.com/servicenet/servicenet/tenants/identity"
)

// clock is the test's injectable now.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time  { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) Set(t time.Time) { c.mu.Lock(); defer c.mu.Unlock(); c.t = t }

type testBundle struct {
	svc   *Service
	p     tenants.Principal
	clock *clock
}

var shanghai = time.FixedZone("CST", 8*3600)

// setup makes a tenant (Asia/Shanghai, CNY) whose clock stands at
// 2026-11-30 10:00 in the tenant's zone.
func setup(t *testing.T) *testBundle {
	t.Helper()
	db := pgtest.NewDB(t)
	idn := &identity.Service{DB: db.App}
	ten, key, err := idn.CreateTenant(context.Background(), identity.NewTenant{Name: "Catalog brand", Slug: "catalog-brand"}, "test")
	require.NoError(t, err)
	c := &clock{t: time.Date(2026, 11, 30, 10, 0, 0, 0, shanghai)}
	return &testBundle{svc: &Service{DB: db.App, Now: c.Now}, clock: c,
		p: tenants.Principal{TenantID: ten.ID, KeyID: key.ID, Roles: []string{tenants.RoleTenantAdmin}}}
}

func cny(fen int64) tenants.Money { return tenants.Money{Amount: fen, Currency: "CNY"} }

// locations returns the field locations of an invalid or conflict error.
func locations(t *testing.T, err error, code tenants.Code) []string {
	t.Helper()
	var te *tenants.Error
	require.ErrorAs(t, err, &te)
	require.Equal(t, code, te.Code, "%v", err)
	var out []string
	for _, f := range te.Fields {
		out = append(out, f.Location)
	}
	return out
}

func (b *testBundle) model(t *testing.T, number, category string, price int64, specs Specs) ProductModel {
	t.Helper()
	m, err := b.svc.CreateProductModel(context.Background(), b.p, NewProductModel{ModelNumber: number, Category: category,
		Name: "Model " + number, RetailPrice: cny(price), WarrantyMonths: 36, Specs: specs})
	require.NoError(t, err)
	return m
}

func (b *testBundle) part(t *testing.T, number string, price int64, models ...string) Part {
	t.Helper()
	p, err := b.svc.CreatePart(context.Background(), b.p, NewPart{PartNumber: number, Name: "Part " + number, Category: "motor",
		Price: cny(price), CompatibleModelIDs: models})
	require.NoError(t, err)
	return p
}

func TestPriceListVersioning(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	b := setup(t)
	washer := b.model(t, "EG100", "washer", 399900, nil)
	motor := b.part(t, "MTR-1", 68000, washer.ID)
	seal := b.part(t, "SEAL-1", 12000, washer.ID)

	v1, err := b.svc.CreatePriceList(ctx, b.p, NewPriceList{EffectiveFrom: "2026-11-30",
		Labor:           []LaborRate{{Category: "washer", ServiceKind: "repair", Amount: cny(12000)}},
		DefaultVisitFee: ptr(cny(3000)), VisitFees: []VisitFee{{Category: "washer", Amount: cny(5000)}}})
	require.NoError(t, err)
	require.Equal(t, 1, v1.Version)
	require.Equal(t, PriceListCurrent, v1.Status)

	job := NewQuote{ModelID: washer.ID, ServiceKind: "repair", IncludeVisit: true,
		Parts: []QuotePart{{PartID: motor.ID, Quantity: 1}, {PartID: seal.ID, Quantity: 2}}}
	q1, err := b.svc.CreateQuote(ctx, b.p, job)
	require.NoError(t, err)
	require.Equal(t, "2026-11-30", q1.On, "priced today in the tenant's zone")
	require.Equal(t, v1.ID, q1.PriceListID)
	require.Equal(t, 1, q1.PriceListVersion)
	require.Equal(t, []QuoteLine{
		{Kind: LineLabor, Description: "repair labor: washer", Quantity: 1, UnitAmount: cny(12000), Amount: cny(12000)},
		{Kind: LineVisit, Description: "visit fee: washer", Quantity: 1, UnitAmount: cny(5000), Amount: cny(5000)},
		{Kind: LinePart, Description: "MTR-1 Part MTR-1", PartID: motor.ID, PartNumber: "MTR-1", PartCategory: "motor", Quantity: 1, UnitAmount: cny(68000), Amount: cny(68000)},
		{Kind: LinePart, Description: "SEAL-1 Part SEAL-1", PartID: seal.ID, PartNumber: "SEAL-1", PartCategory: "motor", Quantity: 2, UnitAmount: cny(12000), Amount: cny(24000)},
	}, q1.Lines)
	require.Equal(t, cny(109000), q1.Total)

	t.Run("NewVersionCannotStartInThePastOrShareADate", func(t *testing.T) {
		_, err := b.svc.CreatePriceList(ctx, b.p, NewPriceList{EffectiveFrom: "2026-11-29",
			Labor: []LaborRate{{Category: "washer", ServiceKind: "repair", Amount: cny(1)}}})
		require.Equal(t, []string{"effective_from"}, locations(t, err, tenants.CodeInvalid))
		_, err = b.svc.CreatePriceList(ctx, b.p, NewPriceList{EffectiveFrom: "2026-11-30",
			Labor: []LaborRate{{Category: "washer", ServiceKind: "repair", Amount: cny(1)}}})
		require.Equal(t, []string{"effective_from"}, locations(t, err, tenants.CodeConflict))
	})

	// v2 takes effect tomorrow: dearer labor and visit, and a motor price override.
	v2, err := b.svc.CreatePriceList(ctx, b.p, NewPriceList{EffectiveFrom: "2026-12-01",
		Labor:     []LaborRate{{Category: "washer", ServiceKind: "repair", Amount: cny(15000)}},
		VisitFees: []VisitFee{{Category: "washer", Amount: cny(6000)}},
		Parts:     []PartPrice{{PartID: motor.ID, Price: cny(60000)}}})
	require.NoError(t, err)
	require.Equal(t, 2, v2.Version, "versions are numbered per tenant")
	require.Equal(t, PriceListScheduled, v2.Status)

	today, err := b.svc.GetEffectivePriceList(ctx, b.p, "")
	require.NoError(t, err)
	require.Equal(t, v1.ID, today.ID, "v2 is not in effect yet")
	tomorrow, err := b.svc.GetEffectivePriceList(ctx, b.p, "2026-12-01")
	require.NoError(t, err)
	require.Equal(t, v2.ID, tomorrow.ID)
	later, err := b.svc.GetEffectivePriceList(ctx, b.p, "2027-06-01")
	require.NoError(t, err)
	require.Equal(t, v2.ID, later.ID, "greatest effective_from on or before the date")
	_, err = b.svc.GetEffectivePriceList(ctx, b.p, "2026-11-29")
	require.Equal(t, tenants.CodeNotFound, tenants.ErrorCode(err), "nothing was in effect before v1")

	// A quote for today still uses v1; one for tomorrow uses v2.
	again, err := b.svc.CreateQuote(ctx, b.p, job)
	require.NoError(t, err)
	require.Equal(t, 1, again.PriceListVersion)
	require.Equal(t, q1.Total, again.Total)
	job.On = "2026-12-01"
	q2, err := b.svc.CreateQuote(ctx, b.p, job)
	require.NoError(t, err)
	require.Equal(t, v2.ID, q2.PriceListID)
	require.Equal(t, 2, q2.PriceListVersion)
	require.Equal(t, cny(15000+6000+60000+24000), q2.Total, "v2 labor and visit, the motor at v2's price, the seal at its catalog price")

	// Days later, v2 is current and v1 superseded; the first quote keeps v1.
	b.clock.Set(time.Date(2026, 12, 3, 9, 0, 0, 0, shanghai))
	got, err := b.svc.GetQuote(ctx, b.p, q1.ID)
	require.NoError(t, err)
	require.Equal(t, 1, got.PriceListVersion)
	require.Equal(t, v1.ID, got.PriceListID)
	require.Equal(t, q1.Lines, got.Lines)
	require.Equal(t, q1.Total, got.Total)
	lists, next, err := b.svc.ListPriceLists(ctx, b.p, 1, "")
	require.NoError(t, err)
	require.Equal(t, PriceListSuperseded, lists[0].Status)
	require.NotEmpty(t, next)
	lists, next, err = b.svc.ListPriceLists(ctx, b.p, 1, next)
	require.NoError(t, err)
	require.Equal(t, []int{2}, []int{lists[0].Version})
	require.Equal(t, PriceListCurrent, lists[0].Status)
	require.Empty(t, next)

	// A catalog price change reprices later quotes, never stored ones.
	newPrice := cny(13000)
	_, err = b.svc.UpdatePart(ctx, b.p, seal.ID, PartUpdate{Price: &newPrice}, 0)
	require.NoError(t, err)
	job.On = ""
	q3, err := b.svc.CreateQuote(ctx, b.p, job)
	require.NoError(t, err)
	require.Equal(t, cny(15000+6000+60000+26000), q3.Total)
	got, err = b.svc.GetQuote(ctx, b.p, q2.ID)
	require.NoError(t, err)
	require.Equal(t, q2.Total, got.Total)
}

func TestPriceQuoteRefusals(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	b := setup(t)
	washer := b.model(t, "EG100", "washer", 399900, nil)
	fridge := b.model(t, "BCD-470", "refrigerator", 599900, nil)
	motor := b.part(t, "MTR-1", 68000, washer.ID)
	compressor := b.part(t, "CMP-1", 98000, fridge.ID)

	_, err := b.svc.CreateQuote(ctx, b.p, NewQuote{ModelID: washer.ID, ServiceKind: "repair"})
	require.Equal(t, tenants.CodeConflict, tenants.ErrorCode(err), "no price list yet, priced today: the brand's state, no field of the request (%v)", err)

	_, err = b.svc.CreatePriceList(ctx, b.p, NewPriceList{EffectiveFrom: "2026-11-30",
		Labor: []LaborRate{{Category: "washer", ServiceKind: "repair", Amount: cny(12000)},
			{Category: "refrigerator", ServiceKind: "repair", Amount: cny(15000)}}})
	require.NoError(t, err)

	cases := []struct {
		name string
		in   NewQuote
		want []string
	}{
		{"UnknownModel", NewQuote{ModelID: "mdl_00000000000000000000000000", ServiceKind: "repair"}, []string{"model_id"}},
		{"MalformedModel", NewQuote{ModelID: "washer", ServiceKind: "repair"}, []string{"model_id"}},
		{"UnknownServiceKind", NewQuote{ModelID: washer.ID, ServiceKind: "polish"}, []string{"service_kind"}},
		{"NoLaborRate", NewQuote{ModelID: washer.ID, ServiceKind: "install"}, []string{"service_kind"}},
		{"NoVisitFee", NewQuote{ModelID: washer.ID, ServiceKind: "repair", IncludeVisit: true}, []string{"include_visit"}},
		{"IncompatiblePart", NewQuote{ModelID: washer.ID, ServiceKind: "repair",
			Parts: []QuotePart{{PartID: motor.ID, Quantity: 1}, {PartID: compressor.ID, Quantity: 1}}}, []string{"parts[1].part_id"}},
		{"UnknownPart", NewQuote{ModelID: washer.ID, ServiceKind: "repair",
			Parts: []QuotePart{{PartID: "prt_00000000000000000000000000", Quantity: 1}}}, []string{"parts[0].part_id"}},
		{"DuplicatePart", NewQuote{ModelID: washer.ID, ServiceKind: "repair",
			Parts: []QuotePart{{PartID: motor.ID, Quantity: 1}, {PartID: motor.ID, Quantity: 1}}}, []string{"parts[1].part_id"}},
		{"ZeroQuantity", NewQuote{ModelID: washer.ID, ServiceKind: "repair",
			Parts: []QuotePart{{PartID: motor.ID, Quantity: 0}}}, []string{"parts[0].quantity"}},
		{"BadDate", NewQuote{ModelID: washer.ID, ServiceKind: "repair", On: "2026-02-30"}, []string{"on"}},
		{"BeforeTheFirstVersion", NewQuote{ModelID: washer.ID, ServiceKind: "repair", On: "2026-01-01"}, []string{"on"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := b.svc.CreateQuote(ctx, b.p, c.in)
			require.Equal(t, c.want, locations(t, err, tenants.CodeInvalid))
		})
	}
}

func TestCreatePriceListValidation(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	b := setup(t)
	washer := b.model(t, "EG100", "washer", 399900, nil)
	motor := b.part(t, "MTR-1", 68000, washer.ID)
	valid := func() NewPriceList {
		return NewPriceList{EffectiveFrom: "2026-12-01", Labor: []LaborRate{{Category: "washer", ServiceKind: "repair", Amount: cny(12000)}}}
	}
	cases := []struct {
		name   string
		change func(*NewPriceList)
		want   []string
	}{
		{"DuplicateLabor", func(n *NewPriceList) { n.Labor = append(n.Labor, n.Labor[0]) }, []string{"labor[1]"}},
		{"NegativeLabor", func(n *NewPriceList) { n.Labor[0].Amount.Amount = -1 }, []string{"labor[0].amount.amount"}},
		{"ForeignCurrency", func(n *NewPriceList) { n.Labor[0].Amount.Currency = "USD" }, []string{"labor[0].amount.currency"}},
		{"UnknownCategory", func(n *NewPriceList) { n.Labor[0].Category = "drone" }, []string{"labor[0].category"}},
		{"NoLabor", func(n *NewPriceList) { n.Labor = nil }, []string{"labor"}},
		{"NotADate", func(n *NewPriceList) { n.EffectiveFrom = "next week" }, []string{"effective_from"}},
		{"DuplicateVisitFee", func(n *NewPriceList) {
			n.VisitFees = []VisitFee{{Category: "tv", Amount: cny(1)}, {Category: "tv", Amount: cny(2)}}
		}, []string{"visit_fees[1].category"}},
		{"NegativeDefaultVisitFee", func(n *NewPriceList) { n.DefaultVisitFee = ptr(cny(-5)) }, []string{"default_visit_fee.amount"}},
		{"UnknownPart", func(n *NewPriceList) {
			n.Parts = []PartPrice{{PartID: motor.ID, Price: cny(1)}, {PartID: "prt_00000000000000000000000000", Price: cny(1)}}
		}, []string{"parts[1].part_id"}},
		{"DuplicatePart", func(n *NewPriceList) {
			n.Parts = []PartPrice{{PartID: motor.ID, Price: cny(1)}, {PartID: motor.ID, Price: cny(2)}}
		}, []string{"parts[1].part_id"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			in := valid()
			c.change(&in)
			_, err := b.svc.CreatePriceList(ctx, b.p, in)
			require.Equal(t, c.want, locations(t, err, tenants.CodeInvalid))
		})
	}
	lists, _, err := b.svc.ListPriceLists(ctx, b.p, 0, "")
	require.NoError(t, err)
	require.Empty(t, lists, "nothing was stored")
}

func TestSimilarModels(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	b := setup(t)
	front10 := Specs{"type": "front_load", "capacity_kg": "10", "drive": "direct_drive"}
	old := b.model(t, "OLD-10", "washer", 399900, front10)
	same := b.model(t, "NEW-10", "washer", 369900, front10)                                                               // 3 specs
	cheapSame := b.model(t, "NEW-10-LITE", "washer", 299900, front10)                                                     // 3 specs, cheaper
	two := b.model(t, "NEW-10-BELT", "washer", 389900, Specs{"type": "front_load", "capacity_kg": "10", "drive": "belt"}) // 2 specs
	b.model(t, "DEAR-10", "washer", 459900, front10)                                                                      // dearer
	b.model(t, "TOP-8", "washer", 169900, Specs{"type": "top_load", "capacity_kg": "8"})                                  // no match
	b.model(t, "FRIDGE", "refrigerator", 199900, front10)                                                                 // other category
	gone := b.model(t, "GONE-10", "washer", 359900, front10)
	_, err := b.svc.UpdateProductModel(ctx, b.p, gone.ID, ProductModelUpdate{Discontinued: ptr(true)}, 0)
	require.NoError(t, err)
	_, err = b.svc.UpdateProductModel(ctx, b.p, old.ID, ProductModelUpdate{Discontinued: ptr(true)}, 1)
	require.NoError(t, err)

	ids := func(ms []ProductModel) []string {
		out := []string{}
		for _, m := range ms {
			out = append(out, m.ModelNumber)
		}
		return out
	}
	var got []ProductModel
	require.NoError(t, pg.InTenantTx(ctx, b.svc.DB, b.p.TenantID, func(tx pg.TenantTx) error {
		got, err = SimilarModels(ctx, tx, old.ID, old.RetailPrice.Amount, 10)
		return err
	}))
	require.Equal(t, []string{"NEW-10", "NEW-10-LITE", "NEW-10-BELT"}, ids(got),
		"same category, on sale, no dearer, most matching specs first, then dearer first")
	require.Equal(t, same.ID, got[0].ID)
	require.Equal(t, cheapSame.ID, got[1].ID)
	require.Equal(t, two.ID, got[2].ID)

	sims, err := b.svc.ListSimilarModels(ctx, b.p, old.ID, ptr(int64(500000)), 2)
	require.NoError(t, err)
	require.Len(t, sims, 2)
	require.Equal(t, "DEAR-10", sims[0].ModelNumber, "max_price raises the ceiling")
	require.Equal(t, 3, sims[0].MatchingSpecs)

	_, err = b.svc.ListSimilarModels(ctx, b.p, "mdl_00000000000000000000000000", nil, 5)
	require.Equal(t, tenants.CodeNotFound, tenants.ErrorCode(err))
}

func TestProductModelValidation(t *testing.T) {
	t.Parallel()
	valid := func() NewProductModel {
		return NewProductModel{ModelNumber: "KFR-35GW/N8MJA3", Category: "air_conditioner", Name: "1.5匹 挂机",
			RetailPrice: cny(329900), WarrantyMonths: 72, KeyParts: []KeyPartTerm{{PartCategory: "compressor", WarrantyMonths: 120}},
			Specs: Specs{"capacity_hp": "1.5"}}
	}
	cases := []struct {
		name   string
		change func(*NewProductModel)
		want   []string
	}{
		{"Valid", func(*NewProductModel) {}, nil},
		{"NegativePrice", func(n *NewProductModel) { n.RetailPrice.Amount = -1 }, []string{"retail_price.amount"}},
		{"ForeignCurrency", func(n *NewProductModel) { n.RetailPrice.Currency = "EUR" }, []string{"retail_price.currency"}},
		{"UnknownCategory", func(n *NewProductModel) { n.Category = "drone" }, []string{"category"}},
		{"BadModelNumber", func(n *NewProductModel) { n.ModelNumber = "-x" }, []string{"model_number"}},
		{"KeyPartNotLonger", func(n *NewProductModel) { n.KeyParts[0].WarrantyMonths = 72 }, []string{"key_parts[0].warranty_months"}},
		{"DuplicateKeyPart", func(n *NewProductModel) { n.KeyParts = append(n.KeyParts, n.KeyParts[0]) }, []string{"key_parts[1].part_category"}},
		{"BadSpecName", func(n *NewProductModel) { n.Specs["Capacity HP"] = "1.5" }, []string{"specs.Capacity HP"}},
		{"EmptySpecValue", func(n *NewProductModel) { n.Specs["inverter"] = " " }, []string{"specs.inverter"}},
		{"WarrantyTooLong", func(n *NewProductModel) { n.WarrantyMonths = 241 }, []string{"warranty_months", "key_parts[0].warranty_months"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			in := valid()
			c.change(&in)
			v := &tenants.Validation{}
			validateModel(v, in, "CNY")
			var got []string
			for _, f := range v.Fields() {
				got = append(got, f.Location)
			}
			require.Equal(t, c.want, got)
		})
	}
}

func TestSeedDemo(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	b := setup(t)
	require.NoError(t, b.svc.SeedDemo(ctx, b.p))
	require.NoError(t, b.svc.SeedDemo(ctx, b.p), "seeding again does nothing")

	models, _, err := b.svc.ListProductModels(ctx, b.p, ProductModelFilter{Limit: 200})
	require.NoError(t, err)
	require.Len(t, models, len(demoModels))
	cats := map[string]bool{}
	for _, m := range models {
		cats[m.Category] = true
	}
	require.Len(t, cats, len(Categories), "every category has a model")
	parts, _, err := b.svc.ListParts(ctx, b.p, PartFilter{Limit: 200})
	require.NoError(t, err)
	require.Len(t, parts, len(demoParts))
	lists, _, err := b.svc.ListPriceLists(ctx, b.p, 0, "")
	require.NoError(t, err)
	require.Len(t, lists, 1)
	require.Equal(t, "2026-11-30", lists[0].EffectiveFrom)
	require.Equal(t, PriceListCurrent, lists[0].Status)

	old, _, err := b.svc.ListProductModels(ctx, b.p, ProductModelFilter{Discontinued: ptr(true)})
	require.NoError(t, err)
	require.Len(t, old, 1)
	sims, err := b.svc.ListSimilarModels(ctx, b.p, old[0].ID, nil, 5)
	require.NoError(t, err)
	require.Equal(t, "EG100MATE35S", sims[0].ModelNumber, "the discontinued washer's successor")
	require.Len(t, sims, 1, "the top-load washer shares no specification")

	fridge, _, err := b.svc.ListProductModels(ctx, b.p, ProductModelFilter{ModelNumber: "BCD-470WGHFD"})
	require.NoError(t, err)
	require.Equal(t, 120, fridge[0].KeyPartMonths("compressor"))
	require.Equal(t, 36, fridge[0].KeyPartMonths("door_seal"))
	compressor, _, err := b.svc.ListParts(ctx, b.p, PartFilter{ModelID: fridge[0].ID, Category: "compressor"})
	require.NoError(t, err)
	require.Len(t, compressor, 1)
	q, err := b.svc.CreateQuote(ctx, b.p, NewQuote{ModelID: fridge[0].ID, ServiceKind: "repair", IncludeVisit: true,
		Parts: []QuotePart{{PartID: compressor[0].ID, Quantity: 1}}})
	require.NoError(t, err)
	require.Equal(t, cny(15000+5000+98000), q.Total)
}

func TestExportedFunctionsJoinTheCallersTransaction(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	b := setup(t)
	washer := b.model(t, "EG100", "washer", 399900, Specs{"type": "front_load"})
	successor := b.model(t, "EG100-NEW", "washer", 349900, Specs{"type": "front_load"})
	_, err := b.svc.CreatePriceList(ctx, b.p, NewPriceList{EffectiveFrom: "2026-11-30",
		Labor: []LaborRate{{Category: "washer", ServiceKind: "repair", Amount: cny(12000)}}})
	require.NoError(t, err)

	other := setup(t) // another tenant in another database: its IDs are unknown here
	foreign := other.model(t, "EG100", "washer", 399900, nil)

	var quoteID string
	errRollback := errors.New("the caller's transaction fails later")
	err = pg.InTenantTx(ctx, b.svc.DB, b.p.TenantID, func(tx pg.TenantTx) error {
		m, err := LoadModel(ctx, tx, washer.ID)
		require.NoError(t, err)
		require.Equal(t, washer.ModelNumber, m.ModelNumber)
		_, err = LoadModel(ctx, tx, foreign.ID)
		require.Equal(t, tenants.CodeNotFound, tenants.ErrorCode(err))
		sims, err := SimilarModels(ctx, tx, washer.ID, washer.RetailPrice.Amount, 5)
		require.NoError(t, err)
		require.Equal(t, []string{successor.ID}, []string{sims[0].ID})

		q, err := PriceQuote(ctx, tx, NewQuote{ModelID: m.ID, ServiceKind: "repair"}, "2026-11-30")
		require.NoError(t, err)
		require.Equal(t, cny(12000), q.Total)
		again, err := LoadQuote(ctx, tx, q.ID)
		require.NoError(t, err)
		require.Equal(t, q.Lines, again.Lines)
		quoteID = q.ID
		return errRollback
	})
	require.ErrorIs(t, err, errRollback)
	_, err = b.svc.GetQuote(ctx, b.p, quoteID)
	require.Equal(t, tenants.CodeNotFound, tenants.ErrorCode(err), "the quote rolled back with the caller's transaction")
}

func TestConcurrentPriceListsGetDistinctVersions(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	b := setup(t)
	const n = 6
	var wg sync.WaitGroup
	errs := make([]error, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, errs[i] = b.svc.CreatePriceList(ctx, b.p, NewPriceList{EffectiveFrom: time.Date(2027, 1, 1+i, 0, 0, 0, 0, time.UTC).Format(time.DateOnly),
				Labor: []LaborRate{{Category: "tv", ServiceKind: "repair", Amount: cny(int64(100 * i))}}})
		}()
	}
	wg.Wait()
	for _, err := range errs {
		require.NoError(t, err)
	}
	lists, _, err := b.svc.ListPriceLists(ctx, b.p, 0, "")
	require.NoError(t, err)
	var versions []int
	for _, l := range lists {
		versions = append(versions, l.Version)
	}
	require.Equal(t, []int{1, 2, 3, 4, 5, 6}, versions)
}
