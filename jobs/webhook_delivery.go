package jobs

import (
	"context"
	"errors"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river"

	"github.com/servicenet/servicenet/tenants"
	"github.com/servicenet/servicenet/tenants/webhooks"
)

// QueueWebhooks runs webhook deliveries apart from the platform's other
// jobs: a slow receiver (up to 15 s an attempt) must not hold them up.
const QueueWebhooks = "webhooks"

// WebhookDispatchInterval is how often every tenant's new events are turned
// into deliveries.
const WebhookDispatchInterval = time.Second

// WebhookDispatchSession is how long one periodic dispatch job goes on
// dispatching every WebhookDispatchInterval, and how often the leader inserts
// one. A job per second filled the job dashboard with 86,400 completed jobs
// a day; a session keeps the one-second latency with three jobs a minute.
// A session whose process dies leaves nothing behind: the next one starts
// within WebhookDispatchSession (singletonMiddleware's lock goes with the
// dead session).
const WebhookDispatchSession = 20 * time.Second

// WebhookDispatchArgs turns new events into webhook deliveries: for one
// tenant, or for every active tenant when TenantID is empty. With
// SessionSeconds, it does so every WebhookDispatchInterval for that long
// (the periodic run); without, once.
type WebhookDispatchArgs struct {
	TenantID       string `json:"tenant_id,omitempty"`
	SessionSeconds int    `json:"session_seconds,omitempty"`
}

// Kind is stored with every job; never rename it.
func (WebhookDispatchArgs) Kind() string { return "webhook_dispatch" }

// InsertOpts: a failed run is not retried, the next tick reads on from the
// same cursor. No UniqueOpts: a unique dispatch was skipped for as long as a
// copy of it stayed running, and a copy whose process died stays running
// until River rescues it (issue 18: webhooks stopped for every tenant).
// Overlapping copies are harmless instead: singletonMiddleware lets one work
// at a time, and Dispatch checks its cursor in the transaction that moves it.
func (WebhookDispatchArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{Queue: QueueWebhooks, MaxAttempts: 1}
}

// WebhookDispatchWorker runs WebhookDispatchArgs through
// webhooks.Service.Dispatch, which is idempotent (a cursor checked and
// advanced in the transaction that writes the deliveries).
type WebhookDispatchWorker struct {
	river.WorkerDefaults[WebhookDispatchArgs]
	Webhooks *webhooks.Service
	// Stopping is closed when the process stops its jobs: a session ends at
	// once instead of holding the shutdown for the rest of its time.
	Stopping <-chan struct{}
}

// Timeout: a pass reads at most 20 batches of 500 events a tenant; the next
// pass goes on where it stopped. A session gets its length on top.
func (w *WebhookDispatchWorker) Timeout(job *river.Job[WebhookDispatchArgs]) time.Duration {
	return PeriodicTimeout + time.Duration(job.Args.SessionSeconds)*time.Second
}

func (w *WebhookDispatchWorker) Work(ctx context.Context, job *river.Job[WebhookDispatchArgs]) error {
	session := time.Duration(job.Args.SessionSeconds) * time.Second
	end := time.Now().Add(session)
	tick := time.NewTicker(WebhookDispatchInterval)
	defer tick.Stop()
	for {
		if err := w.dispatch(ctx, job.Args.TenantID); err != nil {
			return err
		}
		if time.Now().Add(WebhookDispatchInterval).After(end) {
			return nil
		}
		select {
		case <-tick.C:
		case <-w.Stopping:
			return nil
		case <-ctx.Done():
			return nil // stopped or timed out: the next session reads on from the cursor
		}
	}
}

// dispatch dispatches tenantID's new events, in ctx's mode, or, without a
// tenant, those of every active tenant and mode that has events to
// dispatch (webhooks.Service.TenantsPendingDispatch: one question across
// tenants a pass, not a transaction per tenant and mode).
func (w *WebhookDispatchWorker) dispatch(ctx context.Context, tenantID string) error {
	if tenantID != "" {
		_, err := w.Webhooks.Dispatch(ctx, tenantID)
		return err
	}
	return eachTenantWithWork(ctx, "webhook dispatch", w.Webhooks.TenantsPendingDispatch, func(ctx context.Context, tenantID string) error {
		_, err := w.Webhooks.Dispatch(ctx, tenantID)
		return err
	})
}

