// Package dispatch decides which node and technician take a service ticket,
// and explains the choice: every node and technician considered is listed
// with a score broken down into named components, or with the rule that
// excluded it. Decide runs inside the caller's tenant transaction and writes
// nothing; the ticket service records the decision.
//
// # Nodes
//
// A node is eligible when, in this order of rules (the first that fails is
// the one reported):
//
//   - it did not reject the ticket earlier (ExcludeNodes) — rejected_earlier;
//   - it is active (not probation, suspended or terminated) — not_active;
//   - it covers the address's region: the district itself, its city or its
//     province (network.RegionAncestors) — region_not_covered (only a node
//     named by a manual dispatch can fail it: the others are found by
//     coverage);
//   - it offers the service kind — service_kind_not_offered;
//   - it services the product category — category_not_serviced;
//   - for a hard fault, it is not a repair point — hard_fault_needs_higher_tier;
//   - it has capacity that day: daily_capacity > its load — no_capacity_today.
//
// Eligible nodes are ranked by score: tier first (repair points, the nearest
// tier and fast local response, then depots, service centers and the
// manufacturer; a hard fault goes up the tiers: depots, then service
// centers, then the manufacturer), then grade, how specifically the node's
// coverage matches the address, free capacity and distance (see NodeScore).
// At most 50 nodes covering the address are considered, the likely
// eligible ones in tier order first. Nodes outside the request's scope
// (ScopePath: a node manager dispatching within their subtree) are neither
// considered nor listed: as everywhere else, an out-of-scope node is
// invisible, and naming one in a manual dispatch is "no such node".
//
// # Technicians
//
// The technicians of the best 3 eligible nodes are considered (at most 500). A
// technician is eligible when:
//
//   - they did not reject the ticket earlier (ExcludeTechnicians) — rejected_earlier;
//   - their status is active — not_active;
//   - their licence is valid on the day: recorded, not marked expired, and
//     expiring on or after the day (no licence is not valid, as in
//     tenants/network) — licence_invalid;
//   - their skill level in the category is at least the required level —
//     skill_below_required;
//   - they are on shift: with a window, the whole window falls inside one of
//     their shifts on the window's weekday (tenant's zone; a window with only
//     a start needs the start inside a shift); without a window (the rest of
//     today), they have a shift today that has not ended at now — off_shift;
//   - with a window (both ends), no other booking of theirs, scheduled or on
//     site, overlaps it (a booking that only touches it does not; seed 000:
//     同其他用户上门时间冲突 → 改约 or 转其他人) — booked_in_window;
//   - their load that day is under their daily job limit — daily_limit_reached.
//
// Eligible technicians are ranked by least load, then distance from their
// home to the address, then skill above the required level (see
// TechnicianScore). The decision takes the best node that has an eligible
// technician among those 3 nodes, with its best technician; when
// none of them has one, it takes the best node without a technician (the
// node assigns one later).
//
// # Load
//
// A ticket counts against a node (technician) on day D when its node_id
// (technician_id) is that node (technician), its state is not cancelled (the
// tickets context's ticket_workload), and its occupies_at falls on D in
// the tenant's time zone: the appointment's day; for a ticket without an
// appointment, its preferred window's day when that window was still ahead
// when the ticket last changed (the day its dispatch placed it on), else
// the day it last changed. D is the day of the request's window (today without one,
// or when the window is over at now: a ticket dispatched again after its
// preferred window passed is placed for the rest of today). The ticket
// being placed (Request.TicketID) is never counted.
//
// # Manual dispatch
//
// With NodeID (and optionally TechnicianID) the decision takes that node
// (technician) when eligible, and fails with tenants.Invalid at
// node_id (technician_id) naming the rule when not (a technician named
// alone: at technician_id, for their node's rules too); everything
// else is still scored and listed, so the override is explainable.
//
// # Cost
//
// Two round trips: the tenant's settings pipelined with the candidate nodes
// and their load (nodes_coverage_idx, tickets_node_idx), then the
// technicians of the top nodes with their load (technicians_node_idx,
// tickets_technician_idx); a manual technician adds one lookup. Distances
// are haversine in Go. A node's load walks the node's ticket history
// (tickets_node_idx has no date): an index on (tenant_id, node_id, the
// expression of ticket_workload.occupies_at) would make it a range scan.
package dispatch

