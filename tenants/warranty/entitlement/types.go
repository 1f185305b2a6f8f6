package entitlement

import (
	"time"

	"github.com/servicenet/servicenet/internal/i18n"
	"github.com/servicenet/servicenet/tenants"
)

// Product categories the engine knows. Large appliances (washer,
// refrigerator, air_conditioner, tv, water_heater) get the extended
// warranty's free visit.
const (
	CategoryWasher         = "washer"
	CategoryRefrigerator   = "refrigerator"
	CategoryAirConditioner = "air_conditioner"
	CategoryTV             = "tv"
	CategoryWaterHeater    = "water_heater"
	CategoryKitchen        = "kitchen"
	CategorySmallAppliance = "small_appliance"
	CategoryPhone          = "phone"
	CategoryLaptop         = "laptop"
	CategoryCamera         = "camera"
	CategoryTablet         = "tablet"
)

// LargeAppliance reports whether category is a large appliance.
func LargeAppliance(category string) bool {
	switch category {
	case CategoryWasher, CategoryRefrigerator, CategoryAirConditioner, CategoryTV, CategoryWaterHeater:
		return true
	}
	return false
}

// Cause is the diagnosed cause of a fault.
type Cause string

// Fault causes. The environmental causes (dust, heat, moisture, power surge,
// unstable voltage) are outside the statutory and manufacturer scope; the
// extended warranty and the no-reason plan cover them. Accidental damage
// (drops, crushing, impact) is covered only by the accidental-damage and
// no-reason plans. Human damage (deliberate misuse, unauthorised disassembly
// or modification) and force majeure are covered by nothing.
const (
	CausePerformance     Cause = "performance"
	CauseDust            Cause = "environmental_dust"
	CauseHeat            Cause = "environmental_heat"
	CauseMoisture        Cause = "environmental_moisture"
	CausePowerSurge      Cause = "power_surge"
	CauseUnstableVoltage Cause = "unstable_voltage"
	CauseAccidental      Cause = "accidental_damage"
	CauseHuman           Cause = "human_damage"
	CauseForceMajeure    Cause = "force_majeure"
	CauseSoftware        Cause = "software_tuning"
	// CauseNoFault is a service without a fault: installation, maintenance,
	// cleaning. No warranty or statutory right covers it; the price list
	// charges it unless a plan's terms cover maintenance.
	CauseNoFault Cause = "no_fault"
	// CauseDeliveryDamage is a unit found damaged at delivery or
	// installation (packaging, transit): exchanged at the seller's cost,
	// never repaired, never the customer's.
	CauseDeliveryDamage Cause = "delivery_damage"
)

// Causes lists every fault cause.
var Causes = []Cause{CausePerformance, CauseDust, CauseHeat, CauseMoisture, CausePowerSurge,
	CauseUnstableVoltage, CauseAccidental, CauseHuman, CauseForceMajeure, CauseSoftware, CauseNoFault, CauseDeliveryDamage}

// Environmental reports whether c is one of the environmental causes of
// rule 4 and rule 7.
func (c Cause) Environmental() bool {
	switch c {
	case CauseDust, CauseHeat, CauseMoisture, CausePowerSurge, CauseUnstableVoltage:
		return true
	}
	return false
}

// NeverFree reports whether c is human damage or force majeure, which no
// warranty or plan makes free.
func (c Cause) NeverFree() bool { return c == CauseHuman || c == CauseForceMajeure }

// Contract kinds.
const (
	KindExtendedWarranty = "extended_warranty"
	KindAccidentalDamage = "accidental_damage"
	KindSwapForRepair    = "swap_for_repair"
	KindNoReasonRepair   = "no_reason_repair"
)

