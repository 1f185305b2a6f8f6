package warranty

import (
	"context"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/servicenet/servicenet/internal/i18n"
	"github.com/servicenet/servicenet/internal/pg"
	"github.com/servicenet/servicenet/tenants"
	"github.com/servicenet/servicenet/tenants/catalog"
	"github.com/servicenet/servicenet/tenants/customers"
	"github.com/servicenet/servicenet/tenants/payouts/calendar"
	"github.com/servicenet/servicenet/tenants/testclocks"
	"github.com/servicenet/servicenet/tenants/warranty/entitlement"
)

// DecideRequest asks what a registered unit's owner is entitled to for a
// fault on a date: the unit, its model, contracts and service history are
// read from the tenant's records; the work is priced by a stored quote or,
// for a preview, by the price list in effect on the date.
type DecideRequest struct {
	UnitID          string         `json:"unit_id" maxLength:"64" doc:"The registered unit. A storefront key may ask only about units its storefront sold." example:"unt_01jd3zq8w6v7t3y2k9x4n5m6ph"`
	Fault           FaultReport    `json:"fault"`
	RequestedRemedy string         `json:"requested_remedy,omitempty" enum:"repair,exchange,return,swap" doc:"What the customer asks for; default repair. The decision prices it when it is allowed, else the best allowed remedy." example:"repair"`
	On              string         `json:"on,omitempty" format:"date" doc:"The service date, in the tenant's time zone; default today. Not in the future, not before the purchase." example:"2026-11-20"`
	TestClockID     string         `json:"test_clock_id,omitempty" maxLength:"64" doc:"Test mode only: decide at this test clock's time (today, the default on and the latest allowed, are the clock's). Without it, a unit whose contracts live on one test clock is decided at that clock's time; on several, name one. With a live key, or a clock the key does not see, 422 on body.test_clock_id." example:"clk_01jd3zq8w6v7t3y2k9x4n5m6pq"`
	QuoteID         string         `json:"quote_id,omitempty" maxLength:"64" doc:"A stored quote (createQuote) for the unit's model: the decision keeps its price list version. Give quote_id or work, or neither for a decision without charges." example:"quo_01jd3zq8w6v7t3y2k9x4n5m6pg"`
	Work            *Work          `json:"work,omitempty"`
	CardCharge      *tenants.Money `json:"warranty_card_charge,omitempty"`
	Visit           *VisitReport   `json:"visit,omitempty"`
}

// FaultReport is what is wrong and why.
type FaultReport struct {
	Cause          string   `json:"cause" enum:"performance,environmental_dust,environmental_heat,environmental_moisture,power_surge,unstable_voltage,accidental_damage,human_damage,force_majeure,software_tuning,no_fault,delivery_damage" doc:"Category of the cause: a performance fault in normal use; environmental (dust, heat, moisture or condensation, power surge, unstable voltage); accidental damage (drop, crush, impact); human damage (deliberate misuse, unauthorised disassembly); force majeure; software or tuning." example:"accidental_damage"`
	PartCategories []string `json:"part_categories,omitempty" maxItems:"20" doc:"Categories of the parts the fault concerns: key parts have longer terms." example:"[\"screen\"]"`
	Repairable     *bool    `json:"repairable,omitempty" doc:"Whether the unit can be repaired; default true. Unrepairable units may be swapped under a plan." example:"true"`
	Resaleable     bool     `json:"resaleable,omitempty" doc:"For a return: the unit and packaging can be resold (seven-day no-reason return)." example:"false"`
	ChangeOfMind   bool     `json:"change_of_mind,omitempty" doc:"The customer no longer wants the unit (no fault): seven-day return at the buyer's freight, the seven days counted from the day after receipt (the unit's purchase_date; its seventh day after is the last)." example:"false"`
	WrongOrDamaged bool     `json:"wrong_or_damaged_on_delivery,omitempty" doc:"Wrong goods, or damaged in delivery: the seller pays freight." example:"false"`
}

