package customers_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/servicenet/servicenet/internal/pg"
	"github.com/servicenet/servicenet/internal/pgtest"
	"github.com/servicenet/servicenet/tenants"
	"github.com/servicenet/servicenet/tenants/customers"
	"github.com/servicenet/servicenet/tenants/identity"
	"github.com/servicenet/servicenet/tenants/tickets"
	"github.com/servicenet/servicenet/tenants/warranty"
)

type testBundle struct {
	db    *pgtest.DB
	svc   *customers.Service
	admin tenants.Principal
	model string
}

// setup gives a test its own database, a tenant with its admin principal,
// and one product model.
func setup(t *testing.T) *testBundle {
	t.Helper()
	db := pgtest.NewDB(t)
	idn := &identity.Service{DB: db.App}
	ctx := context.Background()
	_, key, err := idn.CreateTenant(ctx, identity.NewTenant{Name: "Brand", Slug: "brand"}, "operator")
	require.NoError(t, err)
	admin, err := idn.Authenticate(ctx, key.Secret)
	require.NoError(t, err)
	model := tenants.NewID(tenants.PrefixProductModel)
	require.NoError(t, pg.InTenantTx(ctx, db.Owner, admin.TenantID, func(tx pg.TenantTx) error {
		_, err := tx.Exec(ctx, `INSERT INTO product_models (tenant_id, id, model_number, category, name, retail_price, currency, warranty_months)
			VALUES ($1, $2, 'XQG100', 'washer', '滚筒洗衣机', 329900, 'CNY', 36)`, tx.TenantID, model)
		return err
	}))
	svc, err := customers.NewService(db.App, customers.Deps{Jobs: tickets.ServedTx, PurchaseDateMoved: warranty.RedateUnitContractsTx})
	require.NoError(t, err)
	return &testBundle{db: db, svc: svc, admin: admin, model: model}
}

func (b *testBundle) storefront(t *testing.T, code string) (string, tenants.Principal) {
	t.Helper()
	sf, err := b.svc.CreateStorefront(context.Background(), b.admin, customers.NewStorefront{Code: code, Name: code, Platform: "jd"})
	require.NoError(t, err)
	return sf.ID, tenants.Principal{TenantID: b.admin.TenantID, KeyID: "key_" + code, Roles: []string{tenants.RoleStorefront}, StorefrontID: sf.ID}
}

func (b *testBundle) unit(serial string, phone string) customers.NewUnit {
	return customers.NewUnit{ModelID: b.model, Serial: serial, PurchaseDate: "2026-01-05",
		PurchasePrice: tenants.Money{Amount: 329900, Currency: "CNY"},
		Customer:      &customers.NewCustomer{Name: "王丽", Phones: []string{phone}}}
}

func requireCode(t *testing.T, err error, code tenants.Code, location string) {
	t.Helper()
	var te *tenants.Error
	require.ErrorAs(t, err, &te)
	require.Equal(t, code, te.Code, "%v", err)
	if location != "" {
		require.NotEmpty(t, te.Fields, "%v", err)
		require.Equal(t, location, te.Fields[0].Location, "%v", err)
	}
}

func TestFindOrCreateDeduplicates(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ctx := context.Background()

	t.Run("ConcurrentRequestsMakeOneCustomer", func(t *testing.T) {
		notations := []string{"13800138000", "+86 138 0013 8000", "138-0013-8000", "0086 13800138000", "(138) 0013 8000", "8613800138000"}
		ids := make([]string, len(notations))
		created := make([]bool, len(notations))
		var wg sync.WaitGroup
		for i, phone := range notations {
			wg.Go(func() {
				c, ok, err := b.svc.CreateCustomer(ctx, b.admin, customers.NewCustomer{Name: "王丽", Phones: []string{phone}})
				require.NoError(t, err)
				ids[i], created[i] = c.ID, ok
			})
		}
		wg.Wait()
		n := 0
		for i := range ids {
			require.Equal(t, ids[0], ids[i])
			if created[i] {
				n++
			}
		}
		require.Equal(t, 1, n, "exactly one request created the customer")
	})

	t.Run("TwoCustomersConflict", func(t *testing.T) {
		_, _, err := b.svc.CreateCustomer(ctx, b.admin, customers.NewCustomer{Name: "李强", Phones: []string{"13900139000"}})
		require.NoError(t, err)
		_, _, err = b.svc.CreateCustomer(ctx, b.admin, customers.NewCustomer{Name: "x", Phones: []string{"13900139000", "13800138000"}})
		requireCode(t, err, tenants.CodeConflict, "phones")
	})

	t.Run("InlineOwnerOfAUnitIsFoundToo", func(t *testing.T) {
		c, _, err := b.svc.CreateCustomer(ctx, b.admin, customers.NewCustomer{Name: "王丽", Phones: []string{"13800138000"}})
		require.NoError(t, err)
		u, err := b.svc.RegisterUnit(ctx, b.admin, b.unit("S-1", "+86-138-0013-8000"))
		require.NoError(t, err)
		require.Equal(t, c.ID, u.CustomerID)
	})
}

