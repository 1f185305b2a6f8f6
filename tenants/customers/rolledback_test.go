package customers_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/servicenet/servicenet/internal/domaintest"
	"github.com/servicenet/servicenet/tenants"
	"github.com/servicenet/servicenet/tenants/customers"
)

// shop is a brand with a washer model and two units, each owned by its own
// customer, in one rolled-back transaction.
type shop struct {
	*domaintest.Env
	model, unitA, unitB string
}

func newShop(t *testing.T) *shop {
	t.Helper()
	s := &shop{Env: domaintest.New(t)}
	s.model, _ = s.Product(t, "XQG100", "washer", 12, "control_board", 30000)
	s.unitA = s.Unit(t, s.model, "WSH0001", -30, "13900000001")
	s.unitB = s.Unit(t, s.model, "WSH0002", -20, "13900000002")
	return s
}

func (s *shop) owner(t *testing.T, unit string) customers.Customer {
	t.Helper()
	u, err := s.Customers.GetUnit(s.Ctx, s.Admin, unit)
	require.NoError(t, err)
	c, err := s.Customers.GetCustomer(s.Ctx, s.Admin, u.CustomerID)
	require.NoError(t, err)
	return c
}

func TestRolledBackUpdateCustomer(t *testing.T) {
	s := newShop(t)
	a, b := s.owner(t, s.unitA), s.owner(t, s.unitB)
	require.Equal(t, []string{"+8613900000001"}, a.Phones)

	name, optOut := " 钱八 ", true
	phones := []string{"139 0000 0001", "0532-8893 0000"}
	addrs := []customers.CustomerAddress{{Label: "home", RegionCode: "370212", Line: "海尔路1号"}}
	c, err := s.Customers.UpdateCustomer(s.Ctx, s.Admin, a.ID, customers.CustomerUpdate{Name: &name, Phones: &phones,
		Addresses: &addrs, NotificationsOptOut: &optOut}, a.Version)
	require.NoError(t, err)
	require.Equal(t, "钱八", c.Name)
	require.Equal(t, []string{"+8613900000001", "+8653288930000"}, c.Phones)
	require.Equal(t, addrs, c.Addresses)
	require.True(t, c.NotificationsOptOut)
	require.Equal(t, a.Version+1, c.Version)
	require.Equal(t, 2, s.Count(t, `SELECT count(*) FROM customer_phones WHERE tenant_id = $1 AND customer_id = $2`, a.ID))

	// Nothing changed: the same version.
	same, err := s.Customers.UpdateCustomer(s.Ctx, s.Admin, a.ID, customers.CustomerUpdate{Name: &name}, 0)
	require.NoError(t, err)
	require.Equal(t, c.Version, same.Version)

	// A stale version; B's phone; an unknown region; no such customer.
	_, err = s.Customers.UpdateCustomer(s.Ctx, s.Admin, a.ID, customers.CustomerUpdate{Name: &name}, a.Version)
	requireCode(t, err, tenants.CodePreconditionFailed, "")
	taken := []string{"13900000001", "13900000002"}
	_, err = s.Customers.UpdateCustomer(s.Ctx, s.Admin, a.ID, customers.CustomerUpdate{Phones: &taken}, 0)
	requireCode(t, err, tenants.CodeConflict, "phones[1]")
	unknown := []customers.CustomerAddress{{RegionCode: "999999", Line: "x"}}
	_, err = s.Customers.UpdateCustomer(s.Ctx, s.Admin, a.ID, customers.CustomerUpdate{Addresses: &unknown}, 0)
	require.Equal(t, []string{"addresses[0].region_code"}, domaintest.Fields(t, err))
	_, err = s.Customers.UpdateCustomer(s.Ctx, s.Admin, "cus_01jd3zq8w6v7t3y2k9x4n5m6pe", customers.CustomerUpdate{Name: &name}, 0)
	requireCode(t, err, tenants.CodeNotFound, "")

	// Dropping a phone frees it for another customer.
	one := []string{"13900000001"}
	_, err = s.Customers.UpdateCustomer(s.Ctx, s.Admin, a.ID, customers.CustomerUpdate{Phones: &one}, 0)
	require.NoError(t, err)
	freed := []string{"13900000002", "0532 8893 0000"}
	c, err = s.Customers.UpdateCustomer(s.Ctx, s.Admin, b.ID, customers.CustomerUpdate{Phones: &freed}, 0)
	require.NoError(t, err)
	require.Equal(t, []string{"+8613900000002", "+8653288930000"}, c.Phones)
}

