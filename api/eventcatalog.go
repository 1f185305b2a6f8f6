package api

import (
	"fmt"
	"reflect"
	"strings"
	"time"

	"github.com/danielgtaylor/huma/v2"

	"github.com/servicenet/servicenet/internal/i18n"
	"github.com/servicenet/servicenet/tenants"
	"github.com/servicenet/servicenet/tenants/catalog"
	"github.com/servicenet/servicenet/tenants/claims"
	"github.com/servicenet/servicenet/tenants/complaints"
	"github.com/servicenet/servicenet/tenants/customers"
	"github.com/servicenet/servicenet/tenants/events"
	"github.com/servicenet/servicenet/tenants/network"
	"github.com/servicenet/servicenet/tenants/notifications"
	"github.com/servicenet/servicenet/tenants/payouts"
	"github.com/servicenet/servicenet/tenants/privacy"
	"github.com/servicenet/servicenet/tenants/quality"
	"github.com/servicenet/servicenet/tenants/stock"
	"github.com/servicenet/servicenet/tenants/swaps"
	"github.com/servicenet/servicenet/tenants/testclocks"
	"github.com/servicenet/servicenet/tenants/tickets"
	"github.com/servicenet/servicenet/tenants/warranty"
	"github.com/servicenet/servicenet/tenants/webhooks"
)

// The event catalog is part of the contract: every event type the code
// emits is listed here with the type of its data. Each gets a named schema
// (<Type>Event: the envelope with a one-value `type` and its typed `data`),
// a webhook in the document's webhooks section, and a place in the feed's
// item schema (a oneOf discriminated by `type`). TestEventCatalogCoversCode
// fails when code emits a type missing here.

// EventKind is one entry of the catalog.
type EventKind struct {
	Type    string
	Summary string
	Data    reflect.Type
}