import (
	"cmp"
	"context"
	"math"
	"slices"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/servicenet/servicenet/internal/i18n"
	"github.com/servicenet/servicenet/internal/pg"
	"github.com/servicenet/servicenet/tenants"
	"github.com/servicenet/servicenet/tenants/network"
	"github.com/servicenet/servicenet/tenants/stock"
)

const (
	// maxNodes bounds the nodes covering the address that are considered.
	maxNodes = 50
	// topNodes is how many of the best eligible nodes have their
	// technicians considered.
	topNodes = 3
	// maxTechnicians bounds the technicians read for those nodes.
	maxTechnicians = 500
)

// Node exclusion rules.
const (
	RuleRejectedEarlier       = "rejected_earlier"
	RuleNotActive             = "not_active"
	RuleRegionNotCovered      = "region_not_covered"
	RuleServiceKindNotOffered = "service_kind_not_offered"
	RuleCategoryNotServiced   = "category_not_serviced"
	RuleHardFaultHigherTier   = "hard_fault_needs_higher_tier"
	RuleNoCapacityToday       = "no_capacity_today"
	// RuleNoLoaner: a carry-in that requires a loaner, and the node holds
	// no available loaner of the category.
	RuleNoLoaner = "no_loaner_available"
)

// loanerScore is what an available loaner adds to a node's score for a
// carry-in that wants one: more than grade, region, load and distance can
// add together (90), less than a tier step (100).
const loanerScore = 95

// Technician exclusion rules (RuleRejectedEarlier and RuleNotActive too).
const (
	RuleLicenceInvalid     = "licence_invalid"
	RuleSkillBelowRequired = "skill_below_required"
	RuleOffShift           = "off_shift"
	RuleBookedInWindow     = "booked_in_window" // another customer's booking overlaps the window (seed: 同其他用户上门时间冲突)
	RuleDailyLimitReached  = "daily_limit_reached"
)

// Tiers as stored on nodes.
const (
	tierManufacturer = "manufacturer"
	tierCenter       = "service_center"
	tierDepot        = "specialist_depot"
	tierRepairPoint  = "repair_point"
)

var (
	tierOrder          = []string{tierRepairPoint, tierDepot, tierCenter, tierManufacturer}
	hardFaultTierOrder = []string{tierDepot, tierCenter, tierManufacturer}
)

// Dispatch owns no table: it reads what the network, tickets and identity
// contexts export for it in SQL (migration 043), so that each query stays
// one statement in the round trips above: node_profiles and
// technician_profiles (network), ticket_workload (tickets: the tickets
// that are not cancelled) and tenant_day (identity: the bounds of the
// tenant's day). The views are inlined by the planner: the plans are those
// of the tables and their indexes.

// NodesSQL reads the candidate nodes with their load on the day: $1 tenant,
// $2 region codes (the address's, its city's, its province's), $3 tier
// preference, $4 category, $5 service kind, $6 scope path or NULL, $7 nodes
// rejected earlier, $8 an instant on the day (its day is taken in the
// tenant's zone, so this query can share a round trip with the tenant's
// settings), $9 the ticket being placed or ”, $10 a manually chosen node or
// ”. Exported so the benchmark can check its plan.
var NodesSQL = `
WITH day AS (
  SELECT first, next FROM tenant_day($8::timestamptz)
), picked AS (
  (SELECT id FROM node_profiles
   WHERE tenant_id = $1 AND coverage && $2::text[] AND ($6::ltree IS NULL OR path <@ $6::ltree)
   ORDER BY (status = 'active' AND $4 = ANY (categories) AND $5 = ANY (service_kinds)
             AND id <> ALL ($7::text[])) DESC,
            COALESCE(array_position($3::text[], tier), 99), grade NULLS LAST, id
   LIMIT ` + strconv.Itoa(maxNodes) + `)
  UNION
  SELECT id FROM node_profiles WHERE tenant_id = $1 AND id = $10 AND ($6::ltree IS NULL OR path <@ $6::ltree)
)
SELECT n.id, n.name, n.tier, n.grade, n.status, n.coverage,
       $4 = ANY (n.categories), $5 = ANY (n.service_kinds), n.daily_capacity, n.latitude, n.longitude,
       (SELECT count(*) FROM ticket_workload k
        WHERE k.tenant_id = $1 AND k.node_id = n.id AND k.ticket_id <> $9
          AND k.occupies_at >= (SELECT first FROM day)
          AND k.occupies_at < (SELECT next FROM day))::int
FROM picked p JOIN node_profiles n ON n.tenant_id = $1 AND n.id = p.id`

