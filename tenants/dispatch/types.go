package dispatch

import (
	"time"

	"github.com/servicenet/servicenet/internal/i18n"
)

// Request describes the job to place.
type Request struct {
	RegionCode    string     // the address's GB/T 2260 district (or city) code
	Latitude      *float64   // the address point, when known (distance scoring)
	Longitude     *float64   //
	Category      string     // product category, e.g. "washer"
	ServiceKind   string     // install, repair, maintenance, carry_in, remote
	RequiredLevel int        // 1-5: minimum technician skill level for the category (0 counts as 1)
	HardFault     bool       // hard faults go up a tier: depots first, then service centers; repair points excluded
	WindowStart   *time.Time // the appointment or the customer's preferred window; nil: the rest of today
	WindowEnd     *time.Time // nil with WindowStart set: only the start must fall in a shift
	// A window over at the decision's now (its end, or its start without
	// an end, not after now) counts as no window: the rest of today.
	// ExcludeNodes and ExcludeTechnicians were rejected earlier on this ticket.
	ExcludeNodes       []string
	ExcludeTechnicians []string
	// Manual dispatch: only this node (and optionally this technician) is
	// chosen if eligible; every other candidate is still listed with scores
	// so the override is explainable. TechnicianID alone dispatches to that
	// technician's node.
	NodeID       string
	TechnicianID string
	// ScopePath, when non-nil, restricts candidates to a subtree (a node
	// manager dispatching; network.Scope.Path()): nodes outside it are
	// neither considered nor listed.
	ScopePath *string
	// TicketID, when set, is the ticket being placed: it is not counted in
	// the loads (a re-dispatch does not compete with itself).
	TicketID string
	// Loaner is a carry-in's need of a loaner of the category: LoanerPreferred
	// ranks nodes holding an available one first within their tier,
	// LoanerRequired excludes the others (no_loaner_available); "" ignores
	// loaners.
	Loaner string
}

// A carry-in's need of a loaner unit.
const (
	LoanerPreferred = "preferred"
	LoanerRequired  = "required"
)

// DispatchDecision is the explained choice.
type DispatchDecision struct {
	NodeID       string                `json:"node_id,omitempty" doc:"The node chosen; absent when no node can take the job." example:"nod_01jd3zq8w6v7t3y2k9x4n5m6pc"`
	TechnicianID string                `json:"technician_id,omitempty" doc:"The technician chosen; absent when the node was chosen but none of its technicians is free (the node assigns later)." example:"tec_01jd3zq8w6v7t3y2k9x4n5m6pd"`
	Tier         string                `json:"tier,omitempty" enum:"manufacturer,service_center,specialist_depot,repair_point" doc:"Tier of the chosen node." example:"repair_point"`
	Nodes        []NodeCandidate       `json:"nodes" doc:"Every node considered, eligible ones best first, then the excluded ones with the rule that excluded them." example:"[]"`
	Technicians  []TechnicianCandidate `json:"technicians" doc:"Technicians of the chosen node and of the runner-up nodes, eligible ones best first, then the excluded ones." example:"[]"`
	Day          string                `json:"day" format:"date" doc:"The day, in the tenant's time zone, loads and capacity were counted for: the window's day; today when there is no window or it was over when the job was placed." example:"2026-11-30"`
	Reason       string                `json:"reason" doc:"One human sentence: why this choice, or why nobody can take the job; in the response's Content-Language (reason_i18n rendered one message after the other), English for decisions made before reason_i18n existed." example:"Repair point Laoshan-3 is the best eligible node (3 of 20 jobs booked on 2026-11-30); technician 王师傅 is on shift with washer level 4 and 1 jobs that day."`
	ReasonI18n   []i18n.Message        `json:"reason_i18n,omitempty" doc:"The reason as message codes (dispatch.*) with their parameters, rendered one after the other; absent on decisions made before it existed." example:"[{\"code\":\"dispatch.best_node\",\"params\":{\"Node\":{\"code\":\"dispatch.node_start.repair_point\",\"params\":{\"Name\":\"Laoshan-3\"}},\"Load\":3,\"Capacity\":20,\"Day\":\"2026-11-30\"}}]"`
}

// setReason records the reason's messages and its English text (what the
// ticket's timeline keeps).
func (d *DispatchDecision) setReason(ms []i18n.Message) {
	d.ReasonI18n, d.Reason = ms, i18n.Join(i18n.English, ms)
}

// Localize renders Reason in lang from ReasonI18n (a decision stored before
// it existed keeps its English text).
func (d *DispatchDecision) Localize(lang string) {
	if len(d.ReasonI18n) > 0 {
		d.Reason = i18n.Join(lang, d.ReasonI18n)
	}
}

