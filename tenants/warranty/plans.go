package warranty

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/servicenet/servicenet/internal/i18n"
	"github.com/servicenet/servicenet/internal/pg"
	"github.com/servicenet/servicenet/tenants"
	"github.com/servicenet/servicenet/tenants/events"
	"github.com/servicenet/servicenet/tenants/warranty/entitlement"
)

// PlanKind is what a coverage plan does (seed rules 4-7).
type PlanKind string

// Plan kinds.
const (
	// KindExtendedWarranty starts the day after the manufacturer warranty
	// ends, for 1-3 years: environmental faults repaired free, no visit fee
	// for large appliances.
	KindExtendedWarranty PlanKind = "extended_warranty"
	// KindAccidentalDamage (phones, laptops, cameras): at least 50% off the
	// repair of accidental damage; unrepairable, a swap for a depreciation
	// fee. From day 31 for a year; a swap consumes the contract.
	KindAccidentalDamage PlanKind = "accidental_damage"
	// KindSwapForRepair answers a hardware fault with a new unit: kitchen and
	// small appliances for a flat fee (from day 31), tablets for a
	// depreciation fee of at most 39% of the purchase price (from the next
	// day); a year.
	KindSwapForRepair PlanKind = "swap_for_repair"
	// KindNoReasonRepair (refrigerators, air conditioners, washers, TVs):
	// environmental faults free, accidental damage at a discount, and a
	// compensation paid within some business days of the repair. From the
	// next day for a year.
	KindNoReasonRepair PlanKind = "no_reason_repair"
)

// PlanKinds lists every plan kind.
var PlanKinds = []PlanKind{KindExtendedWarranty, KindAccidentalDamage, KindSwapForRepair, KindNoReasonRepair}

// Plan statuses: a retired plan is no longer sold; its contracts run on.
const (
	PlanActive  = "active"
	PlanRetired = "retired"
)

// Seed terms the per-kind rules hold plans to.
const (
	MinAccidentalDiscountPercent = 50 // rule 5: at least 50% off
	MinNoReasonDiscountPercent   = 80 // rule 7: accidental damage 80% off
	MaxTabletDepreciationPercent = 39 // rule 6: at most 39% of the purchase price
	DefaultSaleWindowDays        = 30 // protection plans are sold within 30 days of purchase
	ProtectionPlanMonths         = 12 // rules 5-7: valid for one year
)

var (
	// extendedCategories are the seed's extended-warranty categories (no
	// water heaters).
	extendedCategories   = []string{"laptop", "tablet", "phone", "camera", "refrigerator", "washer", "air_conditioner", "tv", "small_appliance", "kitchen"}
	accidentalCategories = []string{"phone", "laptop", "camera"}
	swapFlatCategories   = []string{"kitchen", "small_appliance"}
	swapTabletCategories = []string{"tablet"}
	noReasonCategories   = []string{"refrigerator", "air_conditioner", "washer", "tv"}
)

// Plan is a coverage plan with its terms. Terms are fixed once a contract
// for the plan exists.
type Plan struct {
	ID                              string                         `json:"id" example:"pln_01jd3zq8w6v7t3y2k9x4n5m6pa"`
	Code                            string                         `json:"code" doc:"The brand's own code for the plan; unique per tenant." example:"EXT-2Y"`
	Name                            string                         `json:"name" example:"两年延保"`
	Kind                            PlanKind                       `json:"kind" enum:"extended_warranty,accidental_damage,swap_for_repair,no_reason_repair" example:"extended_warranty"`
	EligibleCategories              []string                       `json:"eligible_categories" doc:"Product categories of the units the plan may be sold for." example:"[\"washer\",\"refrigerator\"]"`
	StartOffsetDays                 *int                           `json:"start_offset_days,omitempty" doc:"Coverage starts this many days after the purchase date: 30 is day 31, 1 is the next day. Absent for an extended warranty." example:"30"`
	StartsAfterManufacturerWarranty bool                           `json:"starts_after_manufacturer_warranty" doc:"Coverage starts the day after the manufacturer warranty ends: an extended warranty's, implied by its kind." example:"true"`
	DurationMonths                  int                            `json:"duration_months" doc:"Length of coverage; a term of M months from D covers D through the day before D's day of the month M months later, or through that month's last day when it has no such day (one month from 31 January: through 28 or 29 February)." example:"24"`
	DiscountPercent                 *int                           `json:"discount_percent,omitempty" doc:"Discount on the repair of accidental damage, percent." example:"50"`
	FlatFee                         *tenants.Money                 `json:"flat_fee,omitempty"`
	DepreciationCapPercent          *int                           `json:"depreciation_cap_percent,omitempty" doc:"Most a swap's depreciation fee may be, as a percentage of the purchase price." example:"39"`
	DepreciationSchedule            []entitlement.DepreciationStep `json:"depreciation_schedule,omitempty" doc:"A swap's depreciation fee by the unit's month of ownership, as a percentage of the purchase price: the first step whose up_to_month reaches the month, the last step beyond it. Accidental-damage and no-reason repair plans carry one (rules 5 and 7 swap for a depreciation fee)."`
	Compensation                    *tenants.Money                 `json:"compensation,omitempty"`
	PayoutBusinessDays              *int                           `json:"payout_business_days,omitempty" doc:"The compensation is paid within this many business days of the repair, in the tenant's time zone." example:"5"`
	EnvironmentalFaultsFree         bool                           `json:"environmental_faults_free" doc:"Faults from dust, heat, moisture or condensation, power surges and unstable voltage are repaired free: an extended warranty's and a no-reason repair plan's term, implied by the kind (rules 4 and 7)." example:"true"`
	NoVisitFeeLargeAppliances       bool                           `json:"no_visit_fee_large_appliances" doc:"No visit fee for large appliances: an extended warranty's term, implied by its kind (rule 4)." example:"true"`
	CoversMaintenance               bool                           `json:"covers_maintenance" doc:"The plan pays maintenance and cleaning (no-fault services) in full while active; without it the price list charges them." example:"false"`
	Exclusions                      []string                       `json:"exclusions" doc:"Fault causes the plan never covers; always includes human_damage and force_majeure." example:"[\"force_majeure\",\"human_damage\"]"`
	Price                           tenants.Money                  `json:"price"`
	SaleWindowDays                  *int                           `json:"sale_window_days,omitempty" doc:"The plan may be sold up to this many days after the purchase date. Absent on an extended warranty: sold through the last day of the manufacturer warranty." example:"30"`
	Status                          string                         `json:"status" enum:"active,retired" doc:"Retired plans are no longer sold; their contracts run on." example:"active"`
	Version                         int                            `json:"version" doc:"Increases with every change; the ETag is \"v<version>\"." example:"1"`
	CreatedAt                       time.Time                      `json:"created_at" example:"2026-11-01T09:30:00+08:00"`
	UpdatedAt                       time.Time                      `json:"updated_at" example:"2026-11-01T09:30:00+08:00"`
}