// PlanCoversCause reports whether a plan of kind (a contract kind) covers a
// fault of cause c at all, before its terms, categories and dates: the
// extended warranty (rule 4) a performance or environmental fault, the
// accidental-damage plan (rule 5) accidental damage, the swap-for-repair
// plan (rule 6) a performance fault, the no-reason repair plan (rule 7) an
// environmental fault or accidental damage. The engine's rules and the
// swap's choice of plan both ask it.
func PlanCoversCause(kind string, c Cause) bool {
	switch kind {
	case KindExtendedWarranty:
		return c == CausePerformance || c.Environmental()
	case KindAccidentalDamage:
		return c == CauseAccidental
	case KindSwapForRepair:
		return c == CausePerformance
	case KindNoReasonRepair:
		return c.Environmental() || c == CauseAccidental
	}
	return false
}

// Contract states; only active contracts cover anything.
const (
	StatePending   = "pending"
	StateActive    = "active"
	StateExpired   = "expired"
	StateCancelled = "cancelled"
	StateConsumed  = "consumed"
)

// Unit is the registered unit as the engine needs it.
type Unit struct {
	Category     string
	PurchaseDate time.Time
	// InstalledOn is the installation date; nil means the purchase date
	// (rule 3 counts from it).
	InstalledOn *time.Time
	// PurchasePrice is what the customer paid; its currency is the
	// decision's currency.
	PurchasePrice tenants.Money
	// RetailPrice is the model's current retail price (rule 7's swap test).
	RetailPrice tenants.Money
	// WarrantyMonths is the whole-unit manufacturer warranty from the
	// purchase date: the model's, or a longer one a warranty promotion
	// gives the units bought within its window.
	WarrantyMonths int
	// WarrantyPromotion names the promotion that gave WarrantyMonths ("":
	// the model's own term); the trace says so.
	WarrantyPromotion string
	// KeyPartWarrantyMonths holds the longer terms of key parts, by part
	// category (e.g. "compressor": 120).
	KeyPartWarrantyMonths map[string]int
	SoldByStorefront      bool
	StorefrontID          string
	// SaleDate is, for a unit handed over by a swap, the purchase date of
	// the unit first sold: rule 9's seven days count from the sale, and a
	// swap is no new sale (PurchaseDate is the swap's day, from which the
	// warranty counts). Nil: PurchaseDate.
	SaleDate *time.Time
}

// PlanTerms are the terms of the plan a contract was sold under.
type PlanTerms struct {
	// DiscountPercent is the share of the repair the plan pays for accidental
	// damage (accidental plan: at least 50, 50 when zero; no-reason plan:
	// at least 80, 80 when zero).
	DiscountPercent int
	// FlatFee is a swap's fixed fee (swap plan for kitchen and small
	// appliances: 30 CNY; no-reason plan's small depreciation fee).
	FlatFee *tenants.Money
	// DepreciationSchedule prices a swap's fee by the unit's age: the
	// percent of the purchase price of the first step whose UpToMonth is at
	// least the month of ownership on the decision date (the last step's
	// beyond it). It comes after a flat fee and before DepreciationPercent.
	DepreciationSchedule []DepreciationStep
	// DepreciationPercent is a swap's fee as a percent of the purchase price
	// when there is no flat fee or schedule; zero means the cap.
	DepreciationPercent int
	// DepreciationCapPercent caps a swap's fee as a percent of the purchase
	// price, rounded down (tablets: 39, and never above 39).
	DepreciationCapPercent int
	// Compensation is the no-reason plan's satisfaction payment per repair
	// (100 CNY when nil).
	Compensation *tenants.Money
	// PayoutBusinessDays is the compensation deadline (5 when zero).
	PayoutBusinessDays int
	// EligibleCategories restricts the plan to these unit categories; empty
	// means the seed's categories for the kind.
	EligibleCategories []string
	// Exclusions are fault causes the plan does not cover, in addition to
	// the ones no plan covers.
	Exclusions []Cause
	// NoVisitFeeForLargeAppliances: the extended warranty pays the visit fee
	// of large appliances.
	NoVisitFeeForLargeAppliances bool
	// CoversMaintenance: the plan pays maintenance and cleaning (cause
	// no_fault) in full while it is active.
	CoversMaintenance bool
}

