package tickets_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/servicenet/servicenet/internal/domaintest"
	"github.com/servicenet/servicenet/tenants"
	"github.com/servicenet/servicenet/tenants/catalog"
	"github.com/servicenet/servicenet/tenants/stock"
	"github.com/servicenet/servicenet/tenants/tickets"
)

// A hard fault found on site at a repair point goes up a tier (DESIGN:
// hard faults go to a depot, then a service center; seed 003: 服务中心
// ... 疑难问题解决): the diagnosis is kept and the ticket is dispatched
// again by the rules for a hard fault, away from the repair point, its
// completion deadline running on and the first visit still on record.
func TestHardFaultFoundOnSiteGoesUpATier(t *testing.T) {
	p := newPaths(t)
	tk, tech := p.onSite(t, p.open(t, "ESC-0201", 100))
	point := *tk.NodeID
	node, err := p.Network.GetNode(p.Ctx, p.Admin, point)
	require.NoError(t, err)
	require.Equal(t, "repair_point", string(node.Tier))
	due := *tk.SLA.CompletionDueAt

	got, err := p.Tickets.Diagnose(p.Ctx, tech, tk.ID, tickets.DiagnoseInput{
		Diagnosis: tickets.Diagnosis{Cause: "performance", Repairable: true, HardFault: true, Notes: "主控板间歇故障，需专修部检测"},
		Work:      tickets.WorkInput{ServiceKind: "repair"}, PriceListShown: true}, 0)
	require.NoError(t, err)
	require.Equal(t, tickets.State("dispatched"), got.State, "%v", got.StateReason)
	require.NotNil(t, got.NodeID)
	require.NotEqual(t, point, *got.NodeID)
	up, err := p.Network.GetNode(p.Ctx, p.Admin, *got.NodeID)
	require.NoError(t, err)
	require.Contains(t, []string{"specialist_depot", "service_center"}, string(up.Tier))
	require.True(t, got.Triage.HardFault)
	require.Equal(t, 3, got.Triage.RequiredLevel)
	require.True(t, got.Diagnosis.HardFault, "the diagnosis is kept")
	require.Equal(t, 2, got.DispatchCount)
	require.Equal(t, 1, got.Visits, "the repair point's visit is on record")
	require.True(t, due.Equal(*got.SLA.CompletionDueAt), "the completion deadline runs on")
	require.Nil(t, got.Appointment.Start, "the repair point's window is not the depot's appointment")
	require.Equal(t, "diagnosed:dispatched", p.timeline(t, tk.ID)[len(p.timeline(t, tk.ID))-1])

	// The higher node's technician takes it on and books a window.
	require.NotNil(t, got.TechnicianID, "%v", got.StateReason)
	upTech := p.As(tenants.Principal{TechnicianID: *got.TechnicianID}, tenants.RoleTechnician)
	_, err = p.Tickets.Accept(p.Ctx, upTech, tk.ID, tickets.AcceptInput{}, 0)
	require.NoError(t, err)
	got, err = p.Tickets.Schedule(p.Ctx, upTech, tk.ID, tickets.ScheduleInput{Window: *p.window()}, 0)
	require.NoError(t, err)
	require.Equal(t, tickets.State("scheduled"), got.State)
	require.Equal(t, *got.NodeID, up.ID)
}

