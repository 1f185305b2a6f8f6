package quality

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/servicenet/servicenet/internal/pg"
	"github.com/servicenet/servicenet/tenants/complaints"
	"github.com/servicenet/servicenet/tenants/events"
	"github.com/servicenet/servicenet/tenants/stock"
	"github.com/servicenet/servicenet/tenants/tickets"
)

// FoldBatch is how many feed events one fold transaction takes.
const FoldBatch = 2000

// feedTypes are the events that change a KPI: every ticket event (state
// changes, visits, callbacks, sign-offs, SLA breaches) and complaints filed.
var feedTypes = []string{"ticket.*", complaints.TypeFiled}

// bucket is where a subject's metrics count.
type bucket struct {
	Day        time.Time
	Node, Tech string
	Category   string
	Region     string
}

// fact is a subject's stored contribution.
type fact struct {
	bucket
	UnitID      *string
	CompletedAt *time.Time
	RepeatAfter *int
	// RepeatBy is the later ticket of the unit that RepeatAfter counts
	// (migration 057): its cancellation takes the repeat back.
	RepeatBy *string
	Metrics  Metrics
}

// FoldResult tells what one Fold call did.
type FoldResult struct {
	Events   int   // feed events read
	Subjects int   // tickets and complaints whose contribution was recomputed
	Position int64 // the feed position folded up to
}

// Fold folds the tenant's new feed events into the rollups, FoldBatch at a
// time, until the feed is caught up or max events were read (0: no
// limit). Each batch is one transaction that also stores the position
// reached, so a crash or a concurrent fold never folds an event twice or
// skips one (concurrent folds take turns on the position row).
func (s *Service) Fold(ctx context.Context, tenantID string, max int) (FoldResult, error) {
	var total FoldResult
	for {
		var r FoldResult
		err := pg.InTenantTx(ctx, s.DB, tenantID, func(tx pg.TenantTx) error {
			var err error
			r, err = FoldTx(ctx, tx, FoldBatch)
			return err
		})
		if err != nil {
			return total, pg.Translate(err)
		}
		total.Events += r.Events
		total.Subjects += r.Subjects
		total.Position = r.Position
		if r.Events < FoldBatch || (max > 0 && total.Events >= max) {
			return total, nil
		}
	}
}

// TenantsToFold are the active tenants, each in the modes in which it has
// events the fold has not folded (positioned or not): one statement across
// tenants (pg.TenantsWithWork), so that a fold over tenants with nothing
// new costs one round trip, whatever their number.
func (s *Service) TenantsToFold(ctx context.Context) ([]pg.TenantWork, error) {
	return pg.TenantsWithWork(ctx, s.DB, "quality_fold_pending", nil)
}

