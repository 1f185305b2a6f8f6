package tickets

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/servicenet/servicenet/internal/pg"
	"github.com/servicenet/servicenet/tenants"
	"github.com/servicenet/servicenet/tenants/customers"
	"github.com/servicenet/servicenet/tenants/network"
	"github.com/servicenet/servicenet/tenants/notifications"
	"github.com/servicenet/servicenet/tenants/phones"
	"github.com/servicenet/servicenet/tenants/warranty"
)

// TicketContact is who to call about the ticket.
type TicketContact struct {
	Name  string `json:"name" minLength:"1" maxLength:"200" doc:"The customer's name." example:"王丽"`
	Phone string `json:"phone,omitempty" maxLength:"40" doc:"Phone to reach the customer (any usual notation: mainland mobiles, landlines with their area code, +country code for others; stored in E.164). Finds the customer by phone or creates one. Missing, unparseable or not a valid number, the ticket waits in needs_info with a verification item on contact.phone (and no customer) instead of being refused." example:"13800138000"`
	// PhoneDisplay is derived from Phone when the ticket is read.
	PhoneDisplay string `json:"phone_display,omitempty" readOnly:"true" doc:"The phone as people write it (national form for mainland numbers); masked like phone." example:"138 0013 8000"`
}

// ServiceAddress is where the service happens.
type ServiceAddress struct {
	RegionCode string   `json:"region_code,omitempty" pattern:"^[1-9][0-9]{5}$" doc:"GB/T 2260 district (or city) code: decides which nodes cover the address. Missing or unknown, the ticket waits in needs_info with a verification item on address.region_code." example:"370212"`
	Line       string   `json:"line" minLength:"1" maxLength:"300" doc:"Street address within the region." example:"崂山区海尔路1号 3单元 502"`
	Latitude   *float64 `json:"latitude,omitempty" minimum:"-90" maximum:"90" doc:"Latitude, when known: dispatch prefers nearer technicians." example:"36.1067"`
	Longitude  *float64 `json:"longitude,omitempty" minimum:"-180" maximum:"180" doc:"Longitude, with latitude." example:"120.4686"`
}

// ReportedFault is what the customer reports.
type ReportedFault struct {
	Symptom         string   `json:"symptom,omitempty" maxLength:"500" doc:"The fault as the customer describes it. Required for repairs: without it the ticket waits in needs_info." example:"洗衣机脱水时噪音很大"`
	Codes           []string `json:"codes,omitempty" maxItems:"20" doc:"Fault codes shown by the appliance or sent by its alarm." example:"[\"E4\"]"`
	CustomerRequest string   `json:"customer_request,omitempty" maxLength:"500" doc:"What the customer asks for." example:"尽快上门维修"`
}

// Window is a time window.
type Window struct {
	Start time.Time `json:"start" doc:"Start of the window." example:"2026-12-01T09:00:00+08:00"`
	End   time.Time `json:"end" doc:"End of the window; after start." example:"2026-12-01T11:00:00+08:00"`
}

// UnitDetails identifies the appliance at intake: a registered unit, or a
// model and serial (registered with the purchase date, and the purchase
// price when given, when not yet known).
type UnitDetails struct {
	UnitID       string `json:"unit_id,omitempty" maxLength:"64" doc:"A registered unit. Or give model_id and serial." example:"unt_01jd3zq8w6v7t3y2k9x4n5m6ph"`
	ModelID      string `json:"model_id,omitempty" maxLength:"64" doc:"The product model. Without it (and without unit_id) the ticket waits in needs_info." example:"mdl_01jd3zq8w6v7t3y2k9x4n5m6pg"`
	Serial       string `json:"serial,omitempty" maxLength:"64" doc:"Serial number: finds the registered unit of the model, or registers it with purchase_date. A storefront key finds only the units it sold: the serial of another party's unit sends the ticket to needs_info (unit.serial) for the brand to confirm." example:"BH0Y3E1D2000123"`
	PurchaseDate string `json:"purchase_date,omitempty" format:"date" doc:"Date of purchase, to register an unknown serial (for an online sale, the day the customer received the goods: the warranty counts from it, see Unit.purchase_date); a date after today sends the ticket to needs_info." example:"2026-10-11"`
	// PurchasePrice is the invoice's price for an unknown serial; without
	// it the unit is registered at its model's retail price, marked as
	// assumed (identify).
	PurchasePrice *tenants.Money `json:"purchase_price,omitempty" doc:"What the customer paid (the invoice's price), to register an unknown serial with purchase_date: {amount, currency}, integer minor units, not negative, in the tenant's currency (else 422 on body.unit.purchase_price, and nothing is written). It becomes the unit's purchase_price, which a return refunds in full and which caps a swap's depreciation fee and replacement. Absent, the unit is registered at its model's retail price that day with purchase_price_source model_retail_price: not what the customer paid (a promotion's price is lower), so its return's refund and a swap under a plan are refused (409) until the brand sets purchase_price from the invoice with updateUnit. A registered unit (unit_id, or a serial found registered) keeps its purchase_price: correct it with updateUnit."`
}

