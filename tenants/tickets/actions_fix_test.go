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

// Scheduling books a window for the assigned technician only if their
// service licence is valid on the window's day, as dispatch requires: valid
// through its expiry day in the tenant's zone. A licence expiring the day
// before the window's day (still valid today, so the technician could
// accept) is refused at window.start, and nothing is booked; one expiring
// on the window's day is accepted.
func TestScheduleNeedsTheLicenceValidOnTheWindowsDay(t *testing.T) {
	for _, c := range []struct {
		name      string
		expiresIn int // days after the window's day
		refused   bool
	}{{"ExpiresTheDayBeforeRefused", -1, true}, {"ExpiresOnTheDayAccepted", 0, false}} {
		t.Run(c.name, func(t *testing.T) {
			e := newMoneyEnv(t)
			tk := e.openRepair(t, e.unit(t, 1500, false))
			tk, err := e.Tickets.Triage(e.Ctx, e.Admin, tk.ID, tickets.TriageInput{Mode: "on_site"}, 0)
			require.NoError(t, err)
			require.NotNil(t, tk.TechnicianID, "no technician proposed: %v", tk.StateReason)
			_, err = e.Tickets.Accept(e.Ctx, e.Admin, tk.ID, tickets.AcceptInput{}, 0)
			require.NoError(t, err)

			day := time.Date(e.start.Year(), e.start.Month(), e.start.Day(), 0, 0, 0, 0, time.UTC) // e.start is in Shanghai, the demo's zone
			expires := day.AddDate(0, 0, c.expiresIn).Format(time.DateOnly)
			_, err = e.Network.RenewLicence(e.Ctx, e.Admin, *tk.TechnicianID, network.LicenceInput{Number: "SD-FIX-0001",
				IssuedOn: domaintest.Today(-300), ExpiresOn: expires}, 0)
			require.NoError(t, err)

			w := tickets.Window{Start: e.start, End: e.start.Add(2 * time.Hour)}
			scheduled, err := e.Tickets.Schedule(e.Ctx, e.Admin, tk.ID, tickets.ScheduleInput{Window: w}, 0)
			if !c.refused {
				require.NoError(t, err)
				require.Equal(t, tickets.State("scheduled"), scheduled.State)
				return
			}
			require.Error(t, err)
			var te *tenants.Error
			require.ErrorAs(t, err, &te)
			require.Equal(t, tenants.CodeInvalid, te.Code)
			require.Equal(t, []string{"window.start"}, domaintest.Fields(t, err))
			tk, err = e.Tickets.Get(e.Ctx, e.Admin, tk.ID)
			require.NoError(t, err)
			require.Equal(t, tickets.State("assigned"), tk.State, "nothing booked")
			require.Nil(t, tk.Appointment.Start)
		})
	}
}