func TestStorefrontScope(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ctx := context.Background()
	sfA, pa := b.storefront(t, "A")
	_, pb := b.storefront(t, "B")

	ua, err := b.svc.RegisterUnit(ctx, pa, b.unit("A-1", "13511112222"))
	require.NoError(t, err)
	require.Equal(t, sfA, *ua.StorefrontID, "a storefront key registers for its own storefront")
	require.Equal(t, customers.ChannelStorefront, ua.Channel)

	_, err = b.svc.RegisterUnit(ctx, pa, func() customers.NewUnit {
		in := b.unit("A-2", "13511113333")
		in.StorefrontID = pb.StorefrontID
		return in
	}())
	requireCode(t, err, tenants.CodeInvalid, "storefront_id")

	// LoadUnit, as other contexts call it, applies the scope.
	require.NoError(t, pg.InTenantTx(ctx, b.db.App, b.admin.TenantID, func(tx pg.TenantTx) error {
		for _, p := range []tenants.Principal{b.admin, pa} {
			u, err := customers.LoadUnit(ctx, tx, p, ua.ID)
			require.NoError(t, err)
			require.Equal(t, "washer", u.Category)
			require.Equal(t, "2026-01-05", u.PurchaseDate)
			require.Equal(t, tenants.Money{Amount: 329900, Currency: "CNY"}, u.PurchasePrice)
		}
		orphan := tenants.Principal{TenantID: b.admin.TenantID, Roles: []string{tenants.RoleStorefront}}
		for _, p := range []tenants.Principal{pb, orphan} {
			_, err := customers.LoadUnit(ctx, tx, p, ua.ID)
			requireCode(t, err, tenants.CodeNotFound, "")
		}
		return nil
	}))

	units, _, err := b.svc.ListUnits(ctx, pb, customers.UnitFilter{})
	require.NoError(t, err)
	require.Empty(t, units)
	cs, _, err := b.svc.ListCustomers(ctx, pb, customers.CustomerFilter{})
	require.NoError(t, err)
	require.Empty(t, cs)
	_, err = b.svc.GetCustomer(ctx, pb, ua.CustomerID)
	requireCode(t, err, tenants.CodeNotFound, "")
	c, err := b.svc.GetCustomer(ctx, pa, ua.CustomerID)
	require.NoError(t, err)
	require.Equal(t, []string{"+8613511112222"}, c.Phones)

	require.True(t, customers.ScopeOf(b.admin).Whole())
	require.False(t, customers.ScopeOf(pa).Whole())
}

// TestStorefrontPhonesStayInScope: a storefront finds customers by phone
// only in its scope. A phone that belongs to a brand customer makes the
// storefront a customer of its own (once, however many requests race),
// which keeps the phone without taking it from the brand's customer, and
// whose notifications follow that customer's opt-out.
func TestStorefrontPhonesStayInScope(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ctx := context.Background()
	_, pa := b.storefront(t, "A")
	brand, _, err := b.svc.CreateCustomer(ctx, b.admin, customers.NewCustomer{Name: "王丽", Phones: []string{"13812340001", "13812340002"}})
	require.NoError(t, err)
	optOut := true
	_, err = b.svc.UpdateCustomer(ctx, b.admin, brand.ID, customers.CustomerUpdate{NotificationsOptOut: &optOut}, 0)
	require.NoError(t, err)

	ids := make([]string, 4)
	var wg sync.WaitGroup
	for i := range ids {
		wg.Go(func() {
			u, err := b.svc.RegisterUnit(ctx, pa, b.unit(fmt.Sprintf("A-%d", i), "138 1234 0001"))
			require.NoError(t, err)
			ids[i] = u.CustomerID
		})
	}
	wg.Wait()
	own := ids[0]
	require.NotEqual(t, brand.ID, own)
	for _, id := range ids {
		require.Equal(t, own, id, "one customer of the storefront's own")
	}
	_, err = b.svc.GetCustomer(ctx, pa, brand.ID)
	requireCode(t, err, tenants.CodeNotFound, "")

	c, created, err := b.svc.CreateCustomer(ctx, pa, customers.NewCustomer{Name: "x", Phones: []string{"13812340001", "13812340002"}})
	require.NoError(t, err)
	require.False(t, created)
	require.Equal(t, own, c.ID)
	c, err = b.svc.UpdateCustomer(ctx, pa, own, customers.CustomerUpdate{Phones: &[]string{"13812340002"}}, 0)
	require.NoError(t, err, "the brand customer's other phone is no conflict for the storefront")
	require.Equal(t, []string{"+8613812340002"}, c.Phones)

	// The brand's customer keeps its phones, and the brand still finds it.
	got, err := b.svc.GetCustomer(ctx, b.admin, brand.ID)
	require.NoError(t, err)
	require.Equal(t, []string{"+8613812340001", "+8613812340002"}, got.Phones)
	found, created, err := b.svc.CreateCustomer(ctx, b.admin, customers.NewCustomer{Name: "x", Phones: []string{"13812340002"}})
	require.NoError(t, err)
	require.False(t, created)
	require.Equal(t, brand.ID, found.ID)
	cs, _, err := b.svc.ListCustomers(ctx, b.admin, customers.CustomerFilter{Phone: "13812340002"})
	require.NoError(t, err)
	require.Len(t, cs, 2)

	require.NoError(t, pg.InTenantTx(ctx, b.db.App, b.admin.TenantID, func(tx pg.TenantTx) error {
		out, err := customers.OptedOutTx(ctx, tx, own)
		require.NoError(t, err)
		require.True(t, out, "the person behind the phone declined non-essential messages")
		return nil
	}))
}

