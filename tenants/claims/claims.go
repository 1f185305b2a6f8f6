// Package claims owns warranty, protection-plan and reimbursement claims:
// submission with versions, adjudication's decisions per line, and the
// people who decide what adjudication leaves open.
//
// A submitted claim is its own adjudication request: the claims in state
// submitted are the queue (AwaitingAdjudication) that the adjudication
// sweep (jobs.ClaimAdjudicationSweepArgs, every second) decides with
// Adjudicate, so a submission writes no job of its own and commits its
// claim, version, history row and event in one transaction.
//
// States: submitted → under_review (adjudication) → approved |
// rejected | needs_info; needs_info → submitted (resubmission adds a
// version, the old one is kept); approved → paid; submitted | needs_info →
// withdrawn. Every transition writes a state-change row and an event
// (claim.<state>, plus claim.flagged when adjudication raises flags) in its
// transaction; event data carries storefront_id (null when none) and unit_id.
//
// A claim waiting for a person has deadlines (deadlines.go): a response
// within review_hours of its filing, a decision within decision_days; the
// deadline sweep (SweepDeadlines, jobs.ClaimDeadlineSweepArgs) records each
// one missed once, with a claim.deadline_missed event.
//
// In test mode a claim can live on a test clock (testclock.go): then its
// filing, deadlines, coverage day and later timestamps are the clock's
// time, and its deadlines are checked when the clock advances
// (SweepClockDeadlines), not by the wall-clock sweep.
package claims

import (
	"context"
	"errors"
	"time"

	"github.com/servicenet/servicenet/internal/pg"
	"github.com/servicenet/servicenet/tenants"
	"github.com/servicenet/servicenet/tenants/notifications"
	"github.com/servicenet/servicenet/tenants/warranty/entitlement"
)

// Service is the claims context's entry point. Each exported method runs in
// one tenant-scoped transaction. Build it with NewService.
type Service struct {
	DB  pg.DB
	Now func() time.Time

	onApproved     func(ctx context.Context, tx pg.TenantTx, c Claim) error
	ticket         TicketState
	ticketByNumber TicketState
	ticketClock    TicketClock
	notify         Notifier
}

// TicketState reads, in the caller's transaction, what a claim needs of
// ticket id if it is a ticket of unit unitID (found false otherwise),
// whatever the caller's scope (tickets.UnitTicketStateTx).
type TicketState func(ctx context.Context, tx pg.TenantTx, id, unitID string) (t Ticket, found bool, err error)

// Ticket is what a claim needs of the ticket it names.
type Ticket struct {
	// ID is the ticket's id (tkt_...).
	ID    string
	State string
	// Number is the reference of the repair the ticket's completion
	// records in the unit's history (customers.TicketReference).
	Number string
	// ReportedAt is when the customer reported what the ticket's last
	// round served: its intake, or its last reopening. The ticket decided
	// its repair on that day, and so does a claim for it.
	ReportedAt time.Time
	// NodeID is the node the ticket was served by ("" none): the one a
	// reimbursement for its repair is paid to.
	NodeID string
	// Reduced is what the centre's reductions of the customer's charges
	// that the ticket's completion applied when it completed (approved
	// before it, not refunded) moved from the customer to the brand, by
	// the completion's line in their order: the node collected that much
	// less, and a claim for the repair is owed it (calculate). Reductions
	// refunded to the customer and the service promises' waivers are not
	// in it.
	Reduced []ReducedLine
}

// ReducedLine is what a reduction of the centre moved from the
// customer's share of one of a ticket's completion lines to the brand's.
type ReducedLine struct {
	Kind string
	// PartNumber is the part's number, on a part line.
	PartNumber string
	Amount     tenants.Money
}

// TicketClock reads, in the caller's transaction, the test clock ticket id
// is on (nil: none, or no such ticket), whatever the caller's scope
// (tickets.TicketClockTx).
type TicketClock func(ctx context.Context, tx pg.TenantTx, id string) (*string, error)

