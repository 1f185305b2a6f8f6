package quality_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/servicenet/servicenet/tenants/tickets"
)

// A window the network missed is one rule with two readers: the service
// promises waive the service's charges as a late arrival, as late as the
// customer waited from the window's start to the move (rule 8: 未按照用户
// 约定时间上门, 免单), and the on-time KPIs count a late arrival at it,
// very late when moved more than 15 minutes after the window's end. Each
// case is a repair with the window 10:00-12:00 agreed, moved at some time
// to 14:00-16:00 (a reschedule, or a visit exception giving the new
// window), checked in 6 minutes early at 14:00 and completed: the promise
// and the fold must find the same windows missed.
func TestQualityMissedWindowIsTheServicePromisesMissedWindow(t *testing.T) {
	k := newKindsEnv(t, "KPI-MISSED-0001")
	start := k.day
	next := start.Add(4 * time.Hour)
	for _, c := range []struct {
		name   string
		moved  time.Duration // after the window's start
		reason string        // the reschedule's; "": nobody home at the visit, the new window given with the exception
		class  string        // the missed window's arrival class; "": none missed
		late   int           // the late promise's minutes (0: none)
		action string
	}{
		{"MovedByTheNetworkBeforeTheWindow", -30 * time.Minute, "technician_conflict", "", 0, ""},
		{"MovedByTheNetworkTenMinutesIn", 10 * time.Minute, "technician_conflict", "late", 10, "apology"},
		{"MovedByTheNetworkFortyMinutesIn", 40 * time.Minute, "parts", "late", 40, "apology_and_gift"},
		{"MovedAtTheCustomersRequest", 40 * time.Minute, "customer_request", "", 0, ""},
		{"VisitedInTheWindowThenMoved", 10 * time.Minute, "", "", 0, ""},
		{"MovedFifteenMinutesAfterTheWindow", 2*time.Hour + 15*time.Minute, "other", "late", 135, "apology_and_gift"},
		{"MovedSixteenMinutesAfterTheWindow", 2*time.Hour + 16*time.Minute, "technician_conflict", "very_late", 136, "apology_and_gift"},
	} {
		t.Run(c.name, func(t *testing.T) {
			before := k.metrics(t)
			tk := k.open(t, tickets.TypeRepair, start)
			tk, err := k.Tickets.Triage(k.Ctx, k.Admin, tk.ID, tickets.TriageInput{Mode: "on_site"}, 0)
			require.NoError(t, err)
			require.NotNil(t, tk.TechnicianID, "%v", tk.StateReason)
			_, err = k.Tickets.Accept(k.Ctx, k.Admin, tk.ID, tickets.AcceptInput{}, 0)
			require.NoError(t, err)
			_, err = k.Tickets.Schedule(k.Ctx, k.Admin, tk.ID, tickets.ScheduleInput{Window: tickets.Window{Start: start, End: start.Add(2 * time.Hour)}}, 0)
			require.NoError(t, err)
			k.now = start.Add(c.moved)
			window := tickets.Window{Start: next, End: next.Add(2 * time.Hour)}
			if c.reason != "" {
				_, err = k.Tickets.Reschedule(k.Ctx, k.Admin, tk.ID, tickets.RescheduleInput{Window: window, Reason: c.reason, CustomerAgreed: true}, 0)
			} else {
				_, err = k.Tickets.RecordVisitException(k.Ctx, k.Admin, tk.ID, tickets.VisitExceptionInput{Reason: "customer_not_home",
					NotHome: &tickets.NotHomeReport{KnockedMinutes: 5, CalledCustomer: true, SlipLeft: true}, Window: &window}, 0)
			}
			require.NoError(t, err)
			k.now = next.Add(-6 * time.Minute)
			_, err = k.Tickets.CheckIn(k.Ctx, k.Admin, tk.ID, tickets.CheckInInput{}, 0)
			require.NoError(t, err)
			_, err = k.Tickets.Diagnose(k.Ctx, k.Admin, tk.ID, tickets.DiagnoseInput{Diagnosis: tickets.Diagnosis{Cause: "performance", Repairable: true},
				Work: tickets.WorkInput{ServiceKind: "repair", IncludeVisit: true}, PriceListShown: true}, 0)
			require.NoError(t, err)
			k.now = next.Add(time.Hour)
			tk, err = k.Tickets.Complete(k.Ctx, k.Admin, tk.ID, tickets.CompleteInput{TestRun: tickets.TestRun{Passed: true}}, 0)
			require.NoError(t, err)

			// The service promises.
			var late []string
			for _, w := range tk.Completion.Waivers {
				if w.Code == "late_arrival" {
					late = append(late, w.Action+": "+w.Note)
				}
			}
			if c.class == "" {
				require.Empty(t, late, "no window missed: no late arrival")
			} else {
				require.Equal(t, []string{c.action + ": technician arrived " + fmt.Sprint(c.late) + " minutes after the agreed time: this service is free"}, late)
			}

			// The fold: the check-in at 13:54 (early), and the missed window.
			after := k.metrics(t)
			delta := func(name string) int64 { return after[name] - before[name] }
			want := map[string]int64{"visits.timed": 1, "visits.early": 1, "visits.late": 0, "visits.very_late": 0}
			if c.class != "" {
				want["visits.timed"]++
				want["visits."+c.class]++
			}
			got := map[string]int64{}
			for name := range want {
				got[name] = delta(name)
			}
			require.Equal(t, want, got)
		})
	}
}

// metrics reads the raw counters of the tenant's scorecard of the day
// (scorecard).
func (k *kindsEnv) metrics(t *testing.T) map[string]int64 {
	t.Helper()
	return k.scorecard(t).Metrics
}
