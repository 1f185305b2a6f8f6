package tickets

import (
	"context"
	"math"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/servicenet/servicenet/internal/pg"
)

// QualityFacts is what the quality context's KPIs need of one ticket, read
// as it is now (the quality fold recomputes a ticket's contribution from
// this whenever an event about it arrives).
type QualityFacts struct {
	ID    string
	State State
	// Type is the ticket's type (repair, install, maintenance, ...).
	Type          string
	Category      string
	RegionCode    string
	NodeID        string
	TechnicianID  string
	UnitID        *string
	CreatedAt     time.Time
	Remote        bool // remote guidance was given
	DispatchCount int
	// FirstContactAt is when the first appointment was agreed with the
	// customer or, when earlier, the technician first came to the door (a
	// window booked without the customer's agreement is no contact: the
	// arrival is, as it meets the first_contact deadline).
	FirstContactAt *time.Time
	// FirstArrivalAt is the first technician check-in.
	FirstArrivalAt *time.Time
	// Arrivals of network visits that had a window, by class (early, on_time, late, very_late).
	Arrivals map[string]int
	// MissedWindows are the agreed windows the network missed
	// (MissedWindow, the rule the service promises read too), by their
	// arrival class (MissedWindow.Class: late or very_late).
	MissedWindows map[string]int
	NetworkVisits int
	CompletedAt   *time.Time
	ReopenCount   int
	Rating        *int
	// SignedOff: the customer signed off (a rating); SignoffDeclined: the
	// technician recorded that the customer declined to sign.
	SignedOff       bool
	SignedByCode    bool
	SignoffDeclined bool
	// Callbacks counts recorded callbacks by outcome.
	Callbacks map[string]int
	// Breaches counts first-level SLA breaches by clock.
	Breaches map[string]int
	// CustomerAmount, BrandAmount, PlanAmount are the completion's totals (minor units).
	CustomerAmount, BrandAmount, PlanAmount int64
	Waivers                                 int
	Cancelled                               bool
}

// QualityFactsTx reads the facts of tickets ids, in any order; ids that are
// not tickets of the tenant are left out.
func QualityFactsTx(ctx context.Context, tx pg.TenantTx, ids []string) ([]QualityFacts, error) {
	rows, err := tx.Query(ctx, `
		SELECT t.id, t.state, t.type, coalesce(t.category, ''), coalesce(t.region_code, ''), coalesce(t.node_id, ''),
		       coalesce(t.technician_id, ''), t.unit_id, t.created_at, (t.guidance IS NOT NULL OR t.mode IS NOT DISTINCT FROM 'remote'),
		       t.dispatch_count,
		       least((SELECT min(a.at) FROM ticket_appointments a WHERE a.tenant_id = t.tenant_id AND a.ticket_id = t.id
		                AND a.reason <> 'customer_unreachable'),
		             (SELECT min(v.arrived_at) FROM ticket_visits v WHERE v.tenant_id = t.tenant_id AND v.ticket_id = t.id)),
		       (SELECT min(v.arrived_at) FROM ticket_visits v WHERE v.tenant_id = t.tenant_id AND v.ticket_id = t.id),
		       (SELECT coalesce(jsonb_object_agg(c, n), '{}') FROM (SELECT v.arrival AS c, count(*) AS n FROM ticket_visits v
		          WHERE v.tenant_id = t.tenant_id AND v.ticket_id = t.id AND v.network_visit AND v.arrival IS NOT NULL GROUP BY v.arrival) x),
		       `+missedWindowsOf("t.tenant_id", "t.id")+`,
		       (SELECT count(*) FROM ticket_visits v WHERE v.tenant_id = t.tenant_id AND v.ticket_id = t.id AND v.network_visit),
		       t.completed_at, t.reopen_count, t.rating, t.signed_off_at IS NOT NULL AND NOT t.signoff_declined, t.signed_by_code,
		       t.signoff_declined,
		       (SELECT coalesce(jsonb_object_agg(o, n), '{}') FROM (SELECT c.outcome AS o, count(*) AS n FROM ticket_callbacks c
		          WHERE c.tenant_id = t.tenant_id AND c.ticket_id = t.id GROUP BY c.outcome) x),
		       (SELECT coalesce(jsonb_object_agg(s, n), '{}') FROM (SELECT b.sla AS s, count(*) AS n FROM ticket_sla_breaches b
		          WHERE b.tenant_id = t.tenant_id AND b.ticket_id = t.id AND b.level = 1 GROUP BY b.sla) x),
		       coalesce((t.completion->'totals'->'customer'->>'amount')::bigint, 0),
		       coalesce((t.completion->'totals'->'brand'->>'amount')::bigint, 0),
		       coalesce((t.completion->'totals'->'plan'->>'amount')::bigint, 0),
		       coalesce(jsonb_array_length(t.completion->'waivers'), 0),
		       t.state = 'cancelled'
		FROM tickets t WHERE t.tenant_id = $1 AND t.id = ANY($2)`, tx.TenantID, ids)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (QualityFacts, error) {
		var f QualityFacts
		var missed []MissedWindow
		err := r.Scan(&f.ID, &f.State, &f.Type, &f.Category, &f.RegionCode, &f.NodeID, &f.TechnicianID, &f.UnitID, &f.CreatedAt,
			&f.Remote, &f.DispatchCount, &f.FirstContactAt, &f.FirstArrivalAt, &f.Arrivals, &missed, &f.NetworkVisits,
			&f.CompletedAt, &f.ReopenCount, &f.Rating, &f.SignedOff, &f.SignedByCode, &f.SignoffDeclined, &f.Callbacks, &f.Breaches,
			&f.CustomerAmount, &f.BrandAmount, &f.PlanAmount, &f.Waivers, &f.Cancelled)
		f.MissedWindows = map[string]int{}
		for _, w := range missed {
			f.MissedWindows[w.Class()]++
		}
		return f, err
	})
}

