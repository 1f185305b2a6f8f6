// Package complaints owns customers' complaints against a ticket, a node or
// a technician: filing with category and severity, the resolution deadline
// (SLA) and its escalation, investigation, resolution and the customer's
// rating of the resolution. Complaints count in the quality KPIs
// (complaint rate per technician and node).
//
// States: open → investigating → resolved → closed; open | investigating |
// reopened → resolved (resolve); open | reopened → investigating
// (investigate); resolved → closed by the customer's rating of 3-5 (rate)
// or without a rating (close); resolved → reopened by a rating of 1-2: the
// customer is not satisfied, so the complaint is handled again under a new
// deadline (the seeds: follow up until the customer is satisfied).
//
// SLA: filing sets sla_due_at to the filing time plus the severity's window
// (SLAWindows: critical 4 h, high 24 h, medium 48 h, low 72 h) and schedules
// a timer in the same transaction. A timer that finds the complaint still
// open, investigating or reopened with the same deadline escalates it one
// level (1 dispatcher, 2 node manager, 3 brand) and, below the brand,
// schedules the next level's timer the tenant's escalation interval later
// (tickets SLA policy escalation_minutes, default 60). A manual escalation
// does the same at once and restarts the interval. Reopening restarts the
// severity window at the current level.
//
// Test clocks: in test mode a complaint about a ticket on a test clock
// lives on the ticket's clock (test_clock_id, from its filing): it is
// filed, investigated, escalated, resolved, rated and closed at the
// clock's time, its deadline and overdue flag are judged on it, and its SLA
// timers are parked on the clock until the clock's advance passes their
// time (jobs.ComplaintSLAEnqueuer). Any other complaint is on the wall
// clock.
//
// Every change writes a complaint_changes row and an event
// (complaint.filed, .investigating, .escalated, .sla_breached, .resolved,
// .rated, .reopened, .closed) in its transaction; event data carries
// storefront_id (null when none), ticket_id, node_id, technician_id,
// category, severity and level.
//
// Property damage (seed 000: 给用户家损坏东西应照价赔偿; 如果用户要求给予赔偿,
// 服务工程师不要轻易答复用户,报中心请示后办理): a property_damage complaint
// names the ticket whose visit damaged the customer's property and may
// carry the customer's claimed_amount. The center, not the technician,
// decides the compensation: resolving is the complaints.resolve permission
// the call center's keys hold (there is no chain by amount here; the
// swaps' chain belongs to a swap's states). Upheld, it names the
// assessed_amount (照价) and the customer is paid exactly that as one
// payout owed by the brand and naming the ticket (Deps.Compensate), in
// the resolution's transaction, once per complaint, with the apology it
// owes asked of the ticket's technician (tickets.ApologiseForDamageTx: an
// apologise_damage task per compensation), and only on a ticket
// the network visited (a check-in, carry-in or pickup: the service cannot
// have damaged what it never reached; a conflict on upheld otherwise).
// One damage is paid once: another complaint about the same ticket's damage compensates only
// an item (damaged_item, recorded with the assessment) that no earlier
// compensation of the ticket named; one that named none covered the
// visit's damage (a conflict on damaged_item otherwise, naming the earlier
// complaint and its payout). The payouts context
// knows no payer below the brand, so charging the node that caused the
// damage back is outside this context. It waives none of the service's
// charges.
package complaints

import (
	"context"
	"errors"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/servicenet/servicenet/internal/pg"
	"github.com/servicenet/servicenet/tenants"
	"github.com/servicenet/servicenet/tenants/tickets"
)

// Service is the complaints context's entry point. Each exported method runs
// in one tenant-scoped transaction. Build it with NewService.
type Service struct {
	DB  pg.DB
	Now func() time.Time

	enqueueSLA func(ctx context.Context, tx pgx.Tx, tenantID, complaintID string, clock *string, level int, dueAt time.Time) error
	refund     func(ctx context.Context, tx pg.TenantTx, unitID string, clock *string, amount tenants.Money, reason, source string) (string, error)
	compensate func(ctx context.Context, tx pg.TenantTx, unitID, ticketID string, clock *string, amount tenants.Money, reason, source string) (string, error)
}