// VerificationItem is something to confirm with the customer before the
// ticket can be worked.
type VerificationItem struct {
	Field   string `json:"field" doc:"The intake field to confirm." example:"unit.model_id"`
	Problem string `json:"problem" doc:"What is missing or inconsistent." example:"no product model: ask for the model number on the rating plate"`
}

// Triage is the triage decision.
type Triage struct {
	Mode          string `json:"mode" enum:"remote,on_site,carry_in" doc:"remote: guide the customer by phone; on_site: send a technician; carry_in: the unit is taken to the node." example:"on_site"`
	ServiceKind   string `json:"service_kind" enum:"install,repair,maintenance,carry_in,remote" doc:"The kind of service dispatch looks for." example:"repair"`
	RequiredLevel int    `json:"required_level" minimum:"1" maximum:"5" doc:"Minimum technician skill level for the category." example:"2"`
	HardFault     bool   `json:"hard_fault" doc:"A hard fault: dispatch goes up a tier (depot, then service center)." example:"false"`
}

// Guidance is remote guidance given by the call center.
type Guidance struct {
	Instructions string     `json:"instructions" doc:"What the customer was told to do." example:"请断电重启并清理排水泵过滤器"`
	Outcome      string     `json:"outcome,omitempty" enum:"resolved,observe,failed" doc:"resolved: fault gone; observe: the customer watches it for a while; failed: needs a visit." example:"resolved"`
	RecordedAt   *time.Time `json:"recorded_at,omitempty" doc:"When the outcome was recorded." example:"2026-11-30T10:05:00+08:00"`
}

// Appointment is the window agreed with the customer and how the
// technician arrived.
type Appointment struct {
	Start          *time.Time `json:"start,omitempty" doc:"Agreed window start." example:"2026-12-01T09:00:00+08:00"`
	End            *time.Time `json:"end,omitempty" doc:"Agreed window end." example:"2026-12-01T11:00:00+08:00"`
	ArrivedAt      *time.Time `json:"arrived_at,omitempty" doc:"When the technician checked in." example:"2026-12-01T09:20:00+08:00"`
	Arrival        *string    `json:"arrival,omitempty" enum:"early,on_time,late,very_late" doc:"Arrival against the agreed window: early (5 or more minutes before it opened, the standard), on_time (less than 5 minutes before it opened, or inside it), late (up to 15 minutes after it closed: an apology, and the service is free), very_late (more: an apology and a gift, and free)." example:"late"`
	ArrivalMinutes *int       `json:"arrival_minutes,omitempty" doc:"Minutes after the agreed window closed (late); 0 inside the window; negative: minutes before it opened (early)." example:"20"`
	// CustomerUnreachable: the window is the network's promise, not agreed.
	CustomerUnreachable bool `json:"customer_unreachable" doc:"The window was booked without the customer's agreement, after failed contact attempts (scheduleTicket's customer_unreachable; seed 001: 如未联系上用户…仍需要按照承诺到达客户处): the network's promise to come then, to the address. The arrival is judged against it as against an agreed one (a late arrival makes the service free), the first-contact deadline keeps running until the customer is reached or the technician arrives, and charges the ticket's decision puts on the customer are confirmed on site, with the price list shown after the check-in, before a completion charges them. A reassignment keeps it; a window agreed since clears it." example:"false"`
}

// ContactAttempts are the network's failed calls to the customer before a
// visit (RecordContactAttempt); a call that reached the customer is the
// schedule it agreed.
type ContactAttempts struct {
	Count       int        `json:"count" doc:"Failed contact attempts recorded on the ticket (no_answer, busy, unobtainable, wrong_number)." example:"2"`
	SinceAgreed int        `json:"since_agreed" doc:"Those since the last window agreed with the customer (or the intake): at least one lets a schedule book the visit without the customer's agreement (customer_unreachable). A window agreed with the customer (schedule, reschedule, a visit exception's new window) sets it back to 0." example:"2"`
	LastAt      *time.Time `json:"last_at,omitempty" doc:"When the last one was recorded." example:"2026-11-30T11:10:00+08:00"`
	LastOutcome *string    `json:"last_outcome,omitempty" enum:"no_answer,busy,unobtainable,wrong_number" doc:"How the last one failed." example:"no_answer"`
}

