package jobs_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"
	"github.com/stretchr/testify/require"

	"github.com/servicenet/servicenet/internal/pg"
	"github.com/servicenet/servicenet/internal/pgtest"
	"github.com/servicenet/servicenet/jobs"
	"github.com/servicenet/servicenet/tenants"
	"github.com/servicenet/servicenet/tenants/events"
	"github.com/servicenet/servicenet/tenants/identity"
	"github.com/servicenet/servicenet/tenants/webhooks"
)

func TestWebhookWorkers(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := pgtest.NewDB(t)
	idn := &identity.Service{DB: db.App}
	ten, key, err := idn.CreateTenant(ctx, identity.NewTenant{Name: "Webhook brand", Slug: "webhook-brand"}, "test")
	require.NoError(t, err)
	p := tenants.Principal{TenantID: ten.ID, KeyID: key.ID}
	var mu sync.Mutex
	var enqueued []string
	queued := func() int { mu.Lock(); defer mu.Unlock(); return len(enqueued) }
	whk, err := webhooks.NewService(db.App, webhooks.Deps{EnqueueDeliveries: func(_ context.Context, _ pgx.Tx, _ string, ids []string, _ int) error {
		mu.Lock()
		defer mu.Unlock()
		enqueued = append(enqueued, ids...)
		return nil
	}, Attach: newNotifications(t, db.App).Attach})
	require.NoError(t, err)
	whk.SetPolicy(webhooks.Policy{RetrySchedule: []time.Duration{5 * time.Second, 30 * time.Second}, DisableAfter: 10})
	var hits atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		if hits.Add(1) == 1 {
			w.Header().Set("Retry-After", "20")
			w.WriteHeader(http.StatusServiceUnavailable)
		}
	}))
	t.Cleanup(srv.Close)
	whk.AllowHost(srv.Listener.Addr().String())
	whk.Rand = func() float64 { return 0.5 } // the schedule unspread
	ep, err := whk.CreateEndpoint(ctx, p, webhooks.NewEndpoint{URL: srv.URL, EventTypes: []string{"claim.*"}})
	require.NoError(t, err)
	require.NoError(t, pg.InTenantTx(ctx, db.App, ten.ID, func(tx pg.TenantTx) error {
		return events.Append(ctx, tx, events.New{Type: "claim.submitted", SubjectID: "x", Actor: "test"})
	}))

	dispatch := &jobs.WebhookDispatchWorker{Webhooks: whk}
	require.NoError(t, dispatch.Work(ctx, &river.Job[jobs.WebhookDispatchArgs]{JobRow: &rivertype.JobRow{Attempt: 1, MaxAttempts: 1}}))
	require.Len(t, enqueued, 1)
	require.NoError(t, dispatch.Work(ctx, &river.Job[jobs.WebhookDispatchArgs]{JobRow: &rivertype.JobRow{Attempt: 1, MaxAttempts: 1},
		Args: jobs.WebhookDispatchArgs{TenantID: ten.ID}}))
	require.Len(t, enqueued, 1, "dispatch is idempotent")

	// The periodic run is a session: it dispatches every second until its
	// time is up, or at once when the process stops its jobs.
	stopping := make(chan struct{})
	session := &jobs.WebhookDispatchWorker{Webhooks: whk, Stopping: stopping}
	ended := make(chan error, 1)
	started := time.Now()
	go func() {
		ended <- session.Work(ctx, &river.Job[jobs.WebhookDispatchArgs]{JobRow: &rivertype.JobRow{Attempt: 1, MaxAttempts: 1},
			Args: jobs.WebhookDispatchArgs{SessionSeconds: 20}})
	}()
	time.Sleep(1500 * time.Millisecond)
	require.NoError(t, pg.InTenantTx(ctx, db.App, ten.ID, func(tx pg.TenantTx) error {
		return events.Append(ctx, tx, events.New{Type: "claim.approved", SubjectID: "x", Actor: "test"})
	}))
	require.Eventually(t, func() bool { return queued() == 2 }, 3*time.Second, 50*time.Millisecond,
		"an event appended during the session is dispatched by it")
	close(stopping)
	select {
	case err := <-ended:
		require.NoError(t, err)
		require.Less(t, time.Since(started), 10*time.Second, "the session ended when the process began to stop")
	case <-time.After(3 * time.Second):
		t.Fatal("the session did not end when the process began to stop")
	}
	mu.Lock()
	enqueued = enqueued[:1]
	mu.Unlock()

	deliver := &jobs.WebhookDeliveryWorker{Webhooks: whk}
	job := func(id string, attempt int) *river.Job[jobs.WebhookDeliveryArgs] {
		return &river.Job[jobs.WebhookDeliveryArgs]{JobRow: &rivertype.JobRow{Attempt: attempt, MaxAttempts: whk.MaxAttempts()},
			Args: jobs.WebhookDeliveryArgs{TenantID: ten.ID, DeliveryID: id}}
	}
	require.Equal(t, 3, whk.MaxAttempts())
	before := time.Now()
	require.ErrorIs(t, deliver.Work(ctx, job(enqueued[0], 1)), webhooks.ErrAttemptFailed, "a 503 is retried")
	// The 503 asked for 20 s (Retry-After): the job is scheduled when the
	// delivery log says, not 5 s later as the schedule would have it.
	ds, _, err := whk.ListDeliveries(ctx, p, ep.ID, webhooks.DeliveryFilter{})
	require.NoError(t, err)
	i := slices.IndexFunc(ds, func(d webhooks.Delivery) bool { return d.ID == enqueued[0] })
	require.NotNil(t, ds[i].NextAttemptAt)
	next := deliver.NextRetry(job(enqueued[0], 1))
	require.WithinDuration(t, *ds[i].NextAttemptAt, next, time.Microsecond)
	require.GreaterOrEqual(t, next.Sub(before), 20*time.Second)
	require.Less(t, next.Sub(before), 25*time.Second, "spread upward by at most RetryJitter")
	// Without an attempt's recorded time (an error before the answer), the schedule.
	require.WithinDuration(t, time.Now().Add(30*time.Second), deliver.NextRetry(job(enqueued[0], 2)), time.Second)
	require.WithinDuration(t, time.Now().Add(30*time.Second), deliver.NextRetry(job(enqueued[0], 9)), time.Second, "the last wait repeats")
	require.NoError(t, deliver.Work(ctx, job(enqueued[0], 2)))
	require.NoError(t, deliver.Work(ctx, job(enqueued[0], 3)), "a delivered delivery is done")
	require.Equal(t, int64(2), hits.Load())

	var cancel *river.JobCancelError
	require.ErrorAs(t, deliver.Work(ctx, job("dlv_00000000000000000000000000", 1)), &cancel, "an unknown delivery is cancelled")
}