// NewPlan is a coverage plan to create. Terms a kind does not have must be
// absent; defaults come from the seed's terms for the kind. The terms the
// kind fixes (starts_after_manufacturer_warranty,
// environmental_faults_free, no_visit_fee_large_appliances) are the
// plan's output only: an input could only repeat them or be refused.
type NewPlan struct {
	Code                   string                         `json:"code" minLength:"1" maxLength:"64" pattern:"^[A-Za-z0-9][A-Za-z0-9._-]*$" doc:"The brand's own code for the plan; unique per tenant." example:"EXT-2Y"`
	Name                   string                         `json:"name" minLength:"1" maxLength:"200" example:"两年延保"`
	Kind                   string                         `json:"kind" enum:"extended_warranty,accidental_damage,swap_for_repair,no_reason_repair" example:"extended_warranty"`
	EligibleCategories     []string                       `json:"eligible_categories" minItems:"1" maxItems:"11" doc:"Product categories the plan may be sold for; each kind allows only the seed's categories." example:"[\"washer\",\"refrigerator\"]"`
	StartOffsetDays        *int                           `json:"start_offset_days,omitempty" minimum:"0" maximum:"365" doc:"Days after the purchase date coverage starts (30 = day 31, 1 = the next day); not for extended warranties. Default and minimum: 30 for accidental damage and kitchen/small-appliance swaps, 1 for tablet swaps and no-reason repair." example:"30"`
	DurationMonths         int                            `json:"duration_months" minimum:"1" maximum:"120" doc:"Extended warranties 12, 24 or 36; protection plans 12." example:"24"`
	DiscountPercent        *int                           `json:"discount_percent,omitempty" minimum:"0" maximum:"100" doc:"Accidental-damage repair discount: at least 50 for accidental_damage, at least 80 for no_reason_repair; required for those kinds." example:"50"`
	FlatFee                *tenants.Money                 `json:"flat_fee,omitempty" doc:"A kitchen or small-appliance swap plan's fee for the new unit (rule 6, seed 以换代修: 消费者支付30元手续费): required there and, for a tenant in CNY, at most 3000 (30.00; 422 at flat_fee.amount); not a term of other plans."`
	DepreciationCapPercent *int                           `json:"depreciation_cap_percent,omitempty" minimum:"0" maximum:"100" doc:"Cap of a swap's depreciation fee as a percentage of the purchase price: required (at most 39) for a tablet swap plan; optional for accidental_damage and no_reason_repair." example:"39"`
	DepreciationSchedule   []entitlement.DepreciationStep `json:"depreciation_schedule,omitempty" maxItems:"24" doc:"A swap's depreciation fee by month of ownership: steps in increasing up_to_month, percents not falling, none above the cap. Required for accidental_damage and no_reason_repair (their swaps cost a depreciation fee); optional for a tablet swap plan (at most 39 percent); not a term of other plans."`
	Compensation           *tenants.Money                 `json:"compensation,omitempty"`
	PayoutBusinessDays     *int                           `json:"payout_business_days,omitempty" minimum:"1" maximum:"60" doc:"Business days after the repair the compensation is paid within; no_reason_repair only, required there." example:"5"`
	CoversMaintenance      bool                           `json:"covers_maintenance,omitempty" doc:"The plan also pays maintenance and cleaning (no-fault services) in full while active (a care plan); default false: the price list charges them." example:"false"`
	Exclusions             []string                       `json:"exclusions,omitempty" maxItems:"10" doc:"Fault causes never covered; human_damage and force_majeure are always added. A plan cannot exclude what it covers." example:"[\"software_tuning\"]"`
	Price                  tenants.Money                  `json:"price"`
	SaleWindowDays         *int                           `json:"sale_window_days,omitempty" minimum:"0" maximum:"3650" doc:"Days after the purchase date the plan may still be sold; default 30 for protection plans. For an extended warranty the window never runs past the manufacturer warranty (absent: through its last day)." example:"30"`
}

