package quality

import (
	"context"
	"encoding/json"
	"errors"
	"slices"
	"sort"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/servicenet/servicenet/internal/i18n"
	"github.com/servicenet/servicenet/internal/pg"
	"github.com/servicenet/servicenet/tenants"
	"github.com/servicenet/servicenet/tenants/events"
	"github.com/servicenet/servicenet/tenants/network"
)

// Event types of grading.
const (
	TypeGradingPolicyUpdated = "grading_policy.updated"
	TypeGradeProposed        = "grade.proposed"
	TypeGradeApproved        = "grade.approved"
	TypeGradeRejected        = "grade.rejected"
	TypeGradeAppealed        = "grade.appealed"
	TypeGradeAppealDecided   = "grade.appeal_decided"
	TypeScorecardReady       = "scorecard.ready"
)

// Consequences a grade can carry.
var Consequences = []string{"none", "promotion", "demotion", "probation", "suspension", "termination"}

// Indicator is one weighted KPI of a grading policy. Its value is
// normalised between worst (0) and best (1), clamped, then weighted:
// best may be lower than worst for indicators where lower is better. A KPI
// without data in the period does not count (score).
type Indicator struct {
	KPI    string  `json:"kpi" doc:"A scorecard indicator name." example:"first_time_fix_rate"`
	Weight int     `json:"weight" minimum:"1" maximum:"1000" doc:"Its share of total_weight. When a KPI has no data in the period (null: no ticket in its denominator) it is left out and the others' weights are scaled up to total_weight; with no data for any indicator, there is no score (not graded or levelled)." example:"40"`
	Best   float64 `json:"best" doc:"The value that earns the whole weight." example:"1"`
	Worst  float64 `json:"worst" doc:"The value that earns nothing." example:"0.5"`
}

// GradeThreshold is the lowest score that earns a grade.
type GradeThreshold struct {
	Grade    string  `json:"grade" enum:"A,B,C,D,E" example:"A"`
	MinScore float64 `json:"min_score" minimum:"0" doc:"On the policy's total_weight scale." example:"90"`
}

// GradingPolicy is the tenant's versioned grading policy.
type GradingPolicy struct {
	Version      int               `json:"version" readOnly:"true" doc:"Increases with every change; the ETag is \"v<version>\" (v0: no policy yet)." example:"1"`
	TotalWeight  int               `json:"total_weight" minimum:"1" maximum:"1000" doc:"What the indicators' weights must sum to; scores run from 0 to it." example:"100"`
	Indicators   []Indicator       `json:"indicators" minItems:"1" maxItems:"20"`
	Grades       []GradeThreshold  `json:"grades" minItems:"1" maxItems:"5" doc:"One threshold per grade; a node scoring below every threshold gets the lowest grade listed."`
	MinTickets   int64             `json:"min_tickets" minimum:"0" doc:"A node with fewer tickets in the period is not graded." example:"20"`
	Consequences map[string]string `json:"consequences,omitempty" doc:"Per grade, the consequence a proposal of it carries (promotion, demotion, probation, suspension, termination); without one, a better grade than the current is a promotion, a worse one a demotion. Approving a suspension suspends the node (dispatch sends it no work) and an overturned appeal reactivates it; a termination suspends it until a person terminates it after the appeal window (POST /v1/network/nodes/{node_id}/status, once its technicians have left)." example:"{\"E\":\"suspension\"}"`
	AppealDays   int               `json:"appeal_days" minimum:"0" maximum:"90" doc:"Days after an approval during which the node may appeal." example:"7"`
	MaxRangeDays int               `json:"max_range_days" minimum:"1" maximum:"3660" doc:"The longest date range a scorecard or ranking may cover." example:"366"`
	UpdatedAt    *time.Time        `json:"updated_at,omitempty" readOnly:"true" example:"2026-11-30T10:00:00+08:00"`
}

func (pol *GradingPolicy) stamp(version int, at time.Time) { pol.Version, pol.UpdatedAt = version, &at }