// Payloads, one per family: the fields the code writes. Fields a family's
// events do not all carry are optional.
type (
	TenantEventData struct {
		Name            string `json:"name,omitempty" doc:"The tenant's name."`
		Slug            string `json:"slug,omitempty"`
		TimeZone        string `json:"time_zone,omitempty"`
		DefaultLanguage string `json:"default_language,omitempty" doc:"tenant.updated: the tenant's default language (BCP 47)."`
		ServiceHotline  string `json:"service_hotline,omitempty" doc:"tenant.updated: the brand's service hotline as shown (400 699 9999); empty when the brand has set none."`
		Day             string `json:"day,omitempty" format:"date" doc:"The calendar day (holiday events)."`
		Kind            string `json:"kind,omitempty" enum:"holiday,working_day" doc:"The calendar day's kind (holiday events): holiday, or working_day, a make-up working day (调休) on a weekend."`
	}
	APIKeyEventData struct {
		Name  string   `json:"name,omitempty"`
		Roles []string `json:"roles,omitempty"`
		Live  *bool    `json:"live,omitempty"`
	}
	ChangeEventData struct {
		Changed    []string `json:"changed,omitempty" doc:"The fields an update changed."`
		Version    int      `json:"version,omitempty" doc:"The object's version after the change."`
		FromStatus string   `json:"from_status,omitempty"`
		ToStatus   string   `json:"to_status,omitempty"`
	}
	ProductModelEventData struct {
		ChangeEventData
		ModelNumber     string         `json:"model_number,omitempty"`
		Category        string         `json:"category,omitempty"`
		RetailPrice     *tenants.Money `json:"retail_price,omitempty"`
		FromRetailPrice *tenants.Money `json:"from_retail_price,omitempty"`
		ToRetailPrice   *tenants.Money `json:"to_retail_price,omitempty"`
		Discontinued    *bool          `json:"discontinued,omitempty"`
	}
	PriceListEventData struct {
		Version       int    `json:"version"`
		EffectiveFrom string `json:"effective_from"`
		LaborRates    int    `json:"labor_rates" doc:"Number of labour rates."`
		VisitFees     int    `json:"visit_fees"`
		PartPrices    int    `json:"part_prices"`
	}
	StorefrontEventData struct {
		ChangeEventData
		Code     string `json:"code,omitempty"`
		Platform string `json:"platform,omitempty"`
	}
	CustomerEventData struct {
		ChangeEventData
		Phones    int `json:"phones,omitempty"`
		Addresses int `json:"addresses,omitempty"`
	}
	UnitEventData struct {
		ChangeEventData
		ModelID            string  `json:"model_id,omitempty"`
		Category           string  `json:"category,omitempty"`
		Serial             string  `json:"serial,omitempty"`
		CustomerID         string  `json:"customer_id,omitempty"`
		Channel            string  `json:"channel,omitempty"`
		StorefrontID       *string `json:"storefront_id,omitempty"`
		PurchaseDate       string  `json:"purchase_date,omitempty"`
		FromCustomerID     string  `json:"from_customer_id,omitempty"`
		ToCustomerID       string  `json:"to_customer_id,omitempty"`
		ReplacedBy         string  `json:"replaced_by,omitempty" doc:"The new unit (unit.replaced)."`
		ReplacementModelID string  `json:"replacement_model_id,omitempty"`
		RecordID           string  `json:"record_id,omitempty" doc:"The service record (unit.service_recorded)."`
		Kind               string  `json:"kind,omitempty"`
		OccurredOn         string  `json:"occurred_on,omitempty"`
		Paid               *bool   `json:"paid,omitempty"`
		Fixed              *bool   `json:"fixed,omitempty"`
		Reference          string  `json:"reference,omitempty"`
	}
	NodeEventData struct {
		ChangeEventData
		ExternalCode string  `json:"external_code,omitempty"`
		Tier         string  `json:"tier,omitempty"`
		ParentID     *string `json:"parent_id,omitempty"`
		Status       string  `json:"status,omitempty"`
		ImportID     string  `json:"import_id,omitempty"`
		FromParentID string  `json:"from_parent_id,omitempty"`
		ToParentID   string  `json:"to_parent_id,omitempty"`
		NodesMoved   int     `json:"nodes_moved,omitempty"`
		From         string  `json:"from,omitempty" doc:"Status before (node.status_changed)."`
		To           string  `json:"to,omitempty"`
		Reason       string  `json:"reason,omitempty"`
	}
	TechnicianEventData struct {
		ChangeEventData
		ExternalCode      string `json:"external_code,omitempty"`
		NodeID            string `json:"node_id,omitempty"`
		Status            string `json:"status,omitempty"`
		LicenceStatus     string `json:"licence_status,omitempty"`
		Eligible          *bool  `json:"eligible,omitempty"`
		ImportID          string `json:"import_id,omitempty"`
		FromNodeID        string `json:"from_node_id,omitempty"`
		ToNodeID          string `json:"to_node_id,omitempty"`
		Number            string `json:"number,omitempty" doc:"Licence number."`
		IssuedOn          string `json:"issued_on,omitempty"`
		ExpiresOn         string `json:"expires_on,omitempty"`
		PreviousNumber    string `json:"previous_number,omitempty"`
		PreviousExpiresOn string `json:"previous_expires_on,omitempty"`
	}
	NetworkImportEventData struct {
		State   string `json:"state"`
		Failure string `json:"failure,omitempty" doc:"Why a failed import failed, in English."`
		// FailureI18n is Failure as a catalog message.
		FailureI18n *i18n.Message  `json:"failure_i18n,omitempty" doc:"Failure as a stable message code and its parameters."`
		Counts      map[string]any `json:"counts,omitempty"`
		TotalRows   int            `json:"total_rows,omitempty"`
		Errors      int            `json:"errors,omitempty"`
	}
	PlanEventData struct {
		ChangeEventData
		Code               string   `json:"code,omitempty"`
		Kind               string   `json:"kind,omitempty"`
		EligibleCategories []string `json:"eligible_categories,omitempty"`
	}
	NotificationEventData struct {
		GatewayID      string `json:"gateway_id,omitempty"`
		NotificationID string `json:"notification_id,omitempty"`
		TicketID       string `json:"ticket_id,omitempty"`
		Channel        string `json:"channel,omitempty"`
		Purpose        string `json:"purpose,omitempty"`
		Status         string `json:"status,omitempty"`
		Attempts       int    `json:"attempts,omitempty"`
		Reason         string `json:"reason,omitempty" doc:"notification.failed: why the message could not be delivered."`

		SubjectID string         `json:"subject_id,omitempty" doc:"The object the message is about (a ticket, a claim …)."`
		To        string         `json:"to,omitempty" doc:"notification.requested: the recipient, masked (the last digits)."`
		Via       string         `json:"via,omitempty" doc:"notification.requested: how it is sent: gateway (the tenant's), or log without one."`
		Params    map[string]any `json:"params,omitempty" doc:"notification.requested: the message's parameters (the template's values)."`
		ExpiresAt *time.Time     `json:"expires_at,omitempty" doc:"notification.requested: when an undelivered message stops being retried (a sign-off code's expiry)."`
		URL       string         `json:"url,omitempty" doc:"notification_gateway.*: the gateway's URL."`
		Enabled   *bool          `json:"enabled,omitempty" doc:"notification_gateway.*: whether messages go through it."`
	}
	ContractEventData struct {
		UnitID       string  `json:"unit_id"`
		PlanID       string  `json:"plan_id"`
		StorefrontID *string `json:"storefront_id,omitempty"`
		Kind         string  `json:"kind,omitempty"`
		State        string  `json:"state,omitempty"`
		FromState    *string `json:"from_state,omitempty"`
		ToState      string  `json:"to_state,omitempty"`
		Reason       string  `json:"reason,omitempty"`
		StartsOn     string  `json:"starts_on,omitempty"`
		EndsOn       string  `json:"ends_on,omitempty"`
		Today        string  `json:"today,omitempty"`

		FromStartsOn string `json:"from_starts_on,omitempty" format:"date" doc:"contract.redated (and the contract.activated or contract.expired the move causes): the first day of coverage before the move; starts_on is the new one."`
		FromEndsOn   string `json:"from_ends_on,omitempty" format:"date" doc:"contract.redated (and the contract.activated or contract.expired the move causes): the last day of coverage before the move; ends_on is the new one."`

		SoldOn     string         `json:"sold_on,omitempty" format:"date" doc:"contract.created: the day the plan was sold."`
		Price      *tenants.Money `json:"price,omitempty" doc:"contract.created: the plan's price paid."`
		Backfilled bool           `json:"backfilled,omitempty" doc:"The contract was recorded after it was sold (its state from the dates)."`
		RecordedOn string         `json:"recorded_on,omitempty" format:"date" doc:"contract.backfilled: the day it was recorded."`
	}
	ClaimEventData struct {
		ClaimID       string         `json:"claim_id"`
		Kind          string         `json:"kind"`
		UnitID        string         `json:"unit_id"`
		StorefrontID  *string        `json:"storefront_id,omitempty"`
		NodeID        *string        `json:"node_id,omitempty"`
		Reference     *string        `json:"reference,omitempty" doc:"The caller's own reference."`
		Version       int            `json:"version"`
		FromState     *string        `json:"from_state,omitempty"`
		ToState       string         `json:"to_state" doc:"The claim's state after the event."`
		Reason        string         `json:"reason,omitempty"`
		Flags         []any          `json:"flags,omitempty"`
		Deadline      string         `json:"deadline,omitempty" enum:"review,decision" doc:"claim.deadline_missed: the deadline missed, review (a response) or decision."`
		DueAt         string         `json:"due_at,omitempty" format:"date-time" doc:"claim.deadline_missed: when the deadline was due."`
		TotalApproved *tenants.Money `json:"total_approved,omitempty" doc:"claim.approved: the total approved over the claim's lines."`
		StorefrontStatusField
	}
	ComplaintEventData struct {
		ComplaintID  string  `json:"complaint_id"`
		StorefrontID *string `json:"storefront_id,omitempty"`
		TicketID     *string `json:"ticket_id,omitempty"`
		NodeID       *string `json:"node_id,omitempty"`
		TechnicianID *string `json:"technician_id,omitempty"`
		CustomerID   *string `json:"customer_id,omitempty"`
		Category     string  `json:"category"`
		Severity     string  `json:"severity"`
		Level        int     `json:"level"`
		EscalatedTo  *string `json:"escalated_to,omitempty"`
		FromState    *string `json:"from_state,omitempty"`
		ToState      string  `json:"to_state"`
		Note         string  `json:"note,omitempty"`

		SLADueAt             *time.Time     `json:"sla_due_at,omitempty" doc:"complaint.filed, complaint.escalated, complaint.reopened: when the complaint must be resolved (its SLA)."`
		ClaimedAmount        *tenants.Money `json:"claimed_amount,omitempty" doc:"complaint.filed: what the customer claims for property damage."`
		Upheld               *bool          `json:"upheld,omitempty" doc:"complaint.resolved: the investigation found the complaint justified."`
		Waiver               string         `json:"waiver,omitempty" doc:"complaint.resolved: the service promise the finding applied to the ticket (its charges waived)."`
		Reduction            *tenants.Money `json:"reduction,omitempty" doc:"complaint.resolved of a fee complaint upheld with the centre's reduction: what it takes off the customer's charges, the brand bearing it (ticket.charges_reduced)."`
		Refund               *tenants.Money `json:"refund,omitempty" doc:"complaint.resolved: what the customer is refunded by the waiver or the reduction."`
		RefundPayoutID       string         `json:"refund_payout_id,omitempty" doc:"complaint.resolved: the payout of that refund."`
		AssessedAmount       *tenants.Money `json:"assessed_amount,omitempty" doc:"complaint.resolved: the property damage's value as assessed, paid as compensation."`
		CompensationPayoutID string         `json:"compensation_payout_id,omitempty" doc:"complaint.resolved: the payout of the compensation."`
		DamagedItem          string         `json:"damaged_item,omitempty" doc:"complaint.resolved: the damaged item compensated, when the assessment named it."`
		ApologyTaskID        string         `json:"apology_task_id,omitempty" doc:"complaint.resolved: the apology task opened on the ticket."`
		Rating               int            `json:"rating,omitempty" doc:"complaint.rated: the customer's rating of the resolution, 1 to 5."`
	}
	SwapEventData struct {
		UnitID             string         `json:"unit_id"`
		State              string         `json:"state"`
		Reason             string         `json:"reason,omitempty"`
		StorefrontID       *string        `json:"storefront_id,omitempty"`
		FromState          *string        `json:"from_state,omitempty"`
		Fee                *tenants.Money `json:"fee,omitempty"`
		ReplacementModelID *string        `json:"replacement_model_id,omitempty"`
		Amount             *tenants.Money `json:"amount,omitempty" doc:"swap.evaluated and swap.approved: the amount the swap is worth (the unit's value), which decides who approves it."`
		FeeRule            string         `json:"fee_rule,omitempty" doc:"swap.evaluated and swap.approved: the rule that set the fee."`
		FeeSetBy           string         `json:"fee_set_by,omitempty" enum:"evaluation,brand" doc:"Who set fee, the customer's: the evaluation (a plan's terms, or none owed) or the brand at its approval (a swap no rule prices)."`
		BorneBy            string         `json:"borne_by,omitempty" enum:"plan,brand" doc:"Who bears amount, the rest of the replacement: the plan contract's provider for a swap under one, else the brand."`
		DroppedContractID  string         `json:"dropped_contract_id,omitempty" doc:"swap.evaluated and swap.approved: the contract the swap named, no longer in force on its day (cancelled, consumed or expired since the request): the swap was evaluated as naming none."`
		ReplacementUnitID  string         `json:"replacement_unit_id,omitempty" doc:"swap.fulfilled: the unit handed over."`
		EndedContractIDs   []string       `json:"ended_contract_ids,omitempty" doc:"swap.fulfilled: the plan contracts the swap consumed (ended)."`
		MovedContractIDs   []string       `json:"moved_contract_ids,omitempty" doc:"swap.fulfilled: the plan contracts moved to the replacement unit."`
	}
	PayoutEventData struct {
		UnitID       string        `json:"unit_id"`
		Amount       tenants.Money `json:"amount"`
		DueOn        string        `json:"due_on"`
		State        string        `json:"state"`
		Payer        string        `json:"payer" doc:"Who owes it: plan, brand or storefront (the unit's seller)."`
		StorefrontID *string       `json:"storefront_id,omitempty"`
		ClaimID      *string       `json:"claim_id,omitempty"`
		ContractID   *string       `json:"contract_id,omitempty" doc:"The plan contract that owes it."`
		TicketID     *string       `json:"ticket_id,omitempty" doc:"The ticket it is owed for."`
		Reference    *string       `json:"reference,omitempty"`
		Late         *bool         `json:"late,omitempty"`
	}
	TestClockEventData struct {
		TestClockID string    `json:"test_clock_id"`
		FrozenTime  time.Time `json:"frozen_time"`
		// From is the clock's time before an advance (test_clock.advanced).
		From *time.Time `json:"from,omitempty"`
	}
	StockEventData struct {
		NodeID   string  `json:"node_id"`
		TicketID *string `json:"ticket_id,omitempty"`
		Lines    []any   `json:"lines,omitempty"`
		Changes  []any   `json:"changes,omitempty"`
		Note     *string `json:"note,omitempty"`
		Reason   string  `json:"reason,omitempty"`
	}
	LoanerEventData struct {
		LoanerID    string  `json:"loaner_id"`
		NodeID      string  `json:"node_id"`
		Serial      string  `json:"serial,omitempty"`
		Category    string  `json:"category,omitempty"`
		TicketID    *string `json:"ticket_id,omitempty"`
		DueOn       string  `json:"due_on,omitempty"`
		Condition   string  `json:"condition,omitempty"`
		Status      string  `json:"status,omitempty"`
		OverdueDays int     `json:"overdue_days,omitempty"`
	}
	WebhookEndpointEventData struct {
		EndpointID              string     `json:"endpoint_id" doc:"The webhook endpoint (also the event's subject_id)." example:"whk_01jd3zq8w6v7t3y2k9x4n5m6pb"`
		StorefrontID            *string    `json:"storefront_id,omitempty"`
		URL                     string     `json:"url,omitempty"`
		EventTypes              []string   `json:"event_types,omitempty"`
		Enabled                 *bool      `json:"enabled,omitempty"`
		PreviousSecretExpiresAt *time.Time `json:"previous_secret_expires_at,omitempty"`
		Reason                  string     `json:"reason,omitempty"`
	}
	TicketEventData struct {
		TicketID            string   `json:"ticket_id"`
		Number              string   `json:"number"`
		FromState           *string  `json:"from_state,omitempty"`
		State               string   `json:"state,omitempty" doc:"The ticket's state after the event."`
		StorefrontID        *string  `json:"storefront_id,omitempty"`
		NodeID              *string  `json:"node_id,omitempty"`
		TechnicianID        *string  `json:"technician_id,omitempty"`
		Reason              string   `json:"reason,omitempty"`
		SLA                 string   `json:"sla,omitempty" doc:"The breached service level (ticket.sla_breached)."`
		DueAt               string   `json:"due_at,omitempty"`
		Level               int      `json:"level,omitempty"`
		EscalatedTo         string   `json:"escalated_to,omitempty"`
		LateMinutes         int      `json:"late_minutes,omitempty"`
		InstalledOn         string   `json:"installed_on,omitempty" doc:"ticket.completed of an install ticket: the installation date it set on the unit."`
		Outcome             string   `json:"outcome,omitempty" doc:"The outcome the action recorded: ticket.outcome_recorded refund, exchange or refusal; ticket.guidance_recorded resolved, observe or failed; ticket.callback_recorded the callback's outcome; ticket.task_completed done or refused; ticket.contact_attempted how the call failed (no_answer, busy, unobtainable, wrong_number)."`
		ContactAttempts     *int     `json:"contact_attempts,omitempty" doc:"ticket.contact_attempted: the failed contact attempts on the ticket so far; ticket.scheduled with customer_unreachable: those since the last agreed window; ticket.sla_breached of first_contact: those made before the breach (0: the network never tried)."`
		CustomerUnreachable *bool    `json:"customer_unreachable,omitempty" doc:"ticket.scheduled: the window was booked without the customer's agreement, after failed contact attempts (the network's promise)."`
		FreightPayer        string   `json:"freight_payer,omitempty" doc:"ticket.outcome_recorded: who pays the freight (seller or buyer), as the engine named."`
		Source              string   `json:"source,omitempty" doc:"ticket.charges_waived, ticket.charges_reduced and ticket.damage_apology_requested: the complaint that established the promise, carried the reduction (absent for a reduction approved on the ticket) or asked for the apology."`
		Tasks               []string `json:"tasks,omitempty" doc:"The follow-up tasks the action opened (ticket.charges_waived: apologise; ticket.damage_apology_requested: apologise_damage; ticket.visit_exception_recorded: reach_customer; ticket.contact_attempted of a wrong or unobtainable number: reach_customer …)."`
		TaskID              string   `json:"task_id,omitempty" doc:"ticket.task_completed and ticket.damage_apology_requested: the task completed or opened."`
		DamagedItem         string   `json:"damaged_item,omitempty" doc:"ticket.damage_apology_requested: the damaged item the center assessed, when it named one."`

		Channel              string               `json:"channel,omitempty" doc:"ticket.opened: the channel the ticket came in by."`
		Type                 string               `json:"type,omitempty" doc:"ticket.opened: the ticket's type (repair, install, maintenance …)."`
		Note                 string               `json:"note,omitempty" doc:"ticket.info_provided: the note given with the correction."`
		Mode                 string               `json:"mode,omitempty" doc:"ticket.triaged: remote, on_site or carry_in."`
		Triage               *tickets.Triage      `json:"triage,omitempty" doc:"ticket.diagnosed: the triage a diagnosis raised (a hard fault or skill level the node and technician meet)."`
		Dispatch             map[string]any       `json:"dispatch,omitempty" doc:"The dispatch decision (ticket.dispatched, ticket.triaged, ticket.callback_recorded, ticket.guidance_recorded, ticket.diagnosed …): node_id, technician_id, reason and, for a manual dispatch, override {by, reason}."`
		DispatchFailed       bool                 `json:"dispatch_failed,omitempty" doc:"No node could take the ticket: it stays triaged with the reason."`
		Escalation           map[string]any       `json:"escalation,omitempty" doc:"ticket.diagnosed of a fault beyond the node: where it came from (from_node_id, from_technician_id) and why it went up a tier."`
		FromTechnicianID     string               `json:"from_technician_id,omitempty" doc:"ticket.assigned of a job reassigned: the technician it was taken from."`
		Window               *tickets.Window      `json:"window,omitempty" doc:"ticket.scheduled, ticket.rescheduled, ticket.visit_exception_recorded: the appointment window agreed."`
		WindowGivenUp        *tickets.Window      `json:"window_given_up,omitempty" doc:"ticket.dispatched of a scheduled job sent to another node: the window it gave up."`
		ReasonCode           string               `json:"reason_code,omitempty" doc:"ticket.rescheduled and ticket.rejected: the reason's code."`
		ETA                  *time.Time           `json:"eta,omitempty" doc:"ticket.en_route_reported: the expected arrival."`
		Late                 *bool                `json:"late,omitempty" doc:"ticket.en_route_reported: the expected arrival is after the agreed window's end (the customer is told the technician runs late)."`
		Arrival              string               `json:"arrival,omitempty" enum:"early,on_time,late,very_late" doc:"ticket.checked_in: the arrival against the agreed window (see the ticket's appointment.arrival)."`
		ArrivalMinutes       *int                 `json:"arrival_minutes,omitempty" doc:"ticket.checked_in: minutes after the agreed window closed (0 inside it, negative before it opened)."`
		Visit                int                  `json:"visit,omitempty" doc:"ticket.checked_in and ticket.checklist_recorded: the visit's number."`
		ChecklistFailed      *bool                `json:"checklist_failed,omitempty" doc:"ticket.checklist_recorded: an item of the checklist failed (licence not shown or not matching, charges beyond the price list, a conduct breach)."`
		Exception            string               `json:"exception,omitempty" doc:"ticket.visit_exception_recorded: what stopped the visit (customer_not_home, entry_refused …)."`
		Cause                string               `json:"cause,omitempty" doc:"ticket.diagnosed: the fault's cause."`
		Basis                string               `json:"basis,omitempty" doc:"The entitlement basis the work is done on (ticket.diagnosed, ticket.completed, ticket.inspected, ticket.outcome_recorded)."`
		Remedy               string               `json:"remedy,omitempty" doc:"ticket.inspected: the remedy the engine decided."`
		Resellable           *bool                `json:"resellable,omitempty" doc:"ticket.inspected: the returned goods can be sold again."`
		FaultConfirmed       *bool                `json:"fault_confirmed,omitempty" doc:"ticket.inspected: the inspection confirmed the fault."`
		WrongGoods           *bool                `json:"wrong_goods,omitempty" doc:"ticket.inspected: the goods returned are not the ones sold."`
		QuoteID              string               `json:"quote_id,omitempty" doc:"ticket.diagnosed: the price-list quote stored with the diagnosis."`
		CustomerPays         *tenants.Money       `json:"customer_pays,omitempty" doc:"ticket.diagnosed and ticket.checklist_recorded: what the customer is quoted to pay."`
		Uncertain            bool                 `json:"uncertain,omitempty" doc:"ticket.diagnosed: the technician is not certain of the fix (a callback follows)."`
		RepeatVisitCause     string               `json:"repeat_visit_cause,omitempty" doc:"ticket.installation_reported of a repeat visit: who caused it."`
		CustomerTotal        *tenants.Money       `json:"customer_total,omitempty" doc:"ticket.completed, ticket.charges_waived and ticket.charges_reduced (applied to settled charges): what the customer pays in all after the change."`
		Waivers              []string             `json:"waivers,omitempty" doc:"ticket.completed: the service promises that waived charges."`
		Delivery             string               `json:"delivery,omitempty" enum:"on_site,later,mail" doc:"ticket.invoice_requested (and ticket.completed with an invoice asked for): how the invoice reaches the customer."`
		InvoiceNumber        string               `json:"invoice_number,omitempty" doc:"ticket.invoice_issued: the invoice's number."`
		IssuedOn             string               `json:"issued_on,omitempty" format:"date" doc:"ticket.invoice_issued: the invoice's date."`
		PromisedOn           string               `json:"promised_on,omitempty" format:"date" doc:"ticket.invoice_requested (and ticket.completed with an invoice asked for): the day (the tenant's calendar) the customer was promised the invoice by; for on_site the day of the request."`
		TrackingNumber       string               `json:"tracking_number,omitempty" doc:"ticket.invoice_issued of a mailed invoice: the mailing's tracking number, when given."`
		PartsBilled          []tickets.BilledPart `json:"parts_billed,omitempty" doc:"ticket.completed: the parts of the node's stock billed, quoted against used."`
		CompensationPayoutID string               `json:"compensation_payout_id,omitempty" doc:"ticket.completed: the payout of the compensation a plan owes the customer."`
		Refund               *tenants.Money       `json:"refund,omitempty" doc:"ticket.charges_waived and ticket.charges_reduced: what the customer is refunded (owed by the brand)."`
		RefundPayoutID       string               `json:"refund_payout_id,omitempty" doc:"ticket.charges_reduced of settled charges: the payout refunding the customer."`
		Reduction            *tenants.Money       `json:"reduction,omitempty" doc:"ticket.charges_reduced: what the centre's reduction takes off the customer's charges, the brand bearing it. ticket.completed: what the reductions approved before it (applied by this completion, named in its reductions) took off in all; absent when none."`
		ReducedLines         []string             `json:"reduced_lines,omitempty" doc:"ticket.charges_reduced: the lines the reduction takes off whole (visit, labor, part, other), when it named lines."`
		ApprovedBy           string               `json:"approved_by,omitempty" doc:"ticket.charges_reduced: the API key that approved the reduction (or resolved the fee complaint that carried it)."`
		AppliesAt            string               `json:"applies_at,omitempty" enum:"completion,none" doc:"ticket.charges_waived and ticket.charges_reduced on a ticket not yet completed: completion (its completion applies it) or none (cancelled: nothing to waive)."`
		Waiver               string               `json:"waiver,omitempty" doc:"ticket.charges_waived: the service promise applied (late_arrival, licence_not_shown, charge_beyond_price_list, conduct_breach)."`
		TestRunSkipped       bool                 `json:"test_run_skipped,omitempty" doc:"ticket.completed: the technician did not run the unit after the repair (a callback follows)."`
		NotificationID       string               `json:"notification_id,omitempty" doc:"ticket.signoff_code_sent: the message that carried the code."`
		Via                  string               `json:"via,omitempty" doc:"ticket.signoff_code_sent: how it was sent (gateway, or log without one)."`
		Rating               int                  `json:"rating,omitempty" doc:"ticket.signed_off: the customer's rating, 1 to 5."`
		ConfirmedByCode      *bool                `json:"confirmed_by_code,omitempty" doc:"ticket.signed_off: the customer confirmed with the code sent to their phone."`
		Declined             bool                 `json:"declined,omitempty" doc:"ticket.signed_off: the customer, sent the sign-off code, declined to sign and rate (no rating, no code, no comment)."`
		CallbackDueAt        *time.Time           `json:"callback_due_at,omitempty" doc:"ticket.signed_off with a rating of 1 or 2 (the customer not satisfied): when the callback that follows the customer up is due, brought forward to the policy's uncertain_callback_minutes after the sign-off when that was sooner."`
		Op                   string               `json:"op,omitempty" doc:"ticket.parts_moved: reserve, issue, use or return."`
		Lines                []stock.Line         `json:"lines,omitempty" doc:"ticket.parts_moved: the parts and quantities."`
		Shortages            []stock.Shortage     `json:"shortages,omitempty" doc:"ticket.parts_moved: what the node could not reserve (the ticket waits for parts)."`
		LoanerID             string               `json:"loaner_id,omitempty" doc:"ticket.carried_in and ticket.returned: the loaner lent or returned."`
		LoanerCondition      string               `json:"loaner_condition,omitempty" doc:"ticket.returned: the loaner's condition when it came back."`
		ReceiptNumber        string               `json:"receipt_number,omitempty" doc:"ticket.carried_in: the receipt given for the unit. ticket.completed that charged the customer: the payment receipt it issued (PR-…); ticket.invoice_requested and ticket.invoice_issued: the payment receipt the invoice is for."`
		ReturnBy             *time.Time           `json:"return_by,omitempty" doc:"ticket.carried_in: when the unit is due back."`
		ReturnByBeyondLimit  bool                 `json:"return_by_beyond_limit,omitempty" doc:"ticket.carried_in: the customer agreed to a return beyond the workshop deadline."`
		SwapID               string               `json:"swap_id,omitempty" doc:"ticket.swap_requested and ticket.outcome_recorded: the swap."`
		PayoutID             string               `json:"payout_id,omitempty" doc:"ticket.outcome_recorded: the refund's payout."`
		FreightPayoutID      string               `json:"freight_payout_id,omitempty" doc:"ticket.outcome_recorded: the payout of the freight refunded to the buyer, owed by the seller (the storefront that sold the unit, else the brand)."`
		FreightAmount        *tenants.Money       `json:"freight_amount,omitempty" doc:"ticket.outcome_recorded: the freight refunded."`
		Kind                 string               `json:"kind,omitempty" doc:"ticket.task_completed: the task's kind."`
		StorefrontStatusField
	}
	SLAPolicyEventData     = tickets.SLAPolicy
	PrivacyPolicyEventData = privacy.PolicyEvent
	CarePolicyEventData    struct {
		Version      int                      `json:"version" doc:"The policy's new version."`
		Enabled      bool                     `json:"enabled"`
		IntervalDays *int                     `json:"interval_days,omitempty" doc:"The overall interval in days."`
		Categories   []customers.CareInterval `json:"categories"`
		Seasons      []customers.CareSeason   `json:"seasons"`
	}
	CareDueEventData struct {
		UnitID       string `json:"unit_id"`
		CustomerID   string `json:"customer_id" doc:"The owner to remind."`
		ModelID      string `json:"model_id"`
		Category     string `json:"category" doc:"The model's product category, whose interval applied."`
		StorefrontID string `json:"storefront_id,omitempty" doc:"The selling storefront, when sold by one (its endpoints receive the event)."`
		Anchor       string `json:"anchor" enum:"installed_on,purchase_date,maintained_on,season" doc:"What the reminder counts from: the installation date, the purchase date of a unit never installed, the unit's last maintenance in its service history when that is later, or (season) the start of a season of use of the unit's category."`
		AnchorDate   string `json:"anchor_date,omitempty" format:"date" doc:"The installation, purchase or last maintenance date (interval reminders)."`
		IntervalDays int    `json:"interval_days,omitempty" doc:"The interval that applied (interval reminders)."`
		Period       int    `json:"period,omitempty" doc:"Which interval since the anchor has come, 1 for the first (interval reminders)."`
		SeasonStart  string `json:"season_start,omitempty" doc:"The season's first day, MM-DD (season reminders)." example:"05-15"`
		LeadDays     int    `json:"lead_days,omitempty" doc:"Days before the season's start the reminder was due (season reminders)."`
		DueOn        string `json:"due_on" format:"date" doc:"The due date announced, once per unit, due date and anchor: anchor_date plus period intervals, or the season's start."`
	}
	GradingPolicyEventData struct {
		Version int `json:"version" doc:"The policy's new version."`
	}
	GradeEventData = quality.ProposalEventData
	LevelEventData = quality.LevelEventData
	// CertificationEventData is the data of technician.certification_* events.
	CertificationEventData struct {
		CertificationID string  `json:"certification_id" example:"crt_01jd3zq8w6v7t3y2k9x4n5m6pn"`
		Course          string  `json:"course" example:"washer-advanced"`
		Result          string  `json:"result,omitempty" enum:"passed,failed" doc:"certification_recorded only." example:"passed"`
		ExpiresOn       *string `json:"expires_on,omitempty" format:"date" doc:"certification_recorded only." example:"2028-06-14"`
	}
	ScorecardReadyEvent = quality.ScorecardReadyData
)

