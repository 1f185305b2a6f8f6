package entitlement

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/servicenet/servicenet/tenants"
)

// Fixtures: every unit is bought on Sunday 2026-03-01 (day 1), so day 7 is
// 2026-03-07, day 15 2026-03-15, day 31 2026-03-31, and a 12-month warranty
// covers through 2027-02-28.

const purchase = "2026-03-01"

func cny(a int64) tenants.Money { return tenants.Money{Amount: a, Currency: "CNY"} }

func pcny(a int64) *tenants.Money { m := cny(a); return &m }

// washerQuote: labor 80.00, drain pump 120.00, visit 30.00 = 230.00.
func washerQuote() Quote {
	return Quote{PriceListVersion: "2026-03", Lines: []QuoteLine{
		{Kind: LineLabor, Description: "Repair labor", Amount: cny(8000)},
		{Kind: LinePart, Code: "WM-PUMP-01", PartCategory: "drain_pump", Description: "Drain pump", Amount: cny(12000)},
		{Kind: LineVisit, Description: "Visit", Amount: cny(3000)},
	}}
}

func unit(category string, price int64) Unit {
	return Unit{Category: category, PurchaseDate: day(purchase), PurchasePrice: cny(price), RetailPrice: cny(price),
		WarrantyMonths: 12, SoldByStorefront: true, StorefrontID: "sfr_1"}
}

func fault(c Cause) Fault { return Fault{Cause: c, Repairable: true} }

func input(category string, price int64, c Cause, on string) Input {
	return Input{Unit: unit(category, price), Fault: fault(c), Date: day(on), Quote: washerQuote()}
}

// contract builds an active contract with the seed's window for kind.
func contract(id, kind, category string, months int, terms PlanTerms) Contract {
	off, after := DefaultPlanStart(kind, category)
	s, e := PlanWindow(off, after, months, day(purchase), 12)
	return Contract{ID: id, Kind: kind, State: StateActive, StartsOn: s, EndsOn: e, Terms: terms}
}

func extended(category string) Contract {
	return contract("ctr_ext", KindExtendedWarranty, category, 24, PlanTerms{NoVisitFeeForLargeAppliances: true})
}

func accidentalPlan(terms PlanTerms) Contract {
	return contract("ctr_acc", KindAccidentalDamage, CategoryPhone, 12, terms)
}

func swapPlan(category string, terms PlanTerms) Contract {
	return contract("ctr_swap", KindSwapForRepair, category, 12, terms)
}

// maintenancePlan is an extended-warranty-style care plan whose terms cover
// maintenance, active from the day after purchase for a year.
func maintenancePlan() Contract {
	return Contract{ID: "ctr_care", Kind: KindExtendedWarranty, State: StateActive, StartsOn: day("2026-03-02"), EndsOn: day("2027-03-01"),
		Terms: PlanTerms{CoversMaintenance: true}}
}

func noReasonPlan(terms PlanTerms) Contract {
	if terms.Compensation == nil {
		terms.Compensation = pcny(10000)
	}
	if terms.FlatFee == nil {
		terms.FlatFee = pcny(5000)
	}
	return contract("ctr_nr", KindNoReasonRepair, CategoryRefrigerator, 12, terms)
}

// scheduledNoReasonPlan is the demo no-reason plan: 80% off accidental
// damage, 100.00 compensation, and a small depreciation fee by month.
func scheduledNoReasonPlan() Contract {
	return contract("ctr_nr", KindNoReasonRepair, CategoryRefrigerator, 12, PlanTerms{DiscountPercent: 80, Compensation: pcny(10000),
		PayoutBusinessDays: 5, DepreciationSchedule: []DepreciationStep{{3, 5}, {6, 10}, {9, 15}, {12, 20}}})
}

// adpSchedule is the demo accidental-damage plan's depreciation schedule.
func adpSchedule() []DepreciationStep {
	return []DepreciationStep{{3, 20}, {6, 30}, {9, 40}, {12, 50}}
}

type want struct {
	basis    Basis
	remedy   RemedyKind
	remedies []RemedyKind
	contract string
	customer int64
	brand    int64
	plan     int64
	lines    []lineWant // when set, every line's split
	fee      *int64     // the selected remedy's fee
	comp     int64      // compensation amount, 0 for none
	due      string
	freight  string
	promises []string
	consumed bool
	// applied: the named rule's trace entry must say this.
	applied bool
}

type lineWant struct{ customer, brand, plan int64 }

type ruleCase struct {
	name string // <rule>/<boundary or behaviour>
	rule string // trace rule id it exercises
	in   Input
	want want
}

func i64(v int64) *int64 { return &v }

func withContracts(in Input, cs ...Contract) Input { in.Contracts = cs; return in }

func withRemedy(in Input, r RemedyKind) Input { in.RequestedRemedy = r; return in }