// Work is a job to price with the price list in effect on the decision's
// date, without storing a quote.
type Work struct {
	ServiceKind  string              `json:"service_kind" enum:"install,repair,maintenance,carry_in,remote" doc:"Kind of work: prices the labor line." example:"repair"`
	Parts        []catalog.QuotePart `json:"parts,omitempty" maxItems:"50" doc:"Parts the job needs; each must fit the unit's model."`
	IncludeVisit bool                `json:"include_visit,omitempty" doc:"Add the visit fee." example:"true"`
}

// VisitReport is how the service went, for the service promises (rule 8).
type VisitReport struct {
	LateMinutes            int   `json:"late_minutes,omitempty" minimum:"0" maximum:"10080" doc:"Minutes the technician arrived after the agreed time." example:"20"`
	CustomerRefused        bool  `json:"customer_refused,omitempty" doc:"The customer refused the late technician." example:"false"`
	RepeatVisitByNetwork   bool  `json:"repeat_visit_by_network,omitempty" doc:"An installation visited again because delivery was not in sync with it, the unit bought at the brand's own store (Midea's promise 2, 限美的专卖店购买): the service is free. A repair visited again is not one: a fault back after a paid repair is the repeat-fault promise's, from the unit's history." example:"false"`
	PriceListNotShown      bool  `json:"price_list_not_shown,omitempty" doc:"The price list was not shown before charging." example:"false"`
	LicenceNotShown        bool  `json:"licence_not_shown,omitempty" doc:"The technician did not show a service licence." example:"false"`
	ConductBreach          bool  `json:"conduct_breach,omitempty" doc:"A serious breach of the conduct standard." example:"false"`
	ArrivalMinutes         []int `json:"arrival_minutes,omitempty" maxItems:"50" doc:"Minutes after the agreed time of each visit's arrival, first visit first (negative: early). The late promise belongs to the service: one late visit makes it free, whatever later visits do." example:"[16,-5]"`
	LicenceNotMatching     bool  `json:"licence_not_matching,omitempty" doc:"The licence shown was not the technician's." example:"false"`
	ChargedBeyondPriceList bool  `json:"charged_beyond_price_list,omitempty" doc:"The customer was charged beyond the price list." example:"false"`
	LateArrivalUpheld      bool  `json:"late_arrival_upheld,omitempty" doc:"A complaint that the technician did not come within the window agreed with the customer was upheld (a ticket records it: complaint category late_arrival): the late promise applies (late_arrival, with an apology) whatever the check-in recorded." example:"false"`
}

// Entitlement is a decision with what it was made from.
type Entitlement struct {
	UnitID           string               `json:"unit_id" example:"unt_01jd3zq8w6v7t3y2k9x4n5m6ph"`
	On               string               `json:"on" format:"date" doc:"The service date decided for." example:"2026-11-20"`
	Day              int                  `json:"day" doc:"Day of ownership on that date; the purchase date is day 1." example:"40"`
	ManufacturerEnd  string               `json:"manufacturer_warranty_ends_on" format:"date" doc:"Last day of the whole-unit manufacturer warranty." example:"2027-10-10"`
	QuoteID          string               `json:"quote_id,omitempty" doc:"The stored quote that priced the work." example:"quo_01jd3zq8w6v7t3y2k9x4n5m6pg"`
	PriceListVersion int                  `json:"price_list_version,omitempty" doc:"The price list version that priced the work." example:"1"`
	Decision         entitlement.Decision `json:"decision"`
}

