package entitlement

import (
	"math/bits"
	"strconv"
	"time"

	"github.com/servicenet/servicenet/internal/i18n"
	"github.com/servicenet/servicenet/tenants"
)

// Seed defaults used when a plan's terms leave a value zero.
const (
	defaultAccidentalDiscount = 50    // rule 5: at least 50% off
	defaultNoReasonDiscount   = 80    // rule 7: 80% off accidental damage
	defaultTabletCapPercent   = 39    // rule 6: at most 39% of the purchase price
	defaultCompensation       = 10000 // rule 7: 100 CNY (SeedCurrency)
	defaultPayoutDays         = 5     // rule 7: within 5 business days
	repeatMonths              = 12    // rule 8: a year after a paid repair
	repeatMonthsWasher        = 24    // rule 8: two years for washers
	lateApologyMinutes        = 15    // rule 8: late up to 15 minutes: apology
)

// SeedSwapFlatFee is rule 6's fee for a kitchen or small appliance's new
// unit (以换代修: 消费者支付30元手续费), 30 CNY (SeedCurrency): a plan's
// default, and the most a plan may charge (warranty.NewPlan).
const SeedSwapFlatFee = 3000

// SeedCurrency is the currency of the seed's fixed amounts: rule 6's 30 CNY
// flat fee and rule 7's 100 CNY compensation. A tenant keeps every amount
// in its one currency and configures no exchange rate, so the engine has
// no honest way to turn them into another currency: a unit bought in
// another currency gets neither default (its plan's own amount applies, or
// a person decides), never 30.00 or 100.00 of its own currency.
const SeedCurrency = "CNY"

// Default depreciation schedules for plans that must charge a depreciation
// fee (rules 5 and 7) but carry no schedule of their own, because they were
// created before plans had to: the demo plans' schedules
// (tenants/warranty/demo.go). The seeds name the fee ("折旧费", a "small"
// one for the no-reason plan) but not its size.
var (
	DefaultAccidentalSchedule = []DepreciationStep{{UpToMonth: 3, Percent: 20}, {UpToMonth: 6, Percent: 30}, {UpToMonth: 9, Percent: 40}, {UpToMonth: 12, Percent: 50}}
	DefaultNoReasonSchedule   = []DepreciationStep{{UpToMonth: 3, Percent: 5}, {UpToMonth: 6, Percent: 10}, {UpToMonth: 9, Percent: 15}, {UpToMonth: 12, Percent: 20}}
)

// Decide decides what the customer is entitled to. It is pure: everything it
// depends on is in the input. It returns a *tenants.Error (invalid) naming
// every bad field when the input cannot be decided on (see check).
func Decide(in Input) (Decision, error) {
	if err := check(&in); err != nil {
		return Decision{}, err
	}
	var d Decision
	e := engine{in: &in, d: &d}
	e.run()
	return d, nil
}

// pricer says how a repair's quote lines are split under a basis.
type pricer struct {
	payer           string // brand or plan: who pays the covered share
	share           int    // percent of each line covered (100: free)
	visitToCustomer bool   // the visit line is the customer's (extended warranty, not large)
	keyPart         bool   // only part lines of key parts in term are covered
	chargeable      bool   // the price list applies; the warranty card caps it
}

type offer struct {
	Remedy
	price    pricer
	consumes bool
	contract *Contract
}

type engine struct {
	in          *Input
	d           *Decision
	cur         string
	date        time.Time
	purchase    time.Time
	day         int
	warrantyEnd time.Time
	inWarranty  bool
	cause       Cause
	fault       bool // a fault to remedy (not a change of mind)
	quoteTotal  int64
	offers      [12]offer
	n           int
}

// tracem traces with the reason from the catalog: code with params as name,
// value pairs (Reason keeps its English text).
func (e *engine) tracem(rule string, applied bool, code string, kv ...any) {
	e.traceMsg(rule, applied, i18n.M(code, kv...))
}

func (e *engine) traceMsg(rule string, applied bool, m i18n.Message) {
	e.d.Trace = append(e.d.Trace, TraceEntry{Rule: rule, Applied: applied, Reason: m.Render(i18n.English), ReasonI18n: &m})
}

func (e *engine) m(amount int64) tenants.Money { return tenants.Money{Amount: amount, Currency: e.cur} }

func (e *engine) mp(amount int64) *tenants.Money {
	m := e.m(amount)
	return &m
}

// offer adds a remedy unless one of the same kind is already offered (the
// earlier one has precedence).
func (e *engine) offer(o offer) { e.offerOver(o, "") }

// offerOver is offer, except that an offer of the same kind on basis over
// gives way to o (over "": none does).
func (e *engine) offerOver(o offer, over Basis) {
	if o.NoteI18n != nil {
		o.Note = o.NoteI18n.Render(i18n.English)
	}
	for i := 0; i < e.n; i++ {
		if e.offers[i].Kind == o.Kind {
			if over != "" && e.offers[i].Basis == over {
				e.offers[i] = o
			}
			return
		}
	}
	if e.n < len(e.offers) {
		e.offers[e.n] = o
		e.n++
	}
}

func (e *engine) hasRepairOffer() bool {
	for i := 0; i < e.n; i++ {
		if e.offers[i].Kind == RemedyRepair {
			return true
		}
	}
	return false
}

func date(t time.Time) string { return t.Format(time.DateOnly) }

func (e *engine) run() {
	in := e.in
	d := e.d
	e.cur = in.Unit.PurchasePrice.Currency
	e.date = civil(in.Date)
	e.purchase = civil(in.Unit.PurchaseDate)
	e.day = DayOf(e.purchase, e.date)
	e.warrantyEnd = TermEnd(e.purchase, in.Unit.WarrantyMonths)
	e.inWarranty = in.Unit.WarrantyMonths > 0 && !e.date.After(e.warrantyEnd)
	e.cause = in.Fault.Cause
	e.fault = !in.Fault.ChangeOfMind
	for i := range in.Quote.Lines {
		e.quoteTotal += in.Quote.Lines[i].Amount.Amount
	}
	d.Trace = make([]TraceEntry, 0, 24)

	e.neverFree()
	e.noReasonReturn()
	e.deliveryDamage()
	e.statutory()
	e.thirdFailure()
	e.manufacturer()
	e.tuning()
	e.maintenance()
	e.plans()
	e.keyPart()
	e.fallback()
	sel := e.selectRemedy()
	e.price(sel)
	e.cardCap(sel)
	e.promises(sel)
	e.compensation(sel)
	e.freight(sel)
	e.totals()
}

// R1: human damage and force majeure are never free.
func (e *engine) neverFree() {
	if e.fault && e.cause.NeverFree() {
		e.tracem("R1.never_free", true, "entitlement.never_free", "Cause", string(e.cause))
		return
	}
	e.tracem("R1.never_free", false, "entitlement.not_never_free")
}

