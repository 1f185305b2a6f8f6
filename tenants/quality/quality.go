// Package quality owns service quality: KPI rollups folded incrementally
// from the tenant's event feed (tickets, visits, callbacks, complaints, SLA
// breaches), scorecards and rankings read from those rollups (never from the
// tickets themselves), and node grading by a versioned tenant policy:
// proposals written by a periodic job, decided by a person, appealable
// within a window, with a grade history.
//
// Every ticket counts in one bucket: the day it was taken in (in the
// tenant's time zone), its current node and technician, its product
// category and its address's region (GB/T 2260 code). When a ticket moves
// (redispatched, recategorised) its contribution moves with it: the fold
// stores what each ticket contributed and applies the difference.
//
// Test clocks: a ticket on a test clock records its times on the clock
// (taken in, visits, completion; its complaints too), so it counts on the
// clock's days. A scorecard is over many tickets, on any clocks or none,
// so its periods are on the wall clock (the default day and month are the
// wall clock's, and so are the monthly close, proposals' decision times
// and appeal windows); in test mode only, a period may end as late as the
// today of the tenant's furthest test clock.
package quality

import (
	"context"
	"errors"
	"math"
	"time"

	"github.com/servicenet/servicenet/internal/pg"
	"github.com/servicenet/servicenet/tenants"
	"github.com/servicenet/servicenet/tenants/tickets"
)

// Service reads and writes the quality context.
type Service struct {
	DB pg.DB
}

// inTx runs fn in one transaction of the tenant and returns what it
// returns, its error translated (pg.Translate).
func inTx[T any](ctx context.Context, s *Service, tenantID string, fn func(tx pg.TenantTx) (T, error)) (T, error) {
	var out T
	err := pg.InTenantTx(ctx, s.DB, tenantID, func(tx pg.TenantTx) error {
		var err error
		out, err = fn(tx)
		return err
	})
	return out, pg.Translate(err)
}

// runPeriod runs a grading or levelling run (gradeTx, levelTx) for p over
// q's period, checked like a scorecard's (a range, not in the future).
func runPeriod[R any](ctx context.Context, s *Service, p tenants.Principal, q PeriodQuery,
	run func(ctx context.Context, tx pg.TenantTx, actor string, from, to time.Time) (R, error)) (R, error) {
	return inTx(ctx, s, p.TenantID, func(tx pg.TenantTx) (R, error) {
		from, to, _, err := periodOf(ctx, tx, q)
		if err != nil {
			var zero R
			return zero, err
		}
		return run(ctx, tx, p.Subject(), from, to)
	})
}

// NewService returns the quality service over db.
func NewService(db pg.DB) (*Service, error) {
	if db == nil {
		return nil, errors.New("quality: NewService needs a database")
	}
	return &Service{DB: db}, nil
}

// Metric names: the counters a ticket contributes to its bucket. They are
// the numerators and denominators of the KPIs.
const (
	mTickets          = "tickets"
	mCancelled        = "cancelled"
	mContactCount     = "first_contact.count"
	mContactSeconds   = "first_contact.seconds"
	mArrivalCount     = "arrival.count"
	mArrivalSeconds   = "arrival.seconds"
	mVisitsTimed      = "visits.timed"
	mVisitsEarly      = "visits.early"
	mVisitsOnTime     = "visits.on_time"
	mVisitsLate       = "visits.late"
	mVisitsVeryLate   = "visits.very_late"
	mFTFEligible      = "ftf.eligible"
	mFTFFixed         = "ftf.fixed"
	mRepeatEligible   = "repeat.eligible"
	mRepeat30         = "repeat.30"
	mRepeat90         = "repeat.90"
	mRatingCount      = "rating.count"
	mRatingSum        = "rating.sum"
	mCallbackSat      = "callback.satisfied"
	mCallbackUnsat    = "callback.unsatisfied"
	mCallbackUnreach  = "callback.unreachable"
	mCallbackDue      = "callback.due"
	mCallbackOnTime   = "callback.on_time"
	mComplaints       = "complaint.total"
	mRemoteEligible   = "remote.eligible"
	mRemoteResolved   = "remote.resolved"
	mSignoffCount     = "signoff.count"
	mSignoffCode      = "signoff.code"
	mSignoffDeclined  = "signoff.declined"
	mCostTickets      = "cost.tickets"
	mCostCustomer     = "cost.customer"
	mCostBrand        = "cost.brand"
	mCostPlan         = "cost.plan"
	mPartsUsed        = "parts.used"
	mPartsTickets     = "parts.tickets"
	mWaived           = "waived.tickets"
	complaintPrefix   = "complaint." // complaint.<category>.<severity>
	breachPrefix      = "breach."    // breach.<clock>
	repeatWindowShort = 30
	repeatWindowLong  = 90
)

