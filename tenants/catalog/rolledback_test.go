package catalog_test

import (
	"slices"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"

	"github.com/servicenet/servicenet/internal/domaintest"
	"github.com/servicenet/servicenet/internal/pg"
	"github.com/servicenet/servicenet/tenants"
	"github.com/servicenet/servicenet/tenants/catalog"
)

var cny = domaintest.CNY

// applianceShop is a brand, in one rolled-back transaction, with two washers
// on sale (WA200 created first, WA050 second), a discontinued washer WA010,
// a TV, a motor fitting both washers on sale, a drum fitting WA050, a TV
// board and a part fitting nothing; a price list in effect from today
// overrides the motor's price.
type applianceShop struct {
	*domaintest.Env
	wa200, wa050, wa010, tv   catalog.ProductModel
	motor, drum, board, loose catalog.Part
	priceList                 catalog.PriceList
}

func newApplianceShop(t *testing.T) *applianceShop {
	t.Helper()
	s := &applianceShop{Env: domaintest.New(t)}
	s.wa200 = s.model(t, "WA200", "washer", 399900)
	s.wa050 = s.model(t, "WA050", "washer", 299900)
	s.wa010 = s.model(t, "WA010", "washer", 199900)
	discontinued := true
	var err error
	s.wa010, err = s.Catalog.UpdateProductModel(s.Ctx, s.Admin, s.wa010.ID, catalog.ProductModelUpdate{Discontinued: &discontinued}, 0)
	require.NoError(t, err)
	s.tv = s.model(t, "TV55", "tv", 599900)
	s.motor = s.part(t, "M-1", "motor", 50000, s.wa200.ID, s.wa050.ID)
	s.drum = s.part(t, "D-1", "drum", 80000, s.wa050.ID)
	s.board = s.part(t, "B-1", "control_board", 30000, s.tv.ID)
	s.loose = s.part(t, "L-1", "screw", 100)
	s.priceList, err = s.Catalog.CreatePriceList(s.Ctx, s.Admin, catalog.NewPriceList{EffectiveFrom: domaintest.Today(0),
		Labor: []catalog.LaborRate{{Category: "washer", ServiceKind: "repair", Amount: cny(12000)}},
		Parts: []catalog.PartPrice{{PartID: s.motor.ID, Price: cny(45000)}}})
	require.NoError(t, err)
	return s
}

func (s *applianceShop) model(t *testing.T, number, category string, price int64) catalog.ProductModel {
	t.Helper()
	m, err := s.Catalog.CreateProductModel(s.Ctx, s.Admin, catalog.NewProductModel{ModelNumber: number, Category: category,
		Name: "Model " + number, RetailPrice: cny(price), WarrantyMonths: 12})
	require.NoError(t, err)
	return m
}

func (s *applianceShop) part(t *testing.T, number, category string, price int64, models ...string) catalog.Part {
	t.Helper()
	p, err := s.Catalog.CreatePart(s.Ctx, s.Admin, catalog.NewPart{PartNumber: number, Name: "Part " + number, Category: category,
		Price: cny(price), CompatibleModelIDs: models})
	require.NoError(t, err)
	return p
}

// inTx runs fn in a transaction of the shop's tenant, as another context's
// service would.
func (s *applianceShop) inTx(t *testing.T, fn func(tx pg.TenantTx)) {
	t.Helper()
	require.NoError(t, pg.InTenantTx(s.Ctx, s.Tx, s.Tenant, func(tx pg.TenantTx) error { fn(tx); return nil }))
}

func partNumbers(ps []catalog.Part) []string {
	out := []string{}
	for _, p := range ps {
		out = append(out, p.PartNumber)
	}
	return out
}

func sorted(ids ...string) []string {
	out := slices.Clone(ids)
	slices.Sort(out)
	return out
}

