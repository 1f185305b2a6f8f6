package tickets_test

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/servicenet/servicenet/internal/pg"
	"github.com/servicenet/servicenet/tenants"
	"github.com/servicenet/servicenet/tenants/payouts"
	"github.com/servicenet/servicenet/tenants/tickets"
)

// The workshop's repair promise (seed 002, 4.2.3 维修时效: 对于复杂故障,需带回
// 维修站进行修理,修理时间最长不超过3个工作日): a unit carried to the node is
// repaired and handed back within 3 working days of its receipt, counted on
// the tenant's calendar (Monday to Friday less its holidays, plus its
// make-up working days, 调休) from the day after the receipt, at the
// receipt's time of day in the tenant's zone (Asia/Shanghai here).

// workshopEnv is a tenant in Asia/Shanghai with a node and an on-site
// repair ticket factory.
type workshopEnv struct {
	b    *bundle
	p    tenants.Principal
	node string
	sh   *time.Location
}

func newWorkshopEnv(t *testing.T, b *bundle, slug string) *workshopEnv {
	t.Helper()
	p := b.tenant(t, slug, "Asia/Shanghai")
	_, node, _ := b.nodes(t, p.TenantID)
	sh, err := time.LoadLocation("Asia/Shanghai")
	require.NoError(t, err)
	return &workshopEnv{b: b, p: p, node: node, sh: sh}
}

// at is a time in Shanghai.
func (e *workshopEnv) at(y int, m time.Month, d, h, min int) time.Time {
	return time.Date(y, m, d, h, min, 0, 0, e.sh)
}

// carriedIn is a repair ticket on site at the node, carried in at at.
func (e *workshopEnv) carriedIn(t *testing.T, at time.Time) tickets.Ticket {
	t.Helper()
	id, _ := e.b.ticket(t, e.p.TenantID, tickets.StateOnSite, map[string]any{"node_id": e.node})
	tk, err := e.b.service(at).CarryIn(context.Background(), e.p, id, tickets.CarryInInput{CustomerAgreed: true, Condition: "外观完好"}, 0)
	require.NoError(t, err)
	require.Equal(t, tickets.State("carry_in"), tk.State)
	return tk
}

func (e *workshopEnv) breaches(t *testing.T, id string) []string {
	t.Helper()
	var out []string
	require.NoError(t, pg.InTenantTx(context.Background(), e.b.db.App, e.p.TenantID, func(tx pg.TenantTx) error {
		return tx.QueryRow(context.Background(), `SELECT coalesce(array_agg(sla || ':' || level || ':' || escalated_to
			ORDER BY level), '{}') FROM ticket_sla_breaches WHERE tenant_id = $1 AND ticket_id = $2`, tx.TenantID, id).Scan(&out)
	}))
	return out
}

// Carried in on Thursday 2026-10-29 at 10:00, the unit is due back on
// Tuesday 2026-11-03 at 10:00 (Friday, Monday, Tuesday). At 07:30 in
// Shanghai it is still Wednesday in UTC: the days are the tenant's, so it is
// due Tuesday 07:30, not Monday. Across 国庆 (the tenant's holidays
// 2026-10-01..07 and the make-up working Saturday 2026-10-10), a unit
// received on Wednesday 2026-09-30 at 16:00 is due on Saturday 2026-10-10 at
// 16:00: Thursday 10-08, Friday 10-09, Saturday 10-10. The ticket shows the
// deadline (workshop_due_at) and its next check is no later.
func TestWorkshopDeadlineCountsWorkingDaysFromTheReceipt(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	b := setup(t)
	e := newWorkshopEnv(t, b, "workshop-due")
	po := b.payouts()
	for d := 1; d <= 7; d++ {
		_, _, err := po.PutCalendarDay(ctx, e.p, time.Date(2026, 10, d, 0, 0, 0, 0, time.UTC).Format(time.DateOnly), "国庆节", payouts.KindHoliday)
		require.NoError(t, err)
	}
	_, _, err := po.PutCalendarDay(ctx, e.p, "2026-10-10", "国庆调休", payouts.KindWorkingDay)
	require.NoError(t, err)

	for _, c := range []struct {
		name          string
		received, due time.Time
	}{
		{"ThursdayToTuesday", e.at(2026, 10, 29, 10, 0), e.at(2026, 11, 3, 10, 0)},
		{"TheTenantsDayNotUTCs", e.at(2026, 10, 29, 7, 30), e.at(2026, 11, 3, 7, 30)},
		{"NationalDayAndTheMakeUpSaturday", e.at(2026, 9, 30, 16, 0), e.at(2026, 10, 10, 16, 0)},
	} {
		t.Run(c.name, func(t *testing.T) {
			tk := e.carriedIn(t, c.received)
			require.NotNil(t, tk.SLA.WorkshopDueAt, "carry-in starts the workshop deadline")
			require.True(t, c.due.Equal(*tk.SLA.WorkshopDueAt), "due %s, want %s", tk.SLA.WorkshopDueAt.In(e.sh), c.due)
			b.requireCheckAt(t, e.p.TenantID, tk.ID, &c.due)
			got, err := b.service(c.received).Get(ctx, e.p, tk.ID)
			require.NoError(t, err)
			require.True(t, c.due.Equal(*got.SLA.WorkshopDueAt))
			js, err := json.Marshal(got.SLA)
			require.NoError(t, err)
			require.Contains(t, string(js), `"workshop_due_at"`)
		})
	}
}