func currentPolicy(ctx context.Context, tx pg.TenantTx) (GradingPolicy, bool, error) {
	return currentOf[GradingPolicy](ctx, tx, nodeGrades)
}

// GradingPolicy reads the current policy; without one it is not found.
func (s *Service) GradingPolicy(ctx context.Context, p tenants.Principal) (GradingPolicy, error) {
	return readPolicy(ctx, s, p, "grading policy", currentPolicy)
}

// validatePolicy names every bad field of in (locations under body.).
func validatePolicy(in GradingPolicy) error {
	v := &tenants.Validation{}
	validateIndicators(v, in.Indicators, in.TotalWeight)
	grades := map[string]bool{}
	for i, g := range in.Grades {
		loc := "grades[" + strconv.Itoa(i) + "]"
		if !slices.Contains(network.Grades, g.Grade) {
			v.AddMsg(loc+".grade", i18n.M("common.one_of", "Values", "A, B, C, D, E"), g.Grade)
		} else if grades[g.Grade] {
			v.AddMsg(loc+".grade", i18n.M("quality.listed_once"), g.Grade)
		}
		grades[g.Grade] = true
		if g.MinScore > float64(in.TotalWeight) {
			v.AddMsg(loc+".min_score", i18n.M("quality.at_most_total_weight"), g.MinScore)
		}
	}
	for g, c := range in.Consequences {
		if !grades[g] {
			v.AddMsg("consequences."+g, i18n.M("quality.grade_in_policy"), g)
		} else if !slices.Contains(Consequences, c) {
			v.AddMsg("consequences."+g, i18n.M("common.one_of", "Values", "none, promotion, demotion, probation, suspension, termination"), c)
		}
	}
	return v.Err()
}

// SetGradingPolicy stores a new version of the policy. ifVersion is the
// version the caller read (0: there was none); another is precondition_failed.
func (s *Service) SetGradingPolicy(ctx context.Context, p tenants.Principal, in GradingPolicy, ifVersion int) (GradingPolicy, error) {
	if err := validatePolicy(in); err != nil {
		return GradingPolicy{}, err
	}
	sort.SliceStable(in.Grades, func(i, j int) bool { return in.Grades[i].MinScore > in.Grades[j].MinScore })
	in.UpdatedAt = nil
	return putPolicy(ctx, s, p, nodeGrades, ifVersion, in, currentPolicy)
}

// IndicatorScore is one indicator of a proposal.
type IndicatorScore struct {
	KPI         string   `json:"kpi" example:"first_time_fix_rate"`
	Weight      int      `json:"weight" example:"40"`
	Value       *float64 `json:"value" doc:"The KPI's value in the period; null when it has no data (no ticket in its denominator, e.g. no repair for first_time_fix_rate): it is left out of the score, not scored 0." example:"0.75"`
	Numerator   int64    `json:"numerator" example:"3"`
	Denominator int64    `json:"denominator" example:"4"`
	Points      *float64 `json:"points" doc:"The indicator's share of the score: weight × the value normalised between worst and best, re-weighted over the indicators with data (× the policy's total weight / the weights of the indicators with data, 1 when all have data); the score is the sum of the points. null when value is null. Proposals made before this rule show 0 for an indicator without data (it was scored 0 then)." example:"20"`
}