// Diagnosis is what the technician found on site.
type Diagnosis struct {
	Cause          string   `json:"cause" enum:"performance,environmental_dust,environmental_heat,environmental_moisture,power_surge,unstable_voltage,accidental_damage,human_damage,force_majeure,software_tuning,no_fault,delivery_damage" doc:"Category of the fault's cause (the entitlement engine's vocabulary)." example:"performance"`
	Codes          []string `json:"codes,omitempty" maxItems:"20" doc:"Fault cause codes." example:"[\"M01\"]"`
	PartCategories []string `json:"part_categories,omitempty" maxItems:"20" doc:"Categories of the parts concerned (key parts have longer terms)." example:"[\"motor\"]"`
	Notes          string   `json:"notes,omitempty" maxLength:"2000" doc:"Free-text findings." example:"电机轴承磨损"`
	Repairable     bool     `json:"repairable" doc:"Whether the unit can be repaired here; an unrepairable unit goes to a swap request." example:"true"`
	Uncertain      bool     `json:"uncertain,omitempty" doc:"The technician is not sure of the fix: the callback comes sooner." example:"false"`
	// HardFault and RequiredLevel are what the fault turned out to need:
	// beyond the ticket's node or technician, it goes up a tier (Diagnose).
	HardFault     bool `json:"hard_fault,omitempty" doc:"The fault is a hard one (疑难), beyond a repair point: a specialist depot, then a service center serves it, with a technician of level 3 or more. Found where the ticket is served by a repair point, or by a technician below that level, the ticket goes up a tier: it is dispatched again by the rules for a hard fault (the triage's hard_fault and required_level raised), the diagnosis kept and the deadlines running on. A unit carried in to the node is not moved: 409." example:"false"`
	RequiredLevel int  `json:"required_level,omitempty" minimum:"1" maximum:"5" doc:"The skill level the fault needs in the category, when more than the triage asked for: above the ticket technician's level, the ticket is dispatched again, as for a hard fault, to a technician who has it." example:"4"`
	// WarrantyCardCharge is kept with the diagnosis: the completion's
	// charges are decided with it again.
	WarrantyCardCharge *tenants.Money `json:"warranty_card_charge,omitempty" doc:"What the customer's warranty card (保修证) says this work costs, when it states a charge: where the price list charges the customer more, the customer pays the card's amount and the brand the difference (rule 2: the lower of the two), at diagnosis and at completion."`
	// DataLoss is the customer's acknowledgement that work on the unit's
	// storage or system may lose its data (Diagnose requires it).
	DataLoss *DataLossAcknowledgement `json:"data_loss,omitempty" doc:"The customer's signed acknowledgement that the work may lose the unit's data (seed 001: 在重装系统或对系统进行维护操作时,有可能会发生数据丢失…提醒客户先把重要数据进行备份,并让用户签字). Required, before any charge or work, when the unit holds the customer's data (phone, laptop, camera, tablet) and the diagnosed work touches its storage or system: the cause software_tuning (a system reinstall or maintenance), or the part categories storage or mainboard in part_categories or among the quoted parts; 422 at diagnosis.data_loss.customer_agreed and .data_backup without it, nothing changed. A unit carried in needs no new one when its receipt has the customer's data_backup statement: that one is recorded (receipt_number). Kept with the diagnosis and in the diagnosis's timeline entry; other work needs none (one given anyway is kept)."`
}

// Signoff is the customer's sign-off.
type Signoff struct {
	CodeSentAt      *time.Time `json:"code_sent_at,omitempty" doc:"When the last one-time code was sent to the customer." example:"2026-12-01T10:30:00+08:00"`
	CodeExpiresAt   *time.Time `json:"code_expires_at,omitempty" doc:"When that code expires." example:"2026-12-01T10:45:00+08:00"`
	AttemptsLeft    int        `json:"attempts_left" doc:"Wrong codes still allowed before a new code must be sent." example:"5"`
	SignedOffAt     *time.Time `json:"signed_off_at,omitempty" doc:"When the sign-off was recorded: the customer signed off, or (declined) the technician recorded that the customer declined to sign." example:"2026-12-01T10:32:00+08:00"`
	Declined        bool       `json:"declined" doc:"The customer declined to sign and rate (seed 000: 不要强迫用户签名): recorded by the technician after the sign-off code was sent to the customer, with no rating and no comment; the daily reconciliation does not count it as missing, the quality scorecards count it (signoff_declined_rate)." example:"false"`
	RecordedBy      *string    `json:"recorded_by,omitempty" doc:"The API key that recorded the sign-off (a rating or the customer's refusal)." example:"key_01jd3zq8w6v7t3y2k9x4n5m6pk"`
	ConfirmedByCode bool       `json:"confirmed_by_code" doc:"The sign-off was confirmed with the code sent to the customer's phone." example:"true"`
	Rating          *int       `json:"rating,omitempty" doc:"The customer's rating, 1-5 (none when the customer declined). 1 or 2: the customer is not satisfied, and the callback is brought forward." example:"5"`
	Comment         *string    `json:"comment,omitempty" doc:"The customer's comment, given with the rating (none when the customer declined)." example:"师傅很专业"`
	// Delivery is read with the ticket from the notifications context.
	// How the last code is being delivered to the customer: through the tenant's notification gateway (queued, sent, failed, with the attempts) or, without one, requested through the notification.requested event.
	Delivery *notifications.NotificationDelivery `json:"delivery,omitempty"`
}

// FollowUp is the callback state.
type FollowUp struct {
	DueAt            *time.Time `json:"due_at,omitempty" doc:"The callback is due by then (SLA)." example:"2026-12-04T10:30:00+08:00"`
	Outcome          *string    `json:"outcome,omitempty" enum:"satisfied,unsatisfied,unreachable" doc:"The last callback's outcome." example:"satisfied"`
	UnreachableCount int        `json:"unreachable_count" doc:"Callbacks that found the customer unreachable since the last completion." example:"0"`
}

