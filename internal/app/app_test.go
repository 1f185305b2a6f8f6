package app_test

import (
	"context"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/require"

	"github.com/servicenet/servicenet/internal/app"
	"github.com/servicenet/servicenet/internal/pg"
	"github.com/servicenet/servicenet/tenants/claims"
	"github.com/servicenet/servicenet/tenants/complaints"
	"github.com/servicenet/servicenet/tenants/network"
	"github.com/servicenet/servicenet/tenants/payouts"
	"github.com/servicenet/servicenet/tenants/swaps"
	"github.com/servicenet/servicenet/tenants/tickets"
	"github.com/servicenet/servicenet/tenants/webhooks"
)

// lazyPool is a pool that never connects: New builds everything without
// touching the database.
func lazyPool(t *testing.T) *pgxpool.Pool {
	t.Helper()
	db, err := pgxpool.New(context.Background(), "postgres://nobody@127.0.0.1:1/none?sslmode=disable")
	require.NoError(t, err)
	t.Cleanup(db.Close)
	return db
}

func TestNew(t *testing.T) {
	t.Parallel()
	ctx := context.Background()

	t.Run("BuildsEveryPiece", func(t *testing.T) {
		t.Parallel()
		a, err := app.New(ctx, app.Config{Mode: app.ModeAPI}, lazyPool(t), nil)
		require.NoError(t, err)
		for name, v := range map[string]any{"Identity": a.Identity, "Idempotency": a.Idempotency, "Network": a.Network,
			"Catalog": a.Catalog, "Customers": a.Customers, "Warranty": a.Warranty, "Claims": a.Claims,
			"Complaints": a.Complaints, "Swaps": a.Swaps, "Stock": a.Stock, "Payouts": a.Payouts, "Webhooks": a.Webhooks,
			"Tickets": a.Tickets, "Authz": a.Authz, "River": a.River, "API": a.API} {
			require.NotNil(t, v, name)
		}
		require.NotNil(t, a.Handler())
	})

	t.Run("APIModeStartsNoWorkers", func(t *testing.T) {
		t.Parallel()
		a, err := app.New(ctx, app.Config{Mode: app.ModeAPI}, lazyPool(t), nil)
		require.NoError(t, err)
		require.NoError(t, a.Start(ctx), "an insert-only client has nothing to start (and no database to reach)")
		require.NoError(t, a.Stop(ctx))
	})

	t.Run("UnknownModeFails", func(t *testing.T) {
		t.Parallel()
		_, err := app.New(ctx, app.Config{Mode: "both"}, lazyPool(t), nil)
		require.ErrorContains(t, err, `unknown mode "both"`)
	})

	t.Run("NoDatabaseFails", func(t *testing.T) {
		t.Parallel()
		_, err := app.New(ctx, app.Config{}, nil, nil)
		require.Error(t, err)
	})
}

// TestConstructorsRefuseMissingDependencies: a service whose dependency is
// missing cannot be built, so a wiring mistake fails at start.
func TestConstructorsRefuseMissingDependencies(t *testing.T) {
	t.Parallel()
	db := lazyPool(t)
	noop := func(context.Context, pgx.Tx, string, string) error { return nil }
	sw, err := swaps.NewService(db, swaps.Deps{EnqueueEvaluation: noop, ServingNode: tickets.ServingNodeTx})
	require.NoError(t, err)
	po, err := payouts.NewService(db, payouts.Deps{EnqueueDeadline: func(context.Context, pgx.Tx, string, string, time.Time) error { return nil }})
	require.NoError(t, err)
	for name, build := range map[string]func() error{
		"network":    func() error { _, err := network.NewService(db, network.Deps{}); return err },
		"network db": func() error { _, err := network.NewService(nil, network.Deps{EnqueueImport: noop}); return err },
		"claims ticket state": func() error {
			_, err := claims.NewService(db, claims.Deps{OnApproved: func(context.Context, pg.TenantTx, claims.Claim) error { return nil },
				TicketByNumber: tickets.UnitTicketByNumberTx, TicketClock: tickets.TicketClockTx})
			return err
		},
		"claims ticket by number": func() error {
			_, err := claims.NewService(db, claims.Deps{OnApproved: func(context.Context, pg.TenantTx, claims.Claim) error { return nil },
				TicketState: tickets.UnitTicketStateTx, TicketClock: tickets.TicketClockTx})
			return err
		},
		"claims ticket clock": func() error {
			_, err := claims.NewService(db, claims.Deps{OnApproved: func(context.Context, pg.TenantTx, claims.Claim) error { return nil },
				TicketState: tickets.UnitTicketStateTx, TicketByNumber: tickets.UnitTicketByNumberTx})
			return err
		},
		"claims approved": func() error {
			_, err := claims.NewService(db, claims.Deps{TicketState: tickets.UnitTicketStateTx, TicketByNumber: tickets.UnitTicketByNumberTx,
				TicketClock: tickets.TicketClockTx})
			return err
		},
		"complaints":      func() error { _, err := complaints.NewService(db, complaints.Deps{}); return err },
		"payouts":         func() error { _, err := payouts.NewService(db, payouts.Deps{}); return err },
		"swaps":           func() error { _, err := swaps.NewService(db, swaps.Deps{}); return err },
		"webhooks":        func() error { _, err := webhooks.NewService(db, webhooks.Deps{}); return err },
		"tickets swaps":   func() error { _, err := tickets.NewService(db, tickets.Deps{Payouts: po}); return err },
		"tickets payouts": func() error { _, err := tickets.NewService(db, tickets.Deps{Swaps: sw}); return err },
	} {
		require.Error(t, build(), name)
	}
}
