package tickets_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/servicenet/servicenet/internal/pg"
	"github.com/servicenet/servicenet/tenants"
	"github.com/servicenet/servicenet/tenants/tickets"
)

// A deadline met after it passed is a breach, recorded by the change that
// met it when no sweep saw it first (a change between two sweeps, or on a
// test clock before its sweep ran): first contact is due 2 hours after the
// intake (seed 003: 2小时内联系用户); agreed 3 hours after that, it is
// breached at level 1 (the dispatcher), once, at the change's time.
func TestSLAFixFirstContactMetLateIsRecordedByTheChange(t *testing.T) {
	p := slaReviewPaths(t)
	t0 := p.now
	tk := p.open(t, "SLAF-0001", 100)
	p.now = t0.Add(time.Minute)
	tk, err := p.Tickets.Triage(p.Ctx, p.agent, tk.ID, tickets.TriageInput{Mode: "on_site"}, 0)
	require.NoError(t, err)
	require.Equal(t, tickets.State("dispatched"), tk.State, "%v", tk.StateReason)
	require.NotNil(t, tk.TechnicianID, "%v", tk.StateReason)
	tech := p.As(tenants.Principal{TechnicianID: *tk.TechnicianID}, tenants.RoleTechnician)
	_, err = p.Tickets.Accept(p.Ctx, tech, tk.ID, tickets.AcceptInput{}, 0)
	require.NoError(t, err)
	due := t0.Add(2 * time.Hour)
	require.True(t, tk.SLA.FirstContactDueAt.Equal(due), "first contact due 2 h after the intake: %s", tk.SLA.FirstContactDueAt)

	p.now = due.Add(3 * time.Hour)
	tk, err = p.Tickets.Schedule(p.Ctx, tech, tk.ID, tickets.ScheduleInput{Window: *p.window()}, 0)
	require.NoError(t, err)
	require.Nil(t, tk.SLA.FirstContactDueAt, "met")
	require.Equal(t, 1, tk.SLA.EscalationLevel, "escalated to the dispatcher")
	require.Equal(t, 1, p.Count(t, `SELECT count(*) FROM ticket_sla_breaches WHERE tenant_id = $1 AND ticket_id = $2`, tk.ID))
	require.Equal(t, 1, p.Count(t, `SELECT count(*) FROM ticket_sla_breaches WHERE tenant_id = $1 AND ticket_id = $2
		AND sla = 'first_contact' AND due_at = $3 AND level = 1 AND escalated_to = 'dispatcher' AND breached_at = $4
		AND node_id = $5`, tk.ID, due, p.now, *tk.NodeID))
	require.Equal(t, 1, p.Count(t, `SELECT count(*) FROM events WHERE tenant_id = $1 AND type = 'ticket.sla_breached'
		AND subject_id = $2 AND data->>'sla' = 'first_contact' AND (data->>'level')::int = 1`, tk.ID))
	require.Equal(t, 1, p.Count(t, `SELECT count(*) FROM ticket_timeline WHERE tenant_id = $1 AND ticket_id = $2
		AND action = 'sla_breached' AND actor = 'system' AND at = $3`, tk.ID, p.now))
	require.Equal(t, 1, p.Count(t, `SELECT count(*) FROM tickets WHERE tenant_id = $1 AND id = $2 AND escalation_level = 1`, tk.ID))

	// The sweep then finds nothing more: the deadline is met, recorded once.
	_, err = p.Tickets.SweepSLA(p.Ctx, p.Admin.TenantID, p.now.Add(time.Second))
	require.NoError(t, err)
	require.Equal(t, 1, p.breaches(t, tk.ID, "first_contact"))
	require.Equal(t, 1, p.breachEvents(t, tk.ID))
}

// A cancellation after a deadline passed unmet stops a clock that had
// already run out: the route (5 minutes, seed 003: 接听完后的5分钟内) is
// breached at the cancellation when no sweep recorded it; the deadlines
// still ahead are not.
func TestSLAFixCancelledAfterTheDeadlineIsABreach(t *testing.T) {
	p := slaReviewPaths(t)
	t0 := p.now
	tk := p.open(t, "SLAF-0002", 100)
	p.now = t0.Add(10 * time.Minute)
	_, err := p.Tickets.Cancel(p.Ctx, p.agent, tk.ID, tickets.CancelInput{Reason: "客户已自行解决"}, 0)
	require.NoError(t, err)
	require.Equal(t, 1, p.Count(t, `SELECT count(*) FROM ticket_sla_breaches WHERE tenant_id = $1 AND ticket_id = $2`, tk.ID))
	require.Equal(t, 1, p.Count(t, `SELECT count(*) FROM ticket_sla_breaches WHERE tenant_id = $1 AND ticket_id = $2
		AND sla = 'route' AND level = 1 AND due_at = $3 AND breached_at = $4`, tk.ID, t0.Add(5*time.Minute), p.now))
	require.Equal(t, 1, p.breachEvents(t, tk.ID))
}