// R9: seven-day no-reason return or exchange (七天无理由退换货) for
// storefront sales, the seven days counted from the day after receipt (the
// purchase date): its seventh day after is the last (DaysAfter).
func (e *engine) noReasonReturn() {
	const rule = "R9.no_reason_return"
	f := &e.in.Fault
	received := e.purchase
	if s := e.in.Unit.SaleDate; s != nil {
		received = civil(*s) // a replacement: from the sale, not the swap
	}
	day := DaysAfter(received, e.date)
	switch {
	case !f.ChangeOfMind:
		e.tracem(rule, false, "entitlement.return_not_asked")
	case !e.in.Unit.SoldByStorefront:
		e.tracem(rule, false, "entitlement.return_not_storefront")
	case day > 7:
		e.tracem(rule, false, "entitlement.return_window_passed", "Day", day)
	case !f.Resaleable:
		e.tracem(rule, false, "entitlement.return_not_resaleable")
	default:
		// Seed: 七天无理由退换货: return or exchange, under the same
		// conditions; nothing is charged (the unit goes back fit for
		// resale) and the buyer pays the freight (freight).
		e.tracem(rule, true, "entitlement.return_allowed", "Day", day)
		e.offer(offer{Remedy: Remedy{Kind: RemedyReturn, Basis: BasisNoReasonReturn,
			NoteI18n: noteMsg("entitlement.note.r9_no_reason_return")}})
		e.offer(offer{Remedy: Remedy{Kind: RemedyExchange, Basis: BasisNoReasonReturn,
			NoteI18n: noteMsg("entitlement.note.r9_no_reason_exchange")}})
	}
}

// statutoryFault is a performance fault, or wrong or damaged goods.
func (e *engine) statutoryFault() bool {
	return e.fault && (e.cause == CausePerformance || e.cause == CauseDeliveryDamage || e.in.Fault.WrongOrDamagedOnDelivery)
}

// deliveryDamage: a unit damaged at delivery or installation (packaging,
// transit) is exchanged at the seller's cost, whatever the day: the damage
// was never the customer's (seeds: 运输/包装损坏, wrong or damaged goods;
// rule 9: the seller pays the freight). It is not a repair.
func (e *engine) deliveryDamage() {
	const rule = "R9.delivery_damage"
	if !e.fault || e.cause != CauseDeliveryDamage {
		e.tracem(rule, false, "entitlement.not_delivery_damage")
		return
	}
	e.tracem(rule, true, "entitlement.delivery_damage", "Day", e.day)
	e.offer(offer{Remedy: Remedy{Kind: RemedyExchange, Basis: BasisDeliveryDamage,
		NoteI18n: noteMsg("entitlement.note.r9_delivery_damage")}, price: pricer{payer: PayerBrand, share: 100}})
}

// R2/R3: maintenance and cleaning (cause no_fault) are services without a
// fault: no warranty or statutory right covers them; an active plan whose
// terms cover maintenance pays them in full; else the price list does. An
// installation (a no-fault service too) is neither maintenance nor
// cleaning: no plan's maintenance cover pays it, the price list does.
func (e *engine) maintenance() {
	const rule = "R2.maintenance"
	if !e.fault || e.cause != CauseNoFault {
		e.tracem(rule, false, "entitlement.not_no_fault_service")
		return
	}
	if e.in.Quote.ServiceKind == ServiceInstall {
		e.tracem(rule, false, "entitlement.installation_not_maintenance")
		return
	}
	for i := range e.in.Contracts {
		c := &e.in.Contracts[i]
		switch {
		case !c.Terms.CoversMaintenance:
			continue
		case c.State != StateActive:
			e.tracem(rule, false, "entitlement.maintenance_contract_state", "Contract", c.ID, "State", c.State)
			continue
		case e.date.Before(civil(c.StartsOn)) || e.date.After(civil(c.EndsOn)):
			e.tracem(rule, false, "entitlement.maintenance_contract_dates", "Contract", c.ID, "From", date(c.StartsOn), "To", date(c.EndsOn), "On", date(e.date))
			continue
		case !eligible(&c.Terms, e.in.Unit.Category):
			e.tracem(rule, false, "entitlement.contract_category", "Contract", c.ID, "Category", e.in.Unit.Category)
			continue
		}
		e.tracem(rule, true, "entitlement.maintenance_covered", "Contract", c.ID, "From", date(c.StartsOn), "To", date(c.EndsOn))
		e.offer(offer{Remedy: Remedy{Kind: RemedyRepair, Basis: BasisMaintenancePlan, ContractID: c.ID, NoteI18n: noteMsg("entitlement.note.r2_maintenance")},
			price: pricer{payer: PayerPlan, share: 100}, contract: c})
		return
	}
	e.tracem(rule, false, "entitlement.maintenance_charged")
}

func (e *engine) faultWord() i18n.Message {
	if (e.in.Fault.WrongOrDamagedOnDelivery || e.cause == CauseDeliveryDamage) && e.cause != CausePerformance {
		return i18n.M("entitlement.fault.wrong_or_damaged")
	}
	return i18n.M("entitlement.fault.performance")
}

// R1: statutory return (day 1-7) and exchange (day 1-15).
func (e *engine) statutory() {
	brand := pricer{payer: PayerBrand, share: 100}
	switch {
	case !e.statutoryFault():
		why := i18n.M("entitlement.statutory_other_cause", "Cause", string(e.cause))
		if !e.fault {
			why = i18n.M("entitlement.change_of_mind")
		}
		e.traceMsg("R1.statutory_return", false, why)
		e.traceMsg("R1.statutory_exchange", false, why)
	case e.day <= 7:
		w := e.faultWord()
		e.tracem("R1.statutory_return", true, "entitlement.statutory_return", "Fault", w, "Day", e.day)
		e.tracem("R1.statutory_exchange", true, "entitlement.statutory_exchange_also", "Fault", w, "Day", e.day)
		e.offer(offer{Remedy: Remedy{Kind: RemedyReturn, Basis: BasisStatutoryReturn, NoteI18n: noteMsg("entitlement.note.r1_return")}, price: brand})
		e.offer(offer{Remedy: Remedy{Kind: RemedyExchange, Basis: BasisStatutoryExchange, NoteI18n: noteMsg("entitlement.note.r1_exchange")}, price: brand})
		if e.in.Fault.Repairable && e.cause == CausePerformance {
			e.offer(offer{Remedy: Remedy{Kind: RemedyRepair, Basis: BasisStatutoryReturn, NoteI18n: noteMsg("entitlement.note.free_repair")}, price: brand})
		}
	case e.day <= 15:
		w := e.faultWord()
		e.tracem("R1.statutory_return", false, "entitlement.statutory_return_passed", "Day", e.day)
		e.tracem("R1.statutory_exchange", true, "entitlement.statutory_exchange", "Fault", w, "Day", e.day)
		e.offer(offer{Remedy: Remedy{Kind: RemedyExchange, Basis: BasisStatutoryExchange, NoteI18n: noteMsg("entitlement.note.r1_exchange")}, price: brand})
		if e.in.Fault.Repairable && e.cause == CausePerformance {
			e.offer(offer{Remedy: Remedy{Kind: RemedyRepair, Basis: BasisStatutoryExchange, NoteI18n: noteMsg("entitlement.note.free_repair")}, price: brand})
		}
	default:
		e.tracem("R1.statutory_return", false, "entitlement.statutory_return_passed", "Day", e.day)
		e.tracem("R1.statutory_exchange", false, "entitlement.statutory_exchange_passed", "Day", e.day)
	}
}