// SLAStatus lists the deadlines running now (absent: met or not started)
// and how far the ticket has been escalated.
type SLAStatus struct {
	RouteDueAt        *time.Time `json:"route_due_at,omitempty" doc:"Route to a node by then." example:"2026-11-30T10:05:00+08:00"`
	FirstContactDueAt *time.Time `json:"first_contact_due_at,omitempty" doc:"Agree an appointment with the customer by then." example:"2026-11-30T12:00:00+08:00"`
	ResponseDueAt     *time.Time `json:"response_due_at,omitempty" doc:"Be on site (or guide remotely) by then." example:"2026-12-01T10:00:00+08:00"`
	CompletionDueAt   *time.Time `json:"completion_due_at,omitempty" doc:"Complete by then." example:"2026-12-03T10:00:00+08:00"`
	CallbackDueAt     *time.Time `json:"callback_due_at,omitempty" doc:"Call the customer back by then." example:"2026-12-04T10:30:00+08:00"`
	VerificationDueAt *time.Time `json:"verification_due_at,omitempty" doc:"In needs_info: verify the intake (dispatcher or information officer, else the customer) by then." example:"2026-11-30T12:00:00+08:00"`
	WorkshopDueAt     *time.Time `json:"workshop_due_at,omitempty" doc:"In carry_in: repair the unit at the node and hand it back (return) by then, the policy's working days (3) after its receipt." example:"2026-12-04T10:00:00+08:00"`
	EscalationLevel   int        `json:"escalation_level" minimum:"0" maximum:"3" doc:"0 none; 1 dispatcher; 2 node manager; 3 brand." example:"0"`
}