// A hard fault found where the ticket cannot leave its node is refused
// (409) and changes nothing: a unit carried in to the repair point (at
// diagnosis.hard_fault, naming what the fault needs), a part of the
// node's stock issued and not returned (naming the part). Once the part
// is back on the shelf the ticket goes up a tier, and the reservation
// not issued is released.
func TestHardFaultIsRefusedWhereTheTicketCannotLeave(t *testing.T) {
	p := newPaths(t)
	hard := tickets.DiagnoseInput{Diagnosis: tickets.Diagnosis{Cause: "performance", Repairable: true, HardFault: true},
		Work: tickets.WorkInput{ServiceKind: "repair"}, PriceListShown: true}
	unchanged := func(tk tickets.Ticket) {
		t.Helper()
		got, err := p.Tickets.Get(p.Ctx, p.Admin, tk.ID)
		require.NoError(t, err)
		require.Equal(t, tk.Version, got.Version, "nothing changed")
		require.Equal(t, *tk.NodeID, *got.NodeID)
	}

	carried, tech := p.onSite(t, p.open(t, "ESC-0203", 100))
	carried, err := p.Tickets.CarryIn(p.Ctx, tech, carried.ID, tickets.CarryInInput{CustomerAgreed: true, Condition: "外观完好"}, 0)
	require.NoError(t, err)
	_, err = p.Tickets.Diagnose(p.Ctx, tech, carried.ID, hard, 0)
	require.Equal(t, tenants.CodeConflict, tenants.ErrorCode(err), "%v", err)
	var te *tenants.Error
	require.ErrorAs(t, err, &te)
	require.Len(t, te.Fields, 1)
	require.Equal(t, "diagnosis.hard_fault", te.Fields[0].Location)
	require.Contains(t, err.Error(), "specialist depot or service center")
	unchanged(carried)

	tk, tech := p.onSite(t, p.open(t, "ESC-0204", 100))
	pump := p.demoPart(t, drainPumpNo)
	p.diagnose(t, tech, tk.ID, tickets.WorkInput{ServiceKind: "repair", Parts: []catalog.QuotePart{{PartID: pump, Quantity: 1}}}, true)
	_, err = p.Stock.Receive(p.Ctx, p.Admin, *tk.NodeID, stock.Receipt{Lines: []stock.ReceiptLine{{PartID: pump, Quantity: 2}}})
	require.NoError(t, err)
	move := func(op string, n int) {
		t.Helper()
		_, err := p.Tickets.MoveParts(p.Ctx, tech, tk.ID, tickets.PartsInput{Op: op, Lines: []stock.Line{{PartID: pump, Quantity: n}}}, 0)
		require.NoError(t, err)
	}
	move("reserve", 2)
	move("issue", 1)
	tk, err = p.Tickets.Get(p.Ctx, p.Admin, tk.ID)
	require.NoError(t, err)
	_, err = p.Tickets.Diagnose(p.Ctx, tech, tk.ID, hard, 0)
	require.Equal(t, tenants.CodeConflict, tenants.ErrorCode(err), "%v", err)
	require.Contains(t, err.Error(), drainPumpNo)
	unchanged(tk)

	move("return", 1)
	point := *tk.NodeID
	got, err := p.Tickets.Diagnose(p.Ctx, tech, tk.ID, hard, 0)
	require.NoError(t, err)
	require.Equal(t, tickets.State("dispatched"), got.State, "%v", got.StateReason)
	require.NotEqual(t, point, *got.NodeID)
	parts, err := p.Tickets.Parts(p.Ctx, p.Admin, tk.ID)
	require.NoError(t, err)
	require.Len(t, parts, 1)
	require.Equal(t, point, parts[0].NodeID)
	require.Equal(t, parts[0].Issued, parts[0].Reserved, "the reservation not issued is released")
	require.Equal(t, 1, parts[0].Returned)
}

// A hard fault found where it can be served (a depot's level-5
// technician) stays there; a level above what the triage asked for is
// raised on the triage. A level out of 1-5 is 422 at
// diagnosis.required_level and changes nothing.
func TestHardFaultFoundWhereItCanBeServedStays(t *testing.T) {
	p := newPaths(t)
	tk := p.open(t, "ESC-0202", 100)
	tk, err := p.Tickets.Triage(p.Ctx, p.agent, tk.ID, tickets.TriageInput{Mode: "on_site", HardFault: true}, 0)
	require.NoError(t, err)
	require.Equal(t, tickets.State("dispatched"), tk.State, "%v", tk.StateReason)
	tech := p.As(tenants.Principal{TechnicianID: *tk.TechnicianID}, tenants.RoleTechnician)
	_, err = p.Tickets.Accept(p.Ctx, tech, tk.ID, tickets.AcceptInput{}, 0)
	require.NoError(t, err)
	_, err = p.Tickets.Schedule(p.Ctx, tech, tk.ID, tickets.ScheduleInput{Window: *p.window()}, 0)
	require.NoError(t, err)
	p.now = p.start.Add(-6 * time.Minute)
	tk, err = p.Tickets.CheckIn(p.Ctx, tech, tk.ID, tickets.CheckInInput{}, 0)
	require.NoError(t, err)
	depot := *tk.NodeID

	_, err = p.Tickets.Diagnose(p.Ctx, tech, tk.ID, tickets.DiagnoseInput{
		Diagnosis: tickets.Diagnosis{Cause: "performance", Repairable: true, RequiredLevel: 9},
		Work:      tickets.WorkInput{ServiceKind: "repair"}, PriceListShown: true}, 0)
	require.Equal(t, []string{"diagnosis.required_level"}, domaintest.Fields(t, err))
	got, err := p.Tickets.Get(p.Ctx, p.Admin, tk.ID)
	require.NoError(t, err)
	require.Equal(t, tk.Version, got.Version, "nothing changed")

	got, err = p.Tickets.Diagnose(p.Ctx, tech, tk.ID, tickets.DiagnoseInput{
		Diagnosis: tickets.Diagnosis{Cause: "performance", Repairable: true, HardFault: true, RequiredLevel: 4},
		Work:      tickets.WorkInput{ServiceKind: "repair"}, PriceListShown: true}, 0)
	require.NoError(t, err)
	require.Equal(t, tickets.State("on_site"), got.State)
	require.Equal(t, depot, *got.NodeID)
	require.Equal(t, 4, got.Triage.RequiredLevel)
}
