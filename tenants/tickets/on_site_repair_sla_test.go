package tickets_test

import (
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/servicenet/servicenet/internal/pg"
	"github.com/servicenet/servicenet/tenants/catalog"
	"github.com/servicenet/servicenet/tenants/stock"
	"github.com/servicenet/servicenet/tenants/tickets"
)

// The on-site repair's promise (seed 002, 4.2.3 维修时效: 对于一般性故障,
// 维修工程师将在1小时内完成维修): a repair completed in the visit is done
// within the policy's on_site_repair_minutes (60) of the technician's
// check-in of that visit. A later completion is an on_site_repair breach
// recorded by the completion itself (level 1, due at the check-in plus the
// minutes, breached at the completion), with its ticket.sla_breached event.
// A unit carried in to the node is under the workshop's deadline instead.

// onSiteRepairBreaches are the ticket's on_site_repair breaches, as
// "due_at|level|escalated_to|breached_at" in the zone of due.
func (e *moneyEnv) onSiteRepairBreaches(t *testing.T, id string, loc *time.Location) []string {
	t.Helper()
	var out []string
	require.NoError(t, pg.InTenantTx(e.Ctx, e.Tx, e.Tenant, func(tx pg.TenantTx) error {
		rows, err := tx.Query(e.Ctx, `SELECT due_at, level, escalated_to, breached_at FROM ticket_sla_breaches
			WHERE tenant_id = $1 AND ticket_id = $2 AND sla = 'on_site_repair' ORDER BY level`, tx.TenantID, id)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var due, at time.Time
			var level int
			var to string
			if err := rows.Scan(&due, &level, &to, &at); err != nil {
				return err
			}
			out = append(out, due.In(loc).Format("15:04")+"|"+strconv.Itoa(level)+"|"+to+"|"+at.In(loc).Format("15:04"))
		}
		return rows.Err()
	}))
	return out
}

// repairOnSite checks a washer repair in at 10:00 (the window's start),
// diagnoses it and completes it at done, after the check-in.
func (e *moneyEnv) repairOnSite(t *testing.T, done time.Duration) tickets.Ticket {
	t.Helper()
	tk := e.onSite(t, "repair", e.unit(t, 1200, false), 0)
	require.True(t, e.start.Equal(*tk.Appointment.ArrivedAt), "checked in at 10:00")
	_, err := e.Tickets.Diagnose(e.Ctx, e.Admin, tk.ID, tickets.DiagnoseInput{
		Diagnosis: tickets.Diagnosis{Cause: "performance", Repairable: true},
		Work:      tickets.WorkInput{ServiceKind: "repair", IncludeVisit: true}, PriceListShown: true}, 0)
	require.NoError(t, err)
	e.set(e.start.Add(done))
	tk, err = e.Tickets.Complete(e.Ctx, e.Admin, tk.ID, tickets.CompleteInput{TestRun: tickets.TestRun{Passed: true}}, 0)
	require.NoError(t, err)
	require.Equal(t, tickets.State("completed"), tk.State)
	return tk
}