// The tenant's policy sets the working days (workshop_working_days): 5
// puts Thursday 10-29's unit due on Thursday 11-05. 0 keeps the default 3;
// 31 is refused at the field.
func TestWorkshopDeadlineFollowsThePolicy(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	b := setup(t)
	e := newWorkshopEnv(t, b, "workshop-policy")
	svc := b.service(time.Now())
	require.Equal(t, 3, tickets.DefaultSLAPolicy.WorkshopWorkingDays)

	in := tickets.DefaultSLAPolicy
	in.WorkshopWorkingDays = 31
	_, err := svc.SetSLAPolicy(ctx, e.p, in, nil)
	requireField(t, err, "workshop_working_days")
	in.WorkshopWorkingDays = 0
	pol, err := svc.SetSLAPolicy(ctx, e.p, in, nil)
	require.NoError(t, err)
	require.Equal(t, 3, pol.WorkshopWorkingDays, "0 keeps the default")

	in.WorkshopWorkingDays = 5
	pol, err = svc.SetSLAPolicy(ctx, e.p, in, nil)
	require.NoError(t, err)
	require.Equal(t, 5, pol.WorkshopWorkingDays)
	tk := e.carriedIn(t, e.at(2026, 10, 29, 10, 0))
	require.True(t, e.at(2026, 11, 5, 10, 0).Equal(*tk.SLA.WorkshopDueAt), "due %s", tk.SLA.WorkshopDueAt.In(e.sh))
}

// A unit still at the node at its deadline is breached by the sweep at
// the deadline, at level 1 (the dispatcher), and escalates as every
// deadline does: the node manager and the brand, the policy's escalation
// minutes (60) apart. It is listed by GET /v1/sla-breaches?sla=workshop.
func TestWorkshopDeadlineBreachesAndEscalates(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	b := setup(t)
	e := newWorkshopEnv(t, b, "workshop-breach")
	tk := e.carriedIn(t, e.at(2026, 10, 29, 10, 0))
	due := e.at(2026, 11, 3, 10, 0)
	sweep := func(at time.Time) {
		t.Helper()
		_, err := b.service(at).SweepSLA(ctx, e.p.TenantID, at)
		require.NoError(t, err)
	}

	sweep(due.Add(-time.Second))
	require.Empty(t, e.breaches(t, tk.ID), "not yet due")
	sweep(due)
	require.Equal(t, []string{"workshop:1:dispatcher"}, e.breaches(t, tk.ID))
	require.Equal(t, 1, queryInt(t, b, e.p.TenantID, `SELECT count(*) FROM ticket_sla_breaches WHERE tenant_id = $1
		AND ticket_id = $2 AND sla = 'workshop' AND due_at = $3 AND node_id = $4`, tk.ID, due, e.node))
	require.Equal(t, 1, queryInt(t, b, e.p.TenantID, `SELECT escalation_level FROM tickets WHERE tenant_id = $1 AND id = $2`, tk.ID))
	sweep(due.Add(61 * time.Minute))
	sweep(due.Add(122 * time.Minute))
	require.Equal(t, []string{"workshop:1:dispatcher", "workshop:2:node_manager", "workshop:3:brand"}, e.breaches(t, tk.ID))

	list, _, err := b.service(due).ListBreaches(ctx, e.p, tickets.BreachFilter{SLA: "workshop"})
	require.NoError(t, err)
	require.Len(t, list, 3)
	require.Equal(t, tickets.SLAWorkshop, list[0].SLA)
	require.True(t, due.Equal(list[0].DueAt))
}