// WebhookDeliveryArgs makes the attempts of one webhook delivery.
type WebhookDeliveryArgs struct {
	TenantID   string `json:"tenant_id"`
	DeliveryID string `json:"delivery_id"`
}

// Kind is stored with every job; never rename it.
func (WebhookDeliveryArgs) Kind() string { return "webhook_delivery" }

// WebhookDeliveryWorker runs WebhookDeliveryArgs through
// webhooks.Service.Deliver: a failed attempt is retried when the delivery's
// log says (next_attempt_at: the service's schedule, 5 s, 30 s, 2 min,
// 10 min, 1 h, ... by default, spread by ±20 %, or later when the receiver
// asked so with Retry-After), the last one fails the delivery. A delivered
// delivery is never sent again.
type WebhookDeliveryWorker struct {
	river.WorkerDefaults[WebhookDeliveryArgs]
	Webhooks *webhooks.Service

	// next holds, by job ID, the next attempt's time Work's attempt
	// recorded, until River asks NextRetry for it (right after Work, with
	// the same job).
	next sync.Map
}

// Timeout leaves room for the 15 s request and the two short transactions
// (and bounds the rescue of a delivery whose worker died: jobs.go).
func (w *WebhookDeliveryWorker) Timeout(*river.Job[WebhookDeliveryArgs]) time.Duration {
	return webhooks.DeliveryTimeout + 5*time.Second
}

// NextRetry is the next attempt's time the failed attempt recorded on the
// delivery (webhooks.RetryError), so that the job runs when the log says;
// when the attempt failed before recording one (a database error), the
// service's schedule.
func (w *WebhookDeliveryWorker) NextRetry(job *river.Job[WebhookDeliveryArgs]) time.Time {
	if at, ok := w.next.LoadAndDelete(job.ID); ok {
		return at.(time.Time)
	}
	return time.Now().Add(w.Webhooks.RetryDelay(job.Attempt))
}

func (w *WebhookDeliveryWorker) Work(ctx context.Context, job *river.Job[WebhookDeliveryArgs]) error {
	w.next.Delete(job.ID) // one an interrupted attempt left
	err := w.Webhooks.Deliver(ctx, job.Args.TenantID, job.Args.DeliveryID, job.Attempt >= job.MaxAttempts)
	var retry *webhooks.RetryError
	if errors.As(err, &retry) {
		w.next.Store(job.ID, retry.At)
	}
	if tenants.ErrorCode(err) == tenants.CodeNotFound {
		return river.JobCancel(err) // the delivery (or its tenant) does not exist: retrying cannot help
	}
	if errors.Is(err, webhooks.ErrEndpointGone) {
		return river.JobCancel(err) // the receiver answered 410: its endpoint is disabled, the delivery failed
	}
	return err
}

// WebhookDeliveryEnqueuer is webhooks.Deps.EnqueueDeliveries: it
// inserts the delivery jobs in the caller's transaction, so delivery rows
// and their jobs commit (or roll back) together.
func WebhookDeliveryEnqueuer(rc Inserter) func(ctx context.Context, tx pgx.Tx, tenantID string, deliveryIDs []string, maxAttempts int) error {
	return func(ctx context.Context, tx pgx.Tx, tenantID string, deliveryIDs []string, maxAttempts int) error {
		opts := &river.InsertOpts{Queue: QueueWebhooks, MaxAttempts: maxAttempts}
		params := make([]river.InsertManyParams, len(deliveryIDs))
		for i, id := range deliveryIDs {
			params[i] = river.InsertManyParams{Args: WebhookDeliveryArgs{TenantID: tenantID, DeliveryID: id}, InsertOpts: opts}
		}
		_, err := rc.InsertManyFastTx(ctx, tx, params)
		return err
	}
}