// NodeScore is a node's score broken down into named components that sum to
// its score. Tier dominates (one tier step outweighs all the rest), then
// grade, how specifically the node covers the address, free capacity and
// distance.
type NodeScore struct {
	Tier     float64 `json:"tier" doc:"Tier preference: 300 for the preferred tier, 100 less for each step away (repair points first; for hard faults depots, then service centers)." example:"300"`
	Grade    float64 `json:"grade" doc:"Grade A 20, B 16, C 12, D 8, E 4; ungraded 10." example:"16"`
	Region   float64 `json:"region" doc:"Coverage match: 10 when the node covers the address's own code, 5 its city, 0 its province." example:"10"`
	Load     float64 `json:"load" doc:"Free capacity that day: 30 × (capacity − load) / capacity." example:"25.5"`
	Distance float64 `json:"distance" doc:"Nearness to the address: 30 at 0 km falling to 0 at 100 km; 0 when either point is unknown." example:"27"`
	Loaner   float64 `json:"loaner" doc:"For a carry-in that wants a loaner: 95 when the node holds an available loaner of the category (more than grade, coverage, load and distance together, less than a tier step), else 0." example:"0"`
}

// TechnicianScore is a technician's score broken down into named components
// that sum to its score: load dominates (one job more outweighs any
// distance), then distance, then the skill level above the required one.
type TechnicianScore struct {
	Load     float64 `json:"load" doc:"−100 for each job already counted on the technician that day." example:"-100"`
	Distance float64 `json:"distance" doc:"Nearness of the technician's home to the address: 40 at 0 km falling to 0 at 80 km; 0 when either point is unknown." example:"36"`
	Level    float64 `json:"level" doc:"1 for each skill level above the required level." example:"1"`
}

// NodeCandidate is one node considered, with its score or the rule that
// excluded it.
type NodeCandidate struct {
	NodeID           string    `json:"node_id" doc:"Node ID." example:"nod_01jd3zq8w6v7t3y2k9x4n5m6pc"`
	Name             string    `json:"name" doc:"Node name." example:"崂山维修点"`
	Tier             string    `json:"tier" enum:"manufacturer,service_center,specialist_depot,repair_point" doc:"Node tier." example:"repair_point"`
	MatchedRegion    string    `json:"matched_region,omitempty" doc:"The coverage code that matched the address: the district, its city or its province; absent when the node does not cover the address (a manual choice)." example:"370212"`
	Grade            *string   `json:"grade,omitempty" doc:"Node grade A-E, when graded." example:"B"`
	Eligible         bool      `json:"eligible" doc:"Whether the node may take the job." example:"true"`
	ExcludedBy       string    `json:"excluded_by,omitempty" enum:"rejected_earlier,not_active,region_not_covered,service_kind_not_offered,category_not_serviced,hard_fault_needs_higher_tier,no_capacity_today,no_loaner_available" doc:"The rule that excluded the node, when not eligible." example:"no_capacity_today"`
	LoanersAvailable *int      `json:"loaners_available,omitempty" doc:"For a carry-in that wants a loaner: the node's available loaners of the category." example:"2"`
	Score            float64   `json:"score" doc:"Sum of the breakdown; computed for excluded nodes too, for comparison." example:"359.5"`
	Breakdown        NodeScore `json:"breakdown"`
	LoadToday        int       `json:"load_today" doc:"Tickets counted against the node on the decision's day." example:"3"`
	DailyCapacity    int       `json:"daily_capacity" doc:"The node's daily capacity." example:"20"`
	DistanceKM       *float64  `json:"distance_km,omitempty" doc:"Great-circle distance from the node to the address, when both are known." example:"4.2"`
}

// TechnicianCandidate is one technician considered, with the score or the
// rule that excluded them.
type TechnicianCandidate struct {
	TechnicianID  string          `json:"technician_id" doc:"Technician ID." example:"tec_01jd3zq8w6v7t3y2k9x4n5m6pd"`
	NodeID        string          `json:"node_id" doc:"The technician's node." example:"nod_01jd3zq8w6v7t3y2k9x4n5m6pc"`
	Name          string          `json:"name" doc:"Technician name." example:"王师傅"`
	Eligible      bool            `json:"eligible" doc:"Whether the technician may take the job." example:"true"`
	ExcludedBy    string          `json:"excluded_by,omitempty" enum:"rejected_earlier,not_active,licence_invalid,skill_below_required,off_shift,booked_in_window,daily_limit_reached" doc:"The rule that excluded the technician, when not eligible." example:"off_shift"`
	Score         float64         `json:"score" doc:"Sum of the breakdown." example:"-63"`
	Breakdown     TechnicianScore `json:"breakdown"`
	Level         int             `json:"level" doc:"The technician's skill level in the category (0: none)." example:"4"`
	JobsToday     int             `json:"jobs_today" doc:"Tickets counted against the technician on the decision's day." example:"1"`
	DailyJobLimit int             `json:"daily_job_limit" doc:"The technician's daily job limit." example:"8"`
	DistanceKM    *float64        `json:"distance_km,omitempty" doc:"Great-circle distance from the technician's home to the address, when both are known." example:"7.9"`
}