// Deps are the Service's dependencies; every one is required.
type Deps struct {
	// EnqueueSLA schedules the SLA timer of a complaint's escalation to
	// level at dueAt, in the caller's transaction (River InsertTx): the
	// complaint and its timer commit or roll back together
	// (jobs.ComplaintSLAEnqueuer). clock is the complaint's test clock
	// (nil: none): the timer waits on the clock, dueAt being the clock's
	// time, and runs when an advance of the clock passes it.
	EnqueueSLA func(ctx context.Context, tx pgx.Tx, tenantID, complaintID string, clock *string, level int, dueAt time.Time) error
	// Refund schedules, in the caller's transaction, the refund to the
	// customer of a charge an upheld complaint waived and returns the
	// payout's id (payouts.Service.RefundWaivedCharge). clock is the
	// ticket's test clock (nil: none), which the refund lives on.
	Refund func(ctx context.Context, tx pg.TenantTx, unitID string, clock *string, amount tenants.Money, reason, source string) (string, error)
	// Compensate schedules, in the caller's transaction, the payout to the
	// customer of ticketID's unit that compensates property the visit
	// damaged at the value the center assessed, owed by the brand and
	// naming the ticket, and returns its id
	// (payouts.Service.SchedulePayoutSystemTx); clock is the ticket's test
	// clock (nil: none), which the payout lives on.
	Compensate func(ctx context.Context, tx pg.TenantTx, unitID, ticketID string, clock *string, amount tenants.Money, reason, source string) (string, error)
}

// NewService returns the complaints service over db. It fails when db or a
// dependency is missing.
func NewService(db pg.DB, d Deps) (*Service, error) {
	if db == nil {
		return nil, errors.New("complaints: NewService needs a database")
	}
	if d.EnqueueSLA == nil {
		return nil, errors.New("complaints: Deps.EnqueueSLA is required")
	}
	if d.Refund == nil {
		return nil, errors.New("complaints: Deps.Refund is required")
	}
	if d.Compensate == nil {
		return nil, errors.New("complaints: Deps.Compensate is required")
	}
	return &Service{DB: db, enqueueSLA: d.EnqueueSLA, refund: d.Refund, compensate: d.Compensate}, nil
}

func (s *Service) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}

// Category is what the customer complains about.
type Category string

// Complaint categories.
const (
	// CategoryLate is slowness in general (a repair that took too long);
	// it waives nothing. A missed appointment is CategoryLateArrival.
	CategoryLate Category = "late"
	// CategoryFee is a dispute over the charges (seed 000, 五.4: 保收费用户
	// 不交,或要求减免费用再修 … 报回中心,根据中心批示处理). Upheld, it may carry
	// the centre's reduction of the customer's charges (ResolveInput.Reduction:
	// named lines, such as the visit fee, or an amount), which applies to
	// the ticket exactly as the ticket's reduce-charges action does
	// (tickets.ReduceChargesTx), the brand bearing it: before the
	// completion the completion applies it; after one the customer's
	// charges move to the brand at once and what they paid is refunded.
	// Upheld without a reduction it changes no money: a reduction written
	// only in the resolution's text does nothing. Rejected, nothing.
	CategoryFee     Category = "fee"
	CategoryQuality Category = "quality"
	CategoryRepeat  Category = "repeat"
	CategoryOther   Category = "other"
	// The waiving categories (Waivers): upheld, each makes the ticket's
	// service free (rule 8): on a completed ticket at once, refunding what
	// the customer paid; before the completion, by the completion.
	CategoryAttitude   Category = "attitude"   // non-standard service, a bad attitude, buck-passing (推诿)
	CategoryLicence    Category = "licence"    // licence not shown, or not the technician's
	CategoryOvercharge Category = "overcharge" // charges beyond the price list
	CategoryConduct    Category = "conduct"    // a serious conduct breach (Breaches)
	// CategoryLateArrival: the technician did not come within the window
	// agreed with the customer (Midea promise 1, 按约上门、超时免单),
	// whatever the check-in recorded. Always against a ticket.
	CategoryLateArrival Category = "late_arrival"
	// CategoryPropertyDamage: the visit damaged the customer's property
	// (floor, furniture, the product moved back into place). Upheld, the
	// customer is compensated at the value the center assessed; it waives
	// no charges.
	CategoryPropertyDamage Category = "property_damage"
)

