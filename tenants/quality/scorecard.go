package quality

import (
	"context"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/servicenet/servicenet/internal/i18n"
	"github.com/servicenet/servicenet/internal/pg"
	"github.com/servicenet/servicenet/tenants"
	"github.com/servicenet/servicenet/tenants/network"
	"github.com/servicenet/servicenet/tenants/testclocks"
	"github.com/servicenet/servicenet/tenants/tickets"
)

// Scope kinds a scorecard is about.
const (
	ScopeNode       = "node"
	ScopeTechnician = "technician"
	ScopeRegion     = "region"
	ScopeCategory   = "category"
	ScopeTenant     = "tenant"
)

// Periods.
const (
	PeriodDay   = "day"
	PeriodWeek  = "week"
	PeriodMonth = "month"
	PeriodRange = "range"
)

// DefaultMaxRangeDays bounds a scorecard's range while the tenant has no
// grading policy (the policy's max_range_days otherwise).
const DefaultMaxRangeDays = 366

// PeriodQuery names a period: a day, the ISO week (Monday to Sunday) or the
// calendar month containing Date, or From..To (inclusive).
type PeriodQuery struct {
	Period string
	Date   string
	From   string
	To     string
}

// ScorecardQuery asks for one scorecard.
type ScorecardQuery struct {
	PeriodQuery
	Scope string
	ID    string
	// Subtree includes the node's whole subtree (scope node).
	Subtree bool
}

// Period is a resolved period.
type Period struct {
	From string `json:"from" format:"date" doc:"First day (tenant's time zone)." example:"2026-11-01"`
	To   string `json:"to" format:"date" doc:"Last day, inclusive." example:"2026-11-30"`
	Kind string `json:"kind" enum:"day,week,month,range" example:"month"`
}

// ComplaintCount is complaints of one category and severity.
type ComplaintCount struct {
	Category string `json:"category" enum:"late,attitude,fee,quality,repeat,other,licence,overcharge,conduct,property_damage,late_arrival" example:"late"`
	Severity string `json:"severity" enum:"low,medium,high,critical" example:"high"`
	Count    int64  `json:"count" example:"1"`
}

// BreachCount is SLA breaches of one clock.
type BreachCount struct {
	Clock tickets.SLA `json:"clock" example:"first_contact"`
	Count int64       `json:"count" doc:"First-level breaches (escalations of the same breach are not counted again)." example:"2"`
}

// Scorecard is the KPIs of one scope and period.
type Scorecard struct {
	Scope      string           `json:"scope" enum:"node,technician,region,category,tenant" example:"node"`
	ID         string           `json:"id,omitempty" doc:"The node, technician, region prefix or category." example:"nod_01jd3zq8w6v7t3y2k9x4n5m6pn"`
	Subtree    bool             `json:"subtree" doc:"Whether the node's whole subtree is included." example:"false"`
	Period     Period           `json:"period"`
	Tickets    int64            `json:"tickets" doc:"Tickets taken in during the period (cancelled ones aside)." example:"120"`
	Cancelled  int64            `json:"cancelled" example:"3"`
	KPIs       []KPI            `json:"kpis"`
	Complaints []ComplaintCount `json:"complaints" doc:"Complaints by category and severity (only those with a count)."`
	Breaches   []BreachCount    `json:"breaches" doc:"SLA breaches by clock (only those with a count)."`
	Metrics    map[string]int64 `json:"metrics" doc:"Every raw counter the KPIs are computed from."`
}

var (
	regionPrefix = regexp.MustCompile(`^[0-9]{2}([0-9]{2}([0-9]{2})?)?$`)
	categoryRe   = regexp.MustCompile(`^[a-z][a-z0-9_]{0,39}$`)
)