func ruleCases() []ruleCase {
	perf := func(on string) Input { return input(CategoryWasher, 300000, CausePerformance, on) }
	installed := day("2026-03-10")
	tuning := func(on string) Input {
		in := input(CategoryAirConditioner, 400000, CauseSoftware, on)
		in.Unit.InstalledOn = &installed
		return in
	}
	keyPart := func(on string, cat string) Input {
		in := perf(on)
		in.Unit.KeyPartWarrantyMonths = map[string]int{"motor": 120}
		in.Fault.PartCategories = []string{cat}
		in.Quote.Lines[1] = QuoteLine{Kind: LinePart, Code: "WM-MOTOR-9", PartCategory: cat, Description: "Motor", Amount: cny(50000)}
		return in
	}
	warrantyRepairs := func(in Input, dates ...string) Input {
		for _, s := range dates {
			in.History = append(in.History, Repair{On: day(s), Basis: BasisManufacturerWarranty, FaultCause: CausePerformance, Fixed: true, PartCategories: []string{"drain_pump"}})
		}
		in.Fault.PartCategories = []string{"drain_pump"}
		return in
	}
	paidRepair := func(in Input, on string) Input {
		in.History = append(in.History, Repair{On: day(on), Basis: BasisOutOfWarranty, Paid: true, FaultCause: CausePerformance, Fixed: true})
		return in
	}
	phone := func(c Cause, on string) Input {
		in := input(CategoryPhone, 500000, c, on)
		in.Quote = Quote{Lines: []QuoteLine{
			{Kind: LineLabor, Description: "Labor", Amount: cny(8000)},
			{Kind: LinePart, Code: "PH-SCR", PartCategory: "screen", Description: "Screen", Amount: cny(30001)},
		}}
		return in
	}
	fridge := func(c Cause, on string) Input { return input(CategoryRefrigerator, 500000, c, on) }
	changeOfMind := func(on string) Input {
		in := input(CategorySmallAppliance, 50000, "", on)
		in.Fault = Fault{ChangeOfMind: true, Resaleable: true}
		in.Quote = Quote{}
		return in
	}
	visit := func(in Input, v Visit) Input { in.Visit = v; return in }
	all := []RemedyKind{RemedyReturn, RemedyExchange, RemedyRepair}
	free := want{brand: 23000, lines: []lineWant{{0, 8000, 0}, {0, 12000, 0}, {0, 3000, 0}}}
	charged := func(b Basis) want {
		return want{basis: b, remedy: RemedyRepair, remedies: []RemedyKind{RemedyRepair}, customer: 23000,
			lines: []lineWant{{8000, 0, 0}, {12000, 0, 0}, {3000, 0, 0}}}
	}
	merge := func(w want, f func(*want)) want { f(&w); return w }

	return []ruleCase{
		// ---- R1 statutory windows ----
		{"R1/Day7PerformanceFaultMayBeReturned", "R1.statutory_return",
			withRemedy(perf("2026-03-07"), RemedyReturn),
			want{basis: BasisStatutoryReturn, remedy: RemedyReturn, remedies: all, freight: "seller", applied: true}},
		{"R1/Day8ReturnRefusedExchangeOrRepairOffered", "R1.statutory_return",
			withRemedy(perf("2026-03-08"), RemedyReturn),
			merge(free, func(w *want) {
				w.basis, w.remedy, w.remedies, w.applied = BasisStatutoryExchange, RemedyRepair, []RemedyKind{RemedyExchange, RemedyRepair}, false
			})},
		{"R1/Day10RepairRestsOnTheStatutoryWindow", "R2.manufacturer_warranty",
			perf("2026-03-10"),
			merge(free, func(w *want) {
				w.basis, w.remedy, w.remedies, w.applied = BasisStatutoryExchange, RemedyRepair, []RemedyKind{RemedyExchange, RemedyRepair}, true
			})},
		{"R1/Day15ExchangeAllowed", "R1.statutory_exchange",
			withRemedy(perf("2026-03-15"), RemedyExchange),
			want{basis: BasisStatutoryExchange, remedy: RemedyExchange, remedies: []RemedyKind{RemedyExchange, RemedyRepair}, freight: "seller", applied: true}},
		{"R1/Day16ExchangeRefusedWarrantyRepair", "R1.statutory_exchange",
			withRemedy(perf("2026-03-16"), RemedyExchange),
			merge(free, func(w *want) {
				w.basis, w.remedy, w.remedies, w.applied = BasisManufacturerWarranty, RemedyRepair, []RemedyKind{RemedyRepair}, false
			})},
		{"R1/ThirdFailureAfterTwoWarrantyRepairsExchangeFree", "R1.third_failure",
			withRemedy(warrantyRepairs(perf("2026-09-01"), "2026-05-01", "2026-07-01"), RemedyExchange),
			want{basis: BasisStatutoryExchange, remedy: RemedyExchange, remedies: []RemedyKind{RemedyExchange, RemedyReturn, RemedyRepair}, freight: "seller", applied: true}},
		{"R1/ThirdFailureMayBeReturned", "R1.third_failure",
			withRemedy(warrantyRepairs(perf("2026-09-01"), "2026-05-01", "2026-07-01"), RemedyReturn),
			want{basis: BasisStatutoryReturn, remedy: RemedyReturn, remedies: []RemedyKind{RemedyExchange, RemedyReturn, RemedyRepair}, freight: "seller", applied: true}},
		{"R1/SecondFailureAfterOneWarrantyRepairIsRepaired", "R1.third_failure",
			withRemedy(warrantyRepairs(perf("2026-09-01"), "2026-05-01"), RemedyExchange),
			merge(free, func(w *want) {
				w.basis, w.remedy, w.remedies = BasisManufacturerWarranty, RemedyRepair, []RemedyKind{RemedyRepair}
			})},
		{"R1/TwoRepairsOfAnotherPartDoNotCount", "R1.third_failure",
			func() Input {
				in := withRemedy(warrantyRepairs(perf("2026-09-01"), "2026-05-01", "2026-07-01"), RemedyExchange)
				in.Fault.PartCategories = []string{"door_lock"}
				return in
			}(),
			merge(free, func(w *want) {
				w.basis, w.remedy, w.remedies = BasisManufacturerWarranty, RemedyRepair, []RemedyKind{RemedyRepair}
			})},
		{"R1/HumanDamageOnDay3IsCharged", "R1.never_free",
			withRemedy(input(CategoryWasher, 300000, CauseHuman, "2026-03-03"), RemedyReturn),
			merge(charged(BasisNotCovered), func(w *want) { w.applied = true })},
		{"R1/ForceMajeureInWarrantyIsCharged", "R1.never_free",
			input(CategoryWasher, 300000, CauseForceMajeure, "2026-06-01"),
			merge(charged(BasisNotCovered), func(w *want) { w.applied = true })},

		// ---- R2 manufacturer warranty, key parts, price list and card ----
		{"R2/LastDayOfWarrantyIsFree", "R2.manufacturer_warranty",
			perf("2027-02-28"),
			merge(free, func(w *want) {
				w.basis, w.remedy, w.remedies, w.applied = BasisManufacturerWarranty, RemedyRepair, []RemedyKind{RemedyRepair}, true
			})},
		{"R2/DayAfterWarrantyIsCharged", "R2.manufacturer_warranty",
			perf("2027-03-01"), charged(BasisOutOfWarranty)},
		{"R2/UnrepairableInWarrantyIsExchanged", "R2.manufacturer_warranty",
			func() Input { in := perf("2026-08-01"); in.Fault.Repairable = false; return in }(),
			want{basis: BasisManufacturerWarranty, remedy: RemedyExchange, remedies: []RemedyKind{RemedyExchange}, freight: "seller", applied: true}},
		{"R2/EnvironmentalFaultInWarrantyIsNotCovered", "R2.manufacturer_warranty",
			input(CategoryWasher, 300000, CausePowerSurge, "2026-08-01"), charged(BasisNotCovered)},
		{"R2/KeyPartInWarrantyWholeUnitFree", "R2.key_part",
			keyPart("2027-02-28", "motor"),
			want{basis: BasisManufacturerWarranty, remedy: RemedyRepair, remedies: []RemedyKind{RemedyRepair}, brand: 61000,
				lines: []lineWant{{0, 8000, 0}, {0, 50000, 0}, {0, 3000, 0}}}},
		{"R2/KeyPartAfterWholeUnitPartFreeLaborCharged", "R2.key_part",
			keyPart("2027-03-01", "motor"),
			want{basis: BasisKeyPartWarranty, remedy: RemedyRepair, remedies: []RemedyKind{RemedyRepair}, customer: 11000, brand: 50000,
				lines: []lineWant{{8000, 0, 0}, {0, 50000, 0}, {3000, 0, 0}}, applied: true}},
		{"R2/KeyPartLastDayOfItsTerm", "R2.key_part",
			keyPart("2036-02-29", "motor"),
			want{basis: BasisKeyPartWarranty, remedy: RemedyRepair, remedies: []RemedyKind{RemedyRepair}, customer: 11000, brand: 50000, applied: true}},
		{"R2/KeyPartDayAfterItsTermIsCharged", "R2.key_part",
			keyPart("2036-03-01", "motor"),
			want{basis: BasisOutOfWarranty, remedy: RemedyRepair, remedies: []RemedyKind{RemedyRepair}, customer: 61000}},
		{"R2/OrdinaryPartAfterWholeUnitIsCharged", "R2.key_part",
			keyPart("2027-03-01", "door_lock"),
			want{basis: BasisOutOfWarranty, remedy: RemedyRepair, remedies: []RemedyKind{RemedyRepair}, customer: 61000}},
		{"R2/WarrantyCardLowerThanPriceListApplies", "R2.lower_of_list_and_card",
			func() Input { in := perf("2027-06-01"); in.WarrantyCardCharge = pcny(20000); return in }(),
			// 8000*20000/23000 = 6956.52 -> 6957; 12000*20000/23000 = 10434.78 -> 10435; last line 2608.
			want{basis: BasisOutOfWarranty, remedy: RemedyRepair, remedies: []RemedyKind{RemedyRepair}, customer: 20000, brand: 3000,
				lines: []lineWant{{6957, 1043, 0}, {10435, 1565, 0}, {2608, 392, 0}}, applied: true}},
		{"R2/PriceListLowerThanWarrantyCardApplies", "R2.lower_of_list_and_card",
			func() Input { in := perf("2027-06-01"); in.WarrantyCardCharge = pcny(30000); return in }(),
			charged(BasisOutOfWarranty)},
		{"R2/WarrantyCardDoesNotTouchFreeRepairs", "R2.lower_of_list_and_card",
			func() Input { in := perf("2026-06-01"); in.WarrantyCardCharge = pcny(100); return in }(),
			merge(free, func(w *want) {
				w.basis, w.remedy, w.remedies = BasisManufacturerWarranty, RemedyRepair, []RemedyKind{RemedyRepair}
			})},

		// ---- R3 software tuning ----
		{"R3/LastDayOfFirstMonthAfterInstallationFree", "R3.software_tuning",
			tuning("2026-04-09"),
			merge(free, func(w *want) {
				w.basis, w.remedy, w.remedies, w.applied = BasisInstallationTuning, RemedyRepair, []RemedyKind{RemedyRepair}, true
			})},
		{"R3/OneMonthAndADayStillFree", "R3.software_tuning",
			tuning("2026-04-10"),
			merge(free, func(w *want) {
				w.basis, w.remedy, w.remedies, w.applied = BasisInstallationTuning, RemedyRepair, []RemedyKind{RemedyRepair}, true
			})},
		{"R3/LastDayOfThreeMonthsFree", "R3.software_tuning",
			tuning("2026-06-09"),
			merge(free, func(w *want) {
				w.basis, w.remedy, w.remedies, w.applied = BasisInstallationTuning, RemedyRepair, []RemedyKind{RemedyRepair}, true
			})},
		{"R3/AfterThreeMonthsCharged", "R3.software_tuning",
			tuning("2026-06-10"), charged(BasisNotCovered)},

		// ---- R4 extended warranty ----
		{"R4/LastDayOfManufacturerWarrantyDustNotCovered", "R4.extended_warranty",
			withContracts(input(CategoryWasher, 300000, CauseDust, "2027-02-28"), extended(CategoryWasher)),
			charged(BasisNotCovered)},
		{"R4/DayAfterWarrantyDustFreeWithVisitForLargeAppliance", "R4.extended_warranty",
			withContracts(input(CategoryWasher, 300000, CauseDust, "2027-03-01"), extended(CategoryWasher)),
			want{basis: BasisExtendedWarranty, contract: "ctr_ext", remedy: RemedyRepair, remedies: []RemedyKind{RemedyRepair}, plan: 23000,
				lines: []lineWant{{0, 0, 8000}, {0, 0, 12000}, {0, 0, 3000}}, applied: true}},
		{"R4/PerformanceFaultAfterWarrantyFree", "R4.extended_warranty",
			withContracts(perf("2028-05-01"), extended(CategoryWasher)),
			want{basis: BasisExtendedWarranty, contract: "ctr_ext", remedy: RemedyRepair, remedies: []RemedyKind{RemedyRepair}, plan: 23000, applied: true}},
		{"R4/SmallApplianceVisitFeeIsTheCustomers", "R4.extended_warranty",
			withContracts(input(CategorySmallAppliance, 80000, CauseUnstableVoltage, "2027-05-01"), extended(CategorySmallAppliance)),
			want{basis: BasisExtendedWarranty, contract: "ctr_ext", remedy: RemedyRepair, remedies: []RemedyKind{RemedyRepair}, customer: 3000, plan: 20000,
				lines: []lineWant{{0, 0, 8000}, {0, 0, 12000}, {3000, 0, 0}}, applied: true}},
		{"R4/LastDayOfExtendedWarranty", "R4.extended_warranty",
			withContracts(input(CategoryWasher, 300000, CauseMoisture, "2029-02-28"), extended(CategoryWasher)),
			want{basis: BasisExtendedWarranty, contract: "ctr_ext", remedy: RemedyRepair, remedies: []RemedyKind{RemedyRepair}, plan: 23000, applied: true}},
		{"R4/DayAfterExtendedWarrantyCharged", "R4.extended_warranty",
			withContracts(input(CategoryWasher, 300000, CauseMoisture, "2029-03-01"), extended(CategoryWasher)),
			charged(BasisOutOfWarranty)},
		{"R4/ExcludedCauseCharged", "R4.extended_warranty",
			func() Input {
				c := extended(CategoryWasher)
				c.Terms.Exclusions = []Cause{CausePowerSurge}
				return withContracts(input(CategoryWasher, 300000, CausePowerSurge, "2027-05-01"), c)
			}(),
			charged(BasisOutOfWarranty)},
		{"R4/CancelledContractCharged", "R4.extended_warranty",
			func() Input {
				c := extended(CategoryWasher)
				c.State = StateCancelled
				return withContracts(input(CategoryWasher, 300000, CauseDust, "2027-05-01"), c)
			}(),
			charged(BasisOutOfWarranty)},
		{"R4/UnrepairableIsReplacedFree", "R4.extended_warranty",
			func() Input {
				in := withContracts(input(CategoryWasher, 300000, CauseHeat, "2027-05-01"), extended(CategoryWasher))
				in.Fault.Repairable = false
				return in
			}(),
			want{basis: BasisExtendedWarranty, contract: "ctr_ext", remedy: RemedySwap, remedies: []RemedyKind{RemedySwap}, fee: i64(0), applied: true}},

		// ---- R5 accidental-damage plan ----
		{"R5/Day30NotYetCovered", "R5.accidental_damage",
			withContracts(phone(CauseAccidental, "2026-03-30"), accidentalPlan(PlanTerms{})),
			want{basis: BasisNotCovered, remedy: RemedyRepair, remedies: []RemedyKind{RemedyRepair}, customer: 38001}},
		{"R5/Day31HalfOffRoundedHalfUp", "R5.accidental_damage",
			withContracts(phone(CauseAccidental, "2026-03-31"), accidentalPlan(PlanTerms{})),
			// 30001 * 50% = 15000.5 -> the plan pays 15001, the customer 15000.
			want{basis: BasisAccidentalDamage, contract: "ctr_acc", remedy: RemedyRepair, remedies: []RemedyKind{RemedyRepair}, customer: 19000, plan: 19001,
				lines: []lineWant{{4000, 0, 4000}, {15000, 0, 15001}}, applied: true}},
		{"R5/LastDayOfPlanYear", "R5.accidental_damage",
			withContracts(phone(CauseAccidental, "2027-03-30"), accidentalPlan(PlanTerms{DiscountPercent: 70})),
			want{basis: BasisAccidentalDamage, contract: "ctr_acc", remedy: RemedyRepair, remedies: []RemedyKind{RemedyRepair}, customer: 11400, plan: 26601,
				lines: []lineWant{{2400, 0, 5600}, {9000, 0, 21001}}, applied: true}},
		{"R5/DayAfterPlanYearCharged", "R5.accidental_damage",
			withContracts(phone(CauseAccidental, "2027-03-31"), accidentalPlan(PlanTerms{})),
			want{basis: BasisOutOfWarranty, remedy: RemedyRepair, remedies: []RemedyKind{RemedyRepair}, customer: 38001}},
		{"R5/DiscountBelow50IsRaisedTo50", "R5.accidental_damage",
			withContracts(phone(CauseAccidental, "2026-06-01"), accidentalPlan(PlanTerms{DiscountPercent: 30})),
			want{basis: BasisAccidentalDamage, contract: "ctr_acc", remedy: RemedyRepair, remedies: []RemedyKind{RemedyRepair}, customer: 19000, plan: 19001, applied: true}},
		{"R5/UnrepairableSwapForDepreciationConsumesPlan", "R5.accidental_damage",
			func() Input {
				in := withContracts(phone(CauseAccidental, "2026-06-01"), accidentalPlan(PlanTerms{DepreciationPercent: 20}))
				in.Fault.Repairable = false
				return in
			}(),
			want{basis: BasisAccidentalDamage, contract: "ctr_acc", remedy: RemedySwap, remedies: []RemedyKind{RemedySwap}, customer: 100000,
				fee: i64(100000), consumed: true, applied: true}},
		// The phone (5,000.00 bought 2026-03-01): month 3 ends 2026-05-31.
		{"R5/UnrepairableSwapFeeFromScheduleMonth3", "R5.accidental_damage",
			func() Input {
				in := withContracts(phone(CauseAccidental, "2026-05-31"), accidentalPlan(PlanTerms{DepreciationSchedule: adpSchedule()}))
				in.Fault.Repairable = false
				return in
			}(),
			want{basis: BasisAccidentalDamage, contract: "ctr_acc", remedy: RemedySwap, remedies: []RemedyKind{RemedySwap}, customer: 100000,
				fee: i64(100000), consumed: true, applied: true}},
		{"R5/UnrepairableSwapFeeFromScheduleMonth4", "R5.accidental_damage",
			func() Input {
				in := withContracts(phone(CauseAccidental, "2026-06-01"), accidentalPlan(PlanTerms{DepreciationSchedule: adpSchedule()}))
				in.Fault.Repairable = false
				return in
			}(),
			want{basis: BasisAccidentalDamage, contract: "ctr_acc", remedy: RemedySwap, remedies: []RemedyKind{RemedySwap}, customer: 150000,
				fee: i64(150000), consumed: true, applied: true}},
		{"R5/UnrepairableBeyondTheLastStepPaysTheLastStep", "R5.accidental_damage",
			func() Input {
				in := withContracts(phone(CauseAccidental, "2027-03-30"), accidentalPlan(PlanTerms{DepreciationSchedule: adpSchedule()}))
				in.Fault.Repairable = false
				return in
			}(),
			want{basis: BasisAccidentalDamage, contract: "ctr_acc", remedy: RemedySwap, remedies: []RemedyKind{RemedySwap}, customer: 250000,
				fee: i64(250000), consumed: true, applied: true}},
		{"R5/UnrepairableWithoutScheduleIsNotFree", "R5.accidental_damage",
			func() Input {
				in := withContracts(phone(CauseAccidental, "2026-06-01"), accidentalPlan(PlanTerms{}))
				in.Fault.Repairable = false
				return in
			}(),
			want{basis: BasisAccidentalDamage, contract: "ctr_acc", remedy: RemedySwap, remedies: []RemedyKind{RemedySwap}, customer: 150000,
				fee: i64(150000), consumed: true, applied: true}},
		{"R5/ScheduleIsCappedByTheCap", "R5.accidental_damage",
			func() Input {
				in := withContracts(phone(CauseAccidental, "2026-06-01"), accidentalPlan(PlanTerms{DepreciationSchedule: adpSchedule(), DepreciationCapPercent: 25}))
				in.Fault.Repairable = false
				return in
			}(),
			want{basis: BasisAccidentalDamage, contract: "ctr_acc", remedy: RemedySwap, remedies: []RemedyKind{RemedySwap}, customer: 125000,
				fee: i64(125000), consumed: true, applied: true}},
		{"R5/PerformanceFaultIsTheWarrantysNotThePlans", "R5.accidental_damage",
			withContracts(phone(CausePerformance, "2026-06-01"), accidentalPlan(PlanTerms{})),
			want{basis: BasisManufacturerWarranty, remedy: RemedyRepair, remedies: []RemedyKind{RemedyRepair}, brand: 38001}},
		{"R5/WrongCategoryNotCovered", "R5.accidental_damage",
			withContracts(input(CategoryWasher, 300000, CauseAccidental, "2026-06-01"), accidentalPlan(PlanTerms{})),
			charged(BasisNotCovered)},

		// ---- R6 swap plan ----
		{"R6/KitchenDay30NoSwap", "R6.swap_for_repair",
			withRemedy(withContracts(input(CategoryKitchen, 60000, CausePerformance, "2026-03-30"), swapPlan(CategoryKitchen, PlanTerms{})), RemedySwap),
			merge(free, func(w *want) {
				w.basis, w.remedy, w.remedies = BasisManufacturerWarranty, RemedyRepair, []RemedyKind{RemedyRepair}
			})},
		{"R6/KitchenDay31SwapForFlat30", "R6.swap_for_repair",
			withRemedy(withContracts(input(CategoryKitchen, 60000, CausePerformance, "2026-03-31"), swapPlan(CategoryKitchen, PlanTerms{FlatFee: pcny(3000)})), RemedySwap),
			want{basis: BasisSwapForRepair, contract: "ctr_swap", remedy: RemedySwap, remedies: []RemedyKind{RemedyRepair, RemedySwap}, customer: 3000,
				fee: i64(3000), lines: []lineWant{{3000, 0, 0}}, applied: true}},
		{"R6/KitchenFreeWarrantyRepairStaysDefault", "R6.swap_for_repair",
			withContracts(input(CategoryKitchen, 60000, CausePerformance, "2026-05-01"), swapPlan(CategoryKitchen, PlanTerms{})),
			merge(free, func(w *want) {
				w.basis, w.remedy, w.remedies, w.applied = BasisManufacturerWarranty, RemedyRepair, []RemedyKind{RemedyRepair, RemedySwap}, true
			})},
		{"R6/SmallApplianceAfterWarrantySwapDefault30", "R6.swap_for_repair",
			func() Input {
				in := withContracts(input(CategorySmallAppliance, 60000, CausePerformance, "2026-12-01"), swapPlan(CategorySmallAppliance, PlanTerms{}))
				in.Unit.WarrantyMonths = 6
				return in
			}(),
			// Out of the 6-month warranty the plan's swap comes before the repair the customer would pay in full.
			want{basis: BasisSwapForRepair, contract: "ctr_swap", remedy: RemedySwap, remedies: []RemedyKind{RemedySwap, RemedyRepair}, customer: 3000,
				fee: i64(3000), lines: []lineWant{{3000, 0, 0}}, applied: true}},
		{"R6/TabletPurchaseDayNoSwap", "R6.swap_for_repair",
			withRemedy(withContracts(input(CategoryTablet, 250000, CausePerformance, "2026-03-01"), swapPlan(CategoryTablet, PlanTerms{DepreciationCapPercent: 39})), RemedySwap),
			want{basis: BasisStatutoryReturn, remedy: RemedyRepair, remedies: all, brand: 23000}},
		{"R6/TabletNextDaySwapAtTheCap", "R6.swap_for_repair",
			withRemedy(withContracts(input(CategoryTablet, 250000, CausePerformance, "2026-03-02"), swapPlan(CategoryTablet, PlanTerms{DepreciationCapPercent: 39})), RemedySwap),
			want{basis: BasisSwapForRepair, contract: "ctr_swap", remedy: RemedySwap, remedies: []RemedyKind{RemedyReturn, RemedyExchange, RemedyRepair, RemedySwap},
				customer: 97500, fee: i64(97500), applied: true}},
		{"R6/Tablet39PercentCapsAHigherDepreciation", "R6.swap_for_repair",
			withRemedy(withContracts(input(CategoryTablet, 250001, CausePerformance, "2026-09-01"), swapPlan(CategoryTablet, PlanTerms{DepreciationPercent: 45, DepreciationCapPercent: 39})), RemedySwap),
			// 250001 * 39% = 97500.39 -> 97500.
			want{basis: BasisSwapForRepair, contract: "ctr_swap", remedy: RemedySwap, remedies: []RemedyKind{RemedyRepair, RemedySwap},
				customer: 97500, fee: i64(97500), applied: true}},
		{"R6/TabletDepreciationBelowCapApplies", "R6.swap_for_repair",
			withRemedy(withContracts(input(CategoryTablet, 250000, CausePerformance, "2026-09-01"), swapPlan(CategoryTablet, PlanTerms{DepreciationPercent: 30, DepreciationCapPercent: 39})), RemedySwap),
			want{basis: BasisSwapForRepair, contract: "ctr_swap", remedy: RemedySwap, remedies: []RemedyKind{RemedyRepair, RemedySwap},
				customer: 75000, fee: i64(75000), applied: true}},
		{"R6/TabletFlatFeeAboveCapIsCapped", "R6.swap_for_repair",
			withRemedy(withContracts(input(CategoryTablet, 100000, CausePerformance, "2026-09-01"), swapPlan(CategoryTablet, PlanTerms{FlatFee: pcny(50000)})), RemedySwap),
			want{basis: BasisSwapForRepair, contract: "ctr_swap", remedy: RemedySwap, remedies: []RemedyKind{RemedyRepair, RemedySwap},
				customer: 39000, fee: i64(39000), applied: true}},

		// ---- R7 no-reason repair plan ----
		{"R7/PurchaseDayNotYetCovered", "R7.no_reason_repair",
			withContracts(fridge(CauseMoisture, "2026-03-01"), noReasonPlan(PlanTerms{})),
			charged(BasisNotCovered)},
		{"R7/NextDayMoistureFreeWithCompensation", "R7.no_reason_repair",
			withContracts(fridge(CauseMoisture, "2026-03-02"), noReasonPlan(PlanTerms{})),
			want{basis: BasisNoReasonRepair, contract: "ctr_nr", remedy: RemedyRepair, remedies: []RemedyKind{RemedyRepair}, plan: 23000,
				comp: 10000, due: "2026-03-09", applied: true}},
		{"R7/AccidentalDamage80PercentOff", "R7.no_reason_repair",
			withContracts(fridge(CauseAccidental, "2026-06-05"), noReasonPlan(PlanTerms{})),
			// 2026-06-05 is a Friday: five business days later is Friday 2026-06-12.
			want{basis: BasisNoReasonRepair, contract: "ctr_nr", remedy: RemedyRepair, remedies: []RemedyKind{RemedyRepair}, customer: 4600, plan: 18400,
				lines: []lineWant{{1600, 0, 6400}, {2400, 0, 9600}, {600, 0, 2400}}, comp: 10000, due: "2026-06-12", applied: true}},
		{"R7/TenantCalendarSetsTheDeadline", "R7.compensation",
			func() Input {
				in := withContracts(fridge(CauseDust, "2026-06-05"), noReasonPlan(PlanTerms{}))
				in.BusinessDays = func(from time.Time, n int) time.Time { return from.AddDate(0, 0, n+2) }
				return in
			}(),
			want{basis: BasisNoReasonRepair, contract: "ctr_nr", remedy: RemedyRepair, remedies: []RemedyKind{RemedyRepair}, plan: 23000,
				comp: 10000, due: "2026-06-12", applied: true}},
		{"R7/RepairCostEqualToRetailIsRepaired", "R7.no_reason_repair",
			func() Input {
				in := withContracts(fridge(CauseHeat, "2026-06-01"), noReasonPlan(PlanTerms{}))
				in.Unit.RetailPrice = cny(23000)
				return in
			}(),
			want{basis: BasisNoReasonRepair, contract: "ctr_nr", remedy: RemedyRepair, remedies: []RemedyKind{RemedyRepair}, plan: 23000,
				comp: 10000, due: "2026-06-08", applied: true}},
		{"R7/RepairCostAboveRetailIsSwapped", "R7.no_reason_repair",
			func() Input {
				in := withContracts(fridge(CauseHeat, "2026-06-01"), noReasonPlan(PlanTerms{}))
				in.Unit.RetailPrice = cny(22999)
				return in
			}(),
			want{basis: BasisNoReasonRepair, contract: "ctr_nr", remedy: RemedySwap, remedies: []RemedyKind{RemedySwap, RemedyRepair}, customer: 5000, fee: i64(5000), applied: true}},
		// ---- R7 at the retail price when the ticket asks for a repair ----
		// The fridge (500,000.00 bought 2026-03-01) is in month 4 of ownership
		// on 2026-06-01; the plan's schedule charges 10% then: 50,000.
		{"R7/RequestedRepairCostEqualToRetailIsRepairedFree", "R7.no_reason_repair",
			func() Input {
				in := withRemedy(withContracts(fridge(CauseHeat, "2026-06-01"), scheduledNoReasonPlan()), RemedyRepair)
				in.Unit.RetailPrice = cny(23000)
				return in
			}(),
			want{basis: BasisNoReasonRepair, contract: "ctr_nr", remedy: RemedyRepair, remedies: []RemedyKind{RemedyRepair}, plan: 23000,
				comp: 10000, due: "2026-06-08", applied: true}},
		{"R7/RequestedRepairCostJustAboveRetailIsSwappedForTheScheduledFee", "R7.no_reason_repair",
			func() Input {
				in := withRemedy(withContracts(fridge(CauseHeat, "2026-06-01"), scheduledNoReasonPlan()), RemedyRepair)
				in.Unit.RetailPrice = cny(22999)
				return in
			}(),
			want{basis: BasisNoReasonRepair, contract: "ctr_nr", remedy: RemedySwap, remedies: []RemedyKind{RemedySwap, RemedyRepair},
				customer: 50000, fee: i64(50000), applied: true}},
		{"R7/AccidentalDamageCostEqualToRetailIs80PercentOff", "R7.no_reason_repair",
			func() Input {
				in := withRemedy(withContracts(fridge(CauseAccidental, "2026-06-05"), scheduledNoReasonPlan()), RemedyRepair)
				in.Unit.RetailPrice = cny(23000)
				return in
			}(),
			want{basis: BasisNoReasonRepair, contract: "ctr_nr", remedy: RemedyRepair, remedies: []RemedyKind{RemedyRepair}, customer: 4600, plan: 18400,
				comp: 10000, due: "2026-06-12", applied: true}},
		{"R7/AccidentalDamageCostJustAboveRetailIsSwapped", "R7.no_reason_repair",
			func() Input {
				in := withRemedy(withContracts(fridge(CauseAccidental, "2026-06-05"), scheduledNoReasonPlan()), RemedyRepair)
				in.Unit.RetailPrice = cny(22999)
				return in
			}(),
			want{basis: BasisNoReasonRepair, contract: "ctr_nr", remedy: RemedySwap, remedies: []RemedyKind{RemedySwap, RemedyRepair},
				customer: 50000, fee: i64(50000), applied: true}},
		{"R7/ScheduleStepByMonthOfOwnership", "R7.no_reason_repair",
			// 2026-05-31 is the last day of month 3: 5%.
			func() Input {
				in := withRemedy(withContracts(fridge(CauseHeat, "2026-05-31"), scheduledNoReasonPlan()), RemedyRepair)
				in.Unit.RetailPrice = cny(22999)
				return in
			}(),
			want{basis: BasisNoReasonRepair, contract: "ctr_nr", remedy: RemedySwap, remedies: []RemedyKind{RemedySwap, RemedyRepair},
				customer: 25000, fee: i64(25000), applied: true}},
		{"R7/PlanWithoutScheduleGetsTheDefaultNotAFreeSwap", "R7.no_reason_repair",
			func() Input {
				in := withContracts(fridge(CauseAccidental, "2026-06-01"),
					contract("ctr_nr", KindNoReasonRepair, CategoryRefrigerator, 12, PlanTerms{Compensation: pcny(10000)}))
				in.Fault.Repairable = false
				return in
			}(),
			want{basis: BasisNoReasonRepair, contract: "ctr_nr", remedy: RemedySwap, remedies: []RemedyKind{RemedySwap}, customer: 50000, fee: i64(50000), applied: true}},
		{"R7/UnrepairableIsSwapped", "R7.no_reason_repair",
			func() Input {
				in := withContracts(fridge(CauseAccidental, "2026-06-01"), noReasonPlan(PlanTerms{}))
				in.Fault.Repairable = false
				return in
			}(),
			want{basis: BasisNoReasonRepair, contract: "ctr_nr", remedy: RemedySwap, remedies: []RemedyKind{RemedySwap}, customer: 5000, fee: i64(5000), applied: true}},
		{"R7/DayAfterPlanYearCharged", "R7.no_reason_repair",
			withContracts(fridge(CauseDust, "2027-03-02"), noReasonPlan(PlanTerms{})),
			charged(BasisOutOfWarranty)},
		{"R7/PerformanceFaultIsTheWarrantys", "R7.no_reason_repair",
			withContracts(fridge(CausePerformance, "2026-06-01"), noReasonPlan(PlanTerms{})),
			merge(free, func(w *want) {
				w.basis, w.remedy, w.remedies = BasisManufacturerWarranty, RemedyRepair, []RemedyKind{RemedyRepair}
			})},

		// ---- human damage inside every plan: never free ----
		{"R1/HumanDamageInsideExtendedWarrantyCharged", "R4.extended_warranty",
			withContracts(input(CategoryWasher, 300000, CauseHuman, "2027-05-01"), extended(CategoryWasher)),
			charged(BasisOutOfWarranty)},
		{"R1/HumanDamageInsideAccidentalPlanCharged", "R5.accidental_damage",
			withContracts(phone(CauseHuman, "2026-06-01"), accidentalPlan(PlanTerms{})),
			want{basis: BasisNotCovered, remedy: RemedyRepair, remedies: []RemedyKind{RemedyRepair}, customer: 38001}},
		{"R1/HumanDamageInsideSwapPlanCharged", "R6.swap_for_repair",
			withRemedy(withContracts(input(CategoryKitchen, 60000, CauseHuman, "2026-06-01"), swapPlan(CategoryKitchen, PlanTerms{})), RemedySwap),
			charged(BasisNotCovered)},
		{"R1/HumanDamageInsideNoReasonPlanCharged", "R7.no_reason_repair",
			withContracts(fridge(CauseHuman, "2026-06-01"), noReasonPlan(PlanTerms{})),
			charged(BasisNotCovered)},
		{"R1/HumanDamageInsideManufacturerWarrantyCharged", "R2.manufacturer_warranty",
			input(CategoryWasher, 300000, CauseHuman, "2026-06-01"),
			charged(BasisNotCovered)},
		{"R1/ForceMajeureInsideNoReasonPlanCharged", "R7.no_reason_repair",
			withContracts(fridge(CauseForceMajeure, "2026-06-01"), noReasonPlan(PlanTerms{})),
			charged(BasisNotCovered)},
		{"R1/HumanDamageAfterPaidRepairStaysCharged", "R8.repeat_fault",
			paidRepair(input(CategoryWasher, 300000, CauseHuman, "2027-06-01"), "2027-04-10"),
			charged(BasisOutOfWarranty)},

		// ---- R8 promises that concern charges ----
		{"R8/FaultAgainOnLastDayOfYearAfterPaidRepairFree", "R8.repeat_fault",
			paidRepair(input(CategoryRefrigerator, 300000, CausePerformance, "2028-04-09"), "2027-04-10"),
			want{basis: BasisOutOfWarranty, remedy: RemedyRepair, remedies: []RemedyKind{RemedyRepair}, brand: 23000,
				lines: []lineWant{{0, 8000, 0}, {0, 12000, 0}, {0, 3000, 0}}, promises: []string{"repeat_fault"}, applied: true}},
		{"R8/FaultAgainDayAfterYearCharged", "R8.repeat_fault",
			paidRepair(input(CategoryRefrigerator, 300000, CausePerformance, "2028-04-10"), "2027-04-10"),
			charged(BasisOutOfWarranty)},
		{"R8/WasherFaultAgainInSecondYearFree", "R8.repeat_fault",
			paidRepair(input(CategoryWasher, 300000, CausePerformance, "2029-04-09"), "2027-04-10"),
			want{basis: BasisOutOfWarranty, remedy: RemedyRepair, remedies: []RemedyKind{RemedyRepair}, brand: 23000, promises: []string{"repeat_fault"}, applied: true}},
		{"R8/WasherFaultAgainAfterTwoYearsCharged", "R8.repeat_fault",
			paidRepair(input(CategoryWasher, 300000, CausePerformance, "2029-04-10"), "2027-04-10"),
			charged(BasisOutOfWarranty)},
		{"R8/EnvironmentalFaultAgainAfterPaidRepairFree", "R8.repeat_fault",
			paidRepair(input(CategoryRefrigerator, 300000, CauseDust, "2027-06-01"), "2027-04-10"),
			want{basis: BasisOutOfWarranty, remedy: RemedyRepair, remedies: []RemedyKind{RemedyRepair}, brand: 23000, promises: []string{"repeat_fault"}, applied: true}},
		{"R8/ChargeBeyondPriceListNotOwed", "R8.price_list",
			func() Input {
				in := perf("2027-06-01")
				in.Quote.Lines[0].Charged = pcny(9000)
				return in
			}(),
			want{basis: BasisOutOfWarranty, remedy: RemedyRepair, remedies: []RemedyKind{RemedyRepair}, brand: 23000, promises: []string{"charge_beyond_price_list"}, applied: true}},
		{"R8/ChargeAtPriceListOwed", "R8.price_list",
			func() Input {
				in := perf("2027-06-01")
				in.Quote.Lines[0].Charged = pcny(8000)
				return in
			}(),
			charged(BasisOutOfWarranty)},
		{"R8/PriceListNotShownFree", "R8.price_list",
			visit(perf("2027-06-01"), Visit{PriceListNotShown: true}),
			want{basis: BasisOutOfWarranty, remedy: RemedyRepair, remedies: []RemedyKind{RemedyRepair}, brand: 23000, promises: []string{"price_list_not_shown"}, applied: true}},
		{"R8/Late15MinutesApologyAndFree", "R8.late_arrival",
			visit(perf("2027-06-01"), Visit{LateMinutes: 15}),
			want{basis: BasisOutOfWarranty, remedy: RemedyRepair, remedies: []RemedyKind{RemedyRepair}, brand: 23000, promises: []string{"late_arrival:apology"}, applied: true}},
		{"R8/Late16MinutesApologyAndGift", "R8.late_arrival",
			visit(perf("2027-06-01"), Visit{LateMinutes: 16}),
			want{basis: BasisOutOfWarranty, remedy: RemedyRepair, remedies: []RemedyKind{RemedyRepair}, brand: 23000, promises: []string{"late_arrival:apology_and_gift"}, applied: true}},
		{"R8/LateAndRefusedManagerVisits", "R8.late_arrival",
			visit(perf("2027-06-01"), Visit{LateMinutes: 40, CustomerRefused: true}),
			want{basis: BasisOutOfWarranty, remedy: RemedyRepair, remedies: []RemedyKind{RemedyRepair}, brand: 23000, promises: []string{"late_arrival:manager_visit"}, applied: true}},
		{"R8/Late1MinuteFirstVisitOnTimeSecondStillFree", "R8.late_arrival",
			visit(perf("2027-06-01"), Visit{ArrivalMinutes: []int{1, -5}}),
			want{basis: BasisOutOfWarranty, remedy: RemedyRepair, remedies: []RemedyKind{RemedyRepair}, brand: 23000, promises: []string{"late_arrival:apology"}, applied: true}},
		{"R8/Late16MinutesFirstVisitOnTimeSecondGiftAndFree", "R8.late_arrival",
			visit(perf("2027-06-01"), Visit{ArrivalMinutes: []int{16, 0}}),
			want{basis: BasisOutOfWarranty, remedy: RemedyRepair, remedies: []RemedyKind{RemedyRepair}, brand: 23000, promises: []string{"late_arrival:apology_and_gift"}, applied: true}},
		{"R8/OnTimeFirstVisitLate1MinuteSecondFree", "R8.late_arrival",
			visit(perf("2027-06-01"), Visit{ArrivalMinutes: []int{-8, 1}}),
			want{basis: BasisOutOfWarranty, remedy: RemedyRepair, remedies: []RemedyKind{RemedyRepair}, brand: 23000, promises: []string{"late_arrival:apology"}, applied: true}},
		{"R8/EveryVisitOnTimeOwed", "R8.late_arrival",
			visit(perf("2027-06-01"), Visit{ArrivalMinutes: []int{0, -10}}),
			charged(BasisOutOfWarranty)},
		{"R8/CheckedInOnTimeLateUpheldFree", "R8.late_arrival",
			visit(perf("2027-06-01"), Visit{ArrivalMinutes: []int{-6}, LateArrivalUpheld: true}),
			want{basis: BasisOutOfWarranty, remedy: RemedyRepair, remedies: []RemedyKind{RemedyRepair}, brand: 23000, promises: []string{"late_arrival:apology"}, applied: true}},
		{"R8/LateUpheldAndRefusedManagerVisits", "R8.late_arrival",
			visit(perf("2027-06-01"), Visit{LateArrivalUpheld: true, CustomerRefused: true}),
			want{basis: BasisOutOfWarranty, remedy: RemedyRepair, remedies: []RemedyKind{RemedyRepair}, brand: 23000, promises: []string{"late_arrival:manager_visit"}, applied: true}},
		{"R8/LateCheckInAndUpheldKeepsTheMinutes", "R8.late_arrival",
			visit(perf("2027-06-01"), Visit{LateMinutes: 20, LateArrivalUpheld: true}),
			want{basis: BasisOutOfWarranty, remedy: RemedyRepair, remedies: []RemedyKind{RemedyRepair}, brand: 23000, promises: []string{"late_arrival:apology_and_gift"}, applied: true}},
		{"R8/ChargedBeyondPriceListReportedFree", "R8.price_list",
			visit(perf("2027-06-01"), Visit{ChargedBeyondPriceList: true}),
			want{basis: BasisOutOfWarranty, remedy: RemedyRepair, remedies: []RemedyKind{RemedyRepair}, brand: 23000, promises: []string{"charge_beyond_price_list"}, applied: true}},
		{"R8/LicenceNotMatchingFree", "R8.licence",
			visit(perf("2027-06-01"), Visit{LicenceNotMatching: true}),
			want{basis: BasisOutOfWarranty, remedy: RemedyRepair, remedies: []RemedyKind{RemedyRepair}, brand: 23000, promises: []string{"licence_not_shown"}, applied: true}},
		{"R8/LicenceNotShownWaivesPlanShare", "R8.licence",
			visit(withContracts(fridge(CauseAccidental, "2026-06-05"), noReasonPlan(PlanTerms{})), Visit{LicenceNotShown: true}),
			want{basis: BasisNoReasonRepair, contract: "ctr_nr", remedy: RemedyRepair, remedies: []RemedyKind{RemedyRepair}, brand: 4600, plan: 18400,
				comp: 10000, due: "2026-06-12", promises: []string{"licence_not_shown"}, applied: true}},
		// Midea's promise 2 (未送安同步而多次上门的,则本次服务给用户免单,
		// 限美的专卖店购买) is an installation's: a repair visited again is
		// no repeat visit, and out of warranty the price list charges it.
		{"R8/RepeatVisitOnARepairIsNoPromise", "R8.repeat_visit",
			visit(perf("2027-06-01"), Visit{RepeatVisitByNetwork: true}), charged(BasisOutOfWarranty)},
		{"R8/RepeatVisitOnARepairWithAConductBreachFreeByTheBreach", "R8.conduct",
			visit(perf("2027-06-01"), Visit{RepeatVisitByNetwork: true, ConductBreach: true}),
			want{basis: BasisOutOfWarranty, remedy: RemedyRepair, remedies: []RemedyKind{RemedyRepair}, brand: 23000, promises: []string{"conduct_breach"}, applied: true}},
		{"R8/PromiseDoesNotWaiveSwapFee", "R8.late_arrival",
			visit(withRemedy(withContracts(input(CategoryKitchen, 60000, CausePerformance, "2026-06-01"), swapPlan(CategoryKitchen, PlanTerms{})), RemedySwap), Visit{LateMinutes: 5}),
			want{basis: BasisSwapForRepair, contract: "ctr_swap", remedy: RemedySwap, remedies: []RemedyKind{RemedyRepair, RemedySwap}, customer: 3000, fee: i64(3000),
				promises: []string{"late_arrival"}, applied: true}},

		// ---- R9 returns and freight ----
		// The seven days run from the day after receipt (the purchase
		// date, 2026-03-01): 2026-03-08 is the last day, 2026-03-09 too late.
		{"R9/ChangeOfMindSeventhDayAfterReceiptReturnBuyerPaysFreight", "R9.no_reason_return",
			changeOfMind("2026-03-08"),
			want{basis: BasisNoReasonReturn, remedy: RemedyReturn, remedies: []RemedyKind{RemedyReturn, RemedyExchange}, freight: "buyer", applied: true}},
		{"R9/ChangeOfMindEighthDayAfterReceiptNoReturn", "R9.no_reason_return",
			changeOfMind("2026-03-09"),
			want{basis: BasisNotCovered, remedy: RemedyNone, remedies: []RemedyKind{}}},
		// A replacement a swap handed over is no new sale: its seven days
		// count from the sale of the unit first sold (SaleDate), not from
		// the swap's day (its PurchaseDate).
		{"R9/ReplacementCountsFromTheSaleNotTheSwap", "R9.no_reason_return",
			func() Input {
				in := changeOfMind("2026-03-07")
				sale := day("2026-02-01")
				in.Unit.PurchaseDate, in.Unit.SaleDate = day("2026-03-05"), &sale
				return in
			}(),
			want{basis: BasisNotCovered, remedy: RemedyNone, remedies: []RemedyKind{}}},
		{"R9/ReplacementWithinTheSalesSevenDays", "R9.no_reason_return",
			func() Input {
				in := changeOfMind("2026-03-07")
				sale := day(purchase)
				in.Unit.PurchaseDate, in.Unit.SaleDate = day("2026-03-05"), &sale
				return in
			}(),
			want{basis: BasisNoReasonReturn, remedy: RemedyReturn, remedies: []RemedyKind{RemedyReturn, RemedyExchange}, freight: "buyer", applied: true}},
		{"R9/ChangeOfMindNotResaleableNoReturn", "R9.no_reason_return",
			func() Input { in := changeOfMind("2026-03-03"); in.Fault.Resaleable = false; return in }(),
			want{basis: BasisNotCovered, remedy: RemedyNone, remedies: []RemedyKind{}}},
		{"R9/ChangeOfMindNotAStorefrontSaleNoReturn", "R9.no_reason_return",
			func() Input { in := changeOfMind("2026-03-03"); in.Unit.SoldByStorefront = false; return in }(),
			want{basis: BasisNotCovered, remedy: RemedyNone, remedies: []RemedyKind{}}},
		{"R9/WrongGoodsReturnSellerPaysFreight", "R9.freight",
			func() Input {
				in := withRemedy(input(CategorySmallAppliance, 50000, "", "2026-03-04"), RemedyReturn)
				in.Fault = Fault{WrongOrDamagedOnDelivery: true}
				return in
			}(),
			want{basis: BasisStatutoryReturn, remedy: RemedyReturn, remedies: []RemedyKind{RemedyReturn, RemedyExchange}, freight: "seller", applied: true}},
		{"R9/QualityFaultExchangeSellerPaysFreight", "R9.freight",
			withRemedy(perf("2026-03-12"), RemedyExchange),
			want{basis: BasisStatutoryExchange, remedy: RemedyExchange, remedies: []RemedyKind{RemedyExchange, RemedyRepair}, freight: "seller", applied: true}},
		// ---- no-fault services (maintenance, cleaning, installation) ----
		{"Maintenance/InWarrantyCleaningChargedByPriceList", "R2.maintenance",
			input(CategoryAirConditioner, 400000, CauseNoFault, "2026-03-02"), charged(BasisNotCovered)},
		{"Maintenance/AfterWarrantyCleaningChargedByPriceList", "R2.maintenance",
			input(CategoryAirConditioner, 400000, CauseNoFault, "2027-03-01"), charged(BasisOutOfWarranty)},
		{"Maintenance/PlanCoveringMaintenanceOnItsFirstDayFree", "R2.maintenance",
			withContracts(input(CategoryAirConditioner, 400000, CauseNoFault, "2026-03-02"), maintenancePlan()),
			want{basis: BasisMaintenancePlan, contract: "ctr_care", remedy: RemedyRepair, remedies: []RemedyKind{RemedyRepair}, plan: 23000,
				lines: []lineWant{{0, 0, 8000}, {0, 0, 12000}, {0, 0, 3000}}, applied: true}},
		{"Maintenance/PlanCoveringMaintenanceOnItsLastDayFree", "R2.maintenance",
			withContracts(input(CategoryAirConditioner, 400000, CauseNoFault, "2027-03-01"), maintenancePlan()),
			want{basis: BasisMaintenancePlan, contract: "ctr_care", remedy: RemedyRepair, remedies: []RemedyKind{RemedyRepair}, plan: 23000, applied: true}},
		// A care plan pays maintenance and cleaning, not an installation:
		// the price list charges it, the plan pays nothing.
		{"Maintenance/PlanCoveringMaintenanceDoesNotPayAnInstallation", "R2.maintenance",
			func() Input {
				in := withContracts(input(CategoryAirConditioner, 400000, CauseNoFault, "2026-03-02"), maintenancePlan())
				in.Quote.ServiceKind = ServiceInstall
				return in
			}(),
			want{basis: BasisNotCovered, remedy: RemedyRepair, remedies: []RemedyKind{RemedyRepair}, customer: 23000}},
		{"Maintenance/DayAfterThePlanCharged", "R2.maintenance",
			withContracts(input(CategoryAirConditioner, 400000, CauseNoFault, "2027-03-02"), maintenancePlan()),
			charged(BasisOutOfWarranty)},
		{"Maintenance/PlanNotCoveringMaintenanceCharged", "R2.maintenance",
			withContracts(input(CategoryWasher, 300000, CauseNoFault, "2027-05-01"), extended(CategoryWasher)),
			charged(BasisOutOfWarranty)},
		{"Maintenance/NotAFaultOfAnEarlierPaidRepair", "R8.repeat_fault",
			paidRepair(input(CategoryAirConditioner, 400000, CauseNoFault, "2027-05-01"), "2027-04-01"),
			charged(BasisOutOfWarranty)},
		// An installation visited again because delivery was not in sync,
		// the unit bought at the brand's own store, is free (Midea's
		// promise 2); a maintenance visit is no installation: charged.
		{"Maintenance/InstallationVisitedAgainIsFree", "R8.repeat_visit",
			func() Input {
				in := visit(input(CategoryAirConditioner, 400000, CauseNoFault, "2026-03-02"), Visit{RepeatVisitByNetwork: true})
				in.Quote.ServiceKind = ServiceInstall
				return in
			}(),
			want{basis: BasisNotCovered, remedy: RemedyRepair, remedies: []RemedyKind{RemedyRepair}, brand: 23000, promises: []string{"repeat_visit"}, applied: true}},
		{"Maintenance/MaintenanceVisitedAgainCharged", "R8.repeat_visit",
			visit(input(CategoryAirConditioner, 400000, CauseNoFault, "2026-03-02"), Visit{RepeatVisitByNetwork: true}),
			charged(BasisNotCovered)},

		// ---- delivery damage ----
		{"DeliveryDamage/Day1ExchangeAtTheSellersCost", "R9.delivery_damage",
			input(CategoryAirConditioner, 400000, CauseDeliveryDamage, "2026-03-01"),
			want{basis: BasisDeliveryDamage, remedy: RemedyExchange, remedies: []RemedyKind{RemedyExchange, RemedyReturn}, freight: "seller", applied: true}},
		{"DeliveryDamage/Day16StillExchangedNeverRepaired", "R9.delivery_damage",
			withRemedy(input(CategoryAirConditioner, 400000, CauseDeliveryDamage, "2026-03-16"), RemedyRepair),
			want{basis: BasisDeliveryDamage, remedy: RemedyExchange, remedies: []RemedyKind{RemedyExchange}, freight: "seller", applied: true}},
		{"DeliveryDamage/Day7MayBeReturnedSellerPaysFreight", "R9.freight",
			withRemedy(input(CategoryAirConditioner, 400000, CauseDeliveryDamage, "2026-03-07"), RemedyReturn),
			want{basis: BasisStatutoryReturn, remedy: RemedyReturn, remedies: []RemedyKind{RemedyExchange, RemedyReturn}, freight: "seller", applied: true}},

		{"R9/RepairShipsNothingNoFreight", "R9.freight",
			perf("2026-03-12"),
			merge(free, func(w *want) {
				w.basis, w.remedy, w.remedies = BasisStatutoryExchange, RemedyRepair, []RemedyKind{RemedyExchange, RemedyRepair}
			})},
	}
}

