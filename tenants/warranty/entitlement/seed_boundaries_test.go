package entitlement

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// Boundaries of rules 1-7 that decide_test.go does not reach, each expected
// value worked out from the rule text (DESIGN.md, seeds 000 and 002), not
// from the engine's output. The fixtures are decide_test.go's: a unit bought
// on 2026-03-01 with a 12-month warranty (through 2027-02-28) and the washer
// quote of labor 80.00, part 120.00 and visit 30.00 (230.00).

type seedWant struct {
	basis    Basis
	remedy   RemedyKind
	remedies []RemedyKind // nil: not checked
	contract string
	customer int64
	brand    int64
	plan     int64
	fee      *int64     // the selected remedy's fee
	lines    []lineWant // nil: not checked
}

type seedCase struct {
	name string
	in   Input
	want seedWant
}

// shanghai is a tenant's zone (UTC+8, no daylight saving).
var shanghai = time.FixedZone("CST", 8*3600)

func seedBoundaryCases() []seedCase {
	perf := func(on string) Input { return input(CategoryWasher, 300000, CausePerformance, on) }
	at := func(in Input, t time.Time) Input { in.Date = t; return in }
	warrantyRepair := func(on string) Repair {
		return Repair{On: day(on), Basis: BasisManufacturerWarranty, FaultCause: CausePerformance, Fixed: true}
	}
	withHistory := func(in Input, rs ...Repair) Input { in.History = rs; return in }
	tuning := func(on string) Input { return input(CategoryAirConditioner, 400000, CauseSoftware, on) }
	freeLines := []lineWant{{0, 8000, 0}, {0, 12000, 0}, {0, 3000, 0}}
	charged := func(b Basis) seedWant {
		return seedWant{basis: b, remedy: RemedyRepair, customer: 23000, lines: []lineWant{{8000, 0, 0}, {12000, 0, 0}, {3000, 0, 0}}}
	}
	// A washer bought on leap day 2028-02-29: its 12-month warranty ends
	// 2029-02-28; a 36-month extended warranty runs 2029-03-01..2032-02-29.
	leap := func(c Cause, on string) Input {
		in := input(CategoryWasher, 300000, c, on)
		in.Unit.PurchaseDate = day("2028-02-29")
		s, e := PlanWindow(0, true, 36, day("2028-02-29"), 12)
		in.Contracts = []Contract{{ID: "ctr_ext", Kind: KindExtendedWarranty, State: StateActive, StartsOn: s, EndsOn: e,
			Terms: PlanTerms{NoVisitFeeForLargeAppliances: true}}}
		return in
	}
	tablet := func(price int64, terms PlanTerms, on string) Input {
		return withRemedy(withContracts(input(CategoryTablet, price, CausePerformance, on), swapPlan(CategoryTablet, terms)), RemedySwap)
	}
	kitchen := func(on string) Input {
		return withContracts(input(CategoryKitchen, 60000, CausePerformance, on), swapPlan(CategoryKitchen, PlanTerms{FlatFee: pcny(3000)}))
	}
	// A repair charged by the price list with small consumable lines:
	// 2.00 + 150.00 + 150.00 + 1.00 = 303.00.
	smallLines := func(card int64) Input {
		in := perf("2027-06-01")
		in.Quote = Quote{PriceListVersion: "2027-06", Lines: []QuoteLine{
			{Kind: LineOther, Description: "Screws", Amount: cny(200)},
			{Kind: LineLabor, Description: "Labor", Amount: cny(15000)},
			{Kind: LinePart, Code: "WM-PUMP-01", PartCategory: "drain_pump", Description: "Drain pump", Amount: cny(15000)},
			{Kind: LineOther, Description: "Seal tape", Amount: cny(100)},
		}}
		in.WarrantyCardCharge = pcny(card)
		return in
	}

	// A washer bought on bought with a warranty of months (and a key-part
	// term of the drain pump of partMonths, 0 for none): a term's last day
	// is the day before the purchase date's day in its last month, or that
	// month's last day when it has no such day (31 January + 1 month:
	// through 28 February).
	monthEnd := func(bought string, months, partMonths int, c Cause, on string) Input {
		in := input(CategoryWasher, 300000, c, on)
		in.Unit.PurchaseDate, in.Unit.WarrantyMonths = day(bought), months
		if partMonths > 0 {
			in.Unit.KeyPartWarrantyMonths = map[string]int{"drain_pump": partMonths}
		}
		return in
	}
	// withExtended adds a 12-month extended warranty from the day after the
	// unit's manufacturer warranty.
	withExtended := func(in Input) Input {
		s, e := PlanWindow(0, true, 12, in.Unit.PurchaseDate, in.Unit.WarrantyMonths)
		in.Contracts = []Contract{{ID: "ctr_ext", Kind: KindExtendedWarranty, State: StateActive, StartsOn: s, EndsOn: e,
			Terms: PlanTerms{NoVisitFeeForLargeAppliances: true}}}
		return in
	}
	warrantyFree := seedWant{basis: BasisManufacturerWarranty, remedy: RemedyRepair, brand: 23000, lines: freeLines}
	extendedFree := seedWant{basis: BasisExtendedWarranty, contract: "ctr_ext", remedy: RemedyRepair, plan: 23000}

	return []seedCase{
		// ---- R1: the statutory windows are counted in civil days of the
		// date given, in its own zone (the tenant's) ----
		{"R1/Day7At2359InTheTenantZoneMayBeReturned",
			withRemedy(at(perf(purchase), time.Date(2026, 3, 7, 23, 59, 0, 0, shanghai)), RemedyReturn),
			seedWant{basis: BasisStatutoryReturn, remedy: RemedyReturn, remedies: []RemedyKind{RemedyReturn, RemedyExchange, RemedyRepair}}},
		// 2026-03-08 00:01 in Shanghai is still 2026-03-07 in UTC: day 8.
		{"R1/Day8At0001InTheTenantZoneIsNotReturned",
			withRemedy(at(perf(purchase), time.Date(2026, 3, 8, 0, 1, 0, 0, shanghai)), RemedyReturn),
			seedWant{basis: BasisStatutoryExchange, remedy: RemedyRepair, remedies: []RemedyKind{RemedyExchange, RemedyRepair}, brand: 23000, lines: freeLines}},
		// ---- R1: repaired twice within the warranty and still failing ----
		{"R1/ThirdFailureOnTheLastDayOfTheWarranty",
			withRemedy(withHistory(perf("2027-02-28"), warrantyRepair("2026-05-01"), warrantyRepair("2026-12-01")), RemedyExchange),
			seedWant{basis: BasisStatutoryExchange, remedy: RemedyExchange, remedies: []RemedyKind{RemedyExchange, RemedyReturn, RemedyRepair}}},
		// A paid repair of human damage is not a warranty repair: one
		// warranty repair is not two.
		{"R1/PaidHumanDamageRepairIsNotASecondWarrantyRepair",
			withRemedy(withHistory(perf("2026-09-01"), warrantyRepair("2026-05-01"),
				Repair{On: day("2026-07-01"), Basis: BasisNotCovered, Paid: true, FaultCause: CauseHuman, Fixed: true}), RemedyExchange),
			seedWant{basis: BasisManufacturerWarranty, remedy: RemedyRepair, remedies: []RemedyKind{RemedyRepair}, brand: 23000, lines: freeLines}},

		// ---- R3: without an installation date the purchase date counts ----
		{"R3/NoInstallationDateLastDayOfThreeMonthsFree",
			tuning("2026-05-31"),
			seedWant{basis: BasisInstallationTuning, remedy: RemedyRepair, remedies: []RemedyKind{RemedyRepair}, brand: 23000, lines: freeLines}},
		{"R3/NoInstallationDateAfterThreeMonthsCharged",
			tuning("2026-06-01"), charged(BasisNotCovered)},

		// ---- R4: the day after the manufacturer warranty of a leap-day purchase ----
		{"R4/LeapDayPurchaseLastDayOfWarrantyDustNotCovered",
			leap(CauseDust, "2029-02-28"), charged(BasisNotCovered)},
		{"R4/LeapDayPurchaseExtendedStartsMarch1",
			leap(CauseDust, "2029-03-01"),
			seedWant{basis: BasisExtendedWarranty, contract: "ctr_ext", remedy: RemedyRepair, plan: 23000, lines: []lineWant{{0, 0, 8000}, {0, 0, 12000}, {0, 0, 3000}}}},
		{"R4/ThreeYearsEndOnLeapDay2032",
			leap(CausePowerSurge, "2032-02-29"),
			seedWant{basis: BasisExtendedWarranty, contract: "ctr_ext", remedy: RemedyRepair, plan: 23000}},
		{"R4/DayAfterThreeYearsCharged",
			leap(CausePowerSurge, "2032-03-01"), charged(BasisOutOfWarranty)},

		// ---- R6: the swap plans' last day, and the 39% ceiling ----
		{"R6/KitchenLastDayOfPlanYearSwapFor30",
			kitchen("2027-03-30"),
			seedWant{basis: BasisSwapForRepair, contract: "ctr_swap", remedy: RemedySwap, remedies: []RemedyKind{RemedySwap, RemedyRepair}, customer: 3000, fee: i64(3000)}},
		{"R6/KitchenDayAfterPlanYearCharged",
			kitchen("2027-03-31"), charged(BasisOutOfWarranty)},
		{"R6/TabletLastDayOfPlanYear",
			tablet(250000, PlanTerms{DepreciationCapPercent: 39}, "2027-03-01"),
			seedWant{basis: BasisSwapForRepair, contract: "ctr_swap", remedy: RemedySwap, customer: 97500, fee: i64(97500)}},
		{"R6/TabletDayAfterPlanYearNoSwap",
			tablet(250000, PlanTerms{DepreciationCapPercent: 39}, "2027-03-02"),
			merge(charged(BasisOutOfWarranty), func(w *seedWant) { w.remedies = []RemedyKind{RemedyRepair} })},
		// 39% of 1,999.50 is 779.805: "at most 39%" is at most 779.80, not
		// 779.81 (half up would exceed the cap by half a fen).
		{"R6/TabletCapNeverRoundsAbove39Percent",
			tablet(199950, PlanTerms{}, "2026-09-01"),
			seedWant{basis: BasisSwapForRepair, contract: "ctr_swap", remedy: RemedySwap, customer: 77980, fee: i64(77980)}},
		{"R6/TabletDepreciationAtTheCapNeverRoundsAbove39Percent",
			tablet(199950, PlanTerms{DepreciationPercent: 39, DepreciationCapPercent: 39}, "2026-09-01"),
			seedWant{basis: BasisSwapForRepair, contract: "ctr_swap", remedy: RemedySwap, customer: 77980, fee: i64(77980)}},
		// A tablet plan whose cap says more than the seed's 39% still
		// charges at most 39% (rule 6).
		{"R6/TabletCapAbove39IsHeldTo39",
			tablet(250000, PlanTerms{DepreciationPercent: 45, DepreciationCapPercent: 45}, "2026-09-01"),
			seedWant{basis: BasisSwapForRepair, contract: "ctr_swap", remedy: RemedySwap, customer: 97500, fee: i64(97500)}},

		// ---- R7: accidental damage is 80% off, never less ----
		{"R7/DiscountBelow80IsRaisedTo80",
			withContracts(input(CategoryRefrigerator, 500000, CauseAccidental, "2026-06-05"),
				contract("ctr_nr", KindNoReasonRepair, CategoryRefrigerator, 12, PlanTerms{DiscountPercent: 60, Compensation: pcny(10000)})),
			seedWant{basis: BasisNoReasonRepair, contract: "ctr_nr", remedy: RemedyRepair, customer: 4600, plan: 18400,
				lines: []lineWant{{1600, 0, 6400}, {2400, 0, 9600}, {600, 0, 2400}}}},

		// ---- R2/R4: terms from the end of a month end with the last day of
		// the month that has no such day ----
		{"R2/Jan31OneMonthCoversFeb28",
			monthEnd("2027-01-31", 1, 0, CausePerformance, "2027-02-28"), warrantyFree},
		{"R2/Jan31OneMonthEndsBeforeMarch1",
			monthEnd("2027-01-31", 1, 0, CausePerformance, "2027-03-01"), charged(BasisOutOfWarranty)},
		{"R2/Jan31OneMonthInALeapYearCoversFeb29",
			monthEnd("2028-01-31", 1, 0, CausePerformance, "2028-02-29"), warrantyFree},
		{"R2/Jan31OneMonthInALeapYearEndsBeforeMarch1",
			monthEnd("2028-01-31", 1, 0, CausePerformance, "2028-03-01"), charged(BasisOutOfWarranty)},
		{"R2/Nov30ThreeMonthsCoversFeb28",
			monthEnd("2026-11-30", 3, 0, CausePerformance, "2027-02-28"), warrantyFree},
		{"R2/Nov30ThreeMonthsEndsBeforeMarch1",
			monthEnd("2026-11-30", 3, 0, CausePerformance, "2027-03-01"), charged(BasisOutOfWarranty)},
		{"R2/Jan15OneMonthEndsFeb14",
			monthEnd("2027-01-15", 1, 0, CausePerformance, "2027-02-14"), warrantyFree},
		{"R2/Jan15OneMonthNotFeb15",
			monthEnd("2027-01-15", 1, 0, CausePerformance, "2027-02-15"), charged(BasisOutOfWarranty)},
		{"R2/Jan31ThirteenMonthsCoversFeb29",
			monthEnd("2027-01-31", 13, 0, CausePerformance, "2028-02-29"), warrantyFree},
		{"R4/Jan31ThirteenMonthsExtendedStartsMarch1",
			withExtended(monthEnd("2027-01-31", 13, 0, CauseDust, "2028-03-01")), extendedFree},
		{"R4/Jan31ThirteenMonthsExtendedNotBeforeMarch1",
			withExtended(monthEnd("2027-01-31", 13, 0, CauseDust, "2028-02-29")), charged(BasisNotCovered)},
		{"R4/Jan31ThirteenMonthsExtendedYearEndsFeb28",
			withExtended(monthEnd("2027-01-31", 13, 0, CauseDust, "2029-02-28")), extendedFree},
		{"R2/KeyPartJan31TwentyFiveMonthsCoversFeb28",
			monthEnd("2027-01-31", 12, 25, CausePerformance, "2029-02-28"),
			seedWant{basis: BasisKeyPartWarranty, remedy: RemedyRepair, customer: 11000, brand: 12000,
				lines: []lineWant{{8000, 0, 0}, {0, 12000, 0}, {3000, 0, 0}}}},
		{"R2/KeyPartJan31TwentyFiveMonthsEndsBeforeMarch1",
			monthEnd("2027-01-31", 12, 25, CausePerformance, "2029-03-01"), charged(BasisOutOfWarranty)},

		// ---- R2: the lower of price list and warranty card, per line ----
		// Card 302.00 against 303.00: the brand bears 1.00 spread over the
		// lines; no line's share may be negative or above its amount.
		{"R2/CardJustBelowListNoShareNegative",
			smallLines(30200),
			seedWant{basis: BasisOutOfWarranty, remedy: RemedyRepair, customer: 30200, brand: 100}},
		{"R2/CardOf1CNYNoShareNegative",
			smallLines(100),
			seedWant{basis: BasisOutOfWarranty, remedy: RemedyRepair, customer: 100, brand: 30200}},
	}
}

