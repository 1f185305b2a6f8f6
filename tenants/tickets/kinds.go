package tickets

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/servicenet/servicenet/internal/i18n"
	"github.com/servicenet/servicenet/tenants"
	"github.com/servicenet/servicenet/tenants/catalog"
	"github.com/servicenet/servicenet/tenants/customers"
	"github.com/servicenet/servicenet/tenants/payouts"
	"github.com/servicenet/servicenet/tenants/swaps"
	"github.com/servicenet/servicenet/tenants/warranty"
	"github.com/servicenet/servicenet/tenants/warranty/entitlement"
)

// Ticket types: each has its own flow in the published transition table.
const (
	TypeInstall      = "install"
	TypeRepair       = "repair"
	TypeMaintenance  = "maintenance"
	TypeConsultation = "consultation"
	TypeReturn       = "return"
	TypeExchange     = "exchange"
)

// Types lists every ticket type.
var Types = []string{TypeInstall, TypeRepair, TypeMaintenance, TypeConsultation, TypeReturn, TypeExchange}

// Actions of the service kinds other than repair.
const (
	// ActInstallReport: the installation report of an install ticket.
	ActInstallReport Action = "installation_reported"
	// ActServiceReport: the service checklist of a maintenance ticket.
	ActServiceReport Action = "service_reported"
	// ActPickup: a return's or exchange's unit is picked up from the
	// customer and taken to the node.
	ActPickup Action = "picked_up"
	// ActInspect: the picked-up unit is inspected (resellable, fault).
	ActInspect Action = "inspected"
	// ActOutcome: the return's or exchange's outcome: refund, exchange or
	// refusal.
	ActOutcome Action = "outcome_recorded"
)

// visiting are the types served by a visit (schedule, check-in, visit
// exceptions, checklist, sign-off); a consultation is remote only.
var visiting = []string{TypeInstall, TypeRepair, TypeMaintenance, TypeReturn, TypeExchange}

// actionTypes says which ticket types each action applies to; an action
// not listed applies to every type.
var actionTypes = map[Action][]string{
	ActGuidance:       {TypeRepair, TypeConsultation, TypeMaintenance},
	ActDispatch:       visiting,
	ActAssign:         visiting,
	ActAccept:         visiting,
	ActReject:         visiting,
	ActSchedule:       visiting,
	ActReschedule:     visiting,
	ActEnRoute:        visiting,
	ActCheckIn:        visiting,
	ActVisitException: visiting,
	ActContactAttempt: visiting,
	ActChecklist:      visiting,
	ActDiagnose:       {TypeRepair},
	ActParts:          {TypeRepair, TypeInstall, TypeMaintenance},
	ActCarryIn:        {TypeRepair},
	ActReturn:         {TypeRepair},
	ActSwap:           {TypeRepair},
	ActComplete:       {TypeRepair, TypeInstall, TypeMaintenance},
	ActSendCode:       visiting,
	ActSignOff:        visiting,
	ActInstallReport:  {TypeInstall},
	ActServiceReport:  {TypeMaintenance},
	ActPickup:         {TypeReturn, TypeExchange},
	ActInspect:        {TypeReturn, TypeExchange},
	ActOutcome:        {TypeReturn, TypeExchange},
	// the types whose completion charges the customer
	ActInvoiceRequested: {TypeRepair, TypeInstall, TypeMaintenance},
	ActInvoiceIssued:    {TypeRepair, TypeInstall, TypeMaintenance},
}

// The flows of the other service kinds join the published table.
func init() {
	Transitions = append(Transitions,
		Transition{Action: ActInstallReport, Endpoint: "POST /v1/tickets/{ticket_id}/installation-report", From: []State{StateOnSite},
			To: []State{StateOnSite}, Permission: "tickets.work",
			Summary: "Record the installation (position agreed, accessories used, test run, customer instructed), priced by the price list and shown before any charge; then complete."},
		Transition{Action: ActServiceReport, Endpoint: "POST /v1/tickets/{ticket_id}/service-report", From: []State{StateOnSite},
			To: []State{StateOnSite}, Permission: "tickets.work",
			Summary: "Record the maintenance or cleaning checklist, priced by the price list (never by the warranty; free under a plan covering maintenance); then complete."},
		Transition{Action: ActPickup, Endpoint: "POST /v1/tickets/{ticket_id}/pickup", From: []State{StateOnSite},
			To: []State{StateCarryIn}, Permission: "tickets.work",
			Summary: "Pick the unit to return or exchange up from the customer (the appointment was scheduled like a visit)."},
		Transition{Action: ActInspect, Endpoint: "POST /v1/tickets/{ticket_id}/inspection", From: []State{StateCarryIn},
			To: []State{StateCarryIn}, Permission: "tickets.work",
			Summary: "Inspect the picked-up unit (resellable, fault confirmed): the entitlement engine checks the remedy on the ticket's date."},
		Transition{Action: ActOutcome, Endpoint: "POST /v1/tickets/{ticket_id}/outcome", From: []State{StateCarryIn},
			To: []State{StateCompleted}, Permission: "tickets.work",
			Summary: "Record the outcome: refund (a payout), exchange (through the swaps capability) or refusal with the rule that refused it; freight to whoever the engine names."},
	)
	for i := range Transitions {
		if ts, ok := actionTypes[Transitions[i].Action]; ok {
			Transitions[i].Types = ts
		} else {
			Transitions[i].Types = Types
		}
	}
}