// DepreciationStep is one step of a depreciation schedule: a swap in month
// UpToMonth of ownership or earlier (and after the previous step) costs
// Percent of the purchase price.
type DepreciationStep struct {
	UpToMonth int `json:"up_to_month" minimum:"1" maximum:"120" doc:"The step applies through this month of ownership (the purchase date starts month 1) and after the previous step's; the last step also applies beyond it." example:"6"`
	Percent   int `json:"percent" minimum:"1" maximum:"100" doc:"The swap's depreciation fee, percent of the purchase price." example:"20"`
}

// Contract is a plan attached to the unit. The caller computes StartsOn and
// EndsOn with PlanWindow; the engine checks StartsOn <= date <= EndsOn and
// that the state is active.
type Contract struct {
	ID       string
	Kind     string
	State    string
	StartsOn time.Time
	EndsOn   time.Time
	Terms    PlanTerms
}

// Repair is an earlier repair of the unit.
type Repair struct {
	On             time.Time
	Basis          Basis
	Paid           bool // the customer paid for it
	FaultCause     Cause
	Fixed          bool // informational: a repair that did not fix still counts
	PartCategories []string
}

// Fault is what the technician (or the intake) found.
type Fault struct {
	Cause Cause
	// PartCategories are the parts the fault concerns (key-part terms).
	PartCategories []string
	// Repairable is false when the unit cannot be repaired.
	Repairable bool
	// Resaleable: the unit can be resold (seven-day no-reason return).
	Resaleable bool
	// ChangeOfMind: the customer wants to return a unit that has no fault.
	ChangeOfMind bool
	// WrongOrDamagedOnDelivery: wrong goods, or damaged in transit.
	WrongOrDamagedOnDelivery bool
}

// RemedyKind is what is done for the customer.
type RemedyKind string

// Remedies. Exchange is the statutory or manufacturer replacement by the
// same model at no charge; swap is a plan's replacement, possibly for a fee.
const (
	RemedyNone     RemedyKind = "none"
	RemedyRepair   RemedyKind = "repair"
	RemedyExchange RemedyKind = "exchange"
	RemedyReturn   RemedyKind = "return"
	RemedySwap     RemedyKind = "swap"
)

// Line kinds of a quote and of a decision's charges.
const (
	LineLabor = "labor"
	LinePart  = "part"
	LineVisit = "visit"
	LineOther = "other"
	LineFee   = "fee" // a swap's fee (decision only)
)

// QuoteLine is one line of the price-list quote for the work.
type QuoteLine struct {
	Kind         string
	Code         string
	PartCategory string
	Description  string
	// Amount is the price-list amount.
	Amount tenants.Money
	// Charged is what the technician asked for when it differs from the
	// price list; more than Amount breaks rule 8's promise.
	Charged *tenants.Money
}

// Quote is the price-list quote for the repair.
type Quote struct {
	Lines            []QuoteLine
	PriceListVersion string
	// ServiceKind is the price list's service kind the quote prices
	// (install, maintenance, repair, ...); empty when not known.
	ServiceKind string
}

// ServiceInstall is the quote's service kind of an installation.
const ServiceInstall = "install"