// Proposal is a grade change the grading job proposes for a person to decide.
type Proposal struct {
	ID            string           `json:"id" example:"grp_01jd3zq8w6v7t3y2k9x4n5m6pn"`
	RunID         string           `json:"run_id" example:"grr_01jd3zq8w6v7t3y2k9x4n5m6pn"`
	NodeID        string           `json:"node_id" example:"nod_01jd3zq8w6v7t3y2k9x4n5m6pn"`
	PeriodFrom    string           `json:"period_from" format:"date" example:"2026-11-01"`
	PeriodTo      string           `json:"period_to" format:"date" example:"2026-11-30"`
	PolicyVersion int              `json:"policy_version" example:"1"`
	Score         float64          `json:"score" doc:"On the policy's total_weight scale: the sum of the indicators' points, over the indicators with data in the period (an indicator without data neither earns nor costs anything)." example:"82.5"`
	Indicators    []IndicatorScore `json:"indicators"`
	Tickets       int64            `json:"tickets" example:"120"`
	CurrentGrade  *string          `json:"current_grade,omitempty" example:"B"`
	ProposedGrade string           `json:"proposed_grade" example:"A"`
	Consequence   string           `json:"consequence" enum:"none,promotion,demotion,probation,suspension,termination" example:"promotion"`
	State         string           `json:"state" enum:"proposed,approved,rejected,appealed,upheld,overturned" example:"proposed"`
	DecidedBy     *string          `json:"decided_by,omitempty"`
	DecidedAt     *time.Time       `json:"decided_at,omitempty"`
	Reason        *string          `json:"reason,omitempty"`
	AppealUntil   *time.Time       `json:"appeal_until,omitempty" doc:"The node may appeal an approval until then."`
	Appeal        *Appeal          `json:"appeal,omitempty"`
	Version       int              `json:"version" example:"1"`
	CreatedAt     time.Time        `json:"created_at"`
}

// Appeal is a node's appeal against an approved grade and its decision.
type Appeal struct {
	Reason       string     `json:"reason"`
	FiledBy      string     `json:"filed_by"`
	FiledAt      time.Time  `json:"filed_at"`
	Decision     *string    `json:"decision,omitempty" enum:"upheld,overturned"`
	DecisionNote *string    `json:"decision_note,omitempty"`
	DecidedBy    *string    `json:"decided_by,omitempty"`
	DecidedAt    *time.Time `json:"decided_at,omitempty"`
}

// GradingRun is the result of grading the network for a period.
type GradingRun struct {
	ID            string     `json:"id" example:"grr_01jd3zq8w6v7t3y2k9x4n5m6pn"`
	PeriodFrom    string     `json:"period_from" format:"date" example:"2026-11-01"`
	PeriodTo      string     `json:"period_to" format:"date" example:"2026-11-30"`
	PolicyVersion int        `json:"policy_version" example:"1"`
	Graded        int        `json:"graded" doc:"Nodes given a proposal." example:"12"`
	Skipped       int        `json:"skipped" doc:"Nodes below the policy's min_tickets, or with no data in the period for any of the policy's indicators (not graded)." example:"3"`
	Proposals     []Proposal `json:"proposals"`
}

func gradeFor(pol GradingPolicy, s float64) string {
	for _, g := range pol.Grades { // sorted best first
		if s >= g.MinScore {
			return g.Grade
		}
	}
	return pol.Grades[len(pol.Grades)-1].Grade
}

func consequence(pol GradingPolicy, cur *string, next string) string {
	if c, ok := pol.Consequences[next]; ok {
		return c
	}
	if cur == nil || *cur == next {
		return "none"
	}
	if next < *cur { // A is best
		return "promotion"
	}
	return "demotion"
}

// Grade grades every node for from..to under the current policy and writes
// a proposal per node with enough tickets. It is idempotent per period and
// policy version: a second run returns the first.
func (s *Service) Grade(ctx context.Context, tenantID, actor string, from, to time.Time) (GradingRun, error) {
	return inTx(ctx, s, tenantID, func(tx pg.TenantTx) (GradingRun, error) { return gradeTx(ctx, tx, actor, from, to) })
}

// RunGrading is Grade for a person: the period is checked like a
// scorecard's (a range, not in the future).
func (s *Service) RunGrading(ctx context.Context, p tenants.Principal, q PeriodQuery) (GradingRun, error) {
	return runPeriod(ctx, s, p, q, gradeTx)
}

