package tickets_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/servicenet/servicenet/internal/domaintest"
	"github.com/servicenet/servicenet/tenants"
	"github.com/servicenet/servicenet/tenants/network"
	"github.com/servicenet/servicenet/tenants/tickets"
)

// A node that rejects a job gives it back to the network: the ticket is
// dispatched again by the rules to another node that covers the address,
// not only within the rejecting node's own subtree (a repair point has
// none, so the job fell back to triaged with "no node can take it" while
// other repair points covered the district).
func TestNodeRejectionRedispatchesAcrossTheNetwork(t *testing.T) {
	p := newPaths(t)
	require.GreaterOrEqual(t, len(p.d.Nodes), 2, "the demo region has more than one node for washers")
	tk := p.open(t, "REJ-0101", 100)
	tk, err := p.Tickets.Triage(p.Ctx, p.agent, tk.ID, tickets.TriageInput{Mode: "on_site"}, 0)
	require.NoError(t, err)
	require.Equal(t, tickets.State("dispatched"), tk.State, "%v", tk.StateReason)
	first := *tk.NodeID
	manager := p.As(tenants.Principal{NodeID: first}, tenants.RoleNodeManager)
	tk, err = p.Tickets.Reject(p.Ctx, manager, tk.ID, tickets.RejectInput{ReasonCode: "no_capacity", Note: "本周已排满"}, 0)
	require.NoError(t, err)
	require.Equal(t, []string{first}, tk.Dispatch.RejectedNodes)
	require.Equal(t, tickets.State("dispatched"), tk.State, "another node covers the address: %v", tk.StateReason)
	require.NotNil(t, tk.NodeID)
	require.NotEqual(t, first, *tk.NodeID)
	_, err = p.Tickets.Get(p.Ctx, manager, tk.ID)
	require.Equal(t, tenants.CodeNotFound, tenants.ErrorCode(err), "the ticket left the rejecting node's subtree")
}

// An override needs a reason: blanks are no reason (they were kept as
// dispatch.override.reason "   ").
func TestOverrideWithABlankReasonIsRefused(t *testing.T) {
	p := newPaths(t)
	tk := p.open(t, "OVR-0102", 100)
	tk, err := p.Tickets.Triage(p.Ctx, p.agent, tk.ID, tickets.TriageInput{Mode: "on_site"}, 0)
	require.NoError(t, err)
	require.Equal(t, tickets.State("dispatched"), tk.State, "%v", tk.StateReason)
	dispatcher := p.As(tenants.Principal{}, tenants.RoleDispatcher)
	for _, blank := range []string{" ", " \t\n　"} {
		_, err = p.Tickets.Dispatch(p.Ctx, dispatcher, tk.ID, tickets.DispatchInput{NodeID: p.d.Nodes[len(p.d.Nodes)-1], Reason: blank}, 0)
		require.Equal(t, []string{"reason"}, domaintest.Fields(t, err), "%q", blank)
		_, err = p.Tickets.Dispatch(p.Ctx, dispatcher, tk.ID, tickets.DispatchInput{TechnicianID: p.d.Technicians[0], Reason: blank}, 0)
		require.Equal(t, []string{"reason"}, domaintest.Fields(t, err), "%q", blank)
	}
	got, err := p.Tickets.Get(p.Ctx, p.Admin, tk.ID)
	require.NoError(t, err)
	require.Equal(t, tk.Version, got.Version, "nothing changed")
	require.Nil(t, got.Dispatch.Override)
}

// A node suspended after a job was dispatched to it takes no new work:
// neither its technician's acceptance nor an assignment to one of its
// technicians moves the job on (409); the job is dispatched again, and
// goes to an active node.
func TestSuspendedNodeCannotTakeTheJobItWasSent(t *testing.T) {
	p := newPaths(t)
	tk := p.open(t, "SUS-0103", 100)
	tk, err := p.Tickets.Triage(p.Ctx, p.agent, tk.ID, tickets.TriageInput{Mode: "on_site"}, 0)
	require.NoError(t, err)
	require.Equal(t, tickets.State("dispatched"), tk.State, "%v", tk.StateReason)
	require.NotNil(t, tk.TechnicianID, "%v", tk.StateReason)
	node, techID := *tk.NodeID, *tk.TechnicianID
	_, err = p.Network.ChangeNodeStatus(p.Ctx, p.Admin, node, network.StatusSuspended, "投诉率超标，暂停派单", 0)
	require.NoError(t, err)

	tech := p.As(tenants.Principal{TechnicianID: techID, NodeID: node}, tenants.RoleTechnician)
	_, err = p.Tickets.Accept(p.Ctx, tech, tk.ID, tickets.AcceptInput{}, 0)
	require.Equal(t, tenants.CodeConflict, tenants.ErrorCode(err), "%v", err)
	dispatcher := p.As(tenants.Principal{}, tenants.RoleDispatcher)
	_, err = p.Tickets.Assign(p.Ctx, dispatcher, tk.ID, tickets.AssignInput{TechnicianID: techID}, 0)
	require.Equal(t, tenants.CodeConflict, tenants.ErrorCode(err), "%v", err)
	got, err := p.Tickets.Get(p.Ctx, p.Admin, tk.ID)
	require.NoError(t, err)
	require.Equal(t, tickets.State("dispatched"), got.State)

	tk, err = p.Tickets.Dispatch(p.Ctx, dispatcher, tk.ID, tickets.DispatchInput{Reason: "网点已暂停"}, 0)
	require.NoError(t, err)
	require.Equal(t, tickets.State("dispatched"), tk.State, "%v", tk.StateReason)
	require.NotEqual(t, node, *tk.NodeID)
}