// Ticket is a service ticket.
type Ticket struct {
	ID                      string                `json:"id" example:"tkt_01jd3zq8w6v7t3y2k9x4n5m6pt"`
	Number                  string                `json:"number" doc:"Human-readable number, unique in the tenant and its mode: SN-<date>-<sequence>, the date in the tenant's zone. A day's sequence increases and never repeats, but it may skip: a number taken by an intake that was then refused or rolled back (a duplicate external_reference, say) is not reused, and test-mode intakes draw from the same sequence. Numbering takes no lock, so concurrent intakes never wait for each other." example:"SN-20261130-00042"`
	Channel                 string                `json:"channel" enum:"hotline,web,app,storefront,device_alarm" example:"hotline"`
	Type                    string                `json:"type" enum:"install,repair,maintenance,consultation,return,exchange" example:"repair"`
	State                   State                 `json:"state" enum:"new,needs_info,triaged,remote_guidance,resolved,dispatched,assigned,scheduled,on_site,awaiting_parts,carry_in,returned,completed,closed,reopened,cancelled" example:"new"`
	StateReason             *string               `json:"state_reason,omitempty" doc:"Why the ticket is in its state, when there is more to say." example:"no candidate node covers 370212 for washer repair"`
	Priority                string                `json:"priority" enum:"low,normal,high,urgent" doc:"Scales the intake SLA deadlines by the policy's percentage for it, orders the dispatch queue (order=priority) and filters lists (priority=)." example:"normal"`
	StorefrontID            *string               `json:"storefront_id,omitempty" doc:"The storefront that opened it." example:"sfr_01jd3zq8w6v7t3y2k9x4n5m6pd"`
	ExternalReference       *string               `json:"external_reference,omitempty" doc:"The storefront's own reference." example:"TM-20261130-88812"`
	CustomerID              string                `json:"customer_id,omitempty" doc:"The customer, found or created by the contact's phone; absent while the phone waits for verification (needs_info)." example:"cus_01jd3zq8w6v7t3y2k9x4n5m6pe"`
	UnitID                  *string               `json:"unit_id,omitempty" doc:"The registered unit, once identified." example:"unt_01jd3zq8w6v7t3y2k9x4n5m6ph"`
	ModelID                 *string               `json:"model_id,omitempty" example:"mdl_01jd3zq8w6v7t3y2k9x4n5m6pg"`
	Category                *string               `json:"category,omitempty" doc:"The model's product category." example:"washer"`
	Contact                 TicketContact         `json:"contact"`
	Address                 ServiceAddress        `json:"address"`
	Unit                    UnitDetails           `json:"unit_details"`
	Fault                   ReportedFault         `json:"fault"`
	PreferredWindow         *Window               `json:"preferred_window,omitempty"`
	Verification            []VerificationItem    `json:"verification" doc:"In needs_info: what to confirm with the customer. Empty otherwise."`
	Triage                  *Triage               `json:"triage,omitempty"`
	Guidance                *Guidance             `json:"guidance,omitempty"`
	NodeID                  *string               `json:"node_id,omitempty" doc:"The node the ticket is dispatched to." example:"nod_01jd3zq8w6v7t3y2k9x4n5m6pn"`
	TechnicianID            *string               `json:"technician_id,omitempty" doc:"The technician (proposed while dispatched, accepted from assigned on)." example:"tec_01jd3zq8w6v7t3y2k9x4n5m6pr"`
	Dispatch                *DispatchRecord       `json:"dispatch,omitempty"`
	DispatchCount           int                   `json:"dispatch_count" doc:"How many times the ticket was dispatched." example:"1"`
	Appointment             Appointment           `json:"appointment"`
	ContactAttempts         ContactAttempts       `json:"contact_attempts"`
	Visits                  int                   `json:"visits" doc:"Technician visits so far." example:"1"`
	Diagnosis               *Diagnosis            `json:"diagnosis,omitempty"`
	Entitlement             *warranty.Entitlement `json:"entitlement,omitempty" doc:"The entitlement decision, stored at the diagnosis (or the service report) and again at the completion, shown before any charge. It is decided on the day the customer reported what the ticket serves, its intake or its last reopening (entitlement.on; the purchase date when that is later): a warranty or plan that ends while the ticket waits for a visit or a part still covers it, and a plan bought after the report does not."`
	QuoteID                 *string               `json:"quote_id,omitempty" doc:"The price-list quote shown to the customer." example:"quo_01jd3zq8w6v7t3y2k9x4n5m6pg"`
	PriceShownAt            *time.Time            `json:"price_shown_at,omitempty" doc:"When the technician showed the customer the price list." example:"2026-12-01T09:40:00+08:00"`
	CarryIn                 *CarryInRecord        `json:"carry_in,omitempty"`
	SwapID                  *string               `json:"swap_id,omitempty" doc:"The swap requested when the repair was judged impossible." example:"swp_01jd3zq8w6v7t3y2k9x4n5m6ps"`
	Completion              *Completion           `json:"completion,omitempty"`
	CustomerTotal           *tenants.Money        `json:"customer_total,omitempty"`
	CompletedAt             *time.Time            `json:"completed_at,omitempty" example:"2026-12-01T10:30:00+08:00"`
	Receipts                []PaymentReceipt      `json:"receipts" doc:"The receipts (收据) of what the customer paid, oldest first: each completion that charged the customer (customer_total above zero) issued one, with the lines and total paid, the node and technician who collected it and when. A completion that charged nothing issued none. A receipt is never rewritten: a refund later (a service promise upheld after the completion, ticket.charges_waived) moves the charges to the brand on the completion and pays the customer back by a payout, its own record, while the receipt keeps what was collected. The invoice (发票) the customer asked for on a receipt is on it (requestTicketInvoice, recordTicketInvoiceIssued); the invoice's title of a person and its mailing address are personal data, masked as the contact and the service address are."`
	InvoiceOutstandingSince *time.Time            `json:"invoice_outstanding_since,omitempty" doc:"When the oldest invoice asked for on the ticket's receipts and not yet issued was asked for: an open obligation (listTickets invoice_outstanding=true). Absent when none is outstanding." example:"2026-12-01T10:31:00+08:00"`
	Signoff                 Signoff               `json:"signoff"`
	FollowUp                FollowUp              `json:"follow_up"`
	SLA                     SLAStatus             `json:"sla"`
	// What the ticket's type records beyond a repair: an install's delivery and installation report, a maintenance checklist, a return's or exchange's pickup, inspection and outcome.
	Service     *ServiceWork `json:"service,omitempty"`
	RepeatOf    *string      `json:"repeat_of,omitempty" doc:"The paid repair this fault repeats, when the repeat rule applied." example:"svr_01jd3zq8w6v7t3y2k9x4n5m6pv"`
	ReopenCount int          `json:"reopen_count" doc:"Times reopened after an unsatisfied callback or a complaint." example:"0"`
	// UpheldPromises are kept by WaiveChargesTx only (not a mutable column).
	UpheldPromises []string `json:"upheld_promises" enum:"late_arrival,licence_not_shown,charge_beyond_price_list,conduct_breach" doc:"The service promises (rule 8) that complaints upheld against this ticket established, each once: each makes the ticket's service free. A ticket not yet completed carries them into its diagnosis and completion (the customer pays nothing, the completion's waivers name them); a completed one had its customer's charges moved to the brand and refunded when the complaint was upheld; a reopened ticket's next completion stays free. Empty when no upheld complaint established one." example:"[\"late_arrival\"]"`
	// ChargeReductions are kept by reduceCharges and the completion only.
	ChargeReductions []ChargeReduction `json:"charge_reductions" doc:"The centre's reductions of the customer's charges on this ticket (seed 000: 根据中心批示处理), oldest first, approved on the ticket (POST .../reduce-charges) or by a fee complaint upheld with one; the brand bears each (a goodwill reduction decided for the brand). One without applied_at waits for the completion; an applied one is in the completion's reductions (and refunded when the charges were settled already). A reopened ticket's next round is decided afresh: a reduction an earlier completion applied does not apply again. Empty when the centre reduced nothing."`
	ClosedAt         *time.Time        `json:"closed_at,omitempty" example:"2026-12-02T10:00:00+08:00"`
	CancelledAt      *time.Time        `json:"cancelled_at,omitempty" example:"2026-11-30T11:00:00+08:00"`
	CreatedBy        string            `json:"created_by" doc:"The API key that opened it." example:"key_01jd3zq8w6v7t3y2k9x4n5m6pk"`
	Masked           bool              `json:"masked" doc:"Whether contact.name, contact.phone and address.line are masked (and address's coordinates left out): a technician or node key sees them only while its job is open and the tenant's grace period after; retention masks them at rest in old closed tickets." example:"false"`
	Version          int               `json:"version" doc:"Increases with every change; the ETag is \"v<version>\"." example:"1"`
	CreatedAt        time.Time         `json:"created_at" example:"2026-11-30T10:00:00+08:00"`
	UpdatedAt        time.Time         `json:"updated_at" example:"2026-11-30T10:00:00+08:00"`
	TestClockID      *string           `json:"test_clock_id,omitempty" doc:"Test mode only: the test clock the ticket lives on; absent when it is on the wall clock." example:"clk_01jd3zq8w6v7t3y2k9x4n5m6pq"`

	// stored but not shown
	inGrace         bool // ended less than the tenant's grace period ago (see personal.go)
	signoffHash     *string
	signoffAttempts int
	uncertainFix    bool
	currency        *string
}