// A test clock advanced days past a deadline leaves the breach escalated
// as live time would have: level 1 (dispatcher) at the deadline, level 2
// (node manager) the policy's escalation minutes (60) later, level 3
// (brand) another 60 later; each level recorded once, with its timeline
// entry and ticket.sla_breached event. Advanced 90 minutes past it: levels
// 1 and 2, and level 3 still falls due 120 minutes after the deadline (not
// 60 minutes after the late check that caught up: 150). Advanced 59
// minutes past it: level 1 only.
func TestSLAFixClockAdvanceCatchesUpOnEscalation(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	b := setup(t)
	p := b.tenant(t, "sla-fix-catch-up", "Asia/Shanghai")
	due := time.Date(2026, 11, 30, 2, 0, 0, 0, time.UTC)
	testCtx := pg.WithLivemode(ctx, false)
	clock := tenants.NewID(tenants.PrefixTestClock)
	require.NoError(t, pg.InTenantTx(testCtx, b.db.App, p.TenantID, func(tx pg.TenantTx) error {
		_, err := tx.Exec(ctx, `INSERT INTO test_clocks (tenant_id, id, name, frozen_time) VALUES ($1, $2, 'catch-up', $3)`, tx.TenantID, clock, due)
		return err
	}))
	onClock := func() string {
		id, _ := b.ticketIn(t, testCtx, p.TenantID, tickets.StateNew, map[string]any{"route_due_at": due, "sla_check_at": due, "test_clock_id": clock})
		return id
	}
	count := func(sql string, args ...any) int {
		t.Helper()
		var n int
		require.NoError(t, pg.InTenantTx(testCtx, b.db.App, p.TenantID, func(tx pg.TenantTx) error {
			return tx.QueryRow(testCtx, sql, append([]any{tx.TenantID}, args...)...).Scan(&n)
		}))
		return n
	}
	levels := func(id string) []string {
		t.Helper()
		var out []string
		require.NoError(t, pg.InTenantTx(testCtx, b.db.App, p.TenantID, func(tx pg.TenantTx) error {
			return tx.QueryRow(testCtx, `SELECT coalesce(array_agg(level || ':' || escalated_to ORDER BY level), '{}')
				FROM ticket_sla_breaches WHERE tenant_id = $1 AND ticket_id = $2 AND sla = 'route' AND due_at = $3`, tx.TenantID, id, due).Scan(&out)
		}))
		return out
	}
	sweep := func(at time.Time) int {
		t.Helper()
		n, err := b.service(at).SweepClockSLA(testCtx, p.TenantID, clock, at)
		require.NoError(t, err)
		return n
	}

	days, ninety, sixty := onClock(), onClock(), onClock()
	require.NoError(t, pg.InTenantTx(testCtx, b.db.App, p.TenantID, func(tx pg.TenantTx) error {
		// only days stays on the clock's advance to 3 days; the others are
		// swept at their own times below
		_, err := tx.Exec(testCtx, `UPDATE tickets SET test_clock_id = NULL WHERE tenant_id = $1 AND id = ANY ($2)`, tx.TenantID, []string{ninety, sixty})
		return err
	}))
	at := due.Add(72 * time.Hour)
	require.Equal(t, 3, sweep(at))
	require.Equal(t, []string{"1:dispatcher", "2:node_manager", "3:brand"}, levels(days))
	require.Equal(t, 3, count(`SELECT escalation_level FROM tickets WHERE tenant_id = $1 AND id = $2`, days))
	require.Equal(t, 3, count(`SELECT count(*) FROM ticket_timeline WHERE tenant_id = $1 AND ticket_id = $2
		AND action = 'sla_breached' AND actor = 'system'`, days))
	require.Equal(t, 3, count(`SELECT count(DISTINCT (data->>'level')::int) FROM events WHERE tenant_id = $1
		AND type = 'ticket.sla_breached' AND subject_id = $2`, days))
	require.Equal(t, 3, count(`SELECT count(*) FROM events WHERE tenant_id = $1 AND type = 'ticket.sla_breached' AND subject_id = $2`, days))
	require.Equal(t, 0, count(`SELECT count(*) FROM tickets WHERE tenant_id = $1 AND id = $2 AND sla_check_at IS NOT NULL`, days),
		"the last level is recorded: nothing left to check")
	require.Equal(t, 0, sweep(at.Add(24*time.Hour)), "each level once")

	// The other two on the wall clock of test mode, swept at 90 and at 60
	// minutes past the deadline.
	require.NoError(t, pg.InTenantTx(testCtx, b.db.App, p.TenantID, func(tx pg.TenantTx) error {
		_, err := tx.Exec(testCtx, `UPDATE tickets SET test_clock_id = $3 WHERE tenant_id = $1 AND id = $2`, tx.TenantID, ninety, clock)
		return err
	}))
	require.Equal(t, 2, sweep(due.Add(90*time.Minute)))
	require.Equal(t, []string{"1:dispatcher", "2:node_manager"}, levels(ninety))
	require.Equal(t, 2, count(`SELECT escalation_level FROM tickets WHERE tenant_id = $1 AND id = $2`, ninety))
	require.Equal(t, 1, count(`SELECT count(*) FROM tickets WHERE tenant_id = $1 AND id = $2 AND sla_check_at = $3`,
		ninety, due.Add(120*time.Minute)), "level 3 on the deadline's schedule")
	require.Equal(t, 0, sweep(due.Add(119*time.Minute)))
	require.Equal(t, 1, sweep(due.Add(120*time.Minute)))
	require.Equal(t, []string{"1:dispatcher", "2:node_manager", "3:brand"}, levels(ninety))
	require.NoError(t, pg.InTenantTx(testCtx, b.db.App, p.TenantID, func(tx pg.TenantTx) error {
		_, err := tx.Exec(testCtx, `UPDATE tickets SET test_clock_id = CASE id WHEN $3 THEN $4 END
			WHERE tenant_id = $1 AND id = ANY ($2)`, tx.TenantID, []string{ninety, sixty}, sixty, clock)
		return err
	}))
	require.Equal(t, 1, sweep(due.Add(59*time.Minute)))
	require.Equal(t, []string{"1:dispatcher"}, levels(sixty))
	require.Equal(t, 1, count(`SELECT count(*) FROM tickets WHERE tenant_id = $1 AND id = $2 AND sla_check_at = $3`,
		sixty, due.Add(60*time.Minute)), "level 2 the escalation minutes after the deadline")
}