// wrongType is the conflict of an action outside the ticket's type.
func wrongType(tr Transition, typ string) error {
	_, verb, _ := strings.Cut(tr.Endpoint, "{ticket_id}/")
	var names []string
	for _, t := range Transitions {
		if slices.Contains(t.Types, typ) && len(actionTypes[t.Action]) > 0 && len(actionTypes[t.Action]) < len(Types) {
			names = append(names, string(t.Action))
		}
	}
	flow := "none of its own"
	if len(names) > 0 {
		flow = strings.Join(names, ", ")
	}
	return tenants.ErrorMsg(tenants.CodeConflict, i18n.M("tickets.action_not_in_flow", "Action", verb, "Type", typ, "Flow", flow))
}

// ServiceWork is what a ticket's type records beyond a repair.
type ServiceWork struct {
	DeliveredAt *time.Time `json:"delivered_at,omitempty" doc:"Install: when the unit was (or will be) delivered; the installation is due the policy's install_minutes after it." example:"2026-12-01T09:00:00+08:00"`
	// Install is the installation report.
	Install *InstallReport `json:"install,omitempty"`
	// Maintenance is the service checklist.
	Maintenance *ServiceReport `json:"maintenance,omitempty"`
	// Pickup is a return's or exchange's pickup.
	Pickup *Pickup `json:"pickup,omitempty"`
	// Inspection is the picked-up unit's inspection.
	Inspection *Inspection `json:"inspection,omitempty"`
	// Outcome is the return's or exchange's outcome.
	Outcome *ReturnOutcome `json:"outcome,omitempty"`
}

// InstallReport is the installation as done.
type InstallReport struct {
	Position           string              `json:"position" minLength:"1" maxLength:"300" doc:"Where the unit was installed, as agreed with the customer." example:"客厅北墙，距地 2.2 米"`
	PositionAgreed     bool                `json:"position_agreed" doc:"The customer agreed the position (required)." example:"true"`
	Accessories        []catalog.QuotePart `json:"accessories,omitempty" maxItems:"50" doc:"Materials used beyond the standard kit (extra pipe, brackets): charged at the price list's part price." example:"[]"`
	TestRun            TestRun             `json:"test_run"`
	CustomerInstructed bool                `json:"customer_instructed" doc:"The customer was shown how to use and care for the unit (required)." example:"true"`
	RepeatVisitCause   string              `json:"repeat_visit_cause,omitempty" enum:"delivery_not_in_sync,customer_request" doc:"This is a further install visit: delivery_not_in_sync (the unit was not delivered in sync with the installation: for a unit bought at the brand's own store, channel brand_store or a storefront on the brand_store platform, a visit caused by the network and free by Midea's promise 2; bought elsewhere, the seller delivered and it is charged as usual) or customer_request (charged as usual)." example:"delivery_not_in_sync"`
	IncludeVisit       bool                `json:"include_visit,omitempty" doc:"Add the visit fee." example:"false"`
	PriceListShown     bool                `json:"price_list_shown" doc:"The price list and the decision were shown before any charge. Not shown: the service is free (rule 8)." example:"true"`
	ReportedAt         time.Time           `json:"reported_at" readOnly:"true" doc:"When." example:"2026-12-01T11:00:00+08:00"`
}

// ChecklistItem is one item of a maintenance checklist.
type ChecklistItem struct {
	Item string `json:"item" minLength:"1" maxLength:"200" doc:"What was done." example:"清洗过滤网"`
	Done bool   `json:"done" doc:"Whether it was done." example:"true"`
	Note string `json:"note,omitempty" maxLength:"500" doc:"Remarks." example:"滤网积尘较多"`
}

// ServiceReport is a maintenance or cleaning as done.
type ServiceReport struct {
	Checklist      []ChecklistItem     `json:"checklist" minItems:"1" maxItems:"30" doc:"The service checklist."`
	Parts          []catalog.QuotePart `json:"parts,omitempty" maxItems:"50" doc:"Consumables and parts used, at the price list's part price."`
	IncludeVisit   bool                `json:"include_visit,omitempty" doc:"Add the visit fee." example:"false"`
	PriceListShown bool                `json:"price_list_shown" doc:"The price list and the decision were shown before any charge. Not shown: the service is free (rule 8)." example:"true"`
	ReportedAt     time.Time           `json:"reported_at" readOnly:"true" doc:"When." example:"2026-12-01T11:00:00+08:00"`
}

