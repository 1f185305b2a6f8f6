package jobs_test

import (
	"bytes"
	"context"
	"log/slog"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river"
	"github.com/stretchr/testify/require"

	"github.com/servicenet/servicenet/internal/app"
	"github.com/servicenet/servicenet/internal/logging"
	"github.com/servicenet/servicenet/internal/pg"
	"github.com/servicenet/servicenet/internal/pgtest"
	"github.com/servicenet/servicenet/jobs"
	"github.com/servicenet/servicenet/tenants"
	"github.com/servicenet/servicenet/tenants/idempotency"
)

// logBuffer is a goroutine-safe log sink, shown when a test fails.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.Write(p)
}

func (l *logBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.String()
}

type sweepBundle struct {
	db     *pgtest.DB
	store  *idempotency.Store
	app    *app.App // not started
	client *river.Client[pgx.Tx]
	events <-chan *river.Event
	logs   *logBuffer
}

// setupSweep gives the test its own database holding n tenants (more than
// one page of ListTenants) and the whole application working jobs (its
// River client is b.client), not started yet.
func setupSweep(t *testing.T, n int) (*sweepBundle, []string) {
	t.Helper()
	ctx := context.Background()
	db := pgtest.NewDB(t)
	ids := make([]string, n)
	batch := &pgx.Batch{}
	for i := range ids {
		ids[i] = tenants.NewID(tenants.PrefixTenant)
		batch.Queue(`INSERT INTO tenants (id, name, slug) VALUES ($1, 'T', $2)`, ids[i], "t-"+ids[i][len(ids[i])-16:])
	}
	require.NoError(t, db.App.SendBatch(ctx, batch).Close())
	slices.Sort(ids) // the order ListTenants pages in

	logs := &logBuffer{}
	store := &idempotency.Store{DB: db.App}
	a := newWorker(t, db.App, logging.New(logs, slog.LevelWarn))
	events, cancel := a.River.Subscribe(river.EventKindJobCompleted, river.EventKindJobFailed)
	t.Cleanup(cancel)
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("worker log:\n%s", logs.String())
		}
	})
	return &sweepBundle{db: db, store: store, app: a, client: a.River, events: events, logs: logs}, ids
}

// record claims an idempotency key and, when expired, backdates it.
func (b *sweepBundle) record(t *testing.T, tenantID, key string, expired bool) {
	t.Helper()
	ctx := context.Background()
	sc := idempotency.Scope{TenantID: tenantID, CredentialID: "cred"}
	req := idempotency.Request{Scope: sc, Key: key, RequestHash: "h", Method: "POST", Path: "/v1/x"}
	u := pg.NewUnit(b.db.App, tenantID)
	first, last := &pgx.Batch{}, &pgx.Batch{}
	claim := idempotency.QueueClaim(first, req, u.SessionLockTimeout())
	require.NoError(t, u.Begin(ctx, first))
	require.Nil(t, claim.Existing)
	require.NoError(t, idempotency.QueueResponse(last, req, 201, nil, []byte(`{}`), nil))
	require.NoError(t, u.Commit(ctx, last))
	var err error
	if !expired {
		return
	}
	if tenantID == "" {
		_, err = b.db.App.Exec(ctx, `UPDATE platform_idempotency_keys SET expires_at = now() - interval '1 minute' WHERE key = $1`, key)
		require.NoError(t, err)
		return
	}
	require.NoError(t, pg.InTenantTx(ctx, b.db.App, tenantID, func(tx pg.TenantTx) error {
		_, err := tx.Exec(ctx, `UPDATE idempotency_keys SET expires_at = now() - interval '1 minute' WHERE tenant_id = $1 AND key = $2`, tx.TenantID, key)
		return err
	}))
}

// keys lists the idempotency keys still stored for a tenant ("" for the
// platform).
func (b *sweepBundle) keys(t *testing.T, tenantID string) []string {
	t.Helper()
	ctx := context.Background()
	var keys []string
	if tenantID == "" {
		rows, err := b.db.App.Query(ctx, `SELECT key FROM platform_idempotency_keys ORDER BY key`)
		require.NoError(t, err)
		keys, err = pgx.CollectRows(rows, pgx.RowTo[string])
		require.NoError(t, err)
		return keys
	}
	require.NoError(t, pg.InTenantTx(ctx, b.db.App, tenantID, func(tx pg.TenantTx) error {
		rows, err := tx.Query(ctx, `SELECT key FROM idempotency_keys WHERE tenant_id = $1 ORDER BY key`, tx.TenantID)
		if err != nil {
			return err
		}
		keys, err = pgx.CollectRows(rows, pgx.RowTo[string])
		return err
	}))
	return keys
}

// waitSweep waits for a sweep job to complete (jobID 0: any sweep) and fails
// the test if one fails.
func (b *sweepBundle) waitSweep(t *testing.T, jobID int64) {
	t.Helper()
	timeout := time.After(30 * time.Second)
	for {
		select {
		case ev := <-b.events:
			if ev.Job.Kind != (jobs.IdempotencySweepArgs{}).Kind() {
				continue // other periodic jobs run on start too
			}
			require.NotEqual(t, river.EventKindJobFailed, ev.Kind, "sweep failed: %v", ev.Job.Errors)
			if jobID == 0 || ev.Job.ID == jobID {
				return
			}
		case <-timeout:
			t.Fatalf("no idempotency sweep completed within 30s")
		}
	}
}

func TestIdempotencySweep(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	b, ids := setupSweep(t, 205)
	first, last := ids[0], ids[len(ids)-1] // last is on ListTenants' second page
	for _, ten := range []string{first, last} {
		b.record(t, ten, "expired", true)
		b.record(t, ten, "fresh", false)
	}
	b.record(t, "", "platform-expired", true)
	b.record(t, "", "platform-fresh", false)

	require.NoError(t, b.app.Start(ctx))

	// The periodic sweep runs on start; inserting one more either joins it
	// (unique by args while pending or running) or runs after it.
	res, err := b.client.Insert(ctx, jobs.IdempotencySweepArgs{}, nil)
	require.NoError(t, err)
	b.waitSweep(t, res.Job.ID)

	for _, ten := range []string{first, last} {
		require.Equal(t, []string{"fresh"}, b.keys(t, ten), ten)
	}
	require.Equal(t, []string{"platform-fresh"}, b.keys(t, ""))

	t.Run("RunningAgainIsHarmless", func(t *testing.T) {
		b.record(t, last, "expired-later", true)
		res, err := b.client.Insert(ctx, jobs.IdempotencySweepArgs{}, nil)
		require.NoError(t, err)
		b.waitSweep(t, res.Job.ID)
		require.Equal(t, []string{"fresh"}, b.keys(t, last))

		res, err = b.client.Insert(ctx, jobs.IdempotencySweepArgs{}, nil)
		require.NoError(t, err)
		b.waitSweep(t, res.Job.ID)
		require.Equal(t, []string{"fresh"}, b.keys(t, first))
		require.Equal(t, []string{"fresh"}, b.keys(t, last))
		require.Equal(t, []string{"platform-fresh"}, b.keys(t, ""))
	})
}

func TestIdempotencySweepKindIsStable(t *testing.T) {
	t.Parallel()
	// Stored jobs name their kind: renaming it strands every queued sweep.
	require.Equal(t, "idempotency_sweep", jobs.IdempotencySweepArgs{}.Kind())
}