// Decide answers req for the principal. Nothing is written: it is a preview
// that agents, storefronts and technicians show before any charge.
func (s *Service) Decide(ctx context.Context, p tenants.Principal, req DecideRequest) (Entitlement, error) {
	if !tenants.ValidID(tenants.PrefixUnit, req.UnitID) {
		return Entitlement{}, tenants.NotFound("unit")
	}
	var out Entitlement
	err := pg.InTenantTx(ctx, s.DB, p.TenantID, func(tx pg.TenantTx) error {
		r, err := LoadUnitRecords(ctx, tx, p, req.UnitID)
		if err != nil {
			return err // not_found: absent, another tenant's or outside the key's scope
		}
		now, err := previewTime(ctx, tx, p, req, r, s.now())
		if err != nil {
			return err
		}
		out, err = decideOn(ctx, tx, req, r, now)
		return err
	})
	return out, pg.Translate(err)
}

// previewTime is the time a preview of the unit whose records are r is
// decided at: the test clock req names (testclocks.AtTx), else the one
// clock the unit's contracts live on, else now. A plan sold on a clock
// is active, pending or expired by the clock's days, and so is the
// warranty the preview judges beside it; contracts on several clocks leave
// the time to the caller (422 at test_clock_id).
func previewTime(ctx context.Context, tx pg.TenantTx, p tenants.Principal, req DecideRequest, r UnitRecords, now time.Time) (time.Time, error) {
	v := &tenants.Validation{}
	if req.TestClockID != "" {
		at, err := testclocks.AtTx(ctx, tx, p, v, "test_clock_id", req.TestClockID, now)
		if err != nil {
			return now, err
		}
		return at, v.Err()
	}
	var clocks []string
	for _, c := range r.Contracts {
		if c.TestClockID != nil && !slices.Contains(clocks, *c.TestClockID) {
			clocks = append(clocks, *c.TestClockID)
		}
	}
	switch len(clocks) {
	case 0:
		return now, nil
	case 1:
		return testclocks.NowTx(ctx, tx, clocks[0])
	}
	v.AddMsg("test_clock_id", i18n.M("warranty.contracts_on_clocks", "Clocks", strings.Join(clocks, ", ")), nil)
	return now, v.Err()
}

// decideOn answers req about the unit whose records are r.
func decideOn(ctx context.Context, tx pg.TenantTx, req DecideRequest, r UnitRecords, now time.Time) (Entitlement, error) {
	in, e, err := gatherDecision(ctx, tx, req, r, now)
	if err != nil {
		return Entitlement{}, err
	}
	d, err := entitlement.Decide(in)
	if err != nil {
		return Entitlement{}, err
	}
	e.Decision = d
	return e, nil
}

// UnitRecords are the records an entitlement question about a unit rests
// on: the tenant's settings, the unit, its model, contracts and service
// history.
type UnitRecords struct {
	Settings  pg.TenantSettings
	Unit      customers.Unit
	Model     catalog.ProductModel
	Contracts []Contract
	// MovedAway are the contracts that left the unit for a replacement
	// (read for claims only: QueueUnitRecordsSystem).
	MovedAway []MovedContract
	History   []customers.ServiceRecord
}

// LoadUnitRecords reads a unit's records in one pipelined round trip, in
// the caller's transaction; the unit is read in p's scope (not_found outside
// it). Decisions and claim adjudication both start here.
func LoadUnitRecords(ctx context.Context, tx pg.TenantTx, p tenants.Principal, unitID string) (UnitRecords, error) {
	return loadUnitRecords(ctx, tx, unitID, func(b *pgx.Batch, u *customers.Unit) {
		customers.QueueLoadUnit(b, tx.TenantID, p, unitID, u)
	})
}

// loadUnitRecords is LoadUnitRecords with the unit's read queued by
// queueUnit (in a principal's scope, or the tenant's whole view).
func loadUnitRecords(ctx context.Context, tx pg.TenantTx, unitID string, queueUnit func(*pgx.Batch, *customers.Unit)) (UnitRecords, error) {
	var r UnitRecords
	b := &pgx.Batch{}
	pg.QueueSettings(b, &r.Settings)
	queueUnit(b, &r.Unit)
	catalog.QueueUnitModel(b, tx.TenantID, unitID, &r.Model)
	QueueUnitContracts(b, tx.TenantID, unitID, &r.Contracts)
	customers.QueueLoadHistory(b, tx.TenantID, unitID, &r.History)
	return r, tx.SendBatch(ctx, b).Close()
}