// Categories lists every category.
var Categories = []Category{CategoryLate, CategoryAttitude, CategoryFee, CategoryQuality, CategoryRepeat, CategoryOther,
	CategoryLicence, CategoryOvercharge, CategoryConduct, CategoryPropertyDamage, CategoryLateArrival}

// categoryList is Categories for validation messages.
var categoryList = tenants.Values(Categories)

// Waivers maps each waiving category to the service promise (rule 8) that
// upholding it applies. Midea's promise 3 (seed 003) makes the service
// free for 服务不规范、服务态度差、推诿不一票到底 in the same clause as the
// conduct standard the checklist's breaches name, so an upheld attitude
// complaint applies conduct_breach: the ticket carries that promise once,
// whichever complaint or checklist found it, and a reopened ticket's
// service stays free (tickets.WaiveChargesTx). Promise 1 (未按照用户约定时间
// 上门的,则本次服务给用户免单) makes a late_arrival complaint the engine's
// late_arrival, as a late check-in is.
var Waivers = map[Category]string{
	CategoryAttitude:    "conduct_breach",
	CategoryLicence:     "licence_not_shown",
	CategoryOvercharge:  "charge_beyond_price_list",
	CategoryConduct:     "conduct_breach",
	CategoryLateArrival: tickets.PromiseLateArrival,
}

// Breaches are the serious conduct breaches of the visit standard: drinking,
// smoking or eating at the customer's, accepting gifts, and abandoning the
// service (refusing to see it through). The visit checklist reports the
// same ones (tickets.ConductBreaches).
var Breaches = tickets.ConductBreaches