// FoldTx folds up to limit feed events inside tx and advances the stored
// position past them.
func FoldTx(ctx context.Context, tx pg.TenantTx, limit int) (FoldResult, error) {
	if _, err := tx.Exec(ctx, `INSERT INTO quality_positions (tenant_id) VALUES ($1) ON CONFLICT DO NOTHING`, tx.TenantID); err != nil {
		return FoldResult{}, err
	}
	var pos int64
	if err := tx.QueryRow(ctx, `SELECT position FROM quality_positions WHERE tenant_id = $1 FOR UPDATE`, tx.TenantID).Scan(&pos); err != nil {
		return FoldResult{}, err
	}
	feed, err := events.FeedTx(ctx, tx, feedTypes, pos, limit)
	if err != nil {
		return FoldResult{}, err
	}
	res := FoldResult{Events: len(feed), Position: pos}
	if len(feed) == 0 {
		return res, nil
	}
	settings, err := tx.Settings(ctx)
	if err != nil {
		return res, err
	}
	ticketIDs := map[string]bool{}
	var loose []string // complaints without a ticket
	var cs complaintRows
	for _, e := range feed {
		res.Position = e.Position
		if e.Type != complaints.TypeFiled {
			ticketIDs[e.SubjectID] = true
			continue
		}
		var c struct {
			ComplaintID  string  `json:"complaint_id"`
			TicketID     *string `json:"ticket_id"`
			NodeID       *string `json:"node_id"`
			TechnicianID *string `json:"technician_id"`
			Category     string  `json:"category"`
			Severity     string  `json:"severity"`
		}
		if err := json.Unmarshal(e.Data, &c); err != nil {
			return res, fmt.Errorf("quality: complaint event %s: %w", e.ID, err)
		}
		if c.ComplaintID == "" {
			c.ComplaintID = e.SubjectID
		}
		cs.add(c.ComplaintID, c.TicketID, deref(c.NodeID), deref(c.TechnicianID), c.Category, c.Severity, e.OccurredAt)
		if c.TicketID != nil {
			ticketIDs[*c.TicketID] = true
		} else {
			loose = append(loose, c.ComplaintID)
		}
	}
	if err := cs.insert(ctx, tx); err != nil {
		return res, err
	}
	ids := make([]string, 0, len(ticketIDs))
	for id := range ticketIDs {
		ids = append(ids, id)
	}
	d := deltas{}
	n, err := refoldTickets(ctx, tx, settings.Location, ids, d)
	if err != nil {
		return res, err
	}
	m, err := refoldLooseComplaints(ctx, tx, settings.Location, loose, d)
	if err != nil {
		return res, err
	}
	res.Subjects = n + m
	if err := d.apply(ctx, tx); err != nil {
		return res, err
	}
	_, err = tx.Exec(ctx, `UPDATE quality_positions SET position = $2, folded_at = now() WHERE tenant_id = $1`, tx.TenantID, res.Position)
	return res, err
}

// complaintRows are the complaints of a batch, inserted in one statement.
type complaintRows struct {
	ids, nodes, techs, cats, sevs []string
	tickets                       []*string
	at                            []time.Time
}

func (c *complaintRows) add(id string, ticket *string, node, tech, cat, sev string, at time.Time) {
	c.ids, c.tickets, c.nodes, c.techs = append(c.ids, id), append(c.tickets, ticket), append(c.nodes, node), append(c.techs, tech)
	c.cats, c.sevs, c.at = append(c.cats, cat), append(c.sevs, sev), append(c.at, at)
}

