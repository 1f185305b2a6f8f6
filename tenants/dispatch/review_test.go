package dispatch_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/servicenet/servicenet/tenants/dispatch"
)

// Review tests: the boundaries of the dispatch rules (DESIGN "Service
// tickets", dispatch bullet; seed 000: 同其他用户上门时间冲突 → 改约 or
// 转其他人). Expected values come from the rules, not from the code.

// A technician already booked for another customer during the window has
// no free slot in it: overlapping by a single minute is a conflict, a
// booking that ends exactly when the window starts (or starts when it
// ends) is not.
func TestReviewTechnicianBookedInTheWindowHasNoFreeSlot(t *testing.T) {
	t.Parallel()
	b := setup(t)
	_, _, _, point := b.network(t)
	overlapping := b.tech(t, point, techSpec{name: "overlapping"})
	adjacent := b.tech(t, point, techSpec{name: "adjacent"})
	busyMorning := b.tech(t, point, techSpec{name: "busy morning"})
	// The window is 14:00-16:00; the helper's bookings last one hour.
	b.ticket(t, point.id, overlapping, "scheduled", ptr(winEnd.Add(-time.Minute)), now) // 15:59-16:59
	b.ticket(t, point.id, adjacent, "scheduled", ptr(winEnd), now)                      // 16:00-17:00
	b.ticket(t, point.id, busyMorning, "scheduled", ptr(winStart.Add(-6*time.Hour)), now)
	b.ticket(t, point.id, busyMorning, "scheduled", ptr(winStart.Add(-5*time.Hour)), now)

	d := b.mustDecide(t, washer())
	require.False(t, techByID(t, d, overlapping).Eligible,
		"booked 15:59-16:59, the window is 14:00-16:00: no free slot: %+v", techByID(t, d, overlapping))
	require.True(t, techByID(t, d, adjacent).Eligible, "16:00-17:00 only touches the window")
	require.Equal(t, adjacent, d.TechnicianID, d.Reason)
}

// The manual choice of a technician booked during the window is refused
// like any other excluded technician (an override does not double-book).
func TestReviewManualTechnicianBookedInTheWindowIsRefused(t *testing.T) {
	t.Parallel()
	b := setup(t)
	_, _, _, point := b.network(t)
	booked := b.tech(t, point, techSpec{name: "booked"})
	b.ticket(t, point.id, booked, "on_site", ptr(winStart.Add(-59*time.Minute)), now) // 13:01-14:01

	r := washer()
	r.TechnicianID = booked
	_, err := b.decide(t, r)
	require.Error(t, err, "the technician is on site elsewhere until 14:01")
}

// A licence is valid through its expiry day in the tenant's zone, for
// the day of the job: at 23:30 on Monday in London (already Tuesday in
// Shanghai) a licence expiring that Monday is still valid for the rest of
// the day; for Tuesday's window it is not.
func TestReviewLicenceExpiringTodayInTheTenantsZone(t *testing.T) {
	t.Parallel()
	b := setup(t).another(t, "Europe/London")
	london, err := time.LoadLocation("Europe/London")
	require.NoError(t, err)
	_, _, _, point := b.network(t)
	late := time.Date(2026, 11, 30, 23, 30, 0, 0, london)
	shifts := `[{"weekday": 1, "start": "20:00", "end": "23:59"}, {"weekday": 2, "start": "08:00", "end": "18:00"}]`
	today := b.tech(t, point, techSpec{name: "expires monday", expiresOn: "2026-11-30", shifts: shifts})
	yesterday := b.tech(t, point, techSpec{name: "expired sunday", expiresOn: "2026-11-29", shifts: shifts})

	r := washer()
	r.WindowStart, r.WindowEnd = nil, nil
	d, err := b.decideAt(t, late, r)
	require.NoError(t, err)
	require.Equal(t, "2026-11-30", d.Day)
	require.True(t, techByID(t, d, today).Eligible, "%+v", techByID(t, d, today))
	require.Equal(t, "licence_invalid", techByID(t, d, yesterday).ExcludedBy)
	require.Equal(t, today, d.TechnicianID)

	// Tuesday 09:00-10:00 London, given in UTC.
	r.WindowStart = ptr(time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC))
	r.WindowEnd = ptr(time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC))
	d, err = b.decideAt(t, late, r)
	require.NoError(t, err)
	require.Equal(t, "2026-12-01", d.Day)
	require.Equal(t, "licence_invalid", techByID(t, d, today).ExcludedBy)
	require.Empty(t, d.TechnicianID)
}

// One job under the capacity is capacity; the ticket being placed does
// not count against its own node.
func TestReviewCapacityBoundary(t *testing.T) {
	t.Parallel()
	b := setup(t)
	_, _, depot, _ := b.network(t)
	oneLeft := b.node(t, &depot, nodeSpec{tier: "repair_point", name: "one left", capacity: 2})
	b.ticket(t, oneLeft.id, "", "dispatched", &winStart, now)
	full := b.node(t, &depot, nodeSpec{tier: "repair_point", name: "full", capacity: 1})
	placed := b.ticket(t, full.id, "", "dispatched", &winStart, now)

	d := b.mustDecide(t, washer())
	require.True(t, nodeByID(t, d, oneLeft.id).Eligible, "1 of 2 booked")
	require.Equal(t, "no_capacity_today", nodeByID(t, d, full.id).ExcludedBy, "1 of 1 booked")

	r := washer()
	r.TicketID = placed
	d = b.mustDecide(t, r)
	require.True(t, nodeByID(t, d, full.id).Eligible, "its only job is the ticket being placed")
	require.Equal(t, 0, nodeByID(t, d, full.id).LoadToday)
}

