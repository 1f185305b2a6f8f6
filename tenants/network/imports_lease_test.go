package network

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/servicenet/servicenet/internal/pg"
)

// TestImportLease: a running import whose lease ran out gets one new run,
// and no other import does: not a queued one, not a healthy one however
// long it has been running, not a finished one.
func TestImportLease(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	b := setupImports(t)
	im, err := b.svc.CreateImport(ctx, b.p, FormatJSONL, DemoNetwork(1))
	require.NoError(t, err)
	require.Equal(t, []string{im.ID}, b.enqueued)
	set := func(sql string) {
		t.Helper()
		require.NoError(t, pg.InTenantTx(ctx, b.svc.DB, b.tenantID, func(tx pg.TenantTx) error {
			_, err := tx.Exec(ctx, `UPDATE network_imports SET `+sql+` WHERE tenant_id = $1 AND id = $2`, tx.TenantID, im.ID)
			return err
		}))
	}
	resume := func() bool {
		t.Helper()
		resumed, err := b.svc.ResumeStalledImport(ctx, b.tenantID, im.ID)
		require.NoError(t, err)
		return resumed
	}

	require.False(t, resume(), "a queued import waits for its job")

	set(`state = 'running', started_at = now() - interval '1 hour', heartbeat_at = now()`)
	require.False(t, resume(), "a healthy run is never taken over, however long it has run")

	set(`heartbeat_at = now() - interval '1 minute'`)
	require.NoError(t, b.svc.HeartbeatImport(ctx, b.tenantID, im.ID))
	require.False(t, resume(), "the heartbeat renews the lease")

	set(`heartbeat_at = now() - interval '1 minute'`)
	require.True(t, resume(), "a run whose lease ran out is resumed")
	require.Equal(t, []string{im.ID, im.ID}, b.enqueued, "by a new job")
	require.False(t, resume(), "once: the new job holds the lease")

	done, err := b.svc.RunImport(ctx, b.tenantID, im.ID)
	require.NoError(t, err)
	require.Equal(t, ImportSucceeded, done.State)
	set(`heartbeat_at = now() - interval '1 minute'`)
	require.False(t, resume(), "a finished import is left alone")
	require.NoError(t, b.svc.HeartbeatImport(ctx, b.tenantID, im.ID))
	require.Len(t, b.enqueued, 2)
}