// Handing the unit back meets the deadline: before it, no breach ever;
// after it with no sweep in between, the return records the breach
// (level 1, at the return's time). A cancellation ends the deadline too.
func TestWorkshopDeadlineMetByTheReturn(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	b := setup(t)
	e := newWorkshopEnv(t, b, "workshop-return")
	due := e.at(2026, 11, 3, 10, 0)

	t.Run("InTime", func(t *testing.T) {
		tk := e.carriedIn(t, e.at(2026, 10, 29, 10, 0))
		tk, err := b.service(due).ReturnUnit(ctx, e.p, tk.ID, tickets.ReturnInput{}, 0)
		require.NoError(t, err)
		require.Equal(t, tickets.State("returned"), tk.State)
		require.Nil(t, tk.SLA.WorkshopDueAt, "met at its very instant")
		b.requireCheckAt(t, e.p.TenantID, tk.ID, nil)
		_, err = b.service(due.Add(48*time.Hour)).SweepSLA(ctx, e.p.TenantID, due.Add(48*time.Hour))
		require.NoError(t, err)
		require.Empty(t, e.breaches(t, tk.ID))
	})
	t.Run("LateWithoutASweep", func(t *testing.T) {
		tk := e.carriedIn(t, e.at(2026, 10, 29, 10, 0))
		back := due.Add(26 * time.Hour)
		tk, err := b.service(back).ReturnUnit(ctx, e.p, tk.ID, tickets.ReturnInput{}, 0)
		require.NoError(t, err)
		require.Nil(t, tk.SLA.WorkshopDueAt)
		require.Equal(t, 1, tk.SLA.EscalationLevel)
		require.Equal(t, []string{"workshop:1:dispatcher"}, e.breaches(t, tk.ID))
		require.Equal(t, 1, queryInt(t, b, e.p.TenantID, `SELECT count(*) FROM ticket_sla_breaches WHERE tenant_id = $1
			AND ticket_id = $2 AND sla = 'workshop' AND due_at = $3 AND breached_at = $4`, tk.ID, due, back))
		require.Equal(t, 1, queryInt(t, b, e.p.TenantID, `SELECT count(*) FROM events WHERE tenant_id = $1
			AND type = 'ticket.sla_breached' AND subject_id = $2 AND data->>'sla' = 'workshop'`, tk.ID))
	})
	t.Run("Cancelled", func(t *testing.T) {
		tk := e.carriedIn(t, e.at(2026, 10, 29, 10, 0))
		tk, err := b.service(due.Add(-time.Hour)).Cancel(ctx, e.p, tk.ID, tickets.CancelInput{Reason: "客户取回未修"}, 0)
		require.NoError(t, err)
		require.Nil(t, tk.SLA.WorkshopDueAt)
		_, err = b.service(due.Add(time.Hour)).SweepSLA(ctx, e.p.TenantID, due.Add(time.Hour))
		require.NoError(t, err)
		require.Empty(t, e.breaches(t, tk.ID))
	})
}

// A unit the workshop finds unrepairable goes to the swap chain: the swap
// request ends the workshop deadline (the diagnosis and the request are
// made in carry_in), so no workshop breach follows.
func TestWorkshopDeadlineEndedByASwapRequest(t *testing.T) {
	e := newMoneyEnv(t)
	tk := e.onSite(t, "repair", e.unit(t, 200, false), -6)
	tk, err := e.Tickets.CarryIn(e.Ctx, e.Admin, tk.ID, tickets.CarryInInput{CustomerAgreed: true, Condition: "外观完好"}, 0)
	require.NoError(t, err)
	require.NotNil(t, tk.SLA.WorkshopDueAt)
	due := *tk.SLA.WorkshopDueAt
	tk = e.swapRequested(t, tk.ID)
	require.Equal(t, tickets.State("carry_in"), tk.State)
	require.Nil(t, tk.SLA.WorkshopDueAt, "the swap request ends it")
	_, err = e.Tickets.SweepSLA(e.Ctx, e.Admin.TenantID, due.Add(time.Hour))
	require.NoError(t, err)
	require.Zero(t, e.Count(t, `SELECT count(*) FROM ticket_sla_breaches WHERE tenant_id = $1 AND ticket_id = $2 AND sla = 'workshop'`, tk.ID))
}