// Notifier requests a customer message in the caller's transaction
// (notifications.Service).
type Notifier interface {
	NotifyTx(ctx context.Context, tx pg.TenantTx, actor string, n notifications.Notice) (*notifications.NotificationDelivery, error)
}

// Deps are the Service's dependencies; every one is required.
type Deps struct {
	// OnApproved is called inside the transaction that approves a claim (the
	// adjudication's auto-approval or a reviewer's), with the claim as
	// approved; an error rolls the approval back. Payouts hook in here
	// (payouts.Service.ForApprovedClaim): a claim whose ClaimDecision carries
	// a Compensation owes the customer that amount by its due date.
	OnApproved func(ctx context.Context, tx pg.TenantTx, c Claim) error
	// TicketState checks the ticket a submission names against its unit
	// (tickets.UnitTicketStateTx).
	TicketState TicketState
	// TicketByNumber reads, as TicketState does, the ticket of a unit by
	// its number (tickets.UnitTicketByNumberTx): a submission naming a
	// service record a ticket's completion made is that ticket's repair.
	TicketByNumber TicketState
	// TicketClock tells a test-mode submission which test clock the
	// ticket it names is on (tickets.TicketClockTx): the claim takes it,
	// or is refused on another clock; attaching a claim checks it too.
	TicketClock TicketClock
	// Notifications tells the unit's customer that a claim was decided
	// (claim_decided), in the deciding transaction.
	Notifications Notifier
}

// NewService returns the claims service over db. It fails when db or a
// dependency is missing.
func NewService(db pg.DB, d Deps) (*Service, error) {
	switch {
	case db == nil:
		return nil, errors.New("claims: NewService needs a database")
	case d.OnApproved == nil:
		return nil, errors.New("claims: Deps.OnApproved is required")
	case d.TicketState == nil:
		return nil, errors.New("claims: Deps.TicketState is required")
	case d.TicketByNumber == nil:
		return nil, errors.New("claims: Deps.TicketByNumber is required")
	case d.TicketClock == nil:
		return nil, errors.New("claims: Deps.TicketClock is required")
	case d.Notifications == nil:
		return nil, errors.New("claims: Deps.Notifications is required")
	}
	return &Service{DB: db, onApproved: d.OnApproved, ticket: d.TicketState, ticketByNumber: d.TicketByNumber,
		ticketClock: d.TicketClock, notify: d.Notifications}, nil
}

func (s *Service) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}

// Kind is what a claim asks to be paid under.
type Kind string

// Claim kinds.
const (
	KindWarranty         Kind = "warranty"
	KindExtendedWarranty Kind = "extended_warranty"
	KindAccidentalDamage Kind = "accidental_damage"
	KindSwapForRepair    Kind = "swap_for_repair"
	KindNoReasonRepair   Kind = "no_reason_repair"
	KindReimbursement    Kind = "reimbursement"
)

// Kinds lists every claim kind.
var Kinds = []Kind{KindWarranty, KindExtendedWarranty, KindAccidentalDamage, KindSwapForRepair, KindNoReasonRepair, KindReimbursement}

// State is where a claim stands.
type State string

// Claim states.
const (
	StateSubmitted   State = "submitted"
	StateUnderReview State = "under_review"
	StateApproved    State = "approved"
	StateRejected    State = "rejected"
	StateNeedsInfo   State = "needs_info"
	StateWithdrawn   State = "withdrawn"
	StatePaid        State = "paid"
)

// States lists every claim state.
var States = []State{StateSubmitted, StateUnderReview, StateApproved, StateRejected, StateNeedsInfo, StateWithdrawn, StatePaid}

// Actions on a claim, as named in conflict messages.
const (
	ActionApprove     = "approve"
	ActionReject      = "reject"
	ActionRequestInfo = "request_info"
	ActionResubmit    = "resubmit"
	ActionWithdraw    = "withdraw"
	ActionMarkPaid    = "mark_paid"
)