// Pickup is the collection of a unit to return or exchange.
type Pickup struct {
	Note       string    `json:"note,omitempty" maxLength:"500" doc:"Packaging, accessories collected." example:"原包装完好，附件齐全"`
	PickedUpAt time.Time `json:"picked_up_at" readOnly:"true" doc:"When." example:"2026-12-01T10:20:00+08:00"`
}

// Inspection is the condition of a picked-up unit.
type Inspection struct {
	Resellable     bool      `json:"resellable" doc:"The unit and its packaging can be resold." example:"true"`
	FaultConfirmed bool      `json:"fault_confirmed" doc:"The fault the customer reported is confirmed; false: no fault (a change of mind)." example:"false"`
	Cause          string    `json:"cause,omitempty" enum:"performance,delivery_damage,accidental_damage,human_damage,environmental_dust,environmental_heat,environmental_moisture,power_surge,unstable_voltage,force_majeure" doc:"With fault_confirmed: the cause (default performance); delivery_damage: damaged in transit or packaging." example:"performance"`
	WrongGoods     bool      `json:"wrong_goods,omitempty" doc:"The goods were not what was ordered or described: the seller's error." example:"false"`
	Notes          string    `json:"notes,omitempty" maxLength:"1000" doc:"Findings." example:"外观无损，包装完整"`
	On             string    `json:"on" readOnly:"true" format:"date" doc:"The date the remedy was checked for: the ticket's date (the customer's request), in the tenant's zone." example:"2026-12-01"`
	InspectedAt    time.Time `json:"inspected_at" readOnly:"true" doc:"When." example:"2026-12-01T15:00:00+08:00"`
}

// ReturnOutcome is what was done for a return or exchange.
type ReturnOutcome struct {
	Outcome         string                   `json:"outcome" enum:"refund,exchange,refusal" doc:"refund: a payout to the customer; exchange: a swap (the replacement is registered when fulfilled); refusal: the engine allows neither." example:"refund"`
	Basis           string                   `json:"basis" doc:"The entitlement basis of the outcome." example:"no_reason_return"`
	Refund          *tenants.Money           `json:"refund,omitempty"`
	PayoutID        *string                  `json:"payout_id,omitempty" doc:"The refund's payout." example:"pay_01jd3zq8w6v7t3y2k9x4n5m6pb"`
	SwapID          *string                  `json:"swap_id,omitempty" doc:"The exchange's swap." example:"swp_01jd3zq8w6v7t3y2k9x4n5m6ps"`
	Freight         *entitlement.Freight     `json:"freight,omitempty"`
	FreightAmount   *tenants.Money           `json:"freight_amount,omitempty" doc:"The customer's shipping cost reimbursed (the outcome's freight): only when the seller pays the freight."`
	FreightPayoutID *string                  `json:"freight_payout_id,omitempty" doc:"The freight's payout to the customer, owed by the seller: the storefront that sold the unit (payer storefront), else the brand; not necessarily the refund's payer." example:"pay_01jd3zq8w6v7t3y2k9x4n5m6pf"`
	RefusedBy       []entitlement.TraceEntry `json:"refused_by,omitempty" doc:"For a refusal: the rules that refused the remedy."`
	EndedContracts  []string                 `json:"ended_contract_ids,omitempty" doc:"Plans ended by the return (an exchange ends them when its swap is fulfilled)."`
	Note            *string                  `json:"note,omitempty" doc:"The remarks recorded with the outcome (a refusal's explanation to the customer, an exchange's or a refund's circumstances); an exchange's swap and a refund's return record carry them too." example:"超过七天无理由退货期限，已向用户解释"`
	RecordedAt      time.Time                `json:"recorded_at" doc:"When." example:"2026-12-01T16:00:00+08:00"`
}

func (t *Ticket) service() *ServiceWork {
	if t.Service == nil {
		t.Service = &ServiceWork{}
	}
	return t.Service
}

// checkDelivery validates an intake's delivered_at: only an install
// follows a delivery.
func checkDelivery(v *tenants.Validation, in *NewTicket) {
	if in.DeliveredAt != nil && in.Type != TypeInstall {
		v.AddMsg("delivered_at", i18n.M("tickets.delivery_install_only"), in.DeliveredAt)
	}
}