// sameFault: an earlier repair concerns the same parts, or either side does
// not name parts.
func sameFault(a, b []string) bool {
	if len(a) == 0 || len(b) == 0 {
		return true
	}
	for _, x := range a {
		for _, y := range b {
			if x == y {
				return true
			}
		}
	}
	return false
}

// R1: repaired twice within the warranty and still failing: exchange or
// return, free.
func (e *engine) thirdFailure() {
	const rule = "R1.third_failure"
	if !e.fault || e.cause != CausePerformance {
		e.tracem(rule, false, "entitlement.not_performance_fault")
		return
	}
	if !e.inWarranty {
		e.tracem(rule, false, "entitlement.warranty_ended", "End", date(e.warrantyEnd))
		return
	}
	n := 0
	for i := range e.in.History {
		r := &e.in.History[i]
		on := civil(r.On)
		if r.Paid || r.FaultCause != CausePerformance || on.After(e.warrantyEnd) || on.Before(e.purchase) || on.After(e.date) {
			continue
		}
		if sameFault(r.PartCategories, e.in.Fault.PartCategories) {
			n++
		}
	}
	if n < 2 {
		e.tracem(rule, false, "entitlement.third_failure_not_yet", "Repairs", n)
		return
	}
	e.tracem(rule, true, "entitlement.third_failure", "Repairs", n)
	brand := pricer{payer: PayerBrand, share: 100}
	e.offer(offer{Remedy: Remedy{Kind: RemedyExchange, Basis: BasisStatutoryExchange, NoteI18n: noteMsg("entitlement.note.r1_third_failure_exchange")}, price: brand})
	e.offer(offer{Remedy: Remedy{Kind: RemedyReturn, Basis: BasisStatutoryReturn, NoteI18n: noteMsg("entitlement.note.r1_third_failure_return")}, price: brand})
}

// R2: the manufacturer warranty (whole unit) from the purchase date; a
// warranty promotion of the unit's purchase date gives its longer term.
func (e *engine) manufacturer() {
	const rule = "R2.manufacturer_warranty"
	if p := e.in.Unit.WarrantyPromotion; p != "" {
		e.tracem("R2.warranty_promotion", true, "entitlement.warranty_promotion", "Promotion", p,
			"Purchased", date(e.purchase), "Months", e.in.Unit.WarrantyMonths, "End", date(e.warrantyEnd))
	}
	switch {
	case !e.fault:
		e.tracem(rule, false, "entitlement.change_of_mind")
	case e.cause != CausePerformance:
		e.tracem(rule, false, "entitlement.manufacturer_not_cause", "Cause", string(e.cause))
	case !e.inWarranty:
		e.tracem(rule, false, "entitlement.manufacturer_ended", "Months", e.in.Unit.WarrantyMonths, "End", date(e.warrantyEnd))
	default:
		e.tracem(rule, true, "entitlement.manufacturer_covered", "End", date(e.warrantyEnd))
		brand := pricer{payer: PayerBrand, share: 100}
		if e.in.Fault.Repairable {
			e.offer(offer{Remedy: Remedy{Kind: RemedyRepair, Basis: BasisManufacturerWarranty, NoteI18n: noteMsg("entitlement.note.r2_warranty_repair")}, price: brand})
		} else {
			e.offer(offer{Remedy: Remedy{Kind: RemedyExchange, Basis: BasisManufacturerWarranty, NoteI18n: noteMsg("entitlement.note.r2_warranty_exchange")}, price: brand})
		}
	}
}

// keyPartCovered: category is a key part whose own term covers the date.
func (e *engine) keyPartCovered(category string) bool {
	if category == "" {
		return false
	}
	m, ok := e.in.Unit.KeyPartWarrantyMonths[category]
	return ok && m > 0 && !e.date.After(TermEnd(e.purchase, m))
}

// R2: key parts' longer terms after the whole unit's warranty: the key part
// is free, labor and visit follow the price list.
func (e *engine) keyPart() {
	const rule = "R2.key_part"
	switch {
	case !e.fault || e.cause != CausePerformance:
		e.tracem(rule, false, "entitlement.not_performance_fault")
		return
	case e.inWarranty:
		e.tracem(rule, false, "entitlement.key_part_whole_unit")
		return
	case len(e.in.Unit.KeyPartWarrantyMonths) == 0:
		e.tracem(rule, false, "entitlement.key_part_none")
		return
	}
	covered := ""
	for _, c := range e.in.Fault.PartCategories {
		if e.keyPartCovered(c) {
			covered = c
			break
		}
	}
	if covered == "" {
		for i := range e.in.Quote.Lines {
			if l := &e.in.Quote.Lines[i]; l.Kind == LinePart && e.keyPartCovered(l.PartCategory) {
				covered = l.PartCategory
				break
			}
		}
	}
	if covered == "" {
		e.tracem(rule, false, "entitlement.key_part_expired")
		return
	}
	m := e.in.Unit.KeyPartWarrantyMonths[covered]
	e.tracem(rule, true, "entitlement.key_part_covered", "Part", covered, "Months", m, "End", date(TermEnd(e.purchase, m)))
	if e.in.Fault.Repairable {
		e.offer(offer{Remedy: Remedy{Kind: RemedyRepair, Basis: BasisKeyPartWarranty, NoteI18n: noteMsg("entitlement.note.r2_key_part")},
			price: pricer{payer: PayerBrand, keyPart: true, chargeable: true}})
	}
}

// R3: software tuning after installation.
func (e *engine) tuning() {
	const rule = "R3.software_tuning"
	if !e.fault || e.cause != CauseSoftware {
		e.tracem(rule, false, "entitlement.not_tuning")
		return
	}
	inst := e.purchase
	if e.in.Unit.InstalledOn != nil {
		inst = civil(*e.in.Unit.InstalledOn)
	}
	brand := pricer{payer: PayerBrand, share: 100}
	switch {
	case e.date.Before(inst):
		e.tracem(rule, false, "entitlement.tuning_not_installed", "Installed", date(inst))
	case !e.date.After(TermEnd(inst, 1)):
		e.tracem(rule, true, "entitlement.tuning_free", "Installed", date(inst))
		e.offer(offer{Remedy: Remedy{Kind: RemedyRepair, Basis: BasisInstallationTuning, NoteI18n: noteMsg("entitlement.note.r3_tuning_free")}, price: brand})
	case !e.date.After(TermEnd(inst, 3)):
		e.tracem(rule, true, "entitlement.tuning_grace", "Installed", date(inst))
		e.offer(offer{Remedy: Remedy{Kind: RemedyRepair, Basis: BasisInstallationTuning, NoteI18n: noteMsg("entitlement.note.r3_tuning_until_charged")}, price: brand})
	default:
		e.tracem(rule, false, "entitlement.tuning_charged", "Installed", date(inst))
	}
}