// MaxSignoffAttempts is how many wrong codes a sent code survives.
const MaxSignoffAttempts = 5

var ticketColumns = `t.id, t.number, t.channel, t.type, t.state, t.state_reason, t.priority, t.storefront_id,
	t.external_reference, t.customer_id, t.unit_id, t.model_id, t.category, t.contact, t.address, t.unit_details, t.fault,
	t.preferred_start, t.preferred_end, t.verification, t.mode, t.service_kind, t.required_level, t.hard_fault, t.guidance,
	t.node_id, t.technician_id, t.dispatch, t.dispatch_count, t.window_start, t.window_end, t.arrived_at, t.arrival,
	t.arrival_minutes, t.visits, t.diagnosis, t.entitlement, t.quote_id, t.price_shown_at, t.carry_in, t.swap_id,
	t.completion, t.customer_total, t.currency, t.uncertain_fix, t.completed_at, t.signoff_code_hash, t.signoff_code_sent_at,
	t.signoff_code_expires_at, t.signoff_attempts, t.signed_off_at, t.signed_by_code, t.rating, t.rating_comment,
	t.signoff_declined, t.signoff_recorded_by, t.callback_due_at, t.callback_outcome, t.unreachable_count, t.route_due_at, t.first_contact_due_at, t.response_due_at,
	t.completion_due_at, t.escalation_level, t.repeat_of, t.reopen_count, t.closed_at, t.cancelled_at, t.created_by,
	t.version, t.created_at, t.updated_at, t.verification_due_at, t.service, t.test_clock_id, t.workshop_due_at, t.upheld_promises,
	t.receipts, t.invoice_requested_at, t.charge_reductions, t.contact_attempts, t.contact_attempts_since_agreed, t.last_contact_attempt_at,
	t.last_contact_attempt_outcome, t.window_customer_unreachable, ` + signoffDeliverySQL

// signoffDeliverySQL reads the delivery of the ticket's last sign-off code
// (notifications.LatestDeliverySQL).
var signoffDeliverySQL = notifications.LatestDeliverySQL("t.tenant_id", "t.id", PurposeSignoffCode)

func scanTicket(row pgx.Row) (Ticket, error) {
	var (
		t                  Ticket
		prefStart, prefEnd *time.Time
		mode, kind         *string
		level              *int
		hard               bool
		customerID         *string
		total              *int64
		guidance           *Guidance
		diagnosis          *Diagnosis
	)
	err := row.Scan(&t.ID, &t.Number, &t.Channel, &t.Type, &t.State, &t.StateReason, &t.Priority, &t.StorefrontID,
		&t.ExternalReference, &customerID, &t.UnitID, &t.ModelID, &t.Category, &t.Contact, &t.Address, &t.Unit, &t.Fault,
		&prefStart, &prefEnd, &t.Verification, &mode, &kind, &level, &hard, &guidance,
		&t.NodeID, &t.TechnicianID, &t.Dispatch, &t.DispatchCount, &t.Appointment.Start, &t.Appointment.End,
		&t.Appointment.ArrivedAt, &t.Appointment.Arrival, &t.Appointment.ArrivalMinutes, &t.Visits, &diagnosis, &t.Entitlement,
		&t.QuoteID, &t.PriceShownAt, &t.CarryIn, &t.SwapID, &t.Completion, &total, &t.currency, &t.uncertainFix, &t.CompletedAt,
		&t.signoffHash, &t.Signoff.CodeSentAt, &t.Signoff.CodeExpiresAt, &t.signoffAttempts, &t.Signoff.SignedOffAt,
		&t.Signoff.ConfirmedByCode, &t.Signoff.Rating, &t.Signoff.Comment, &t.Signoff.Declined, &t.Signoff.RecordedBy, &t.FollowUp.DueAt, &t.FollowUp.Outcome,
		&t.FollowUp.UnreachableCount, &t.SLA.RouteDueAt, &t.SLA.FirstContactDueAt, &t.SLA.ResponseDueAt,
		&t.SLA.CompletionDueAt, &t.SLA.EscalationLevel, &t.RepeatOf, &t.ReopenCount, &t.ClosedAt, &t.CancelledAt,
		&t.CreatedBy, &t.Version, &t.CreatedAt, &t.UpdatedAt, &t.SLA.VerificationDueAt, &t.Service, &t.TestClockID, &t.SLA.WorkshopDueAt, &t.UpheldPromises,
		&t.Receipts, &t.InvoiceOutstandingSince, &t.ChargeReductions, &t.ContactAttempts.Count, &t.ContactAttempts.SinceAgreed,
		&t.ContactAttempts.LastAt, &t.ContactAttempts.LastOutcome, &t.Appointment.CustomerUnreachable, &t.Signoff.Delivery)
	if err != nil {
		return Ticket{}, err
	}
	t.SLA.CallbackDueAt = t.FollowUp.DueAt
	t.CustomerID = deref(customerID)
	t.Contact.PhoneDisplay = phones.Display(t.Contact.Phone)
	if prefStart != nil && prefEnd != nil {
		t.PreferredWindow = &Window{Start: *prefStart, End: *prefEnd}
	}
	if mode != nil {
		t.Triage = &Triage{Mode: *mode, HardFault: hard}
		if kind != nil {
			t.Triage.ServiceKind = *kind
		}
		if level != nil {
			t.Triage.RequiredLevel = *level
		}
	}
	t.Guidance, t.Diagnosis = guidance, diagnosis
	if total != nil && t.currency != nil {
		t.CustomerTotal = &tenants.Money{Amount: *total, Currency: *t.currency}
	}
	if t.Verification == nil {
		t.Verification = []VerificationItem{}
	}
	t.Receipts = receiptsOf(&t)
	t.Signoff.AttemptsLeft = max(0, MaxSignoffAttempts-t.signoffAttempts)
	return t, nil
}

