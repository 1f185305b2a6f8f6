package jobs_test

import (
	"context"
	"log/slog"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/require"

	"github.com/servicenet/servicenet/internal/app"
	"github.com/servicenet/servicenet/internal/pg"
	"github.com/servicenet/servicenet/tenants/notifications"
	"github.com/servicenet/servicenet/tenants/payouts"
	"github.com/servicenet/servicenet/tenants/swaps"
	"github.com/servicenet/servicenet/tenants/tickets"
)

// The services a worker under test calls, built with their constructors
// over db; the jobs they would enqueue are not enqueued (the workers under
// test are given their jobs directly).

// newNotifications is a notifications service whose deliveries and
// expiries are not enqueued.
func newNotifications(t *testing.T, db pg.DB) *notifications.Service {
	t.Helper()
	svc, err := notifications.NewService(db, notifications.Deps{
		EnqueueDelivery:    func(context.Context, pgx.Tx, string, string, time.Time, int) error { return nil },
		EnqueueClockExpiry: func(context.Context, pgx.Tx, string, string, string, time.Time) error { return nil },
		Log:                slog.New(slog.DiscardHandler)})
	require.NoError(t, err)
	return svc
}

// newPayouts is a payouts service whose deadline checks are given to
// enqueueDeadline (nil: not enqueued).
func newPayouts(t *testing.T, db pg.DB, enqueueDeadline func(ctx context.Context, tx pgx.Tx, tenantID, payoutID string, at time.Time) error) *payouts.Service {
	t.Helper()
	if enqueueDeadline == nil {
		enqueueDeadline = func(context.Context, pgx.Tx, string, string, time.Time) error { return nil }
	}
	svc, err := payouts.NewService(db, payouts.Deps{Jobs: tickets.ServedTx, EnqueueDeadline: enqueueDeadline,
		EnqueueClockDeadline: func(context.Context, pgx.Tx, string, string, string, time.Time) error { return nil },
		Notifications:        newNotifications(t, db)})
	require.NoError(t, err)
	return svc
}

// newTickets is a tickets service whose swap requests, payout deadlines
// and notifications are not enqueued.
func newTickets(t *testing.T, db pg.DB) *tickets.Service {
	t.Helper()
	sw, err := swaps.NewService(db, swaps.Deps{Jobs: tickets.ServedTx, EnqueueEvaluation: func(context.Context, pgx.Tx, string, string) error { return nil },
		ServingNode: tickets.ServingNodeTx})
	require.NoError(t, err)
	svc, err := tickets.NewService(db, tickets.Deps{Swaps: sw, Payouts: newPayouts(t, db, nil), Notifications: newNotifications(t, db)})
	require.NoError(t, err)
	return svc
}

// newWorker is the whole application over db as `servicenet serve -mode
// worker` builds it (log: its logger, nil discards): its River client
// (App.River) works every job, the periodic ones from Start, with every
// service its workers call. It is not started; it stops when the test ends.
func newWorker(t *testing.T, db *pgxpool.Pool, log *slog.Logger) *app.App {
	t.Helper()
	a, err := app.New(context.Background(), app.Config{Mode: app.ModeWorker, RiverTestOnly: true}, db, log)
	require.NoError(t, err)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		require.NoError(t, a.Stop(ctx))
	})
	return a
}