func TestDecideRules(t *testing.T) {
	t.Parallel()
	for _, c := range ruleCases() {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			d, err := Decide(c.in)
			require.NoError(t, err)
			w := c.want
			explain := func() string {
				s := ""
				for _, e := range d.Trace {
					s += "\n  " + e.Rule + " " + map[bool]string{true: "applied", false: "no"}[e.Applied] + ": " + e.Reason
				}
				return s
			}
			require.Equal(t, w.basis, d.Basis, "basis%s", explain())
			require.Equal(t, w.remedy, d.Remedy, "remedy%s", explain())
			kinds := []RemedyKind{}
			for _, r := range d.Remedies {
				kinds = append(kinds, r.Kind)
			}
			if w.remedies == nil {
				w.remedies = []RemedyKind{}
			}
			require.Equal(t, w.remedies, kinds, "remedies%s", explain())
			require.Equal(t, w.contract, d.ContractID)
			require.Equal(t, cny(w.customer), d.Totals.Customer, "customer pays%s", explain())
			require.Equal(t, cny(w.brand), d.Totals.Brand, "brand pays")
			require.Equal(t, cny(w.plan), d.Totals.Plan, "plan pays")
			var sum int64
			for _, l := range d.Lines {
				require.Equal(t, l.ListAmount.Amount, l.CustomerPays.Amount+l.BrandPays.Amount+l.PlanPays.Amount, "a line's shares add up to its list amount")
				sum += l.ListAmount.Amount
			}
			require.Equal(t, sum, d.Totals.List.Amount)
			if w.lines != nil {
				require.Len(t, d.Lines, len(w.lines))
				for i, lw := range w.lines {
					require.Equal(t, lw, lineWant{d.Lines[i].CustomerPays.Amount, d.Lines[i].BrandPays.Amount, d.Lines[i].PlanPays.Amount}, "line %d", i)
				}
			}
			if w.fee != nil {
				var fee *tenants.Money
				for _, r := range d.Remedies {
					if r.Kind == d.Remedy {
						fee = r.Fee
					}
				}
				require.NotNil(t, fee)
				require.Equal(t, cny(*w.fee), *fee)
			}
			if w.comp == 0 {
				require.Nil(t, d.Compensation)
			} else {
				require.NotNil(t, d.Compensation, "compensation%s", explain())
				require.Equal(t, cny(w.comp), d.Compensation.Amount)
				require.Equal(t, w.due, d.Compensation.Due)
			}
			if w.freight == "" {
				require.Nil(t, d.Freight)
			} else {
				require.NotNil(t, d.Freight)
				require.Equal(t, w.freight, d.Freight.Payer)
			}
			if w.promises == nil {
				w.promises = []string{}
			}
			got := []string{}
			for _, p := range d.Promises {
				s := p.Code
				for _, wp := range w.promises {
					if len(wp) > len(s) && wp[:len(s)+1] == s+":" {
						s += ":" + p.Action
					}
				}
				got = append(got, s)
			}
			require.Equal(t, w.promises, got)
			require.Equal(t, w.consumed, d.ContractConsumed)
			found := false
			for _, e := range d.Trace {
				if e.Rule == c.rule {
					found = true
					require.NotEmpty(t, e.Reason)
					if e.Applied == w.applied {
						break
					}
				}
			}
			require.True(t, found, "no trace entry for %s%s", c.rule, explain())
			var appliedAny bool
			for _, e := range d.Trace {
				if e.Rule == c.rule && e.Applied {
					appliedAny = true
				}
			}
			require.Equal(t, w.applied, appliedAny, "rule %s applied%s", c.rule, explain())
		})
	}
}