// allowed are the actions each state admits (adjudication moves submitted
// claims on by itself).
var allowed = map[State][]string{
	StateSubmitted:   {ActionWithdraw},
	StateUnderReview: {ActionApprove, ActionReject, ActionRequestInfo},
	StateNeedsInfo:   {ActionResubmit, ActionWithdraw},
	StateApproved:    {ActionMarkPaid},
}

// Event types of this context.
const (
	TypeSubmitted   = "claim.submitted"
	TypeUnderReview = "claim.under_review"
	TypeNeedsInfo   = "claim.needs_info"
	TypeApproved    = "claim.approved"
	TypeRejected    = "claim.rejected"
	TypeWithdrawn   = "claim.withdrawn"
	TypePaid        = "claim.paid"
	TypeFlagged     = "claim.flagged"
	// TypeDeadlineMissed: a claim missed its review or decision deadline
	// (SweepDeadlines), once per claim and deadline.
	TypeDeadlineMissed = "claim.deadline_missed"
)

// ClaimLine kinds.
const (
	LineLabor = "labor"
	LinePart  = "part"
	LineVisit = "visit"
	LineOther = "other"
)

// ClaimLine decisions.
const (
	DecisionApproved       = "approved"
	DecisionPartlyApproved = "partly_approved"
	DecisionRejected       = "rejected"
	DecisionPending        = "pending"
)

// ClaimFault is what went wrong.
type ClaimFault struct {
	Cause          string   `json:"cause" enum:"performance,environmental_dust,environmental_heat,environmental_moisture,power_surge,unstable_voltage,accidental_damage,human_damage,force_majeure,software_tuning,no_fault,delivery_damage" doc:"The diagnosed cause (the entitlement engine's vocabulary)." example:"power_surge"`
	PartCategories []string `json:"part_categories,omitempty" maxItems:"20" doc:"Categories of the parts the fault concerns: key parts have longer terms." example:"[\"control_board\"]"`
	Description    string   `json:"description,omitempty" maxLength:"2000" doc:"What happened, in the submitter's words." example:"雷雨后无法开机，主板烧毁"`
}

// NewClaimLine is a line of a claim as submitted.
type NewClaimLine struct {
	Kind        string        `json:"kind" enum:"labor,part,visit,other" doc:"What the line pays for." example:"part"`
	PartID      string        `json:"part_id,omitempty" maxLength:"64" doc:"The part, on part lines (required there, absent elsewhere); it must fit the unit's model." example:"prt_01jd3zq8w6v7t3y2k9x4n5m6pd"`
	Quantity    int           `json:"quantity,omitempty" minimum:"0" maximum:"100" doc:"How many; default 1." example:"1"`
	Description string        `json:"description,omitempty" maxLength:"500" doc:"What the line is for." example:"主控板更换"`
	Requested   tenants.Money `json:"requested"`
}

// ClaimLine is a claim line with what the adjudication calculated and what was
// approved.
type ClaimLine struct {
	Kind        string         `json:"kind" enum:"labor,part,visit,other" example:"part"`
	PartID      string         `json:"part_id,omitempty" example:"prt_01jd3zq8w6v7t3y2k9x4n5m6pd"`
	PartNumber  string         `json:"part_number,omitempty" example:"KFR-CB-01"`
	Quantity    int            `json:"quantity" example:"1"`
	Description string         `json:"description,omitempty" example:"主控板更换"`
	Requested   tenants.Money  `json:"requested"`
	Calculated  *tenants.Money `json:"calculated,omitempty" doc:"What adjudication found owed on the line: what the brand or plan pays under the entitlement engine's decision, plus, on a claim for a ticket's repair, what the centre's reductions of the customer's charges that the ticket's completion applied (approved before it: the customer paid the node that much less) moved to the brand on the line's kind (a part line: its part), in the lines' order; at most what the line requests, the reason naming the reduction. A reduction approved after the paid completion was refunded to the customer by the brand (the node kept the money), and a service promise's waiver (late arrival, licence not shown …) is the network's failure, which it bears: neither is owed."`
	Approved    *tenants.Money `json:"approved,omitempty"`
	Decision    string         `json:"decision" enum:"pending,approved,partly_approved,rejected" doc:"The line's decision." example:"approved"`
	Reason      string         `json:"reason,omitempty" doc:"Why the line was decided so." example:"extended_warranty: the plan pays the line in full"`
	Override    *LineOverride  `json:"override,omitempty" doc:"Present when a reviewer approved the line above its calculated amount (approveClaim's override_reason): what was calculated, why more was approved, and who approved it."`
}

