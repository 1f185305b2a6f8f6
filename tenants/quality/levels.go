package quality

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
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

// Technician levels (issue 13, item 4): a technician's skill level per
// product category moves up and down by the tenant's level policy, from
// the technician's KPIs in the category and its training and certification
// records, by the pattern of node grading (the ladder): a run writes
// proposals, a person decides, the technician may appeal, and every change
// is kept with old and new level. The level lives in the technician's
// skills, which dispatch reads; an expired licence keeps a technician out
// of dispatch whatever its level, and keeps it from being promoted.

// Event types of technician levels.
const (
	TypeLevelPolicyUpdated = "level_policy.updated"
	TypeLevelProposed      = "level.proposed"
	TypeLevelApproved      = "level.approved"
	TypeLevelRejected      = "level.rejected"
	TypeLevelAppealed      = "level.appealed"
	TypeLevelAppealDecided = "level.appeal_decided"
)

// PrefixLevelRun and PrefixLevelProposal are the ID prefixes of levelling.
const (
	PrefixLevelRun      = "lvr"
	PrefixLevelProposal = "lvp"
)

// KPIThreshold is a KPI a level requires: its value must be at least as
// good as Value in the KPI's better direction (at least Value when higher is
// better, at most when lower is). A KPI without a denominator fails it.
type KPIThreshold struct {
	KPI   string  `json:"kpi" doc:"A scorecard indicator name." example:"first_time_fix_rate"`
	Value float64 `json:"value" example:"0.9"`
}

// LevelRule is what one level requires.
type LevelRule struct {
	Level          int            `json:"level" minimum:"1" maximum:"5" doc:"1 (trainee) to 5 (master)." example:"4"`
	MinScore       float64        `json:"min_score" minimum:"0" doc:"The lowest score (on the total_weight scale) for the level." example:"80"`
	MinTickets     int64          `json:"min_tickets" minimum:"0" doc:"The fewest tickets in the category in the period for the level." example:"20"`
	Thresholds     []KPIThreshold `json:"thresholds,omitempty" maxItems:"10" doc:"KPIs the level requires besides the score. Unlike the score, a threshold needs data: a KPI with none in the period (null) does not meet it."`
	Certifications []string       `json:"certifications,omitempty" maxItems:"10" doc:"Courses of which the technician must hold a passed record valid on the period's last day, for the category or for every category." example:"[\"washer-advanced\"]"`
}

// LevelPolicy is the tenant's versioned technician-level policy.
type LevelPolicy struct {
	Version     int         `json:"version" readOnly:"true" doc:"Increases with every change; the ETag is \"v<version>\" (v0: no policy yet)." example:"1"`
	TotalWeight int         `json:"total_weight" minimum:"1" maximum:"1000" doc:"What the indicators' weights must sum to; scores run from 0 to it." example:"100"`
	Indicators  []Indicator `json:"indicators" minItems:"1" maxItems:"20"`
	Levels      []LevelRule `json:"levels" minItems:"1" maxItems:"5" doc:"One rule per level. A technician gets the highest level whose rule it meets; one that meets none, with at least the lowest min_tickets of any rule, gets the lowest level listed; one with fewer tickets in the category is not levelled in it."`
	AppealDays  int         `json:"appeal_days" minimum:"0" maximum:"90" doc:"Days after an approval during which the technician may appeal." example:"7"`
	UpdatedAt   *time.Time  `json:"updated_at,omitempty" readOnly:"true" example:"2026-11-30T10:00:00+08:00"`
}

func (pol *LevelPolicy) stamp(version int, at time.Time) { pol.Version, pol.UpdatedAt = version, &at }

func currentLevelPolicy(ctx context.Context, tx pg.TenantTx) (LevelPolicy, bool, error) {
	return currentOf[LevelPolicy](ctx, tx, techLevels)
}

// LevelPolicy reads the current technician-level policy; without one it is not found.
func (s *Service) LevelPolicy(ctx context.Context, p tenants.Principal) (LevelPolicy, error) {
	return readPolicy(ctx, s, p, "technician level policy", currentLevelPolicy)
}

