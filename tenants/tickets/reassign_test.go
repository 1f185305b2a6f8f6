package tickets_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/servicenet/servicenet/tenants"
	"github.com/servicenet/servicenet/tenants/catalog"
	"github.com/servicenet/servicenet/tenants/network"
	"github.com/servicenet/servicenet/tenants/stock"
	"github.com/servicenet/servicenet/tenants/tickets"
)

// A scheduled job is reassigned (改派, seeds 000 and 001: the centre
// reassigns another engineer when the one booked cannot make it) to
// another technician of the node, the window agreed with the customer
// kept: the new technician's booking is checked (a window they are booked
// in is 409 at window, changing nothing), the appointment history records
// who has the window now, and the first technician's time is free again.
func TestScheduledJobIsReassignedWithItsWindow(t *testing.T) {
	p := newPaths(t)
	tk, first, tech := p.acceptedOnSite(t, "RSG-0301")
	tk, err := p.Tickets.Schedule(p.Ctx, tech, tk.ID, tickets.ScheduleInput{Window: *p.window()}, 0)
	require.NoError(t, err)
	node := *tk.NodeID
	other, err := p.Network.CreateTechnician(p.Ctx, p.Admin, network.NewTechnician{ExternalCode: "RSG-TECH-2", NodeID: node,
		Name: "改派师傅", Phone: "+86 136 0000 9301", Skills: []network.Skill{{Category: "washer", Level: 4}},
		Licence: &network.LicenceInput{Number: "LIC-RSG-2", IssuedOn: "2024-01-01", ExpiresOn: "2099-12-31"}, Shifts: everyDay()})
	require.NoError(t, err)
	dispatcher := p.As(tenants.Principal{}, tenants.RoleDispatcher)

	// The other technician is booked in the same window for another customer.
	busy := p.open(t, "RSG-0302", 100)
	busy, err = p.Tickets.Triage(p.Ctx, p.agent, busy.ID, tickets.TriageInput{Mode: "on_site"}, 0)
	require.NoError(t, err)
	busy, err = p.Tickets.Dispatch(p.Ctx, dispatcher, busy.ID, tickets.DispatchInput{TechnicianID: other.ID, Reason: "就近"}, 0)
	require.NoError(t, err)
	otherKey := p.As(tenants.Principal{TechnicianID: other.ID}, tenants.RoleTechnician)
	_, err = p.Tickets.Accept(p.Ctx, otherKey, busy.ID, tickets.AcceptInput{}, 0)
	require.NoError(t, err)
	_, err = p.Tickets.Schedule(p.Ctx, otherKey, busy.ID, tickets.ScheduleInput{Window: *p.window()}, 0)
	require.NoError(t, err)
	_, err = p.Tickets.Assign(p.Ctx, dispatcher, tk.ID, tickets.AssignInput{TechnicianID: other.ID, Reason: "原师傅路上堵车"}, 0)
	require.Equal(t, tenants.CodeConflict, tenants.ErrorCode(err), "%v", err)
	var te *tenants.Error
	require.ErrorAs(t, err, &te)
	require.Len(t, te.Fields, 1, "%v", err)
	require.Equal(t, "window", te.Fields[0].Location)
	require.Equal(t, busy.ID, te.Fields[0].Value)
	got, err := p.Tickets.Get(p.Ctx, p.Admin, tk.ID)
	require.NoError(t, err)
	require.Equal(t, tk.Version, got.Version, "nothing changed")

	_, err = p.Tickets.Cancel(p.Ctx, p.Admin, busy.ID, tickets.CancelInput{Reason: "客户取消"}, 0)
	require.NoError(t, err)
	got, err = p.Tickets.Assign(p.Ctx, dispatcher, tk.ID, tickets.AssignInput{TechnicianID: other.ID, Reason: "原师傅路上堵车"}, 0)
	require.NoError(t, err)
	require.Equal(t, tickets.State("scheduled"), got.State)
	require.Equal(t, other.ID, *got.TechnicianID)
	require.Equal(t, node, *got.NodeID)
	require.True(t, p.start.Equal(*got.Appointment.Start), "the window agreed is kept")
	history, err := p.Tickets.Appointments(p.Ctx, p.Admin, tk.ID)
	require.NoError(t, err)
	require.Len(t, history, 2)
	require.Equal(t, first, *history[0].TechnicianID)
	require.Equal(t, other.ID, *history[1].TechnicianID)
	require.Equal(t, "technician_conflict", history[1].Reason)
	require.True(t, p.start.Equal(history[1].Window.Start))
	require.Equal(t, "assigned:scheduled", p.timeline(t, tk.ID)[len(p.timeline(t, tk.ID))-1])

	// The new technician checks in; the first one's window is free again.
	p.now = p.start.Add(-6 * time.Minute)
	got, err = p.Tickets.CheckIn(p.Ctx, otherKey, tk.ID, tickets.CheckInInput{}, 0)
	require.NoError(t, err)
	require.Equal(t, tickets.State("on_site"), got.State)
	_, err = p.Tickets.CheckIn(p.Ctx, tech, tk.ID, tickets.CheckInInput{}, 0)
	require.Error(t, err, "the first technician no longer has the job")
}