// LineOverride is a reviewer's approval of a line above its calculated
// amount.
type LineOverride struct {
	Calculated tenants.Money `json:"calculated" doc:"What adjudication calculated; approved is above it."`
	Reason     string        `json:"reason" doc:"The reviewer's override_reason." example:"two technicians: the drum had to be lifted"`
	By         string        `json:"by" doc:"Who approved it: the API key." example:"key_01jd3zq8w6v7t3y2k9x4n5m6pa"`
}

// ClaimFlag is something adjudication found that a person must look at.
type ClaimFlag struct {
	Code   string `json:"code" enum:"duplicate,purchase_after_registration,serial_model_mismatch,unit_not_in_service,part_incompatible,markup_above_cap,above_price_list,not_repair,part_not_fitted,part_not_returned,unpriced_line,repair_not_verified" doc:"What was found. repair_not_verified: a reimbursement for a repair its service record shows no ticket made (a repair recorded by hand): nothing shows which node did it or which parts it fitted, a person checks. above_price_list: the labor lines together, or the visit lines together, ask more than the price list's rate for one repair (one labor, one visit, whatever the quantities); the line is owed what the lines before it left. unpriced_line: a line of kind other, a charge the price list does not price, for a person to judge. part_not_fitted: a part line of a claim for a ticket asks for more of the part than the ticket fitted (the excess is owed nothing); part_not_returned: the ticket has not taken the replaced part back for the brand." example:"duplicate"`
	Line   *int   `json:"line,omitempty" doc:"The line (0-based) the flag is about." example:"0"`
	Detail string `json:"detail" doc:"What exactly." example:"claim clm_01jd... for the same unit and fault cause on 2026-11-02"`
}

// ClaimDecision is what the entitlement engine decided for the current version.
type ClaimDecision struct {
	Basis        entitlement.Basis         `json:"basis" doc:"What the charges rest on (the engine's basis)." example:"extended_warranty"`
	ContractID   string                    `json:"contract_id,omitempty" doc:"The contract the basis uses." example:"ctr_01jd3zq8w6v7t3y2k9x4n5m6pb"`
	Remedy       entitlement.RemedyKind    `json:"remedy" doc:"The remedy the engine selected." example:"repair"`
	Compensation *entitlement.Compensation `json:"compensation,omitempty"`
}

