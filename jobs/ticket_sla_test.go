package jobs_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/servicenet/servicenet/internal/pg"
	"github.com/servicenet/servicenet/tenants"
)

// ticketRow writes a ticket row directly in state with the columns given
// (completed_at, route_due_at, ...) and a fresh customer.
func (b *contractBundle) ticketRow(t *testing.T, tenantID, state string, col string, at time.Time) string {
	t.Helper()
	ctx := context.Background()
	id := tenants.NewID(tenants.PrefixTicket)
	require.NoError(t, pg.InTenantTx(ctx, b.db.App, tenantID, func(tx pg.TenantTx) error {
		customer := tenants.NewID(tenants.PrefixCustomer)
		if _, err := tx.Exec(ctx, `INSERT INTO customers (tenant_id, id, name, phones) VALUES ($1, $2, '李四', ARRAY['+8613900000000'])`,
			tx.TenantID, customer); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, `INSERT INTO tickets (tenant_id, id, number, channel, type, state, customer_id, contact, address, fault, created_by, `+col+`)
			VALUES ($1, $2, $2, 'hotline', 'repair', $3, $4, '{}', '{}', '{}', 'test', $5)`, tx.TenantID, id, state, customer, at)
		return err
	}))
	return id
}

func (b *contractBundle) count(t *testing.T, tenantID, sql string, args ...any) int {
	t.Helper()
	var n int
	require.NoError(t, pg.InTenantTx(context.Background(), b.db.App, tenantID, func(tx pg.TenantTx) error {
		return tx.QueryRow(context.Background(), sql, append([]any{tx.TenantID}, args...)...).Scan(&n)
	}))
	return n
}

func TestTicketSLASweepRunsOnRiver(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	b := setupContracts(t)
	p := b.tenant(t, "ticket-sla-sweep", "Asia/Shanghai")
	due := time.Now().Add(-time.Minute).Truncate(time.Second)
	late := b.ticketRow(t, p.TenantID, "new", "route_due_at", due)
	met := b.ticketRow(t, p.TenantID, "dispatched", "completed_at", due) // no deadline runs
	ahead := b.ticketRow(t, p.TenantID, "new", "route_due_at", due.Add(time.Hour))
	for _, id := range []string{late, met, ahead} {
		// as a change writes it: the earliest deadline (met's was cleared since)
		require.Equal(t, 1, b.count(t, p.TenantID, `WITH u AS (UPDATE tickets SET sla_check_at = coalesce(route_due_at, $3)
			WHERE tenant_id = $1 AND id = $2 RETURNING 1) SELECT count(*) FROM u`, id, due))
	}
	// A timer job queued before the sweep replaced them completes, doing nothing.
	_, err := b.db.App.Exec(ctx, `INSERT INTO river_job (args, kind, max_attempts, queue, state, scheduled_at)
		VALUES (jsonb_build_object('tenant_id', $1::text, 'ticket_id', $2::text, 'sla', 'route', 'level', 1), 'ticket_sla_timer', 10, 'default', 'available', now())`,
		p.TenantID, late)
	require.NoError(t, err)

	require.NoError(t, newWorker(t, b.db.App, nil).Start(ctx))

	breaches := func(id string) int {
		return b.count(t, p.TenantID, `SELECT count(*) FROM ticket_sla_breaches WHERE tenant_id = $1 AND ticket_id = $2`, id)
	}
	require.Eventually(t, func() bool { return breaches(late) == 1 }, 15*time.Second, 50*time.Millisecond)
	require.Eventually(t, func() bool {
		var n int
		err := b.db.App.QueryRow(ctx, `SELECT count(*) FROM river_job WHERE kind = 'ticket_sla_timer' AND state = 'completed'`).Scan(&n)
		return err == nil && n == 1
	}, 15*time.Second, 50*time.Millisecond)
	require.Zero(t, breaches(met))
	require.Zero(t, breaches(ahead))
	// The next check: the node manager's level, the policy's escalation
	// minutes (60 by default) after the deadline (the escalation runs on the
	// deadline's schedule, not from when the sweep recorded level 1); met is
	// no longer checked; ahead still waits for its deadline.
	checks := map[string]*time.Time{}
	read := func() {
		for _, id := range []string{late, met, ahead} {
			var at *time.Time
			require.NoError(t, pg.InTenantTx(ctx, b.db.App, p.TenantID, func(tx pg.TenantTx) error {
				return tx.QueryRow(ctx, `SELECT sla_check_at FROM tickets WHERE tenant_id = $1 AND id = $2`, tx.TenantID, id).Scan(&at)
			}))
			checks[id] = at
		}
	}
	// The sweep may take met in a later pass than late's breach (its
	// check, due with late's, needs a pass of its own on a busy machine).
	require.Eventually(t, func() bool { read(); return checks[met] == nil }, 15*time.Second, 50*time.Millisecond,
		"met's check was never cleared: %v", checks[met])
	require.NotNil(t, checks[late])
	require.WithinDuration(t, due.Add(time.Hour), *checks[late], 0)
	require.Nil(t, checks[met])
	require.NotNil(t, checks[ahead])
	require.WithinDuration(t, due.Add(time.Hour), *checks[ahead], 0)
}