func validateLevelPolicy(in LevelPolicy) error {
	v := &tenants.Validation{}
	validateIndicators(v, in.Indicators, in.TotalWeight)
	seen := map[int]bool{}
	for i, l := range in.Levels {
		loc := "levels[" + strconv.Itoa(i) + "]"
		if l.Level < 1 || l.Level > network.MaxSkillLevel {
			v.AddMsg(loc+".level", i18n.M("common.range", "Min", 1, "Max", network.MaxSkillLevel), l.Level)
		} else if seen[l.Level] {
			v.AddMsg(loc+".level", i18n.M("quality.listed_once"), l.Level)
		}
		seen[l.Level] = true
		if l.MinScore < 0 || l.MinScore > float64(in.TotalWeight) {
			v.AddMsg(loc+".min_score", i18n.M("quality.zero_to_total_weight"), l.MinScore)
		}
		if l.MinTickets < 0 {
			v.AddMsg(loc+".min_tickets", i18n.M("quality.zero_or_more"), l.MinTickets)
		}
		for j, th := range l.Thresholds {
			if _, ok := KPIByName(th.KPI); !ok {
				v.AddMsg(loc+".thresholds["+strconv.Itoa(j)+"].kpi", i18n.M("quality.indicator_kpi"), th.KPI)
			}
		}
		for j, c := range l.Certifications {
			if !network.CourseCode.MatchString(c) {
				v.AddMsg(loc+".certifications["+strconv.Itoa(j)+"]", i18n.M("quality.course_code"), c)
			}
		}
	}
	return v.Err()
}

// SetLevelPolicy stores a new version of the technician-level policy.
// ifVersion is the version the caller read (0: there was none); another is
// precondition_failed.
func (s *Service) SetLevelPolicy(ctx context.Context, p tenants.Principal, in LevelPolicy, ifVersion int) (LevelPolicy, error) {
	if err := validateLevelPolicy(in); err != nil {
		return LevelPolicy{}, err
	}
	sort.SliceStable(in.Levels, func(i, j int) bool { return in.Levels[i].Level > in.Levels[j].Level })
	in.UpdatedAt = nil
	return putPolicy(ctx, s, p, techLevels, ifVersion, in, currentLevelPolicy)
}

// LevelProposal is a level change the levelling run proposes for a person to decide.
type LevelProposal struct {
	ID             string           `json:"id" example:"lvp_01jd3zq8w6v7t3y2k9x4n5m6pn"`
	RunID          string           `json:"run_id" example:"lvr_01jd3zq8w6v7t3y2k9x4n5m6pn"`
	TechnicianID   string           `json:"technician_id" example:"tec_01jd3zq8w6v7t3y2k9x4n5m6pf"`
	NodeID         string           `json:"node_id" doc:"The technician's node when it was levelled." example:"nod_01jd3zq8w6v7t3y2k9x4n5m6pn"`
	Category       string           `json:"category" example:"washer"`
	PeriodFrom     string           `json:"period_from" format:"date" example:"2026-11-01"`
	PeriodTo       string           `json:"period_to" format:"date" example:"2026-11-30"`
	PolicyVersion  int              `json:"policy_version" example:"1"`
	Score          float64          `json:"score" doc:"On the policy's total_weight scale: the sum of the indicators' points, over the indicators with data in the period (an indicator without data neither earns nor costs anything)." example:"82.5"`
	Indicators     []IndicatorScore `json:"indicators"`
	Tickets        int64            `json:"tickets" doc:"The technician's tickets in the category in the period." example:"24"`
	Certifications []string         `json:"certifications" doc:"The courses of the technician's passed records valid on the period's last day (for the category or every category)."`
	Notes          []string         `json:"notes" doc:"Why each higher level was not reached (volume, score, a KPI threshold, a missing certification, the licence)." example:"[\"level 5: needs certification washer-master\"]"`
	CurrentLevel   *int             `json:"current_level,omitempty" doc:"The level when levelled (absent: none in the category)." example:"3"`
	ProposedLevel  int              `json:"proposed_level" example:"4"`
	Consequence    string           `json:"consequence" enum:"none,promotion,demotion" example:"promotion"`
	State          string           `json:"state" enum:"proposed,approved,rejected,appealed,upheld,overturned" example:"proposed"`
	DecidedBy      *string          `json:"decided_by,omitempty"`
	DecidedAt      *time.Time       `json:"decided_at,omitempty"`
	Reason         *string          `json:"reason,omitempty"`
	AppealUntil    *time.Time       `json:"appeal_until,omitempty" doc:"The technician may appeal an approval until then."`
	Appeal         *Appeal          `json:"appeal,omitempty"`
	Version        int              `json:"version" example:"1"`
	CreatedAt      time.Time        `json:"created_at"`
}