// Claim is a claim with its current version.
type Claim struct {
	ID              string         `json:"id" example:"clm_01jd3zq8w6v7t3y2k9x4n5m6pm"`
	Kind            Kind           `json:"kind" enum:"warranty,extended_warranty,accidental_damage,swap_for_repair,no_reason_repair,reimbursement" example:"extended_warranty"`
	UnitID          string         `json:"unit_id" example:"unt_01jd3zq8w6v7t3y2k9x4n5m6ph"`
	ContractID      *string        `json:"contract_id,omitempty" example:"ctr_01jd3zq8w6v7t3y2k9x4n5m6pb"`
	StorefrontID    *string        `json:"storefront_id,omitempty" doc:"The storefront that filed it." example:"sfr_01jd3zq8w6v7t3y2k9x4n5m6pd"`
	NodeID          *string        `json:"node_id,omitempty" doc:"The repair point whose reimbursement claim it is." example:"nod_01jd3zq8w6v7t3y2k9x4n5m6pn"`
	Reference       string         `json:"reference" doc:"The submitter's own reference; unique per submitter." example:"TM-CLM-000123"`
	State           State          `json:"state" enum:"submitted,under_review,approved,rejected,needs_info,withdrawn,paid" example:"approved"`
	StateReason     *string        `json:"state_reason,omitempty" example:"auto-approved: covered, no flags, within the limit"`
	AllowedActions  []string       `json:"allowed_actions" doc:"What may be done next: approve, reject, request_info, resubmit, withdraw, mark_paid." example:"[\"mark_paid\"]"`
	Version         int            `json:"version" doc:"The current submission's version: 1, then one more per resubmission." example:"1"`
	Fault           ClaimFault     `json:"fault"`
	OccurredOn      string         `json:"occurred_on" format:"date" example:"2026-11-20"`
	TicketID        *string        `json:"ticket_id,omitempty" example:"TKT-2026-000812"`
	ServiceRecordID *string        `json:"service_record_id,omitempty" example:"svr_01jd3zq8w6v7t3y2k9x4n5m6pk"`
	Note            *string        `json:"note,omitempty" doc:"The submitter's note on this version." example:"补充了发票照片"`
	Lines           []ClaimLine    `json:"lines"`
	TotalRequested  tenants.Money  `json:"total_requested"`
	TotalCalculated *tenants.Money `json:"total_calculated,omitempty"`
	TotalApproved   *tenants.Money `json:"total_approved,omitempty"`
	Flags           []ClaimFlag    `json:"flags" doc:"What adjudication found for a person to look at."`
	Reasons         []string       `json:"reasons" doc:"Why the claim stands where it does: the adjudication's and the reviewers' reasons."`
	Decision        *ClaimDecision `json:"decision,omitempty"`
	ApprovedOn      *string        `json:"approved_on,omitempty" format:"date" doc:"The approval date (tenant's time zone)." example:"2026-11-21"`
	PaidAt          *time.Time     `json:"paid_at,omitempty" example:"2026-11-25T10:00:00+08:00"`
	ReviewDueAt     time.Time      `json:"review_due_at" doc:"By when a person must respond (ask for information, or decide): the filing plus the policy's review_hours (24 by default; seed: 在报修之时起24小时之内得到响应). Met by the first response (responded_at); a resubmission does not restart it." example:"2026-11-21T09:30:00+08:00"`
	DecisionDueAt   time.Time      `json:"decision_due_at" doc:"By when the claim must be decided, approved or rejected: the filing plus the policy's decision_days (30 by default; seed: 在接受报修之日起30天内向消费者反馈). A resubmission answering needs_info does not restart it." example:"2026-12-20T09:30:00+08:00"`
	RespondedAt     *time.Time     `json:"responded_at,omitempty" doc:"The first response to the claim: information requested, or a decision (adjudication's included)." example:"2026-11-20T15:00:00+08:00"`
	DeadlinesMissed []string       `json:"deadlines_missed" doc:"The deadlines the claim missed, review and/or decision, each recorded once with a claim.deadline_missed event." example:"[]"`
	Revision        int            `json:"revision" doc:"Increases with every change; the ETag is \"v<revision>\"." example:"3"`
	TestClockID     *string        `json:"test_clock_id,omitempty" doc:"Test mode only: the test clock the claim lives on; absent when it is on the wall clock. Its created_at, deadlines, coverage day and later timestamps are the clock's time, and its deadlines are checked when the clock advances." example:"clk_01jd3zq8w6v7t3y2k9x4n5m6pq"`
	CreatedAt       time.Time      `json:"created_at" example:"2026-11-20T09:30:00+08:00"`
	UpdatedAt       time.Time      `json:"updated_at" example:"2026-11-20T09:30:00+08:00"`

	// now is the claim's time in the transaction that changes it: its test
	// clock's (onClock), nil on the wall clock (the database's now()).
	now *time.Time
}