// mutableColumns are the ticket columns an action may change, in the order
// of mutableArgs.
const mutableColumns = `state, state_reason, priority, customer_id, unit_id, model_id, category, contact, address,
	region_code, unit_details, fault, preferred_start, preferred_end, verification, mode, service_kind, required_level,
	hard_fault, guidance, node_id, technician_id, dispatch, dispatch_count, window_start, window_end, arrived_at, arrival,
	arrival_minutes, visits, diagnosis, entitlement, quote_id, price_shown_at, carry_in, swap_id, completion,
	customer_total, currency, uncertain_fix, completed_at, signoff_code_hash, signoff_code_sent_at,
	signoff_code_expires_at, signoff_attempts, signed_off_at, signed_by_code, rating, rating_comment, signoff_declined,
	signoff_recorded_by, callback_due_at, callback_outcome, unreachable_count, route_due_at, first_contact_due_at, response_due_at, completion_due_at,
	escalation_level, repeat_of, reopen_count, closed_at, cancelled_at, verification_due_at, service, sla_check_at, workshop_due_at,
	receipts, invoice_requested_at, invoice_last_issued_at, charge_reductions, contact_attempts, contact_attempts_since_agreed,
	last_contact_attempt_at, last_contact_attempt_outcome, window_customer_unreachable`

// mutableParams is "$<from>, ..." for the mutable columns.
func mutableParams(from int) string {
	var b strings.Builder
	for i := range strings.Count(mutableColumns, ",") + 1 {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString("$" + strconv.Itoa(from+i))
	}
	return b.String()
}

var (
	saveSQL = `UPDATE tickets SET (` + mutableColumns + `) = (` + mutableParams(3) + `),
		version = version + 1, updated_at = now() WHERE tenant_id = $1 AND id = $2 RETURNING version, updated_at`
	insertSQL = `INSERT INTO tickets (tenant_id, id, number, channel, type, storefront_id, external_reference, created_by,
		created_at, updated_at, ` + mutableColumns + `) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $9, ` + mutableParams(10) + `)
		RETURNING version, updated_at`
)