// TechniciansSQL reads the technicians of some nodes with their load on the
// day and whether another booking (scheduled or on site) overlaps the
// window: $1 tenant, $2 node IDs, $3 category, $4 the day, $5 and $6 the
// day's bounds, $7 the ticket being placed or ”, $8 and $9 the window
// (NULL: no window, no booking to check). Exported so the benchmark can
// check its plan.
var TechniciansSQL = `
SELECT t.id, t.node_id, t.name, t.status, COALESCE((t.skills ->> $3)::int, 0),
       COALESCE(t.licence_valid_through >= $4::date, false),
       t.shifts, t.daily_job_limit, t.home_latitude, t.home_longitude,
       ((SELECT count(*) FROM ticket_workload k
         WHERE k.tenant_id = $1 AND k.technician_id = t.id AND k.ticket_id <> $7
           AND k.window_start >= $5 AND k.window_start < $6)
      + (SELECT count(*) FROM ticket_workload k
         WHERE k.tenant_id = $1 AND k.technician_id = t.id AND k.ticket_id <> $7
           AND k.window_start IS NULL AND k.occupies_at >= $5 AND k.occupies_at < $6))::int,
       ($8::timestamptz IS NOT NULL AND EXISTS (SELECT FROM ticket_workload k
         WHERE k.tenant_id = $1 AND k.technician_id = t.id AND k.ticket_id <> $7
           AND k.state IN ('scheduled', 'on_site') AND k.window_start IS NOT NULL
           AND tstzrange(k.window_start, k.window_end) && tstzrange($8::timestamptz, $9::timestamptz)))
FROM technician_profiles t
WHERE t.tenant_id = $1 AND t.node_id = ANY ($2::text[])
ORDER BY t.status = 'active' DESC, t.node_id, t.id
LIMIT ` + strconv.Itoa(maxTechnicians)

// window is the time the job must be done in, in the tenant's zone.
type window struct {
	start, end time.Time
	hasEnd     bool
	restOfDay  bool // no window given: the rest of today from start (now)
}