func TestPartReadsForClaims(t *testing.T) {
	t.Parallel()
	s := newApplianceShop(t)
	other := s.Another(t, "")
	foreign, err := s.Catalog.CreatePart(s.Ctx, other, catalog.NewPart{PartNumber: "M-1", Name: "Their motor", Category: "motor", Price: cny(1)})
	require.NoError(t, err)

	s.inTx(t, func(tx pg.TenantTx) {
		parts, err := catalog.PartsTx(s.Ctx, tx, []string{s.motor.ID, s.board.ID, foreign.ID, "prt_nope", s.drum.ID})
		require.NoError(t, err)
		require.Equal(t, []string{"B-1", "D-1", "M-1"}, partNumbers(parts), "in part number order; unknown and foreign ids left out")
		motor := parts[2]
		require.Equal(t, cny(50000), motor.Price, "the part's own price")
		require.Equal(t, sorted(s.wa200.ID, s.wa050.ID), motor.CompatibleModelIDs)
		require.True(t, motor.Fits(s.wa200.ID))
		require.True(t, motor.Fits(s.wa050.ID))
		require.False(t, motor.Fits(s.tv.ID))
		require.False(t, parts[1].Fits(s.wa200.ID), "the drum fits WA050 only")

		none, err := catalog.PartsTx(s.Ctx, tx, nil)
		require.NoError(t, err)
		require.NotNil(t, none)
		require.Empty(t, none)

		var today, yesterday, empty map[string]int64
		b := &pgx.Batch{}
		ids := []string{s.motor.ID, s.drum.ID, s.loose.ID}
		catalog.QueuePartListPrices(b, tx.TenantID, domaintest.Today(0), ids, &today)
		catalog.QueuePartListPrices(b, tx.TenantID, domaintest.Today(-1), ids, &yesterday)
		catalog.QueuePartListPrices(b, tx.TenantID, domaintest.Today(0), nil, &empty)
		require.Equal(t, 2, b.Len(), "no ids, no query")
		require.NoError(t, tx.SendBatch(s.Ctx, b).Close())
		require.Equal(t, map[string]int64{s.motor.ID: 45000}, today, "only the override of the version in effect")
		require.Equal(t, map[string]int64{}, yesterday, "no version in effect yet")
		require.Equal(t, map[string]int64{}, empty)
	})
}

func TestCatalogReadsForStock(t *testing.T) {
	t.Parallel()
	s := newApplianceShop(t)
	s.inTx(t, func(tx pg.TenantTx) {
		byCategory, err := catalog.PartsByCategoryTx(s.Ctx, tx)
		require.NoError(t, err)
		require.Equal(t, map[string][]string{
			"washer": sorted(s.motor.ID, s.drum.ID), // the motor fits two washers: once
			"tv":     {s.board.ID},
		}, byCategory, "a part that fits no model is in no category")

		first, err := catalog.FirstModelsTx(s.Ctx, tx)
		require.NoError(t, err)
		require.Equal(t, map[string]string{"washer": s.wa050.ID, "tv": s.tv.ID}, first,
			"the first model on sale by model number: WA010 is discontinued")
	})
	empty := s.Another(t, "")
	require.NoError(t, pg.InTenantTx(s.Ctx, s.Tx, empty.TenantID, func(tx pg.TenantTx) error {
		byCategory, err := catalog.PartsByCategoryTx(s.Ctx, tx)
		require.NoError(t, err)
		require.Empty(t, byCategory)
		first, err := catalog.FirstModelsTx(s.Ctx, tx)
		require.NoError(t, err)
		require.Empty(t, first)
		return nil
	}))
}

func TestQueuedModelReads(t *testing.T) {
	t.Parallel()
	s := newApplianceShop(t)
	unit := s.Unit(t, s.wa050.ID, "SN-0001", -30, "+86 139 0000 0001")
	s.inTx(t, func(tx pg.TenantTx) {
		var ofUnit, byID, unknown, malformed catalog.ProductModel
		var found, foundUnknown, foundMalformed bool
		b := &pgx.Batch{}
		catalog.QueueUnitModel(b, tx.TenantID, unit, &ofUnit)
		catalog.QueueModel(b, tx.TenantID, s.tv.ID, &byID, &found)
		catalog.QueueModel(b, tx.TenantID, "mdl_01jd3zq8w6v7t3y2k9x4n5m6pc", &unknown, &foundUnknown)
		catalog.QueueModel(b, tx.TenantID, "not an id", &malformed, &foundMalformed)
		require.NoError(t, tx.SendBatch(s.Ctx, b).Close())
		require.Equal(t, s.wa050.ID, ofUnit.ID)
		require.Equal(t, "WA050", ofUnit.ModelNumber)
		require.Equal(t, cny(299900), ofUnit.RetailPrice)
		require.True(t, found)
		require.Equal(t, "TV55", byID.ModelNumber)
		require.Equal(t, "tv", byID.Category)
		require.False(t, foundUnknown)
		require.False(t, foundMalformed, "a malformed id is simply not found")

		var none catalog.ProductModel
		b = &pgx.Batch{}
		catalog.QueueUnitModel(b, tx.TenantID, "unt_01jd3zq8w6v7t3y2k9x4n5m6pc", &none)
		err := tx.SendBatch(s.Ctx, b).Close()
		require.Equal(t, tenants.CodeNotFound, tenants.ErrorCode(err), "%v", err)
	})
}

