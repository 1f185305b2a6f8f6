package quality

import (
	"context"
	"encoding/json"
	"errors"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/servicenet/servicenet/internal/i18n"
	"github.com/servicenet/servicenet/internal/pg"
	"github.com/servicenet/servicenet/tenants"
	"github.com/servicenet/servicenet/tenants/events"
	"github.com/servicenet/servicenet/tenants/network"
)

// What node grading and technician levelling share: a versioned tenant
// policy of weighted indicators, a score from the KPIs, and proposals that
// a person approves or rejects, that can be appealed within a window and
// whose appeal a person decides. Each of them is a ladder over its own
// tables (grade_* and level_*, with the same shape); what a rung is (a
// node's grade, a technician's level in a category) and how it is set
// stay with each.

// ladder names the tables and words of one kind of proposal.
type ladder struct {
	runs      string // runs: one per period and policy version
	policies  string // policy versions
	proposals string
	appeals   string
	what      string // "grade proposal"
	changed   string // catalog code of "the policy changed since you read it"
	updated   string // the event type of a new policy version
}

var (
	nodeGrades = ladder{runs: "grading_runs", policies: "grading_policies", proposals: "grade_proposals", appeals: "grade_appeals",
		what: "grade proposal", changed: "quality.grading_policy_changed", updated: TypeGradingPolicyUpdated}
	techLevels = ladder{runs: "level_runs", policies: "level_policies", proposals: "level_proposals", appeals: "level_appeals",
		what: "level proposal", changed: "quality.level_policy_changed", updated: TypeLevelPolicyUpdated}
)

// validateIndicators names every bad indicator (under body.indicators) and
// a weight sum other than total.
func validateIndicators(v *tenants.Validation, inds []Indicator, total int) {
	sum := 0
	seen := map[string]bool{}
	for i, ind := range inds {
		loc := "indicators[" + strconv.Itoa(i) + "]"
		if _, ok := KPIByName(ind.KPI); !ok {
			v.AddMsg(loc+".kpi", i18n.M("quality.indicator_kpi"), ind.KPI)
		} else if seen[ind.KPI] {
			v.AddMsg(loc+".kpi", i18n.M("quality.listed_once"), ind.KPI)
		}
		seen[ind.KPI] = true
		if ind.Best == ind.Worst {
			v.AddMsg(loc+".best", i18n.M("quality.different_from_worst"), ind.Best)
		}
		sum += ind.Weight
	}
	if sum != total {
		v.AddMsg("indicators", i18n.M("quality.weights_sum", "Sum", sum, "Total", total), sum)
	}
}

// score weighs m's KPIs by inds: each value normalised between its worst
// (0) and best (1), clamped, times its weight, over the indicators with
// data only. A KPI with no data in the period (its denominator 0: no
// repair for the first-time fix rate) is not a failure: it earns no
// points (nil) and its weight is shared by the others, each indicator's
// points scaled by the policy's weights over the weights of those with
// data, so that the score stays on the total_weight scale and is the sum
// of the points. ok is false when no indicator has data: there is no
// score to grade or level by.
func score(inds []Indicator, m Metrics) (total float64, out []IndicatorScore, ok bool) {
	derived(m)
	var all, withData int
	out = make([]IndicatorScore, 0, len(inds))
	norm := make([]float64, len(inds))
	for i, ind := range inds {
		def, _ := KPIByName(ind.KPI)
		k := kpi(def, m)
		all += ind.Weight
		out = append(out, IndicatorScore{KPI: ind.KPI, Weight: ind.Weight, Value: k.Value, Numerator: k.Numerator, Denominator: k.Denominator})
		if k.Value != nil {
			withData += ind.Weight
			norm[i] = math.Max(0, math.Min(1, (*k.Value-ind.Worst)/(ind.Best-ind.Worst)))
		}
	}
	if withData == 0 {
		return 0, out, false
	}
	for i := range out {
		if out[i].Value == nil {
			continue
		}
		p := math.Round(float64(out[i].Weight)*norm[i]*float64(all)/float64(withData)*1000) / 1000
		out[i].Points = &p
		total += p
	}
	return math.Round(total*1000) / 1000, out, true
}