// Metrics are counters by metric name.
type Metrics map[string]int64

func (m Metrics) add(o Metrics, sign int64) {
	for k, v := range o {
		m[k] += sign * v
	}
}

// KPI is one figure of a scorecard with what it is computed from.
type KPI struct {
	Name        string   `json:"name" doc:"The indicator (see the definitions in the operation's description)." example:"first_time_fix_rate"`
	Value       *float64 `json:"value" doc:"numerator / denominator (times the scale); null when the denominator is 0: no data in the period (e.g. no repair for first_time_fix_rate), not a zero. Grading and levelling leave a KPI without data out of the score." example:"0.75"`
	Numerator   int64    `json:"numerator" example:"3"`
	Denominator int64    `json:"denominator" example:"4"`
	Scale       int64    `json:"scale" doc:"The value is numerator × scale / denominator (100 for rates per 100 tickets, else 1)." example:"1"`
	Unit        string   `json:"unit" enum:"ratio,seconds,rating,minor_units,count,per_100_tickets" example:"ratio"`
	Better      string   `json:"better" enum:"higher,lower" doc:"Which way is better (rankings sort by it)." example:"higher"`
}

// KPIDef defines one indicator from metric counters.
type KPIDef struct {
	Name        string
	Numerator   string
	Denominator string
	Scale       int64
	Unit        string
	Better      string
	Definition  string
}