func gradeTx(ctx context.Context, tx pg.TenantTx, actor string, from, to time.Time) (GradingRun, error) {
	pol, ok, err := currentPolicy(ctx, tx)
	if err != nil {
		return GradingRun{}, err
	}
	if !ok {
		return GradingRun{}, tenants.ErrorMsg(tenants.CodeConflict, i18n.M("quality.no_grading_policy"))
	}
	run := GradingRun{ID: tenants.NewID("grr"), PeriodFrom: from.Format(time.DateOnly), PeriodTo: to.Format(time.DateOnly),
		PolicyVersion: pol.Version, Proposals: []Proposal{}}
	prior, fresh, err := nodeGrades.openRun(ctx, tx, &run.ID, from, to, pol.Version, actor)
	if err != nil || !fresh { // graded already: return that run
		run.Graded, run.Skipped = prior.done, prior.skipped
		if err == nil {
			run.Proposals, err = listProposals(ctx, tx, ProposalFilter{RunID: run.ID}, nil, proposalPage{})
		}
		return run, err
	}
	nodes, err := network.GradedNodesTx(ctx, tx)
	if err != nil {
		return run, err
	}
	ids := make([]string, len(nodes))
	for i, n := range nodes {
		ids[i] = n.ID
	}
	per, err := metricsPerNode(ctx, tx, ids, from, to)
	if err != nil {
		return run, err
	}
	appealDays := pol.AppealDays
	for _, n := range nodes {
		m := per[n.ID]
		if m == nil || m[mTickets] < pol.MinTickets || m[mTickets] == 0 {
			run.Skipped++
			continue
		}
		sc, inds, ok := score(pol.Indicators, m)
		if !ok { // no data for any indicator: no grade
			run.Skipped++
			continue
		}
		g := gradeFor(pol, sc)
		pr := Proposal{ID: tenants.NewID("grp"), RunID: run.ID, NodeID: n.ID, PeriodFrom: run.PeriodFrom, PeriodTo: run.PeriodTo,
			PolicyVersion: pol.Version, Score: sc, Indicators: inds, Tickets: m[mTickets], CurrentGrade: n.Grade, ProposedGrade: g,
			Consequence: consequence(pol, n.Grade, g), State: "proposed", Version: 1}
		raw, _ := json.Marshal(inds)
		if err := tx.QueryRow(ctx, `INSERT INTO grade_proposals (tenant_id, id, run_id, node_id, period_from, period_to, policy_version,
			score, indicators, tickets, current_grade, proposed_grade, consequence, appeal_days)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14) RETURNING created_at`,
			tx.TenantID, pr.ID, run.ID, n.ID, from, to, pol.Version, sc, raw, pr.Tickets, n.Grade, g, pr.Consequence,
			appealDays).Scan(&pr.CreatedAt); err != nil {
			return run, err
		}
		if err := events.Append(ctx, tx, events.New{Type: TypeGradeProposed, SubjectID: pr.ID, Actor: actor,
			Data: proposalEvent(pr, nil)}); err != nil {
			return run, err
		}
		run.Graded++
		run.Proposals = append(run.Proposals, pr)
	}
	return run, nodeGrades.closeRun(ctx, tx, run.ID, runCounts{run.Graded, run.Skipped})
}

// ProposalEventData is the data of grade events.
type ProposalEventData struct {
	ProposalID    string  `json:"proposal_id"`
	NodeID        string  `json:"node_id"`
	Score         float64 `json:"score"`
	CurrentGrade  *string `json:"current_grade,omitempty"`
	ProposedGrade string  `json:"proposed_grade"`
	Consequence   string  `json:"consequence"`
	State         string  `json:"state"`
	PolicyVersion int     `json:"policy_version"`
	Reason        string  `json:"reason,omitempty"`
}