// resolvePeriod checks q against today (in the tenant's zone: the default
// day), latest (the last day a period may end on: today, or in test mode
// the furthest test clock's) and the longest range allowed.
func resolvePeriod(q PeriodQuery, today, latest time.Time, maxDays int) (from, to time.Time, kind string, err error) {
	parse := func(loc, s string) (time.Time, bool) {
		t, e := time.Parse(time.DateOnly, s)
		return t, e == nil
	}
	v := &tenants.Validation{}
	kind = q.Period
	if kind == "" {
		kind = PeriodMonth
	}
	switch kind {
	case PeriodDay, PeriodWeek, PeriodMonth:
		d := today
		if q.Date != "" {
			var ok bool
			if d, ok = parse("date", q.Date); !ok {
				v.AddMsg("date", i18n.M("common.date"), q.Date)
				return from, to, kind, v.Err()
			}
		}
		if d.After(latest) {
			v.AddMsg("date", i18n.M("common.not_in_future_today", "Today", latest.Format(time.DateOnly)), q.Date)
			return from, to, kind, v.Err()
		}
		switch kind {
		case PeriodDay:
			from, to = d, d
		case PeriodWeek:
			wd := (int(d.Weekday()) + 6) % 7
			from = d.AddDate(0, 0, -wd)
			to = from.AddDate(0, 0, 6)
		default:
			from = time.Date(d.Year(), d.Month(), 1, 0, 0, 0, 0, time.UTC)
			to = from.AddDate(0, 1, -1)
		}
	case PeriodRange:
		var ok1, ok2 bool
		from, ok1 = parse("from", q.From)
		to, ok2 = parse("to", q.To)
		if !ok1 {
			v.AddMsg("from", i18n.M("quality.range_date"), q.From)
		}
		if !ok2 {
			v.AddMsg("to", i18n.M("quality.range_date"), q.To)
		}
		if err := v.Err(); err != nil {
			return from, to, kind, err
		}
		switch {
		case to.Before(from):
			v.AddMsg("to", i18n.M("quality.on_or_after_from", "From", q.From), q.To)
		case to.After(latest):
			v.AddMsg("to", i18n.M("common.not_in_future_today", "Today", latest.Format(time.DateOnly)), q.To)
		case int(to.Sub(from).Hours()/24)+1 > maxDays:
			v.AddMsg("to", i18n.M("quality.max_range_days", "Days", maxDays), q.To)
		}
	default:
		v.AddMsg("period", i18n.M("common.one_of", "Values", "day, week, month, range"), q.Period)
	}
	return from, to, kind, v.Err()
}

// filter is a resolved scorecard scope: SQL conditions on the rollups.
type filter struct {
	nodes    []string // nil: any node
	tech     string
	category string
	region   string
}

// resolveScope checks that the principal may see the scope: a node-bound
// key only its subtree (and technicians, regions and categories within
// it, counting their tickets in it only), a technician key only itself;
// anything else is not found.
func resolveScope(ctx context.Context, tx pg.TenantTx, p tenants.Principal, scope, id string, subtree bool) (filter, error) {
	var f filter
	techOnly := p.HasRole(tenants.RoleTechnician) && !p.HasRole(tenants.RoleNodeManager)
	if techOnly && (scope != ScopeTechnician || id != p.TechnicianID || id == "") {
		return f, tenants.NotFound(scopeWhat(scope))
	}
	var within []string // the principal's subtree, when node-bound
	if p.NodeID != "" && !techOnly {
		ids, err := network.SubtreeIDsTx(ctx, tx, p.NodeID)
		if err != nil {
			return f, err
		}
		within = ids
		if within == nil {
			within = []string{}
		}
	}
	switch scope {
	case ScopeNode:
		if !tenants.ValidID(tenants.PrefixNode, id) {
			return f, tenants.NotFound("node")
		}
		if _, err := network.NodeInScopeTx(ctx, tx, p, id); err != nil {
			return f, err
		}
		if subtree {
			ids, err := network.SubtreeIDsTx(ctx, tx, id)
			if err != nil {
				return f, err
			}
			f.nodes = ids
		} else {
			f.nodes = []string{id}
		}
		return f, nil
	case ScopeTechnician:
		if !tenants.ValidID(tenants.PrefixTechnician, id) {
			return f, tenants.NotFound("technician")
		}
		if !techOnly {
			if _, err := network.TechnicianNodeTx(ctx, tx, p, id); err != nil {
				return f, err
			}
		}
		// A node-bound key counts the technician's tickets in its subtree
		// only: those served for a node it came from are that node's.
		f.tech, f.nodes = id, within
		return f, nil
	case ScopeRegion:
		if !regionPrefix.MatchString(id) {
			return f, tenants.InvalidMsg("id", i18n.M("quality.region_prefix"), id)
		}
		f.region, f.nodes = id, within
	case ScopeCategory:
		if !categoryRe.MatchString(id) {
			return f, tenants.InvalidMsg("id", i18n.M("common.product_category"), id)
		}
		f.category, f.nodes = id, within
	case ScopeTenant:
		f.nodes = within
	default:
		return f, tenants.InvalidMsg("scope", i18n.M("common.one_of", "Values", "node, technician, region, category, tenant"), scope)
	}
	return f, nil
}