// mutableArgs are t's values for mutableColumns.
func mutableArgs(t *Ticket) []any {
	var prefStart, prefEnd *time.Time
	if t.PreferredWindow != nil {
		prefStart, prefEnd = &t.PreferredWindow.Start, &t.PreferredWindow.End
	}
	var mode, kind *string
	var level *int
	hard := false
	if t.Triage != nil {
		mode, kind, level, hard = &t.Triage.Mode, &t.Triage.ServiceKind, &t.Triage.RequiredLevel, t.Triage.HardFault
	}
	var total *int64
	if t.CustomerTotal != nil {
		total, t.currency = &t.CustomerTotal.Amount, &t.CustomerTotal.Currency
	}
	t.FollowUp.DueAt = t.SLA.CallbackDueAt
	t.InvoiceOutstandingSince = t.invoiceRequestedAt()
	if t.ChargeReductions == nil {
		t.ChargeReductions = []ChargeReduction{}
	}
	return []any{t.State, t.StateReason, t.Priority, nullIfEmpty(t.CustomerID), t.UnitID,
		t.ModelID, t.Category, t.Contact, t.Address, nullIfEmpty(t.Address.RegionCode), t.Unit, t.Fault,
		prefStart, prefEnd, t.Verification, mode, kind, level,
		hard, t.Guidance, t.NodeID, t.TechnicianID, t.Dispatch, t.DispatchCount,
		t.Appointment.Start, t.Appointment.End, t.Appointment.ArrivedAt, t.Appointment.Arrival, t.Appointment.ArrivalMinutes, t.Visits,
		t.Diagnosis, t.Entitlement, t.QuoteID, t.PriceShownAt, t.CarryIn, t.SwapID,
		t.Completion, total, t.currency, t.uncertainFix, t.CompletedAt,
		t.signoffHash, t.Signoff.CodeSentAt, t.Signoff.CodeExpiresAt, t.signoffAttempts,
		t.Signoff.SignedOffAt, t.Signoff.ConfirmedByCode, t.Signoff.Rating, t.Signoff.Comment, t.Signoff.Declined,
		t.Signoff.RecordedBy, t.SLA.CallbackDueAt,
		t.FollowUp.Outcome, t.FollowUp.UnreachableCount, t.SLA.RouteDueAt, t.SLA.FirstContactDueAt,
		t.SLA.ResponseDueAt, t.SLA.CompletionDueAt, t.SLA.EscalationLevel, t.RepeatOf, t.ReopenCount,
		t.ClosedAt, t.CancelledAt, t.SLA.VerificationDueAt, t.Service, slaCheckAt(t), t.SLA.WorkshopDueAt,
		receiptsOf(t), t.InvoiceOutstandingSince, t.invoiceLastIssuedAt(), t.ChargeReductions, t.ContactAttempts.Count, t.ContactAttempts.SinceAgreed,
		t.ContactAttempts.LastAt, t.ContactAttempts.LastOutcome, t.Appointment.CustomerUnreachable}
}

// queueSave queues the write of every mutable column of t (bumping its
// version) into b; insert writes a new ticket whole instead.
func queueSave(b *pgx.Batch, tenantID string, t *Ticket, insert bool) {
	sql, args := saveSQL, append([]any{tenantID, t.ID}, mutableArgs(t)...)
	if insert {
		sql, args = insertSQL, append([]any{tenantID, t.ID, t.Number, t.Channel, t.Type, t.StorefrontID, t.ExternalReference,
			t.CreatedBy, t.CreatedAt}, mutableArgs(t)...)
	}
	b.Queue(sql, args...).QueryRow(func(row pgx.Row) error { return row.Scan(&t.Version, &t.UpdatedAt) })
}

func nullIfEmpty(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

// scope is what part of the tenant's tickets a principal sees: a
// storefront's, a node subtree's, and for a technician key only its
// technician's. Each is a value tickets turns into a predicate on its own
// columns (inScope).
type scope struct {
	// storefront is a storefront key's storefront (customers.ScopeOf), nil
	// for every other principal.
	storefront *string
	// nodes are the ids of a node-bound key's subtree
	// (network.ScopeNodesTx), nil for the whole network.
	nodes      []string
	technician *string
	none       bool
}

func resolveScope(ctx context.Context, tx pg.TenantTx, p tenants.Principal) (scope, error) {
	var sc scope
	if cs := customers.ScopeOf(p); !cs.Whole() {
		sc.storefront = &cs.StorefrontID
	}
	nodes, err := network.ScopeNodesTx(ctx, tx, p)
	sc.nodes = nodes
	if p.HasRole(tenants.RoleTechnician) && !p.HasRole(tenants.RoleNodeManager) {
		if p.TechnicianID == "" {
			sc.none = true // a technician key that names no technician has no jobs
		} else {
			sc.technician = &p.TechnicianID
		}
	}
	return sc, err
}

// inScope is the ticket predicate for a scope given as $n placeholders
// (storefront, nodes, technician, none; args) on alias t.
func inScope(sf, nodes, tech, none string) string {
	return `(NOT ` + none + `) AND (` + sf + `::text IS NULL OR t.storefront_id = ` + sf + `::text)
	  AND (` + nodes + `::text[] IS NULL OR t.node_id = ANY (` + nodes + `::text[]))
	  AND (` + tech + `::text IS NULL OR t.technician_id = ` + tech + `)`
}

func (sc scope) args() []any { return []any{sc.storefront, sc.nodes, sc.technician, sc.none} }

// getTicket reads a ticket in scope; lock is "" or "FOR UPDATE OF t".
func getTicket(ctx context.Context, tx pg.TenantTx, sc scope, id, lock string) (Ticket, error) {
	if !tenants.ValidID(tenants.PrefixTicket, id) {
		return Ticket{}, tenants.NotFound("ticket")
	}
	args := append([]any{tx.TenantID, id}, sc.args()...)
	t, err := scanTicket(tx.QueryRow(ctx, `SELECT `+ticketColumns+` FROM tickets t
		WHERE t.tenant_id = $1 AND t.id = $2 AND `+inScope("$3", "$4", "$5", "$6")+` `+lock, args...))
	if errors.Is(err, pgx.ErrNoRows) {
		return Ticket{}, tenants.NotFound("ticket")
	}
	return t, err
}
