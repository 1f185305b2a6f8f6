package warranty_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/servicenet/servicenet/internal/domaintest"
	"github.com/servicenet/servicenet/internal/pg"
	"github.com/servicenet/servicenet/internal/pgtest"
	"github.com/servicenet/servicenet/tenants"
	"github.com/servicenet/servicenet/tenants/customers"
	"github.com/servicenet/servicenet/tenants/identity"
	"github.com/servicenet/servicenet/tenants/tickets"
	"github.com/servicenet/servicenet/tenants/warranty"
)

type bundle struct {
	db *pgtest.DB
	p  tenants.Principal
}

func setup(t *testing.T, slug string) *bundle {
	t.Helper()
	db := pgtest.NewDB(t)
	ten, key, err := (&identity.Service{DB: db.App}).CreateTenant(context.Background(), identity.NewTenant{Name: "Brand " + slug, Slug: slug}, "operator")
	require.NoError(t, err)
	return &bundle{db: db, p: tenants.Principal{TenantID: ten.ID, KeyID: key.ID, Roles: []string{tenants.RoleTenantAdmin}}}
}

// at is the warranty service with its clock at noon of date in Shanghai
// (the tenant's zone).
func (b *bundle) at(date string) *warranty.Service {
	d, err := time.Parse(time.DateOnly, date)
	if err != nil {
		panic(err)
	}
	now := d.Add(4 * time.Hour) // 12:00 in Asia/Shanghai
	return b.warranty(func() time.Time { return now })
}

// warranty is the warranty service as the composition root wires it, its
// clock now (nil: the wall clock).
func (b *bundle) warranty(now func() time.Time) *warranty.Service {
	svc, err := warranty.NewService(b.db.App, warranty.Deps{Jobs: tickets.ServedTx})
	if err != nil {
		panic(err)
	}
	svc.Now = now
	return svc
}

// customers is the customers service as the composition root wires it (a
// corrected purchase date moves the unit's contracts), its clock now (nil:
// the wall clock).
func (b *bundle) customers(now func() time.Time) *customers.Service {
	svc, err := customers.NewService(b.db.App, customers.Deps{Jobs: tickets.ServedTx, PurchaseDateMoved: warranty.RedateUnitContractsTx})
	if err != nil {
		panic(err)
	}
	svc.Now = now
	return svc
}

// unit writes a product model of category with warrantyMonths, a customer
// and a unit of it bought on purchase, as the owner inside the tenant's RLS
// scope (the catalog and customer services are not this package's).
func (b *bundle) unit(t *testing.T, category string, warrantyMonths int, purchase, storefrontID string) string {
	t.Helper()
	ctx := context.Background()
	id := tenants.NewID(tenants.PrefixUnit)
	require.NoError(t, pg.InTenantTx(ctx, b.db.Owner, b.p.TenantID, func(tx pg.TenantTx) error {
		model, customer := tenants.NewID(tenants.PrefixProductModel), tenants.NewID(tenants.PrefixCustomer)
		if _, err := tx.Exec(ctx, `INSERT INTO product_models (tenant_id, id, model_number, category, name, retail_price, currency, warranty_months)
			VALUES ($1, $2, $3, $4, 'Model', 299900, 'CNY', $5)`, tx.TenantID, model, model, category, warrantyMonths); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `INSERT INTO customers (tenant_id, id, name, phones) VALUES ($1, $2, '张三', ARRAY['+8613800000000'])`,
			tx.TenantID, customer); err != nil {
			return err
		}
		channel, sf := "brand_store", (*string)(nil)
		if storefrontID != "" {
			channel, sf = "storefront", &storefrontID
		}
		_, err := tx.Exec(ctx, `INSERT INTO units (tenant_id, id, model_id, serial, customer_id, purchase_date, channel, storefront_id, purchase_price, currency, created_by)
			VALUES ($1, $2, $3, $4, $5, $6::date, $7, $8, 299900, 'CNY', 'test')`, tx.TenantID, id, model, id, customer, purchase, channel, sf)
		return err
	}))
	return id
}