// TestSwapTraceShowsTheRealFee: a depreciation swap's trace names the
// schedule, the month and the fee, and the selection says why a requested
// repair became a swap.
func TestSwapTraceShowsTheRealFee(t *testing.T) {
	t.Parallel()
	in := withRemedy(withContracts(fridge500k(CauseHeat, "2026-06-01"), scheduledNoReasonPlan()), RemedyRepair)
	in.Unit.RetailPrice = cny(22999)
	d, err := Decide(in)
	require.NoError(t, err)
	var r7, sel string
	for _, e := range d.Trace {
		switch {
		case e.Rule == "R7.no_reason_repair" && e.Applied:
			r7 = e.Reason
		case e.Rule == "selection":
			sel = e.Reason
		}
	}
	require.Contains(t, r7, "10% of the purchase price 500000 in month 4 of ownership (the plan's depreciation schedule): 50000")
	require.Contains(t, sel, "charged in full by the price list")

	acc := withContracts(input(CategoryPhone, 500000, CauseAccidental, "2026-06-01"), accidentalPlan(PlanTerms{}))
	acc.Fault.Repairable = false
	d, err = Decide(acc)
	require.NoError(t, err)
	var r5 string
	for _, e := range d.Trace {
		if e.Rule == "R5.accidental_damage" && e.Applied {
			r5 = e.Reason
		}
	}
	require.Contains(t, r5, "the default schedule of its kind): 150000", "R5 applied and its trace names the fee")
	require.NotContains(t, r5, "flat fee")
	// Rule 5: unrepairable, swapped for the depreciation fee the trace
	// names; the customer pays exactly that, never the repair.
	require.Equal(t, RemedySwap, d.Remedy)
	require.Equal(t, cny(150000), d.Totals.Customer)
}