// gatherDecision checks the request against the unit's records, prices the
// work and builds the engine's input.
func gatherDecision(ctx context.Context, tx pg.TenantTx, req DecideRequest, r UnitRecords, now time.Time) (entitlement.Input, Entitlement, error) {
	var (
		in  entitlement.Input
		out Entitlement
		v   tenants.Validation
	)
	unit, model, contracts, history := r.Unit, r.Model, r.Contracts, r.History
	today, currency := r.Settings.Today(now), r.Settings.Currency
	purchase, _ := time.Parse(time.DateOnly, unit.PurchaseDate)
	on := req.On
	switch {
	case on == "":
		on = today
	case !isDate(on):
		v.AddMsg("on", i18n.M("common.date_format"), req.On)
	case on > today:
		v.AddMsg("on", i18n.M("common.must_not_be_in_future_today", "Today", today), req.On)
	case on < unit.PurchaseDate:
		v.AddMsg("on", i18n.M("common.before_purchase_date", "Date", unit.PurchaseDate), req.On)
	}
	if req.CardCharge != nil {
		tenants.CheckMoney(&v, "warranty_card_charge", *req.CardCharge, currency)
	}
	remedy := entitlement.RemedyRepair
	if req.RequestedRemedy != "" {
		remedy = entitlement.RemedyKind(req.RequestedRemedy)
	}
	if req.QuoteID != "" && req.Work != nil {
		v.AddMsg("work", i18n.M("warranty.quote_or_work"), nil)
	}
	if err := v.Err(); err != nil {
		return in, out, err
	}

	var quote entitlement.Quote
	switch {
	case req.QuoteID != "":
		q, err := catalog.LoadQuote(ctx, tx, req.QuoteID)
		if tenants.ErrorCode(err) == tenants.CodeNotFound {
			return in, out, tenants.InvalidMsg("quote_id", i18n.M("warranty.no_such_quote"), req.QuoteID)
		} else if err != nil {
			return in, out, err
		}
		if q.ModelID != unit.ModelID {
			return in, out, tenants.InvalidMsg("quote_id", i18n.M("warranty.quote_other_model"), req.QuoteID)
		}
		out.QuoteID, out.PriceListVersion = q.ID, q.PriceListVersion
		quote = engineQuote(q)
	case req.Work != nil:
		q, err := catalog.PriceJobFor(ctx, tx, model, catalog.NewQuote{ModelID: unit.ModelID, ServiceKind: req.Work.ServiceKind,
			Parts: req.Work.Parts, IncludeVisit: req.Work.IncludeVisit, On: on}, today)
		if err != nil {
			return in, out, tenants.Relocate(err, "", "work.", "on") // PriceJob's problems are about this request's work
		}
		out.PriceListVersion = q.PriceListVersion
		quote = engineQuote(q)
	}

	date, _ := time.Parse(time.DateOnly, on)
	in = entitlement.Input{
		Unit:            EngineUnit(unit, model, purchase),
		Contracts:       make([]entitlement.Contract, 0, len(contracts)),
		History:         engineHistory(history),
		Fault:           engineFault(req.Fault),
		RequestedRemedy: remedy,
		Date:            date,
		Quote:           quote,
	}
	for _, c := range contracts {
		in.Contracts = append(in.Contracts, EngineContract(c, date))
	}
	if req.CardCharge != nil {
		cc := *req.CardCharge
		in.WarrantyCardCharge = &cc
	}
	if req.Visit != nil {
		in.Visit = entitlement.Visit(*req.Visit)
	}
	if err := WithWorkingDays(ctx, tx, &in); err != nil {
		return in, out, err
	}
	out.UnitID, out.On = unit.ID, on
	out.Day = entitlement.DayOf(purchase, date)
	out.ManufacturerEnd = ManufacturerWarrantyEnd(purchase, in.Unit.WarrantyMonths).Format(time.DateOnly)
	return in, out, nil
}