// LevelRun is the result of levelling the technicians for a period.
type LevelRun struct {
	ID            string          `json:"id" example:"lvr_01jd3zq8w6v7t3y2k9x4n5m6pn"`
	PeriodFrom    string          `json:"period_from" format:"date" example:"2026-11-01"`
	PeriodTo      string          `json:"period_to" format:"date" example:"2026-11-30"`
	PolicyVersion int             `json:"policy_version" example:"1"`
	Levelled      int             `json:"levelled" doc:"Technician-categories given a proposal." example:"12"`
	Skipped       int             `json:"skipped" doc:"Technician-categories with tickets in the period but fewer than any level's min_tickets, without a valid licence and no level yet, or with no data in the period for any of the policy's indicators (not levelled)." example:"3"`
	Proposals     []LevelProposal `json:"proposals"`
}

// levelFor picks the highest level of pol whose rule holds; notes say why
// each higher one did not. ok is false when the volume is below every rule's.
func levelFor(pol LevelPolicy, sc float64, tickets int64, m Metrics, courses []string, cur *int, licenceValid bool) (level int, notes []string, ok bool) {
	if len(pol.Levels) == 0 {
		return 0, nil, false
	}
	minVolume := pol.Levels[0].MinTickets
	for _, r := range pol.Levels {
		minVolume = min(minVolume, r.MinTickets)
	}
	if tickets == 0 || tickets < minVolume {
		return 0, nil, false
	}
	notes = []string{}
	level = pol.Levels[len(pol.Levels)-1].Level // the lowest listed, when no rule holds
	for _, r := range pol.Levels {              // best first
		why := ruleFails(r, sc, tickets, m, courses)
		if why == "" {
			level = r.Level
			break
		}
		notes = append(notes, fmt.Sprintf("level %d: %s", r.Level, why))
	}
	if !licenceValid { // the licence is a hard constraint: no promotion without one
		if cur == nil {
			return 0, notes, false
		}
		if level > *cur {
			notes = append(notes, fmt.Sprintf("level %d: no valid service licence, no promotion", level))
			level = *cur
		}
	}
	return level, notes, true
}

func ruleFails(r LevelRule, sc float64, tickets int64, m Metrics, courses []string) string {
	if tickets < r.MinTickets {
		return fmt.Sprintf("%d tickets, needs %d", tickets, r.MinTickets)
	}
	if sc < r.MinScore {
		return "score " + strconv.FormatFloat(sc, 'f', -1, 64) + ", needs " + strconv.FormatFloat(r.MinScore, 'f', -1, 64)
	}
	for _, th := range r.Thresholds {
		def, _ := KPIByName(th.KPI)
		k := kpi(def, m)
		if k.Value == nil || (def.Better == "higher" && *k.Value < th.Value) || (def.Better == "lower" && *k.Value > th.Value) {
			v := "none"
			if k.Value != nil {
				v = strconv.FormatFloat(*k.Value, 'f', -1, 64)
			}
			return th.KPI + " " + v + ", needs " + strconv.FormatFloat(th.Value, 'f', -1, 64)
		}
	}
	for _, c := range r.Certifications {
		if !slices.Contains(courses, c) {
			return "needs certification " + c
		}
	}
	return ""
}

func levelConsequence(cur *int, next int) string {
	switch {
	case cur == nil || *cur == next:
		if cur == nil {
			return "promotion"
		}
		return "none"
	case next > *cur:
		return "promotion"
	default:
		return "demotion"
	}
}

// Level levels every technician for from..to under the current policy (the
// periodic job's work). It is idempotent per period and policy version.
func (s *Service) Level(ctx context.Context, tenantID, actor string, from, to time.Time) (LevelRun, error) {
	return inTx(ctx, s, tenantID, func(tx pg.TenantTx) (LevelRun, error) { return levelTx(ctx, tx, actor, from, to) })
}