// Visit holds what happened on the service visit (rule 8); the zero value
// means nothing went wrong.
type Visit struct {
	// LateMinutes past the agreed time the technician arrived.
	LateMinutes int
	// CustomerRefused: the customer refused the late technician.
	CustomerRefused bool
	// RepeatVisitByNetwork: an installation visited again because
	// delivery was not in sync with it, the unit bought at the brand's own
	// store (Midea's promise 2: 未送安同步而多次上门的,则本次服务给用户免单,
	// 限美的专卖店购买). A repair visited again is not one: a fault back
	// after a paid repair is the repeat-fault promise's (History).
	RepeatVisitByNetwork bool
	PriceListNotShown    bool
	LicenceNotShown      bool
	ConductBreach        bool
	// ArrivalMinutes are the minutes after the agreed time of each visit's
	// arrival, first visit first (negative: early). The late promise
	// belongs to the service: any late visit waives it, whatever later
	// visits do (the latest of LateMinutes and these counts).
	ArrivalMinutes []int
	// LicenceNotMatching: the licence shown was not the technician's.
	LicenceNotMatching bool
	// ChargedBeyondPriceList: the customer reports being charged beyond the
	// price list (the quote's lines cannot show it).
	ChargedBeyondPriceList bool
	// LateArrivalUpheld: a complaint that the technician did not come
	// within the window agreed was upheld (whatever the check-in says; the
	// minutes are not known): the late promise applies, with an apology.
	LateArrivalUpheld bool
}

// Input is everything a decision depends on. Dates are civil dates at
// midnight UTC.
type Input struct {
	Unit            Unit
	Contracts       []Contract
	History         []Repair
	Fault           Fault
	RequestedRemedy RemedyKind
	Date            time.Time
	Quote           Quote
	// WarrantyCardCharge is the customer's warranty card's charge for this
	// work; the lower of card and price list applies (rule 2).
	WarrantyCardCharge *tenants.Money
	Visit              Visit
	// BusinessDays returns the date n business days after from; nil skips
	// Saturdays and Sundays.
	BusinessDays func(from time.Time, n int) time.Time
}

// Basis is what a decision's charges rest on.
type Basis string

// Bases, in the order of precedence in which they are offered (see the
// package comment). not_covered: inside the whole-unit warranty but nothing
// covers the cause (human damage, force majeure, environmental or accidental
// damage without a plan, tuning after 3 months); out_of_warranty: the
// whole-unit warranty has ended and nothing covers the fault. Both charge
// the price list.
const (
	BasisNoReasonReturn       Basis = "no_reason_return"
	BasisStatutoryReturn      Basis = "statutory_return"
	BasisStatutoryExchange    Basis = "statutory_exchange"
	BasisManufacturerWarranty Basis = "manufacturer_warranty"
	BasisInstallationTuning   Basis = "installation_tuning"
	// BasisMaintenancePlan: a plan whose terms cover maintenance pays a
	// no-fault service.
	BasisMaintenancePlan Basis = "maintenance_plan"
	// BasisDeliveryDamage: damaged at delivery or installation: the seller
	// exchanges the unit at its cost.
	BasisDeliveryDamage   Basis = "delivery_damage"
	BasisExtendedWarranty Basis = "extended_warranty"
	BasisAccidentalDamage Basis = "accidental_damage"
	BasisSwapForRepair    Basis = "swap_for_repair"
	BasisNoReasonRepair   Basis = "no_reason_repair"
	BasisKeyPartWarranty  Basis = "key_part_warranty"
	BasisNotCovered       Basis = "not_covered"
	BasisOutOfWarranty    Basis = "out_of_warranty"
)

// Payers of a charge line.
const (
	PayerCustomer = "customer"
	PayerBrand    = "brand"
	PayerPlan     = "plan"
	PayerShared   = "shared"
	PayerNone     = "none"
)