// WithWorkingDays gives the engine's input the tenant's working-day
// calendar (Monday to Friday less the tenant's holidays, plus its make-up
// working days), read in the caller's
// transaction, for the due date of rule 7's compensation: the payout that
// compensation becomes is due on the same calendar (calendar.WorkingDaysAfter),
// so the date a decision shows is the date the brand must pay by. Counted
// on weekends alone, a repair before 国庆 was promised a date a week before
// the payout's. Only a no-reason repair plan owes a compensation: for a
// unit without one nothing is read. Decisions made here (a preview, a
// ticket's) call it; a caller that builds its own input must call it too.
func WithWorkingDays(ctx context.Context, tx pg.TenantTx, in *entitlement.Input) error {
	n := 0
	for i := range in.Contracts {
		if c := &in.Contracts[i]; c.Kind == entitlement.KindNoReasonRepair {
			// 5 is the engine's deadline when the plan gives none (rule
			// 7); the calendar serves any count up to n.
			n = max(n, c.Terms.PayoutBusinessDays, 5)
		}
	}
	if n == 0 {
		return nil
	}
	cal, err := calendar.Load(ctx, tx, in.Date, n)
	if err != nil {
		return err
	}
	in.BusinessDays = cal.After
	return nil
}

func isDate(s string) bool {
	_, err := time.Parse(time.DateOnly, s)
	return err == nil
}

// EngineUnit is a registered unit and its model as the engine sees them:
// the whole-unit warranty is the model's, or the longer one of a warranty
// promotion whose window holds the purchase date.
func EngineUnit(u customers.Unit, m catalog.ProductModel, purchase time.Time) entitlement.Unit {
	eu := entitlement.Unit{
		Category:         m.Category,
		PurchaseDate:     purchase,
		PurchasePrice:    u.PurchasePrice,
		RetailPrice:      m.RetailPrice,
		SoldByStorefront: u.Channel == "storefront",
	}
	var promo *catalog.WarrantyPromotion
	if eu.WarrantyMonths, promo = m.WholeUnitWarranty(purchase.Format(time.DateOnly)); promo != nil {
		eu.WarrantyPromotion = promo.Name
	}
	if u.StorefrontID != nil {
		eu.StorefrontID = *u.StorefrontID
	}
	if u.InstalledOn != nil {
		if d, err := time.Parse(time.DateOnly, *u.InstalledOn); err == nil {
			eu.InstalledOn = &d
		}
	}
	if u.OriginalPurchaseDate != nil {
		if d, err := time.Parse(time.DateOnly, *u.OriginalPurchaseDate); err == nil {
			eu.SaleDate = &d
		}
	}
	if len(m.KeyParts) > 0 {
		eu.KeyPartWarrantyMonths = make(map[string]int, len(m.KeyParts))
		for _, k := range m.KeyParts {
			eu.KeyPartWarrantyMonths[k.PartCategory] = k.WarrantyMonths
		}
	}
	return eu
}

func engineQuote(q catalog.Quote) entitlement.Quote {
	eq := entitlement.Quote{PriceListVersion: strconv.Itoa(q.PriceListVersion), ServiceKind: q.ServiceKind,
		Lines: make([]entitlement.QuoteLine, len(q.Lines))}
	for i, l := range q.Lines {
		eq.Lines[i] = entitlement.QuoteLine{Kind: l.Kind, Code: l.PartNumber, PartCategory: l.PartCategory,
			Description: l.Description, Amount: l.Amount}
	}
	return eq
}