// RunLevelling is Level for a person: the period is checked like a scorecard's.
func (s *Service) RunLevelling(ctx context.Context, p tenants.Principal, q PeriodQuery) (LevelRun, error) {
	return runPeriod(ctx, s, p, q, levelTx)
}

type techCategory struct{ tech, category string }

func levelTx(ctx context.Context, tx pg.TenantTx, actor string, from, to time.Time) (LevelRun, error) {
	pol, ok, err := currentLevelPolicy(ctx, tx)
	if err != nil {
		return LevelRun{}, err
	}
	if !ok {
		return LevelRun{}, tenants.ErrorMsg(tenants.CodeConflict, i18n.M("quality.no_level_policy"))
	}
	run := LevelRun{ID: tenants.NewID(PrefixLevelRun), PeriodFrom: from.Format(time.DateOnly), PeriodTo: to.Format(time.DateOnly),
		PolicyVersion: pol.Version, Proposals: []LevelProposal{}}
	prior, fresh, err := techLevels.openRun(ctx, tx, &run.ID, from, to, pol.Version, actor)
	if err != nil || !fresh { // levelled already: return that run
		run.Levelled, run.Skipped = prior.done, prior.skipped
		if err == nil {
			run.Proposals, err = listLevelProposals(ctx, tx, LevelProposalFilter{RunID: run.ID}, nil, proposalPage{})
		}
		return run, err
	}
	techs, err := network.LevelCandidatesTx(ctx, tx, run.PeriodTo)
	if err != nil {
		return run, err
	}
	per, err := metricsPerTechnicianCategory(ctx, tx, from, to)
	if err != nil {
		return run, err
	}
	keys := make([]techCategory, 0, len(per))
	for k := range per {
		if techs[k.tech] != nil {
			keys = append(keys, k)
		}
	}
	slices.SortFunc(keys, func(a, b techCategory) int {
		if a.tech != b.tech {
			return cmp.Compare(a.tech, b.tech)
		}
		return cmp.Compare(a.category, b.category)
	})
	for _, k := range keys {
		t, m := techs[k.tech], per[k]
		courses := slices.Concat(t.Courses[""], t.Courses[k.category])
		slices.Sort(courses)
		courses = slices.Compact(courses)
		if courses == nil {
			courses = []string{}
		}
		var cur *int
		if l, ok := t.Skills[k.category]; ok {
			cur = &l
		}
		sc, inds, scored := score(pol.Indicators, m)
		level, notes, ok := levelFor(pol, sc, m[mTickets], m, courses, cur, t.LicenceValid)
		if !ok || !scored { // no data for any indicator: no level
			run.Skipped++
			continue
		}
		pr := LevelProposal{ID: tenants.NewID(PrefixLevelProposal), RunID: run.ID, TechnicianID: k.tech, NodeID: t.NodeID,
			Category: k.category, PeriodFrom: run.PeriodFrom, PeriodTo: run.PeriodTo, PolicyVersion: pol.Version, Score: sc,
			Indicators: inds, Tickets: m[mTickets], Certifications: courses, Notes: notes, CurrentLevel: cur, ProposedLevel: level,
			Consequence: levelConsequence(cur, level), State: "proposed", Version: 1}
		rawInds, _ := json.Marshal(inds)
		rawCourses, _ := json.Marshal(courses)
		rawNotes, _ := json.Marshal(notes)
		if err := tx.QueryRow(ctx, `INSERT INTO level_proposals (tenant_id, id, run_id, technician_id, node_id, category, period_from,
			period_to, policy_version, score, indicators, tickets, certifications, notes, current_level, proposed_level, consequence, appeal_days)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18) RETURNING created_at`,
			tx.TenantID, pr.ID, run.ID, pr.TechnicianID, pr.NodeID, pr.Category, from, to, pol.Version, sc, rawInds, pr.Tickets,
			rawCourses, rawNotes, cur, level, pr.Consequence, pol.AppealDays).Scan(&pr.CreatedAt); err != nil {
			return run, err
		}
		if err := events.Append(ctx, tx, events.New{Type: TypeLevelProposed, SubjectID: pr.ID, Actor: actor,
			Data: levelEvent(pr, nil)}); err != nil {
			return run, err
		}
		run.Levelled++
		run.Proposals = append(run.Proposals, pr)
	}
	return run, techLevels.closeRun(ctx, tx, run.ID, runCounts{run.Levelled, run.Skipped})
}