// Decide considers the candidates inside tx and returns the decision. It
// writes nothing.
func Decide(ctx context.Context, tx pg.TenantTx, now time.Time, r Request) (DispatchDecision, error) {
	ancestors := network.RegionAncestors(r.RegionCode)
	if err := checkRequest(r, ancestors); err != nil {
		return DispatchDecision{}, err
	}
	required := max(r.RequiredLevel, 1)
	if windowOver(r, now) {
		// The window no longer says when the job is done (a ticket
		// dispatched again after its preferred window passed): the rest
		// of today, judged on today's licences, shifts and loads.
		r.WindowStart, r.WindowEnd = nil, nil
	}
	// viaTechnician: the node is the named technician's, not one the
	// caller named; its refusal names technician_id, the field given.
	viaTechnician := r.TechnicianID != "" && r.NodeID == ""
	if r.TechnicianID != "" {
		nodeID, err := technicianNode(ctx, tx, r)
		if err != nil {
			return DispatchDecision{}, err
		}
		r.NodeID = nodeID
	}
	tiers := tierOrder
	if r.HardFault {
		tiers = hardFaultTierOrder
	}
	settings, nodes, err := readNodes(ctx, tx, now, r, tiers, ancestors)
	if err != nil {
		return DispatchDecision{}, err
	}
	if r.Loaner != "" {
		if err := weighLoaners(ctx, tx, r, nodes); err != nil {
			return DispatchDecision{}, err
		}
	}
	w, err := windowOf(r, now, settings.Location)
	if err != nil {
		return DispatchDecision{}, err
	}
	dayStart, dayEnd := dayOf(w.start)
	day := dayStart.Format(time.DateOnly)

	sortNodes(nodes)
	d := DispatchDecision{Nodes: nodes, Technicians: []TechnicianCandidate{}, Day: day}
	manual, err := manualNode(nodes, r, day, viaTechnician)
	if err != nil {
		return DispatchDecision{}, err
	}
	top := topNodesOf(nodes, manual)
	if len(top) == 0 {
		d.setReason(noNodeReason(nodes, r, day))
		return d, nil
	}

	techs, err := readTechnicians(ctx, tx, r, top, required, w, dayStart, dayEnd)
	if err != nil {
		return DispatchDecision{}, err
	}
	d.Technicians = techs
	chosen, tech, skipped := choose(top, techs, manual != nil)
	if r.TechnicianID != "" {
		if tech, err = manualTechnician(techs, r, required, day); err != nil {
			return DispatchDecision{}, err
		}
	}
	d.NodeID, d.Tier = chosen.NodeID, chosen.Tier
	if tech != nil {
		d.TechnicianID = tech.TechnicianID
	}
	d.setReason(append(chosenReason(chosen, tech, techs, top, skipped, manual != nil, r, day), loanerNote(chosen, r)...))
	return d, nil
}

// checkRequest validates the request before anything is read; ancestors
// are the address's region codes (nil: not a district code).
func checkRequest(r Request, ancestors []string) error {
	v := &tenants.Validation{}
	if ancestors == nil {
		v.AddMsg("address.region_code", i18n.M("dispatch.region_code_needed"), r.RegionCode)
	}
	if r.Category == "" {
		v.AddMsg("category", i18n.M("dispatch.category_needed"), nil)
	}
	if r.ServiceKind == "" {
		v.AddMsg("service_kind", i18n.M("dispatch.service_kind_needed"), nil)
	}
	if r.RequiredLevel < 0 || r.RequiredLevel > network.MaxSkillLevel {
		v.AddMsg("required_level", i18n.M("common.range", "Min", 1, "Max", 5), r.RequiredLevel)
	}
	if (r.Latitude == nil) != (r.Longitude == nil) {
		v.AddMsg("address.longitude", i18n.M("common.lat_lng_together"), nil)
	}
	if r.WindowStart != nil && r.WindowEnd != nil && !r.WindowEnd.After(*r.WindowStart) {
		v.AddMsg("window_end", i18n.M("dispatch.after_window_start_field"), r.WindowEnd)
	}
	if r.NodeID != "" && !tenants.ValidID(tenants.PrefixNode, r.NodeID) {
		v.AddMsg("node_id", i18n.M("common.no_such_node"), r.NodeID)
	}
	if r.TechnicianID != "" && !tenants.ValidID(tenants.PrefixTechnician, r.TechnicianID) {
		v.AddMsg("technician_id", i18n.M("common.no_such_technician"), r.TechnicianID)
	}
	return v.Err()
}

// technicianNode is the node of the manually chosen technician, which must
// be the manually chosen node when both are named.
func technicianNode(ctx context.Context, tx pg.TenantTx, r Request) (string, error) {
	nodeID, found, err := network.NodeOfTechnicianTx(ctx, tx, r.TechnicianID)
	if err != nil {
		return "", err
	}
	if !found {
		return "", tenants.InvalidMsg("technician_id", i18n.M("common.no_such_technician"), r.TechnicianID)
	}
	if r.NodeID != "" && r.NodeID != nodeID {
		return "", tenants.InvalidMsg("technician_id", i18n.M("dispatch.technician_other_node", "Node", nodeID), r.TechnicianID)
	}
	return nodeID, nil
}