func TestGetters(t *testing.T) {
	t.Parallel()
	s := newApplianceShop(t)
	m, err := s.Catalog.GetProductModel(s.Ctx, s.Admin, s.wa010.ID)
	require.NoError(t, err)
	require.Equal(t, "WA010", m.ModelNumber)
	require.True(t, m.Discontinued)
	require.Equal(t, 2, m.Version, "created, then discontinued")

	p, err := s.Catalog.GetPart(s.Ctx, s.Admin, s.motor.ID)
	require.NoError(t, err)
	require.Equal(t, "M-1", p.PartNumber)
	require.Equal(t, cny(50000), p.Price)
	require.Equal(t, sorted(s.wa200.ID, s.wa050.ID), p.CompatibleModelIDs)

	pl, err := s.Catalog.GetPriceList(s.Ctx, s.Admin, s.priceList.ID)
	require.NoError(t, err)
	require.Equal(t, 1, pl.Version)
	require.Equal(t, domaintest.Today(0), pl.EffectiveFrom)
	require.Equal(t, catalog.PriceListCurrent, pl.Status)
	require.Equal(t, []catalog.PartPrice{{PartID: s.motor.ID, Price: cny(45000)}}, pl.Parts)

	other := s.Another(t, "")
	for name, get := range map[string]func() error{
		"model":      func() error { _, err := s.Catalog.GetProductModel(s.Ctx, other, s.wa010.ID); return err },
		"part":       func() error { _, err := s.Catalog.GetPart(s.Ctx, other, s.motor.ID); return err },
		"price list": func() error { _, err := s.Catalog.GetPriceList(s.Ctx, other, s.priceList.ID); return err },
		"no part":    func() error { _, err := s.Catalog.GetPart(s.Ctx, s.Admin, "prt_nope"); return err },
	} {
		require.Equal(t, tenants.CodeNotFound, tenants.ErrorCode(get()), name)
	}
}

func TestUpdatePart(t *testing.T) {
	t.Parallel()
	s := newApplianceShop(t)
	ptr := func(v string) *string { return &v }

	same, err := s.Catalog.UpdatePart(s.Ctx, s.Admin, s.drum.ID, catalog.PartUpdate{Name: ptr(s.drum.Name),
		CompatibleModelIDs: &[]string{s.wa050.ID}}, s.drum.Version)
	require.NoError(t, err)
	require.Equal(t, s.drum.Version, same.Version, "nothing changed: no new version")

	price := cny(85000)
	up, err := s.Catalog.UpdatePart(s.Ctx, s.Admin, s.drum.ID, catalog.PartUpdate{Price: &price, Category: ptr("drum_assembly"),
		CompatibleModelIDs: &[]string{s.wa200.ID, s.wa050.ID}}, s.drum.Version)
	require.NoError(t, err)
	require.Equal(t, s.drum.Version+1, up.Version)
	require.Equal(t, cny(85000), up.Price)
	require.Equal(t, "drum_assembly", up.Category)
	require.Equal(t, sorted(s.wa200.ID, s.wa050.ID), up.CompatibleModelIDs, "replaced whole, in id order")

	cleared, err := s.Catalog.UpdatePart(s.Ctx, s.Admin, s.drum.ID, catalog.PartUpdate{CompatibleModelIDs: &[]string{}}, 0)
	require.NoError(t, err)
	require.Equal(t, up.Version+1, cleared.Version)
	require.Empty(t, cleared.CompatibleModelIDs)

	_, err = s.Catalog.UpdatePart(s.Ctx, s.Admin, s.drum.ID, catalog.PartUpdate{Name: ptr("x")}, s.drum.Version)
	require.Equal(t, tenants.CodePreconditionFailed, tenants.ErrorCode(err), "a stale version")

	usd := tenants.Money{Amount: 100, Currency: "USD"}
	_, err = s.Catalog.UpdatePart(s.Ctx, s.Admin, s.drum.ID, catalog.PartUpdate{PartNumber: ptr("-bad"), Name: ptr("  "),
		Category: ptr("Bad Category"), Price: &usd}, 0)
	require.ElementsMatch(t, []string{"part_number", "name", "category", "price.currency"}, domaintest.Fields(t, err))
	_, err = s.Catalog.UpdatePart(s.Ctx, s.Admin, s.drum.ID, catalog.PartUpdate{CompatibleModelIDs: &[]string{s.wa050.ID, "mdl_01jd3zq8w6v7t3y2k9x4n5m6pc"}}, 0)
	require.Equal(t, []string{"compatible_model_ids[1]"}, domaintest.Fields(t, err), "an unknown model")

	_, err = s.Catalog.UpdatePart(s.Ctx, s.Admin, "prt_nope", catalog.PartUpdate{Name: ptr("x")}, 0)
	require.Equal(t, tenants.CodeNotFound, tenants.ErrorCode(err))

	got, err := s.Catalog.GetPart(s.Ctx, s.Admin, s.drum.ID)
	require.NoError(t, err)
	require.Equal(t, cleared, got, "refused updates changed nothing")
}