func eligible(t *PlanTerms, category string, defaults ...string) bool {
	list := t.EligibleCategories
	if len(list) == 0 {
		list = defaults
		if len(list) == 0 {
			return true
		}
	}
	for _, c := range list {
		if c == category {
			return true
		}
	}
	return false
}

func excluded(t *PlanTerms, c Cause) bool {
	for _, x := range t.Exclusions {
		if x == c {
			return true
		}
	}
	return false
}

func kindRule(kind string) string {
	switch kind {
	case KindExtendedWarranty:
		return "R4.extended_warranty"
	case KindAccidentalDamage:
		return "R5.accidental_damage"
	case KindSwapForRepair:
		return "R6.swap_for_repair"
	default:
		return "R7.no_reason_repair"
	}
}

// usable checks what every plan needs: active, dated, eligible category, a
// cause the plan does not exclude and not one that is never free; why is
// the trace line when it is not.
func (e *engine) usable(c *Contract, defaults ...string) (ok bool, why i18n.Message) {
	switch {
	case c.State != StateActive:
		return false, i18n.M("entitlement.r4r7.contract_state", "Contract", c.ID, "State", c.State)
	case e.date.Before(civil(c.StartsOn)):
		return false, i18n.M("entitlement.r4r7.contract_not_started", "Contract", c.ID, "From", date(c.StartsOn))
	case e.date.After(civil(c.EndsOn)):
		return false, i18n.M("entitlement.r4r7.contract_ended", "Contract", c.ID, "To", date(c.EndsOn))
	case !eligible(&c.Terms, e.in.Unit.Category, defaults...):
		return false, i18n.M("entitlement.contract_category", "Contract", c.ID, "Category", e.in.Unit.Category)
	case !e.fault:
		return false, i18n.M("entitlement.change_of_mind")
	case e.cause.NeverFree():
		return false, i18n.M("entitlement.r4r7.never_covers", "Contract", c.ID, "Cause", string(e.cause))
	case e.cause == CauseNoFault || e.cause == CauseDeliveryDamage:
		return false, i18n.M("entitlement.r4r7.faults_only", "Contract", c.ID, "Cause", string(e.cause))
	case excluded(&c.Terms, e.cause):
		return false, i18n.M("entitlement.r4r7.excluded", "Contract", c.ID, "Cause", string(e.cause))
	}
	return true, i18n.Message{}
}

// swapFee is a plan's replacement fee: the flat fee, else the depreciation
// schedule's percent for the unit's month of ownership, else the
// depreciation percent of the purchase price, else the cap; a plan whose
// rules require a depreciation fee but carries none of these (made before
// schedules were required) gets the seed default schedule of its kind
// (fallback); never above the cap. why says how the fee was found and what
// it is (entitlement.r4r7.swap_fee, its basis an entitlement.r4r7.fee_*
// message).
//
// ok is false when the fee would be flatDefault (a CNY amount, rule 6) on a
// purchase in another currency (SeedCurrency): there is no fee to give, and
// why says so.
func (e *engine) swapFee(t *PlanTerms, flatDefault int64, capDefault int, fallback []DepreciationStep) (fee int64, why i18n.Message, ok bool) {
	price := e.in.Unit.PurchasePrice.Amount
	capPct := t.DepreciationCapPercent
	if capPct == 0 || (capDefault > 0 && capPct > capDefault) {
		capPct = capDefault // the seed's ceiling (tablets: at most 39%) holds whatever the terms say
	}
	// The cap is a ceiling ("at most"): rounded down, never half up above it.
	capAmount := price * int64(capPct) / 100
	scheduled := func(steps []DepreciationStep, code string) (int64, i18n.Message) {
		month := MonthOf(e.purchase, e.date)
		pct := scheduleStep(steps, month).Percent
		return percent(price, pct), i18n.M(code, "Percent", pct, "Price", minor(price), "Month", month)
	}
	switch {
	case t.FlatFee != nil:
		fee, why = t.FlatFee.Amount, i18n.M("entitlement.r4r7.fee_flat")
	case len(t.DepreciationSchedule) > 0:
		fee, why = scheduled(t.DepreciationSchedule, "entitlement.r4r7.fee_schedule")
	case t.DepreciationPercent > 0:
		fee, why = percent(price, t.DepreciationPercent), i18n.M("entitlement.r4r7.fee_percent", "Percent", t.DepreciationPercent, "Price", minor(price))
	case capPct > 0:
		fee, why = capAmount, i18n.M("entitlement.r4r7.fee_cap", "Percent", capPct, "Price", minor(price))
	case len(fallback) > 0:
		fee, why = scheduled(fallback, "entitlement.r4r7.fee_default_schedule")
	case e.cur != SeedCurrency:
		return 0, i18n.M("entitlement.r4r7.default_fee_currency", "Fee", minor(flatDefault), "Currency", e.cur), false
	default:
		fee, why = flatDefault, i18n.M("entitlement.r4r7.fee_flat")
	}
	if capPct > 0 && fee > capAmount {
		fee, why = capAmount, i18n.M("entitlement.r4r7.fee_capped", "Percent", capPct, "Price", minor(price))
	}
	return fee, i18n.M("entitlement.r4r7.swap_fee", "Basis", why, "Fee", minor(fee)), true
}

// SwapFee is the fee a plan of kind with terms charges for swapping a unit
// of category bought on purchase for price, on date on, and how it was
// found: exactly what Decide puts on the plan's swap remedy (an extended
// warranty's replacement is free). The swap approval prices its fee here.
// ok is false when no fee can be given: the plan sets none and the seed's
// default is a CNY amount while the purchase is in another currency (a
// person sets the fee; why says so).
func SwapFee(kind string, terms PlanTerms, category string, price tenants.Money, purchase, on time.Time) (fee int64, why string, ok bool) {
	fee, m, ok := SwapFeeMessage(kind, terms, category, price, purchase, on)
	return fee, m.Render(i18n.English), ok
}

// SwapFeeMessage is SwapFee with the how as a catalog message.
func SwapFeeMessage(kind string, terms PlanTerms, category string, price tenants.Money, purchase, on time.Time) (int64, i18n.Message, bool) {
	in := Input{Unit: Unit{Category: category, PurchaseDate: purchase, PurchasePrice: price}, Date: on}
	e := engine{in: &in, d: &Decision{}, cur: price.Currency, date: civil(on), purchase: civil(purchase)}
	switch kind {
	case KindAccidentalDamage:
		return e.swapFee(&terms, 0, 0, DefaultAccidentalSchedule)
	case KindNoReasonRepair:
		return e.swapFee(&terms, 0, 0, DefaultNoReasonSchedule)
	case KindSwapForRepair:
		if category == CategoryTablet {
			return e.swapFee(&terms, 0, defaultTabletCapPercent, nil)
		}
		return e.swapFee(&terms, SeedSwapFlatFee, 0, nil)
	}
	return 0, i18n.M("entitlement.r4r7.free_replacement"), true
}