func scopeWhat(scope string) string {
	switch scope {
	case ScopeNode, ScopeTechnician:
		return scope
	}
	return "scorecard"
}

// where builds the rollup conditions for f from placeholder n on.
func (f filter) where(args []any, monthly bool) (string, []any) {
	var conds []string
	if f.nodes != nil {
		args = append(args, f.nodes)
		conds = append(conds, "node_id = ANY($"+strconv.Itoa(len(args))+")")
	}
	if f.tech != "" && !monthly {
		args = append(args, f.tech)
		conds = append(conds, "technician_id = $"+strconv.Itoa(len(args)))
	}
	if f.category != "" {
		args = append(args, f.category)
		conds = append(conds, "category = $"+strconv.Itoa(len(args)))
	}
	if f.region != "" {
		// A prefix as a byte-wise range, not LIKE: LIKE is not leakproof,
		// so under row-level security Postgres will not use it as an index
		// condition and a region's ranking would read the whole month.
		// The pattern operators (~>=~, ~<~) are leakproof and match the
		// text_pattern_ops region indexes.
		args = append(args, f.region, prefixEnd(f.region))
		conds = append(conds, "region_code ~>=~ $"+strconv.Itoa(len(args)-1)+" AND region_code ~<~ $"+strconv.Itoa(len(args)))
	}
	if len(conds) == 0 {
		return "", args
	}
	return " AND " + strings.Join(conds, " AND "), args
}

// prefixEnd is the least string greater than every string starting with
// the digits prefix (its last byte incremented).
func prefixEnd(prefix string) string {
	b := []byte(prefix)
	b[len(b)-1]++
	return string(b)
}

// wholeMonth reports whether from..to is one calendar month.
func wholeMonth(from, to time.Time) bool {
	return from.Day() == 1 && to.Equal(from.AddDate(0, 1, -1))
}