// ClaimVersion is one submission of a claim as it was filed, with its lines as
// adjudicated and decided while it was current.
type ClaimVersion struct {
	Version         int           `json:"version" example:"1"`
	Fault           ClaimFault    `json:"fault"`
	OccurredOn      string        `json:"occurred_on" format:"date" example:"2026-11-20"`
	TicketID        *string       `json:"ticket_id,omitempty" example:"TKT-2026-000812"`
	ServiceRecordID *string       `json:"service_record_id,omitempty" example:"svr_01jd3zq8w6v7t3y2k9x4n5m6pk"`
	Note            *string       `json:"note,omitempty" example:"补充了发票照片"`
	Lines           []ClaimLine   `json:"lines"`
	TotalRequested  tenants.Money `json:"total_requested"`
	SubmittedBy     string        `json:"submitted_by" example:"key_01jd3zq8w6v7t3y2k9x4n5m6pa"`
	SubmittedAt     time.Time     `json:"submitted_at" example:"2026-11-20T09:30:00+08:00"`
	AdjudicatedAt   *time.Time    `json:"adjudicated_at,omitempty" example:"2026-11-20T09:30:02+08:00"`
}

// ClaimTransition is one entry of a claim's state history.
type ClaimTransition struct {
	Version   int       `json:"version" doc:"The claim version current at the change." example:"1"`
	FromState *State    `json:"from_state,omitempty" doc:"Absent for the first submission." example:"under_review"`
	ToState   State     `json:"to_state" example:"approved"`
	Reason    string    `json:"reason" example:"auto-approved"`
	Actor     string    `json:"actor" doc:"The API key, or system for adjudication." example:"system"`
	ChangedAt time.Time `json:"changed_at" example:"2026-11-20T09:30:02+08:00"`
}

// ClaimPolicy are a tenant's adjudication thresholds.
type ClaimPolicy struct {
	AutoApproveLimit      tenants.Money `json:"auto_approve_limit"`
	DuplicateWindowDays   int           `json:"duplicate_window_days" minimum:"0" maximum:"3650" doc:"Another live claim for the same unit and fault cause within this many days is a duplicate (one for the same repair, naming the same ticket or service record, is one whatever its day and cause)." example:"30"`
	PartsMarkupCapPercent int           `json:"parts_markup_cap_percent" minimum:"0" maximum:"1000" doc:"A part line may ask at most the price-list price plus this percent." example:"20"`
	ReviewHours           int           `json:"review_hours,omitempty" minimum:"1" maximum:"720" doc:"Hours from a claim's filing by which a person must respond, asking for information or deciding (seed: 在报修之时起24小时之内得到响应). Default (and when omitted) 24; at most decision_days × 24. Applies to claims filed from then on." example:"24"`
	DecisionDays          int           `json:"decision_days,omitempty" minimum:"1" maximum:"365" doc:"Days from a claim's filing by which it must be approved or rejected (seed: 在接受报修之日起30天内向消费者反馈相应售后信息). Default (and when omitted) 30. Applies to claims filed from then on." example:"30"`
}

// ClaimPolicy defaults, used while a tenant has set none.
const (
	DefaultAutoApproveLimit      = 200000 // 2,000.00 in the tenant's currency
	DefaultDuplicateWindowDays   = 30
	DefaultPartsMarkupCapPercent = 20
	DefaultReviewHours           = 24
	DefaultDecisionDays          = 30
)

// ClaimFilter narrows a claim listing; empty fields do not filter.
type ClaimFilter struct {
	State, Kind, UnitID string
	// Reference finds claims by the submitter's own reference (unique per
	// submitter: one claim for a storefront key).
	Reference string
	// Overdue keeps the claims still open (submitted, under_review,
	// needs_info) past a deadline they have not met: the review deadline
	// with no response yet, or the decision deadline; a claim on a test
	// clock is judged at its clock's time.
	Overdue bool
	Limit   int
	Cursor  string
}