// metricsPerTechnicianCategory sums each technician's rollups per category over the period.
func metricsPerTechnicianCategory(ctx context.Context, tx pg.TenantTx, from, to time.Time) (map[techCategory]Metrics, error) {
	rows, err := tx.Query(ctx, `SELECT technician_id, category, metric, sum(n)::bigint FROM quality_daily
		WHERE tenant_id = $1 AND day BETWEEN $2 AND $3 AND technician_id <> '' AND category <> ''
		GROUP BY technician_id, category, metric`, tx.TenantID, from, to)
	return metricsBy(rows, err, func(k *techCategory) []any { return []any{&k.tech, &k.category} })
}

// LevelEventData is the data of level events.
type LevelEventData struct {
	ProposalID    string  `json:"proposal_id"`
	TechnicianID  string  `json:"technician_id"`
	Category      string  `json:"category"`
	Score         float64 `json:"score"`
	CurrentLevel  *int    `json:"current_level,omitempty"`
	ProposedLevel int     `json:"proposed_level"`
	Consequence   string  `json:"consequence"`
	State         string  `json:"state"`
	PolicyVersion int     `json:"policy_version"`
	Reason        string  `json:"reason,omitempty"`
}

// levelEvent is p's event data; a reason given replaces p's own.
func levelEvent(p LevelProposal, reason *string) LevelEventData {
	return LevelEventData{ProposalID: p.ID, TechnicianID: p.TechnicianID, Category: p.Category, Score: p.Score,
		CurrentLevel: p.CurrentLevel, ProposedLevel: p.ProposedLevel, Consequence: p.Consequence, State: p.State,
		PolicyVersion: p.PolicyVersion, Reason: eventReason(p.Reason, reason)}
}

// LevelProposalFilter narrows a level proposal list.
type LevelProposalFilter struct {
	RunID        string
	TechnicianID string
	Category     string
	State        string
	Limit        int    // page size (tenants.PageLimit)
	Cursor       string // next_cursor of the previous page
}

const levelProposalColumns = `p.id, p.run_id, p.technician_id, p.node_id, p.category, p.period_from, p.period_to, p.policy_version,
	p.score::float8, p.indicators, p.tickets, p.certifications, p.notes, p.current_level, p.proposed_level, p.consequence, p.state,
	p.decided_by, p.decided_at, p.reason, p.appeal_until, p.version, p.created_at,
	a.reason, a.filed_by, a.filed_at, a.decision, a.decision_note, a.decided_by, a.decided_at`

func scanLevelProposal(r pgx.Row) (LevelProposal, error) {
	var p LevelProposal
	var from, to time.Time
	var inds, courses, notes []byte
	var a appealColumns
	err := r.Scan(append([]any{&p.ID, &p.RunID, &p.TechnicianID, &p.NodeID, &p.Category, &from, &to, &p.PolicyVersion, &p.Score,
		&inds, &p.Tickets, &courses, &notes, &p.CurrentLevel, &p.ProposedLevel, &p.Consequence, &p.State, &p.DecidedBy,
		&p.DecidedAt, &p.Reason, &p.AppealUntil, &p.Version, &p.CreatedAt}, a.dest()...)...)
	if err != nil {
		return p, err
	}
	p.PeriodFrom, p.PeriodTo = from.Format(time.DateOnly), to.Format(time.DateOnly)
	p.Appeal = a.appeal()
	for raw, dst := range map[*[]byte]any{&inds: &p.Indicators, &courses: &p.Certifications, &notes: &p.Notes} {
		if err := json.Unmarshal(*raw, dst); err != nil {
			return p, err
		}
	}
	return p, nil
}

const levelProposalFrom = ` FROM level_proposals p
	LEFT JOIN level_appeals a ON a.tenant_id = p.tenant_id AND a.livemode = p.livemode AND a.proposal_id = p.id`