// scheduleStep is the step of steps (ordered by UpToMonth) that prices a
// swap in month of ownership: the first reaching it, else the last.
func scheduleStep(steps []DepreciationStep, month int) DepreciationStep {
	for _, s := range steps {
		if month <= s.UpToMonth {
			return s
		}
	}
	return steps[len(steps)-1]
}

// R4-R7: the plans, kind by kind in rule order (extended, accidental, swap,
// no-reason), each kind's contracts in input order; the first usable
// contract offering a remedy kind wins.
func (e *engine) plans() {
	for _, k := range [4]string{KindExtendedWarranty, KindAccidentalDamage, KindSwapForRepair, KindNoReasonRepair} {
		seen := false
		for i := range e.in.Contracts {
			c := &e.in.Contracts[i]
			if c.Kind != k {
				continue
			}
			seen = true
			switch k {
			case KindExtendedWarranty:
				e.extended(c)
			case KindAccidentalDamage:
				e.accidental(c)
			case KindSwapForRepair:
				e.swapPlan(c)
			case KindNoReasonRepair:
				e.noReason(c)
			}
		}
		if !seen {
			e.tracem(kindRule(k), false, "entitlement.r4r7.no_contract", "Kind", i18n.M("entitlement.r4r7.kind."+k))
		}
	}
}

// R4: extended warranty: performance and environmental faults free; the
// visit is free for large appliances.
func (e *engine) extended(c *Contract) {
	const rule = "R4.extended_warranty"
	if ok, why := e.usable(c); !ok {
		e.traceMsg(rule, false, why)
		return
	}
	if !PlanCoversCause(KindExtendedWarranty, e.cause) {
		e.tracem(rule, false, "entitlement.r4.not_cause", "Contract", c.ID, "Cause", string(e.cause))
		return
	}
	visitToCustomer := !(c.Terms.NoVisitFeeForLargeAppliances && LargeAppliance(e.in.Unit.Category))
	note, code := noteMsg("entitlement.note.r4_repair_no_visit_fee"), "entitlement.r4.covered_no_visit_fee"
	if visitToCustomer {
		note, code = noteMsg("entitlement.note.r4_repair_visit_customer"), "entitlement.r4.covered"
	}
	e.tracem(rule, true, code, "Cause", string(e.cause), "Contract", c.ID, "From", date(c.StartsOn), "To", date(c.EndsOn))
	if e.in.Fault.Repairable {
		e.offer(offer{Remedy: Remedy{Kind: RemedyRepair, Basis: BasisExtendedWarranty, ContractID: c.ID, NoteI18n: note},
			price: pricer{payer: PayerPlan, share: 100, visitToCustomer: visitToCustomer}, contract: c})
	} else {
		e.offer(offer{Remedy: Remedy{Kind: RemedySwap, Basis: BasisExtendedWarranty, ContractID: c.ID, Fee: e.mp(0),
			MaxReplacementPrice: e.mp(e.in.Unit.PurchasePrice.Amount), NoteI18n: noteMsg("entitlement.note.r4_replacement")},
			price: pricer{payer: PayerPlan, share: 100}, contract: c})
	}
}

// R5: accidental-damage plan for phones, laptops and cameras.
func (e *engine) accidental(c *Contract) {
	const rule = "R5.accidental_damage"
	if ok, why := e.usable(c, CategoryPhone, CategoryLaptop, CategoryCamera); !ok {
		e.traceMsg(rule, false, why)
		return
	}
	if !PlanCoversCause(KindAccidentalDamage, e.cause) {
		e.tracem(rule, false, "entitlement.r5.not_cause", "Contract", c.ID, "Cause", string(e.cause))
		return
	}
	if !e.in.Fault.Repairable {
		fee, why, _ := e.swapFee(&c.Terms, 0, 0, DefaultAccidentalSchedule) // a schedule: always a fee
		e.tracem(rule, true, "entitlement.r5.swap", "Contract", c.ID, "Fee", why)
		e.offer(offer{Remedy: Remedy{Kind: RemedySwap, Basis: BasisAccidentalDamage, ContractID: c.ID, Fee: e.mp(fee),
			MaxReplacementPrice: e.mp(e.in.Unit.PurchasePrice.Amount),
			NoteI18n:            noteMsg("entitlement.note.r5_swap")},
			price: pricer{payer: PayerPlan}, consumes: true, contract: c})
		return
	}
	pct := c.Terms.DiscountPercent
	if pct < defaultAccidentalDiscount {
		pct = defaultAccidentalDiscount
	}
	e.tracem(rule, true, "entitlement.r5.discount", "Contract", c.ID, "From", date(c.StartsOn), "To", date(c.EndsOn), "Percent", pct)
	e.offer(offer{Remedy: Remedy{Kind: RemedyRepair, Basis: BasisAccidentalDamage, ContractID: c.ID, NoteI18n: noteMsg("entitlement.note.percent_off_repair", "Percent", pct)},
		price: pricer{payer: PayerPlan, share: pct}, contract: c})
}

// R6: swap-instead-of-repair plan: kitchen and small appliances for a flat
// fee, tablets for a capped depreciation fee.
func (e *engine) swapPlan(c *Contract) {
	const rule = "R6.swap_for_repair"
	if ok, why := e.usable(c, CategoryKitchen, CategorySmallAppliance, CategoryTablet); !ok {
		e.traceMsg(rule, false, why)
		return
	}
	if !PlanCoversCause(KindSwapForRepair, e.cause) {
		e.tracem(rule, false, "entitlement.r6.not_cause", "Contract", c.ID, "Cause", string(e.cause))
		return
	}
	var fee int64
	var why i18n.Message
	ok := true
	if e.in.Unit.Category == CategoryTablet {
		fee, why, ok = e.swapFee(&c.Terms, 0, defaultTabletCapPercent, nil)
	} else {
		fee, why, ok = e.swapFee(&c.Terms, SeedSwapFlatFee, 0, nil)
	}
	if !ok {
		// The plan sets no fee and the seed's 30 CNY is no amount in the
		// purchase's currency: no swap is offered for a made-up fee; a
		// person sets it (the swap approval routes it to the brand).
		e.tracem(rule, false, "entitlement.r6.default_fee_currency", "Contract", c.ID, "Fee", why)
		return
	}
	e.tracem(rule, true, "entitlement.r6.swap", "Contract", c.ID, "From", date(c.StartsOn), "To", date(c.EndsOn), "Fee", why)
	e.offer(offer{Remedy: Remedy{Kind: RemedySwap, Basis: BasisSwapForRepair, ContractID: c.ID, Fee: e.mp(fee),
		MaxReplacementPrice: e.mp(e.in.Unit.PurchasePrice.Amount),
		NoteI18n:            noteMsg("entitlement.note.r6_swap")},
		price: pricer{payer: PayerPlan}, contract: c})
}