// Checked in at 10:00: completed at 10:50 (or at 11:00 sharp) is in time,
// no breach; at 11:20 the completion records one on_site_repair breach,
// due 11:00, at level 1 (the dispatcher), breached at 11:20, the ticket's
// escalation level 1, with a ticket.sla_breached event whose data are the
// catalog's (ticket, number, sla, due_at, level, escalated_to, node,
// technician, storefront). The default is 60 minutes.
func TestOnSiteRepairWithinAnHourOfTheCheckIn(t *testing.T) {
	e := newMoneyEnv(t)
	sh := e.start.Location()
	require.Equal(t, 60, tickets.DefaultSLAPolicy.OnSiteRepairMinutes)
	pol, err := e.Tickets.GetSLAPolicy(e.Ctx, e.Admin)
	require.NoError(t, err)
	require.Equal(t, 60, pol.OnSiteRepairMinutes)

	for _, c := range []struct {
		name string
		done time.Duration
	}{{"CompletedAt1050", 50 * time.Minute}, {"CompletedAt1100Sharp", time.Hour}} {
		t.Run(c.name, func(t *testing.T) {
			tk := e.repairOnSite(t, c.done)
			require.Empty(t, e.onSiteRepairBreaches(t, tk.ID, sh))
			require.Zero(t, e.Count(t, `SELECT count(*) FROM events WHERE tenant_id = $1 AND type = 'ticket.sla_breached'
				AND subject_id = $2 AND data->>'sla' = 'on_site_repair'`, tk.ID))
		})
	}
	t.Run("CompletedAt1120", func(t *testing.T) {
		tk := e.repairOnSite(t, 80*time.Minute)
		require.Equal(t, []string{"11:00|1|dispatcher|11:20"}, e.onSiteRepairBreaches(t, tk.ID, sh))
		require.Equal(t, 1, tk.SLA.EscalationLevel)
		require.Equal(t, 1, e.Count(t, `SELECT count(*) FROM ticket_timeline WHERE tenant_id = $1 AND ticket_id = $2
			AND action = 'sla_breached' AND detail->>'sla' = 'on_site_repair'`, tk.ID))
		var data map[string]any
		require.NoError(t, pg.InTenantTx(e.Ctx, e.Tx, e.Tenant, func(tx pg.TenantTx) error {
			return tx.QueryRow(e.Ctx, `SELECT data FROM events WHERE tenant_id = $1 AND type = 'ticket.sla_breached'
				AND subject_id = $2 AND data->>'sla' = 'on_site_repair'`, tx.TenantID, tk.ID).Scan(&data)
		}))
		due, err := time.Parse(time.RFC3339Nano, data["due_at"].(string))
		require.NoError(t, err)
		require.True(t, e.start.Add(time.Hour).Equal(due), "due %s", due.In(sh))
		delete(data, "due_at")
		require.Equal(t, map[string]any{"ticket_id": tk.ID, "number": tk.Number, "sla": "on_site_repair", "level": float64(1),
			"escalated_to": "dispatcher", "node_id": *tk.NodeID, "technician_id": *tk.TechnicianID, "storefront_id": nil}, data)

		list, _, err := e.Tickets.ListBreaches(e.Ctx, e.Admin, tickets.BreachFilter{SLA: "on_site_repair"})
		require.NoError(t, err)
		require.Len(t, list, 1)
		require.Equal(t, tickets.SLAOnSiteRepair, list[0].SLA)
		require.Equal(t, tk.ID, list[0].TicketID)
	})
}

// A unit carried in to the node is not repaired in the visit: its repair
// is measured by the workshop's deadline (3 working days), not the hour.
// Checked in at 10:00, carried in at 10:30, handed back and completed the
// next day: no on_site_repair breach (nor a workshop one), though the
// completion comes 25 hours after the check-in.
func TestOnSiteRepairNotMeasuredForAUnitCarriedIn(t *testing.T) {
	e := newMoneyEnv(t)
	tk := e.onSite(t, "repair", e.unit(t, 1200, false), 0)
	e.set(e.start.Add(30 * time.Minute))
	tk, err := e.Tickets.CarryIn(e.Ctx, e.Admin, tk.ID, tickets.CarryInInput{CustomerAgreed: true, Condition: "外观完好"}, 0)
	require.NoError(t, err)
	_, err = e.Tickets.Diagnose(e.Ctx, e.Admin, tk.ID, tickets.DiagnoseInput{
		Diagnosis: tickets.Diagnosis{Cause: "performance", Repairable: true},
		Work:      tickets.WorkInput{ServiceKind: "repair", IncludeVisit: true}, PriceListShown: true}, 0)
	require.NoError(t, err)
	e.set(e.start.Add(24 * time.Hour))
	_, err = e.Tickets.ReturnUnit(e.Ctx, e.Admin, tk.ID, tickets.ReturnInput{}, 0)
	require.NoError(t, err)
	e.set(e.start.Add(25 * time.Hour))
	tk, err = e.Tickets.Complete(e.Ctx, e.Admin, tk.ID, tickets.CompleteInput{TestRun: tickets.TestRun{Passed: true}}, 0)
	require.NoError(t, err)
	require.Equal(t, tickets.State("completed"), tk.State)
	require.Zero(t, e.Count(t, `SELECT count(*) FROM ticket_sla_breaches WHERE tenant_id = $1 AND ticket_id = $2
		AND sla IN ('on_site_repair', 'workshop')`, tk.ID))
}

