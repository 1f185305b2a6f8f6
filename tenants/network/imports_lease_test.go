package network

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
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

	// A batch holds the import's row while it works, and stamps the lease
	// when it commits: however long it takes, it is not taken over.
	set(`heartbeat_at = now() - interval '1 minute'`)
	batch, err := b.svc.DB.Begin(ctx)
	require.NoError(t, err)
	defer func() { _ = batch.Rollback(ctx) }()
	_, err = batch.Exec(ctx, `SELECT set_config('app.tenant_id', $1, true), set_config('app.livemode', 'true', true)`, b.tenantID)
	require.NoError(t, err)
	_, err = batch.Exec(ctx, `SELECT 1 FROM network_imports WHERE tenant_id = $1 AND id = $2 FOR UPDATE`, b.tenantID, im.ID)
	require.NoError(t, err)
	require.NoError(t, b.svc.HeartbeatImport(ctx, b.tenantID, im.ID), "the heartbeat does not wait for the batch")
	waited := make(chan bool, 1)
	go func() {
		resumed, err := b.svc.ResumeStalledImport(ctx, b.tenantID, im.ID)
		assert.NoError(t, err)
		waited <- resumed
	}()
	select {
	case <-waited:
		t.Fatal("the resume did not wait for the batch")
	case <-time.After(200 * time.Millisecond):
	}
	_, err = batch.Exec(ctx, `UPDATE network_imports SET heartbeat_at = now() WHERE tenant_id = $1 AND id = $2`, b.tenantID, im.ID)
	require.NoError(t, err)
	require.NoError(t, batch.Commit(ctx))
	require.False(t, <-waited, "a run in the middle of a batch is alive")
	require.Equal(t, []string{im.ID}, b.enqueued)

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

// TestImportRunBehindAnotherRunsBatch: a run that finds another run's batch
// holding the import's row (the job beside the seed command, a rescued job
// beside a slow one) when it starts lets that run go on and
// resumes after it, however long the batch takes: it never fails on the
// pool's lock_timeout (3 s in production; a batch on a loaded machine can
// take longer).
func TestImportRunBehindAnotherRunsBatch(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	b := setupImports(t)
	svc := b.withLockTimeout(t, 100*time.Millisecond)

	im, err := b.svc.CreateImport(ctx, b.p, FormatJSONL, DemoNetwork(1))
	require.NoError(t, err)
	batch, err := b.svc.DB.Begin(ctx)
	require.NoError(t, err)
	defer func() { _ = batch.Rollback(ctx) }()
	_, err = batch.Exec(ctx, `SELECT set_config('app.tenant_id', $1, true), set_config('app.livemode', 'true', true)`, b.tenantID)
	require.NoError(t, err)
	_, err = batch.Exec(ctx, `UPDATE network_imports SET state = 'running', started_at = now() WHERE tenant_id = $1 AND id = $2`,
		b.tenantID, im.ID)
	require.NoError(t, err)
	type result struct {
		im  Import
		err error
	}
	ran := make(chan result, 1)
	go func() {
		im, err := svc.RunImport(ctx, b.tenantID, im.ID)
		ran <- result{im, err}
	}()
	select {
	case r := <-ran:
		t.Fatalf("the run did not wait for the other run's batch: %v, %v", r.im.State, r.err)
	case <-time.After(500 * time.Millisecond): // five times the lock_timeout
	}
	require.NoError(t, batch.Commit(ctx))
	r := <-ran
	require.NoError(t, r.err)
	require.Equal(t, ImportSucceeded, r.im.State)
}

// TestImportRunsSideBySide: two runs of one import at once (the job beside
// the seed command) both return the finished import, however short the
// pool's lock_timeout: a run whose next batch another run holds steps aside
// at the import's row (NOWAIT) instead of queueing for the network's tree
// lock that batch holds too, which failed the run on a loaded machine
// (its batch longer than the lock_timeout).
func TestImportRunsSideBySide(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	b := setupImports(t)
	svc := b.withLockTimeout(t, 5*time.Millisecond)
	for range 3 {
		im, err := b.svc.CreateImport(ctx, b.p, FormatJSONL, DemoNetwork(1))
		require.NoError(t, err)
		errs := make(chan error, 2)
		for range 2 {
			go func() {
				got, err := svc.RunImport(ctx, b.tenantID, im.ID)
				if err == nil && got.State != ImportSucceeded {
					err = fmt.Errorf("import %s", got.State)
				}
				errs <- err
			}()
		}
		require.NoError(t, <-errs)
		require.NoError(t, <-errs)
	}
}

// withLockTimeout is b's service on a pool of its own whose connections
// give up waiting for a lock after timeout.
func (b *importBundle) withLockTimeout(t *testing.T, timeout time.Duration) *Service {
	t.Helper()
	pool, err := pg.Connect(context.Background(), b.db.AppURL, pg.PoolOptions{LockTimeout: timeout})
	require.NoError(t, err)
	t.Cleanup(pool.Close)
	return &Service{DB: pool, enqueueImport: b.svc.enqueueImport}
}