// acceptedOnSite takes in a ticket for a new unit with serial, triages it
// on site and has the technician dispatch proposed accept it; it returns
// the ticket, the technician and the technician's principal.
func (p *paths) acceptedOnSite(t *testing.T, serial string) (tickets.Ticket, string, tenants.Principal) {
	t.Helper()
	tk := p.open(t, serial, 100)
	tk, err := p.Tickets.Triage(p.Ctx, p.agent, tk.ID, tickets.TriageInput{Mode: "on_site"}, 0)
	require.NoError(t, err)
	require.NotNil(t, tk.TechnicianID, "%v", tk.StateReason)
	techID := *tk.TechnicianID
	tech := p.As(tenants.Principal{TechnicianID: techID}, tenants.RoleTechnician)
	_, err = p.Tickets.Accept(p.Ctx, tech, tk.ID, tickets.AcceptInput{}, 0)
	require.NoError(t, err)
	return tk, techID, tech
}

// An appointment keeps the technician's daily job limit, as dispatch does
// (daily_limit_reached): a technician whose limit that day is taken is
// not booked for one more job (409 at window), on another day they are.
func TestAppointmentKeepsTheDailyJobLimit(t *testing.T) {
	p := newPaths(t)
	dispatcher := p.As(tenants.Principal{}, tenants.RoleDispatcher)
	first, techID, tech := p.acceptedOnSite(t, "LIM-0104")
	_, err := p.Tickets.Schedule(p.Ctx, tech, first.ID, tickets.ScheduleInput{Window: *p.window()}, 0)
	require.NoError(t, err)

	base := p.start
	p.start = base.Add(4 * time.Hour) // the second customer prefers 14:00-16:00 that day
	second := p.open(t, "LIM-0105", 100)
	afternoon := *p.window()
	p.start = base
	second, err = p.Tickets.Triage(p.Ctx, p.agent, second.ID, tickets.TriageInput{Mode: "on_site"}, 0)
	require.NoError(t, err)
	second, err = p.Tickets.Dispatch(p.Ctx, dispatcher, second.ID, tickets.DispatchInput{TechnicianID: techID, Reason: "老客户指定师傅"}, 0)
	require.NoError(t, err)
	_, err = p.Tickets.Accept(p.Ctx, tech, second.ID, tickets.AcceptInput{}, 0)
	require.NoError(t, err)
	one := 1
	_, err = p.Network.UpdateTechnician(p.Ctx, p.Admin, techID, network.TechnicianUpdate{DailyJobLimit: &one}, 0)
	require.NoError(t, err)

	_, err = p.Tickets.Schedule(p.Ctx, tech, second.ID, tickets.ScheduleInput{Window: afternoon}, 0)
	require.Equal(t, tenants.CodeConflict, tenants.ErrorCode(err), "1 of 1 jobs that day: %v", err)
	var te *tenants.Error
	require.ErrorAs(t, err, &te)
	require.Equal(t, "window", te.Fields[0].Location)
	require.Contains(t, err.Error(), "daily_limit_reached")
	nextWeek := tickets.Window{Start: afternoon.Start.AddDate(0, 0, 7), End: afternoon.End.AddDate(0, 0, 7)}
	tk, err := p.Tickets.Schedule(p.Ctx, tech, second.ID, tickets.ScheduleInput{Window: nextWeek}, 0)
	require.NoError(t, err)
	require.Equal(t, tickets.State("scheduled"), tk.State)
	// Moving the first job within its own day is not one job more.
	later := tickets.Window{Start: p.start.Add(time.Hour), End: p.start.Add(3 * time.Hour)}
	_, err = p.Tickets.Reschedule(p.Ctx, tech, first.ID, tickets.RescheduleInput{Window: later, Reason: "customer_request"}, 0)
	require.NoError(t, err)
}