// R7: no-reason repair plan for large appliances.
func (e *engine) noReason(c *Contract) {
	const rule = "R7.no_reason_repair"
	if ok, why := e.usable(c, CategoryRefrigerator, CategoryAirConditioner, CategoryWasher, CategoryTV); !ok {
		e.traceMsg(rule, false, why)
		return
	}
	if !PlanCoversCause(KindNoReasonRepair, e.cause) {
		e.tracem(rule, false, "entitlement.r7.not_cause", "Contract", c.ID, "Cause", string(e.cause))
		return
	}
	retail := e.in.Unit.RetailPrice.Amount
	if !e.in.Fault.Repairable || (retail > 0 && e.quoteTotal > retail) {
		fee, why, _ := e.swapFee(&c.Terms, 0, 0, DefaultNoReasonSchedule) // a schedule: always a fee
		if e.in.Fault.Repairable {
			e.tracem(rule, true, "entitlement.r7.swap_costly", "Contract", c.ID, "Repair", minor(e.quoteTotal), "Retail", minor(retail), "Fee", why)
		} else {
			e.tracem(rule, true, "entitlement.r7.swap_unrepairable", "Contract", c.ID, "Fee", why)
		}
		e.offer(offer{Remedy: Remedy{Kind: RemedySwap, Basis: BasisNoReasonRepair, ContractID: c.ID, Fee: e.mp(fee),
			MaxReplacementPrice: e.mp(e.in.Unit.PurchasePrice.Amount),
			NoteI18n:            noteMsg("entitlement.note.r7_swap")},
			price: pricer{payer: PayerPlan}, contract: c})
		return
	}
	if e.cause == CauseAccidental {
		pct := c.Terms.DiscountPercent
		if pct < defaultNoReasonDiscount {
			pct = defaultNoReasonDiscount // rule 7: 80% off, never less (as rule 5's 50)
		}
		e.tracem(rule, true, "entitlement.r7.discount", "Contract", c.ID, "From", date(c.StartsOn), "To", date(c.EndsOn), "Percent", pct)
		e.offer(offer{Remedy: Remedy{Kind: RemedyRepair, Basis: BasisNoReasonRepair, ContractID: c.ID, NoteI18n: noteMsg("entitlement.note.percent_off_repair", "Percent", pct)},
			price: pricer{payer: PayerPlan, share: pct}, contract: c})
		return
	}
	e.tracem(rule, true, "entitlement.r7.free", "Cause", string(e.cause), "Contract", c.ID, "From", date(c.StartsOn), "To", date(c.EndsOn))
	// An extended warranty in force the same day (the plan's year and the
	// extended warranty meet on the day after the manufacturer warranty
	// ends) repairs this fault free too (rule 4), but only the no-reason
	// plan's provider also owes the customer the satisfaction compensation
	// for it (seed 002: 前述两类故障发生时,服务商除修复产品故障外,还额外提供
	// 100元/次): the free repair is this plan's.
	e.offerOver(offer{Remedy: Remedy{Kind: RemedyRepair, Basis: BasisNoReasonRepair, ContractID: c.ID, NoteI18n: noteMsg("entitlement.note.free_repair")},
		price: pricer{payer: PayerPlan, share: 100}, contract: c}, BasisExtendedWarranty)
}

// fallback: no coverage for a repair: the price list applies.
func (e *engine) fallback() {
	const rule = "R2.price_list"
	switch {
	case !e.fault:
		e.tracem(rule, false, "entitlement.change_of_mind")
	case e.hasRepairOffer():
		e.tracem(rule, false, "entitlement.covered_repair_offered")
	case e.cause == CauseDeliveryDamage:
		e.tracem(rule, false, "entitlement.delivery_damage_not_charged")
	case !e.in.Fault.Repairable:
		e.tracem(rule, false, "entitlement.unrepairable_not_covered")
	default:
		e.tracem(rule, true, "entitlement.charged_by_price_list", "Version", e.in.Quote.PriceListVersion)
		e.offer(offer{Remedy: Remedy{Kind: RemedyRepair, Basis: e.uncovered(), NoteI18n: noteMsg("entitlement.note.price_list")},
			price: pricer{chargeable: true}})
	}
}

// uncovered is the basis when nothing covers the fault.
func (e *engine) uncovered() Basis {
	if e.in.Unit.WarrantyMonths > 0 && e.inWarranty {
		return BasisNotCovered
	}
	return BasisOutOfWarranty
}

// selectRemedy picks the requested remedy when allowed, else a covered repair
// (one the price list does not charge in full), else the first allowed
// remedy (a plan's swap comes before a repair charged by the price list).
func (e *engine) selectRemedy() *offer {
	d := e.d
	d.Remedies = make([]Remedy, e.n)
	for i := 0; i < e.n; i++ {
		d.Remedies[i] = e.offers[i].Remedy
	}
	req := e.in.RequestedRemedy
	var sel *offer
	yielded := false
	if req != "" && req != RemedyNone {
		for i := 0; i < e.n; i++ {
			if e.offers[i].Kind == req {
				sel = &e.offers[i]
				break
			}
		}
	}
	if sel != nil && sel.Kind == RemedyRepair && sel.price.chargeable {
		// A repair the price list charges in full yields to a plan's swap:
		// rule 7 swaps a repair costing more than the retail price, rules 5
		// and 6 swap instead of repairing; the customer keeps the plan.
		for i := 0; i < e.n; i++ {
			if o := &e.offers[i]; o.Kind == RemedySwap && o.contract != nil {
				sel, yielded = o, true
				break
			}
		}
	}
	if sel == nil {
		for i := 0; i < e.n; i++ {
			if o := &e.offers[i]; o.Kind == RemedyRepair && !o.price.chargeable {
				sel = o
				break
			}
		}
	}
	if sel == nil && e.n > 0 {
		sel = &e.offers[0]
	}
	switch {
	case sel == nil:
		d.Remedy = RemedyNone
		if e.fault {
			d.Basis = e.uncovered()
		} else {
			d.Basis = BasisNotCovered
		}
		e.tracem("selection", false, "entitlement.no_remedy")
		return nil
	case yielded:
		e.tracem("selection", true, "entitlement.swap_instead", "Contract", sel.ContractID, "Basis", string(sel.Basis))
	case req != "" && req != RemedyNone && sel.Kind != req:
		e.tracem("selection", true, "entitlement.requested_not_allowed", "Requested", string(req), "Remedy", string(sel.Kind), "Basis", string(sel.Basis))
	case req != "" && req != RemedyNone:
		e.tracem("selection", true, "entitlement.requested_allowed", "Requested", string(req), "Basis", string(sel.Basis))
	default:
		e.tracem("selection", true, "entitlement.selected", "Remedy", string(sel.Kind), "Basis", string(sel.Basis))
	}
	d.Remedy = sel.Kind
	d.Basis = sel.Basis
	d.ContractID = sel.ContractID
	d.ContractConsumed = sel.consumes
	return sel
}

