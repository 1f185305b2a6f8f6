package jobs_test

import (
	"context"
	"log/slog"
	"reflect"
	"testing"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/require"

	"github.com/servicenet/servicenet/internal/app"
	"github.com/servicenet/servicenet/jobs"
)

// TestNewClientRefusesMissingDependencies: a client that works jobs cannot
// be built without any of the services its workers call, and the error
// names the one missing (else its jobs would be cancelled or never run); a
// client that only inserts needs none.
func TestNewClientRefusesMissingDependencies(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db, err := pgxpool.New(ctx, "postgres://nobody@127.0.0.1:1/none?sslmode=disable") // never connects
	require.NoError(t, err)
	t.Cleanup(db.Close)
	a, err := app.New(ctx, app.Config{Mode: app.ModeAPI}, db, nil)
	require.NoError(t, err)
	full := jobs.Deps{Identity: a.Identity, Idempotency: a.Idempotency, Network: a.Network, Customers: a.Customers,
		Warranty: a.Warranty, Claims: a.Claims, Complaints: a.Complaints, Swaps: a.Swaps, Payouts: a.Payouts,
		Webhooks: a.Webhooks, Tickets: a.Tickets, Quality: a.Quality, Notifications: a.Notifications,
		TestClocks: a.TestClocks, Logger: slog.New(slog.DiscardHandler), Stopping: make(chan struct{})}
	work := jobs.Options{Work: true, TestOnly: true}

	_, err = jobs.NewClient(db, full, work)
	require.NoError(t, err, "every dependency given")
	// Every field, so that a dependency added to Deps is required too.
	fields := reflect.TypeFor[jobs.Deps]()
	for i := range fields.NumField() {
		name := fields.Field(i).Name
		t.Run("Without"+name, func(t *testing.T) {
			d := full
			v := reflect.ValueOf(&d).Elem().Field(i)
			require.False(t, v.IsZero(), "the full deps give %s", name)
			v.SetZero()
			_, err := jobs.NewClient(db, d, work)
			require.ErrorContains(t, err, "jobs: Deps."+name+" is required")
		})
	}

	t.Run("InsertOnlyNeedsNone", func(t *testing.T) {
		_, err := jobs.NewClient(db, jobs.Deps{}, jobs.Options{})
		require.NoError(t, err)
		_, err = jobs.NewClient(nil, jobs.Deps{}, jobs.Options{})
		require.NoError(t, err, "nor a pool, inserting into its callers' transactions")
	})
}