// KPIs are the indicators every scorecard carries, in order. Their
// definitions are part of the API's documentation.
var KPIs = []KPIDef{
	{"first_contact_seconds", mContactSeconds, mContactCount, 1, "seconds", "lower",
		"Average time from intake to first contact: the first appointment agreed with the customer. Tickets without an appointment (remote guidance, cancelled before scheduling) do not count."},
	{"arrival_seconds", mArrivalSeconds, mArrivalCount, 1, "seconds", "lower",
		"Average time from intake to the technician's first check-in on site. Tickets without a visit do not count."},
	{"on_time_arrival_rate", "visits.punctual", mVisitsTimed, 1, "ratio", "higher",
		"Network visits with an agreed window that arrived early or on time (not late) over all such visits. Visits in a window the customer asked to move count against the window in force; a window the network moved once it had begun, with no visit at it (for any other reason), counts as a late arrival at it (very late when moved more than 15 minutes after its end); visits that do not count against the network (the customer's fault) are left out."},
	{"early_arrival_rate", mVisitsEarly, mVisitsTimed, 1, "ratio", "higher",
		"Network visits that met the standard (5 to 10 minutes early, or more) over all network visits with an agreed window (windows the network missed included, as for on_time_arrival_rate)."},
	{"first_time_fix_rate", mFTFFixed, mFTFEligible, 1, "ratio", "higher",
		"Completed repair tickets fixed at the first network visit and never reopened, over repair tickets completed after at least one network visit. A repair reopened after its completion was not fixed the first time: it counts, not fixed, from the reopening on, whatever becomes of it (completed again, or cancelled before it is served again). Tickets cancelled without having been reopened, remote resolutions and the other ticket types (installation, maintenance, consultation, return, exchange) do not count."},
	{"repeat_repair_rate_30", mRepeat30, mRepeatEligible, 1, "ratio", "lower",
		"Completed repair tickets of a registered unit after which another (not cancelled) repair ticket for the same unit was opened within 30 days (calendar days in the tenant's time zone: up to the 30th day after the completion's day), over completed repair tickets of registered units. Other ticket types (installation, maintenance, consultation, return, exchange) neither repeat a repair nor are repeated. Counted in the earlier ticket's bucket."},
	{"repeat_repair_rate_90", mRepeat90, mRepeatEligible, 1, "ratio", "lower",
		"As repeat_repair_rate_30, within 90 days."},
	{"average_rating", mRatingSum, mRatingCount, 1, "rating", "higher",
		"Sum of the customers' sign-off ratings (1-5) over the number of rated tickets."},
	{"callback_satisfied_rate", mCallbackSat, "callback.total", 1, "ratio", "higher",
		"Callbacks that found the customer satisfied over all callbacks recorded (satisfied, unsatisfied, unreachable)."},
	{"callback_unsatisfied_rate", mCallbackUnsat, "callback.total", 1, "ratio", "lower",
		"Callbacks that found the customer unsatisfied over all callbacks recorded."},
	{"callback_unreachable_rate", mCallbackUnreach, "callback.total", 1, "ratio", "lower",
		"Callbacks that could not reach the customer over all callbacks recorded."},
	{"callback_on_time_rate", mCallbackOnTime, mCallbackDue, 1, "ratio", "higher",
		"Tickets whose callback was made before its deadline (a callback recorded and no callback SLA breach) over tickets whose callback fell due (a callback recorded or its deadline breached)."},
	{"complaints_per_100_tickets", mComplaints, mTickets, 100, "per_100_tickets", "lower",
		"Complaints filed (about the bucket's tickets, or naming its node or technician without a ticket) per 100 tickets taken in. The breakdown by category and severity is in complaints."},
	{"remote_resolution_rate", mRemoteResolved, mRemoteEligible, 1, "ratio", "higher",
		"Tickets given remote guidance that were resolved without ever being dispatched, over tickets given remote guidance. Consultations (remote only, never dispatched) do not count."},
	{"signoff_code_rate", mSignoffCode, mSignoffCount, 1, "ratio", "higher",
		"Sign-offs the customer confirmed with the one-time code over all sign-offs (ratings; a declined sign-off is no sign-off by the customer and counts in neither)."},
	{"signoff_declined_rate", mSignoffDeclined, "signoff.recorded", 1, "ratio", "lower",
		"Sign-offs the technician recorded as declined by the customer (seed 000: 不要强迫用户签名; no rating, and only after the sign-off code was sent to the customer) over all sign-offs recorded (rated or declined). A refusal is a recorded outcome, not a missing sign-off; a technician who records many is seen here rather than escaping low ratings unnoticed."},
	{"cost_customer_per_ticket", mCostCustomer, mCostTickets, 1, "minor_units", "lower",
		"What customers paid (completion totals, minor units) over completed tickets."},
	{"cost_brand_per_ticket", mCostBrand, mCostTickets, 1, "minor_units", "lower",
		"The brand's share of the completions' charges (completion totals, minor units: warranty work, and what the service promises waived and the centre's reductions took off the customer's charges) over completed tickets. A waiver applied at the completion is a share nobody collects (the network's loss; a claim for the ticket is not owed it), one applied after a paid completion the brand refunds; a reduction the brand pays either way (its refund, or the node's claim)."},
	{"cost_plan_per_ticket", mCostPlan, mCostTickets, 1, "minor_units", "lower",
		"What protection or extended-warranty plans paid over completed tickets."},
	{"parts_per_ticket", mPartsUsed, mCostTickets, 1, "count", "lower",
		"Parts fitted (used) through the tickets' requisitions over completed tickets."},
	{"waived_ticket_rate", mWaived, mCostTickets, 1, "ratio", "lower",
		"Completed tickets whose charges a service promise waived (late arrival, repeat visit, repeat fault, price list not shown) over completed tickets."},
	{"cancellation_rate", mCancelled, "tickets.all", 1, "ratio", "lower",
		"Cancelled tickets over all tickets taken in (cancelled tickets count in no other indicator, but a repair reopened before it was cancelled stays in first_time_fix_rate, not fixed)."},
}

// Clocks are the SLA clocks breaches are counted by: every SLA of a
// ticket (tickets.SLAs), in its order.
var Clocks = func() []string {
	out := make([]string, len(tickets.SLAs))
	for i, sla := range tickets.SLAs {
		out[i] = string(sla)
	}
	return out
}()

// ComplaintCategories and Severities break complaints down.
var (
	ComplaintCategories = []string{"late", "attitude", "fee", "quality", "repeat", "other", "licence", "overcharge", "conduct", "property_damage", "late_arrival"}
	Severities          = []string{"low", "medium", "high", "critical"}
)

// derived adds the metrics computed from others.
func derived(m Metrics) {
	m["visits.punctual"] = m[mVisitsEarly] + m[mVisitsOnTime]
	m["callback.total"] = m[mCallbackSat] + m[mCallbackUnsat] + m[mCallbackUnreach]
	m["tickets.all"] = m[mTickets] + m[mCancelled]
	m["signoff.recorded"] = m[mSignoffCount] + m[mSignoffDeclined]
}

func kpi(d KPIDef, m Metrics) KPI {
	k := KPI{Name: d.Name, Numerator: m[d.Numerator], Denominator: m[d.Denominator], Scale: d.Scale, Unit: d.Unit, Better: d.Better}
	if k.Denominator != 0 {
		v := float64(k.Numerator*k.Scale) / float64(k.Denominator)
		v = math.Round(v*10000) / 10000
		k.Value = &v
	}
	return k
}