// readNodes reads the tenant's settings and the scored candidate nodes in
// one round trip. The day is the window's (today without one) in the
// tenant's zone: the nodes query takes the day from the same zone.
func readNodes(ctx context.Context, tx pg.TenantTx, now time.Time, r Request, tiers, ancestors []string) (
	pg.TenantSettings, []NodeCandidate, error) {
	excluded := r.ExcludeNodes
	if excluded == nil {
		excluded = []string{}
	}
	at := now
	if r.WindowStart != nil {
		at = *r.WindowStart
	}
	var (
		settings pg.TenantSettings
		nodes    []NodeCandidate
	)
	batch := &pgx.Batch{}
	pg.QueueSettings(batch, &settings)
	batch.Queue(NodesSQL, tx.TenantID, ancestors, tiers, r.Category, r.ServiceKind, r.ScopePath,
		excluded, at, r.TicketID, r.NodeID).Query(func(rows pgx.Rows) error {
		var err error
		nodes, err = pgx.CollectRows(rows, func(row pgx.CollectableRow) (NodeCandidate, error) {
			return scanNode(row, r, tiers, ancestors)
		})
		return err
	})
	err := tx.SendBatch(ctx, batch).Close()
	return settings, nodes, err
}

// scanNode reads a row of NodesSQL into a scored candidate, with the first
// rule that excludes it.
func scanNode(row pgx.Row, r Request, tiers, ancestors []string) (NodeCandidate, error) {
	var (
		n                     NodeCandidate
		status                string
		coverage              []string
		category, serviceKind bool
		lat, lon              *float64
	)
	if err := row.Scan(&n.NodeID, &n.Name, &n.Tier, &n.Grade, &status, &coverage, &category, &serviceKind,
		&n.DailyCapacity, &lat, &lon, &n.LoadToday); err != nil {
		return n, err
	}
	for _, a := range ancestors { // most specific first
		if slices.Contains(coverage, a) {
			n.MatchedRegion = a
			break
		}
	}
	if lat != nil && lon != nil && r.Latitude != nil && r.Longitude != nil {
		d := round(haversineKM(*lat, *lon, *r.Latitude, *r.Longitude), 10)
		n.DistanceKM = &d
	}
	n.Breakdown = nodeScore(n, tiers, ancestors)
	b := n.Breakdown
	n.Score = round(b.Tier+b.Grade+b.Region+b.Load+b.Distance, 100)
	switch {
	case slices.Contains(r.ExcludeNodes, n.NodeID):
		n.ExcludedBy = RuleRejectedEarlier
	case status != "active":
		n.ExcludedBy = RuleNotActive
	case n.MatchedRegion == "":
		n.ExcludedBy = RuleRegionNotCovered
	case !serviceKind:
		n.ExcludedBy = RuleServiceKindNotOffered
	case !category:
		n.ExcludedBy = RuleCategoryNotServiced
	case r.HardFault && n.Tier == tierRepairPoint:
		n.ExcludedBy = RuleHardFaultHigherTier
	case n.LoadToday >= n.DailyCapacity:
		n.ExcludedBy = RuleNoCapacityToday
	}
	n.Eligible = n.ExcludedBy == ""
	return n, nil
}

// windowOver reports whether the request's window is over at now: its end
// (its start, without an end) is not after now.
func windowOver(r Request, now time.Time) bool {
	switch {
	case r.WindowEnd != nil:
		return !r.WindowEnd.After(now)
	case r.WindowStart != nil:
		return !r.WindowStart.After(now)
	}
	return false
}

// windowOf is the request's window in the tenant's zone loc; without one,
// the rest of today from now.
func windowOf(r Request, now time.Time, loc *time.Location) (window, error) {
	w := window{start: now.In(loc), restOfDay: r.WindowStart == nil && r.WindowEnd == nil}
	if r.WindowStart != nil {
		w.start = r.WindowStart.In(loc)
	}
	if r.WindowEnd != nil {
		w.end, w.hasEnd = r.WindowEnd.In(loc), true
		if !w.end.After(w.start) {
			return w, tenants.InvalidMsg("window_end", i18n.M("dispatch.after_window_start"), r.WindowEnd)
		}
	}
	return w, nil
}

// dayOf is the bounds of the calendar day of t, in t's zone.
func dayOf(t time.Time) (first, next time.Time) {
	first = time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, t.Location())
	return first, first.AddDate(0, 0, 1)
}

