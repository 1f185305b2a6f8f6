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

// A node key sees the contact of a job it did for the tenant's grace period
// after the job ended (24 hours by default). On a ticket on a test clock the
// end was stamped with the clock's time, and the grace period runs on the
// clock too: a job the clock ended an hour ago is in grace, one it ended two
// days ago is not, wherever the clock stands against the wall (here 60 days
// back, where the wall clock put every job on it out of grace).
func TestGracePeriodRunsOnTheTicketsClock(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	b := setup(t)
	p := b.tenant(t, "grace-on-clock", "Asia/Shanghai")
	wall := time.Now().UTC().Truncate(time.Second)
	clockAt := wall.AddDate(0, 0, -60)
	testCtx := pg.WithLivemode(ctx, false)
	clock, node := tenants.NewID(tenants.PrefixTestClock), tenants.NewID(tenants.PrefixNode)
	require.NoError(t, pg.InTenantTx(testCtx, b.db.App, p.TenantID, func(tx pg.TenantTx) error {
		if _, err := tx.Exec(testCtx, `INSERT INTO nodes (tenant_id, id, external_code, name, tier, path)
			VALUES ($1, $2, 'ROOT', 'Root', 'manufacturer', $3::ltree)`, tx.TenantID, node, node); err != nil {
			return err
		}
		_, err := tx.Exec(testCtx, `INSERT INTO test_clocks (tenant_id, id, name, frozen_time) VALUES ($1, $2, 'grace', $3)`, tx.TenantID, clock, clockAt)
		return err
	}))
	ended := func(ago time.Duration, onClock bool) string {
		cols := map[string]any{"node_id": node, "completed_at": clockAt.Add(-ago)}
		if onClock {
			cols["test_clock_id"] = clock
		} else {
			cols["completed_at"] = wall.Add(-ago)
		}
		id, _ := b.ticketIn(t, testCtx, p.TenantID, tickets.StateCompleted, cols)
		return id
	}
	nodeKey := tenants.Principal{TenantID: p.TenantID, KeyID: p.KeyID, Roles: []string{tenants.RoleNodeManager}, NodeID: node}
	sees := func(id string) bool {
		t.Helper()
		tk, err := b.service(wall).Get(testCtx, nodeKey, id)
		require.NoError(t, err)
		return nodeKey.SeesPersonalData(tk.PersonalRelation())
	}

	require.True(t, sees(ended(time.Hour, true)), "ended an hour ago on its clock: in grace")
	require.False(t, sees(ended(48*time.Hour, true)), "ended two days ago on its clock: masked")
	require.True(t, sees(ended(time.Hour, false)), "on the wall clock, an hour ago: in grace, as before")
	require.False(t, sees(ended(48*time.Hour, false)), "on the wall clock, two days ago: masked, as before")
}