// Decision is the engine's answer.
type Decision struct {
	Basis            Basis         `json:"basis" enum:"no_reason_return,statutory_return,statutory_exchange,delivery_damage,manufacturer_warranty,installation_tuning,maintenance_plan,extended_warranty,accidental_damage,swap_for_repair,no_reason_repair,key_part_warranty,not_covered,out_of_warranty" doc:"What the charges rest on: the basis of the selected remedy." example:"manufacturer_warranty"`
	ContractID       string        `json:"contract_id,omitempty" doc:"The contract the basis uses, for plan bases." example:"ctr_01HZX3K4M5N6P7Q8R9S0T1V2W3"`
	Remedy           RemedyKind    `json:"remedy" enum:"none,repair,exchange,return,swap" doc:"The remedy the charges are priced for: the requested one when allowed, else the first allowed; none when nothing is allowed." example:"repair"`
	Remedies         []Remedy      `json:"remedies" doc:"Every remedy the customer may choose, best first, each with its basis and fee."`
	Lines            []Charge      `json:"lines" doc:"The charges of the selected remedy, line by line, with who pays."`
	Totals           Totals        `json:"totals"`
	Compensation     *Compensation `json:"compensation,omitempty"`
	Freight          *Freight      `json:"freight,omitempty"`
	Promises         []Promise     `json:"promises" doc:"Service promises (rule 8) that apply to this service."`
	ContractConsumed bool          `json:"contract_consumed" doc:"The selected remedy ends the contract: the replacement unit is not covered by the plan." example:"false"`
	Trace            []TraceEntry  `json:"trace" doc:"Every rule the engine considered, in order, whether it applied and why."`
}

// Remedy is one allowed remedy.
type Remedy struct {
	Kind       RemedyKind     `json:"kind" enum:"repair,exchange,return,swap" doc:"What is done." example:"swap"`
	Basis      Basis          `json:"basis" enum:"no_reason_return,statutory_return,statutory_exchange,delivery_damage,manufacturer_warranty,installation_tuning,maintenance_plan,extended_warranty,accidental_damage,swap_for_repair,no_reason_repair,key_part_warranty,not_covered,out_of_warranty" doc:"The rule that allows it." example:"swap_for_repair"`
	ContractID string         `json:"contract_id,omitempty" doc:"The contract that allows it." example:"ctr_01HZX3K4M5N6P7Q8R9S0T1V2W3"`
	Fee        *tenants.Money `json:"fee,omitempty"`
	// MaxReplacementPrice bounds a swap's replacement model's price.
	MaxReplacementPrice *tenants.Money `json:"max_replacement_price,omitempty"`
	Note                string         `json:"note" doc:"What the customer must know, in the response's Content-Language when note_i18n is present (otherwise English)." example:"new unit for a flat fee; same brand and model, else a similar model priced no higher than the original"`
	// NoteI18n is Note as a catalog message.
	NoteI18n *i18n.Message `json:"note_i18n,omitempty" doc:"The note as a message code (entitlement.note.*) with its parameters; absent on decisions recorded before it existed."`
}

// Localize renders Note in lang from NoteI18n.
func (r *Remedy) Localize(lang string) {
	if r.NoteI18n != nil {
		r.Note = r.NoteI18n.Render(lang)
	}
}

// Charge is one line of a decision with its split between payers: the
// customer, the brand (warranty, statutory rights, waived promises) and the
// plan (the storefront or provider that sold the contract). The three shares
// always add up to the list amount.
type Charge struct {
	Kind         string        `json:"kind" enum:"labor,part,visit,other,fee" doc:"Line kind; fee is a swap's fee." example:"part"`
	Code         string        `json:"code,omitempty" doc:"Part number for parts." example:"WM-PUMP-01"`
	PartCategory string        `json:"part_category,omitempty" doc:"Part category for parts." example:"drain_pump"`
	Description  string        `json:"description" doc:"What the line is for." example:"Drain pump"`
	ListAmount   tenants.Money `json:"list_amount"`
	CustomerPays tenants.Money `json:"customer_pays"`
	BrandPays    tenants.Money `json:"brand_pays"`
	PlanPays     tenants.Money `json:"plan_pays"`
	Payer        string        `json:"payer" enum:"customer,brand,plan,shared,none" doc:"Who pays the line: one payer, or shared." example:"brand"`
}

// Totals sums a decision's lines per payer.
type Totals struct {
	List     tenants.Money `json:"list"`
	Customer tenants.Money `json:"customer"`
	Brand    tenants.Money `json:"brand"`
	Plan     tenants.Money `json:"plan"`
}