// The brand sets the minutes (on_site_repair_minutes): at 90, checked in
// at 10:00 and completed at 11:20 is in time; at 12:00 it is a breach due
// 11:30. 0 keeps the default 60; 1441 is refused at the field.
func TestOnSiteRepairFollowsThePolicy(t *testing.T) {
	e := newMoneyEnv(t)
	sh := e.start.Location()
	in := tickets.DefaultSLAPolicy
	in.OnSiteRepairMinutes = 1441
	_, err := e.Tickets.SetSLAPolicy(e.Ctx, e.Admin, in, nil)
	requireField(t, err, "on_site_repair_minutes")
	in.OnSiteRepairMinutes = 0
	pol, err := e.Tickets.SetSLAPolicy(e.Ctx, e.Admin, in, nil)
	require.NoError(t, err)
	require.Equal(t, 60, pol.OnSiteRepairMinutes, "0 keeps the default")
	in.OnSiteRepairMinutes = 90
	pol, err = e.Tickets.SetSLAPolicy(e.Ctx, e.Admin, in, nil)
	require.NoError(t, err)
	require.Equal(t, 90, pol.OnSiteRepairMinutes)

	tk := e.repairOnSite(t, 80*time.Minute)
	require.Empty(t, e.onSiteRepairBreaches(t, tk.ID, sh), "11:20 is within 90 minutes")
	tk = e.repairOnSite(t, 2*time.Hour)
	require.Equal(t, []string{"11:30|1|dispatcher|12:00"}, e.onSiteRepairBreaches(t, tk.ID, sh))
}

// A visit that ends waiting for parts completes nothing: the visit that
// completes the repair is measured from its own check-in. Checked in at
// 10:00, short of the pump at 10:30, the job waits and is rescheduled to
// the next working day's 10:00; checked in then and completed at 11:20,
// the breach is due that day at 11:00 (not the first visit's 11:00).
func TestOnSiteRepairMeasuresTheVisitThatCompletes(t *testing.T) {
	e := newMoneyEnv(t)
	sh := e.start.Location()
	tk := e.onSite(t, "repair", e.unit(t, 1200, false), 0)
	pump := e.part(t, drainPumpNo)
	e.set(e.start.Add(30 * time.Minute))
	_, err := e.Tickets.Diagnose(e.Ctx, e.Admin, tk.ID, tickets.DiagnoseInput{
		Diagnosis:      tickets.Diagnosis{Cause: "performance", Repairable: true},
		Work:           tickets.WorkInput{ServiceKind: "repair", IncludeVisit: true, Parts: []catalog.QuotePart{{PartID: pump, Quantity: 1}}},
		PriceListShown: true}, 0)
	require.NoError(t, err)
	moved, err := e.Tickets.MoveParts(e.Ctx, e.Admin, tk.ID, tickets.PartsInput{Op: "reserve", Lines: []stock.Line{{PartID: pump, Quantity: 100}}}, 0)
	require.NoError(t, err)
	require.Equal(t, tickets.State("awaiting_parts"), moved.Ticket.State)
	next := nextWorkday(e.start)
	_, err = e.Tickets.Reschedule(e.Ctx, e.Admin, tk.ID, tickets.RescheduleInput{Window: twoHours(next),
		Reason: "parts", CustomerAgreed: true, ChargesConfirmed: true}, 0)
	require.NoError(t, err)
	e.set(next)
	_, err = e.Tickets.CheckIn(e.Ctx, e.Admin, tk.ID, tickets.CheckInInput{}, 0)
	require.NoError(t, err)
	e.set(next.Add(80 * time.Minute))
	tk, err = e.Tickets.Complete(e.Ctx, e.Admin, tk.ID, tickets.CompleteInput{TestRun: tickets.TestRun{Passed: true}}, 0)
	require.NoError(t, err)
	require.Equal(t, tickets.State("completed"), tk.State)
	require.Equal(t, []string{"11:00|1|dispatcher|11:20"}, e.onSiteRepairBreaches(t, tk.ID, sh))
	require.Equal(t, 1, e.Count(t, `SELECT count(*) FROM ticket_sla_breaches WHERE tenant_id = $1 AND ticket_id = $2
		AND sla = 'on_site_repair' AND due_at = $3`, tk.ID, next.Add(time.Hour)))
}

// A unit found unrepairable on site and to be swapped (a swap requested)
// is not a general fault repaired in the visit: its completion is not
// measured against the hour.
func TestOnSiteRepairNotMeasuredForASwap(t *testing.T) {
	e := newMoneyEnv(t)
	tk := e.swapRequested(t, e.onSite(t, "repair", e.unit(t, 200, false), 0).ID)
	e.set(e.start.Add(80 * time.Minute))
	tk, err := e.Tickets.Complete(e.Ctx, e.Admin, tk.ID, tickets.CompleteInput{TestRun: tickets.TestRun{Passed: true}}, 0)
	require.NoError(t, err)
	require.Equal(t, tickets.State("completed"), tk.State)
	require.Empty(t, e.onSiteRepairBreaches(t, tk.ID, e.start.Location()))
}