// percent returns a*p/100 rounded half up to the minor unit.
func percent(a int64, p int) int64 { return mulDivRound(a, int64(p), 100) }

// mulDivRound returns a*b/c rounded half up, for non-negative a, b and
// positive c with a*b/c fitting in int64.
func mulDivRound(a, b, c int64) int64 {
	hi, lo := bits.Mul64(uint64(a), uint64(b))
	var carry uint64
	lo, carry = bits.Add64(lo, uint64(c)/2, 0)
	hi += carry
	q, _ := bits.Div64(hi, lo, uint64(c))
	return int64(q)
}

func minor(a int64) string { return strconv.FormatInt(a, 10) }

// price fills the lines of the selected remedy.
func (e *engine) price(sel *offer) {
	d := e.d
	if sel == nil {
		d.Lines = []Charge{}
		return
	}
	switch sel.Kind {
	case RemedyRepair:
		d.Lines = make([]Charge, len(e.in.Quote.Lines))
		for i := range e.in.Quote.Lines {
			l := &e.in.Quote.Lines[i]
			list := l.Amount.Amount
			var cov int64
			switch {
			case sel.price.keyPart:
				if l.Kind == LinePart && e.keyPartCovered(l.PartCategory) {
					cov = list
				}
			case sel.price.visitToCustomer && l.Kind == LineVisit:
			default:
				cov = percent(list, sel.price.share)
			}
			c := Charge{Kind: l.Kind, Code: l.Code, PartCategory: l.PartCategory, Description: l.Description,
				ListAmount: e.m(list), CustomerPays: e.m(list - cov), BrandPays: e.m(0), PlanPays: e.m(0)}
			if sel.price.payer == PayerPlan {
				c.PlanPays.Amount = cov
			} else {
				c.BrandPays.Amount = cov
			}
			d.Lines[i] = c
		}
	case RemedySwap:
		if sel.Fee != nil && sel.Fee.Amount > 0 {
			d.Lines = []Charge{{Kind: LineFee, Description: "swap fee", ListAmount: *sel.Fee, CustomerPays: *sel.Fee,
				BrandPays: e.m(0), PlanPays: e.m(0)}}
		} else {
			d.Lines = []Charge{}
		}
	default:
		d.Lines = []Charge{}
	}
}

// cardCap: rule 2: where the warranty card's charge is lower than the price
// list's, the customer pays the card's; the brand bears the difference.
func (e *engine) cardCap(sel *offer) {
	const rule = "R2.lower_of_list_and_card"
	card := e.in.WarrantyCardCharge
	switch {
	case card == nil:
		e.tracem(rule, false, "entitlement.no_card_charge")
		return
	case sel == nil || sel.Kind != RemedyRepair || !sel.price.chargeable:
		e.tracem(rule, false, "entitlement.not_price_list_charge")
		return
	}
	var total int64
	for i := range e.d.Lines {
		total += e.d.Lines[i].CustomerPays.Amount
	}
	if card.Amount >= total {
		e.tracem(rule, false, "entitlement.card_not_lower", "List", minor(total), "Card", minor(card.Amount))
		return
	}
	// Each line's share is rounded half up; the difference to the card
	// (a few fen) is taken by the last lines, each within its own amount:
	// a share is never negative nor above the line.
	var sum int64
	for i := range e.d.Lines {
		if a := e.d.Lines[i].CustomerPays.Amount; a > 0 {
			sum += mulDivRound(a, card.Amount, total)
		}
	}
	diff := card.Amount - sum
	for i := len(e.d.Lines) - 1; i >= 0; i-- {
		c := &e.d.Lines[i]
		a := c.CustomerPays.Amount
		if a == 0 {
			continue
		}
		n := mulDivRound(a, card.Amount, total)
		switch {
		case diff > 0:
			d := min(diff, a-n)
			n, diff = n+d, diff-d
		case diff < 0:
			d := min(-diff, n)
			n, diff = n-d, diff+d
		}
		c.BrandPays.Amount += a - n
		c.CustomerPays.Amount = n
	}
	e.tracem(rule, true, "entitlement.card_lower", "List", minor(total), "Card", minor(card.Amount))
}

// promises: rule 8's free-of-charge promises.
func (e *engine) promises(sel *offer) {
	d := e.d
	d.Promises = []Promise{}
	v := &e.in.Visit
	waive := false
	add := func(rule, code string, applied bool, action string, note i18n.Message) {
		e.traceMsg(rule, applied, note)
		if applied {
			d.Promises = append(d.Promises, Promise{Code: code, Waives: true, Action: action, Note: note.Render(i18n.English), NoteI18n: &note})
			waive = true
		}
	}
	// late arrival: the promise belongs to the service, so the latest
	// arrival of any visit counts
	late, visit := v.LateMinutes, 0
	for i, m := range v.ArrivalMinutes {
		if m > late {
			late, visit = m, i+1
		}
	}
	if late > 0 {
		action := "apology"
		if v.CustomerRefused {
			action = "manager_visit"
		} else if late > lateApologyMinutes {
			action = "apology_and_gift"
		}
		note := i18n.M("entitlement.late_arrival", "Minutes", late)
		if visit > 0 && len(v.ArrivalMinutes) > 1 {
			note = i18n.M("entitlement.late_arrival_visit", "Minutes", late, "Visit", visit, "Visits", len(v.ArrivalMinutes))
		}
		add("R8.late_arrival", "late_arrival", true, action, note)
	} else if v.LateArrivalUpheld {
		// the check-in said on time, the customer's complaint was upheld:
		// how late is not known, so what is owed is the apology
		action := "apology"
		if v.CustomerRefused {
			action = "manager_visit"
		}
		add("R8.late_arrival", "late_arrival", true, action, i18n.M("entitlement.late_arrival_upheld"))
	} else {
		e.tracem("R8.late_arrival", false, "entitlement.on_time")
	}
	// Midea's promise 2 frees an installation visited again because
	// delivery was not in sync (未送安同步而多次上门, 限美的专卖店购买): a
	// repair or maintenance visited again is no repeat visit
	if v.RepeatVisitByNetwork && e.in.Quote.ServiceKind == ServiceInstall {
		add("R8.repeat_visit", "repeat_visit", true, "none", i18n.M("entitlement.repeat_visit"))
	} else {
		e.tracem("R8.repeat_visit", false, "entitlement.not_repeat_visit")
	}
	e.repeatFault(add)
	if v.PriceListNotShown {
		add("R8.price_list", "price_list_not_shown", true, "none", i18n.M("entitlement.price_list_not_shown"))
	} else {
		over := -1
		for i := range e.in.Quote.Lines {
			if l := &e.in.Quote.Lines[i]; l.Charged != nil && l.Charged.Amount > l.Amount.Amount {
				over = i
				break
			}
		}
		if over < 0 && v.ChargedBeyondPriceList {
			add("R8.price_list", "charge_beyond_price_list", true, "none", i18n.M("entitlement.charged_beyond"))
		} else if over >= 0 {
			l := &e.in.Quote.Lines[over]
			add("R8.price_list", "charge_beyond_price_list", true, "none", i18n.M("entitlement.line_charged_beyond",
				"Line", over, "Charged", minor(l.Charged.Amount), "Listed", minor(l.Amount.Amount)))
		} else {
			e.tracem("R8.price_list", false, "entitlement.price_list_kept")
		}
	}
	if v.LicenceNotShown {
		add("R8.licence", "licence_not_shown", true, "none", i18n.M("entitlement.licence_not_shown"))
	} else if v.LicenceNotMatching {
		add("R8.licence", "licence_not_shown", true, "none", i18n.M("entitlement.licence_not_matching"))
	} else {
		e.tracem("R8.licence", false, "entitlement.licence_shown")
	}
	if v.ConductBreach {
		add("R8.conduct", "conduct_breach", true, "none", i18n.M("entitlement.conduct_breach"))
	} else {
		e.tracem("R8.conduct", false, "entitlement.no_conduct_breach")
	}
	if !waive || sel == nil || sel.Kind != RemedyRepair {
		return
	}
	var moved int64
	for i := range d.Lines {
		c := &d.Lines[i]
		moved += c.CustomerPays.Amount
		c.BrandPays.Amount += c.CustomerPays.Amount
		c.CustomerPays.Amount = 0
	}
	if moved > 0 {
		e.tracem("R8.waiver", true, "entitlement.waiver", "Amount", minor(moved))
	}
}