// StorefrontStatusField is what a webhook to a storefront with a status mapping
// adds: the storefront's own code for the state (ticket and claim events).
type StorefrontStatusField struct {
	StorefrontStatus string `json:"storefront_status,omitempty" doc:"The storefront's own code for this state, when the receiving storefront maps our states to its codes (webhook deliveries only)."`
}

// EventCatalog is every event type ServiceNet emits.
var EventCatalog = func() []EventKind {
	t := reflect.TypeFor[TenantEventData]
	k := func(typ, summary string, data func() reflect.Type) EventKind {
		return EventKind{Type: typ, Summary: summary, Data: data()}
	}
	out := []EventKind{
		k(events.TypeTenantCreated, "A tenant was created", t),
		k(events.TypeTenantUpdated, "The tenant's settings changed", t),
		k(payouts.TypeHolidaySet, "A holiday or a make-up working day was set in the tenant's calendar", t),
		k(payouts.TypeHolidayDeleted, "A holiday or a make-up working day was removed from the tenant's calendar", t),
		k(events.TypeAPIKeyCreated, "An API key was issued", reflect.TypeFor[APIKeyEventData]),
		k(events.TypeAPIKeyRevoked, "An API key was revoked", reflect.TypeFor[APIKeyEventData]),
		k(catalog.TypeProductModelCreated, "A product model was added to the catalog", reflect.TypeFor[ProductModelEventData]),
		k(catalog.TypeProductModelUpdated, "A product model changed", reflect.TypeFor[ProductModelEventData]),
		k(catalog.TypePriceListCreated, "A price list version was published", reflect.TypeFor[PriceListEventData]),
		k(customers.TypeStorefrontCreated, "A storefront was created", reflect.TypeFor[StorefrontEventData]),
		k(customers.TypeStorefrontUpdated, "A storefront changed", reflect.TypeFor[StorefrontEventData]),
		k(customers.TypeCustomerCreated, "A customer was created", reflect.TypeFor[CustomerEventData]),
		k(customers.TypeCustomerUpdated, "A customer changed", reflect.TypeFor[CustomerEventData]),
		k(customers.TypeUnitRegistered, "A unit was registered", reflect.TypeFor[UnitEventData]),
		k(customers.TypeUnitUpdated, "A unit changed", reflect.TypeFor[UnitEventData]),
		k(customers.TypeUnitReplaced, "A unit was replaced by another (a swap)", reflect.TypeFor[UnitEventData]),
		k(customers.TypeServiceRecorded, "A service record was added to a unit's history", reflect.TypeFor[UnitEventData]),
		k(customers.TypeUnitCareDue, "A unit's care is due under the tenant's care-reminder policy: remind the customer (保养提醒)", reflect.TypeFor[CareDueEventData]),
		k(customers.TypeCarePolicyUpdated, "The tenant's care-reminder policy changed", reflect.TypeFor[CarePolicyEventData]),
		k(network.TypeNodeCreated, "A network node was created", reflect.TypeFor[NodeEventData]),
		k(network.TypeNodeUpdated, "A network node changed", reflect.TypeFor[NodeEventData]),
		k(network.TypeNodeMoved, "A network node moved under another parent", reflect.TypeFor[NodeEventData]),
		k(network.TypeNodeStatusChanged, "A network node's status changed", reflect.TypeFor[NodeEventData]),
		k(network.TypeTechnicianCreated, "A technician was created", reflect.TypeFor[TechnicianEventData]),
		k(network.TypeTechnicianUpdated, "A technician changed", reflect.TypeFor[TechnicianEventData]),
		k(network.TypeTechnicianLicenceRenewed, "A technician's licence was renewed", reflect.TypeFor[TechnicianEventData]),
		k(network.TypeTechnicianLicenceExpired, "A technician's licence expired", reflect.TypeFor[TechnicianEventData]),
		k(network.TypeImportFinished, "A network import finished", reflect.TypeFor[NetworkImportEventData]),
		k(warranty.TypePlanCreated, "A coverage plan was created", reflect.TypeFor[PlanEventData]),
		k(warranty.TypePlanUpdated, "A coverage plan changed", reflect.TypeFor[PlanEventData]),
		k(warranty.TypeContractCreated, "A coverage plan was sold for a unit", reflect.TypeFor[ContractEventData]),
		k(warranty.TypeContractBackfilled, "A past sale of a plan was recorded", reflect.TypeFor[ContractEventData]),
		k(privacy.TypePolicyUpdated, "The tenant's privacy policy (grace period, retention) changed", reflect.TypeFor[PrivacyPolicyEventData]),
		k(customers.TypeCustomerErased, "A customer's personal data was erased (a data-subject request)", reflect.TypeFor[CustomerEventData]),
		k(notifications.TypeGatewayCreated, "A notification gateway was registered", reflect.TypeFor[NotificationEventData]),
		k(notifications.TypeGatewayUpdated, "A notification gateway changed", reflect.TypeFor[NotificationEventData]),
		k(notifications.TypeRequested, "A customer notification was requested (delivered by the tenant when it has no gateway)", reflect.TypeFor[NotificationEventData]),
		k(notifications.TypeSent, "A customer notification was sent through the gateway", reflect.TypeFor[NotificationEventData]),
		k(notifications.TypeFailed, "A customer notification could not be delivered", reflect.TypeFor[NotificationEventData]),
		k(warranty.TypeContractActivated, "A contract became active", reflect.TypeFor[ContractEventData]),
		k(warranty.TypeContractExpired, "A contract expired", reflect.TypeFor[ContractEventData]),
		k(warranty.TypeContractCancelled, "A contract was cancelled", reflect.TypeFor[ContractEventData]),
		k(warranty.TypeContractConsumed, "A contract was used up", reflect.TypeFor[ContractEventData]),
		k(warranty.TypeContractRedated, "A contract's coverage window moved with its unit's corrected purchase date", reflect.TypeFor[ContractEventData]),
		k(claims.TypeSubmitted, "A claim was submitted (or a new version of it)", reflect.TypeFor[ClaimEventData]),
		k(claims.TypeUnderReview, "A claim awaits a reviewer", reflect.TypeFor[ClaimEventData]),
		k(claims.TypeNeedsInfo, "A claim needs more information", reflect.TypeFor[ClaimEventData]),
		k(claims.TypeApproved, "A claim was approved", reflect.TypeFor[ClaimEventData]),
		k(claims.TypeRejected, "A claim was rejected", reflect.TypeFor[ClaimEventData]),
		k(claims.TypeWithdrawn, "A claim was withdrawn", reflect.TypeFor[ClaimEventData]),
		k(claims.TypePaid, "A claim was paid", reflect.TypeFor[ClaimEventData]),
		k(claims.TypeFlagged, "Adjudication flagged a claim", reflect.TypeFor[ClaimEventData]),
		k(claims.TypeDeadlineMissed, "A claim missed its review or decision deadline", reflect.TypeFor[ClaimEventData]),
		k(complaints.TypeFiled, "A complaint was filed", reflect.TypeFor[ComplaintEventData]),
		k(complaints.TypeInvestigating, "A complaint is being investigated", reflect.TypeFor[ComplaintEventData]),
		k(complaints.TypeEscalated, "A complaint was escalated", reflect.TypeFor[ComplaintEventData]),
		k(complaints.TypeSLABreached, "A complaint missed its resolution deadline", reflect.TypeFor[ComplaintEventData]),
		k(complaints.TypeResolved, "A complaint was resolved", reflect.TypeFor[ComplaintEventData]),
		k(complaints.TypeRated, "The customer rated a complaint's resolution", reflect.TypeFor[ComplaintEventData]),
		k(complaints.TypeReopened, "A complaint was reopened", reflect.TypeFor[ComplaintEventData]),
		k(complaints.TypeClosed, "A complaint was closed", reflect.TypeFor[ComplaintEventData]),
		k(swaps.TypeSwapRequested, "A unit swap was requested", reflect.TypeFor[SwapEventData]),
		k(swaps.TypeSwapEvaluated, "A swap's fee and replacement were evaluated", reflect.TypeFor[SwapEventData]),
		k(swaps.TypeSwapApproved, "A swap was approved", reflect.TypeFor[SwapEventData]),
		k(swaps.TypeSwapRejected, "A swap was rejected", reflect.TypeFor[SwapEventData]),
		k(swaps.TypeSwapFulfilled, "A swap was handed over", reflect.TypeFor[SwapEventData]),
		k(payouts.TypePayoutScheduled, "A payout to a customer was scheduled", reflect.TypeFor[PayoutEventData]),
		k(payouts.TypePayoutPaid, "A payout was paid", reflect.TypeFor[PayoutEventData]),
		k(payouts.TypePayoutMissed, "A payout missed its deadline", reflect.TypeFor[PayoutEventData]),
		k(stock.TypeStockReceived, "Parts were received into a node's stock", reflect.TypeFor[StockEventData]),
		k(stock.TypeStockAdjusted, "A node's stock count was corrected", reflect.TypeFor[StockEventData]),
		k(stock.TypeLoanerCreated, "A loaner unit was added", reflect.TypeFor[LoanerEventData]),
		k(stock.TypeLoanerLent, "A loaner unit was lent", reflect.TypeFor[LoanerEventData]),
		k(stock.TypeLoanerReturned, "A loaner unit came back", reflect.TypeFor[LoanerEventData]),
		k(webhooks.TypeEndpointCreated, "A webhook endpoint was registered", reflect.TypeFor[WebhookEndpointEventData]),
		k(webhooks.TypeEndpointUpdated, "A webhook endpoint changed", reflect.TypeFor[WebhookEndpointEventData]),
		k(webhooks.TypeSecretRotated, "A webhook endpoint's secret was rotated", reflect.TypeFor[WebhookEndpointEventData]),
		k(webhooks.TypeEndpointDisabled, "A webhook endpoint was disabled after failing deliveries", reflect.TypeFor[WebhookEndpointEventData]),
		k(tickets.TypeSLAPolicyUpdated, "The tenant's SLA policy changed", reflect.TypeFor[SLAPolicyEventData]),
		k(tickets.TypeSLABreached, "A ticket missed a service level", reflect.TypeFor[TicketEventData]),
		k("ticket."+string(tickets.ActOpen), "A ticket was taken in", reflect.TypeFor[TicketEventData]),
		k("ticket."+string(tickets.ActChargesWaived), "An upheld complaint's service promise made the ticket's service free", reflect.TypeFor[TicketEventData]),
		k("ticket."+string(tickets.ActDamageApologyRequested), "An upheld property damage complaint asked the technician to apologise for the damage", reflect.TypeFor[TicketEventData]),
		k(quality.TypeGradingPolicyUpdated, "The tenant's grading policy changed", reflect.TypeFor[GradingPolicyEventData]),
		k(quality.TypeGradeProposed, "A grading run proposed a node's grade", reflect.TypeFor[GradeEventData]),
		k(quality.TypeGradeApproved, "A grade proposal was approved and the node's grade set", reflect.TypeFor[GradeEventData]),
		k(quality.TypeGradeRejected, "A grade proposal was rejected", reflect.TypeFor[GradeEventData]),
		k(quality.TypeGradeAppealed, "A node appealed its approved grade", reflect.TypeFor[GradeEventData]),
		k(quality.TypeGradeAppealDecided, "A grade appeal was decided", reflect.TypeFor[GradeEventData]),
		k(quality.TypeScorecardReady, "A month's scorecards are ready", reflect.TypeFor[ScorecardReadyEvent]),
		k(quality.TypeLevelPolicyUpdated, "The tenant's technician level policy changed", reflect.TypeFor[GradingPolicyEventData]),
		k(quality.TypeLevelProposed, "A levelling run proposed a technician's level in a category", reflect.TypeFor[LevelEventData]),
		k(quality.TypeLevelApproved, "A level proposal was approved and the technician's level set", reflect.TypeFor[LevelEventData]),
		k(quality.TypeLevelRejected, "A level proposal was rejected", reflect.TypeFor[LevelEventData]),
		k(quality.TypeLevelAppealed, "A technician appealed its approved level", reflect.TypeFor[LevelEventData]),
		k(quality.TypeLevelAppealDecided, "A level appeal was decided", reflect.TypeFor[LevelEventData]),
		k(network.TypeCertificationRecorded, "A technician's training or certification was recorded", reflect.TypeFor[CertificationEventData]),
		k(network.TypeCertificationRemoved, "A technician's training or certification record was removed", reflect.TypeFor[CertificationEventData]),
		k(testclocks.TypeTestClockCreated, "A test clock was created (test mode only)", reflect.TypeFor[TestClockEventData]),
		k(testclocks.TypeTestClockAdvanced, "A test clock was advanced (test mode only)", reflect.TypeFor[TestClockEventData]),
		k(testclocks.TypeTestClockReady, "What fell due on a test clock's advance has been fired (test mode only)", reflect.TypeFor[TestClockEventData]),
	}
	for _, tr := range tickets.Transitions {
		s := strings.TrimSuffix(tr.Summary, ".")
		if i := strings.IndexAny(s, ".;:("); i > 0 {
			s = s[:i]
		}
		if len(s) > 55 {
			s = s[:55]
		}
		out = append(out, k("ticket."+string(tr.Action), "Ticket "+strings.ReplaceAll(string(tr.Action), "_", " ")+": "+strings.TrimSpace(lowerFirst(s)), reflect.TypeFor[TicketEventData]))
	}
	return out
}()