func merge(w seedWant, f func(*seedWant)) seedWant { f(&w); return w }

func TestSeedBoundaries(t *testing.T) {
	t.Parallel()
	for _, c := range seedBoundaryCases() {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			d, err := Decide(c.in)
			require.NoError(t, err)
			w := c.want
			explain := ""
			for _, e := range d.Trace {
				explain += "\n  " + e.Rule + " " + map[bool]string{true: "applied", false: "no"}[e.Applied] + ": " + e.Reason
			}
			require.Equal(t, w.basis, d.Basis, "basis%s", explain)
			require.Equal(t, w.remedy, d.Remedy, "remedy%s", explain)
			if w.remedies != nil {
				kinds := []RemedyKind{}
				for _, r := range d.Remedies {
					kinds = append(kinds, r.Kind)
				}
				require.Equal(t, w.remedies, kinds, "remedies%s", explain)
			}
			require.Equal(t, w.contract, d.ContractID)
			require.Equal(t, cny(w.customer), d.Totals.Customer, "customer pays%s", explain)
			require.Equal(t, cny(w.brand), d.Totals.Brand, "brand pays%s", explain)
			require.Equal(t, cny(w.plan), d.Totals.Plan, "plan pays%s", explain)
			for i, l := range d.Lines {
				require.GreaterOrEqual(t, l.CustomerPays.Amount, int64(0), "line %d customer", i)
				require.GreaterOrEqual(t, l.BrandPays.Amount, int64(0), "line %d brand", i)
				require.GreaterOrEqual(t, l.PlanPays.Amount, int64(0), "line %d plan", i)
				require.Equal(t, l.ListAmount.Amount, l.CustomerPays.Amount+l.BrandPays.Amount+l.PlanPays.Amount, "line %d adds up", i)
			}
			if w.lines != nil {
				require.Len(t, d.Lines, len(w.lines))
				for i, lw := range w.lines {
					require.Equal(t, lw, lineWant{d.Lines[i].CustomerPays.Amount, d.Lines[i].BrandPays.Amount, d.Lines[i].PlanPays.Amount}, "line %d", i)
				}
			}
			if w.fee != nil {
				var found bool
				for _, r := range d.Remedies {
					if r.Kind == d.Remedy {
						require.NotNil(t, r.Fee)
						require.Equal(t, cny(*w.fee), *r.Fee)
						found = true
					}
				}
				require.True(t, found)
			}
		})
	}
}

// TestSeedBoundariesSwapFeeCap: the swap approval prices a tablet swap with
// SwapFee; it holds the same 39% ceiling as the decision.
func TestSeedBoundariesSwapFeeCap(t *testing.T) {
	t.Parallel()
	bought := day(purchase)
	fee, _, _ := SwapFee(KindSwapForRepair, PlanTerms{}, CategoryTablet, cny(199950), bought, day("2026-09-01"))
	require.Equal(t, int64(77980), fee, "39% of 1,999.50 is 779.805: at most 779.80")
	fee, _, _ = SwapFee(KindSwapForRepair, PlanTerms{DepreciationCapPercent: 50}, CategoryTablet, cny(100000), bought, day("2026-09-01"))
	require.Equal(t, int64(39000), fee, "a cap above 39% is held to 39%")
}