// repeatFault: a fault again within a year (two for washers) of a paid
// repair is repaired free, except human or natural causes.
func (e *engine) repeatFault(add func(rule, code string, applied bool, action string, note i18n.Message)) {
	const rule = "R8.repeat_fault"
	if !e.fault {
		e.tracem(rule, false, "entitlement.change_of_mind")
		return
	}
	switch e.cause {
	case CauseHuman, CauseForceMajeure, CauseAccidental:
		e.tracem(rule, false, "entitlement.repeat_fault_cause", "Cause", string(e.cause))
		return
	case CauseSoftware:
		e.tracem(rule, false, "entitlement.tuning_not_fault")
		return
	case CauseNoFault, CauseDeliveryDamage:
		e.tracem(rule, false, "entitlement.not_earlier_repair", "Cause", string(e.cause))
		return
	}
	months := repeatMonths
	if e.in.Unit.Category == CategoryWasher {
		months = repeatMonthsWasher
	}
	for i := range e.in.History {
		r := &e.in.History[i]
		on := civil(r.On)
		if !r.Paid || on.After(e.date) {
			continue
		}
		if end := TermEnd(on, months); !e.date.After(end) {
			add(rule, "repeat_fault", true, "none", i18n.M("entitlement.repeat_fault", "Months", months, "Repaired", date(on), "End", date(end)))
			return
		}
	}
	e.tracem(rule, false, "entitlement.no_recent_paid_repair", "Months", months)
}

// compensation: rule 7's satisfaction payment for a repair under the
// no-reason plan.
func (e *engine) compensation(sel *offer) {
	const rule = "R7.compensation"
	if sel == nil || sel.Basis != BasisNoReasonRepair || sel.Kind != RemedyRepair || sel.contract == nil {
		e.tracem(rule, false, "entitlement.no_compensation")
		return
	}
	t := &sel.contract.Terms
	amount := e.m(defaultCompensation)
	switch {
	case t.Compensation != nil:
		amount = *t.Compensation
	case e.cur != SeedCurrency:
		// Owed, but the plan sets no amount and the seed's is 100 CNY: no
		// amount in the purchase's currency can be read off it. A person
		// decides the payout; the decision says so rather than owe 100.00
		// of another currency.
		e.tracem(rule, false, "entitlement.r7.compensation_default_currency", "Contract", sel.contract.ID,
			"Amount", minor(defaultCompensation), "Currency", e.cur)
		return
	}
	days := t.PayoutBusinessDays
	if days <= 0 {
		days = defaultPayoutDays
	}
	bd := e.in.BusinessDays
	if bd == nil {
		bd = WeekdaysAfter
	}
	due := date(bd(e.date, days))
	reason := i18n.M("entitlement.r7.compensation_reason", "Amount", minor(amount.Amount), "Days", days)
	e.d.Compensation = &Compensation{Amount: amount, Due: due, Payer: PayerPlan, Reason: reason.Render(i18n.English), ReasonI18n: &reason}
	e.tracem(rule, true, "entitlement.r7.compensation", "Amount", minor(amount.Amount), "Days", days, "Due", due)
}

// freight: rule 9: whoever is at fault pays the freight of a return or
// exchange.
func (e *engine) freight(sel *offer) {
	const rule = "R9.freight"
	if sel == nil || (sel.Kind != RemedyReturn && sel.Kind != RemedyExchange) {
		e.tracem(rule, false, "entitlement.no_freight")
		return
	}
	f := &Freight{Payer: "seller"}
	why := i18n.M("entitlement.freight_quality")
	switch {
	case e.in.Fault.ChangeOfMind:
		f.Payer, why = "buyer", i18n.M("entitlement.freight_change_of_mind")
	case e.in.Fault.WrongOrDamagedOnDelivery || e.cause == CauseDeliveryDamage:
		why = i18n.M("entitlement.freight_wrong_goods")
	}
	f.Reason, f.ReasonI18n = why.Render(i18n.English), &why
	e.d.Freight = f
	e.traceMsg(rule, true, why)
}

func (e *engine) totals() {
	d := e.d
	t := Totals{List: e.m(0), Customer: e.m(0), Brand: e.m(0), Plan: e.m(0)}
	for i := range d.Lines {
		c := &d.Lines[i]
		t.List.Amount += c.ListAmount.Amount
		t.Customer.Amount += c.CustomerPays.Amount
		t.Brand.Amount += c.BrandPays.Amount
		t.Plan.Amount += c.PlanPays.Amount
		n := 0
		if c.CustomerPays.Amount > 0 {
			n++
			c.Payer = PayerCustomer
		}
		if c.BrandPays.Amount > 0 {
			n++
			c.Payer = PayerBrand
		}
		if c.PlanPays.Amount > 0 {
			n++
			c.Payer = PayerPlan
		}
		switch n {
		case 0:
			c.Payer = PayerNone
		case 1:
		default:
			c.Payer = PayerShared
		}
	}
	d.Totals = t
}

// noteMsg is a remedy's note as a catalog message (entitlement.note.*).
func noteMsg(code string, kv ...any) *i18n.Message {
	m := i18n.M(code, kv...)
	return &m
}