func fridge500k(c Cause, on string) Input { return input(CategoryRefrigerator, 500000, c, on) }

// TestTraceListsEveryRule: a decision names every rule it considered, also
// those that did not apply, each with a reason.
func TestTraceListsEveryRule(t *testing.T) {
	t.Parallel()
	in := withContracts(input(CategoryWasher, 300000, CauseDust, "2027-05-01"), extended(CategoryWasher))
	d, err := Decide(in)
	require.NoError(t, err)
	rules := map[string]bool{}
	for _, e := range d.Trace {
		require.NotEmpty(t, e.Reason, e.Rule)
		rules[e.Rule] = e.Applied
	}
	for _, r := range []string{"R1.never_free", "R1.statutory_return", "R1.statutory_exchange", "R1.third_failure",
		"R2.manufacturer_warranty", "R2.key_part", "R2.price_list", "R2.lower_of_list_and_card", "R3.software_tuning", "R2.maintenance", "R9.delivery_damage",
		"R4.extended_warranty", "R5.accidental_damage", "R6.swap_for_repair", "R7.no_reason_repair", "R7.compensation",
		"R8.late_arrival", "R8.repeat_visit", "R8.repeat_fault", "R8.price_list", "R8.licence", "R8.conduct",
		"R9.no_reason_return", "R9.freight", "selection"} {
		_, ok := rules[r]
		require.True(t, ok, "trace lacks %s", r)
	}
	require.True(t, rules["R4.extended_warranty"])
	require.False(t, rules["R2.manufacturer_warranty"])
}

