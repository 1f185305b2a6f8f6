package warranty_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/servicenet/servicenet/tenants"
	"github.com/servicenet/servicenet/tenants/catalog"
	"github.com/servicenet/servicenet/tenants/customers"
	"github.com/servicenet/servicenet/tenants/warranty"
	"github.com/servicenet/servicenet/tenants/warranty/entitlement"
)

func TestSeedDemoSales(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	b := setup(t, "demo-sales")
	cat, cus, war := &catalog.Service{DB: b.db.App}, b.customers(nil), b.warranty(nil)

	first, err := warranty.SeedDemoSales(ctx, b.p, cat, cus, war)
	require.NoError(t, err)
	require.Equal(t, customers.DemoUnitCount, first.Units)
	require.Equal(t, 5, first.Plans)
	require.GreaterOrEqual(t, first.Models, 12)
	require.GreaterOrEqual(t, first.Contracts, 6, "plans are sold for the units they may still be sold for")

	contracts, _, err := war.ListContracts(ctx, b.p, warranty.ContractFilter{Limit: 200})
	require.NoError(t, err)
	require.Len(t, contracts, first.Contracts)
	kinds, states := map[string]int{}, map[string]int{}
	var storefrontAccidental *warranty.Contract
	for i, c := range contracts {
		kinds[string(c.Plan.Kind)]++
		states[string(c.State)]++
		if c.Plan.Kind == warranty.KindAccidentalDamage && c.StorefrontID != nil && *c.StorefrontID == first.StorefrontID {
			storefrontAccidental = &contracts[i]
		}
	}
	require.NotNil(t, storefrontAccidental, "the storefront sold an accidental-damage plan: %v", kinds)
	require.GreaterOrEqual(t, len(kinds), 3, "several kinds of plan are sold: %v", kinds)
	require.Positive(t, states["active"], "some contracts are active: %v", states)

	// The demo data answers entitlement questions.
	e, err := war.Decide(ctx, b.p, warranty.DecideRequest{UnitID: storefrontAccidental.UnitID,
		Fault: warranty.FaultReport{Cause: string(entitlement.CauseAccidental)}, Work: &warranty.Work{ServiceKind: "carry_in"}})
	require.NoError(t, err)
	require.NotEmpty(t, e.Decision.Trace)

	again, err := warranty.SeedDemoSales(ctx, b.p, cat, cus, war)
	require.NoError(t, err)
	require.Equal(t, first.StorefrontID, again.StorefrontID)
	require.Zero(t, again.Units, "idempotent: no unit registered twice")
	require.Zero(t, again.Contracts, "idempotent: no contract sold twice")
	units, _, err := cus.ListUnits(ctx, b.p, customers.UnitFilter{Limit: tenants.MaxPageLimit})
	require.NoError(t, err)
	require.Len(t, units, customers.DemoUnitCount)
}
