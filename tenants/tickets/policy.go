package tickets

import (
	"context"
	"errors"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/servicenet/servicenet/internal/pg"
)

// SLAPolicy is the tenant's service-level policy, in minutes, with the
// seeds' defaults when the tenant has not set one.
type SLAPolicy struct {
	RouteMinutes             int       `json:"route_minutes" minimum:"1" maximum:"10080" doc:"Route a new ticket to a node within this many minutes." example:"5"`
	FirstContactMinutes      int       `json:"first_contact_minutes" minimum:"1" maximum:"10080" doc:"First contact with the customer (an agreed appointment) within this many minutes of intake." example:"120"`
	ResponseMinutes          int       `json:"response_minutes" minimum:"1" maximum:"43200" doc:"Respond (technician on site, or remote guidance given) within this many minutes of intake." example:"1440"`
	CompletionMinutes        int       `json:"completion_minutes" minimum:"1" maximum:"43200" doc:"Complete the repair within this many minutes of intake." example:"4320"`
	CallbackMinutes          int       `json:"callback_minutes" minimum:"1" maximum:"43200" doc:"Call the customer back within this many minutes of completion." example:"4320"`
	GuidanceCallbackMinutes  int       `json:"guidance_callback_minutes" minimum:"1" maximum:"10080" doc:"Call back this many minutes after remote guidance that resolved the fault." example:"120"`
	ObserveCallbackMinutes   int       `json:"observe_callback_minutes" minimum:"1" maximum:"10080" doc:"Call back this many minutes after an \"observe\" instruction." example:"30"`
	UncertainCallbackMinutes int       `json:"uncertain_callback_minutes" minimum:"1" maximum:"10080" doc:"Call back this many minutes after a fix the technician was not sure of." example:"180"`
	EscalationMinutes        int       `json:"escalation_minutes" minimum:"1" maximum:"10080" doc:"A breach still open after this many minutes escalates one level further (dispatcher, node manager, brand)." example:"60"`
	UnreachableCloseAfter    int       `json:"unreachable_close_after" minimum:"0" maximum:"10" doc:"Close a ticket after this many callbacks that found the customer unreachable (0: never)." example:"3"`
	VerificationMinutes      int       `json:"verification_minutes,omitempty" minimum:"0" maximum:"10080" doc:"needs_info's own clock: verify an incomplete intake (with the dispatcher or information officer, else the customer) within this many minutes of it entering needs_info; a miss is a verification breach. Default 120 (0 or absent keeps it)." example:"120"`
	UrgentPercent            int       `json:"urgent_percent,omitempty" minimum:"0" maximum:"100" doc:"An urgent ticket's route, first-contact, response and completion deadlines are this percentage of the minutes above. Default 50 (0 or absent keeps it)." example:"50"`
	HighPercent              int       `json:"high_percent,omitempty" minimum:"0" maximum:"100" doc:"The same for high priority. Default 75." example:"75"`
	LowPercent               int       `json:"low_percent,omitempty" minimum:"0" maximum:"400" doc:"The same for low priority (at least 100). Default 150. Normal priority uses the minutes as they are." example:"150"`
	InstallMinutes           int       `json:"install_minutes,omitempty" minimum:"0" maximum:"43200" doc:"An install ticket's response and completion are due this many minutes after the delivery (delivered_at; the intake when not given): the seeds' 24 hours, delivery and installation in sync (送安同步). Default 1440 (0 or absent keeps it)." example:"1440"`
	UntestedCallbackMinutes  int       `json:"untested_callback_minutes,omitempty" minimum:"0" maximum:"10080" doc:"Call back this many minutes after a completion whose test run was skipped (test_run.skipped): the seed's 若服务工程师没有时间试机,则两小时后跟踪回访 (no time for a test run: a callback two hours later, to make sure the unit works again). Default 120 (0 or absent keeps it)." example:"120"`
	WorkshopWorkingDays      int       `json:"workshop_working_days,omitempty" minimum:"0" maximum:"30" doc:"A unit carried to the node (carry-in) is repaired and handed back (return) within this many working days of its receipt, at the receipt's time of day, on the tenant's calendar (Monday to Friday less its holidays, plus its make-up working days, 调休; PUT /v1/tenant/holidays): the seed's 修理时间最长不超过3个工作日 for a unit repaired at the service station. A miss is a workshop breach. Default 3 (0 or absent keeps it)." example:"3"`
	OnSiteRepairMinutes      int       `json:"on_site_repair_minutes,omitempty" minimum:"0" maximum:"1440" doc:"A repair completed in the visit (a 一般性故障, general fault: the repair ticket completed from on_site, the unit not carried in) is completed within this many minutes of the technician's check-in of that visit: the seed's 对于一般性故障,维修工程师将在1小时内完成维修. A later completion records an on_site_repair breach at the completion (due at the check-in plus these minutes). Not measured: a visit that ends without completing the repair (waiting for parts, a visit exception, a fault sent up a tier: the visit that completes it is measured from its own check-in), a unit carried in (under workshop_working_days instead), a unit to be swapped (swap requested). Default 60 (0 or absent keeps it)." example:"60"`
	Version                  int       `json:"version" readOnly:"true" doc:"Policy version; 0 while the defaults apply." example:"1"`
	UpdatedAt                time.Time `json:"updated_at,omitzero" readOnly:"true" doc:"When the policy last changed." example:"2026-11-30T08:00:00Z"`
}

