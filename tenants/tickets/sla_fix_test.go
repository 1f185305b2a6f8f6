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

// A test clock advanced days past a deadline leaves the breach escalated
// as live time would have: level 1 (dispatcher) at the deadline, level 2
// (node manager) the policy's escalation minutes (60) later, level 3
// (brand) another 60 later; each level recorded once, with its timeline
// entry and ticket.sla_breached event. Advanced 90 minutes past it: levels
// 1 and 2. Advanced exactly 60 minutes past it: level 1 only (live, the
// sweep records level 1 after the deadline, so level 2 falls due after).
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
	require.NoError(t, pg.InTenantTx(testCtx, b.db.App, p.TenantID, func(tx pg.TenantTx) error {
		_, err := tx.Exec(testCtx, `UPDATE tickets SET test_clock_id = CASE id WHEN $3 THEN $4 END
			WHERE tenant_id = $1 AND id = ANY ($2)`, tx.TenantID, []string{ninety, sixty}, sixty, clock)
		return err
	}))
	require.Equal(t, 1, sweep(due.Add(60*time.Minute)))
	require.Equal(t, []string{"1:dispatcher"}, levels(sixty))
}
