package quality_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/servicenet/servicenet/internal/apitest"
	"github.com/servicenet/servicenet/internal/app"
	"github.com/servicenet/servicenet/internal/domaintest"
	"github.com/servicenet/servicenet/tenants"
	"github.com/servicenet/servicenet/tenants/quality"
	"github.com/servicenet/servicenet/tenants/tickets"
)

// The repeat-repair KPI (返修率: another ticket for the same unit within 30
// or 90 days of a completed service, counted at the service) leaves out a
// later ticket once it is cancelled: a cancelled ticket was no repeat
// repair. K1 is repaired; K2 and K3 follow for the same unit the same
// day: K1 is a repeat. K2 cancelled: still a repeat, by K3. K3 cancelled
// too: no repeat, K1 still a completed service of a registered unit (the
// denominator).
func TestRepeatFixCancelledLaterTicketIsNoRepeat(t *testing.T) {
	e, d := domaintest.NewDemo(t, app.Config{})
	var now time.Time
	e.Tickets.Now = domaintest.NowAt(&now)
	agent := e.As(tenants.Principal{}, tenants.RoleAgent)
	start := apitest.WeekdayMorning(time.Now(), 2)
	window := tickets.Window{Start: start, End: start.Add(2 * time.Hour)}
	sh, err := time.LoadLocation("Asia/Shanghai")
	require.NoError(t, err)
	day := time.Now().In(sh).Format(time.DateOnly)
	open := func(window tickets.Window) tickets.Ticket {
		t.Helper()
		tk, err := e.Tickets.Open(e.Ctx, agent, tickets.NewTicket{Channel: "web", Type: "repair",
			Contact:         tickets.TicketContact{Name: "客户", Phone: "+86 138 5701 0000"},
			Address:         tickets.ServiceAddress{RegionCode: d.Region, Line: "建设路 1 号"},
			Unit:            tickets.UnitDetails{ModelID: d.Washer, Serial: "RPT-FIX-0001", PurchaseDate: domaintest.Today(-100)},
			Fault:           tickets.ReportedFault{Symptom: "不排水"},
			PreferredWindow: &window})
		require.NoError(t, err)
		require.Equal(t, tickets.State("new"), tk.State, "%v", tk.Verification)
		return tk
	}
	repeat := func() [2]int64 {
		t.Helper()
		_, err := e.Quality.Fold(e.Ctx, e.Tenant, 0)
		require.NoError(t, err)
		sc, err := e.Quality.Scorecard(e.Ctx, e.Admin, quality.ScorecardQuery{PeriodQuery: quality.PeriodQuery{Period: "day", Date: day}, Scope: "tenant"})
		require.NoError(t, err)
		for _, k := range sc.KPIs {
			if k.Name == "repeat_repair_rate_30" {
				return [2]int64{k.Numerator, k.Denominator}
			}
		}
		t.Fatal("no repeat_repair_rate_30")
		return [2]int64{}
	}

	k1 := open(window)
	k1, err = e.Tickets.Triage(e.Ctx, agent, k1.ID, tickets.TriageInput{Mode: "on_site"}, 0)
	require.NoError(t, err)
	require.NotNil(t, k1.TechnicianID, "%v", k1.StateReason)
	tech := e.As(tenants.Principal{TechnicianID: *k1.TechnicianID}, tenants.RoleTechnician)
	_, err = e.Tickets.Accept(e.Ctx, tech, k1.ID, tickets.AcceptInput{}, 0)
	require.NoError(t, err)
	_, err = e.Tickets.Schedule(e.Ctx, tech, k1.ID, tickets.ScheduleInput{Window: window}, 0)
	require.NoError(t, err)
	now = start.Add(-6 * time.Minute)
	_, err = e.Tickets.CheckIn(e.Ctx, tech, k1.ID, tickets.CheckInInput{}, 0)
	require.NoError(t, err)
	_, err = e.Tickets.Diagnose(e.Ctx, tech, k1.ID, tickets.DiagnoseInput{Diagnosis: tickets.Diagnosis{Cause: "performance", Repairable: true},
		Work: tickets.WorkInput{ServiceKind: "repair", IncludeVisit: true}, PriceListShown: true}, 0)
	require.NoError(t, err)
	now = start.Add(time.Hour)
	k1, err = e.Tickets.Complete(e.Ctx, tech, k1.ID, tickets.CompleteInput{TestRun: tickets.TestRun{Passed: true}}, 0)
	require.NoError(t, err)
	require.Equal(t, tickets.State("completed"), k1.State)
	require.Equal(t, [2]int64{0, 1}, repeat(), "K1 completed: eligible, no repeat yet")

	later := apitest.WeekdayMorning(start, 2)
	next := tickets.Window{Start: later, End: later.Add(2 * time.Hour)}
	now = start.Add(2 * time.Hour)
	k2 := open(next)
	now = start.Add(3 * time.Hour)
	k3 := open(next)
	require.NotEqual(t, k2.ID, k3.ID)
	require.Equal(t, [2]int64{1, 1}, repeat(), "K2 came the same day: K1 is a repeat")

	now = start.Add(4 * time.Hour)
	_, err = e.Tickets.Cancel(e.Ctx, agent, k2.ID, tickets.CancelInput{Reason: "客户重复报修"}, 0)
	require.NoError(t, err)
	require.Equal(t, [2]int64{1, 1}, repeat(), "K2 cancelled: K3 still makes K1 a repeat")

	_, err = e.Tickets.Cancel(e.Ctx, agent, k3.ID, tickets.CancelInput{Reason: "客户已自行解决"}, 0)
	require.NoError(t, err)
	require.Equal(t, [2]int64{0, 1}, repeat(), "K3 cancelled too: no repeat")
	r90 := func() [2]int64 {
		sc, err := e.Quality.Scorecard(e.Ctx, e.Admin, quality.ScorecardQuery{PeriodQuery: quality.PeriodQuery{Period: "day", Date: day}, Scope: "tenant"})
		require.NoError(t, err)
		for _, k := range sc.KPIs {
			if k.Name == "repeat_repair_rate_90" {
				return [2]int64{k.Numerator, k.Denominator}
			}
		}
		return [2]int64{}
	}
	require.Equal(t, [2]int64{0, 1}, r90())
}