// DefaultSLAPolicy is the policy of a tenant that has not set one.
var DefaultSLAPolicy = SLAPolicy{
	RouteMinutes: 5, FirstContactMinutes: 120, ResponseMinutes: 1440, CompletionMinutes: 4320,
	CallbackMinutes: 4320, GuidanceCallbackMinutes: 120, ObserveCallbackMinutes: 30, UncertainCallbackMinutes: 180,
	EscalationMinutes: 60, UnreachableCloseAfter: 3,
	VerificationMinutes: 120, UrgentPercent: 50, HighPercent: 75, LowPercent: 150, InstallMinutes: 1440,
	WorkshopWorkingDays: 3, UntestedCallbackMinutes: 120, OnSiteRepairMinutes: 60,
}

// defaultPriorityAndVerification fills the fields a policy may leave out
// (zero) with the defaults.
func (p *SLAPolicy) defaultPriorityAndVerification() {
	d := DefaultSLAPolicy
	for _, f := range []struct {
		v *int
		d int
	}{{&p.VerificationMinutes, d.VerificationMinutes},
		{&p.UrgentPercent, d.UrgentPercent}, {&p.HighPercent, d.HighPercent}, {&p.LowPercent, d.LowPercent},
		{&p.InstallMinutes, d.InstallMinutes}, {&p.WorkshopWorkingDays, d.WorkshopWorkingDays},
		{&p.UntestedCallbackMinutes, d.UntestedCallbackMinutes}, {&p.OnSiteRepairMinutes, d.OnSiteRepairMinutes}} {
		if *f.v == 0 {
			*f.v = f.d
		}
	}
}

// priorityPercent is the share of the policy's intake deadlines a ticket of
// priority gets: urgent and high tickets are due sooner, low ones later.
func (p SLAPolicy) priorityPercent(priority string) int {
	switch priority {
	case "urgent":
		return p.UrgentPercent
	case "high":
		return p.HighPercent
	case "low":
		return p.LowPercent
	}
	return 100
}

// intakeDeadline is an intake SLA's duration for a ticket of priority:
// the policy's minutes scaled by the priority's percentage.
func (p SLAPolicy) intakeDeadline(mins int, priority string) time.Duration {
	pct := p.priorityPercent(priority)
	if pct <= 0 {
		pct = 100
	}
	return time.Duration(mins) * time.Minute * time.Duration(pct) / 100
}

const slaPolicyColumns = `route_minutes, first_contact_minutes, response_minutes, completion_minutes, callback_minutes,
	guidance_callback_minutes, observe_callback_minutes, uncertain_callback_minutes, escalation_minutes,
	unreachable_close_after, version, updated_at, verification_minutes, urgent_percent, high_percent, low_percent, install_minutes,
	workshop_working_days, untested_callback_minutes, on_site_repair_minutes`