func TestRolledBackUpdateUnit(t *testing.T) {
	s := newShop(t)
	u, err := s.Customers.GetUnit(s.Ctx, s.Admin, s.unitA)
	require.NoError(t, err)
	require.Equal(t, "WSH0001", u.Serial)
	require.Equal(t, domaintest.Today(-30), u.PurchaseDate)
	require.Nil(t, u.InstalledOn)
	b := s.owner(t, s.unitB)

	installed, invoice, price := domaintest.Today(-28), " INV-1 ", domaintest.CNY(279900)
	got, err := s.Customers.UpdateUnit(s.Ctx, s.Admin, s.unitA, customers.UnitUpdate{CustomerID: &b.ID, InstalledOn: &installed,
		InvoiceNumber: &invoice, PurchasePrice: &price}, u.Version)
	require.NoError(t, err)
	require.Equal(t, b.ID, got.CustomerID)
	require.Equal(t, installed, *got.InstalledOn)
	require.Equal(t, "INV-1", *got.InvoiceNumber)
	require.Equal(t, int64(279900), got.PurchasePrice.Amount)
	require.Equal(t, u.Version+1, got.Version)
	units, _, err := s.Customers.ListUnits(s.Ctx, s.Admin, customers.UnitFilter{CustomerID: b.ID})
	require.NoError(t, err)
	require.Len(t, units, 2)

	same, err := s.Customers.UpdateUnit(s.Ctx, s.Admin, s.unitA, customers.UnitUpdate{InstalledOn: &installed}, 0)
	require.NoError(t, err)
	require.Equal(t, got.Version, same.Version)

	_, err = s.Customers.UpdateUnit(s.Ctx, s.Admin, s.unitA, customers.UnitUpdate{InstalledOn: &installed}, u.Version)
	requireCode(t, err, tenants.CodePreconditionFailed, "")
	nobody := "cus_01jd3zq8w6v7t3y2k9x4n5m6pe"
	_, err = s.Customers.UpdateUnit(s.Ctx, s.Admin, s.unitA, customers.UnitUpdate{CustomerID: &nobody}, 0)
	require.Equal(t, []string{"customer_id"}, domaintest.Fields(t, err))
	future := domaintest.Today(3)
	_, err = s.Customers.UpdateUnit(s.Ctx, s.Admin, s.unitA, customers.UnitUpdate{InstalledOn: &future}, 0)
	require.Equal(t, []string{"installed_on"}, domaintest.Fields(t, err))
	usd := tenants.Money{Amount: 100, Currency: "USD"}
	_, err = s.Customers.UpdateUnit(s.Ctx, s.Admin, s.unitA, customers.UnitUpdate{PurchasePrice: &usd}, 0)
	require.Equal(t, []string{"purchase_price.currency"}, domaintest.Fields(t, err))
	_, err = s.Customers.GetUnit(s.Ctx, s.Admin, "unt_nope")
	requireCode(t, err, tenants.CodeNotFound, "")
}