// ResolveInput is how a complaint was resolved.
type ResolveInput struct {
	Resolution string `json:"resolution" minLength:"1" maxLength:"2000" doc:"How the complaint was resolved; the customer rates it." example:"网点经理上门致歉，减免上门费"`
	Upheld     bool   `json:"upheld,omitempty" doc:"The investigation found the complaint justified. Upholding a late_arrival, attitude, licence, overcharge or conduct complaint makes its ticket's service free (rule 8; Midea promise 1 for late_arrival: the waiver late_arrival; promise 3: conduct_breach for attitude and conduct, licence_not_shown for licence, charge_beyond_price_list for overcharge), once per ticket and promise, whenever it is upheld. On a completed ticket the customer's charges move to the brand at once and what the customer paid is refunded as a payout owed by the brand (refund_payout_id); a ticket reopened and completed again stays free. On a ticket not yet completed (the customer complained during the service) the promise is recorded on the ticket and its diagnosis and completion apply it: the customer pays nothing for the service, the completion's waivers name it, and nothing is refunded (nothing was paid). On a cancelled ticket there are no charges to waive. An upheld late_arrival complaint also owes the customer the technician's apology (seed 000: refused, the node manager visits): unless the ticket has an apology task already (open, done or refused), it opens one for the ticket's technician, as the SLA sweep does when a window closes without them, once per ticket. A late_arrival complaint on a ticket that never had an appointment window agreed is 409. Upholding a late complaint (slowness in general) waives nothing. Upholding a property_damage complaint pays the value the center assessed (assessed_amount) and asks the ticket's technician to apologise for the damage (seed 000: 照价赔偿,并表示歉意; an apologise_damage task naming the complaint, one per compensation; refused, the node manager visits), and only on a ticket the network visited: on one it never visited (no technician ever checked in, no carry-in or pickup: the service cannot have damaged the customer's property) it is 409 on upheld, nothing paid. A finding that applied a promise or paid a compensation stands: resolved again after a low rating reopened it, the complaint is upheld again (409 otherwise)." example:"true"`
	Breach     string `json:"breach,omitempty" enum:"drinking,smoking,eating,accepting_gifts,abandoned_service" doc:"For an upheld conduct complaint (required then): the breach found." example:"smoking"`
	// AssessedAmount is the value of the damaged property the center
	// assessed (照价), for an upheld property_damage complaint.
	AssessedAmount *tenants.Money `json:"assessed_amount,omitempty" doc:"For an upheld property_damage complaint (required then, > 0, in the tenant's currency; refused on anything else): the value of the damaged property the center assessed (seed: 照价赔偿). It is paid to the ticket's customer as one payout owed by the brand (compensation_payout_id), due in 5 business days, in the same transaction; the service's charges are not waived. The damage is also apologised for (seed 000: 照价赔偿,并表示歉意): the compensation opens an apologise_damage task for the ticket's technician naming this complaint (refused, the node manager visits), one per compensation. Damage by the service presupposes the network in the home or holding the goods: on a ticket never visited (no check-in ever, no carry-in or pickup) upholding the complaint is 409 on upheld, nothing paid. Only the center decides it: the technician promises nothing on the spot (报中心请示后办理), and resolving takes the complaints.resolve permission the call center's keys hold."`
	// DamagedItem is what the assessment pays for, for an upheld
	// property_damage complaint.
	Reduction   *tickets.Reduction `json:"reduction,omitempty" doc:"For an upheld fee complaint against a ticket (422 at reduction on anything else): the centre's reduction of the customer's charges (seed 000: 要求减免费用 … 根据中心批示处理), named lines (lines: [\"visit\"], 减免上门费) or an amount, with the resolution as its reason. It applies in the same transaction exactly as POST /v1/tickets/{ticket_id}/reduce-charges does, the brand bearing it (a goodwill reduction decided for the brand): on a ticket not yet completed its completion applies it (the customer's share down, the brand's up, the completion's reductions naming it); on settled charges at once, what the customer paid being refunded as one payout owed by the brand (refund_payout_id). Its errors are that action's under reduction. (beyond what the customer pays: 422 at reduction.amount.amount, nothing changed; no charges known yet: 409). Upheld without a reduction, a fee complaint changes no money (a reduction written only in the resolution text does nothing); rejected, nothing. Once applied it stands: resolved again, the complaint is upheld again and carries no second reduction (409 at reduction)."`
	DamagedItem string             `json:"damaged_item,omitempty" maxLength:"200" doc:"For an upheld property_damage complaint (refused on anything else, 422): the item damaged that the center assessed (木地板, 衣柜门), recorded on the complaint, its event, the payout's reason and the reason of the apology it asks for (apologise_damage). One damage is paid once: when another complaint already compensated the same ticket's damage, the compensation is refused (409 on damaged_item, naming that complaint, its payout and amount) unless damaged_item names an item other than every earlier compensation's (compared without case and extra spaces); an earlier compensation that named no item covered the visit's damage, and nothing more is paid for that ticket. Optional for a ticket's first compensation." example:"衣柜门"`
}

// Severity decides the resolution deadline.
type Severity string

// Severities.
const (
	SeverityLow      Severity = "low"
	SeverityMedium   Severity = "medium"
	SeverityHigh     Severity = "high"
	SeverityCritical Severity = "critical"
)

// Severities lists every severity.
var Severities = []Severity{SeverityLow, SeverityMedium, SeverityHigh, SeverityCritical}

// SLAWindows is how long after filing (or reopening) a complaint of each
// severity must be resolved before it escalates.
var SLAWindows = map[Severity]time.Duration{
	SeverityCritical: 4 * time.Hour,
	SeverityHigh:     24 * time.Hour,
	SeverityMedium:   48 * time.Hour,
	SeverityLow:      72 * time.Hour,
}

// MaxLevel is the top escalation level (the brand).
const MaxLevel = 3

// EscalatedTo names who a complaint at level is escalated to ("" at 0).
func EscalatedTo(level int) string {
	switch level {
	case 0:
		return ""
	case 1:
		return "dispatcher"
	case 2:
		return "node_manager"
	}
	return "brand"
}

// State is where a complaint stands.
type State string

// Complaint states.
const (
	StateOpen          State = "open"
	StateInvestigating State = "investigating"
	StateReopened      State = "reopened"
	StateResolved      State = "resolved"
	StateClosed        State = "closed"
)