// TestFirstUsableContractOfAKindWins: an expired contract before an active
// one of the same kind is skipped, and both appear in the trace.
func TestFirstUsableContractOfAKindWins(t *testing.T) {
	t.Parallel()
	old := extended(CategoryWasher)
	old.ID, old.State = "ctr_old", StateExpired
	in := withContracts(input(CategoryWasher, 300000, CauseDust, "2027-05-01"), old, extended(CategoryWasher))
	d, err := Decide(in)
	require.NoError(t, err)
	require.Equal(t, "ctr_ext", d.ContractID)
	n := 0
	for _, e := range d.Trace {
		if e.Rule == "R4.extended_warranty" {
			n++
		}
	}
	require.Equal(t, 2, n)
}

func TestDecideRejectsBadInput(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		name string
		mod  func(*Input)
		loc  string
	}{
		{"DateBeforePurchase", func(in *Input) { in.Date = day("2026-02-28") }, "date"},
		{"MissingDate", func(in *Input) { in.Date = time.Time{} }, "date"},
		{"InstalledBeforePurchase", func(in *Input) { d := day("2026-02-01"); in.Unit.InstalledOn = &d }, "unit.installed_on"},
		{"QuoteInAnotherCurrency", func(in *Input) { in.Quote.Lines[1].Amount.Currency = "USD" }, "quote.lines[1].amount.currency"},
		{"NegativeLine", func(in *Input) { in.Quote.Lines[2].Amount.Amount = -1 }, "quote.lines[2].amount.amount"},
		{"UnknownCause", func(in *Input) { in.Fault.Cause = "gremlins" }, "fault.cause"},
		{"UnknownRemedy", func(in *Input) { in.RequestedRemedy = "refund" }, "requested_remedy"},
		{"CardInAnotherCurrency", func(in *Input) { in.WarrantyCardCharge = &tenants.Money{Amount: 1, Currency: "EUR"} }, "warranty_card_charge.currency"},
		{"ContractEndsBeforeStart", func(in *Input) {
			c := extended(CategoryWasher)
			c.EndsOn = c.StartsOn.AddDate(0, 0, -1)
			in.Contracts = []Contract{c}
		}, "contracts[0].ends_on"},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			in := input(CategoryWasher, 300000, CausePerformance, "2026-06-01")
			c.mod(&in)
			_, err := Decide(in)
			require.Error(t, err)
			var te *tenants.Error
			require.ErrorAs(t, err, &te)
			require.Equal(t, tenants.CodeInvalid, te.Code)
			locs := []string{}
			for _, f := range te.Fields {
				locs = append(locs, f.Location)
			}
			require.Contains(t, locs, c.loc)
		})
	}
}