// count counts rows of a tenant table under the tenant's RLS scope.
func (b *bundle) count(t *testing.T, query string, args ...any) int {
	t.Helper()
	var n int
	ctx := context.Background()
	require.NoError(t, pg.InTenantTx(ctx, b.db.App, b.p.TenantID, func(tx pg.TenantTx) error {
		return tx.QueryRow(ctx, query, append([]any{tx.TenantID}, args...)...).Scan(&n)
	}))
	return n
}

func (b *bundle) eventTypes(t *testing.T, subject string) []string {
	t.Helper()
	out := []string{}
	for _, e := range b.events(t, subject) {
		out = append(out, e.typ)
	}
	return out
}

type event struct {
	typ  string
	data map[string]any
}

// events reads the events about subject in the order they were appended.
func (b *bundle) events(t *testing.T, subject string) []event {
	t.Helper()
	ctx := context.Background()
	var out []event
	require.NoError(t, pg.InTenantTx(ctx, b.db.App, b.p.TenantID, func(tx pg.TenantTx) error {
		rows, err := tx.Query(ctx, `SELECT type, data FROM events WHERE tenant_id = $1 AND subject_id = $2 ORDER BY seq`, tx.TenantID, subject)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var e event
			if err := rows.Scan(&e.typ, &e.data); err != nil {
				return err
			}
			out = append(out, e)
		}
		return rows.Err()
	}))
	return out
}

func TestSeedDemoPlansIsIdempotent(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	b := setup(t, "demo-plans")
	first, err := b.at("2026-06-10").SeedDemoPlans(ctx, b.p)
	require.NoError(t, err)
	require.Len(t, first, 5)
	for _, k := range []string{"extended_warranty", "accidental_damage", "swap_for_repair", warranty.DemoSwapTabletKey, "no_reason_repair"} {
		require.Regexp(t, `^pln_`, first[k], k)
	}
	second, err := b.at("2026-06-11").SeedDemoPlans(ctx, b.p)
	require.NoError(t, err)
	require.Equal(t, first, second)
	require.Equal(t, 5, b.count(t, `SELECT count(*) FROM coverage_plans WHERE tenant_id = $1`))
	tablet, err := b.at("2026-06-10").GetPlan(ctx, b.p, first[warranty.DemoSwapTabletKey])
	require.NoError(t, err)
	require.Equal(t, 39, *tablet.DepreciationCapPercent)
	require.Equal(t, 1, *tablet.StartOffsetDays)
	nrr, err := b.at("2026-06-10").GetPlan(ctx, b.p, first["no_reason_repair"])
	require.NoError(t, err)
	require.Equal(t, tenants.Money{Amount: 10000, Currency: "CNY"}, *nrr.Compensation)
	require.Equal(t, 5, *nrr.PayoutBusinessDays)
}