// proposalEvent is p's event data; a reason given replaces p's own.
func proposalEvent(p Proposal, reason *string) ProposalEventData {
	return ProposalEventData{ProposalID: p.ID, NodeID: p.NodeID, Score: p.Score, CurrentGrade: p.CurrentGrade,
		ProposedGrade: p.ProposedGrade, Consequence: p.Consequence, State: p.State, PolicyVersion: p.PolicyVersion,
		Reason: eventReason(p.Reason, reason)}
}

// metricsPerNode sums each node's own rollups (not its subtree's) over the period.
func metricsPerNode(ctx context.Context, tx pg.TenantTx, ids []string, from, to time.Time) (map[string]Metrics, error) {
	var rows pgx.Rows
	var err error
	if wholeMonth(from, to) {
		rows, err = tx.Query(ctx, `SELECT node_id, metric, sum(n)::bigint FROM quality_monthly WHERE tenant_id = $1 AND month = $2
			AND node_id = ANY($3) GROUP BY node_id, metric`, tx.TenantID, from, ids)
	} else {
		rows, err = tx.Query(ctx, `SELECT node_id, metric, sum(n)::bigint FROM quality_daily WHERE tenant_id = $1 AND day BETWEEN $2 AND $3
			AND node_id = ANY($4) GROUP BY node_id, metric`, tx.TenantID, from, to, ids)
	}
	return metricsBy(rows, err, func(node *string) []any { return []any{node} })
}

// ProposalFilter narrows a proposal list.
type ProposalFilter struct {
	RunID  string
	NodeID string
	State  string
	Limit  int    // page size (tenants.PageLimit)
	Cursor string // next_cursor of the previous page
}

const proposalColumns = `p.id, p.run_id, p.node_id, p.period_from, p.period_to, p.policy_version, p.score::float8, p.indicators,
	p.tickets, p.current_grade, p.proposed_grade, p.consequence, p.state, p.decided_by, p.decided_at, p.reason, p.appeal_until,
	p.version, p.created_at, a.reason, a.filed_by, a.filed_at, a.decision, a.decision_note, a.decided_by, a.decided_at`

func scanProposal(r pgx.Row) (Proposal, error) {
	var p Proposal
	var from, to time.Time
	var raw []byte
	var a appealColumns
	err := r.Scan(append([]any{&p.ID, &p.RunID, &p.NodeID, &from, &to, &p.PolicyVersion, &p.Score, &raw, &p.Tickets, &p.CurrentGrade,
		&p.ProposedGrade, &p.Consequence, &p.State, &p.DecidedBy, &p.DecidedAt, &p.Reason, &p.AppealUntil, &p.Version, &p.CreatedAt},
		a.dest()...)...)
	if err != nil {
		return p, err
	}
	p.PeriodFrom, p.PeriodTo = from.Format(time.DateOnly), to.Format(time.DateOnly)
	p.Appeal = a.appeal()
	return p, json.Unmarshal(raw, &p.Indicators)
}

// listProposals reads the proposals f selects, newest first, from page's
// start (of a node-bound key's subtree when within is not nil).
func listProposals(ctx context.Context, tx pg.TenantTx, f ProposalFilter, within []string, page proposalPage) ([]Proposal, error) {
	rows, err := tx.Query(ctx, `SELECT `+proposalColumns+` FROM grade_proposals p
		LEFT JOIN grade_appeals a ON a.tenant_id = p.tenant_id AND a.livemode = p.livemode AND a.proposal_id = p.id
		WHERE p.tenant_id = $1 AND ($2 = '' OR p.run_id = $2) AND ($3 = '' OR p.node_id = $3) AND ($4 = '' OR p.state = $4)
		  AND ($5::text[] IS NULL OR p.node_id = ANY($5))
		  AND ($6::timestamptz IS NULL OR p.created_at < $6 OR (p.created_at = $6 AND p.id > $7))
		ORDER BY p.created_at DESC, p.id LIMIT $8`, tx.TenantID, f.RunID, f.NodeID, f.State, within, page.at, page.id, page.limit)
	return collectProposals(rows, err, scanProposal)
}

