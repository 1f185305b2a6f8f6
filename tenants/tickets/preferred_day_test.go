package tickets_test

import (
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/servicenet/servicenet/tenants"
	"github.com/servicenet/servicenet/tenants/dispatch"
	"github.com/servicenet/servicenet/tenants/network"
	"github.com/servicenet/servicenet/tenants/tickets"
)

// jobsOn is what the ticket's dispatch decision counted against the
// technician on its day.
func jobsOn(t *testing.T, tk tickets.Ticket, techID string) int {
	t.Helper()
	cs := tk.Dispatch.Decision.Technicians
	i := slices.IndexFunc(cs, func(c dispatch.TechnicianCandidate) bool { return c.TechnicianID == techID })
	require.GreaterOrEqual(t, i, 0, "%s not considered: %s", techID, tk.Dispatch.Decision.Reason)
	return cs[i].JobsToday
}

// A dispatcher's day: customers call today for visits on a coming day.
// The first job, given to a technician for the customer's preferred window
// that day and not yet booked, is that day's work: the next call for the
// same day finds it on the technician (least load), and the technician's
// daily job limit that day holds it, when the technician books another
// job that day. It was counted on the day the ticket last changed (the
// call's day), so each call for the coming day saw the technician free
// and the limit let one job more be booked.
func TestDispatchedJobCountsOnItsPreferredDay(t *testing.T) {
	p := newPaths(t)
	dispatcher := p.As(tenants.Principal{}, tenants.RoleDispatcher)
	techID := p.d.Technicians[0]
	first := p.open(t, "PRE-0201", 100)
	first, err := p.Tickets.Triage(p.Ctx, p.agent, first.ID, tickets.TriageInput{Mode: "on_site"}, 0)
	require.NoError(t, err)
	first, err = p.Tickets.Dispatch(p.Ctx, dispatcher, first.ID, tickets.DispatchInput{TechnicianID: techID, Reason: "老客户指定师傅"}, 0)
	require.NoError(t, err)
	require.Equal(t, techID, *first.TechnicianID, "%v", first.StateReason)
	day := p.start.Format(time.DateOnly)
	require.Equal(t, day, first.Dispatch.Decision.Day, "placed on the preferred window's day")
	before := jobsOn(t, first, techID)

	second := p.open(t, "PRE-0202", 100)
	second, err = p.Tickets.Triage(p.Ctx, p.agent, second.ID, tickets.TriageInput{Mode: "on_site"}, 0)
	require.NoError(t, err)
	require.Equal(t, day, second.Dispatch.Decision.Day)
	require.Equal(t, before+1, jobsOn(t, second, techID), "the first job is that day's: %s", second.Dispatch.Decision.Reason)

	// The technician takes the second job too, then their limit that day
	// is what they had: the second job does not fit.
	second, err = p.Tickets.Dispatch(p.Ctx, dispatcher, second.ID, tickets.DispatchInput{TechnicianID: techID, Reason: "同一小区顺路"}, 0)
	require.NoError(t, err)
	tech := p.As(tenants.Principal{TechnicianID: techID}, tenants.RoleTechnician)
	_, err = p.Tickets.Accept(p.Ctx, tech, second.ID, tickets.AcceptInput{}, 0)
	require.NoError(t, err)
	limit := before + 1
	_, err = p.Network.UpdateTechnician(p.Ctx, p.Admin, techID, network.TechnicianUpdate{DailyJobLimit: &limit}, 0)
	require.NoError(t, err)
	afternoon := tickets.Window{Start: p.start.Add(4 * time.Hour), End: p.start.Add(6 * time.Hour)}
	_, err = p.Tickets.Schedule(p.Ctx, tech, second.ID, tickets.ScheduleInput{Window: afternoon}, 0)
	require.Equal(t, tenants.CodeConflict, tenants.ErrorCode(err), "the first job holds the last place that day: %v", err)
	require.Contains(t, err.Error(), "daily_limit_reached")
	got, err := p.Tickets.Get(p.Ctx, p.Admin, second.ID)
	require.NoError(t, err)
	require.Equal(t, tickets.State("assigned"), got.State, "nothing booked")
}