// A scheduled job is dispatched again to another node (改派 to another
// node): the window was the first node's technician's, so the ticket is
// dispatched with no appointment (the history keeps the first window) and
// the new node's technician agrees one; the first technician no longer
// has the job.
func TestScheduledJobIsRedispatchedToAnotherNode(t *testing.T) {
	p := newPaths(t)
	require.GreaterOrEqual(t, len(p.d.Nodes), 2)
	tk, _, tech := p.acceptedOnSite(t, "RSG-0303")
	tk, err := p.Tickets.Schedule(p.Ctx, tech, tk.ID, tickets.ScheduleInput{Window: *p.window()}, 0)
	require.NoError(t, err)
	first := *tk.NodeID
	i := 0
	if p.d.Nodes[0] == first {
		i = 1
	}
	dispatcher := p.As(tenants.Principal{}, tenants.RoleDispatcher)
	got, err := p.Tickets.Dispatch(p.Ctx, dispatcher, tk.ID, tickets.DispatchInput{TechnicianID: p.d.Technicians[i], Reason: "原网点师傅当天无法上门，改派"}, 0)
	require.NoError(t, err)
	require.Equal(t, tickets.State("dispatched"), got.State, "%v", got.StateReason)
	require.Equal(t, p.d.Nodes[i], *got.NodeID)
	require.Equal(t, p.d.Technicians[i], *got.TechnicianID)
	require.Nil(t, got.Appointment.Start, "the first node's window is given up")
	history, err := p.Tickets.Appointments(p.Ctx, p.Admin, tk.ID)
	require.NoError(t, err)
	require.Len(t, history, 1, "the history keeps the first window")

	_, err = p.Tickets.CheckIn(p.Ctx, tech, tk.ID, tickets.CheckInInput{}, 0)
	require.Error(t, err, "the first technician no longer has the job")
	newTech := p.As(tenants.Principal{TechnicianID: p.d.Technicians[i]}, tenants.RoleTechnician)
	_, err = p.Tickets.Accept(p.Ctx, newTech, tk.ID, tickets.AcceptInput{}, 0)
	require.NoError(t, err)
	got, err = p.Tickets.Schedule(p.Ctx, newTech, tk.ID, tickets.ScheduleInput{Window: *p.window()}, 0)
	require.NoError(t, err)
	require.Equal(t, tickets.State("scheduled"), got.State)
	require.Equal(t, p.d.Nodes[i], *got.NodeID)
}

// A scheduled job whose parts the node issued for it (a second visit
// after waiting for parts) stays with the node: dispatching it to another
// node is 409 naming the part, changing nothing.
func TestScheduledJobWithPartsIssuedStaysWithTheNode(t *testing.T) {
	p := newPaths(t)
	tk, tech := p.onSite(t, p.open(t, "RSG-0304", 100))
	pump := p.demoPart(t, drainPumpNo)
	p.diagnose(t, tech, tk.ID, tickets.WorkInput{ServiceKind: "repair", Parts: []catalog.QuotePart{{PartID: pump, Quantity: 1}}}, true)
	_, err := p.Stock.Receive(p.Ctx, p.Admin, *tk.NodeID, stock.Receipt{Lines: []stock.ReceiptLine{{PartID: pump, Quantity: 1}}})
	require.NoError(t, err)
	move := func(op string, n int) tickets.Ticket {
		t.Helper()
		got, err := p.Tickets.MoveParts(p.Ctx, tech, tk.ID, tickets.PartsInput{Op: op, Lines: []stock.Line{{PartID: pump, Quantity: n}}}, 0)
		require.NoError(t, err)
		return got.Ticket
	}
	move("reserve", 1)
	move("issue", 1)
	waiting := move("reserve", 100)
	require.Equal(t, tickets.State("awaiting_parts"), waiting.State)
	next := twoHours(nextWorkday(p.start))
	tk, err = p.Tickets.Reschedule(p.Ctx, tech, tk.ID, tickets.RescheduleInput{Window: next, Reason: "parts", CustomerAgreed: true}, 0)
	require.NoError(t, err)
	require.Equal(t, tickets.State("scheduled"), tk.State)

	other := p.d.Nodes[0]
	if other == *tk.NodeID {
		other = p.d.Nodes[1]
	}
	dispatcher := p.As(tenants.Principal{}, tenants.RoleDispatcher)
	_, err = p.Tickets.Dispatch(p.Ctx, dispatcher, tk.ID, tickets.DispatchInput{NodeID: other, Reason: "改派"}, 0)
	require.Equal(t, tenants.CodeConflict, tenants.ErrorCode(err), "%v", err)
	require.Contains(t, err.Error(), drainPumpNo)
	got, err := p.Tickets.Get(p.Ctx, p.Admin, tk.ID)
	require.NoError(t, err)
	require.Equal(t, tk.Version, got.Version, "nothing changed")
}