// A hard fault goes up a tier: an override may not send it to a repair
// point.
func TestReviewManualRepairPointForAHardFaultIsRefused(t *testing.T) {
	t.Parallel()
	b := setup(t)
	_, _, _, point := b.network(t)
	tech := b.tech(t, point, techSpec{level: 5})

	r := washer()
	r.HardFault, r.NodeID = true, point.id
	_, err := b.decide(t, r)
	requireInvalid(t, err, "node_id", "hard_fault_needs_higher_tier")

	r = washer()
	r.HardFault, r.TechnicianID = true, tech
	_, err = b.decide(t, r)
	requireInvalid(t, err, "technician_id", "hard_fault_needs_higher_tier")
}

// A technician named alone whose node cannot take the job: the error names
// the field the caller gave (technician_id), with the node's rule.
func TestReviewManualTechnicianOfASuspendedNode(t *testing.T) {
	t.Parallel()
	b := setup(t)
	_, _, depot, _ := b.network(t)
	suspended := b.node(t, &depot, nodeSpec{tier: "repair_point", status: "suspended"})
	tech := b.tech(t, suspended, techSpec{})

	r := washer()
	r.TechnicianID = tech
	_, err := b.decide(t, r)
	requireInvalid(t, err, "technician_id", "not_active")

	// A node manager of another subtree naming them: no such technician.
	other := b.node(t, &depot, nodeSpec{tier: "repair_point"})
	r.ScopePath = &other.path
	_, err = b.decide(t, r)
	requireInvalid(t, err, "technician_id", "no such technician")
}

// Equal scores are broken by ID, the same way every time: nodes and
// technicians alike.
func TestReviewTiesAreBrokenByID(t *testing.T) {
	t.Parallel()
	b := setup(t)
	_, _, depot, point := b.network(t) // point is a third twin
	p1 := b.node(t, &depot, nodeSpec{tier: "repair_point", name: "twin"})
	p2 := b.node(t, &depot, nodeSpec{tier: "repair_point", name: "twin"})
	first := min(point.id, p1.id, p2.id)
	t1 := b.tech(t, node{id: first}, techSpec{name: "twin"})
	t2 := b.tech(t, node{id: first}, techSpec{name: "twin"})

	for range 3 {
		d := b.mustDecide(t, washer())
		require.Equal(t, first, d.NodeID, d.Reason)
		require.Equal(t, min(t1, t2), d.TechnicianID, d.Reason)
		require.Equal(t, nodeByID(t, d, p1.id).Score, nodeByID(t, d, p2.id).Score)
		require.Equal(t, first, d.Nodes[0].NodeID)
		require.Equal(t, min(t1, t2), d.Technicians[0].TechnicianID)
	}
}

// The reason names the technician actually chosen, for an override too.
func TestReviewReasonNamesTheChosenTechnician(t *testing.T) {
	t.Parallel()
	b := setup(t)
	_, _, _, point := b.network(t)
	b.tech(t, point, techSpec{name: "idle"})
	chosen := b.tech(t, point, techSpec{name: "asked for"})
	b.ticket(t, point.id, chosen, "scheduled", ptr(winStart.Add(-5*time.Hour)), now)

	r := washer()
	r.TechnicianID = chosen
	d := b.mustDecide(t, r)
	require.Equal(t, chosen, d.TechnicianID)
	require.Contains(t, d.Reason, "asked for")
	require.NotContains(t, d.Reason, "idle")
	require.Contains(t, d.Reason, dispatch.DispatchDecision{Reason: "Manual dispatch"}.Reason)
}

// A window that is over when the job is placed (the customer's preferred
// window of a ticket re-dispatched days later, after a rejection or a
// reopening) no longer says when the job is done: the job is placed for
// the rest of today, and the day's licence, shifts and loads are today's.
// Judged on the old window's day, a technician whose licence expired since
// was proposed.
func TestReviewWindowThatIsOverCountsAsToday(t *testing.T) {
	t.Parallel()
	b := setup(t)
	_, _, _, point := b.network(t)
	expired := b.tech(t, point, techSpec{name: "expired sunday", expiresOn: "2026-11-29"})
	busy := b.tech(t, point, techSpec{name: "busy today", limit: 1})
	b.ticket(t, point.id, busy, "scheduled", ptr(winStart.Add(-4*time.Hour)), now)

	r := washer()
	r.WindowStart, r.WindowEnd = ptr(winStart.AddDate(0, 0, -7)), ptr(winEnd.AddDate(0, 0, -7)) // last Monday
	d := b.mustDecide(t, r)
	require.Equal(t, "2026-11-30", d.Day, "the window was over: today")
	require.Equal(t, "licence_invalid", techByID(t, d, expired).ExcludedBy, "expired yesterday")
	require.Equal(t, "daily_limit_reached", techByID(t, d, busy).ExcludedBy, "today's job counts")
	require.Empty(t, d.TechnicianID, d.Reason)
}