// States lists every state.
var States = []State{StateOpen, StateInvestigating, StateReopened, StateResolved, StateClosed}

// running reports whether the complaint's deadline runs in state s.
func running(s State) bool { return s == StateOpen || s == StateInvestigating || s == StateReopened }

// Actions on a complaint, as named in conflict messages and allowed_actions.
const (
	ActionInvestigate = "investigate"
	ActionEscalate    = "escalate"
	ActionResolve     = "resolve"
	ActionRate        = "rate"
	ActionClose       = "close"
)

// allowed are the actions each state admits (escalate also needs a level
// below MaxLevel).
var allowed = map[State][]string{
	StateOpen:          {ActionInvestigate, ActionEscalate, ActionResolve},
	StateInvestigating: {ActionEscalate, ActionResolve},
	StateReopened:      {ActionInvestigate, ActionEscalate, ActionResolve},
	StateResolved:      {ActionRate, ActionClose},
}

// LowRating is the highest rating that reopens a complaint.
const LowRating = 2

// Event types of this context.
const (
	TypeFiled         = "complaint.filed"
	TypeInvestigating = "complaint.investigating"
	TypeEscalated     = "complaint.escalated"
	TypeSLABreached   = "complaint.sla_breached"
	TypeResolved      = "complaint.resolved"
	TypeRated         = "complaint.rated"
	TypeReopened      = "complaint.reopened"
	TypeClosed        = "complaint.closed"
)

// NewComplaint is a complaint to file. At least one of ticket_id, node_id
// and technician_id names what it is against.
type NewComplaint struct {
	TicketID     string   `json:"ticket_id,omitempty" maxLength:"64" doc:"The ticket complained about; node, technician, storefront and customer default from it. A storefront key files only against its storefront's tickets (and must name one); a node-bound key only against tickets of its subtree (another's is 422, as an unknown one)." example:"tkt_01jd3zq8w6v7t3y2k9x4n5m6pt"`
	NodeID       string   `json:"node_id,omitempty" maxLength:"64" doc:"The node complained about; default: the ticket's node, else the technician's." example:"nod_01jd3zq8w6v7t3y2k9x4n5m6pn"`
	TechnicianID string   `json:"technician_id,omitempty" maxLength:"64" doc:"The technician complained about; default: the ticket's technician. A node-bound key names only its subtree's technicians (another's is 422, as an unknown one)." example:"tec_01jd3zq8w6v7t3y2k9x4n5m6pq"`
	CustomerID   string   `json:"customer_id,omitempty" maxLength:"64" doc:"The complaining customer; default: the ticket's customer. A storefront key names only its own customers and those of the units it sold (another's is 422, as an unknown one)." example:"cus_01jd3zq8w6v7t3y2k9x4n5m6pc"`
	Category     Category `json:"category" enum:"late,attitude,fee,quality,repeat,other,licence,overcharge,conduct,property_damage,late_arrival" doc:"What the complaint is about. late_arrival (the technician did not come within the window agreed with the customer, whatever the check-in recorded; names the ticket, 422 on ticket_id otherwise), attitude (non-standard service, a bad attitude, buck-passing), licence (not shown, or not the technician's), overcharge (charged beyond the price list) and conduct (drinking, smoking or eating at the customer's, accepting gifts, abandoning the service) waive the service's charges when upheld, whether the ticket is completed or not. late is slowness in general (a repair that took too long) and waives nothing. property_damage (the visit damaged the customer's floor, furniture or product) names the ticket (422 on ticket_id otherwise) and, upheld, compensates the customer at the value the center assessed." example:"late"`
	Severity     Severity `json:"severity,omitempty" enum:"low,medium,high,critical" doc:"How serious; sets the resolution deadline: critical 4 h, high 24 h, medium 48 h, low 72 h. Default medium." example:"high"`
	Description  string   `json:"description" minLength:"1" maxLength:"2000" doc:"The customer's complaint in their words." example:"师傅迟到两个小时且未提前联系"`
	// ClaimedAmount is what the customer claims the damaged property is
	// worth (property_damage only).
	ClaimedAmount *tenants.Money `json:"claimed_amount,omitempty" doc:"For a property_damage complaint only (422 on anything else): the value the customer claims for the damaged property, > 0, in the tenant's currency. A claim, not a promise: the center assesses the value it pays when it upholds the complaint (assessed_amount)."`
}