// ListProposals lists proposals, newest first, a page of f.Limit with the
// cursor of the next ("" on the last); a node-bound key its subtree's. A
// cursor this list did not make is invalid.
func (s *Service) ListProposals(ctx context.Context, p tenants.Principal, f ProposalFilter) ([]Proposal, string, error) {
	page, err := pageOfProposals("grade_proposals", f.Cursor, f.Limit)
	if err != nil {
		return nil, "", err
	}
	var out []Proposal
	err = pg.InTenantTx(ctx, s.DB, p.TenantID, func(tx pg.TenantTx) error {
		within, err := subtreeOf(ctx, tx, p)
		if err != nil {
			return err
		}
		out, err = listProposals(ctx, tx, f, within, page)
		return err
	})
	if err != nil {
		return nil, "", pg.Translate(err)
	}
	out, next := tenants.NextPage("grade_proposals", out, *page.limit-1, func(pr Proposal) string { return proposalKey(pr.CreatedAt, pr.ID) })
	return out, next, nil
}

// getProposal reads a proposal in the principal's scope, locked.
func getProposal(ctx context.Context, tx pg.TenantTx, p tenants.Principal, id string) (Proposal, error) {
	if !tenants.ValidID("grp", id) {
		return Proposal{}, tenants.NotFound("grade proposal")
	}
	pr, err := scanProposal(tx.QueryRow(ctx, `SELECT `+proposalColumns+` FROM grade_proposals p
		LEFT JOIN grade_appeals a ON a.tenant_id = p.tenant_id AND a.livemode = p.livemode AND a.proposal_id = p.id
		WHERE p.tenant_id = $1 AND p.id = $2 FOR UPDATE OF p`, tx.TenantID, id))
	if errors.Is(err, pgx.ErrNoRows) {
		return pr, tenants.NotFound("grade proposal")
	}
	if err != nil {
		return pr, err
	}
	if p.NodeID != "" {
		if _, err := network.NodeInScopeTx(ctx, tx, p, pr.NodeID); err != nil {
			return pr, tenants.NotFound("grade proposal")
		}
	}
	return pr, nil
}

// GetProposal reads one proposal.
func (s *Service) GetProposal(ctx context.Context, p tenants.Principal, id string) (Proposal, error) {
	return inTx(ctx, s, p.TenantID, func(tx pg.TenantTx) (Proposal, error) { return getProposal(ctx, tx, p, id) })
}

// HistoryEntry is one grade change of a node.
type HistoryEntry struct {
	NodeID     string    `json:"node_id"`
	OldGrade   *string   `json:"old_grade,omitempty" example:"B"`
	NewGrade   string    `json:"new_grade" example:"A"`
	ProposalID *string   `json:"proposal_id,omitempty"`
	Actor      string    `json:"actor" doc:"Who decided (the API key)."`
	Reason     string    `json:"reason" example:"approved: score 92.5 under policy v1"`
	At         time.Time `json:"at"`
}

func recordGrade(ctx context.Context, tx pg.TenantTx, actor, nodeID, grade string, proposalID *string, reason string) error {
	old, err := network.SetGradeTx(ctx, tx, actor, nodeID, grade)
	if err != nil {
		return err
	}
	_, err = tx.Exec(ctx, `INSERT INTO grade_history (tenant_id, node_id, old_grade, new_grade, proposal_id, actor, reason)
		VALUES ($1, $2, $3, $4, $5, $6, $7)`, tx.TenantID, nodeID, old, grade, proposalID, actor, reason)
	return err
}