// sortNodes orders candidates eligible first, then by score, then by id.
func sortNodes(nodes []NodeCandidate) {
	slices.SortFunc(nodes, func(a, b NodeCandidate) int {
		if a.Eligible != b.Eligible {
			if a.Eligible {
				return -1
			}
			return 1
		}
		return cmp.Or(cmp.Compare(b.Score, a.Score), cmp.Compare(a.NodeID, b.NodeID))
	})
}

// manualNode is the manually chosen node among the candidates (nil without
// one); it is invalid when not listed (out of scope or absent) or excluded,
// at node_id, or at technician_id when the node is that of a technician
// named alone (viaTechnician: an out-of-scope one is no such technician).
func manualNode(nodes []NodeCandidate, r Request, day string, viaTechnician bool) (*NodeCandidate, error) {
	if r.NodeID == "" {
		return nil, nil
	}
	loc, value := "node_id", r.NodeID
	if viaTechnician {
		loc, value = "technician_id", r.TechnicianID
	}
	i := slices.IndexFunc(nodes, func(n NodeCandidate) bool { return n.NodeID == r.NodeID })
	if i < 0 {
		if viaTechnician {
			return nil, tenants.InvalidMsg(loc, i18n.M("common.no_such_technician"), value)
		}
		return nil, tenants.InvalidMsg(loc, i18n.M("common.no_such_node"), value)
	}
	manual := &nodes[i]
	if !manual.Eligible {
		return nil, tenants.InvalidMsg(loc,
			i18n.M("dispatch.excluded_node", "Rule", manual.ExcludedBy, "Reason", nodeRuleText(manual.ExcludedBy, r, day)), value)
	}
	return manual, nil
}

// topNodesOf is the nodes whose technicians are considered, best first:
// the manual one, then up to topNodes of the best eligible others.
func topNodesOf(nodes []NodeCandidate, manual *NodeCandidate) []NodeCandidate {
	var top []NodeCandidate
	if manual != nil {
		top = append(top, *manual)
	}
	for _, n := range nodes {
		if len(top) >= topNodes+btoi(manual != nil) || !n.Eligible {
			break
		}
		if manual == nil || n.NodeID != manual.NodeID {
			top = append(top, n)
		}
	}
	return top
}

// readTechnicians reads the technicians of the top nodes with their load
// on the day [dayStart, dayEnd), scored, with the first rule that excludes
// each, sorted eligible first, then by score and the node's rank in top.
func readTechnicians(ctx context.Context, tx pg.TenantTx, r Request, top []NodeCandidate, required int, w window,
	dayStart, dayEnd time.Time) ([]TechnicianCandidate, error) {
	ids := make([]string, len(top))
	for i, n := range top {
		ids[i] = n.NodeID
	}
	// The window's bookings: a window with both ends (the rest of today
	// books no slot yet).
	var from, to *time.Time
	if w.hasEnd && !w.restOfDay {
		from, to = &w.start, &w.end
	}
	rows, err := tx.Query(ctx, TechniciansSQL, tx.TenantID, ids, r.Category, dayStart.Format(time.DateOnly), dayStart, dayEnd, r.TicketID,
		from, to)
	if err != nil {
		return nil, err
	}
	techs, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (TechnicianCandidate, error) {
		return scanTechnician(row, r, required, w)
	})
	if err != nil {
		return nil, err
	}
	rank := make(map[string]int, len(top))
	for i, n := range top {
		rank[n.NodeID] = i
	}
	slices.SortFunc(techs, func(a, b TechnicianCandidate) int {
		if a.Eligible != b.Eligible {
			if a.Eligible {
				return -1
			}
			return 1
		}
		return cmp.Or(cmp.Compare(b.Score, a.Score), cmp.Compare(rank[a.NodeID], rank[b.NodeID]),
			cmp.Compare(a.TechnicianID, b.TechnicianID))
	})
	return techs, nil
}