// installDeadlines moves an install's response and completion deadlines
// to the policy's install_minutes after the delivery (or the intake):
// delivery and installation in sync (送安同步) is the customer's promise, so
// a delivery reported late still counts from the day the unit arrived, and
// a deadline already past is breached at the sweep's next pass.
func (c *change) installDeadlines() {
	t := c.T
	if t.Type != TypeInstall {
		return
	}
	from := c.now
	if t.Service != nil && t.Service.DeliveredAt != nil {
		from = *t.Service.DeliveredAt
	}
	after := from.Sub(c.now) + minutes(c.policy.InstallMinutes)
	c.startSLA(SLAResponse, after)
	c.startSLA(SLACompletion, after)
}

// priceService prices a no-fault service (installation, maintenance) with
// the price list in effect and decides it with the engine: cause no_fault,
// never the warranty; a plan covering maintenance pays it.
func (c *change) priceService(ctx context.Context, kind string, parts []catalog.QuotePart, visit, shown bool, loc string) error {
	t := c.T
	if t.UnitID == nil || t.ModelID == nil {
		return tenants.ErrorMsg(tenants.CodeConflict, i18n.M("tickets.unit_not_identified_first"))
	}
	_, today, err := c.tx.Today(ctx, c.now)
	if err != nil {
		return err
	}
	q, err := catalog.PriceQuote(ctx, c.tx, catalog.NewQuote{ModelID: *t.ModelID, ServiceKind: kind, Parts: parts, IncludeVisit: visit}, today)
	if err != nil {
		return noRateConflict(tenants.Relocate(err, "parts", loc))
	}
	t.QuoteID = &q.ID
	// As at diagnosis: an earlier report's showing does not cover this
	// quote (rule 8).
	t.PriceShownAt = nil
	if shown {
		now := c.now
		t.PriceShownAt = &now
	}
	d := Diagnosis{Cause: string(entitlement.CauseNoFault), Repairable: true, Notes: kind}
	e, err := t.decide(ctx, c, d)
	if err != nil {
		return err
	}
	t.Diagnosis, t.Entitlement = &d, &e
	c.data["basis"], c.data["quote_id"], c.data["customer_pays"] = e.Decision.Basis, q.ID, e.Decision.Totals.Customer
	return nil
}

// noRateConflict turns a price list with no labor rate for a report's
// service (catalog: invalid at service_kind, catalog.no_labor_rate) into a conflict carrying the
// rate's message: the kind is the ticket's, not a field of the report, and
// the brand's price list, not the request, lacks it (as a day with no price
// list in effect is a conflict). With problems in the report's own fields
// too, those are the answer (invalid), the rate's left for after. Other
// errors are returned as they are; a *tenants.Error is copied, never
// changed.
func noRateConflict(err error) error {
	var te *tenants.Error
	if !errors.As(err, &te) || te.Code != tenants.CodeInvalid {
		return err
	}
	var rate *i18n.Message
	var rest []tenants.FieldError
	for _, f := range te.Fields {
		if f.Msg != nil && f.Msg.Code == "catalog.no_labor_rate" {
			rate = f.Msg
			continue
		}
		rest = append(rest, f)
	}
	switch {
	case rate == nil:
		return err
	case len(rest) == 0:
		return tenants.ErrorMsg(tenants.CodeConflict, *rate)
	}
	out := *te
	out.Fields = rest
	return &out
}

// InstallationReport records the installation of an install ticket: the
// position agreed with the customer, the accessories used (priced at the
// price list), the test run and the customer's instruction. The service is
// priced by the price list (installation labor for the category, materials)
// and decided by the engine (a no-fault service), shown before any charge;
// a further visit caused by delivery not in sync is free (Midea promise 2).
// Complete then sets the unit's installation date.
func (s *Service) InstallationReport(ctx context.Context, p tenants.Principal, id string, in InstallReport, ifVersion int) (Ticket, error) {
	v := &tenants.Validation{}
	if !in.PositionAgreed {
		v.AddMsg("position_agreed", i18n.M("tickets.position_agreed"), in.PositionAgreed)
	}
	if !in.CustomerInstructed {
		v.AddMsg("customer_instructed", i18n.M("tickets.instruct_first"), in.CustomerInstructed)
	}
	if !in.TestRun.Passed {
		v.AddMsg("test_run.passed", i18n.M("tickets.failed_test_not_reportable"), in.TestRun.Passed)
	} else if in.TestRun.Skipped {
		v.AddMsg("test_run.skipped", i18n.M("tickets.test_run_passed_and_skipped"), true)
	}
	if err := v.Err(); err != nil {
		return Ticket{}, err
	}
	return s.act(ctx, p, id, ifVersion, ActInstallReport, func(c *change) error {
		t := c.T
		in.ReportedAt = c.now
		t.service().Install = &in
		if err := c.priceService(ctx, "install", in.Accessories, in.IncludeVisit, in.PriceListShown, "accessories"); err != nil {
			return err
		}
		if in.RepeatVisitCause != "" {
			c.data["repeat_visit_cause"] = in.RepeatVisitCause
		}
		c.note("", map[string]any{"position": in.Position, "quote_id": *t.QuoteID, "totals": t.Entitlement.Decision.Totals,
			"repeat_visit_cause": in.RepeatVisitCause})
		return nil
	})
}