// A technician on leave, suspended or gone since accepting the job gets no
// appointment in their name: the booking is 409 at window (the ticket is
// to be dispatched again), as dispatch would not propose them; back at
// work, the same window books.
func TestAppointmentNeedsAnActiveTechnician(t *testing.T) {
	p := newPaths(t)
	tk, techID, tech := p.acceptedOnSite(t, "LIM-0106")
	status := func(s string) {
		t.Helper()
		_, err := p.Network.UpdateTechnician(p.Ctx, p.Admin, techID, network.TechnicianUpdate{Status: &s}, 0)
		require.NoError(t, err)
	}
	status("on_leave")
	_, err := p.Tickets.Schedule(p.Ctx, p.Admin, tk.ID, tickets.ScheduleInput{Window: *p.window()}, 0)
	require.Equal(t, tenants.CodeConflict, tenants.ErrorCode(err), "%v", err)
	var te *tenants.Error
	require.ErrorAs(t, err, &te)
	require.Equal(t, "window", te.Fields[0].Location)
	require.Contains(t, err.Error(), "on_leave")
	got, err := p.Tickets.Get(p.Ctx, p.Admin, tk.ID)
	require.NoError(t, err)
	require.Equal(t, tickets.State("assigned"), got.State, "nothing booked")

	status("active")
	got, err = p.Tickets.Schedule(p.Ctx, tech, tk.ID, tickets.ScheduleInput{Window: *p.window()}, 0)
	require.NoError(t, err)
	require.Equal(t, tickets.State("scheduled"), got.State)
}

// A technician moved to another node since accepting the job no longer
// works for the node serving the ticket: no appointment is booked in
// their name (409 at window, the ticket to be dispatched again), where the
// checks of their standing at the ticket's node found no row and passed
// the booking; moved back, the same window books, and a reschedule after
// another move is refused too.
func TestAppointmentNeedsTheTechnicianAtTheTicketsNode(t *testing.T) {
	p := newPaths(t)
	require.GreaterOrEqual(t, len(p.d.Nodes), 2)
	tk, techID, tech := p.acceptedOnSite(t, "MOV-0107")
	home := *tk.NodeID
	elsewhere := p.d.Nodes[0]
	if elsewhere == home {
		elsewhere = p.d.Nodes[1]
	}
	move := func(node string) {
		t.Helper()
		_, err := p.Network.UpdateTechnician(p.Ctx, p.Admin, techID, network.TechnicianUpdate{NodeID: &node}, 0)
		require.NoError(t, err)
	}
	refused := func(err error) {
		t.Helper()
		require.Equal(t, tenants.CodeConflict, tenants.ErrorCode(err), "%v", err)
		var te *tenants.Error
		require.ErrorAs(t, err, &te)
		require.Len(t, te.Fields, 1)
		require.Equal(t, "window", te.Fields[0].Location)
		require.Equal(t, techID, te.Fields[0].Value)
		require.Contains(t, err.Error(), "no technician with this id at the ticket's node")
	}
	move(elsewhere)
	_, err := p.Tickets.Schedule(p.Ctx, p.Admin, tk.ID, tickets.ScheduleInput{Window: *p.window()}, 0)
	refused(err)
	got, err := p.Tickets.Get(p.Ctx, p.Admin, tk.ID)
	require.NoError(t, err)
	require.Equal(t, tickets.State("assigned"), got.State, "nothing booked")
	require.Nil(t, got.Appointment.Start)
	require.Equal(t, home, *got.NodeID)

	move(home)
	got, err = p.Tickets.Schedule(p.Ctx, tech, tk.ID, tickets.ScheduleInput{Window: *p.window()}, 0)
	require.NoError(t, err)
	require.Equal(t, tickets.State("scheduled"), got.State)

	move(elsewhere)
	later := tickets.Window{Start: p.start.Add(time.Hour), End: p.start.Add(3 * time.Hour)}
	_, err = p.Tickets.Reschedule(p.Ctx, p.Admin, tk.ID, tickets.RescheduleInput{Window: later, Reason: "customer_request"}, 0)
	refused(err)
	got, err = p.Tickets.Get(p.Ctx, p.Admin, tk.ID)
	require.NoError(t, err)
	require.True(t, p.start.Equal(*got.Appointment.Start), "the window kept")
}
