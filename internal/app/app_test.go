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
	"github.com/servicenet/servicenet/tenants"
	"github.com/servicenet/servicenet/tenants/claims"
	"github.com/servicenet/servicenet/tenants/complaints"
	"github.com/servicenet/servicenet/tenants/customers"
	"github.com/servicenet/servicenet/tenants/network"
	"github.com/servicenet/servicenet/tenants/notifications"
	"github.com/servicenet/servicenet/tenants/payouts"
	"github.com/servicenet/servicenet/tenants/swaps"
	"github.com/servicenet/servicenet/tenants/tickets"
	"github.com/servicenet/servicenet/tenants/warranty"
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
// missing cannot be built, and the error names it, so a wiring mistake
// fails at start.
func TestConstructorsRefuseMissingDependencies(t *testing.T) {
	t.Parallel()
	db := lazyPool(t)
	noop := func(context.Context, pgx.Tx, string, string) error { return nil }
	nt, err := notifications.NewService(db, notifications.Deps{
		EnqueueDelivery:    func(context.Context, pgx.Tx, string, string, time.Time, int) error { return nil },
		EnqueueClockExpiry: func(context.Context, pgx.Tx, string, string, string, time.Time) error { return nil }})
	require.NoError(t, err)
	swapDeps := swaps.Deps{Jobs: tickets.ServedTx, EnqueueEvaluation: noop, ServingNode: tickets.ServingNodeTx}
	sw, err := swaps.NewService(db, swapDeps)
	require.NoError(t, err)
	payoutDeps := payouts.Deps{Jobs: tickets.ServedTx, EnqueueDeadline: func(context.Context, pgx.Tx, string, string, time.Time) error { return nil },
		EnqueueClockDeadline: func(context.Context, pgx.Tx, string, string, string, time.Time) error { return nil }, Notifications: nt}
	po, err := payouts.NewService(db, payoutDeps)
	require.NoError(t, err)
	customerDeps := customers.Deps{Jobs: tickets.ServedTx, PurchaseDateMoved: warranty.RedateUnitContractsTx}
	_, err = customers.NewService(db, customerDeps)
	require.NoError(t, err)
	claimDeps := claims.Deps{OnApproved: func(context.Context, pg.TenantTx, claims.Claim) error { return nil },
		TicketState: tickets.UnitTicketStateTx, TicketByNumber: tickets.UnitTicketByNumberTx, TicketClock: tickets.TicketClockTx,
		Notifications: nt}
	_, err = claims.NewService(db, claimDeps)
	require.NoError(t, err)
	ticketDeps := tickets.Deps{Swaps: sw, Payouts: po, Notifications: nt}
	_, err = tickets.NewService(db, ticketDeps)
	require.NoError(t, err)
	complaintDeps := complaints.Deps{EnqueueSLA: func(context.Context, pgx.Tx, string, string, *string, int, time.Time) error { return nil },
		Refund: func(context.Context, pg.TenantTx, string, *string, tenants.Money, string, string) (string, error) {
			return "", nil
		},
		Compensate: func(context.Context, pg.TenantTx, string, string, *string, tenants.Money, string, string) (string, error) {
			return "", nil
		}}
	_, err = complaints.NewService(db, complaintDeps)
	require.NoError(t, err)
	webhookDeps := webhooks.Deps{EnqueueDeliveries: func(context.Context, pgx.Tx, string, []string, int) error { return nil },
		Attach: nt.Attach}
	_, err = webhooks.NewService(db, webhookDeps)
	require.NoError(t, err)

	for name, c := range map[string]struct {
		build func() error
		want  string
	}{
		"network":      {func() error { _, err := network.NewService(db, network.Deps{}); return err }, "Deps.EnqueueImport"},
		"network db":   {func() error { _, err := network.NewService(nil, network.Deps{EnqueueImport: noop}); return err }, "database"},
		"customers db": {func() error { _, err := customers.NewService(nil, customerDeps); return err }, "database"},
		"customers jobs": {func() error {
			_, err := customers.NewService(db, without(customerDeps, func(d *customers.Deps) { d.Jobs = nil }))
			return err
		}, "Deps.Jobs"},
		"customers purchase date moved": {func() error {
			_, err := customers.NewService(db, without(customerDeps, func(d *customers.Deps) { d.PurchaseDateMoved = nil }))
			return err
		}, "Deps.PurchaseDateMoved"},
		"warranty db":   {func() error { _, err := warranty.NewService(nil, warranty.Deps{Jobs: tickets.ServedTx}); return err }, "database"},
		"warranty jobs": {func() error { _, err := warranty.NewService(db, warranty.Deps{}); return err }, "Deps.Jobs"},
		"claims ticket state": {func() error {
			_, err := claims.NewService(db, without(claimDeps, func(d *claims.Deps) { d.TicketState = nil }))
			return err
		}, "Deps.TicketState"},
		"claims ticket by number": {func() error {
			_, err := claims.NewService(db, without(claimDeps, func(d *claims.Deps) { d.TicketByNumber = nil }))
			return err
		}, "Deps.TicketByNumber"},
		"claims ticket clock": {func() error {
			_, err := claims.NewService(db, without(claimDeps, func(d *claims.Deps) { d.TicketClock = nil }))
			return err
		}, "Deps.TicketClock"},
		"claims approved": {func() error {
			_, err := claims.NewService(db, without(claimDeps, func(d *claims.Deps) { d.OnApproved = nil }))
			return err
		}, "Deps.OnApproved"},
		"claims notifications": {func() error {
			_, err := claims.NewService(db, without(claimDeps, func(d *claims.Deps) { d.Notifications = nil }))
			return err
		}, "Deps.Notifications"},
		"complaints sla": {func() error {
			_, err := complaints.NewService(db, without(complaintDeps, func(d *complaints.Deps) { d.EnqueueSLA = nil }))
			return err
		}, "Deps.EnqueueSLA"},
		"complaints refund": {func() error {
			_, err := complaints.NewService(db, without(complaintDeps, func(d *complaints.Deps) { d.Refund = nil }))
			return err
		}, "Deps.Refund"},
		"complaints compensate": {func() error {
			_, err := complaints.NewService(db, without(complaintDeps, func(d *complaints.Deps) { d.Compensate = nil }))
			return err
		}, "Deps.Compensate"},
		"payouts jobs": {func() error {
			_, err := payouts.NewService(db, without(payoutDeps, func(d *payouts.Deps) { d.Jobs = nil }))
			return err
		}, "Deps.Jobs"},
		"payouts deadline": {func() error {
			_, err := payouts.NewService(db, without(payoutDeps, func(d *payouts.Deps) { d.EnqueueDeadline = nil }))
			return err
		}, "Deps.EnqueueDeadline"},
		"payouts clock deadline": {func() error {
			_, err := payouts.NewService(db, without(payoutDeps, func(d *payouts.Deps) { d.EnqueueClockDeadline = nil }))
			return err
		}, "Deps.EnqueueClockDeadline"},
		"payouts notifications": {func() error {
			_, err := payouts.NewService(db, without(payoutDeps, func(d *payouts.Deps) { d.Notifications = nil }))
			return err
		}, "Deps.Notifications"},
		"swaps jobs": {func() error {
			_, err := swaps.NewService(db, without(swapDeps, func(d *swaps.Deps) { d.Jobs = nil }))
			return err
		}, "Deps.Jobs"},
		"swaps evaluation": {func() error {
			_, err := swaps.NewService(db, without(swapDeps, func(d *swaps.Deps) { d.EnqueueEvaluation = nil }))
			return err
		}, "Deps.EnqueueEvaluation"},
		"swaps serving node": {func() error {
			_, err := swaps.NewService(db, without(swapDeps, func(d *swaps.Deps) { d.ServingNode = nil }))
			return err
		}, "Deps.ServingNode"},
		"webhooks deliveries": {func() error {
			_, err := webhooks.NewService(db, without(webhookDeps, func(d *webhooks.Deps) { d.EnqueueDeliveries = nil }))
			return err
		}, "Deps.EnqueueDeliveries"},
		"webhooks attach": {func() error {
			_, err := webhooks.NewService(db, without(webhookDeps, func(d *webhooks.Deps) { d.Attach = nil }))
			return err
		}, "Deps.Attach"},
		"tickets swaps": {func() error {
			_, err := tickets.NewService(db, without(ticketDeps, func(d *tickets.Deps) { d.Swaps = nil }))
			return err
		}, "Deps.Swaps"},
		"tickets payouts": {func() error {
			_, err := tickets.NewService(db, without(ticketDeps, func(d *tickets.Deps) { d.Payouts = nil }))
			return err
		}, "Deps.Payouts"},
		"tickets notifications": {func() error {
			_, err := tickets.NewService(db, without(ticketDeps, func(d *tickets.Deps) { d.Notifications = nil }))
			return err
		}, "Deps.Notifications"},
	} {
		require.ErrorContains(t, c.build(), c.want, name)
	}
}

// without is d with the field drop clears.
func without[D any](d D, drop func(*D)) D {
	drop(&d)
	return d
}