// MaintenanceReport records a maintenance ticket's service checklist and
// prices it: the price list's maintenance labor and parts, never the
// warranty; free under an active plan that covers maintenance.
func (s *Service) MaintenanceReport(ctx context.Context, p tenants.Principal, id string, in ServiceReport, ifVersion int) (Ticket, error) {
	return s.act(ctx, p, id, ifVersion, ActServiceReport, func(c *change) error {
		in.ReportedAt = c.now
		c.T.service().Maintenance = &in
		if err := c.priceService(ctx, "maintenance", in.Parts, in.IncludeVisit, in.PriceListShown, "parts"); err != nil {
			return err
		}
		c.note("", map[string]any{"items": len(in.Checklist), "quote_id": *c.T.QuoteID, "totals": c.T.Entitlement.Decision.Totals})
		return nil
	})
}

// serviceRecordKind is the unit history's kind for a completed ticket: an
// installation or a maintenance is not a repair (and never counts toward
// "repaired twice").
func serviceRecordKind(ticketType string) string {
	switch ticketType {
	case TypeInstall:
		return "install"
	case TypeMaintenance:
		return "maintenance"
	}
	return "repair"
}

// afterCompletion is what completing a ticket of another kind than repair
// does to the unit: an installation sets its installation date.
func (c *change) afterCompletion(ctx context.Context, today string) error {
	if c.T.Type == TypeInstall && c.T.UnitID != nil {
		if err := customers.SetInstalledOnTx(ctx, c.tx, *c.T.UnitID, today); err != nil {
			return servicedBeforePurchase(err, "installed_on")
		}
		c.data["installed_on"] = today
	}
	return nil
}

// servicedBeforePurchase is err, or, when err refuses the date at
// location as before the unit's purchase date, the conflict that says so.
// A ticket's service date is its day (the tenant's today), not a field of
// the request that the client could correct: the unit's purchase date is
// what to correct (PATCH /v1/units/{unit_id}).
func servicedBeforePurchase(err error, location string) error {
	var te *tenants.Error
	if !errors.As(err, &te) || te.Code != tenants.CodeInvalid {
		return err
	}
	for _, f := range te.Fields {
		if f.Location == location {
			return tenants.ErrorMsg(tenants.CodeConflict, i18n.M("tickets.serviced_before_purchase", "Date", fmt.Sprint(f.Value)))
		}
	}
	return err
}

// PickupInput is a return's or exchange's pickup.
type PickupInput struct {
	Note string `json:"note,omitempty" maxLength:"500" doc:"Packaging, accessories collected." example:"原包装完好，附件齐全"`
}

// PickUp records that the unit to return or exchange was collected from
// the customer (at the visit scheduled for it) and taken to the node.
func (s *Service) PickUp(ctx context.Context, p tenants.Principal, id string, in PickupInput, ifVersion int) (Ticket, error) {
	return s.act(ctx, p, id, ifVersion, ActPickup, func(c *change) error {
		if c.T.UnitID == nil {
			return tenants.ErrorMsg(tenants.CodeConflict, i18n.M("tickets.unit_not_identified_first"))
		}
		c.T.service().Pickup = &Pickup{Note: in.Note, PickedUpAt: c.now}
		c.meetSLA(SLAResponse, SLAFirstContact)
		c.moveTo(StateCarryIn, "picked up for "+c.T.Type, map[string]any{"note": in.Note})
		return nil
	})
}

// InspectionInput is the inspection of a picked-up unit.
type InspectionInput struct {
	Resellable     bool   `json:"resellable" doc:"The unit and its packaging can be resold." example:"true"`
	FaultConfirmed bool   `json:"fault_confirmed" doc:"The reported fault is confirmed; false: no fault (a change of mind)." example:"false"`
	Cause          string `json:"cause,omitempty" enum:"performance,delivery_damage,accidental_damage,human_damage,environmental_dust,environmental_heat,environmental_moisture,power_surge,unstable_voltage,force_majeure" doc:"With fault_confirmed: the cause (default performance); delivery_damage: damaged in transit or packaging." example:"performance"`
	WrongGoods     bool   `json:"wrong_goods,omitempty" doc:"The goods are not what was ordered or described (another model, colour, size or missing accessories): the seller's error, not a change of mind. The seller pays the freight and, for a storefront's sale, the refund." example:"false"`
	Notes          string `json:"notes,omitempty" maxLength:"1000" doc:"Findings." example:"外观无损，包装完整"`
}