func TestListFilters(t *testing.T) {
	t.Parallel()
	s := newApplianceShop(t)
	modelNumbers := func(ms []catalog.ProductModel) []string {
		out := []string{}
		for _, m := range ms {
			out = append(out, m.ModelNumber)
		}
		return out
	}
	yes, no := true, false
	for name, c := range map[string]struct {
		f    catalog.ProductModelFilter
		want []string
	}{
		"all":          {catalog.ProductModelFilter{}, []string{"WA200", "WA050", "WA010", "TV55"}},
		"category":     {catalog.ProductModelFilter{Category: "washer"}, []string{"WA200", "WA050", "WA010"}},
		"discontinued": {catalog.ProductModelFilter{Discontinued: &yes}, []string{"WA010"}},
		"on sale":      {catalog.ProductModelFilter{Category: "washer", Discontinued: &no}, []string{"WA200", "WA050"}},
		"model number": {catalog.ProductModelFilter{ModelNumber: "TV55"}, []string{"TV55"}},
	} {
		ms, next, err := s.Catalog.ListProductModels(s.Ctx, s.Admin, c.f)
		require.NoError(t, err, name)
		require.Equal(t, c.want, modelNumbers(ms), name)
		require.Empty(t, next, name)
	}
	page, next, err := s.Catalog.ListProductModels(s.Ctx, s.Admin, catalog.ProductModelFilter{Category: "washer", Limit: 2})
	require.NoError(t, err)
	require.Equal(t, []string{"WA200", "WA050"}, modelNumbers(page))
	require.NotEmpty(t, next)
	page, next, err = s.Catalog.ListProductModels(s.Ctx, s.Admin, catalog.ProductModelFilter{Category: "washer", Limit: 2, Cursor: next})
	require.NoError(t, err)
	require.Equal(t, []string{"WA010"}, modelNumbers(page))
	require.Empty(t, next)
	_, _, err = s.Catalog.ListProductModels(s.Ctx, s.Admin, catalog.ProductModelFilter{Category: "spaceship"})
	require.Equal(t, []string{"category"}, domaintest.Fields(t, err))
	_, _, err = s.Catalog.ListProductModels(s.Ctx, s.Admin, catalog.ProductModelFilter{Cursor: "garbage"})
	require.Equal(t, tenants.CodeInvalid, tenants.ErrorCode(err))

	for name, c := range map[string]struct {
		f    catalog.PartFilter
		want []string
	}{
		"all":         {catalog.PartFilter{}, []string{"M-1", "D-1", "B-1", "L-1"}},
		"fits WA050":  {catalog.PartFilter{ModelID: s.wa050.ID}, []string{"M-1", "D-1"}},
		"category":    {catalog.PartFilter{Category: "control_board"}, []string{"B-1"}},
		"part number": {catalog.PartFilter{PartNumber: "L-1"}, []string{"L-1"}},
		"none":        {catalog.PartFilter{ModelID: s.wa010.ID}, []string{}},
	} {
		ps, next, err := s.Catalog.ListParts(s.Ctx, s.Admin, c.f)
		require.NoError(t, err, name)
		require.Equal(t, c.want, partNumbers(ps), name)
		require.Empty(t, next, name)
	}
	ps, next, err := s.Catalog.ListParts(s.Ctx, s.Admin, catalog.PartFilter{Limit: 3})
	require.NoError(t, err)
	require.Equal(t, []string{"M-1", "D-1", "B-1"}, partNumbers(ps))
	ps, next, err = s.Catalog.ListParts(s.Ctx, s.Admin, catalog.PartFilter{Limit: 3, Cursor: next})
	require.NoError(t, err)
	require.Equal(t, []string{"L-1"}, partNumbers(ps))
	require.Empty(t, next)
	_, _, err = s.Catalog.ListParts(s.Ctx, s.Admin, catalog.PartFilter{Cursor: "garbage"})
	require.Equal(t, tenants.CodeInvalid, tenants.ErrorCode(err))
}