func TestRolledBackStorefronts(t *testing.T) {
	s := newShop(t)
	jd, err := s.Customers.CreateStorefront(s.Ctx, s.Admin, customers.NewStorefront{Code: "JD-1", Name: "京东旗舰店", Platform: "jd"})
	require.NoError(t, err)
	tm, err := s.Customers.CreateStorefront(s.Ctx, s.Admin, customers.NewStorefront{Code: "TM-1", Name: "天猫旗舰店", Platform: "tmall"})
	require.NoError(t, err)
	require.Equal(t, customers.StorefrontActive, jd.Status)

	got, err := s.Customers.GetStorefront(s.Ctx, s.Admin, jd.ID)
	require.NoError(t, err)
	require.Equal(t, "京东旗舰店", got.Name)
	_, err = s.Customers.GetStorefront(s.Ctx, s.Admin, "sfr_nope")
	requireCode(t, err, tenants.CodeNotFound, "")

	suspended, name := customers.StorefrontSuspended, "京东自营店"
	up, err := s.Customers.UpdateStorefront(s.Ctx, s.Admin, jd.ID, customers.StorefrontUpdate{Status: &suspended, Name: &name}, 1)
	require.NoError(t, err)
	require.Equal(t, customers.StorefrontSuspended, up.Status)
	require.Equal(t, name, up.Name)
	require.Equal(t, 2, up.Version)
	require.Equal(t, 1, s.Count(t, `SELECT count(*) FROM events WHERE tenant_id = $1 AND type = 'storefront.updated' AND subject_id = $2
		AND data->>'to_status' = 'suspended'`, jd.ID))
	same, err := s.Customers.UpdateStorefront(s.Ctx, s.Admin, jd.ID, customers.StorefrontUpdate{Name: &name}, 0)
	require.NoError(t, err)
	require.Equal(t, 2, same.Version)
	_, err = s.Customers.UpdateStorefront(s.Ctx, s.Admin, jd.ID, customers.StorefrontUpdate{Name: &name}, 1)
	requireCode(t, err, tenants.CodePreconditionFailed, "")
	closed, taken := "closed", "TM-1"
	_, err = s.Customers.UpdateStorefront(s.Ctx, s.Admin, jd.ID, customers.StorefrontUpdate{Status: &closed}, 0)
	require.Equal(t, []string{"status"}, domaintest.Fields(t, err))
	_, err = s.Customers.UpdateStorefront(s.Ctx, s.Admin, jd.ID, customers.StorefrontUpdate{Code: &taken}, 0)
	requireCode(t, err, tenants.CodeConflict, "")

	// A suspended storefront's key may not register units.
	key := s.As(tenants.Principal{StorefrontID: jd.ID}, tenants.RoleStorefront)
	_, err = s.Customers.RegisterUnit(s.Ctx, key, customers.NewUnit{ModelID: s.model, Serial: "WSH0009",
		Customer: &customers.NewCustomer{Name: "赵九", Phones: []string{"13900000009"}}, PurchaseDate: domaintest.Today(-1),
		PurchasePrice: domaintest.CNY(299900), Channel: "online"})
	requireCode(t, err, tenants.CodeForbidden, "")

	list, next, err := s.Customers.ListStorefronts(s.Ctx, s.Admin, customers.StorefrontFilter{Status: customers.StorefrontActive})
	require.NoError(t, err)
	require.Empty(t, next)
	require.Len(t, list, 1)
	require.Equal(t, tm.ID, list[0].ID)
	list, _, err = s.Customers.ListStorefronts(s.Ctx, s.Admin, customers.StorefrontFilter{Platform: "jd"})
	require.NoError(t, err)
	require.Len(t, list, 1)
	require.Equal(t, jd.ID, list[0].ID)
	list, next, err = s.Customers.ListStorefronts(s.Ctx, s.Admin, customers.StorefrontFilter{Limit: 1})
	require.NoError(t, err)
	require.Len(t, list, 1)
	require.NotEmpty(t, next)
	list, next, err = s.Customers.ListStorefronts(s.Ctx, s.Admin, customers.StorefrontFilter{Limit: 1, Cursor: next})
	require.NoError(t, err)
	require.Len(t, list, 1)
	require.Empty(t, next)
	_, _, err = s.Customers.ListStorefronts(s.Ctx, s.Admin, customers.StorefrontFilter{Status: "gone", Platform: "ebay"})
	require.ElementsMatch(t, []string{"status", "platform"}, domaintest.Fields(t, err))
}