func TestContractWindows(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	b := setup(t, "contract-windows")
	const today = "2026-06-10"
	svc := b.at(today)
	plans, err := svc.SeedDemoPlans(ctx, b.p)
	require.NoError(t, err)

	sell := func(t *testing.T, unit, plan, soldOn string) (warranty.Contract, error) {
		t.Helper()
		return svc.CreateContract(ctx, b.p, warranty.NewContract{UnitID: unit, PlanID: plan, SoldOn: soldOn})
	}
	cases := []struct {
		name             string
		category, plan   string
		warrantyMonths   int
		purchase, soldOn string
		starts, ends     string
		state            warranty.ContractState
	}{
		// Day 31: the purchase date is day 1.
		{"Day31IsTomorrow", "phone", "accidental_damage", 12, "2026-05-12", "", "2026-06-11", "2027-06-10", warranty.StatePending},
		{"Day31IsToday", "phone", "accidental_damage", 12, "2026-05-11", "", "2026-06-10", "2027-06-09", warranty.StateActive},
		{"KitchenSwapFromDay31", "kitchen", "swap_for_repair", 12, "2026-05-20", "", "2026-06-19", "2027-06-18", warranty.StatePending},
		{"NextDayIsTomorrow", "washer", "no_reason_repair", 12, today, "", "2026-06-11", "2027-06-10", warranty.StatePending},
		{"NextDayIsToday", "tablet", warranty.DemoSwapTabletKey, 12, "2026-06-09", "", "2026-06-10", "2027-06-09", warranty.StateActive},
		// The manufacturer warranty (12 months from 2025-06-11) ends today:
		// the extended warranty may still be sold and starts tomorrow.
		{"ExtendedSoldOnLastDayOfManufacturerWarranty", "washer", "extended_warranty", 12, "2025-06-11", "", "2026-06-11", "2028-06-10", warranty.StatePending},
		// Sold (backdated) on the warranty's last day, yesterday: active from today.
		{"ExtendedStartsTheDayAfter", "tv", "extended_warranty", 12, "2025-06-10", "2026-06-09", "2026-06-10", "2028-06-09", warranty.StateActive},
		{"ExtendedAfterThreeYearWarranty", "refrigerator", "extended_warranty", 36, "2024-01-15", "", "2027-01-15", "2029-01-14", warranty.StatePending},
		{"ProtectionSoldOnDay31", "laptop", "accidental_damage", 12, "2026-05-11", today, "2026-06-10", "2027-06-09", warranty.StateActive},
		// Bought in 2023, warranty to 2024, the extended warranty sold back
		// then and over on 2026-05-31: history, recorded as expired.
		{"PastSaleAlreadyEnded", "washer", "extended_warranty", 12, "2023-06-01", "2024-05-31", "2024-06-01", "2026-05-31", warranty.StateExpired},
		// Coverage never starts before the sale: sold on day 21, not the day after the purchase.
		{"ProtectionSoldAfterItsStart", "washer", "no_reason_repair", 12, "2026-05-20", "2026-06-09", "2026-06-09", "2027-05-20", warranty.StateActive},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			unit := b.unit(t, c.category, c.warrantyMonths, c.purchase, "")
			ctr, err := sell(t, unit, plans[c.plan], c.soldOn)
			require.NoError(t, err)
			require.Equal(t, c.starts, ctr.StartsOn)
			require.Equal(t, c.ends, ctr.EndsOn)
			require.Equal(t, c.state, ctr.State)
			want := []string{warranty.TypeContractCreated}
			if c.soldOn != "" && c.soldOn < today {
				want = append(want, warranty.TypeContractBackfilled)
			}
			if c.state == warranty.StateActive {
				want = append(want, warranty.TypeContractActivated)
			}
			require.Equal(t, want, b.eventTypes(t, ctr.ID))
		})
	}

	refused := []struct {
		name             string
		category, plan   string
		purchase, soldOn string
		want             []string
	}{
		{"ExtendedAfterManufacturerWarrantyEnded", "washer", "extended_warranty", "2025-06-10", "", []string{"sold_on"}},
		{"ProtectionSoldOnDay32", "phone", "accidental_damage", "2026-05-10", "", []string{"sold_on"}},
		{"SoldInTheFuture", "phone", "accidental_damage", "2026-06-01", "2026-06-11", []string{"sold_on"}},
		{"SoldBeforePurchase", "phone", "accidental_damage", "2026-06-01", "2026-05-31", []string{"sold_on"}},
		{"IneligibleCategory", "washer", "accidental_damage", "2026-06-01", "", []string{"plan_id"}},
		{"TabletPlanForKitchen", "kitchen", warranty.DemoSwapTabletKey, "2026-06-01", "", []string{"plan_id"}},
		// Bought in 2023: sold today, the extended warranty (to 2026-05-31)
		// is over: nothing left to sell.
		{"CoverageAlreadyEnded", "washer", "extended_warranty", "2023-06-01", "", []string{"sold_on"}},
	}
	for _, c := range refused {
		t.Run(c.name, func(t *testing.T) {
			unit := b.unit(t, c.category, 12, c.purchase, "")
			_, err := sell(t, unit, plans[c.plan], c.soldOn)
			require.Equal(t, c.want, domaintest.Fields(t, err))
			require.Zero(t, b.count(t, `SELECT count(*) FROM contracts WHERE tenant_id = $1 AND unit_id = $2`, unit), "nothing stored")
		})
	}

	t.Run("UnknownUnitAndPlan", func(t *testing.T) {
		_, err := sell(t, "unt_00000000000000000000000000", "pln_00000000000000000000000000", "")
		require.Equal(t, []string{"unit_id", "plan_id"}, domaintest.Fields(t, err))
	})
	t.Run("OneLiveContractPerKind", func(t *testing.T) {
		unit := b.unit(t, "phone", 12, "2026-06-01", "")
		_, err := sell(t, unit, plans["accidental_damage"], "")
		require.NoError(t, err)
		_, err = sell(t, unit, plans["accidental_damage"], "")
		require.Equal(t, tenants.CodeConflict, tenants.ErrorCode(err), "%v", err)
	})
}