// A job dispatched again to the node it is at (改派 to another of its
// technicians through dispatch) keeps the parts the node reserved for it:
// they were released to the shelf as if the job had left, and the node's
// next job could take the pump this customer was waiting for. Sent to
// another node, the reservation goes back to the first node's shelf.
func TestJobDispatchedAgainToItsNodeKeepsItsParts(t *testing.T) {
	p := newPaths(t)
	tk, tech := p.onSite(t, p.open(t, "RSG-0305", 100))
	node := *tk.NodeID
	pump := p.demoPart(t, drainPumpNo)
	p.diagnose(t, tech, tk.ID, tickets.WorkInput{ServiceKind: "repair", Parts: []catalog.QuotePart{{PartID: pump, Quantity: 1}}}, true)
	_, err := p.Stock.Receive(p.Ctx, p.Admin, node, stock.Receipt{Lines: []stock.ReceiptLine{{PartID: pump, Quantity: 1}}})
	require.NoError(t, err)
	move := func(op string, n int) tickets.PartsResult {
		t.Helper()
		got, err := p.Tickets.MoveParts(p.Ctx, tech, tk.ID, tickets.PartsInput{Op: op, Lines: []stock.Line{{PartID: pump, Quantity: n}}}, 0)
		require.NoError(t, err)
		return got
	}
	move("reserve", 1)
	require.Equal(t, tickets.State("awaiting_parts"), move("reserve", 100).Ticket.State, "short of the rest (the node's shelf is shared with the other tests)")
	next := twoHours(nextWorkday(p.start))
	tk, err = p.Tickets.Reschedule(p.Ctx, tech, tk.ID, tickets.RescheduleInput{Window: next, Reason: "parts", CustomerAgreed: true}, 0)
	require.NoError(t, err)
	require.Equal(t, tickets.State("scheduled"), tk.State)
	reserved := func() int {
		return p.Count(t, `SELECT coalesce(sum(reserved), 0) FROM ticket_parts WHERE tenant_id = $1 AND ticket_id = $2 AND node_id = $3`, tk.ID, node)
	}
	require.Equal(t, 1, reserved())

	dispatcher := p.As(tenants.Principal{}, tenants.RoleDispatcher)
	got, err := p.Tickets.Dispatch(p.Ctx, dispatcher, tk.ID, tickets.DispatchInput{NodeID: node, Reason: "同网点改派"}, 0)
	require.NoError(t, err)
	require.Equal(t, tickets.State("dispatched"), got.State, "%v", got.StateReason)
	require.Equal(t, node, *got.NodeID)
	require.Equal(t, 1, reserved(), "the pump stays reserved for the customer")

	other := p.d.Nodes[0]
	if other == node {
		other = p.d.Nodes[1]
	}
	got, err = p.Tickets.Dispatch(p.Ctx, dispatcher, tk.ID, tickets.DispatchInput{NodeID: other, Reason: "改派"}, 0)
	require.NoError(t, err)
	require.Equal(t, other, *got.NodeID)
	require.Equal(t, 0, reserved(), "back on the first node's shelf")
}

// everyDay is a technician's shifts from 07:00 to 21:00 every day of the
// week: free for any window the tests book.
func everyDay() []network.Shift {
	var shifts []network.Shift
	for wd := 1; wd <= 7; wd++ {
		shifts = append(shifts, network.Shift{Weekday: wd, Start: "07:00", End: "21:00"})
	}
	return shifts
}