// sumMetrics sums the rollups of f over from..to.
func sumMetrics(ctx context.Context, tx pg.TenantTx, f filter, from, to time.Time) (Metrics, error) {
	var sql string
	args := []any{tx.TenantID}
	if wholeMonth(from, to) && f.tech == "" {
		args = append(args, from)
		var cond string
		cond, args = f.where(args, true)
		sql = `SELECT metric, sum(n)::bigint FROM quality_monthly WHERE tenant_id = $1 AND month = $2` + cond + ` GROUP BY metric`
	} else {
		args = append(args, from, to)
		var cond string
		cond, args = f.where(args, false)
		sql = `SELECT metric, sum(n)::bigint FROM quality_daily WHERE tenant_id = $1 AND day BETWEEN $2 AND $3` + cond + ` GROUP BY metric`
	}
	rows, err := tx.Query(ctx, sql, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	m := Metrics{}
	for rows.Next() {
		var k string
		var n int64
		if err := rows.Scan(&k, &n); err != nil {
			return nil, err
		}
		if n != 0 {
			m[k] = n
		}
	}
	return m, rows.Err()
}

// Scorecard reads one scorecard from the rollups. Bad periods and scopes
// are invalid naming the query parameter; a scope outside the principal's
// is not found.
func (s *Service) Scorecard(ctx context.Context, p tenants.Principal, q ScorecardQuery) (Scorecard, error) {
	var out Scorecard
	err := pg.InTenantTx(ctx, s.DB, p.TenantID, func(tx pg.TenantTx) error {
		from, to, kind, err := periodOf(ctx, tx, q.PeriodQuery)
		if err != nil {
			return err
		}
		f, err := resolveScope(ctx, tx, p, q.Scope, q.ID, q.Subtree)
		if err != nil {
			return err
		}
		m, err := sumMetrics(ctx, tx, f, from, to)
		if err != nil {
			return err
		}
		out = card(m)
		out.Scope, out.ID, out.Subtree = q.Scope, q.ID, q.Subtree && q.Scope == ScopeNode
		out.Period = Period{From: from.Format(time.DateOnly), To: to.Format(time.DateOnly), Kind: kind}
		return nil
	})
	return out, pg.Translate(err)
}

// periodOf resolves q in the tenant's zone with the policy's longest range.
// Periods are on the wall clock (today is the default day, and a period
// may not end after it), except that in test mode a period may end on the
// today of the tenant's furthest test clock: tickets on a clock are
// counted on the days they were taken in on it, which may be ahead of the
// wall clock.
func periodOf(ctx context.Context, tx pg.TenantTx, q PeriodQuery) (from, to time.Time, kind string, err error) {
	st, err := tx.Settings(ctx)
	if err != nil {
		return from, to, kind, err
	}
	today := dayOf(time.Now(), st.Location)
	latest := today
	if !pg.Livemode(ctx) {
		at, ok, err := testclocks.LatestTx(ctx, tx)
		if err != nil {
			return from, to, kind, err
		}
		if ok && dayOf(at, st.Location).After(today) {
			latest = dayOf(at, st.Location)
		}
	}
	maxDays := DefaultMaxRangeDays
	if pol, ok, err := currentPolicy(ctx, tx); err != nil {
		return from, to, kind, err
	} else if ok && pol.MaxRangeDays > 0 {
		maxDays = pol.MaxRangeDays
	}
	return resolvePeriod(q, today, latest, maxDays)
}

// card turns summed metrics into a scorecard body.
func card(m Metrics) Scorecard {
	raw := map[string]int64{}
	for k, v := range m {
		raw[k] = v
	}
	derived(m)
	sc := Scorecard{Tickets: m[mTickets], Cancelled: m[mCancelled], Metrics: raw, Complaints: []ComplaintCount{}, Breaches: []BreachCount{}}
	for _, d := range KPIs {
		sc.KPIs = append(sc.KPIs, kpi(d, m))
	}
	for _, c := range ComplaintCategories {
		for _, sv := range Severities {
			if n := m[complaintPrefix+c+"."+sv]; n != 0 {
				sc.Complaints = append(sc.Complaints, ComplaintCount{Category: c, Severity: sv, Count: n})
			}
		}
	}
	for _, c := range Clocks {
		if n := m[breachPrefix+c]; n != 0 {
			sc.Breaches = append(sc.Breaches, BreachCount{Clock: tickets.SLA(c), Count: n})
		}
	}
	return sc
}

// RankingQuery asks for the nodes of a region (or the principal's whole
// scope) ranked by one KPI over a period.
type RankingQuery struct {
	PeriodQuery
	Region     string
	KPI        string
	MinTickets int64
}

// RankingEntry is one node's place.
type RankingEntry struct {
	Rank     int    `json:"rank" example:"1"`
	NodeID   string `json:"node_id" example:"nod_01jd3zq8w6v7t3y2k9x4n5m6pn"`
	NodeName string `json:"node_name" doc:"The node's name (empty for a node since deleted)." example:"青岛市南区服务中心"`
	Tickets  int64  `json:"tickets" example:"120"`
	KPI      KPI    `json:"kpi"`
}

// Ranking is the nodes of a region ranked by one KPI.
type Ranking struct {
	Region  string         `json:"region,omitempty" example:"3702"`
	KPI     string         `json:"kpi" example:"first_time_fix_rate"`
	Period  Period         `json:"period"`
	Entries []RankingEntry `json:"entries" doc:"Best first (by the KPI's better direction); nodes with no value, or fewer tickets than min_tickets, last."`
}

// KPIByName finds a KPI definition.
func KPIByName(name string) (KPIDef, bool) {
	for _, d := range KPIs {
		if d.Name == name {
			return d, true
		}
	}
	return KPIDef{}, false
}

// Ranking ranks the nodes with tickets in the region over the period by
// one KPI (from the monthly rollups for a calendar month).
func (s *Service) Ranking(ctx context.Context, p tenants.Principal, q RankingQuery) (Ranking, error) {
	def, ok := KPIByName(q.KPI)
	if q.KPI == "" {
		def, ok = KPIByName("first_time_fix_rate")
	}
	if !ok {
		return Ranking{}, tenants.InvalidMsg("kpi", i18n.M("quality.indicator_kpis"), q.KPI)
	}
	out := Ranking{Region: q.Region, KPI: def.Name, Entries: []RankingEntry{}}
	err := pg.InTenantTx(ctx, s.DB, p.TenantID, func(tx pg.TenantTx) error {
		from, to, kind, err := periodOf(ctx, tx, q.PeriodQuery)
		if err != nil {
			return err
		}
		scope := ScopeRegion
		if q.Region == "" {
			scope = ScopeTenant
		}
		f, err := resolveScope(ctx, tx, p, scope, q.Region, false)
		if err != nil {
			return err
		}
		args := []any{tx.TenantID}
		var sql string
		if wholeMonth(from, to) {
			args = append(args, from)
			var cond string
			cond, args = f.where(args, true)
			sql = `SELECT node_id, metric, sum(n)::bigint FROM quality_monthly WHERE tenant_id = $1 AND month = $2` + cond
		} else {
			args = append(args, from, to)
			var cond string
			cond, args = f.where(args, false)
			sql = `SELECT node_id, metric, sum(n)::bigint FROM quality_daily WHERE tenant_id = $1 AND day BETWEEN $2 AND $3` + cond
		}
		need := []string{mTickets, mCancelled}
		for _, name := range []string{def.Numerator, def.Denominator} {
			need = append(need, baseMetrics(name)...)
		}
		args = append(args, need)
		sql += ` AND metric = ANY($` + strconv.Itoa(len(args)) + `) AND node_id <> '' GROUP BY node_id, metric`
		rows, err := tx.Query(ctx, sql, args...)
		if err != nil {
			return err
		}
		per := map[string]Metrics{}
		for rows.Next() {
			var node, k string
			var n int64
			if err := rows.Scan(&node, &k, &n); err != nil {
				rows.Close()
				return err
			}
			if per[node] == nil {
				per[node] = Metrics{}
			}
			per[node][k] = n
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		ids := make([]string, 0, len(per))
		for node := range per {
			ids = append(ids, node)
		}
		names, err := network.NodeNamesTx(ctx, tx, ids)
		if err != nil {
			return err
		}
		for node, m := range per {
			derived(m)
			out.Entries = append(out.Entries, RankingEntry{NodeID: node, NodeName: names[node], Tickets: m[mTickets], KPI: kpi(def, m)})
		}
		sortRanking(out.Entries, def.Better, q.MinTickets)
		out.Period = Period{From: from.Format(time.DateOnly), To: to.Format(time.DateOnly), Kind: kind}
		return nil
	})
	return out, pg.Translate(err)
}

// baseMetrics are the stored metrics a (possibly derived) metric needs.
func baseMetrics(name string) []string {
	switch name {
	case "visits.punctual":
		return []string{mVisitsEarly, mVisitsOnTime}
	case "callback.total":
		return []string{mCallbackSat, mCallbackUnsat, mCallbackUnreach}
	case "tickets.all":
		return []string{mTickets, mCancelled}
	}
	return []string{name}
}

func sortRanking(es []RankingEntry, better string, minTickets int64) {
	ranked := func(e RankingEntry) bool { return e.KPI.Value != nil && e.Tickets >= minTickets }
	sort.SliceStable(es, func(i, j int) bool {
		a, b := es[i], es[j]
		if ranked(a) != ranked(b) {
			return ranked(a)
		}
		if ranked(a) && *a.KPI.Value != *b.KPI.Value {
			if better == "lower" {
				return *a.KPI.Value < *b.KPI.Value
			}
			return *a.KPI.Value > *b.KPI.Value
		}
		if a.Tickets != b.Tickets {
			return a.Tickets > b.Tickets
		}
		return a.NodeID < b.NodeID
	})
	for i := range es {
		if ranked(es[i]) {
			es[i].Rank = i + 1
		}
	}
}