// applyConsequence gives an approved grade's consequence its effect on the
// node's status (网点动态升级及淘汰): a suspension suspends the node, so
// dispatch stops sending it work; a termination suspends it too, and a
// person terminates it once the appeal window has passed and its
// technicians have left and its children moved (terminated is final, and
// network refuses to terminate a node with members). An appeal overturned
// (back) reactivates a node this proposal suspended, unless its status has
// changed since. Other consequences (promotion, demotion, probation) are
// the grade itself.
func applyConsequence(ctx context.Context, tx pg.TenantTx, actor string, pr Proposal, back bool) error {
	if pr.Consequence != "suspension" && pr.Consequence != "termination" {
		return nil
	}
	cause := "grade " + pr.ProposedGrade + " (proposal " + pr.ID + "): " + pr.Consequence
	if back {
		_, err := network.RestoreNodeStatusTx(ctx, tx, actor, pr.NodeID, cause, "appeal overturned: "+cause)
		return err
	}
	reason := cause
	if pr.Consequence == "termination" {
		reason += "; suspended until a person terminates it after the appeal window"
	}
	_, err := network.SuspendNodeTx(ctx, tx, actor, pr.NodeID, reason)
	return err
}

// GradeHistory lists a node's grade changes, oldest first.
func (s *Service) GradeHistory(ctx context.Context, p tenants.Principal, nodeID string) ([]HistoryEntry, error) {
	return history[HistoryEntry](ctx, s, p, func(tx pg.TenantTx) error {
		if !tenants.ValidID(tenants.PrefixNode, nodeID) {
			return tenants.NotFound("node")
		}
		_, err := network.NodeInScopeTx(ctx, tx, p, nodeID)
		return err
	}, `SELECT node_id, old_grade, new_grade, proposal_id, actor, reason, at FROM grade_history
		WHERE tenant_id = $1 AND node_id = $2 ORDER BY seq`, nodeID)
}

// Decide approves or rejects a proposal (a person; reason required for a
// rejection). Approval sets the node's grade with a history entry and
// opens the appeal window. Only a proposed proposal can be decided.
func (s *Service) Decide(ctx context.Context, p tenants.Principal, id string, approve bool, reason string, ifVersion int) (Proposal, error) {
	return gradeProposals.decide(ctx, s, p, id, approve, reason, ifVersion)
}

func nullIfEmpty(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

// AppealProposal records the node's appeal against an approved grade,
// within the policy's window; once only.
func (s *Service) AppealProposal(ctx context.Context, p tenants.Principal, id, reason string) (Proposal, error) {
	if technicianOnly(p) { // a technician appeals its own level, not its node's grade
		return Proposal{}, tenants.NotFound("grade proposal")
	}
	return gradeProposals.appeal(ctx, s, p, id, reason)
}

// DecideAppeal decides an appeal: upheld keeps the approved grade;
// overturned restores the grade the node had before, with a history entry.
func (s *Service) DecideAppeal(ctx context.Context, p tenants.Principal, id string, overturn bool, note string) (Proposal, error) {
	return gradeProposals.decideAppeal(ctx, s, p, id, overturn, note)
}

// gradeProposals is node grading's rung: a node's grade.
var gradeProposals = rung[Proposal]{
	ladder: nodeGrades,
	get:    getProposal,
	facts: func(pr Proposal) proposalFacts {
		return proposalFacts{state: pr.State, version: pr.Version, score: pr.Score, policyVersion: pr.PolicyVersion,
			appealUntil: pr.AppealUntil}
	},
	set: func(ctx context.Context, tx pg.TenantTx, actor string, pr Proposal, back bool, reason string) error {
		grade := pr.ProposedGrade
		if back {
			if pr.CurrentGrade == nil {
				return tenants.ErrorMsg(tenants.CodeConflict, i18n.M("quality.no_previous_grade"))
			}
			grade = *pr.CurrentGrade
		}
		if err := recordGrade(ctx, tx, actor, pr.NodeID, grade, &pr.ID, reason); err != nil {
			return err
		}
		return applyConsequence(ctx, tx, actor, pr, back)
	},
	event:    func(pr Proposal, reason *string) any { return proposalEvent(pr, reason) },
	approved: TypeGradeApproved, rejected: TypeGradeRejected, appealed: TypeGradeAppealed, appealDecided: TypeGradeAppealDecided,
}