// PlanUpdate changes some of a plan; absent fields stay. Terms (every field
// but name, price, status and sale_window_days) change only while no
// contract for the plan exists.
type PlanUpdate struct {
	Name                   *string                         `json:"name,omitempty" minLength:"1" maxLength:"200" example:"两年延保（大家电）"`
	Price                  *tenants.Money                  `json:"price,omitempty"`
	Status                 *string                         `json:"status,omitempty" enum:"active,retired" doc:"retired stops sales; active sells again." example:"retired"`
	SaleWindowDays         *int                            `json:"sale_window_days,omitempty" minimum:"0" maximum:"3650" example:"30"`
	EligibleCategories     *[]string                       `json:"eligible_categories,omitempty" minItems:"1" maxItems:"11" doc:"A term: replaces the categories." example:"[\"washer\"]"`
	StartOffsetDays        *int                            `json:"start_offset_days,omitempty" minimum:"0" maximum:"365" doc:"A term." example:"30"`
	DurationMonths         *int                            `json:"duration_months,omitempty" minimum:"1" maximum:"120" doc:"A term." example:"36"`
	DiscountPercent        *int                            `json:"discount_percent,omitempty" minimum:"0" maximum:"100" doc:"A term." example:"60"`
	FlatFee                *tenants.Money                  `json:"flat_fee,omitempty" doc:"A term: a kitchen or small-appliance swap plan's fee for the new unit, at most 3000 (30.00) for a tenant in CNY."`
	DepreciationCapPercent *int                            `json:"depreciation_cap_percent,omitempty" minimum:"0" maximum:"100" doc:"A term." example:"30"`
	DepreciationSchedule   *[]entitlement.DepreciationStep `json:"depreciation_schedule,omitempty" maxItems:"24" doc:"A term: replaces the schedule."`
	Compensation           *tenants.Money                  `json:"compensation,omitempty"`
	PayoutBusinessDays     *int                            `json:"payout_business_days,omitempty" minimum:"1" maximum:"60" doc:"A term." example:"5"`
	Exclusions             *[]string                       `json:"exclusions,omitempty" maxItems:"10" doc:"A term: replaces the exclusions (human_damage and force_majeure stay)." example:"[\"software_tuning\"]"`
}

// PlanFilter selects plans; empty fields do not filter.
type PlanFilter struct {
	Kind     string
	Category string
	Status   string
	Limit    int
	Cursor   string
}