func (c *complaintRows) insert(ctx context.Context, tx pg.TenantTx) error {
	if len(c.ids) == 0 {
		return nil
	}
	_, err := tx.Exec(ctx, `INSERT INTO quality_complaints (tenant_id, complaint_id, ticket_id, node_id, technician_id, category, severity, filed_at)
		SELECT $1, id, t, nd, tc, c, s, a FROM unnest($2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::timestamptz[])
		AS u(id, t, nd, tc, c, s, a) ON CONFLICT DO NOTHING`, tx.TenantID, c.ids, c.tickets, c.nodes, c.techs, c.cats, c.sevs, c.at)
	return err
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

// deltas accumulate metric changes per bucket.
type deltas map[bucket]Metrics

func (d deltas) add(b bucket, m Metrics, sign int64) {
	if len(m) == 0 {
		return
	}
	cur := d[b]
	if cur == nil {
		cur = Metrics{}
		d[b] = cur
	}
	cur.add(m, sign)
}

// apply adds the deltas to the daily and monthly rollups in two statements.
func (d deltas) apply(ctx context.Context, tx pg.TenantTx) error {
	var (
		days, months                       []time.Time
		nodes, techs, cats, regions, names []string
		ns                                 []int64
	)
	for b, m := range d {
		for k, v := range m {
			if v == 0 {
				continue
			}
			days = append(days, b.Day)
			months = append(months, time.Date(b.Day.Year(), b.Day.Month(), 1, 0, 0, 0, 0, time.UTC))
			nodes, techs, cats, regions = append(nodes, b.Node), append(techs, b.Tech), append(cats, b.Category), append(regions, b.Region)
			names, ns = append(names, k), append(ns, v)
		}
	}
	if len(ns) == 0 {
		return nil
	}
	b := &pgx.Batch{}
	b.Queue(`INSERT INTO quality_daily (tenant_id, day, node_id, technician_id, category, region_code, metric, n)
		SELECT $1, d, nd, tc, c, r, m, sum(n) FROM unnest($2::date[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::bigint[]) AS u(d, nd, tc, c, r, m, n)
		GROUP BY d, nd, tc, c, r, m
		ON CONFLICT (tenant_id, livemode, day, node_id, technician_id, category, region_code, metric)
		DO UPDATE SET n = quality_daily.n + EXCLUDED.n`, tx.TenantID, days, nodes, techs, cats, regions, names, ns)
	b.Queue(`INSERT INTO quality_monthly (tenant_id, month, node_id, category, region_code, metric, n)
		SELECT $1, mo, nd, c, r, m, sum(n) FROM unnest($2::date[], $3::text[], $4::text[], $5::text[], $6::text[], $7::bigint[]) AS u(mo, nd, c, r, m, n)
		GROUP BY mo, nd, c, r, m
		ON CONFLICT (tenant_id, livemode, month, node_id, category, region_code, metric)
		DO UPDATE SET n = quality_monthly.n + EXCLUDED.n`, tx.TenantID, months, nodes, cats, regions, names, ns)
	return tx.SendBatch(ctx, b).Close()
}

// loadFacts reads the stored facts of subjects, locking them.
func loadFacts(ctx context.Context, tx pg.TenantTx, ids []string) (map[string]fact, error) {
	return scanFacts(tx.Query(ctx, `SELECT subject_id, day, node_id, technician_id, category, region_code, unit_id, completed_at,
		repeat_after_days, repeat_by, metrics FROM quality_facts WHERE tenant_id = $1 AND subject_id = ANY($2) FOR UPDATE`, tx.TenantID, ids))
}

// repeatsBy reads, locking them, the stored facts of the services tickets
// ids made repeats.
func repeatsBy(ctx context.Context, tx pg.TenantTx, ids []string) (map[string]fact, error) {
	return scanFacts(tx.Query(ctx, `SELECT subject_id, day, node_id, technician_id, category, region_code, unit_id, completed_at,
		repeat_after_days, repeat_by, metrics FROM quality_facts WHERE tenant_id = $1 AND repeat_by = ANY($2) FOR UPDATE`, tx.TenantID, ids))
}

// scanFacts collects facts by subject.
func scanFacts(rows pgx.Rows, err error) (map[string]fact, error) {
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[string]fact{}
	for rows.Next() {
		var id string
		var f fact
		if err := rows.Scan(&id, &f.Day, &f.Node, &f.Tech, &f.Category, &f.Region, &f.UnitID, &f.CompletedAt, &f.RepeatAfter,
			&f.RepeatBy, &f.Metrics); err != nil {
			return nil, err
		}
		out[id] = f
	}
	return out, rows.Err()
}

// factRows are facts to store, written in one statement (one row per
// subject: a later fact of the same subject replaces an earlier one).
type factRows struct {
	index map[string]int
	ids   []string
	facts []fact
}

func (r *factRows) add(id string, f fact) {
	if r.index == nil {
		r.index = map[string]int{}
	}
	if i, ok := r.index[id]; ok {
		r.facts[i] = f
		return
	}
	r.index[id] = len(r.ids)
	r.ids, r.facts = append(r.ids, id), append(r.facts, f)
}

func (r *factRows) save(ctx context.Context, tx pg.TenantTx) error {
	if len(r.ids) == 0 {
		return nil
	}
	n := len(r.ids)
	days, completed := make([]time.Time, n), make([]*time.Time, n)
	nodes, techs, cats, regions := make([]string, n), make([]string, n), make([]string, n), make([]string, n)
	units, after, by, metrics := make([]*string, n), make([]*int32, n), make([]*string, n), make([]Metrics, n)
	for i, f := range r.facts {
		days[i], completed[i], units[i], by[i], metrics[i] = f.Day, f.CompletedAt, f.UnitID, f.RepeatBy, f.Metrics
		nodes[i], techs[i], cats[i], regions[i] = f.Node, f.Tech, f.Category, f.Region
		if f.RepeatAfter != nil {
			a := int32(*f.RepeatAfter)
			after[i] = &a
		}
	}
	_, err := tx.Exec(ctx, `INSERT INTO quality_facts (tenant_id, subject_id, day, node_id, technician_id, category, region_code, unit_id,
		completed_at, repeat_after_days, repeat_by, metrics)
		SELECT $1, id, d, nd, tc, c, rg, u, ca, ra, rb, m FROM unnest($2::text[], $3::date[], $4::text[], $5::text[], $6::text[], $7::text[],
			$8::text[], $9::timestamptz[], $10::int[], $11::text[], $12::jsonb[]) AS x(id, d, nd, tc, c, rg, u, ca, ra, rb, m)
		ON CONFLICT (tenant_id, livemode, subject_id) DO UPDATE SET day = EXCLUDED.day, node_id = EXCLUDED.node_id,
			technician_id = EXCLUDED.technician_id, category = EXCLUDED.category, region_code = EXCLUDED.region_code,
			unit_id = EXCLUDED.unit_id, completed_at = EXCLUDED.completed_at, repeat_after_days = EXCLUDED.repeat_after_days,
			repeat_by = EXCLUDED.repeat_by, metrics = EXCLUDED.metrics, updated_at = now()`,
		tx.TenantID, r.ids, days, nodes, techs, cats, regions, units, completed, after, by, metrics)
	return err
}

// dayOf is t's calendar day in loc, as a UTC midnight (a date).
func dayOf(t time.Time, loc *time.Location) time.Time {
	y, m, d := t.In(loc).Date()
	return time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
}

// refoldTickets recomputes the contribution of tickets ids from their
// current facts and queues the differences in d.
func refoldTickets(ctx context.Context, tx pg.TenantTx, loc *time.Location, ids []string, d deltas) (int, error) {
	if len(ids) == 0 {
		return 0, nil
	}
	facts, err := tickets.QualityFactsTx(ctx, tx, ids)
	if err != nil {
		return 0, err
	}
	old, err := loadFacts(ctx, tx, ids)
	if err != nil {
		return 0, err
	}
	parts, err := stock.PartsUsedTx(ctx, tx, ids)
	if err != nil {
		return 0, err
	}
	cmps, err := complaintsOf(ctx, tx, ids)
	if err != nil {
		return 0, err
	}
	var rows factRows
	var (
		fresh     []tickets.QualityFacts
		cancelled []string // folded before, cancelled since
	)
	for _, t := range facts {
		prev, had := old[t.ID]
		f := fact{bucket: bucket{Day: dayOf(t.CreatedAt, loc), Node: t.NodeID, Tech: t.TechnicianID, Category: t.Category, Region: t.RegionCode},
			UnitID: t.UnitID, CompletedAt: t.CompletedAt, RepeatAfter: prev.RepeatAfter, RepeatBy: prev.RepeatBy}
		f.Metrics = ticketMetrics(t, parts[t.ID], cmps[t.ID])
		addRepeat(f.Metrics, repeatable(t), f.RepeatAfter)
		if had {
			d.add(prev.bucket, prev.Metrics, -1)
		}
		d.add(f.bucket, f.Metrics, 1)
		rows.add(t.ID, f)
		if !had && t.UnitID != nil && !t.Cancelled && t.Type == tickets.TypeRepair {
			fresh = append(fresh, t)
		}
		if had && t.Cancelled && prev.Metrics[mCancelled] == 0 {
			cancelled = append(cancelled, t.ID)
		}
	}
	if err := rows.save(ctx, tx); err != nil {
		return 0, err
	}
	// A new repair ticket for a unit makes the unit's previous repair a
	// repeat (after the batch's facts are saved: the previous one may be
	// in it); a cancelled one was no repeat after all.
	if err := markRepeats(ctx, tx, loc, fresh, d); err != nil {
		return 0, err
	}
	return len(facts), unmarkRepeats(ctx, tx, loc, cancelled, d)
}

// markRepeats finds, for each new repair ticket of a unit, the unit's last
// repair completed before it was taken in (a fact counted in the repeat
// denominator: repeatable) and, within the long repeat window, records
// how many days later the ticket came (the nearest, when several new
// tickets follow the same repair), all in three statements.
func markRepeats(ctx context.Context, tx pg.TenantTx, loc *time.Location, fresh []tickets.QualityFacts, d deltas) error {
	if len(fresh) == 0 {
		return nil
	}
	ids, units, created := make([]string, len(fresh)), make([]string, len(fresh)), make([]time.Time, len(fresh))
	for i, t := range fresh {
		ids[i], units[i], created[i] = t.ID, *t.UnitID, t.CreatedAt
	}
	rows, err := tx.Query(ctx, `SELECT u.id, u.created, p.subject_id, p.completed_at
		FROM unnest($2::text[], $3::text[], $4::timestamptz[]) AS u(id, unit, created)
		CROSS JOIN LATERAL (SELECT subject_id, completed_at FROM quality_facts
			WHERE tenant_id = $1 AND unit_id = u.unit AND subject_id <> u.id AND completed_at IS NOT NULL AND completed_at <= u.created
			  AND metrics ? '`+mRepeatEligible+`'
			ORDER BY completed_at DESC LIMIT 1) p`, tx.TenantID, ids, units, created)
	if err != nil {
		return err
	}
	nearest := map[string]repeat{} // previous service → the nearest new ticket
	for rows.Next() {
		var at, completed time.Time
		var id, prev string
		if err := rows.Scan(&id, &at, &prev, &completed); err != nil {
			rows.Close()
			return err
		}
		days := repeatDays(completed, at, loc)
		if cur, ok := nearest[prev]; days <= repeatWindowLong && (!ok || days < cur.days) {
			nearest[prev] = repeat{days: days, by: id}
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil || len(nearest) == 0 {
		return err
	}
	prevIDs := make([]string, 0, len(nearest))
	for id := range nearest {
		prevIDs = append(prevIDs, id)
	}
	prevs, err := loadFacts(ctx, tx, prevIDs)
	if err != nil {
		return err
	}
	var out factRows
	for id, prev := range prevs {
		r := nearest[id]
		if prev.RepeatAfter != nil && *prev.RepeatAfter <= r.days {
			continue
		}
		out.add(id, setRepeat(prev, &r, d))
	}
	return out.save(ctx, tx)
}

// repeat is the ticket that makes a service a repeat, days after it.
type repeat struct {
	days int
	by   string
}

// repeatDays is the days from a service's completion to the unit's next
// ticket: calendar days in the tenant's zone (loc), so that "within 30
// days" ends with the 30th day after the completion's day, as the
// scorecards' days do (not 30 whole 24-hour periods and up to a day
// more).
func repeatDays(completed, next time.Time, loc *time.Location) int {
	return int(dayOf(next, loc).Sub(dayOf(completed, loc)).Hours() / 24)
}

// setRepeat is prev with its repeat r (nil: none), queueing the
// difference in d.
func setRepeat(prev fact, r *repeat, d deltas) fact {
	next := prev
	next.Metrics = Metrics{}
	next.Metrics.add(prev.Metrics, 1)
	delete(next.Metrics, mRepeat30)
	delete(next.Metrics, mRepeat90)
	next.RepeatAfter, next.RepeatBy = nil, nil
	if r != nil {
		days, by := r.days, r.by
		next.RepeatAfter, next.RepeatBy = &days, &by
	}
	addRepeat(next.Metrics, false, next.RepeatAfter)
	d.add(prev.bucket, prev.Metrics, -1)
	d.add(next.bucket, next.Metrics, 1)
	return next
}

// unmarkRepeats takes back the repeats the cancelled tickets ids made (a
// cancelled ticket was no repeat repair): each service they made a repeat
// counts the unit's next ticket taken in after it that is not cancelled,
// if it came within the long window, or no repeat at all.
func unmarkRepeats(ctx context.Context, tx pg.TenantTx, loc *time.Location, ids []string, d deltas) error {
	if len(ids) == 0 {
		return nil
	}
	prevs, err := repeatsBy(ctx, tx, ids)
	if err != nil || len(prevs) == 0 {
		return err
	}
	var services, units []string
	var completed []time.Time
	for id, f := range prevs {
		if f.UnitID != nil && f.CompletedAt != nil {
			services, units, completed = append(services, id), append(units, *f.UnitID), append(completed, *f.CompletedAt)
		}
	}
	next, err := tickets.NextOfUnitsTx(ctx, tx, services, units, completed)
	if err != nil {
		return err
	}
	var out factRows
	for id, prev := range prevs {
		var r *repeat
		if n, ok := next[id]; ok && prev.CompletedAt != nil {
			if days := repeatDays(*prev.CompletedAt, n.CreatedAt, loc); days <= repeatWindowLong {
				r = &repeat{days: days, by: n.ID}
			}
		}
		out.add(id, setRepeat(prev, r, d))
	}
	return out.save(ctx, tx)
}

// repeatable reports whether t counts in the repeat-repair denominator
// (返修率): a repair completed for a registered unit and not cancelled. A
// completed installation, maintenance, return or exchange is no repair
// that a fault could repeat.
func repeatable(t tickets.QualityFacts) bool {
	return t.CompletedAt != nil && t.UnitID != nil && !t.Cancelled && t.Type == tickets.TypeRepair
}

// addRepeat sets the repeat counters: eligible when first is set (the
// ticket a repeatable repair), and the windows the unit's next repair
// ticket fell in.
func addRepeat(m Metrics, eligible bool, after *int) {
	if eligible {
		m[mRepeatEligible] = 1
	}
	if after != nil {
		if *after <= repeatWindowShort {
			m[mRepeat30] = 1
		}
		if *after <= repeatWindowLong {
			m[mRepeat90] = 1
		}
	}
}

type complaintRow struct{ Category, Severity string }

func complaintsOf(ctx context.Context, tx pg.TenantTx, ticketIDs []string) (map[string][]complaintRow, error) {
	rows, err := tx.Query(ctx, `SELECT ticket_id, category, severity FROM quality_complaints
		WHERE tenant_id = $1 AND ticket_id = ANY($2)`, tx.TenantID, ticketIDs)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[string][]complaintRow{}
	for rows.Next() {
		var id string
		var c complaintRow
		if err := rows.Scan(&id, &c.Category, &c.Severity); err != nil {
			return nil, err
		}
		out[id] = append(out[id], c)
	}
	return out, rows.Err()
}

// firstTimeFix is a ticket's first-time fix (一次修复率): whether it
// counts (eligible) and was fixed. It is a repair's: an installation, a
// maintenance visit, a return's or an exchange's pickup fixes nothing. A
// repair counts once completed after a network visit, fixed when that was
// its only network visit. One reopened after its completion (which clears
// the completion until it is completed again) was not fixed the first
// time: it counts, not fixed, from the reopening on, whatever becomes of
// it: completed again, or cancelled before it is served again (the
// customer withdrew). A repair cancelled without having been reopened
// never counts.
func firstTimeFix(t tickets.QualityFacts) (eligible, fixed bool) {
	if t.Type != tickets.TypeRepair || t.NetworkVisits == 0 {
		return false, false
	}
	if t.ReopenCount > 0 {
		return true, false
	}
	if t.CompletedAt == nil || t.Cancelled {
		return false, false
	}
	return true, t.NetworkVisits == 1
}

// ticketMetrics is what one ticket contributes (the repeat counters aside).
// A cancelled ticket counts only as cancelled (and its complaints), and a
// repair reopened before its cancellation as not fixed the first time
// (firstTimeFix).
func ticketMetrics(t tickets.QualityFacts, partsUsed int64, cmps []complaintRow) Metrics {
	m := Metrics{}
	for _, c := range cmps {
		m[mComplaints]++
		m[complaintPrefix+c.Category+"."+c.Severity]++
	}
	eligible, fixed := firstTimeFix(t)
	if eligible {
		m[mFTFEligible] = 1
	}
	if t.Cancelled {
		m[mCancelled] = 1
		return m
	}
	if fixed {
		m[mFTFFixed] = 1
	}
	m[mTickets] = 1
	if t.FirstContactAt != nil {
		m[mContactCount] = 1
		m[mContactSeconds] = int64(t.FirstContactAt.Sub(t.CreatedAt).Seconds())
	}
	if t.FirstArrivalAt != nil {
		m[mArrivalCount] = 1
		m[mArrivalSeconds] = int64(t.FirstArrivalAt.Sub(t.CreatedAt).Seconds())
	}
	// A window the network missed (moved once begun, nobody there) is a
	// late arrival at it, whatever the next window's arrival.
	for _, arrivals := range []map[string]int{t.Arrivals, t.MissedWindows} {
		for class, n := range arrivals {
			m[mVisitsTimed] += int64(n)
			m["visits."+class] += int64(n)
		}
	}
	completed := t.CompletedAt != nil
	if t.Rating != nil {
		m[mRatingCount] = 1
		m[mRatingSum] = int64(*t.Rating)
	}
	m[mCallbackSat] = int64(t.Callbacks["satisfied"])
	m[mCallbackUnsat] = int64(t.Callbacks["unsatisfied"])
	m[mCallbackUnreach] = int64(t.Callbacks["unreachable"])
	made := len(t.Callbacks) > 0
	if made || t.Breaches["callback"] > 0 {
		m[mCallbackDue] = 1
		if made && t.Breaches["callback"] == 0 {
			m[mCallbackOnTime] = 1
		}
	}
	for clock, n := range t.Breaches {
		m[breachPrefix+clock] = int64(n)
	}
	// Remote resolution counts the visits remote guidance avoided: a
	// consultation is remote only (never dispatched), no visit avoided.
	if t.Remote && t.Type != tickets.TypeConsultation {
		m[mRemoteEligible] = 1
		if t.DispatchCount == 0 && (t.State == tickets.State("resolved") || t.State == tickets.State("closed")) {
			m[mRemoteResolved] = 1
		}
	}
	if t.SignedOff {
		m[mSignoffCount] = 1
		if t.SignedByCode {
			m[mSignoffCode] = 1
		}
	}
	if t.SignoffDeclined {
		m[mSignoffDeclined] = 1
	}
	if completed {
		m[mCostTickets] = 1
		m[mCostCustomer] = t.CustomerAmount
		m[mCostBrand] = t.BrandAmount
		m[mCostPlan] = t.PlanAmount
		m[mPartsUsed] = partsUsed
		if partsUsed > 0 {
			m[mPartsTickets] = 1
		}
		if t.Waivers > 0 {
			m[mWaived] = 1
		}
	}
	for k, v := range m {
		if v == 0 {
			delete(m, k)
		}
	}
	return m
}

// refoldLooseComplaints counts complaints that name no ticket in the
// bucket of the day they were filed and the node or technician they name.
func refoldLooseComplaints(ctx context.Context, tx pg.TenantTx, loc *time.Location, ids []string, d deltas) (int, error) {
	if len(ids) == 0 {
		return 0, nil
	}
	old, err := loadFacts(ctx, tx, ids)
	if err != nil {
		return 0, err
	}
	rows, err := tx.Query(ctx, `SELECT complaint_id, node_id, technician_id, category, severity, filed_at FROM quality_complaints
		WHERE tenant_id = $1 AND complaint_id = ANY($2)`, tx.TenantID, ids)
	if err != nil {
		return 0, err
	}
	type loose struct {
		id string
		f  fact
	}
	var ls []loose
	for rows.Next() {
		var l loose
		var cat, sev string
		var at time.Time
		if err := rows.Scan(&l.id, &l.f.Node, &l.f.Tech, &cat, &sev, &at); err != nil {
			rows.Close()
			return 0, err
		}
		l.f.Day = dayOf(at, loc)
		l.f.Metrics = Metrics{mComplaints: 1, complaintPrefix + cat + "." + sev: 1}
		ls = append(ls, l)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return 0, err
	}
	var out factRows
	for _, l := range ls {
		if prev, had := old[l.id]; had {
			d.add(prev.bucket, prev.Metrics, -1)
		}
		d.add(l.f.bucket, l.f.Metrics, 1)
		out.add(l.id, l.f)
	}
	return len(ls), out.save(ctx, tx)
}
