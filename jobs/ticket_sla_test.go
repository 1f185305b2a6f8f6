package jobs_test

import (
	"context"
	"errors"
	"log/slog"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"
	"github.com/stretchr/testify/require"

	"github.com/servicenet/servicenet/internal/pg"
	"github.com/servicenet/servicenet/jobs"
	"github.com/servicenet/servicenet/tenants"
	"github.com/servicenet/servicenet/tenants/idempotency"
	"github.com/servicenet/servicenet/tenants/payouts"
	"github.com/servicenet/servicenet/tenants/swaps"
	"github.com/servicenet/servicenet/tenants/tickets"
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

func TestTicketTimerRunsOnRiver(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	b := setupContracts(t)
	p := b.tenant(t, "ticket-timer", "Asia/Shanghai")
	due := time.Now().Add(-time.Minute).Truncate(time.Second)
	id := b.ticketRow(t, p.TenantID, "new", "route_due_at", due)
	met := b.ticketRow(t, p.TenantID, "dispatched", "completed_at", due) // its route deadline is cleared

	// The service enqueues through q, the client runs the service's timers:
	// the client is attached to q once both exist, as internal/app does.
	q := &jobs.Deferred{}
	svc := newTickets(t, b.db.App, jobs.TicketTimerEnqueuer(q))
	rc, err := jobs.NewClient(b.db.App, jobs.Deps{Identity: b.idn, Idempotency: &idempotency.Store{DB: b.db.App}, Tickets: svc,
		Logger: slog.New(slog.DiscardHandler)}, jobs.Options{Work: true, TestOnly: true})
	require.NoError(t, err)
	require.NoError(t, q.Attach(rc))
	require.NoError(t, rc.Start(ctx))
	t.Cleanup(func() { _ = rc.Stop(context.Background()) })

	// The ticket core's transaction: the deadlines and their timers together.
	require.NoError(t, pg.InTenantTx(ctx, b.db.App, p.TenantID, func(tx pg.TenantTx) error {
		return jobs.TicketTimerEnqueuer(rc)(ctx, tx.Tx, []tickets.Timer{
			{TenantID: p.TenantID, TicketID: id, SLA: tickets.SLARoute, DueAt: due, Level: 1},
			{TenantID: p.TenantID, TicketID: met, SLA: tickets.SLARoute, DueAt: due, Level: 1},
		})
	}))
	require.Eventually(t, func() bool {
		return b.count(t, p.TenantID, `SELECT count(*) FROM ticket_sla_breaches WHERE tenant_id = $1 AND ticket_id = $2`, id) == 1
	}, 15*time.Second, 50*time.Millisecond)
	require.Eventually(t, func() bool {
		var n int
		err := b.db.App.QueryRow(ctx, `SELECT count(*) FROM river_job WHERE kind = 'ticket_sla_timer' AND state = 'completed'`).Scan(&n)
		return err == nil && n == 2
	}, 15*time.Second, 50*time.Millisecond)
	require.Equal(t, 0, b.count(t, p.TenantID, `SELECT count(*) FROM ticket_sla_breaches WHERE tenant_id = $1 AND ticket_id = $2`, met))
	var level int
	var scheduled time.Time
	require.NoError(t, b.db.App.QueryRow(ctx, `SELECT (args->>'level')::int, scheduled_at FROM river_job
		WHERE kind = 'ticket_sla_timer' AND state = 'scheduled' AND args->>'ticket_id' = $1`, id).Scan(&level, &scheduled))
	require.Equal(t, 2, level, "the node manager's timer waits")
	require.True(t, scheduled.After(time.Now().Add(50*time.Minute)))
}

// newTickets is a tickets service over db whose timers go to enqueue (and
// whose swap requests are not enqueued).
func newTickets(t *testing.T, db *pgxpool.Pool, enqueue func(context.Context, pgx.Tx, []tickets.Timer) error) *tickets.Service {
	t.Helper()
	sw, err := swaps.NewService(db, swaps.Deps{EnqueueEvaluation: func(context.Context, pgx.Tx, string, string) error { return nil }})
	require.NoError(t, err)
	po, err := payouts.NewService(db, payouts.Deps{EnqueueDeadline: func(context.Context, pgx.Tx, string, string, time.Time) error { return nil }})
	require.NoError(t, err)
	svc, err := tickets.NewService(db, tickets.Deps{EnqueueTimers: enqueue, Swaps: sw, Payouts: po})
	require.NoError(t, err)
	return svc
}

func TestTicketTimerWorkerCancels(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	b := setupContracts(t)
	p := b.tenant(t, "ticket-timer-cancel", "Asia/Shanghai")
	w := &jobs.TicketTimerWorker{Tickets: newTickets(t, b.db.App, func(context.Context, pgx.Tx, []tickets.Timer) error { return nil })}
	work := func(a jobs.TicketTimerArgs) error {
		return w.Work(ctx, &river.Job[jobs.TicketTimerArgs]{JobRow: &rivertype.JobRow{ID: 1, Kind: "ticket_sla_timer", Attempt: 1, MaxAttempts: 10}, Args: a})
	}
	var cancel *river.JobCancelError
	require.True(t, errors.As(work(jobs.TicketTimerArgs{TenantID: p.TenantID, TicketID: tenants.NewID(tenants.PrefixTicket), SLA: "route", DueAt: time.Now(), Level: 1}), &cancel), "unknown ticket")
	require.True(t, errors.As(work(jobs.TicketTimerArgs{TenantID: p.TenantID, TicketID: tenants.NewID(tenants.PrefixTicket), SLA: "lunch", DueAt: time.Now(), Level: 1}), &cancel), "unknown SLA")
	require.True(t, errors.As(work(jobs.TicketTimerArgs{TenantID: p.TenantID, TicketID: tenants.NewID(tenants.PrefixTicket), SLA: "route", DueAt: time.Now(), Level: 4}), &cancel), "level 4")
}