func lowerFirst(s string) string {
	if s == "" {
		return s
	}
	return strings.ToLower(s[:1]) + s[1:]
}

// eventSchemaName is the named schema of an event type: ticket.dispatched → TicketDispatchedEvent.
func eventSchemaName(typ string) string { return pascal(typ) + "Event" }

// occurredAtDoc describes an event's occurred_at. Test mode keeps the wall
// clock's: webhook endpoints receive the events after their creation
// (deliver.go) and the lag metrics read the time, both on the wall clock.
const occurredAtDoc = "When the platform recorded the event, on the wall clock, in test mode too: an object on a test clock " +
	"carries the clock's times in its own fields (data), and the feed is ordered by position, not by this time."

// registerEventSchemas puts one named envelope schema per event type into
// the registry, and the feed item's schema Event: a oneOf of them,
// discriminated by type; it returns a reference to Event.
func registerEventSchemas(reg huma.Registry) *huma.Schema {
	m := reg.Map()
	if _, done := m["Event"]; done {
		return &huma.Schema{Ref: "#/components/schemas/Event"}
	}
	feed := &huma.Schema{Description: "An entry of the event feed: one of the catalog's event types, told apart by `type`.", Discriminator: &huma.Discriminator{PropertyName: "type", Mapping: map[string]string{}}}
	for _, ev := range EventCatalog {
		name := eventSchemaName(ev.Type)
		if _, dup := m[name]; dup {
			panic(fmt.Sprintf("api: event type %s listed twice in the catalog", ev.Type))
		}
		ref := "#/components/schemas/" + name
		s := &huma.Schema{
			Type: huma.TypeObject, Description: ev.Summary + ".",
			Properties: map[string]*huma.Schema{
				"id":          {Type: huma.TypeString, Examples: []any{"evt_01jd3zq8w6v7t3y2k9x4n5m6pe"}},
				"type":        {Type: huma.TypeString, Enum: []any{ev.Type}, Description: "The event type."},
				"subject_id":  {Type: huma.TypeString, Description: "ID of the object the event is about."},
				"actor":       {Type: huma.TypeString, Description: "Key ID (or \"operator\", or a job) that caused it."},
				"occurred_at": {Type: huma.TypeString, Format: "date-time", Description: occurredAtDoc},
				"data":        reg.Schema(ev.Data, true, ""),
				"summary": {Type: huma.TypeString, Description: "What happened, told for people in the response's Content-Language: the event type's summary (message event." + ev.Type + ").",
					Examples: []any{ev.Summary}},
				"summary_i18n": reg.Schema(reflect.TypeFor[i18n.Message](), true, ""),
			},
			Required:             []string{"id", "type", "subject_id", "actor", "occurred_at", "data", "summary", "summary_i18n"},
			AdditionalProperties: false,
		}
		s.PrecomputeMessages()
		m[name] = s
		feed.OneOf = append(feed.OneOf, &huma.Schema{Ref: ref})
		feed.Discriminator.Mapping[ev.Type] = ref
	}
	m["Event"] = feed
	return &huma.Schema{Ref: "#/components/schemas/Event"}
}