// listLevelProposals reads the proposals f selects, newest first, from
// page's start (of a node-bound key's subtree when within is not nil).
func listLevelProposals(ctx context.Context, tx pg.TenantTx, f LevelProposalFilter, within []string, page proposalPage) ([]LevelProposal, error) {
	rows, err := tx.Query(ctx, `SELECT `+levelProposalColumns+levelProposalFrom+`
		WHERE p.tenant_id = $1 AND ($2 = '' OR p.run_id = $2) AND ($3 = '' OR p.technician_id = $3) AND ($4 = '' OR p.category = $4)
		  AND ($5 = '' OR p.state = $5) AND ($6::text[] IS NULL OR p.node_id = ANY($6))
		  AND ($7::timestamptz IS NULL OR p.created_at < $7 OR (p.created_at = $7 AND p.id > $8))
		ORDER BY p.created_at DESC, p.id LIMIT $9`, tx.TenantID, f.RunID, f.TechnicianID, f.Category, f.State, within,
		page.at, page.id, page.limit)
	return collectProposals(rows, err, scanLevelProposal)
}

// technicianOnly is a technician key (not also a node manager): it sees only itself.
func technicianOnly(p tenants.Principal) bool {
	return p.HasRole(tenants.RoleTechnician) && !p.HasRole(tenants.RoleNodeManager)
}

// technicianInScope checks the principal may see technician id: a
// technician key only itself, a node-bound key its subtree's.
func technicianInScope(ctx context.Context, tx pg.TenantTx, p tenants.Principal, id string) error {
	if technicianOnly(p) && id != p.TechnicianID {
		return tenants.NotFound("technician")
	}
	_, err := network.TechnicianNodeTx(ctx, tx, p, id)
	return err
}

// ListLevelProposals lists level proposals, newest first, a page of
// f.Limit with the cursor of the next ("" on the last): a node-bound key
// its subtree's technicians', a technician key its own. A cursor this list
// did not make is invalid.
func (s *Service) ListLevelProposals(ctx context.Context, p tenants.Principal, f LevelProposalFilter) ([]LevelProposal, string, error) {
	page, err := pageOfProposals("level_proposals", f.Cursor, f.Limit)
	if err != nil {
		return nil, "", err
	}
	out := []LevelProposal{}
	err = pg.InTenantTx(ctx, s.DB, p.TenantID, func(tx pg.TenantTx) error {
		if technicianOnly(p) {
			if f.TechnicianID != "" && f.TechnicianID != p.TechnicianID {
				return nil
			}
			f.TechnicianID = p.TechnicianID
		}
		within, err := subtreeOf(ctx, tx, p)
		if err != nil {
			return err
		}
		out, err = listLevelProposals(ctx, tx, f, within, page)
		return err
	})
	if err != nil {
		return nil, "", pg.Translate(err)
	}
	out, next := tenants.NextPage("level_proposals", out, *page.limit-1, func(pr LevelProposal) string { return proposalKey(pr.CreatedAt, pr.ID) })
	return out, next, nil
}

// getLevelProposal reads a proposal in the principal's scope, locked.
func getLevelProposal(ctx context.Context, tx pg.TenantTx, p tenants.Principal, id string) (LevelProposal, error) {
	if !tenants.ValidID(PrefixLevelProposal, id) {
		return LevelProposal{}, tenants.NotFound("level proposal")
	}
	pr, err := scanLevelProposal(tx.QueryRow(ctx, `SELECT `+levelProposalColumns+levelProposalFrom+`
		WHERE p.tenant_id = $1 AND p.id = $2 FOR UPDATE OF p`, tx.TenantID, id))
	if errors.Is(err, pgx.ErrNoRows) {
		return pr, tenants.NotFound("level proposal")
	}
	if err != nil {
		return pr, err
	}
	if err := technicianInScope(ctx, tx, p, pr.TechnicianID); err != nil {
		if tenants.ErrorCode(err) == tenants.CodeNotFound {
			return pr, tenants.NotFound("level proposal")
		}
		return pr, err
	}
	return pr, nil
}