func TestContractLifecycle(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	b := setup(t, "contract-lifecycle")
	svc := b.at("2026-06-10")
	plans, err := svc.SeedDemoPlans(ctx, b.p)
	require.NoError(t, err)
	phone := b.unit(t, "phone", 12, "2026-06-01", "")   // covered 2026-07-01..2027-06-30
	washer := b.unit(t, "washer", 12, "2026-06-09", "") // no-reason repair 2026-06-10..2027-06-09
	adp, err := svc.CreateContract(ctx, b.p, warranty.NewContract{UnitID: phone, PlanID: plans["accidental_damage"]})
	require.NoError(t, err)
	require.Equal(t, warranty.StatePending, adp.State)
	nrr, err := svc.CreateContract(ctx, b.p, warranty.NewContract{UnitID: washer, PlanID: plans["no_reason_repair"]})
	require.NoError(t, err)
	require.Equal(t, warranty.StateActive, nrr.State)

	advance := func(t *testing.T, at time.Time) int {
		t.Helper()
		n, err := svc.AdvanceContracts(ctx, b.p.TenantID, at)
		require.NoError(t, err)
		return n
	}
	state := func(t *testing.T, id string) warranty.ContractState {
		t.Helper()
		c, err := svc.GetContract(ctx, b.p, id)
		require.NoError(t, err)
		return c.State
	}

	// 15:59 UTC on 30 June is 23:59 in Shanghai: still the day before.
	require.Zero(t, advance(t, time.Date(2026, 6, 30, 15, 59, 0, 0, time.UTC)))
	require.Equal(t, warranty.StatePending, state(t, adp.ID))
	// 16:00 UTC is midnight of 1 July in Shanghai: the plan starts.
	require.Equal(t, 1, advance(t, time.Date(2026, 6, 30, 16, 0, 0, 0, time.UTC)))
	require.Equal(t, warranty.StateActive, state(t, adp.ID))
	require.Equal(t, []string{warranty.TypeContractCreated, warranty.TypeContractActivated}, b.eventTypes(t, adp.ID))
	require.Zero(t, advance(t, time.Date(2026, 6, 30, 16, 0, 0, 0, time.UTC)), "a second run moves nothing")

	// Consumed by a swap: no longer covered; the lifecycle leaves it alone.
	require.NoError(t, pg.InTenantTx(ctx, b.db.App, b.p.TenantID, func(tx pg.TenantTx) error {
		return warranty.ConsumeContract(ctx, tx, adp.ID, "swapped for a new unit", "system")
	}))
	require.Equal(t, warranty.StateConsumed, state(t, adp.ID))
	err = pg.InTenantTx(ctx, b.db.App, b.p.TenantID, func(tx pg.TenantTx) error {
		return warranty.ConsumeContract(ctx, tx, adp.ID, "again", "system")
	})
	require.Equal(t, tenants.CodeConflict, tenants.ErrorCode(err))

	// The washer's plan ends on 2027-06-09: expired from the 10th.
	require.Zero(t, advance(t, time.Date(2027, 6, 9, 12, 0, 0, 0, time.UTC)))
	require.Equal(t, 1, advance(t, time.Date(2027, 6, 9, 16, 0, 0, 0, time.UTC)))
	require.Equal(t, warranty.StateExpired, state(t, nrr.ID))
	require.Equal(t, []string{warranty.TypeContractCreated, warranty.TypeContractActivated, warranty.TypeContractExpired}, b.eventTypes(t, nrr.ID))
	require.Equal(t, warranty.StateConsumed, state(t, adp.ID))
	require.Equal(t, []string{warranty.TypeContractCreated, warranty.TypeContractActivated, warranty.TypeContractConsumed}, b.eventTypes(t, adp.ID))

	history, err := svc.ContractHistory(ctx, b.p, nrr.ID)
	require.NoError(t, err)
	require.Len(t, history, 2)
	require.Nil(t, history[0].FromState)
	require.Equal(t, warranty.StateActive, history[0].ToState)
	require.Equal(t, warranty.StateExpired, history[1].ToState)
	require.Equal(t, "system", history[1].Actor)

	var all []warranty.Contract
	require.NoError(t, pg.InTenantTx(ctx, b.db.App, b.p.TenantID, func(tx pg.TenantTx) error {
		var err error
		all, err = warranty.UnitContracts(ctx, tx, phone)
		return err
	}))
	require.Len(t, all, 1)
	require.Equal(t, warranty.StateConsumed, all[0].State)
	require.Equal(t, warranty.KindAccidentalDamage, all[0].Plan.Kind)
	require.Equal(t, 50, *all[0].Plan.DiscountPercent)

	// A pending contract nobody advanced before its window passed expires.
	late := b.unit(t, "kitchen", 12, "2026-06-05", "")
	k, err := svc.CreateContract(ctx, b.p, warranty.NewContract{UnitID: late, PlanID: plans["swap_for_repair"]})
	require.NoError(t, err)
	require.Equal(t, warranty.StatePending, k.State)
	require.Equal(t, 1, advance(t, time.Date(2028, 1, 1, 0, 0, 0, 0, time.UTC)))
	require.Equal(t, warranty.StateExpired, state(t, k.ID))
}

