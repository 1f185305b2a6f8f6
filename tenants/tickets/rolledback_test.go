package tickets_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/servicenet/servicenet/internal/domaintest"
	"github.com/servicenet/servicenet/tenants"
	"github.com/servicenet/servicenet/tenants/tickets"
)

func open(t *testing.T, e *domaintest.Env) tickets.Ticket {
	t.Helper()
	model, _ := e.Product(t, "XQG100", "washer", 12, "control_board", 30000)
	unit := e.Unit(t, model, "WSH0001", -100, "+86 139 0000 0001")
	tk, err := e.Tickets.Open(e.Ctx, e.Admin, tickets.NewTicket{Channel: "hotline", Type: "repair",
		Contact: tickets.TicketContact{Name: "钱七", Phone: "+86 139 0000 0001"},
		Address: tickets.ServiceAddress{RegionCode: "370212", Line: "山东省青岛市崂山区香港东路 1 号"},
		Unit:    tickets.UnitDetails{UnitID: unit}, Fault: tickets.ReportedFault{Symptom: "不脱水", Codes: []string{"E4"}}})
	require.NoError(t, err)
	return tk
}

func timeline(t *testing.T, e *domaintest.Env, id string) []string {
	t.Helper()
	tl, err := e.Tickets.Timeline(e.Ctx, e.Admin, id)
	require.NoError(t, err)
	var out []string
	for _, x := range tl {
		if x.FromState == nil || *x.FromState != x.ToState { // a change of state
			out = append(out, x.ToState)
		}
	}
	return out
}

// A ticket resolved by remote guidance: opened, triaged remote, guided to
// resolution, reopened, cancelled; each step checks the state admits it and
// the caller's revision; opening commits with its SLA deadlines' next check.
func TestRolledBackTicketRemoteGuidanceTransitions(t *testing.T) {
	e := domaintest.New(t)
	tk := open(t, e)
	require.Equal(t, tickets.State("new"), tk.State)
	require.Equal(t, 1, e.Count(t, `SELECT count(*) FROM tickets WHERE tenant_id = $1 AND id = $2
		AND sla_check_at = least(route_due_at, first_contact_due_at, response_due_at, completion_due_at)`, tk.ID),
		"opening writes the ticket's next SLA check, its earliest deadline, with the ticket")

	_, err := e.Tickets.RecordGuidance(e.Ctx, e.Admin, tk.ID, tickets.GuidanceInput{Outcome: "resolved"}, 0)
	require.Equal(t, tenants.CodeConflict, tenants.ErrorCode(err), "no guidance before triage: %v", err)
	_, err = e.Tickets.Triage(e.Ctx, e.Admin, tk.ID, tickets.TriageInput{Mode: "remote"}, tk.Version+1)
	require.Equal(t, tenants.CodePreconditionFailed, tenants.ErrorCode(err), "%v", err)

	tk, err = e.Tickets.Triage(e.Ctx, e.Admin, tk.ID, tickets.TriageInput{Mode: "remote", Instructions: "check the drain filter"}, tk.Version)
	require.NoError(t, err)
	require.Equal(t, tickets.State("remote_guidance"), tk.State)
	tk, err = e.Tickets.RecordGuidance(e.Ctx, e.Admin, tk.ID, tickets.GuidanceInput{Outcome: "resolved", Notes: "filter cleaned"}, 0)
	require.NoError(t, err)
	require.Equal(t, tickets.State("resolved"), tk.State)

	tk, err = e.Tickets.Reopen(e.Ctx, e.Admin, tk.ID, tickets.ReopenInput{Reason: "E4 again"}, 0)
	require.NoError(t, err)
	require.Equal(t, tickets.State("reopened"), tk.State)
	tk, err = e.Tickets.Cancel(e.Ctx, e.Admin, tk.ID, tickets.CancelInput{Reason: "customer withdrew"}, 0)
	require.NoError(t, err)
	require.Equal(t, tickets.State("cancelled"), tk.State)
	_, err = e.Tickets.Reopen(e.Ctx, e.Admin, tk.ID, tickets.ReopenInput{Reason: "again"}, 0)
	require.Equal(t, tenants.CodeConflict, tenants.ErrorCode(err), "a cancelled ticket is final: %v", err)

	require.Equal(t, []string{"new", "triaged", "remote_guidance", "resolved", "reopened", "cancelled"}, timeline(t, e, tk.ID))
}
