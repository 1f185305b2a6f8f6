package swaps_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/servicenet/servicenet/tenants"
	"github.com/servicenet/servicenet/tenants/swaps"
	"github.com/servicenet/servicenet/tenants/warranty"
)

func TestFee(t *testing.T) {
	t.Parallel()
	pct := func(n int) *int { return &n }
	cny := func(n int64) *tenants.Money { return &tenants.Money{Amount: n, Currency: "CNY"} }
	cases := []struct {
		name     string
		plan     *warranty.Plan
		category string
		price    int64
		want     int64
	}{
		{"NoPlanNoFee", nil, "washer", 300000, 0},
		{"KitchenFlatFee", &warranty.Plan{Kind: warranty.KindSwapForRepair, FlatFee: cny(3000)}, "kitchen", 59900, 3000},
		{"KitchenDefaultFlatFee", &warranty.Plan{Kind: warranty.KindSwapForRepair}, "small_appliance", 59900, 3000},
		{"TabletCap", &warranty.Plan{Kind: warranty.KindSwapForRepair, DepreciationCapPercent: pct(39)}, "tablet", 299900, 116961},
		{"TabletDefaultCap39", &warranty.Plan{Kind: warranty.KindSwapForRepair}, "tablet", 100000, 39000},
		{"AccidentalDamageDepreciation", &warranty.Plan{Kind: warranty.KindAccidentalDamage, DepreciationCapPercent: pct(20)}, "phone", 499900, 99980},
		{"NoReasonPlanWithoutTerms", &warranty.Plan{Kind: warranty.KindNoReasonRepair}, "washer", 899900, 0},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			fee, rule := swaps.Fee(c.plan, c.category, c.price)
			require.Equal(t, c.want, fee)
			require.NotEmpty(t, rule)
		})
	}
}