func TestRecordServiceAndLoadHistory(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ctx := context.Background()
	u, err := b.svc.RegisterUnit(ctx, b.admin, b.unit("H-1", "13700137000"))
	require.NoError(t, err)
	require.NoError(t, pg.InTenantTx(ctx, b.db.App, b.admin.TenantID, func(tx pg.TenantTx) error {
		for _, d := range []string{"2026-03-01", "2026-05-01", "2026-02-01"} {
			_, err := customers.RecordService(ctx, tx, u.ID, customers.NewServiceRecord{Kind: "repair", OccurredOn: d, Paid: true,
				Amount: &tenants.Money{Amount: 100, Currency: "CNY"}, Reference: "TKT-" + d}, "ticket", time.Now())
			require.NoError(t, err)
		}
		_, err := customers.RecordService(ctx, tx, u.ID, customers.NewServiceRecord{Kind: "repair", OccurredOn: "2025-12-31"}, "ticket", time.Now())
		requireCode(t, err, tenants.CodeInvalid, "occurred_on")
		_, err = customers.RecordService(ctx, tx, "unt_00000000000000000000000000", customers.NewServiceRecord{Kind: "repair", OccurredOn: "2026-03-01"}, "ticket", time.Now())
		requireCode(t, err, tenants.CodeNotFound, "")
		return nil
	}))
	require.NoError(t, pg.InTenantTx(ctx, b.db.App, b.admin.TenantID, func(tx pg.TenantTx) error {
		h, err := customers.LoadHistory(ctx, tx, u.ID)
		require.NoError(t, err)
		var days []string
		for _, r := range h {
			days = append(days, r.OccurredOn)
			require.Equal(t, "ticket", r.CreatedBy)
		}
		require.Equal(t, []string{"2026-05-01", "2026-03-01", "2026-02-01"}, days)
		return nil
	}))
}

func TestSeedDemo(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ctx := context.Background()
	b.svc.Now = func() time.Time { return time.Date(2026, 11, 30, 10, 0, 0, 0, time.UTC) }
	id, err := b.svc.SeedDemoStorefront(ctx, b.admin)
	require.NoError(t, err)
	again, err := b.svc.SeedDemoStorefront(ctx, b.admin)
	require.NoError(t, err)
	require.Equal(t, id, again)

	n, err := b.svc.SeedDemoUnits(ctx, b.admin, id, []string{b.model})
	require.NoError(t, err)
	require.Equal(t, customers.DemoUnitCount, n)
	n, err = b.svc.SeedDemoUnits(ctx, b.admin, id, []string{b.model})
	require.NoError(t, err)
	require.Zero(t, n, "idempotent")

	all, _, err := b.svc.ListUnits(ctx, b.admin, customers.UnitFilter{Limit: 100})
	require.NoError(t, err)
	require.Len(t, all, customers.DemoUnitCount)
	sold, _, err := b.svc.ListUnits(ctx, b.admin, customers.UnitFilter{StorefrontID: id, Limit: 100})
	require.NoError(t, err)
	require.Len(t, sold, customers.DemoUnitCount/3)
	cs, _, err := b.svc.ListCustomers(ctx, b.admin, customers.CustomerFilter{Limit: 100})
	require.NoError(t, err)
	require.Len(t, cs, 20, "customers are found again by phone")
	withHistory := 0
	for _, u := range all {
		h, _, err := b.svc.ListHistory(ctx, b.admin, u.ID, 10, "")
		require.NoError(t, err)
		withHistory += len(h)
	}
	require.Positive(t, withHistory)
}