// Compensation is money owed to the customer.
type Compensation struct {
	Amount tenants.Money `json:"amount"`
	Due    string        `json:"due" format:"date" doc:"Pay by this date (business days from the decision date)." example:"2026-07-08"`
	Payer  string        `json:"payer" enum:"plan,brand" doc:"Who pays it." example:"plan"`
	Reason string        `json:"reason" doc:"Why it is owed, in the response's Content-Language when reason_i18n is present (otherwise English)." example:"no-reason repair plan: satisfaction compensation within 5 business days of the repair"`
	// ReasonI18n is Reason as a catalog message.
	ReasonI18n *i18n.Message `json:"reason_i18n,omitempty" doc:"The reason as a message code (entitlement.r7.compensation_reason) with its parameters; absent on decisions recorded before it existed."`
}

// Localize renders Reason in lang from ReasonI18n.
func (c *Compensation) Localize(lang string) {
	if c.ReasonI18n != nil {
		c.Reason = c.ReasonI18n.Render(lang)
	}
}

// Freight says who pays shipping for a return or exchange.
type Freight struct {
	Payer  string `json:"payer" enum:"seller,buyer" doc:"Who pays the freight." example:"seller"`
	Reason string `json:"reason" doc:"Why, in the response's Content-Language when reason_i18n is present (otherwise English)." example:"quality fault: the seller pays"`
	// ReasonI18n is Reason as a catalog message.
	ReasonI18n *i18n.Message `json:"reason_i18n,omitempty" doc:"The reason as a message code (entitlement.freight_*); absent on decisions recorded before it existed."`
}

// Localize renders Reason in lang from ReasonI18n.
func (f *Freight) Localize(lang string) {
	if f.ReasonI18n != nil {
		f.Reason = f.ReasonI18n.Render(lang)
	}
}

// Promise is a service promise (rule 8) that applies.
type Promise struct {
	Code   string `json:"code" enum:"late_arrival,repeat_visit,repeat_fault,price_list_not_shown,charge_beyond_price_list,licence_not_shown,conduct_breach" doc:"Which promise." example:"late_arrival"`
	Waives bool   `json:"waives" doc:"The customer's charges for this service are waived (the brand pays them)." example:"true"`
	Action string `json:"action" enum:"none,apology,apology_and_gift,manager_visit" doc:"What the network owes the customer besides the waiver." example:"apology"`
	Note   string `json:"note" doc:"Why it applies, in the response's Content-Language when note_i18n is present (otherwise English)." example:"technician arrived 10 minutes after the agreed time: this service is free"`
	// NoteI18n is Note as a catalog message.
	NoteI18n *i18n.Message `json:"note_i18n,omitempty" doc:"The note as a message code (entitlement.*) with its parameters; absent on promises recorded before it existed."`
}

// Localize renders Note in lang from NoteI18n.
func (p *Promise) Localize(lang string) {
	if p.NoteI18n != nil {
		p.Note = p.NoteI18n.Render(lang)
	}
}

// TraceEntry is one rule the engine considered.
type TraceEntry struct {
	Rule    string `json:"rule" doc:"Rule id: R<number>.<name> from the rules, or selection." example:"R1.statutory_exchange"`
	Applied bool   `json:"applied" doc:"Whether the rule applied." example:"true"`
	Reason  string `json:"reason" doc:"Why it applied or did not, in the response's Content-Language when reason_i18n is present (otherwise English)." example:"performance fault on day 10 of the 15-day window: exchange or repair, free"`
	// ReasonI18n is Reason as a catalog message.
	ReasonI18n *i18n.Message `json:"reason_i18n,omitempty" doc:"The reason as a message code (entitlement.*) with its parameters; absent for lines not yet in the catalog."`
}

// Localize renders Reason in lang from ReasonI18n.
func (t *TraceEntry) Localize(lang string) {
	if t.ReasonI18n != nil {
		t.Reason = t.ReasonI18n.Render(lang)
	}
}