// scanTechnician reads a row of TechniciansSQL into a scored candidate,
// with the first rule that excludes it.
func scanTechnician(row pgx.Row, r Request, required int, w window) (TechnicianCandidate, error) {
	var (
		t              TechnicianCandidate
		status         string
		licenceOK      bool
		shifts         []network.Shift
		homeLat, homeL *float64
		booked         bool
	)
	if err := row.Scan(&t.TechnicianID, &t.NodeID, &t.Name, &status, &t.Level, &licenceOK, &shifts,
		&t.DailyJobLimit, &homeLat, &homeL, &t.JobsToday, &booked); err != nil {
		return t, err
	}
	if homeLat != nil && homeL != nil && r.Latitude != nil && r.Longitude != nil {
		km := round(haversineKM(*homeLat, *homeL, *r.Latitude, *r.Longitude), 10)
		t.DistanceKM = &km
	}
	t.Breakdown = technicianScore(t, required)
	b := t.Breakdown
	t.Score = round(b.Load+b.Distance+b.Level, 100)
	switch {
	case slices.Contains(r.ExcludeTechnicians, t.TechnicianID):
		t.ExcludedBy = RuleRejectedEarlier
	case status != string(network.TechnicianActive):
		t.ExcludedBy = RuleNotActive
	case !licenceOK:
		t.ExcludedBy = RuleLicenceInvalid
	case t.Level < required:
		t.ExcludedBy = RuleSkillBelowRequired
	case !onShift(shifts, w):
		t.ExcludedBy = RuleOffShift
	case booked:
		t.ExcludedBy = RuleBookedInWindow
	case t.JobsToday >= t.DailyJobLimit:
		t.ExcludedBy = RuleDailyLimitReached
	}
	t.Eligible = t.ExcludedBy == ""
	return t, nil
}

// choose picks the node: the manual one (first of top), else the best of
// top with an eligible technician, else the best of top; with its best
// eligible technician (nil: none). skipped counts the better nodes passed
// over for want of a technician.
func choose(top []NodeCandidate, techs []TechnicianCandidate, manual bool) (chosen NodeCandidate, tech *TechnicianCandidate, skipped int) {
	best := func(nodeID string) *TechnicianCandidate {
		for i := range techs {
			if techs[i].NodeID == nodeID && techs[i].Eligible {
				return &techs[i]
			}
		}
		return nil
	}
	chosen = top[0]
	tech = best(chosen.NodeID)
	if !manual && tech == nil {
		for i, n := range top[1:] {
			if t := best(n.NodeID); t != nil {
				return n, t, i + 1
			}
		}
	}
	return chosen, tech, 0
}

// manualTechnician is the manually chosen technician among the candidates;
// it is invalid when not listed or excluded.
func manualTechnician(techs []TechnicianCandidate, r Request, required int, day string) (*TechnicianCandidate, error) {
	i := slices.IndexFunc(techs, func(t TechnicianCandidate) bool { return t.TechnicianID == r.TechnicianID })
	if i < 0 {
		return nil, tenants.InvalidMsg("technician_id", i18n.M("common.no_such_technician"), r.TechnicianID)
	}
	if !techs[i].Eligible {
		return nil, tenants.InvalidMsg("technician_id",
			i18n.M("dispatch.excluded_technician", "Rule", techs[i].ExcludedBy, "Reason", techRuleText(techs[i], r, required, day)), r.TechnicianID)
	}
	return &techs[i], nil
}

// weighLoaners counts each candidate node's available loaners of the
// category (one round trip, carry-ins only), adds the loaner score, and for
// a required loaner excludes the eligible nodes that hold none.
func weighLoaners(ctx context.Context, tx pg.TenantTx, r Request, nodes []NodeCandidate) error {
	ids := make([]string, len(nodes))
	for i, n := range nodes {
		ids[i] = n.NodeID
	}
	counts, err := stock.AvailableLoanersTx(ctx, tx, ids, r.Category)
	if err != nil {
		return err
	}
	for i := range nodes {
		n := &nodes[i]
		c := counts[n.NodeID]
		n.LoanersAvailable = &c
		if c > 0 {
			n.Breakdown.Loaner = loanerScore
			n.Score = round(n.Score+loanerScore, 100)
		} else if r.Loaner == LoanerRequired && n.Eligible {
			n.ExcludedBy, n.Eligible = RuleNoLoaner, false
		}
	}
	return nil
}