// Inspect records the condition of the picked-up unit and checks the
// remedy with the entitlement engine on the ticket's date (the day the
// customer asked): return for a return ticket, exchange for an exchange
// ticket. The decision (remedies, freight payer, trace) is stored and
// shown before the outcome.
func (s *Service) Inspect(ctx context.Context, p tenants.Principal, id string, in InspectionInput, ifVersion int) (Ticket, error) {
	if in.Cause != "" && !in.FaultConfirmed {
		return Ticket{}, tenants.InvalidMsg("cause", i18n.M("tickets.cause_needs_fault_confirmed"), in.Cause)
	}
	return s.act(ctx, p, id, ifVersion, ActInspect, func(c *change) error {
		t := c.T
		st, err := c.tx.Settings(ctx)
		if err != nil {
			return err
		}
		on := st.Today(t.CreatedAt)
		// Rule 9: wrong goods are the seller's error, like a fault, not the
		// buyer's change of mind (商品描述不符: the seller pays the freight).
		f := warranty.FaultReport{Resaleable: in.Resellable, WrongOrDamaged: in.WrongGoods}
		switch {
		case in.FaultConfirmed:
			f.Cause = in.Cause
			if f.Cause == "" {
				f.Cause = string(entitlement.CausePerformance)
			}
		case !in.WrongGoods:
			f.ChangeOfMind = true
		}
		remedy := "return"
		if t.Type == TypeExchange {
			remedy = "exchange"
		}
		e, err := warranty.DecideSystemTx(ctx, c.tx,
			warranty.DecideRequest{UnitID: *t.UnitID, Fault: f, RequestedRemedy: remedy, On: on}, c.now)
		if err != nil {
			return tenants.Relocate(err, "fault.", "")
		}
		t.Entitlement = &e
		t.service().Inspection = &Inspection{Resellable: in.Resellable, FaultConfirmed: in.FaultConfirmed, Cause: f.Cause,
			WrongGoods: in.WrongGoods, Notes: in.Notes, On: on, InspectedAt: c.now}
		c.data["basis"], c.data["remedy"], c.data["resellable"], c.data["fault_confirmed"], c.data["wrong_goods"] =
			e.Decision.Basis, e.Decision.Remedy, in.Resellable, in.FaultConfirmed, in.WrongGoods
		c.note("", map[string]any{"basis": e.Decision.Basis, "remedy": e.Decision.Remedy, "freight": e.Decision.Freight})
		return nil
	})
}

// OutcomeInput is the outcome of a return or exchange.
type OutcomeInput struct {
	Outcome string         `json:"outcome" enum:"refund,exchange,refusal" doc:"refund: a payout to the customer (the engine must allow a return); exchange: a swap through the swaps capability (the engine must allow an exchange); refusal: the engine allows neither, and the rules that refused are recorded." example:"refund"`
	Refund  *tenants.Money `json:"refund,omitempty" doc:"The refund: the purchase price, its default. A return the engine allows (statutory or seven-day no-reason) refunds the price paid in full: less or more is 422."`
	Freight *tenants.Money `json:"freight,omitempty" doc:"What the customer paid to ship the unit back, with a refund or an exchange: when the engine names the seller as the freight's payer (a fault, wrong or damaged goods), it is reimbursed to the customer as a payout from the seller: the storefront that sold the unit, else the brand (its own store), whoever owes the refund or exchange (a statutory return of a storefront's sale is refunded by the brand, its freight paid by the storefront). A change of mind's freight is the buyer's: a freight then is 422."`
	Note    string         `json:"note,omitempty" maxLength:"500" doc:"Remarks, kept with the outcome (service.outcome.note, and the timeline): for a refusal, what the customer was told; an exchange's swap and a refund's return record carry them too." example:"七天无理由退货"`
}

func allows(d entitlement.Decision, kind entitlement.RemedyKind) (entitlement.Remedy, bool) {
	for _, r := range d.Remedies {
		if r.Kind == kind {
			return r, true
		}
	}
	return entitlement.Remedy{}, false
}