// EngineContract is a contract and its plan terms as the engine sees them
// on the decision's date on. A contract the lifecycle job moves by its
// dates (pending, active, expired) is in the state its dates give on that
// day: the job runs hourly, so a plan that starts today (day 31, the next
// day, the day after the warranty) may still be stored pending, and a
// repair decided after its plan ended (a claim filed late) was inside it.
// A cancelled or consumed contract stays so.
func EngineContract(c Contract, on time.Time) entitlement.Contract {
	starts, _ := time.Parse(time.DateOnly, c.StartsOn)
	ends, _ := time.Parse(time.DateOnly, c.EndsOn)
	state := c.State
	if state == StatePending || state == StateActive || state == StateExpired {
		state = StateOn(starts, ends, on)
	}
	return entitlement.Contract{ID: c.ID, Kind: string(c.Plan.Kind), State: string(state), StartsOn: starts, EndsOn: ends,
		Terms: EngineTerms(c.Plan)}
}

// EngineTerms are a plan's terms as the engine sees them.
func EngineTerms(p Plan) entitlement.PlanTerms {
	terms := entitlement.PlanTerms{
		FlatFee:                      p.FlatFee,
		Compensation:                 p.Compensation,
		EligibleCategories:           p.EligibleCategories,
		NoVisitFeeForLargeAppliances: p.NoVisitFeeLargeAppliances,
		CoversMaintenance:            p.CoversMaintenance,
		DepreciationSchedule:         p.DepreciationSchedule,
	}
	if p.DiscountPercent != nil {
		terms.DiscountPercent = *p.DiscountPercent
	}
	if p.DepreciationCapPercent != nil {
		terms.DepreciationCapPercent = *p.DepreciationCapPercent
	}
	if p.PayoutBusinessDays != nil {
		terms.PayoutBusinessDays = *p.PayoutBusinessDays
	}
	for _, x := range p.Exclusions {
		terms.Exclusions = append(terms.Exclusions, entitlement.Cause(x))
	}
	return terms
}

// engineHistory turns the unit's repairs into the engine's history.
func engineHistory(records []customers.ServiceRecord) []entitlement.Repair {
	out := make([]entitlement.Repair, 0, len(records))
	for _, r := range records {
		if rep, ok := EngineRepair(r); ok {
			out = append(out, rep)
		}
	}
	return out
}

// EngineRepair is a service record as the engine's repair history sees it;
// other kinds of service (maintenance, claims, swaps, returns) are not
// repairs (ok false).
func EngineRepair(r customers.ServiceRecord) (entitlement.Repair, bool) {
	if r.Kind != "repair" {
		return entitlement.Repair{}, false
	}
	on, err := time.Parse(time.DateOnly, r.OccurredOn)
	if err != nil {
		return entitlement.Repair{}, false
	}
	rep := entitlement.Repair{On: on, Paid: r.Paid, Fixed: r.Fixed, PartCategories: r.PartCategories}
	if r.Basis != nil {
		rep.Basis = entitlement.Basis(*r.Basis)
	}
	switch {
	case r.FaultCause != nil && slices.Contains(entitlement.Causes, entitlement.Cause(*r.FaultCause)):
		rep.FaultCause = entitlement.Cause(*r.FaultCause)
	case !r.Paid && (rep.Basis == entitlement.BasisManufacturerWarranty || strings.HasPrefix(string(rep.Basis), "statutory")):
		// A legacy record with a free-text cause that the warranty paid
		// for was a performance fault: nothing else is free in warranty.
		rep.FaultCause = entitlement.CausePerformance
	case r.FaultCause != nil:
		rep.FaultCause = entitlement.Cause(*r.FaultCause)
	}
	return rep, true
}

func engineFault(f FaultReport) entitlement.Fault {
	ef := entitlement.Fault{Cause: entitlement.Cause(f.Cause), PartCategories: f.PartCategories, Repairable: true,
		Resaleable: f.Resaleable, ChangeOfMind: f.ChangeOfMind, WrongOrDamagedOnDelivery: f.WrongOrDamaged}
	if f.Repairable != nil {
		ef.Repairable = *f.Repairable
	}
	return ef
}