func scanSLAPolicy(row pgx.Row) (SLAPolicy, error) {
	var p SLAPolicy
	err := row.Scan(&p.RouteMinutes, &p.FirstContactMinutes, &p.ResponseMinutes, &p.CompletionMinutes, &p.CallbackMinutes,
		&p.GuidanceCallbackMinutes, &p.ObserveCallbackMinutes, &p.UncertainCallbackMinutes, &p.EscalationMinutes,
		&p.UnreachableCloseAfter, &p.Version, &p.UpdatedAt, &p.VerificationMinutes, &p.UrgentPercent, &p.HighPercent, &p.LowPercent, &p.InstallMinutes,
		&p.WorkshopWorkingDays, &p.UntestedCallbackMinutes, &p.OnSiteRepairMinutes)
	return p, err
}

// QueueSLAPolicy queues the read of the tenant's SLA policy into b, into
// p (defaults when unset): LoadSLAPolicy in a caller's batch.
func QueueSLAPolicy(b *pgx.Batch, tenantID string, p *SLAPolicy) {
	b.Queue(slaPolicySQL, tenantID).QueryRow(func(row pgx.Row) (err error) {
		*p, err = policyOrDefault(scanSLAPolicy(row))
		return err
	})
}

// LoadSLAPolicy reads the tenant's SLA policy inside tx (defaults when unset).
func LoadSLAPolicy(ctx context.Context, tx pg.TenantTx) (SLAPolicy, error) {
	return policyOrDefault(scanSLAPolicy(tx.QueryRow(ctx, slaPolicySQL, tx.TenantID)))
}

const slaPolicySQL = `SELECT ` + slaPolicyColumns + ` FROM sla_policies WHERE tenant_id = $1`

// policyOrDefault is the defaults when the tenant has set no policy.
func policyOrDefault(p SLAPolicy, err error) (SLAPolicy, error) {
	if errors.Is(err, pgx.ErrNoRows) {
		return DefaultSLAPolicy, nil
	}
	return p, err
}

func minutes(n int) time.Duration { return time.Duration(n) * time.Minute }

// SLA names a running deadline. The ticket row holds each one's due time
// while it runs (route_due_at, first_contact_due_at, response_due_at,
// completion_due_at, callback_due_at, verification_due_at,
// workshop_due_at) and clears it when it is met.
type SLA string

// The SLAs a ticket runs.
const (
	SLARoute        SLA = "route"
	SLAFirstContact SLA = "first_contact"
	SLAResponse     SLA = "response"
	SLACompletion   SLA = "completion"
	SLACallback     SLA = "callback"
	// SLAVerification runs while the ticket is in needs_info.
	SLAVerification SLA = "verification"
	// SLAWorkshop runs while a repair's unit is at the node (carry_in):
	// from its receipt until it is handed back, the policy's working days
	// (seed 002, 4.2.3: 带回维修站进行修理,修理时间最长不超过3个工作日).
	SLAWorkshop SLA = "workshop"
	// SLAOnSiteRepair is a repair completed in the visit: within the
	// policy's minutes of the visit's check-in (seed 002, 4.2.3: 对于一般性
	// 故障,维修工程师将在1小时内完成维修). It never runs on the ticket: the
	// completion measures it and records its breach (onSiteRepairLate).
	SLAOnSiteRepair SLA = "on_site_repair"
)

// SLAs lists every SLA.
var SLAs = []SLA{SLARoute, SLAFirstContact, SLAResponse, SLACompletion, SLACallback, SLAArrival, SLAVerification, SLAWorkshop,
	SLAOnSiteRepair}

// Column is the ticket column holding the SLA's running deadline.
func (s SLA) Column() string { return string(s) + "_due_at" }

// EscalatedTo names who a breach at level is escalated to.
func EscalatedTo(level int) string {
	switch level {
	case 1:
		return "dispatcher"
	case 2:
		return "node_manager"
	}
	return "brand"
}
