package jobs

import (
	"context"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river"

	"github.com/servicenet/servicenet/tenants"
	"github.com/servicenet/servicenet/tenants/notifications"
	"github.com/servicenet/servicenet/tenants/webhooks"
)

// NotificationDeliveryArgs delivers one notification to the tenant's
// gateway or, for one the tenant delivers itself, erases its secret when
// it expires.
type NotificationDeliveryArgs struct {
	TenantID       string `json:"tenant_id"`
	NotificationID string `json:"notification_id"`
}

// Kind is stored with every job; never rename it.
func (NotificationDeliveryArgs) Kind() string { return "notification_delivery" }

// NotificationDeliveryWorker runs NotificationDeliveryArgs through
// notifications.Service.Deliver, which is idempotent (a sent or failed
// notification is never sent again): a failed attempt is retried on the
// service's schedule, the last one fails the notification; run before an
// expiry it waits for, it snoozes.
type NotificationDeliveryWorker struct {
	river.WorkerDefaults[NotificationDeliveryArgs]
	Notifications *notifications.Service
}

// Timeout leaves room for the 15 s request and the two short transactions.
func (w *NotificationDeliveryWorker) Timeout(*river.Job[NotificationDeliveryArgs]) time.Duration {
	return webhooks.DeliveryTimeout + 5*time.Second
}

// NextRetry follows the service's retry schedule instead of River's default.
func (w *NotificationDeliveryWorker) NextRetry(job *river.Job[NotificationDeliveryArgs]) time.Time {
	return time.Now().Add(w.Notifications.RetryDelay(job.Attempt))
}

func (w *NotificationDeliveryWorker) Work(ctx context.Context, job *river.Job[NotificationDeliveryArgs]) error {
	wait, err := w.Notifications.Deliver(ctx, job.Args.TenantID, job.Args.NotificationID, job.Attempt >= job.MaxAttempts)
	switch {
	case tenants.ErrorCode(err) == tenants.CodeNotFound:
		return river.JobCancel(err) // the notification (or its tenant) does not exist: retrying cannot help
	case err != nil:
		return err
	case wait > 0:
		return river.JobSnooze(wait + time.Second)
	}
	return nil
}

// NotificationDeliveryEnqueuer is notifications.Deps.EnqueueDelivery: it
// inserts the delivery job in the caller's transaction, on the webhooks
// queue (a slow gateway must not hold up the platform's other jobs).
func NotificationDeliveryEnqueuer(rc Inserter) func(ctx context.Context, tx pgx.Tx, tenantID, notificationID string, at time.Time, maxAttempts int) error {
	return func(ctx context.Context, tx pgx.Tx, tenantID, notificationID string, at time.Time, maxAttempts int) error {
		_, err := rc.InsertTx(ctx, tx, NotificationDeliveryArgs{TenantID: tenantID, NotificationID: notificationID},
			&river.InsertOpts{Queue: QueueWebhooks, MaxAttempts: maxAttempts, ScheduledAt: at})
		return err
	}
}

// NotificationClockExpiryEnqueuer is notifications.Deps.EnqueueClockExpiry:
// the erasure of the secret of a notification whose subject is on a test
// clock, parked until the clock passes at (TestClockAdvanceWorker fires
// it), on the webhooks queue.
func NotificationClockExpiryEnqueuer(rc Inserter) func(ctx context.Context, tx pgx.Tx, tenantID, notificationID, clockID string, at time.Time) error {
	return func(ctx context.Context, tx pgx.Tx, tenantID, notificationID, clockID string, at time.Time) error {
		opts, err := parked(clockID, at)
		if err != nil {
			return err
		}
		opts.Queue, opts.MaxAttempts = QueueWebhooks, 3
		_, err = rc.InsertTx(ctx, tx, NotificationDeliveryArgs{TenantID: tenantID, NotificationID: notificationID}, opts)
		return err
	}
}
