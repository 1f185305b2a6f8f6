package pg_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/servicenet/servicenet/internal/pg"
	"github.com/servicenet/servicenet/internal/pgtest"
)

// tenants_with_work answers only the questions it knows, each with the
// arguments it takes: a misspelt work is an error, not an empty answer
// that would leave a worker idle.
func TestTenantsWithWorkRefusesUnknownWork(t *testing.T) {
	t.Parallel()
	db := pgtest.NewDB(t)
	ctx := context.Background()
	now := time.Now()
	for _, c := range []struct {
		work  string
		dueBy *time.Time
	}{{"claims", nil}, {"tickets_sla_due", nil}, {"webhook_dispatch_pending", &now}} {
		_, err := pg.TenantsWithWork(ctx, db.App, c.work, c.dueBy)
		require.ErrorContains(t, err, "no such work", c.work)
	}
	for _, c := range []struct {
		work  string
		dueBy *time.Time
	}{{"claims_awaiting_adjudication", nil}, {"tickets_sla_due", &now}, {"webhook_dispatch_pending", nil}} {
		work, err := pg.TenantsWithWork(ctx, db.App, c.work, c.dueBy)
		require.NoError(t, err, c.work)
		require.Empty(t, work, "a new database has no work: %s", c.work)
	}
}