// Complaint is a complaint as it stands.
type Complaint struct {
	ID                   string                   `json:"id" example:"cmp_01jd3zq8w6v7t3y2k9x4n5m6pz"`
	TicketID             *string                  `json:"ticket_id,omitempty" doc:"The ticket complained about." example:"tkt_01jd3zq8w6v7t3y2k9x4n5m6pt"`
	NodeID               *string                  `json:"node_id,omitempty" doc:"The node complained about." example:"nod_01jd3zq8w6v7t3y2k9x4n5m6pn"`
	TechnicianID         *string                  `json:"technician_id,omitempty" doc:"The technician complained about." example:"tec_01jd3zq8w6v7t3y2k9x4n5m6pq"`
	StorefrontID         *string                  `json:"storefront_id,omitempty" doc:"The storefront whose ticket (or key) it came through." example:"sfr_01jd3zq8w6v7t3y2k9x4n5m6pd"`
	CustomerID           *string                  `json:"customer_id,omitempty" doc:"The complaining customer." example:"cus_01jd3zq8w6v7t3y2k9x4n5m6pc"`
	Category             Category                 `json:"category" enum:"late,attitude,fee,quality,repeat,other,licence,overcharge,conduct,property_damage,late_arrival" doc:"What the complaint is about." example:"late"`
	Severity             Severity                 `json:"severity" enum:"low,medium,high,critical" doc:"How serious." example:"high"`
	Description          string                   `json:"description" doc:"The customer's complaint." example:"师傅迟到两个小时且未提前联系"`
	State                State                    `json:"state" enum:"open,investigating,reopened,resolved,closed" doc:"Where the complaint stands." example:"investigating"`
	AllowedActions       []string                 `json:"allowed_actions" doc:"What may be done next: investigate, escalate, resolve, rate, close." example:"[\"escalate\",\"resolve\"]"`
	SLADueAt             time.Time                `json:"sla_due_at" doc:"The running resolution deadline; when it passes unresolved the complaint escalates one level." example:"2026-11-21T09:30:00+08:00"`
	Overdue              bool                     `json:"overdue" doc:"Still unresolved after sla_due_at." example:"false"`
	SLABreachedAt        *time.Time               `json:"sla_breached_at,omitempty" doc:"When a deadline was first missed." example:"2026-11-21T09:30:00+08:00"`
	EscalationLevel      int                      `json:"escalation_level" minimum:"0" maximum:"3" doc:"0 none, 1 dispatcher, 2 node manager, 3 brand." example:"1"`
	EscalatedTo          string                   `json:"escalated_to,omitempty" enum:"dispatcher,node_manager,brand" doc:"Who the complaint is escalated to." example:"dispatcher"`
	Resolution           *string                  `json:"resolution,omitempty" doc:"How it was resolved." example:"网点经理上门致歉，减免上门费"`
	ResolvedAt           *time.Time               `json:"resolved_at,omitempty" example:"2026-11-20T15:00:00+08:00"`
	Upheld               *bool                    `json:"upheld,omitempty" doc:"Whether the resolution found the complaint justified." example:"true"`
	Breach               *string                  `json:"breach,omitempty" enum:"drinking,smoking,eating,accepting_gifts,abandoned_service" doc:"The conduct breach found." example:"smoking"`
	Waiver               *string                  `json:"waiver,omitempty" enum:"late_arrival,licence_not_shown,charge_beyond_price_list,conduct_breach" doc:"The service promise upholding it applied to the ticket: its charges are waived (the brand pays them): at once on a completed ticket, by the completion on one not yet completed (none on a cancelled one)." example:"conduct_breach"`
	RefundPayoutID       *string                  `json:"refund_payout_id,omitempty" doc:"The payout refunding the customer what they had paid for the waived service." example:"pay_01jd3zq8w6v7t3y2k9x4n5m6pb"`
	ClaimedAmount        *tenants.Money           `json:"claimed_amount,omitempty" doc:"property_damage: the value the customer claimed."`
	AssessedAmount       *tenants.Money           `json:"assessed_amount,omitempty" doc:"property_damage, upheld: the value the center assessed and pays."`
	CompensationPayoutID *string                  `json:"compensation_payout_id,omitempty" doc:"property_damage, upheld: the payout compensating the customer the assessed amount (owed by the brand, naming the ticket)." example:"pay_01jd3zq8w6v7t3y2k9x4n5m6pb"`
	Reduction            *tickets.ChargeReduction `json:"reduction,omitempty" doc:"fee, upheld: the centre's reduction of the customer's charges the resolution carried, as applied to the ticket (the brand bears it; refund_payout_id when the charges were settled)."`
	DamagedItem          *string                  `json:"damaged_item,omitempty" doc:"property_damage, upheld: the item the center assessed and pays for, when the assessment named one (it must when the ticket's damage was compensated already)." example:"衣柜门"`
	ResolutionRating     *int                     `json:"resolution_rating,omitempty" minimum:"1" maximum:"5" doc:"The customer's latest rating of the resolution, 1-5." example:"4"`
	RatingComment        *string                  `json:"rating_comment,omitempty" doc:"The customer's comment on the resolution." example:"处理及时"`
	RatedAt              *time.Time               `json:"rated_at,omitempty" example:"2026-11-20T18:00:00+08:00"`
	ReopenCount          int                      `json:"reopen_count" doc:"How often a low rating reopened it." example:"0"`
	ClosedAt             *time.Time               `json:"closed_at,omitempty" example:"2026-11-20T18:00:00+08:00"`
	CreatedBy            string                   `json:"created_by" doc:"The API key that filed it." example:"key_01jd3zq8w6v7t3y2k9x4n5m6pa"`
	Version              int                      `json:"version" doc:"Increases with every change; the ETag is \"v<version>\"." example:"1"`
	CreatedAt            time.Time                `json:"created_at" example:"2026-11-20T09:30:00+08:00"`
	UpdatedAt            time.Time                `json:"updated_at" example:"2026-11-20T09:30:00+08:00"`
	TestClockID          *string                  `json:"test_clock_id,omitempty" doc:"Test mode only: the test clock the complaint lives on, its ticket's (from the filing): it is filed, resolved, rated and closed at the clock's time, sla_due_at and overdue are on the clock, and the deadline escalates when the clock is advanced past it. Absent when it is on the wall clock." example:"clk_01jd3zq8w6v7t3y2k9x4n5m6pq"`

	// clockNow is the time of the complaint's clock when it was read
	// (nil: on no clock).
	clockNow *time.Time
}