// MissedWindow is an agreed window the network missed: the appointment
// was moved once the window had begun, for any reason but the customer's
// request, and no visit was made at it. The technician did not come in the
// window agreed with the customer (rule 8: 未按照用户约定时间上门), whatever
// the next window's arrival. This is the one statement of the rule
// (missedWindowsOf); it has two readers, which measure it each their way:
// the service promises, a late arrival that makes the service free
// (visitReport, LateMinutes), and the quality fold, a late arrival in the
// on-time figures (QualityFacts.MissedWindows, Class).
type MissedWindow struct {
	Start   time.Time `json:"start"`
	End     time.Time `json:"end"`
	MovedAt time.Time `json:"moved_at"`
}

// missedWindowsOf is the SQL of a scalar subquery: the missed windows
// (MissedWindow) of the ticket of tenant and ticket (SQL expressions: an
// outer query's columns, or parameters), as a jsonb array, [] without one.
func missedWindowsOf(tenant, ticket string) string {
	return `(SELECT coalesce(jsonb_agg(jsonb_build_object('start', a.window_start, 'end', a.window_end, 'moved_at', n.at)
		          ORDER BY a.seq), '[]')
		   FROM ticket_appointments a
		   JOIN ticket_appointments n ON n.tenant_id = a.tenant_id AND n.ticket_id = a.ticket_id AND n.seq = a.seq + 1
		   WHERE a.tenant_id = ` + tenant + ` AND a.ticket_id = ` + ticket + `
		     AND n.at > a.window_start AND n.reason <> 'customer_request'
		     AND NOT EXISTS (SELECT FROM ticket_visits vi WHERE vi.tenant_id = a.tenant_id AND vi.ticket_id = a.ticket_id
		                     AND vi.window_start = a.window_start))`
}

// LateMinutes is how late the service promises hold the network at w: the
// customer waited at least from the window's start until the move, in
// whole minutes rounded up.
func (w MissedWindow) LateMinutes() int {
	return int(math.Ceil(w.MovedAt.Sub(w.Start).Minutes()))
}

// Class is w's arrival class in the on-time figures: an arrival at the
// move (classifyArrival), and at least late: very_late when moved more
// than 15 minutes after the window's end, late otherwise.
func (w MissedWindow) Class() string {
	if c := classifyArrival(arrivalMinutes(w.Start, w.End, w.MovedAt)); c == "very_late" {
		return c
	}
	return "late"
}

// UnitSuccessor is the first ticket of a unit taken in after one of its
// services: NextOfUnitsTx's answer.
type UnitSuccessor struct {
	ID        string
	CreatedAt time.Time
}

// NextOfUnitsTx returns, for each service services[i] of unit units[i]
// completed at completed[i], the first repair ticket of the same unit
// taken in at or after that completion that is not cancelled (the quality
// fold's repeat repair, once the ticket that made the service a repeat was
// cancelled: a fault again, not a cleaning, an installation or a
// consultation); services with none are left out.
func NextOfUnitsTx(ctx context.Context, tx pg.TenantTx, services, units []string, completed []time.Time) (map[string]UnitSuccessor, error) {
	rows, err := tx.Query(ctx, `SELECT s.id, n.id, n.created_at
		FROM unnest($2::text[], $3::text[], $4::timestamptz[]) AS s(id, unit, completed)
		CROSS JOIN LATERAL (SELECT t.id, t.created_at FROM tickets t
			WHERE t.tenant_id = $1 AND t.unit_id = s.unit AND t.id <> s.id AND t.created_at >= s.completed
			  AND t.state <> 'cancelled' AND t.type = 'repair'
			ORDER BY t.created_at, t.id LIMIT 1) n`, tx.TenantID, services, units, completed)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[string]UnitSuccessor{}
	for rows.Next() {
		var service string
		var n UnitSuccessor
		if err := rows.Scan(&service, &n.ID, &n.CreatedAt); err != nil {
			return nil, err
		}
		out[service] = n
	}
	return out, rows.Err()
}