var planCode = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$`)

func intp(n int) *int { return &n }

// planFromInput applies the kind's defaults to in.
func planFromInput(in NewPlan, currency string) Plan {
	p := Plan{Code: in.Code, Name: in.Name, Kind: PlanKind(in.Kind), EligibleCategories: slices.Clone(in.EligibleCategories),
		StartOffsetDays: in.StartOffsetDays,
		DurationMonths:  in.DurationMonths, DiscountPercent: in.DiscountPercent, FlatFee: in.FlatFee,
		DepreciationCapPercent: in.DepreciationCapPercent, DepreciationSchedule: slices.Clone(in.DepreciationSchedule),
		Compensation: in.Compensation, PayoutBusinessDays: in.PayoutBusinessDays,
		Exclusions: slices.Clone(in.Exclusions), Price: in.Price, SaleWindowDays: in.SaleWindowDays, Status: PlanActive}
	implied := p.Kind == KindExtendedWarranty
	p.EnvironmentalFaultsFree = implied || p.Kind == KindNoReasonRepair
	p.NoVisitFeeLargeAppliances = implied
	p.CoversMaintenance = in.CoversMaintenance
	if implied {
		p.StartsAfterManufacturerWarranty = true
	} else {
		if p.StartOffsetDays == nil {
			p.StartOffsetDays = intp(minStartOffset(p))
		}
		if p.SaleWindowDays == nil {
			p.SaleWindowDays = intp(DefaultSaleWindowDays)
		}
	}
	p.Exclusions = normalizeExclusions(p.Exclusions)
	return p
}

// minStartOffset is the earliest start the seed allows the plan: day 31
// (offset 30) for accidental damage and kitchen/small-appliance swaps, the
// next day (offset 1) for tablet swaps and no-reason repair.
func minStartOffset(p Plan) int {
	switch p.Kind {
	case KindAccidentalDamage:
		return 30
	case KindSwapForRepair:
		if subset(p.EligibleCategories, swapTabletCategories) {
			return 1
		}
		return 30
	}
	return 1
}

// normalizeExclusions adds the causes every plan excludes and sorts.
func normalizeExclusions(ex []string) []string {
	out := slices.Clone(ex)
	for _, c := range AlwaysExcluded {
		if !slices.Contains(out, c) {
			out = append(out, c)
		}
	}
	slices.Sort(out)
	return slices.Compact(out)
}

func subset(items, of []string) bool {
	for _, it := range items {
		if !slices.Contains(of, it) {
			return false
		}
	}
	return len(items) > 0
}

// validatePlan checks a plan's attributes and its terms against its kind's
// seed rules, with locations relative to the plan.
func validatePlan(v *tenants.Validation, p Plan, currency string) {
	if !planCode.MatchString(p.Code) {
		v.AddMsg("code", i18n.M("common.identifier"), p.Code)
	}
	if n := len([]rune(strings.TrimSpace(p.Name))); n < 1 || n > 200 {
		v.AddMsg("name", i18n.M("common.length", "Min", 1, "Max", 200), p.Name)
	}
	tenants.CheckMoney(v, "price", p.Price, currency)
	if p.FlatFee != nil {
		tenants.CheckMoney(v, "flat_fee", *p.FlatFee, currency)
	}
	if p.Compensation != nil {
		tenants.CheckMoney(v, "compensation", *p.Compensation, currency)
	}
	if p.SaleWindowDays != nil && (*p.SaleWindowDays < 0 || *p.SaleWindowDays > 3650) {
		v.AddMsg("sale_window_days", i18n.M("common.range", "Min", 0, "Max", 3650), *p.SaleWindowDays)
	}
	if p.DurationMonths < 1 || p.DurationMonths > 120 {
		v.AddMsg("duration_months", i18n.M("common.range", "Min", 1, "Max", 120), p.DurationMonths)
	}
	for _, f := range []struct {
		loc string
		val *int
	}{{"discount_percent", p.DiscountPercent}, {"depreciation_cap_percent", p.DepreciationCapPercent}} {
		if f.val != nil && (*f.val < 0 || *f.val > 100) {
			v.AddMsg(f.loc, i18n.M("common.range", "Min", 0, "Max", 100), *f.val)
		}
	}
	if p.PayoutBusinessDays != nil && (*p.PayoutBusinessDays < 1 || *p.PayoutBusinessDays > 60) {
		v.AddMsg("payout_business_days", i18n.M("common.range", "Min", 1, "Max", 60), *p.PayoutBusinessDays)
	}
	if p.StartOffsetDays != nil && (*p.StartOffsetDays < 0 || *p.StartOffsetDays > 365) {
		v.AddMsg("start_offset_days", i18n.M("common.range", "Min", 0, "Max", 365), *p.StartOffsetDays)
	}
	seen := map[string]bool{}
	categoriesOK := len(p.EligibleCategories) > 0
	if !categoriesOK {
		v.AddMsg("eligible_categories", i18n.M("warranty.category_required"), p.EligibleCategories)
	}
	for i, c := range p.EligibleCategories {
		loc := fmt.Sprintf("eligible_categories[%d]", i)
		switch {
		case !slices.Contains(Categories, c):
			v.AddMsg(loc, i18n.M("common.one_of", "Values", strings.Join(Categories, ", ")), c)
			categoriesOK = false
		case seen[c]:
			v.AddMsg(loc, i18n.M("common.duplicate"), c)
			categoriesOK = false
		}
		seen[c] = true
	}
	seen = map[string]bool{}
	for i, c := range p.Exclusions {
		loc := fmt.Sprintf("exclusions[%d]", i)
		switch {
		case !slices.Contains(FaultCauses, c):
			v.AddMsg(loc, i18n.M("common.one_of", "Values", strings.Join(FaultCauses, ", ")), c)
		case seen[c]:
			v.AddMsg(loc, i18n.M("common.duplicate"), c)
		case slices.Contains(coveredCauses(p), c):
			v.AddMsg(loc, i18n.M("warranty.cause_covered"), c)
		}
		seen[c] = true
	}
	if !slices.Contains(PlanKinds, p.Kind) {
		v.AddMsg("kind", i18n.M("common.one_of", "Values", "extended_warranty, accidental_damage, swap_for_repair, no_reason_repair"), p.Kind)
		return
	}

	// Terms by kind (DESIGN.md rules 4-7).
	not := func(loc string, set bool) {
		if set {
			v.AddMsg(loc, i18n.M("warranty.not_a_term", "Kind", string(p.Kind)), nil)
		}
	}
	need := func(loc string, set bool) bool {
		if !set {
			v.AddMsg(loc, i18n.M("warranty.required_for_plans", "Kind", string(p.Kind)), nil)
		}
		return set
	}
	categories := func(allowed []string, what string) {
		if categoriesOK && !subset(p.EligibleCategories, allowed) {
			v.AddMsg("eligible_categories", i18n.M("warranty.covers_only", "What", what, "Values", strings.Join(allowed, ", ")), p.EligibleCategories)
		}
	}
	startAtLeast := func(minOffset int, what string) {
		if p.StartOffsetDays != nil && *p.StartOffsetDays < minOffset {
			v.AddMsg("start_offset_days", i18n.M("warranty.start_offset", "What", what, "Days", minOffset), *p.StartOffsetDays)
		}
	}
	oneYear := func() {
		if p.DurationMonths != ProtectionPlanMonths {
			v.AddMsg("duration_months", i18n.M("warranty.protection_one_year"), p.DurationMonths)
		}
	}
	switch p.Kind {
	case KindExtendedWarranty:
		categories(extendedCategories, "an extended warranty")
		if p.StartOffsetDays != nil {
			v.AddMsg("start_offset_days", i18n.M("warranty.extended_start"), *p.StartOffsetDays)
		}
		if p.DurationMonths != 12 && p.DurationMonths != 24 && p.DurationMonths != 36 {
			v.AddMsg("duration_months", i18n.M("warranty.extended_duration"), p.DurationMonths)
		}
		not("discount_percent", p.DiscountPercent != nil)
		not("flat_fee", p.FlatFee != nil)
		not("depreciation_cap_percent", p.DepreciationCapPercent != nil)
		not("compensation", p.Compensation != nil)
		not("payout_business_days", p.PayoutBusinessDays != nil)
		not("depreciation_schedule", len(p.DepreciationSchedule) > 0)
	case KindAccidentalDamage:
		categories(accidentalCategories, "an accidental-damage plan")
		if need("depreciation_schedule", len(p.DepreciationSchedule) > 0) {
			checkSchedule(v, p, 100)
		}
		startAtLeast(30, "an accidental-damage plan")
		oneYear()
		if need("discount_percent", p.DiscountPercent != nil) && *p.DiscountPercent < MinAccidentalDiscountPercent {
			v.AddMsg("discount_percent", i18n.M("common.at_least", "Min", 50), *p.DiscountPercent)
		}
		not("flat_fee", p.FlatFee != nil)
		not("compensation", p.Compensation != nil)
		not("payout_business_days", p.PayoutBusinessDays != nil)
	case KindSwapForRepair:
		oneYear()
		switch {
		case !categoriesOK:
		case subset(p.EligibleCategories, swapTabletCategories):
			startAtLeast(1, "a tablet swap plan")
			if need("depreciation_cap_percent", p.DepreciationCapPercent != nil) && *p.DepreciationCapPercent > MaxTabletDepreciationPercent {
				v.AddMsg("depreciation_cap_percent", i18n.M("warranty.max_percent_39"), *p.DepreciationCapPercent)
			}
			if len(p.DepreciationSchedule) > 0 {
				checkSchedule(v, p, MaxTabletDepreciationPercent)
			}
			not("flat_fee", p.FlatFee != nil)
		case subset(p.EligibleCategories, swapFlatCategories):
			startAtLeast(30, "a kitchen or small-appliance swap plan")
			// Seed 002 (以换代修, 厨房电器/生活电器: 消费者支付30元手续费):
			// the customer pays 30 CNY for the new unit, no more. The
			// seed's amount is CNY: a tenant in another currency, with no
			// rate configured, is held to none.
			if need("flat_fee", p.FlatFee != nil) && currency == entitlement.SeedCurrency && p.FlatFee.Currency == currency &&
				p.FlatFee.Amount > entitlement.SeedSwapFlatFee {
				v.AddMsg("flat_fee.amount", i18n.M("warranty.max_flat_fee_30"), p.FlatFee.Amount)
			}
			not("depreciation_cap_percent", p.DepreciationCapPercent != nil)
			not("depreciation_schedule", len(p.DepreciationSchedule) > 0)
		default:
			v.AddMsg("eligible_categories", i18n.M("warranty.swap_categories"), p.EligibleCategories)
		}
		not("discount_percent", p.DiscountPercent != nil)
		not("compensation", p.Compensation != nil)
		not("payout_business_days", p.PayoutBusinessDays != nil)
	case KindNoReasonRepair:
		categories(noReasonCategories, "a no-reason repair plan")
		startAtLeast(1, "a no-reason repair plan")
		oneYear()
		if need("discount_percent", p.DiscountPercent != nil) && *p.DiscountPercent < MinNoReasonDiscountPercent {
			v.AddMsg("discount_percent", i18n.M("common.at_least", "Min", 80), *p.DiscountPercent)
		}
		need("compensation", p.Compensation != nil)
		need("payout_business_days", p.PayoutBusinessDays != nil)
		if need("depreciation_schedule", len(p.DepreciationSchedule) > 0) {
			checkSchedule(v, p, 100)
		}
		not("flat_fee", p.FlatFee != nil)
	}
}

// MaxDepreciationSteps is the most steps a depreciation schedule has.
const MaxDepreciationSteps = 24

// checkSchedule checks a depreciation schedule: 1-24 steps, up_to_month
// 1-120 and increasing, percent 1-100, not falling (a unit depreciates as
// it ages), at most maxPercent and at most the plan's cap.
func checkSchedule(v *tenants.Validation, p Plan, maxPercent int) {
	steps := p.DepreciationSchedule
	if len(steps) > MaxDepreciationSteps {
		v.AddMsg("depreciation_schedule", i18n.M("warranty.max_steps", "Max", MaxDepreciationSteps), len(steps))
		return
	}
	if p.DepreciationCapPercent != nil && *p.DepreciationCapPercent < maxPercent {
		maxPercent = *p.DepreciationCapPercent
	}
	for i, st := range steps {
		loc := fmt.Sprintf("depreciation_schedule[%d]", i)
		switch {
		case st.UpToMonth < 1 || st.UpToMonth > 120:
			v.AddMsg(loc+".up_to_month", i18n.M("common.range", "Min", 1, "Max", 120), st.UpToMonth)
		case i > 0 && st.UpToMonth <= steps[i-1].UpToMonth:
			v.AddMsg(loc+".up_to_month", i18n.M("warranty.after_previous_step"), st.UpToMonth)
		}
		switch {
		case st.Percent < 1 || st.Percent > 100:
			v.AddMsg(loc+".percent", i18n.M("common.range", "Min", 1, "Max", 100), st.Percent)
		case st.Percent > maxPercent:
			v.AddMsg(loc+".percent", i18n.M("warranty.at_most_cap", "Max", maxPercent), st.Percent)
		case i > 0 && st.Percent < steps[i-1].Percent:
			v.AddMsg(loc+".percent", i18n.M("warranty.depreciation_not_below"), st.Percent)
		}
	}
}

// coveredCauses are the fault causes a plan exists to cover.
func coveredCauses(p Plan) []string {
	var out []string
	switch p.Kind {
	case KindExtendedWarranty:
		out = append(out, CauseHardwareFault)
		out = append(out, EnvironmentalCauses...)
	case KindAccidentalDamage:
		out = append(out, AccidentalCauses...)
	case KindSwapForRepair:
		out = append(out, CauseHardwareFault)
	case KindNoReasonRepair:
		out = append(out, EnvironmentalCauses...)
		out = append(out, AccidentalCauses...)
	}
	return out
}

const planColumns = `p.id, p.code, p.name, p.kind, p.eligible_categories, p.start_offset_days, p.starts_after_manufacturer_warranty,
	p.duration_months, p.discount_percent, p.flat_fee, p.depreciation_cap_percent, p.compensation, p.payout_business_days,
	p.environmental_faults_free, p.no_visit_fee_large_appliances, p.exclusions, p.price, p.currency, p.sale_window_days,
	p.status, p.version, p.created_at, p.updated_at, p.depreciation_schedule, p.covers_maintenance`

// planDest returns scan destinations for planColumns into p and a func that
// finishes p after the scan.
func planDest(p *Plan) ([]any, func()) {
	var flat, comp *int64
	dest := []any{&p.ID, &p.Code, &p.Name, &p.Kind, &p.EligibleCategories, &p.StartOffsetDays, &p.StartsAfterManufacturerWarranty,
		&p.DurationMonths, &p.DiscountPercent, &flat, &p.DepreciationCapPercent, &comp, &p.PayoutBusinessDays,
		&p.EnvironmentalFaultsFree, &p.NoVisitFeeLargeAppliances, &p.Exclusions, &p.Price.Amount, &p.Price.Currency, &p.SaleWindowDays,
		&p.Status, &p.Version, &p.CreatedAt, &p.UpdatedAt, &p.DepreciationSchedule, &p.CoversMaintenance}
	return dest, func() {
		if flat != nil {
			p.FlatFee = &tenants.Money{Amount: *flat, Currency: p.Price.Currency}
		}
		if comp != nil {
			p.Compensation = &tenants.Money{Amount: *comp, Currency: p.Price.Currency}
		}
	}
}

func scanPlan(row pgx.Row) (Plan, error) {
	var p Plan
	dest, finish := planDest(&p)
	if err := row.Scan(dest...); err != nil {
		return Plan{}, err
	}
	finish()
	return p, nil
}

// scheduleArg is a depreciation schedule as a jsonb argument: NULL when
// there is none.
func scheduleArg(s []entitlement.DepreciationStep) any {
	if len(s) == 0 {
		return nil
	}
	return s
}

func amount(m *tenants.Money) *int64 {
	if m == nil {
		return nil
	}
	return &m.Amount
}

// getPlan reads a plan; lock is "" or a locking clause.
func getPlan(ctx context.Context, tx pg.TenantTx, id, lock string) (Plan, error) {
	if !tenants.ValidID(tenants.PrefixPlan, id) {
		return Plan{}, tenants.NotFound("coverage plan")
	}
	p, err := scanPlan(tx.QueryRow(ctx, `SELECT `+planColumns+` FROM coverage_plans p WHERE p.tenant_id = $1 AND p.id = $2 `+lock, tx.TenantID, id))
	if errors.Is(err, pgx.ErrNoRows) {
		return Plan{}, tenants.NotFound("coverage plan")
	}
	return p, err
}

// insertPlan validates p and stores it with an event.
func insertPlan(ctx context.Context, tx pg.TenantTx, p Plan, actor string) (Plan, error) {
	out, err := scanPlan(tx.QueryRow(ctx, `
		INSERT INTO coverage_plans AS p (tenant_id, id, code, name, kind, eligible_categories, start_offset_days,
		       starts_after_manufacturer_warranty, duration_months, discount_percent, flat_fee, depreciation_cap_percent,
		       compensation, payout_business_days, environmental_faults_free, no_visit_fee_large_appliances, exclusions,
		       price, currency, sale_window_days, depreciation_schedule, covers_maintenance)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21, $22)
		RETURNING `+planColumns,
		tx.TenantID, tenants.NewID(tenants.PrefixPlan), p.Code, p.Name, p.Kind, p.EligibleCategories, p.StartOffsetDays,
		p.StartsAfterManufacturerWarranty, p.DurationMonths, p.DiscountPercent, amount(p.FlatFee), p.DepreciationCapPercent,
		amount(p.Compensation), p.PayoutBusinessDays, p.EnvironmentalFaultsFree, p.NoVisitFeeLargeAppliances, p.Exclusions,
		p.Price.Amount, p.Price.Currency, p.SaleWindowDays, scheduleArg(p.DepreciationSchedule), p.CoversMaintenance))
	if err != nil {
		return Plan{}, err
	}
	return out, events.Append(ctx, tx, events.New{Type: TypePlanCreated, SubjectID: out.ID, Actor: actor,
		Data: map[string]any{"code": out.Code, "kind": out.Kind, "eligible_categories": out.EligibleCategories}})
}

// CreatePlan adds a coverage plan. Its terms are checked against the seed's
// rules for its kind; every bad field is reported at once. Codes are unique
// per tenant (conflict).
func (s *Service) CreatePlan(ctx context.Context, p tenants.Principal, in NewPlan) (Plan, error) {
	var out Plan
	err := pg.InTenantTx(ctx, s.DB, p.TenantID, func(tx pg.TenantTx) error {
		st, err := tx.Settings(ctx)
		if err != nil {
			return err
		}
		plan := planFromInput(in, st.Currency)
		v := &tenants.Validation{}
		validatePlan(v, plan, st.Currency)
		if err := v.Err(); err != nil {
			return err
		}
		out, err = insertPlan(ctx, tx, plan, p.Subject())
		return err
	})
	return out, pg.Translate(err)
}

// GetPlan returns a coverage plan.
func (s *Service) GetPlan(ctx context.Context, p tenants.Principal, id string) (Plan, error) {
	var out Plan
	err := pg.InTenantTx(ctx, s.DB, p.TenantID, func(tx pg.TenantTx) error {
		var err error
		out, err = getPlan(ctx, tx, id, "")
		return err
	})
	return out, pg.Translate(err)
}

// ListPlans lists coverage plans in id (creation) order.
func (s *Service) ListPlans(ctx context.Context, p tenants.Principal, f PlanFilter) ([]Plan, string, error) {
	v := &tenants.Validation{}
	if f.Kind != "" && !slices.Contains(PlanKinds, PlanKind(f.Kind)) {
		v.AddMsg("kind", i18n.M("common.one_of", "Values", "extended_warranty, accidental_damage, swap_for_repair, no_reason_repair"), f.Kind)
	}
	if f.Category != "" && !slices.Contains(Categories, f.Category) {
		v.AddMsg("category", i18n.M("common.one_of", "Values", strings.Join(Categories, ", ")), f.Category)
	}
	if f.Status != "" && f.Status != PlanActive && f.Status != PlanRetired {
		v.AddMsg("status", i18n.M("common.one_of", "Values", "active, retired"), f.Status)
	}
	if err := v.Err(); err != nil {
		return nil, "", err
	}
	f.Limit = tenants.PageLimit(f.Limit)
	after, err := tenants.PageAfter("coverage_plans", f.Cursor)
	if err != nil {
		return nil, "", err
	}
	out, err := pg.QueryRows(ctx, s.DB, p.TenantID, func(r pgx.CollectableRow) (Plan, error) { return scanPlan(r) }, `
		SELECT `+planColumns+` FROM coverage_plans p
		WHERE p.tenant_id = $1 AND p.id > $2
		  AND ($3 = '' OR p.kind = $3)
		  AND ($4 = '' OR p.eligible_categories @> ARRAY[$4])
		  AND ($5 = '' OR p.status = $5)
		ORDER BY p.id LIMIT $6`,
		after, f.Kind, f.Category, f.Status, f.Limit+1)
	if err != nil {
		return nil, "", err
	}
	out, next := tenants.NextPage("coverage_plans", out, f.Limit, func(p Plan) string { return p.ID })
	return out, next, nil
}

// planTerms are the fields of a plan a sold contract fixes.
var planTerms = []string{"eligible_categories", "start_offset_days", "duration_months", "discount_percent", "flat_fee",
	"depreciation_cap_percent", "depreciation_schedule", "compensation", "payout_business_days", "exclusions"}

// UpdatePlan applies u to a plan; ifVersion > 0 must match its version.
// Changing a term once a contract for the plan exists is a conflict: retire
// the plan and create another instead.
func (s *Service) UpdatePlan(ctx context.Context, p tenants.Principal, id string, u PlanUpdate, ifVersion int) (Plan, error) {
	var out Plan
	err := pg.InTenantTx(ctx, s.DB, p.TenantID, func(tx pg.TenantTx) error {
		st, err := tx.Settings(ctx)
		if err != nil {
			return err
		}
		old, err := getPlan(ctx, tx, id, "FOR UPDATE")
		if err != nil {
			return err
		}
		if err := tenants.CheckVersion("coverage plan", ifVersion, old.Version); err != nil {
			return err
		}
		n := old
		var changed tenants.Changes
		set := changed.Set
		set("name", tenants.Differs(u.Name, n.Name), func() { n.Name = *u.Name })
		set("price", tenants.Differs(u.Price, n.Price), func() { n.Price = *u.Price })
		set("status", tenants.Differs(u.Status, n.Status), func() { n.Status = *u.Status })
		set("sale_window_days", tenants.DiffersPtr(u.SaleWindowDays, n.SaleWindowDays), func() { n.SaleWindowDays = u.SaleWindowDays })
		set("eligible_categories", tenants.Differs(u.EligibleCategories, n.EligibleCategories), func() { n.EligibleCategories = *u.EligibleCategories })
		set("start_offset_days", tenants.DiffersPtr(u.StartOffsetDays, n.StartOffsetDays), func() { n.StartOffsetDays = u.StartOffsetDays })
		set("duration_months", tenants.Differs(u.DurationMonths, n.DurationMonths), func() { n.DurationMonths = *u.DurationMonths })
		set("discount_percent", tenants.DiffersPtr(u.DiscountPercent, n.DiscountPercent), func() { n.DiscountPercent = u.DiscountPercent })
		set("flat_fee", tenants.DiffersPtr(u.FlatFee, n.FlatFee), func() { n.FlatFee = u.FlatFee })
		set("depreciation_cap_percent", tenants.DiffersPtr(u.DepreciationCapPercent, n.DepreciationCapPercent), func() { n.DepreciationCapPercent = u.DepreciationCapPercent })
		set("depreciation_schedule", tenants.Differs(u.DepreciationSchedule, n.DepreciationSchedule), func() { n.DepreciationSchedule = *u.DepreciationSchedule })
		set("compensation", tenants.DiffersPtr(u.Compensation, n.Compensation), func() { n.Compensation = u.Compensation })
		set("payout_business_days", tenants.DiffersPtr(u.PayoutBusinessDays, n.PayoutBusinessDays), func() { n.PayoutBusinessDays = u.PayoutBusinessDays })
		set("exclusions", u.Exclusions != nil && !slices.Equal(normalizeExclusions(*u.Exclusions), n.Exclusions),
			func() { n.Exclusions = normalizeExclusions(*u.Exclusions) })
		terms := changed.Among(planTerms...)
		v := &tenants.Validation{}
		if n.Status != PlanActive && n.Status != PlanRetired {
			v.AddMsg("status", i18n.M("common.one_of", "Values", "active, retired"), n.Status)
		}
		validatePlan(v, n, st.Currency)
		if err := v.Err(); err != nil {
			return err
		}
		if len(changed) == 0 {
			out = old
			return nil
		}
		if len(terms) > 0 {
			var sold bool
			if err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM contracts WHERE tenant_id = $1 AND plan_id = $2)`,
				tx.TenantID, old.ID).Scan(&sold); err != nil {
				return err
			}
			if sold {
				return tenants.ErrorMsg(tenants.CodeConflict, i18n.M("warranty.terms_fixed")).With(
					tenants.FieldMsg(terms[0], i18n.M("warranty.term_with_contracts"), nil))
			}
		}
		out, err = scanPlan(tx.QueryRow(ctx, `
			UPDATE coverage_plans AS p SET name = $3, price = $4, status = $5, sale_window_days = $6, eligible_categories = $7,
			       start_offset_days = $8, duration_months = $9, discount_percent = $10, flat_fee = $11,
			       depreciation_cap_percent = $12, compensation = $13, payout_business_days = $14, exclusions = $15,
			       depreciation_schedule = $16, version = version + 1, updated_at = now()
			WHERE p.tenant_id = $1 AND p.id = $2
			RETURNING `+planColumns,
			tx.TenantID, old.ID, n.Name, n.Price.Amount, n.Status, n.SaleWindowDays, n.EligibleCategories,
			n.StartOffsetDays, n.DurationMonths, n.DiscountPercent, amount(n.FlatFee),
			n.DepreciationCapPercent, amount(n.Compensation), n.PayoutBusinessDays, n.Exclusions, scheduleArg(n.DepreciationSchedule)))
		if err != nil {
			return err
		}
		data := map[string]any{"changed": changed, "version": out.Version}
		if out.Status != old.Status {
			data["from_status"], data["to_status"] = old.Status, out.Status
		}
		return events.Append(ctx, tx, events.New{Type: TypePlanUpdated, SubjectID: out.ID, Actor: p.Subject(), Data: data})
	})
	return out, pg.Translate(err)
}