// at is the complaint's time: its clock's when it lives on one, else now.
func (c Complaint) at(now time.Time) time.Time {
	if c.clockNow != nil {
		return *c.clockNow
	}
	return now
}

// ComplaintChange is one entry of a complaint's history.
type ComplaintChange struct {
	Action    string    `json:"action" enum:"file,investigate,escalate,sla_breached,resolve,rate,close" doc:"What happened." example:"sla_breached"`
	FromState *State    `json:"from_state,omitempty" doc:"Absent for the filing." example:"open"`
	ToState   State     `json:"to_state" example:"open"`
	FromLevel *int      `json:"from_level,omitempty" example:"0"`
	ToLevel   int       `json:"to_level" example:"1"`
	Note      *string   `json:"note,omitempty" doc:"Reason, resolution or rating comment." example:"resolution deadline missed"`
	Actor     string    `json:"actor" doc:"The API key, or system for the SLA timer." example:"system"`
	At        time.Time `json:"at" example:"2026-11-21T09:30:00+08:00"`
}

// ComplaintDetail is a complaint with its history, oldest first.
type ComplaintDetail struct {
	Complaint
	History []ComplaintChange `json:"history" doc:"Everything that happened to the complaint, oldest first."`
}

// ComplaintFilter narrows a complaint listing; empty fields do not filter.
type ComplaintFilter struct {
	State, Category, Severity      string
	TicketID, NodeID, TechnicianID string
	Overdue                        bool
	Limit                          int
	Cursor                         string
}