// GetLevelProposal reads one level proposal.
func (s *Service) GetLevelProposal(ctx context.Context, p tenants.Principal, id string) (LevelProposal, error) {
	return inTx(ctx, s, p.TenantID, func(tx pg.TenantTx) (LevelProposal, error) { return getLevelProposal(ctx, tx, p, id) })
}

// LevelHistoryEntry is one level change of a technician.
type LevelHistoryEntry struct {
	TechnicianID string    `json:"technician_id"`
	Category     string    `json:"category" example:"washer"`
	OldLevel     *int      `json:"old_level,omitempty" example:"3"`
	NewLevel     int       `json:"new_level" example:"4"`
	ProposalID   *string   `json:"proposal_id,omitempty"`
	Actor        string    `json:"actor" doc:"Who decided (the API key)."`
	Reason       string    `json:"reason" example:"approved: score 92.5 under policy v1"`
	At           time.Time `json:"at"`
}

func recordLevel(ctx context.Context, tx pg.TenantTx, actor, techID, category string, level int, proposalID *string, reason string) error {
	old, err := network.SetSkillLevelTx(ctx, tx, actor, techID, category, level)
	if err != nil {
		return err
	}
	_, err = tx.Exec(ctx, `INSERT INTO level_history (tenant_id, technician_id, category, old_level, new_level, proposal_id, actor, reason)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`, tx.TenantID, techID, category, old, level, proposalID, actor, reason)
	return err
}

// LevelHistory lists a technician's level changes, oldest first.
func (s *Service) LevelHistory(ctx context.Context, p tenants.Principal, techID string) ([]LevelHistoryEntry, error) {
	return history[LevelHistoryEntry](ctx, s, p, func(tx pg.TenantTx) error { return technicianInScope(ctx, tx, p, techID) },
		`SELECT technician_id, category, old_level, new_level, proposal_id, actor, reason, at FROM level_history
		WHERE tenant_id = $1 AND technician_id = $2 ORDER BY seq`, techID)
}

// DecideLevel approves or rejects a level proposal (a person; a reason to
// reject). Approval sets the technician's level in the category, with a
// history entry, and opens the appeal window.
func (s *Service) DecideLevel(ctx context.Context, p tenants.Principal, id string, approve bool, reason string, ifVersion int) (LevelProposal, error) {
	return levelProposals.decide(ctx, s, p, id, approve, reason, ifVersion)
}

// AppealLevel records the technician's appeal (or its node manager's on its
// behalf) against an approved level, within the window; once only.
func (s *Service) AppealLevel(ctx context.Context, p tenants.Principal, id, reason string) (LevelProposal, error) {
	return levelProposals.appeal(ctx, s, p, id, reason)
}

// DecideLevelAppeal decides an appeal: upheld keeps the approved level;
// overturned restores the level the technician had before, with a history
// entry.
func (s *Service) DecideLevelAppeal(ctx context.Context, p tenants.Principal, id string, overturn bool, note string) (LevelProposal, error) {
	return levelProposals.decideAppeal(ctx, s, p, id, overturn, note)
}

// levelProposals is technician levelling's rung: a technician's level in
// a category.
var levelProposals = rung[LevelProposal]{
	ladder: techLevels,
	get:    getLevelProposal,
	facts: func(pr LevelProposal) proposalFacts {
		return proposalFacts{state: pr.State, version: pr.Version, score: pr.Score, policyVersion: pr.PolicyVersion,
			appealUntil: pr.AppealUntil}
	},
	set: func(ctx context.Context, tx pg.TenantTx, actor string, pr LevelProposal, back bool, reason string) error {
		level := pr.ProposedLevel
		if back {
			if pr.CurrentLevel == nil {
				return tenants.ErrorMsg(tenants.CodeConflict, i18n.M("quality.no_previous_level", "Category", pr.Category))
			}
			level = *pr.CurrentLevel
		}
		return recordLevel(ctx, tx, actor, pr.TechnicianID, pr.Category, level, &pr.ID, reason)
	},
	event:    func(pr LevelProposal, reason *string) any { return levelEvent(pr, reason) },
	approved: TypeLevelApproved, rejected: TypeLevelRejected, appealed: TypeLevelAppealed, appealDecided: TypeLevelAppealDecided,
}