// declareWebhooks fills the document's webhooks section (OpenAPI 3.1): one
// signed POST per event type, its body the event's named schema.
func declareWebhooks(doc *huma.OpenAPI) {
	doc.Webhooks = map[string]*huma.PathItem{}
	doc.Components.SecuritySchemes["webhookSignature"] = &huma.SecurityScheme{Type: "apiKey", In: "header", Name: "webhook-signature",
		Description: "Standard Webhooks signature: `v1,<base64 HMAC-SHA256 of id.timestamp.body>` with the endpoint's secret (space-separated while a rotated secret is still valid). Verify it before trusting a delivery."}
	reg := doc.Components.Schemas
	for _, ev := range EventCatalog {
		name := pascal(ev.Type) + "Webhook"
		reg.Map()[name] = &huma.Schema{
			Type: huma.TypeObject, Description: "The body of a `" + ev.Type + "` delivery: " + lowerFirst(ev.Summary) + ".",
			Properties: map[string]*huma.Schema{
				"type":      {Type: huma.TypeString, Enum: []any{ev.Type}, Description: "The event type."},
				"timestamp": {Type: huma.TypeString, Format: "date-time", Description: "When the event occurred."},
				"data":      reg.Schema(ev.Data, true, ""),
			},
			Required:             []string{"type", "timestamp", "data"},
			AdditionalProperties: false,
		}
		doc.Webhooks[ev.Type] = &huma.PathItem{Post: &huma.Operation{
			OperationID: "on" + pascal(ev.Type),
			Summary:     ev.Summary,
			Description: "Delivered to the tenant's endpoints (and a storefront's, for events about its own objects) subscribed to `" + ev.Type + "`, signed as Standard Webhooks.",
			Tags:        []string{"Webhooks"},
			Parameters: []*huma.Param{
				{Name: "webhook-id", In: "header", Required: true, Description: "The delivery's id; the same on every retry.", Schema: &huma.Schema{Type: huma.TypeString}},
				{Name: "webhook-timestamp", In: "header", Required: true, Description: "Unix seconds when signed.", Schema: &huma.Schema{Type: huma.TypeString}},
			},
			Security: []map[string][]string{{"webhookSignature": {}}},
			RequestBody: &huma.RequestBody{Required: true, Content: map[string]*huma.MediaType{
				"application/json": {Schema: &huma.Schema{Ref: "#/components/schemas/" + name}}}},
			Responses: map[string]*huma.Response{"2XX": {Description: "Delivery accepted; anything else is retried with backoff."}},
		}}
	}
}