func BenchmarkDecide(b *testing.B) {
	// A representative decision: a washer out of warranty with two
	// contracts, a history of three repairs, a three-line quote and a
	// warranty card, decided under the extended warranty.
	in := withContracts(input(CategoryWasher, 300000, CauseMoisture, "2027-05-03"),
		contract("ctr_acc", KindAccidentalDamage, CategoryWasher, 12, PlanTerms{}),
		extended(CategoryWasher))
	in.Unit.KeyPartWarrantyMonths = map[string]int{"motor": 120, "inverter_board": 36}
	in.History = []Repair{
		{On: day("2026-05-01"), Basis: BasisManufacturerWarranty, FaultCause: CausePerformance, Fixed: true},
		{On: day("2026-09-01"), Basis: BasisManufacturerWarranty, FaultCause: CausePerformance, Fixed: true},
		{On: day("2027-03-15"), Basis: BasisOutOfWarranty, Paid: true, FaultCause: CauseHuman, Fixed: true},
	}
	in.WarrantyCardCharge = pcny(20000)
	b.ReportAllocs()
	for b.Loop() {
		d, err := Decide(in)
		if err != nil || d.Basis != BasisExtendedWarranty {
			b.Fatal(err, d.Basis)
		}
	}
}

// TestDecideInvariants decides every category x cause x remedy on dates
// across the windows with every kind of contract attached, and checks what
// must always hold: shares add up and are never negative, the selected
// remedy is an allowed one with the decision's basis, human damage and force
// majeure are charged in full, and only rule 7 owes compensation.
func TestDecideInvariants(t *testing.T) {
	t.Parallel()
	categories := []string{CategoryWasher, CategoryRefrigerator, CategoryAirConditioner, CategoryTV, CategoryWaterHeater,
		CategoryKitchen, CategorySmallAppliance, CategoryPhone, CategoryLaptop, CategoryCamera, CategoryTablet}
	dates := []string{"2026-03-01", "2026-03-07", "2026-03-08", "2026-03-15", "2026-03-16", "2026-03-30", "2026-03-31",
		"2026-06-09", "2026-06-10", "2027-02-28", "2027-03-01", "2027-03-31", "2028-06-01", "2029-03-01"}
	remedies := []RemedyKind{RemedyNone, RemedyRepair, RemedyExchange, RemedyReturn, RemedySwap}
	n := 0
	for _, cat := range categories {
		contracts := []Contract{
			contract("ctr_ext", KindExtendedWarranty, cat, 24, PlanTerms{NoVisitFeeForLargeAppliances: true}),
			contract("ctr_acc", KindAccidentalDamage, cat, 12, PlanTerms{DepreciationPercent: 20}),
			contract("ctr_swap", KindSwapForRepair, cat, 12, PlanTerms{DepreciationCapPercent: 39}),
			contract("ctr_nr", KindNoReasonRepair, cat, 12, PlanTerms{FlatFee: pcny(5000)}),
		}
		for _, cause := range Causes {
			for _, on := range dates {
				for _, r := range remedies {
					for _, repairable := range []bool{true, false} {
						in := withContracts(input(cat, 300000, cause, on), contracts...)
						in.Unit.KeyPartWarrantyMonths = map[string]int{"compressor": 60}
						in.Fault.PartCategories = []string{"compressor"}
						in.RequestedRemedy = r
						in.Fault.Repairable = repairable
						d, err := Decide(in)
						require.NoError(t, err)
						n++
						name := cat + "/" + string(cause) + "/" + on + "/" + string(r)
						var list, cust int64
						for _, l := range d.Lines {
							require.GreaterOrEqual(t, l.CustomerPays.Amount, int64(0), name)
							require.GreaterOrEqual(t, l.BrandPays.Amount, int64(0), name)
							require.GreaterOrEqual(t, l.PlanPays.Amount, int64(0), name)
							require.Equal(t, l.ListAmount.Amount, l.CustomerPays.Amount+l.BrandPays.Amount+l.PlanPays.Amount, name)
							list += l.ListAmount.Amount
							cust += l.CustomerPays.Amount
						}
						if d.Remedy == RemedyNone {
							require.Empty(t, d.Lines, name)
						} else {
							found := false
							for _, rm := range d.Remedies {
								if rm.Kind == d.Remedy {
									found = true
									require.Equal(t, rm.Basis, d.Basis, name)
								}
							}
							require.True(t, found, name)
						}
						if cause.NeverFree() {
							require.Contains(t, []Basis{BasisNotCovered, BasisOutOfWarranty}, d.Basis, name)
							require.Equal(t, list, cust, name)
							require.Equal(t, int64(0), d.Totals.Plan.Amount, name)
						}
						if d.Compensation != nil {
							require.Equal(t, BasisNoReasonRepair, d.Basis, name)
							require.Equal(t, RemedyRepair, d.Remedy, name)
						}
						require.NotEmpty(t, d.Trace, name)
					}
				}
			}
		}
	}
	require.Equal(t, 11*len(Causes)*14*5*2, n)
}