func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}

func nodeScore(n NodeCandidate, tiers, ancestors []string) NodeScore {
	var s NodeScore
	if i := slices.Index(tiers, n.Tier); i >= 0 {
		s.Tier = float64(300 - 100*i)
	}
	s.Grade = 10
	if n.Grade != nil && len(*n.Grade) == 1 && (*n.Grade)[0] >= 'A' && (*n.Grade)[0] <= 'E' {
		s.Grade = float64(20 - 4*int((*n.Grade)[0]-'A'))
	}
	if i := slices.Index(ancestors, n.MatchedRegion); i >= 0 {
		s.Region = float64(max(0, 10-5*i))
	}
	if n.DailyCapacity > 0 {
		s.Load = round(30*float64(max(0, n.DailyCapacity-n.LoadToday))/float64(n.DailyCapacity), 100)
	}
	if n.DistanceKM != nil {
		s.Distance = round(30*math.Max(0, 1-*n.DistanceKM/100), 100)
	}
	return s
}

func technicianScore(t TechnicianCandidate, required int) TechnicianScore {
	s := TechnicianScore{Load: float64(-100 * t.JobsToday), Level: float64(max(0, t.Level-required))}
	if t.DistanceKM != nil {
		s.Distance = round(40*math.Max(0, 1-*t.DistanceKM/80), 100)
	}
	return s
}

// FitsShift reports whether the window start–end, both in the tenant's
// zone, lies wholly inside one of the shifts on its weekday: the rule
// dispatch applies (off_shift) and an appointment must keep.
func FitsShift(shifts []network.Shift, start, end time.Time) bool {
	return onShift(shifts, window{start: start, end: end.In(start.Location()), hasEnd: true})
}

// onShift reports whether the window fits one of the shifts (tenant's zone).
func onShift(shifts []network.Shift, w window) bool {
	weekday := int(w.start.Weekday())
	if weekday == 0 {
		weekday = 7 // ISO: Sunday is 7
	}
	start := w.start.Hour()*60 + w.start.Minute()
	end := -1
	if w.hasEnd {
		y, m, d := w.start.Date()
		ey, em, ed := w.end.Date()
		end = w.end.Hour()*60 + w.end.Minute()
		if w.end.Second() > 0 || w.end.Nanosecond() > 0 {
			end++
		}
		if ey != y || em != m || ed != d {
			// Only a window ending at the next midnight stays on one day.
			if end != 0 || !time.Date(y, m, d+1, 0, 0, 0, 0, w.start.Location()).Equal(w.end) {
				return false
			}
			end = 24 * 60
		}
	}
	for _, sh := range shifts {
		if sh.Weekday != weekday {
			continue
		}
		from, okFrom := minutes(sh.Start)
		to, okTo := minutes(sh.End)
		if !okFrom || !okTo {
			continue
		}
		switch {
		case w.restOfDay:
			if to > start {
				return true
			}
		case w.hasEnd:
			if from <= start && end <= to {
				return true
			}
		default:
			if from <= start && start < to {
				return true
			}
		}
	}
	return false
}

// minutes parses HH:MM into minutes after midnight.
func minutes(hhmm string) (int, bool) {
	t, err := time.Parse("15:04", hhmm)
	if err != nil {
		return 0, false
	}
	return t.Hour()*60 + t.Minute(), true
}

// haversineKM is the great-circle distance between two points in km.
func haversineKM(lat1, lon1, lat2, lon2 float64) float64 {
	const earthRadiusKM = 6371.0088
	rad := math.Pi / 180
	dLat, dLon := (lat2-lat1)*rad, (lon2-lon1)*rad
	a := math.Sin(dLat/2)*math.Sin(dLat/2) + math.Cos(lat1*rad)*math.Cos(lat2*rad)*math.Sin(dLon/2)*math.Sin(dLon/2)
	return 2 * earthRadiusKM * math.Asin(math.Min(1, math.Sqrt(a)))
}

func round(x, per float64) float64 { return math.Round(x*per) / per }