// RecordOutcome settles an inspected return or exchange. A refund is a
// payout to the customer of the price paid, in full (no return the seeds
// allow takes a deduction; a lower refund is invalid at refund.amount)
// (refundPayer: the seller for a no-reason return or wrong goods, else
// the brand; due in the default business days), ends the unit's plans and joins its history as a return; an
// exchange requests a swap (statutory exchange), which registers the
// replacement and ends the plans when fulfilled (the replaced unit keeps
// its history); a refusal records the rules that refused. Freight goes to
// whoever the engine named; the customer's freight, when the seller pays
// it, is reimbursed as a second payout owed by the seller
// (reimburseFreight). The ticket completes and its callback starts.
// A refund of a unit whose price is only assumed (customers.PriceModelRetail)
// is a conflict until the brand sets it (CheckPurchasePricePaid).
func (s *Service) RecordOutcome(ctx context.Context, p tenants.Principal, id string, in OutcomeInput, ifVersion int) (Ticket, error) {
	if in.Refund != nil && in.Outcome != "refund" {
		return Ticket{}, tenants.InvalidMsg("refund", i18n.M("tickets.amount_refund_only"), in.Refund)
	}
	if in.Freight != nil && in.Outcome == "refusal" {
		return Ticket{}, tenants.InvalidMsg("freight", i18n.M("tickets.freight_refund_or_exchange"), in.Freight)
	}
	return s.act(ctx, p, id, ifVersion, ActOutcome, func(c *change) error {
		t := c.T
		if t.Entitlement == nil || t.Service == nil || t.Service.Inspection == nil {
			return tenants.ErrorMsg(tenants.CodeConflict, i18n.M("tickets.inspect_first"))
		}
		d := t.Entitlement.Decision
		u, err := customers.LoadUnitSystemTx(ctx, c.tx, *t.UnitID)
		if err != nil {
			return err
		}
		_, today, err := c.tx.Today(ctx, c.now)
		if err != nil {
			return err
		}
		out := &ReturnOutcome{Outcome: in.Outcome, Note: nullIfEmpty(in.Note), RecordedAt: c.now}
		switch in.Outcome {
		case "refund":
			r, ok := allows(d, entitlement.RemedyReturn)
			if !ok {
				return tenants.InvalidMsg("outcome", i18n.M("tickets.no_return", "Basis", string(d.Basis)), in.Outcome)
			}
			if err := u.CheckPurchasePricePaid(); err != nil {
				return err // the refund is the price paid: not the list price assumed at intake
			}
			amount := u.PurchasePrice
			if in.Refund != nil {
				if in.Refund.Currency != amount.Currency {
					return tenants.InvalidMsg("refund.currency", i18n.M("common.purchase_currency", "Currency", amount.Currency), in.Refund.Currency)
				}
				if in.Refund.Amount > amount.Amount {
					return tenants.InvalidMsg("refund.amount", i18n.M("tickets.exceeds_purchase_price", "Price", int(amount.Amount)), in.Refund.Amount)
				}
				// Seed 000 (符合退机或换机条件的…应按用户要求给予退机) and
				// rule 1: a statutory return gives back the price paid;
				// seed 002's seven-day no-reason return takes back a unit
				// fit for resale (关于二次销售: the engine refuses one that
				// is not) and names no deduction, the buyer bearing only
				// the freight. Every return the engine allows refunds the
				// price paid in full.
				if in.Refund.Amount < amount.Amount {
					return tenants.InvalidMsg("refund.amount", i18n.M("tickets.refund_full_price", "Basis", string(r.Basis), "Price", int(amount.Amount)), in.Refund.Amount)
				}
			}
			po, err := s.payouts.SchedulePayoutSystemTx(ctx, c.tx, c.p.Subject(),
				payouts.NewPayout{UnitID: u.ID, Amount: amount, Reason: "refund of a " + string(r.Basis) + " (ticket " + t.Number + ")",
					Payer: refundPayer(r.Basis, t.Service.Inspection.WrongGoods, u), TestClockID: t.TestClockID})
			if err != nil {
				return err
			}
			if err := c.reimburseFreight(ctx, s, in.Freight, d, r, u, out); err != nil {
				return err
			}
			ended, err := warranty.EndForReplacedUnit(ctx, c.tx, u.ID, "unit returned (ticket "+t.Number+"): refunded", c.p.Subject())
			if err != nil {
				return err
			}
			out.Basis, out.Refund, out.PayoutID, out.EndedContracts, out.Freight = string(r.Basis), &amount, &po.ID, ended, d.Freight
			zero := tenants.Money{Amount: 0, Currency: amount.Currency}
			if _, err := customers.RecordService(ctx, c.tx, u.ID, customers.NewServiceRecord{Kind: "return", OccurredOn: today,
				Basis: string(r.Basis), FaultCause: t.Service.Inspection.Cause, Amount: &zero, Reference: t.Number,
				Note: in.Note}, c.p.Subject(), c.now); err != nil {
				return err
			}
			if err := customers.MarkReturnedTx(ctx, c.tx, u.ID); err != nil {
				return err
			}
			c.data["payout_id"] = po.ID
		case "exchange":
			r, ok := allows(d, entitlement.RemedyExchange)
			if !ok {
				return tenants.InvalidMsg("outcome", i18n.M("tickets.no_exchange", "Basis", string(d.Basis)), in.Outcome)
			}
			if err := c.reimburseFreight(ctx, s, in.Freight, d, r, u, out); err != nil {
				return err
			}
			// A seven-day change-of-mind exchange is the seller's promise,
			// not the three guarantees': the swap says which.
			reason := swaps.ReasonStatutoryExchange
			if r.Basis == entitlement.BasisNoReasonReturn {
				reason = swaps.ReasonNoReasonExchange
			}
			note := string(r.Basis) + " (ticket " + t.Number + ")"
			if in.Note != "" {
				note += ": " + in.Note
			}
			nw := swaps.NewSwap{UnitID: u.ID, Reason: reason, Note: note}
			if c.clock != "" {
				nw.TestClockID = &c.clock // the swap lives on the ticket's clock
			}
			sw, err := s.swaps.RequestSwapTx(ctx, c.tx, c.p, nw)
			if err != nil {
				return err
			}
			t.SwapID = &sw.ID
			out.Basis, out.SwapID, out.Freight = string(r.Basis), &sw.ID, d.Freight
			c.data["swap_id"] = sw.ID
		case "refusal":
			want := entitlement.RemedyReturn
			if t.Type == TypeExchange {
				want = entitlement.RemedyExchange
			}
			if r, ok := allows(d, want); ok {
				return tenants.InvalidMsg("outcome", i18n.M("tickets.remedy_not_refusable", "Remedy", string(want), "Basis", string(r.Basis)), in.Outcome)
			}
			for _, tr := range d.Trace {
				if !tr.Applied && refusing(tr.Rule, want) {
					out.RefusedBy = append(out.RefusedBy, tr)
				}
			}
			out.Basis = string(d.Basis)
		}
		t.service().Outcome = out
		zero := tenants.Money{Amount: 0, Currency: u.PurchasePrice.Currency}
		t.CustomerTotal = &zero
		now := c.now
		t.CompletedAt = &now
		c.data["outcome"], c.data["basis"] = in.Outcome, out.Basis
		if out.Freight != nil {
			c.data["freight_payer"] = out.Freight.Payer
		}
		if out.FreightPayoutID != nil {
			c.data["freight_payout_id"], c.data["freight_amount"] = *out.FreightPayoutID, *out.FreightAmount
		}
		c.meetSLA(SLACompletion, SLAResponse, SLAFirstContact)
		c.moveTo(StateCompleted, in.Outcome, map[string]any{"outcome": out})
		c.startSLA(SLACallback, minutes(c.policy.CallbackMinutes))
		return nil
	})
}