// loadPolicy reads the current version of l's policy into dst; ok is false
// when the tenant has none.
func (l ladder) loadPolicy(ctx context.Context, tx pg.TenantTx, dst any) (version int, at time.Time, ok bool, err error) {
	var raw []byte
	err = tx.QueryRow(ctx, `SELECT version, policy, created_at FROM `+l.policies+` WHERE tenant_id = $1 ORDER BY version DESC LIMIT 1`,
		tx.TenantID).Scan(&version, &raw, &at)
	if errors.Is(err, pgx.ErrNoRows) {
		return 0, at, false, nil
	}
	if err != nil {
		return 0, at, false, err
	}
	return version, at, true, json.Unmarshal(raw, dst)
}

// currentOf reads l's current policy as a P stamped with its version and
// time; ok is false when the tenant has none.
func currentOf[P any, PP interface {
	*P
	stamp(version int, at time.Time)
}](ctx context.Context, tx pg.TenantTx, l ladder) (P, bool, error) {
	var pol P
	v, at, ok, err := l.loadPolicy(ctx, tx, &pol)
	if !ok || err != nil {
		var zero P
		return zero, false, err
	}
	PP(&pol).stamp(v, at)
	return pol, true, nil
}

// storePolicy stores pol as the version after ifVersion, which must be the
// current one (0: none yet); another is precondition_failed.
func (l ladder) storePolicy(ctx context.Context, tx pg.TenantTx, actor string, ifVersion int, pol any) (int, error) {
	if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock(hashtextextended($1 || ':' || $2, 0))`, l.policies, tx.TenantID); err != nil {
		return 0, err
	}
	var cur int
	if err := tx.QueryRow(ctx, `SELECT coalesce(max(version), 0) FROM `+l.policies+` WHERE tenant_id = $1`, tx.TenantID).Scan(&cur); err != nil {
		return 0, err
	}
	if cur != ifVersion {
		return 0, tenants.ErrorMsg(tenants.CodePreconditionFailed, i18n.M(l.changed, "Version", cur))
	}
	raw, err := json.Marshal(pol)
	if err != nil {
		return 0, err
	}
	_, err = tx.Exec(ctx, `INSERT INTO `+l.policies+` (tenant_id, version, policy, actor) VALUES ($1, $2, $3, $4)`,
		tx.TenantID, cur+1, raw, actor)
	return cur + 1, err
}

// setPolicy stores pol as the version after ifVersion (storePolicy) and
// appends the policy's updated event with the new version.
func (l ladder) setPolicy(ctx context.Context, tx pg.TenantTx, actor string, ifVersion int, pol any) error {
	v, err := l.storePolicy(ctx, tx, actor, ifVersion, pol)
	if err != nil {
		return err
	}
	return events.Append(ctx, tx, events.New{Type: l.updated, SubjectID: tx.TenantID, Actor: actor,
		Data: map[string]any{"version": v}})
}

// readPolicy reads a ladder's current policy with current; without one it
// is not found (what names it).
func readPolicy[P any](ctx context.Context, s *Service, p tenants.Principal, what string,
	current func(context.Context, pg.TenantTx) (P, bool, error)) (P, error) {
	return inTx(ctx, s, p.TenantID, func(tx pg.TenantTx) (P, error) {
		pol, ok, err := current(ctx, tx)
		if !ok && err == nil {
			return pol, tenants.NotFound(what)
		}
		return pol, err
	})
}

// putPolicy stores in as l's policy version after ifVersion (setPolicy)
// and reads it back with current.
func putPolicy[P any](ctx context.Context, s *Service, p tenants.Principal, l ladder, ifVersion int, in P,
	current func(context.Context, pg.TenantTx) (P, bool, error)) (P, error) {
	return inTx(ctx, s, p.TenantID, func(tx pg.TenantTx) (P, error) {
		if err := l.setPolicy(ctx, tx, p.Subject(), ifVersion, in); err != nil {
			var zero P
			return zero, err
		}
		pol, _, err := current(ctx, tx)
		return pol, err
	})
}

// runCounts are a run's counts: subjects given a proposal and skipped.
type runCounts struct{ done, skipped int }

// openRun records run id of l for from..to under policy version. Runs are
// idempotent per period and version: when one was recorded already, fresh
// is false and id and counts are that run's.
func (l ladder) openRun(ctx context.Context, tx pg.TenantTx, id *string, from, to time.Time, version int, actor string) (counts runCounts, fresh bool, err error) {
	tag, err := tx.Exec(ctx, `INSERT INTO `+l.runs+` (tenant_id, id, period_from, period_to, policy_version, actor)
		VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT DO NOTHING`, tx.TenantID, *id, from, to, version, actor)
	if err != nil || tag.RowsAffected() > 0 {
		return counts, err == nil, err
	}
	err = tx.QueryRow(ctx, `SELECT id, graded, skipped FROM `+l.runs+` WHERE tenant_id = $1 AND period_from = $2
		AND period_to = $3 AND policy_version = $4`, tx.TenantID, from, to, version).Scan(id, &counts.done, &counts.skipped)
	return counts, false, err
}

// closeRun records run id's counts.
func (l ladder) closeRun(ctx context.Context, tx pg.TenantTx, id string, counts runCounts) error {
	_, err := tx.Exec(ctx, `UPDATE `+l.runs+` SET graded = $3, skipped = $4 WHERE tenant_id = $1 AND id = $2`,
		tx.TenantID, id, counts.done, counts.skipped)
	return err
}

// decidable checks a proposal may be decided: the version the caller read
// (0: any) and its state.
func (l ladder) decidable(state string, version, ifVersion int, approve bool, reason string) error {
	if err := tenants.CheckVersion(l.what, ifVersion, version); err != nil {
		return err
	}
	if state != "proposed" {
		return tenants.ErrorMsg(tenants.CodeConflict, i18n.M("quality.proposal_not_proposed", "State", state))
	}
	if !approve && reason == "" {
		return tenants.InvalidMsg("reason", i18n.M("quality.required_to_reject"), reason)
	}
	return nil
}

// markDecided records a decision; an approval opens the appeal window of
// the proposal's appeal_days.
func (l ladder) markDecided(ctx context.Context, tx pg.TenantTx, id string, approve bool, actor, reason string) error {
	state := "rejected"
	if approve {
		state = "approved"
	}
	_, err := tx.Exec(ctx, `UPDATE `+l.proposals+` SET state = $3, decided_by = $4, decided_at = now(), reason = $5,
		appeal_until = CASE WHEN $6 THEN now() + make_interval(days => appeal_days) END, version = version + 1
		WHERE tenant_id = $1 AND id = $2`, tx.TenantID, id, state, actor, nullIfEmpty(reason), approve)
	return err
}

// fileAppeal records an appeal against an approved proposal within its
// window; once only.
func (l ladder) fileAppeal(ctx context.Context, tx pg.TenantTx, id, state string, until *time.Time, actor, reason string) error {
	if state != "approved" {
		return tenants.ErrorMsg(tenants.CodeConflict, i18n.M("quality.proposal_not_approved", "State", state))
	}
	if until == nil || time.Now().After(*until) {
		return tenants.ErrorMsg(tenants.CodeConflict, i18n.M("quality.appeal_window_closed"))
	}
	if _, err := tx.Exec(ctx, `INSERT INTO `+l.appeals+` (tenant_id, proposal_id, reason, filed_by) VALUES ($1, $2, $3, $4)`,
		tx.TenantID, id, reason, actor); err != nil {
		return err
	}
	_, err := tx.Exec(ctx, `UPDATE `+l.proposals+` SET state = 'appealed', version = version + 1 WHERE tenant_id = $1 AND id = $2`,
		tx.TenantID, id)
	return err
}

// appealDecidable checks a proposal's appeal may be decided.
func appealDecidable(state string) error {
	if state != "appealed" {
		return tenants.ErrorMsg(tenants.CodeConflict, i18n.M("quality.proposal_not_appealed", "State", state))
	}
	return nil
}

// markAppealDecided records an appeal's decision (upheld or overturned).
func (l ladder) markAppealDecided(ctx context.Context, tx pg.TenantTx, id, decision, actor, note string) error {
	if _, err := tx.Exec(ctx, `UPDATE `+l.appeals+` SET decision = $3, decision_note = $4, decided_by = $5, decided_at = now()
		WHERE tenant_id = $1 AND proposal_id = $2`, tx.TenantID, id, decision, note, actor); err != nil {
		return err
	}
	_, err := tx.Exec(ctx, `UPDATE `+l.proposals+` SET state = $3, version = version + 1 WHERE tenant_id = $1 AND id = $2`,
		tx.TenantID, id, decision)
	return err
}

// appealColumns receive a proposal row's appeal columns (a.reason,
// a.filed_by, a.filed_at, a.decision, a.decision_note, a.decided_by,
// a.decided_at), all NULL when the proposal has no appeal.
type appealColumns struct {
	reason, filedBy *string
	filedAt         *time.Time
	ap              Appeal
}

// dest are the scan targets of the columns, in that order.
func (a *appealColumns) dest() []any {
	return []any{&a.reason, &a.filedBy, &a.filedAt, &a.ap.Decision, &a.ap.DecisionNote, &a.ap.DecidedBy, &a.ap.DecidedAt}
}

// appeal is the appeal scanned, or nil without one.
func (a *appealColumns) appeal() *Appeal {
	if a.reason == nil {
		return nil
	}
	a.ap.Reason, a.ap.FiledBy, a.ap.FiledAt = *a.reason, *a.filedBy, *a.filedAt
	return &a.ap
}

// collectProposals scans a proposal list's rows (of a query that failed
// with err, or not) with scan; no rows is an empty list.
func collectProposals[P any](rows pgx.Rows, err error, scan func(pgx.Row) (P, error)) ([]P, error) {
	if err != nil {
		return nil, err
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (P, error) { return scan(r) })
	if out == nil {
		out = []P{}
	}
	return out, err
}

// subtreeOf is a node-bound principal's subtree (the node IDs a list is
// narrowed to, in its query); nil, no narrowing, for other principals.
func subtreeOf(ctx context.Context, tx pg.TenantTx, p tenants.Principal) ([]string, error) {
	if p.NodeID == "" {
		return nil, nil
	}
	within, err := network.SubtreeIDsTx(ctx, tx, p.NodeID)
	if within == nil {
		within = []string{}
	}
	return within, err
}

// proposalKey is the sort key of a proposal list's row (newest first, then
// by ID): its creation time and ID.
func proposalKey(at time.Time, id string) string {
	return at.UTC().Format(time.RFC3339Nano) + "|" + id
}

// proposalPage is where a page of a proposal list starts and how long it
// is: the creation time and ID the cursor of kind ends after (nil at the
// first page) and the page's limit. A cursor this list did not make is
// MalformedCursor.
type proposalPage struct {
	at    *time.Time
	id    string
	limit *int // nil: every row (a run's own proposals)
}

func pageOfProposals(kind, cursor string, limit int) (proposalPage, error) {
	n := tenants.PageLimit(limit) + 1
	pp := proposalPage{limit: &n}
	key, err := tenants.PageAfter(kind, cursor)
	if err != nil || key == "" {
		return pp, err
	}
	ts, id, _ := strings.Cut(key, "|")
	at, err := time.Parse(time.RFC3339Nano, ts)
	if err != nil || id == "" {
		return pp, tenants.MalformedCursor(cursor)
	}
	pp.at, pp.id = &at, id
	return pp, nil
}

// history reads a subject's rung changes, oldest first, as H (sql's
// columns in H's field order; $1 is the tenant, args the rest) once inScope
// has checked the principal may see the subject; none is an empty list.
func history[H any](ctx context.Context, s *Service, p tenants.Principal, inScope func(tx pg.TenantTx) error, sql string, args ...any) ([]H, error) {
	out, err := inTx(ctx, s, p.TenantID, func(tx pg.TenantTx) ([]H, error) {
		if err := inScope(tx); err != nil {
			return nil, err
		}
		rows, err := tx.Query(ctx, sql, append([]any{tx.TenantID}, args...)...)
		if err != nil {
			return nil, err
		}
		return pgx.CollectRows(rows, pgx.RowToStructByPos[H])
	})
	if out == nil {
		out = []H{}
	}
	return out, err
}

// eventReason is the reason a proposal's event carries: the one given,
// else the proposal's own ("" without either).
func eventReason(own, given *string) string {
	switch {
	case given != nil:
		return *given
	case own != nil:
		return *own
	}
	return ""
}

// metricsBy gathers rows (of a query that failed with err, or not) of a
// key, a metric and its sum into Metrics per key; key gives the scan
// targets of the key's columns.
func metricsBy[K comparable](rows pgx.Rows, err error, key func(k *K) []any) (map[K]Metrics, error) {
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[K]Metrics{}
	for rows.Next() {
		var k K
		var metric string
		var n int64
		if err := rows.Scan(append(key(&k), &metric, &n)...); err != nil {
			return nil, err
		}
		if out[k] == nil {
			out[k] = Metrics{}
		}
		out[k][metric] = n
	}
	return out, rows.Err()
}

// approvedWhy is the history reason of an approval without one.
func approvedWhy(reason string, score float64, policyVersion int) string {
	if reason != "" {
		return reason
	}
	return "approved: score " + strconv.FormatFloat(score, 'f', -1, 64) + " under policy v" + strconv.Itoa(policyVersion)
}

// rung is one ladder's proposals P for the workflow both share: a person
// decides a proposal, the subject appeals an approval, a person decides
// the appeal. What differs (the proposal's type, its rung, its events)
// comes from the fields.
type rung[P any] struct {
	ladder
	// get reads proposal id in the principal's scope, locked.
	get func(ctx context.Context, tx pg.TenantTx, p tenants.Principal, id string) (P, error)
	// facts are what the workflow reads of a proposal.
	facts func(pr P) proposalFacts
	// set gives the proposal's subject the proposed rung, or with back the
	// rung it had before (a conflict when it had none), with a history
	// entry of reason.
	set func(ctx context.Context, tx pg.TenantTx, actor string, pr P, back bool, reason string) error
	// event is the data of the proposal's events; a reason given replaces
	// the proposal's own.
	event func(pr P, reason *string) any
	// The event types.
	approved, rejected, appealed, appealDecided string
}

// proposalFacts are what deciding and appealing read of a proposal.
type proposalFacts struct {
	state         string
	version       int
	score         float64
	policyVersion int
	appealUntil   *time.Time
}

// decide approves or rejects proposal id (a reason is required to
// reject); approval gives the subject the proposed rung and opens the
// appeal window. Only a proposed proposal can be decided.
func (r rung[P]) decide(ctx context.Context, s *Service, p tenants.Principal, id string, approve bool, reason string, ifVersion int) (P, error) {
	return inTx(ctx, s, p.TenantID, func(tx pg.TenantTx) (P, error) {
		var zero P
		pr, err := r.get(ctx, tx, p, id)
		if err != nil {
			return zero, err
		}
		f := r.facts(pr)
		if err := r.decidable(f.state, f.version, ifVersion, approve, reason); err != nil {
			return zero, err
		}
		typ := r.rejected
		if approve {
			typ = r.approved
			if err := r.set(ctx, tx, p.Subject(), pr, false, approvedWhy(reason, f.score, f.policyVersion)); err != nil {
				return zero, err
			}
		}
		if err := r.markDecided(ctx, tx, id, approve, p.Subject(), reason); err != nil {
			return zero, err
		}
		return r.reread(ctx, tx, p, id, typ, nil)
	})
}

// appeal files the subject's appeal against an approved proposal id
// within its window; once only.
func (r rung[P]) appeal(ctx context.Context, s *Service, p tenants.Principal, id, reason string) (P, error) {
	return inTx(ctx, s, p.TenantID, func(tx pg.TenantTx) (P, error) {
		pr, err := r.get(ctx, tx, p, id)
		if err != nil {
			var zero P
			return zero, err
		}
		f := r.facts(pr)
		if err := r.fileAppeal(ctx, tx, id, f.state, f.appealUntil, p.Subject(), reason); err != nil {
			var zero P
			return zero, err
		}
		return r.reread(ctx, tx, p, id, r.appealed, &reason)
	})
}

// decideAppeal decides the appeal of proposal id: upheld keeps the
// approved rung; overturned restores the one the subject had before, with
// a history entry.
func (r rung[P]) decideAppeal(ctx context.Context, s *Service, p tenants.Principal, id string, overturn bool, note string) (P, error) {
	return inTx(ctx, s, p.TenantID, func(tx pg.TenantTx) (P, error) {
		var zero P
		pr, err := r.get(ctx, tx, p, id)
		if err != nil {
			return zero, err
		}
		if err := appealDecidable(r.facts(pr).state); err != nil {
			return zero, err
		}
		decision := "upheld"
		if overturn {
			decision = "overturned"
			if err := r.set(ctx, tx, p.Subject(), pr, true, "appeal overturned: "+note); err != nil {
				return zero, err
			}
		}
		if err := r.markAppealDecided(ctx, tx, id, decision, p.Subject(), note); err != nil {
			return zero, err
		}
		return r.reread(ctx, tx, p, id, r.appealDecided, &note)
	})
}

// reread reads proposal id as a decision left it and appends its event of
// type typ (reason: see event).
func (r rung[P]) reread(ctx context.Context, tx pg.TenantTx, p tenants.Principal, id, typ string, reason *string) (P, error) {
	out, err := r.get(ctx, tx, p, id)
	if err != nil {
		return out, err
	}
	return out, events.Append(ctx, tx, events.New{Type: typ, SubjectID: id, Actor: p.Subject(), Data: r.event(out, reason)})
}
