package dispatch_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/servicenet/servicenet/tenants"
)

// pending adds a ticket dispatched to node and technician and not yet
// booked (no appointment), the customer preferring start–start+2h, last
// changed at updated.
func (b *testBundle) pending(t *testing.T, nodeID, techID string, start, updated time.Time) string {
	t.Helper()
	id := tenants.NewID(tenants.PrefixTicket)
	b.exec(t, `INSERT INTO tickets (tenant_id, id, number, channel, type, state, customer_id, contact, address, fault,
			node_id, technician_id, preferred_start, preferred_end, created_by, updated_at)
		VALUES ($1, $2, $2, 'hotline', 'repair', 'assigned', $3, '{}', '{}', '{}', $4, $5, $6, $7, 'test', $8)`,
		id, b.customer, nodeID, techID, start, start.Add(2*time.Hour), updated)
	return id
}

// A job dispatched today for the customer's preferred window tomorrow,
// not yet booked, is tomorrow's work: dispatch placed it on tomorrow's
// loads (its decision's day), and the next job for tomorrow finds it there
// (least load: the other technician), while today's loads do not hold it.
// It was counted on the day it last changed (today), so every job asked
// for tomorrow went to the same technician until one of them was booked,
// and today's capacity was spent on tomorrow's work. A job whose preferred
// window was already over when it last changed (dispatched again days
// later, for the rest of that day) still counts on that day.
func TestJobCountsOnItsPreferredWindowsDay(t *testing.T) {
	t.Parallel()
	b := setup(t)
	_, _, _, point := b.network(t)
	weekdays := `[{"weekday": 1, "start": "08:00", "end": "18:00"}, {"weekday": 2, "start": "08:00", "end": "18:00"}]`
	// The address at Laoshan; near lives 2 km away, far 30 km.
	near := b.tech(t, point, techSpec{name: "near", shifts: weekdays, lat: ptr(36.1250), lon: ptr(120.4680)})
	far := b.tech(t, point, techSpec{name: "far", shifts: weekdays, lat: ptr(36.3770), lon: ptr(120.4680)})
	tomorrow := winStart.AddDate(0, 0, 1) // Tuesday 14:00
	b.pending(t, point.id, near, tomorrow, now.Add(-time.Hour))
	// Preferred last Monday, dispatched again this morning: today's work.
	b.pending(t, point.id, far, winStart.AddDate(0, 0, -7), now.Add(-time.Hour))

	r := washer()
	r.Latitude, r.Longitude = ptr(36.1070), ptr(120.4680)
	r.WindowStart, r.WindowEnd = ptr(tomorrow.Add(-5*time.Hour)), ptr(tomorrow.Add(-3*time.Hour)) // Tuesday 09:00-11:00
	d := b.mustDecide(t, r)
	require.Equal(t, "2026-12-01", d.Day)
	require.Equal(t, 1, techByID(t, d, near).JobsToday, "near has tomorrow's job")
	require.Equal(t, 0, techByID(t, d, far).JobsToday, "far's job is today's")
	require.Equal(t, 1, nodeByID(t, d, point.id).LoadToday)
	require.Equal(t, far, d.TechnicianID, "least load wins over distance: %s", d.Reason)

	d = b.mustDecide(t, washer()) // today 14:00-16:00
	require.Equal(t, "2026-11-30", d.Day)
	require.Equal(t, 0, techByID(t, d, near).JobsToday, "near's job is tomorrow's")
	require.Equal(t, 1, techByID(t, d, far).JobsToday, "far's job is today's")
	require.Equal(t, 1, nodeByID(t, d, point.id).LoadToday)
}
