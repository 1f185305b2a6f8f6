package swaps_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/servicenet/servicenet/tenants"
	"github.com/servicenet/servicenet/tenants/swaps"
	"github.com/servicenet/servicenet/tenants/warranty"
	"github.com/servicenet/servicenet/tenants/warranty/entitlement"
)

func TestFee(t *testing.T) {
	t.Parallel()
	pct := func(n int) *int { return &n }
	purchase, on := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC), time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC)
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
		// Bought 2026-03-01, swapped 2026-06-01: month 4 of ownership.
		{"AccidentalDamageSchedule", &warranty.Plan{Kind: warranty.KindAccidentalDamage, DepreciationSchedule: []entitlement.DepreciationStep{{UpToMonth: 3, Percent: 20}, {UpToMonth: 12, Percent: 35}}}, "phone", 499900, 174965},
		{"AccidentalDamageWithoutScheduleIsNotFree", &warranty.Plan{Kind: warranty.KindAccidentalDamage}, "phone", 499900, 149970},
		{"NoReasonPlanWithoutTermsIsNotFree", &warranty.Plan{Kind: warranty.KindNoReasonRepair}, "washer", 899900, 89990},
		{"ExtendedWarrantyReplacementIsFree", &warranty.Plan{Kind: warranty.KindExtendedWarranty}, "washer", 899900, 0},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			fee, rule, ok := swaps.Fee(c.plan, c.category, tenants.Money{Amount: c.price, Currency: "CNY"}, purchase, on)
			require.True(t, ok)
			require.Equal(t, c.want, fee)
			require.NotEmpty(t, rule)
		})
	}
}
