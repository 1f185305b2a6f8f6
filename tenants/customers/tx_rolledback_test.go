package customers_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/servicenet/servicenet/internal/domaintest"
	"github.com/servicenet/servicenet/internal/i18n"
	"github.com/servicenet/servicenet/internal/pg"
	"github.com/servicenet/servicenet/tenants"
	"github.com/servicenet/servicenet/tenants/customers"
)

// The functions other contexts call inside their own tenant transaction.
func TestRolledBackTxHelpers(t *testing.T) {
	s := newShop(t)
	a := s.owner(t, s.unitA)
	optOut := true
	_, err := s.Customers.UpdateCustomer(s.Ctx, s.Admin, a.ID, customers.CustomerUpdate{NotificationsOptOut: &optOut}, 0)
	require.NoError(t, err)
	sf, err := s.Customers.CreateStorefront(s.Ctx, s.Admin, customers.NewStorefront{Code: "JD-1", Name: "京东旗舰店", Platform: "jd"})
	require.NoError(t, err)
	const nobody = "unt_01jd3zq8w6v7t3y2k9x4n5m6pe"
	require.NoError(t, pg.InTenantTx(s.Ctx, s.Tx, s.Tenant, func(tx pg.TenantTx) error {
		o, err := customers.UnitOwnerTx(s.Ctx, tx, s.unitA)
		require.NoError(t, err)
		require.Equal(t, customers.Owner{CustomerID: a.ID, Phone: "+8613900000001", OptedOut: true}, o)
		_, err = customers.UnitOwnerTx(s.Ctx, tx, nobody)
		requireCode(t, err, tenants.CodeNotFound, "")

		ok, err := customers.CustomerExistsTx(s.Ctx, tx, customers.Scope{}, a.ID)
		require.NoError(t, err)
		require.True(t, ok)
		ok, err = customers.CustomerExistsTx(s.Ctx, tx, customers.Scope{}, "not-an-id")
		require.NoError(t, err)
		require.False(t, ok)
		ok, err = customers.StorefrontExistsTx(s.Ctx, tx, sf.ID)
		require.NoError(t, err)
		require.True(t, ok)
		ok, err = customers.StorefrontExistsTx(s.Ctx, tx, "sfr_01jd3zq8w6v7t3y2k9x4n5m6pe")
		require.NoError(t, err)
		require.False(t, ok)

		require.NoError(t, customers.SetInstalledOnTx(s.Ctx, tx, s.unitA, domaintest.Today(-29)))
		requireCode(t, customers.SetInstalledOnTx(s.Ctx, tx, nobody, domaintest.Today(-1)), tenants.CodeNotFound, "")
		require.NoError(t, customers.MarkReturnedTx(s.Ctx, tx, s.unitB))
		requireCode(t, customers.MarkReturnedTx(s.Ctx, tx, s.unitB), tenants.CodeConflict, "") // already returned
		return nil
	}))
	u, err := s.Customers.GetUnit(s.Ctx, s.Admin, s.unitA)
	require.NoError(t, err)
	require.Equal(t, domaintest.Today(-29), *u.InstalledOn)
	b, err := s.Customers.GetUnit(s.Ctx, s.Admin, s.unitB)
	require.NoError(t, err)
	require.Equal(t, "returned", b.Status)
}

// SetInstalledOnTx's contract: a date before the purchase is refused as
// invalid naming installed_on, to a Go caller as to the HTTP one (the
// units_check constraint's name stays on the error for api/constraints.go),
// and the unit is unchanged.
func TestRolledBackInstalledBeforePurchase(t *testing.T) {
	s := newShop(t)
	before := domaintest.Today(-31) // unitA was bought 30 days ago
	var inside error
	err := pg.InTenantTx(s.Ctx, s.Tx, s.Tenant, func(tx pg.TenantTx) error {
		inside = customers.SetInstalledOnTx(s.Ctx, tx, s.unitA, before)
		return inside
	})
	requireCode(t, inside, tenants.CodeInvalid, "installed_on")
	var te *tenants.Error
	require.ErrorAs(t, inside, &te)
	require.Equal(t, []tenants.FieldError{tenants.FieldMsg("installed_on", i18n.M("constraint.units_check"), before)}, te.Fields)
	require.Equal(t, "units_check", te.Constraint)
	require.Equal(t, "invalid: validation failed (installed_on: must not be before purchase_date)", inside.Error())
	require.Equal(t, []string{"installed_on"}, domaintest.Fields(t, err), "the transaction's error is the same")
	u, err := s.Customers.GetUnit(s.Ctx, s.Admin, s.unitA)
	require.NoError(t, err)
	require.Nil(t, u.InstalledOn)
}