// A swap ends the replaced unit's contracts: the running one is consumed,
// the one that has not started yet is cancelled, an ended one stays.
func TestEndForReplacedUnit(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	b := setup(t, "contract-replaced")
	svc := b.at("2026-06-10")
	plans, err := svc.SeedDemoPlans(ctx, b.p)
	require.NoError(t, err)
	washer := b.unit(t, "washer", 12, "2026-06-09", "")
	nrr, err := svc.CreateContract(ctx, b.p, warranty.NewContract{UnitID: washer, PlanID: plans["no_reason_repair"]})
	require.NoError(t, err)
	ext, err := svc.CreateContract(ctx, b.p, warranty.NewContract{UnitID: washer, PlanID: plans["extended_warranty"]})
	require.NoError(t, err)
	require.Equal(t, warranty.StateActive, nrr.State)
	require.Equal(t, warranty.StatePending, ext.State)

	var ended []string
	require.NoError(t, pg.InTenantTx(ctx, b.db.App, b.p.TenantID, func(tx pg.TenantTx) error {
		ended, err = warranty.EndForReplacedUnit(ctx, tx, washer, "unit swapped", "test")
		return err
	}))
	require.ElementsMatch(t, []string{nrr.ID, ext.ID}, ended)
	got, err := svc.GetContract(ctx, b.p, nrr.ID)
	require.NoError(t, err)
	require.Equal(t, warranty.StateConsumed, got.State)
	got, err = svc.GetContract(ctx, b.p, ext.ID)
	require.NoError(t, err)
	require.Equal(t, warranty.StateCancelled, got.State)

	// Again: nothing live is left to end.
	require.NoError(t, pg.InTenantTx(ctx, b.db.App, b.p.TenantID, func(tx pg.TenantTx) error {
		ended, err = warranty.EndForReplacedUnit(ctx, tx, washer, "unit swapped", "test")
		return err
	}))
	require.Empty(t, ended)
}
