package tickets_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/servicenet/servicenet/tenants/tickets"
)

// Fixes from the review of a ticket's actions and what they charge: a
// reopened ticket cancelled, a reopened install's deadline, and the
// technician's licence on the booked window's day.

// A reopened install is due the policy's install_minutes (default 1,440:
// 24 h, 送安同步) from the reopening, scaled by the ticket's priority as a
// reopened repair's completion is (urgent: 50 % → 12 h; normal: 24 h),
// not the repair's completion_minutes (72 h; urgent 36 h).
func TestReopenedInstallIsDueTheInstallMinutes(t *testing.T) {
	for _, c := range []struct {
		priority string
		after    time.Duration
	}{{"urgent", 12 * time.Hour}, {"normal", 24 * time.Hour}} {
		t.Run(c.priority, func(t *testing.T) {
			e := newMoneyEnv(t)
			unit := e.unit(t, 0, false)
			e.set(time.Time{})
			tk, err := e.Tickets.Open(e.Ctx, e.Admin, tickets.NewTicket{Channel: "hotline", Type: "install", Priority: c.priority,
				Contact: tickets.TicketContact{Name: "钱七", Phone: "+86 139 1000 0000"},
				Address: tickets.ServiceAddress{RegionCode: e.region, Line: "建设路 1 号"},
				Unit:    tickets.UnitDetails{UnitID: unit}})
			require.NoError(t, err)
			require.Equal(t, tickets.State("new"), tk.State, "%v", tk.Verification)
			e.visit(t, tk.ID, -6, true)
			_, err = e.Tickets.InstallationReport(e.Ctx, e.Admin, tk.ID, tickets.InstallReport{Position: "阳台", PositionAgreed: true,
				TestRun: tickets.TestRun{Passed: true}, CustomerInstructed: true, PriceListShown: true}, 0)
			require.NoError(t, err)
			e.set(e.now().Add(time.Hour))
			tk, err = e.Tickets.Complete(e.Ctx, e.Admin, tk.ID, tickets.CompleteInput{TestRun: tickets.TestRun{Passed: true}}, 0)
			require.NoError(t, err)
			require.Equal(t, tickets.State("completed"), tk.State)

			reopenedAt := e.start.Add(26 * time.Hour)
			e.set(reopenedAt)
			tk, err = e.Tickets.Reopen(e.Ctx, e.Admin, tk.ID, tickets.ReopenInput{Reason: "安装后漏水"}, 0)
			require.NoError(t, err)
			require.NotNil(t, tk.SLA.CompletionDueAt)
			require.True(t, tk.SLA.CompletionDueAt.Equal(reopenedAt.Add(c.after)),
				"due %s, want %s", tk.SLA.CompletionDueAt, reopenedAt.Add(c.after))
		})
	}
}
