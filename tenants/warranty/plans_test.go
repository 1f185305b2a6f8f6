package warranty

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/servicenet/servicenet/tenants"
	"github.com/servicenet/servicenet/tenants/warranty/entitlement"
)

// planProblems validates in as CreatePlan does and returns the locations of
// the problems found, in order.
func planProblems(in NewPlan) []string {
	v := &tenants.Validation{}
	validatePlan(v, planFromInput(in, "CNY"), "CNY")
	locs := []string{}
	for _, f := range v.Fields() {
		locs = append(locs, f.Location)
	}
	return locs
}

func cny(a int64) *tenants.Money { return &tenants.Money{Amount: a, Currency: "CNY"} }

func TestDemoPlansAreValid(t *testing.T) {
	t.Parallel()
	for key, in := range demoPlans() {
		in.Price.Currency = "CNY"
		for _, m := range []*tenants.Money{in.FlatFee, in.Compensation} {
			if m != nil {
				m.Currency = "CNY"
			}
		}
		require.Empty(t, planProblems(in), key)
	}
}

func TestPlanValidationPerKind(t *testing.T) {
	t.Parallel()
	base := func(kind string, cats ...string) NewPlan {
		return NewPlan{Code: "P-1", Name: "Plan", Kind: kind, EligibleCategories: cats, DurationMonths: 12,
			Price: tenants.Money{Amount: 9900, Currency: "CNY"}}
	}
	with := func(p NewPlan, f func(*NewPlan)) NewPlan { f(&p); return p }
	ext := with(base("extended_warranty", "washer", "tv"), func(p *NewPlan) { p.DurationMonths = 24 })
	sched := func(steps ...int) []entitlement.DepreciationStep {
		var out []entitlement.DepreciationStep
		for i := 0; i+1 < len(steps); i += 2 {
			out = append(out, entitlement.DepreciationStep{UpToMonth: steps[i], Percent: steps[i+1]})
		}
		return out
	}
	adp := with(base("accidental_damage", "phone", "laptop", "camera"), func(p *NewPlan) {
		p.DiscountPercent, p.DepreciationSchedule = intp(50), sched(3, 20, 6, 30, 12, 50)
	})
	swapK := with(base("swap_for_repair", "kitchen", "small_appliance"), func(p *NewPlan) { p.FlatFee = cny(3000) })
	swapT := with(base("swap_for_repair", "tablet"), func(p *NewPlan) { p.DepreciationCapPercent = intp(39) })
	nrr := with(base("no_reason_repair", "refrigerator", "washer"), func(p *NewPlan) {
		p.DiscountPercent, p.Compensation, p.PayoutBusinessDays = intp(80), cny(10000), intp(5)
		p.DepreciationSchedule = sched(6, 5, 12, 10)
	})
	cases := []struct {
		name string
		in   NewPlan
		want []string
	}{
		{"ExtendedOK", ext, []string{}},
		{"ExtendedFourYears", with(ext, func(p *NewPlan) { p.DurationMonths = 48 }), []string{"duration_months"}},
		{"ExtendedWithOffset", with(ext, func(p *NewPlan) { p.StartOffsetDays = intp(30) }), []string{"start_offset_days"}},
		{"ExtendedWaterHeater", with(ext, func(p *NewPlan) { p.EligibleCategories = []string{"water_heater"} }), []string{"eligible_categories"}},
		{"ExtendedWithDiscount", with(ext, func(p *NewPlan) { p.DiscountPercent = intp(50) }), []string{"discount_percent"}},
		{"ExtendedExcludesDust", with(ext, func(p *NewPlan) { p.Exclusions = []string{"environmental_dust"} }), []string{"exclusions[0]"}},

		{"AccidentalOK", adp, []string{}},
		{"AccidentalDiscount49", with(adp, func(p *NewPlan) { p.DiscountPercent = intp(49) }), []string{"discount_percent"}},
		{"AccidentalNoDiscount", with(adp, func(p *NewPlan) { p.DiscountPercent = nil }), []string{"discount_percent"}},
		{"AccidentalWasher", with(adp, func(p *NewPlan) { p.EligibleCategories = []string{"phone", "washer"} }), []string{"eligible_categories"}},
		{"AccidentalFromDay30", with(adp, func(p *NewPlan) { p.StartOffsetDays = intp(29) }), []string{"start_offset_days"}},
		{"AccidentalTwoYears", with(adp, func(p *NewPlan) { p.DurationMonths = 24 }), []string{"duration_months"}},
		{"AccidentalWithCompensation", with(adp, func(p *NewPlan) { p.Compensation = cny(100) }), []string{"compensation"}},
		{"AccidentalWithoutDepreciationSchedule", with(adp, func(p *NewPlan) { p.DepreciationSchedule = nil }), []string{"depreciation_schedule"}},
		{"AccidentalScheduleMonthsNotIncreasing", with(adp, func(p *NewPlan) { p.DepreciationSchedule = sched(6, 20, 6, 30, 0, 40) }),
			[]string{"depreciation_schedule[1].up_to_month", "depreciation_schedule[2].up_to_month"}},
		{"AccidentalSchedulePercentFalling", with(adp, func(p *NewPlan) { p.DepreciationSchedule = sched(3, 30, 6, 20, 9, 0) }),
			[]string{"depreciation_schedule[1].percent", "depreciation_schedule[2].percent"}},
		{"AccidentalScheduleAboveItsCap", with(adp, func(p *NewPlan) { p.DepreciationCapPercent = intp(40) }),
			[]string{"depreciation_schedule[2].percent"}},

		{"SwapKitchenOK", swapK, []string{}},
		{"SwapKitchenWithoutFee", with(swapK, func(p *NewPlan) { p.FlatFee = nil }), []string{"flat_fee"}},
		// Seed 002 (以换代修: 消费者支付30元手续费): 30.00 at most.
		{"SwapKitchenFee30", with(swapK, func(p *NewPlan) { p.FlatFee = cny(3000) }), []string{}},
		{"SwapKitchenFeeBelow30", with(swapK, func(p *NewPlan) { p.FlatFee = cny(1000) }), []string{}},
		{"SwapKitchenFeeAbove30", with(swapK, func(p *NewPlan) { p.FlatFee = cny(3001) }), []string{"flat_fee.amount"}},
		{"SwapKitchenWithSchedule", with(swapK, func(p *NewPlan) { p.DepreciationSchedule = sched(12, 10) }), []string{"depreciation_schedule"}},
		{"SwapKitchenNextDay", with(swapK, func(p *NewPlan) { p.StartOffsetDays = intp(1) }), []string{"start_offset_days"}},
		{"SwapTabletOK", swapT, []string{}},
		{"SwapTablet40Percent", with(swapT, func(p *NewPlan) { p.DepreciationCapPercent = intp(40) }), []string{"depreciation_cap_percent"}},
		{"SwapTabletWithSchedule", with(swapT, func(p *NewPlan) { p.DepreciationSchedule = sched(6, 20, 12, 39) }), []string{}},
		{"SwapTabletScheduleAbove39", with(swapT, func(p *NewPlan) { p.DepreciationSchedule = sched(6, 20, 12, 40) }),
			[]string{"depreciation_schedule[1].percent"}},
		{"ExtendedWithSchedule", with(ext, func(p *NewPlan) { p.DepreciationSchedule = sched(12, 10) }), []string{"depreciation_schedule"}},
		{"SwapTabletWithFlatFee", with(swapT, func(p *NewPlan) { p.FlatFee = cny(3000) }), []string{"flat_fee"}},
		{"SwapMixed", with(swapK, func(p *NewPlan) { p.EligibleCategories = []string{"kitchen", "tablet"} }), []string{"eligible_categories"}},

		{"NoReasonOK", nrr, []string{}},
		{"NoReasonDiscount70", with(nrr, func(p *NewPlan) { p.DiscountPercent = intp(70) }), []string{"discount_percent"}},
		{"NoReasonWithoutCompensation", with(nrr, func(p *NewPlan) { p.Compensation, p.PayoutBusinessDays = nil, nil }),
			[]string{"compensation", "payout_business_days"}},
		{"NoReasonWithoutDepreciationSchedule", with(nrr, func(p *NewPlan) { p.DepreciationSchedule = nil }), []string{"depreciation_schedule"}},
		{"NoReasonPhone", with(nrr, func(p *NewPlan) { p.EligibleCategories = []string{"phone"} }), []string{"eligible_categories"}},

		{"EveryBadFieldAtOnce", with(nrr, func(p *NewPlan) {
			p.Code, p.Price, p.Compensation = "", tenants.Money{Amount: -1, Currency: "USD"}, cny(-5)
			p.EligibleCategories = []string{"fridge", "washer", "washer"}
		}), []string{"code", "price.amount", "price.currency", "compensation.amount",
			"eligible_categories[0]", "eligible_categories[2]"}},
		{"UnknownExclusion", with(adp, func(p *NewPlan) { p.Exclusions = []string{"bad_luck"} }), []string{"exclusions[0]"}},
		{"UnknownKind", base("lifetime", "washer"), []string{"kind"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			require.Equal(t, c.want, planProblems(c.in))
		})
	}
}

func TestPlanDefaults(t *testing.T) {
	t.Parallel()
	p := planFromInput(NewPlan{Kind: "swap_for_repair", EligibleCategories: []string{"tablet"}, Exclusions: []string{"software_tuning", "human_damage"}}, "CNY")
	require.Equal(t, 1, *p.StartOffsetDays, "tablets: from the next day")
	require.Equal(t, 30, *p.SaleWindowDays)
	require.Equal(t, []string{"force_majeure", "human_damage", "software_tuning"}, p.Exclusions, "always excluded causes added")
	p = planFromInput(NewPlan{Kind: "swap_for_repair", EligibleCategories: []string{"kitchen"}}, "CNY")
	require.Equal(t, 30, *p.StartOffsetDays, "kitchen: from day 31")
	p = planFromInput(NewPlan{Kind: "extended_warranty", EligibleCategories: []string{"washer"}}, "CNY")
	require.Nil(t, p.StartOffsetDays)
	require.Nil(t, p.SaleWindowDays, "sold through the manufacturer warranty")
	require.True(t, p.StartsAfterManufacturerWarranty && p.EnvironmentalFaultsFree && p.NoVisitFeeLargeAppliances)
}