// reimburseFreight pays the customer back the freight of a return or
// exchange allowed by r, when the engine names the seller as its payer
// (rule 9; seed 002: 运费 卖家承担 for a quality problem or goods not as
// described, 谁有错谁负责): a payout of freight to the customer, owed by
// the seller (sellerPayer: the storefront that sold the unit, else the
// brand), whoever owes the refund (a statutory return of a storefront's
// sale is the brand's), in the outcome's transaction. A change of mind's
// freight is the buyer's (因买家自身的原因导致的退换货 … 买家承担): a
// freight is invalid then, as it would have no effect. Nil freight does
// nothing.
func (c *change) reimburseFreight(ctx context.Context, s *Service, freight *tenants.Money, d entitlement.Decision, r entitlement.Remedy,
	u customers.Unit, out *ReturnOutcome) error {
	if freight == nil {
		return nil
	}
	if d.Freight == nil || d.Freight.Payer != "seller" {
		return tenants.InvalidMsg("freight", i18n.M("tickets.freight_buyer_pays"), freight)
	}
	if freight.Currency != u.PurchasePrice.Currency {
		return tenants.InvalidMsg("freight.currency", i18n.M("common.purchase_currency", "Currency", u.PurchasePrice.Currency), freight.Currency)
	}
	if freight.Amount <= 0 {
		return tenants.InvalidMsg("freight.amount", i18n.M("common.must_be_positive"), freight.Amount)
	}
	po, err := s.payouts.SchedulePayoutSystemTx(ctx, c.tx, c.p.Subject(),
		payouts.NewPayout{UnitID: u.ID, Amount: *freight, Reason: "freight of a " + string(r.Basis) + " (ticket " + c.T.Number + "): the seller pays",
			Payer: sellerPayer(u), TestClockID: c.T.TestClockID})
	if err != nil {
		return tenants.Relocate(err, "amount", "freight")
	}
	out.FreightAmount, out.FreightPayoutID = freight, &po.ID
	return nil
}

// refusing reports whether a trace rule decides the remedy want.
func refusing(rule string, want entitlement.RemedyKind) bool {
	switch want {
	case entitlement.RemedyReturn:
		return rule == "R9.no_reason_return" || rule == "R1.statutory_return" || rule == "R1.third_failure"
	}
	return rule == "R9.no_reason_return" || rule == "R1.statutory_exchange" || rule == "R1.third_failure" || rule == "R9.delivery_damage" ||
		rule == "R2.manufacturer_warranty"
}
