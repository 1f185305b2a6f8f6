// Package notifications owns the messages ServiceNet sends customers and
// the tenant's notification gateways that carry them.
//
// A gateway is an HTTPS endpoint of the tenant's SMS provider (one per
// channel). Its URL passes the webhooks SSRF guard at registration and
// every dial; each request is signed like a webhook (Standard Webhooks:
// webhook-id is the notification's id, so a retried request can be
// recognised; the secret, whsec_..., is shown once at creation).
//
// A context asks for a message with RequestTx, in its own transaction: the
// notification row, its notification.requested event and, with a gateway,
// its delivery job commit together. Delivery (Deliver, run by the
// notification_delivery job) posts the message to the gateway and retries
// on a schedule (5 s, 20 s, 1 min, 3 min, 5 min by default) until it is
// sent, the attempts run out, or the message expires; its status is
// queued, sent or failed, with the attempts made. Without a gateway the
// status is requested: the tenant delivers the message itself from the
// notification.requested event, and the server logs that it was requested
// (the local `make run` setup).
//
// Secrets: what only the recipient may read (the rendered text and the
// secret parameters, e.g. a sign-off code) is never in the event feed, in
// a log or in an API answer. It travels only in the signed request to the
// gateway or, for a tenant that delivers itself, in the signed webhook
// delivery of notification.requested to the tenant's own (not a
// storefront's) endpoints (Attach), and it is erased from the row once the
// message is sent, has failed or has expired. The row's recipient is the
// number masked (***8000); a customer's erasure replaces it with [erased]
// and drops a secret still held (QueueForgetRecipients).
package notifications

import (
	"context"
	"crypto/rand"
	"crypto/x509"
	"encoding/base64"
	"errors"
	"log/slog"
	"slices"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/servicenet/servicenet/internal/pg"
	"github.com/servicenet/servicenet/tenants/privacy"
	"github.com/servicenet/servicenet/tenants/webhooks"
)

// Event types of this context.
const (
	TypeGatewayCreated = "notification_gateway.created"
	TypeGatewayUpdated = "notification_gateway.updated"
	TypeRequested      = "notification.requested"
	TypeSent           = "notification.sent"
	TypeFailed         = "notification.failed"
)

// Channels.
const (
	ChannelSMS = "sms"
)

// Channels lists every channel.
var Channels = []string{ChannelSMS}

// Status is where a notification's delivery stands.
type Status string

// Statuses: queued for the gateway (retrying after a failed attempt), sent
// (the gateway accepted it), failed (attempts ran out, the gateway was
// disabled, or the message expired first), requested (no gateway: the
// tenant delivers it from the notification.requested event).
const (
	StatusQueued    Status = "queued"
	StatusSent      Status = "sent"
	StatusFailed    Status = "failed"
	StatusRequested Status = "requested"
)

// Ways a notification travels.
const (
	ViaGateway = "gateway"
	ViaEvent   = "event"
)

// DefaultRetrySchedule is the wait after each failed attempt; its length
// plus one is the number of attempts. It fits in a sign-off code's 15
// minutes.
var DefaultRetrySchedule = []time.Duration{5 * time.Second, 20 * time.Second, time.Minute, 3 * time.Minute, 5 * time.Minute}

// Service is the notifications context's entry point. Each exported method
// runs in one tenant-scoped transaction, except the ...Tx functions, which
// join the caller's. Build it with NewService.
type Service struct {
	DB  pg.DB
	Now func() time.Time

	enqueue      func(ctx context.Context, tx pgx.Tx, tenantID, notificationID string, at time.Time, maxAttempts int) error
	enqueueClock func(ctx context.Context, tx pgx.Tx, tenantID, notificationID, clockID string, at time.Time) error
	log          *slog.Logger
	guard        webhooks.Guard

	mu    sync.RWMutex
	retry []time.Duration
}

// Deps are the Service's dependencies.
type Deps struct {
	// EnqueueDelivery inserts the delivery job of a notification, due at
	// at with maxAttempts attempts, in the caller's transaction (River
	// InsertTx): jobs.NotificationDeliveryEnqueuer. Required.
	EnqueueDelivery func(ctx context.Context, tx pgx.Tx, tenantID, notificationID string, at time.Time, maxAttempts int) error
	// EnqueueClockExpiry inserts, in the caller's transaction, the job that
	// erases the secret of a notification the tenant delivers itself
	// whose subject is on test clock clockID, parked until the clock passes
	// its expiry at: jobs.NotificationClockExpiryEnqueuer. Required.
	EnqueueClockExpiry func(ctx context.Context, tx pgx.Tx, tenantID, notificationID, clockID string, at time.Time) error
	// Log receives "notification requested" lines for tenants without a
	// gateway (never a secret); nil: slog.Default().
	Log *slog.Logger
}

// NewService returns the notifications service over db. It fails when db,
// EnqueueDelivery or EnqueueClockExpiry is missing.
func NewService(db pg.DB, d Deps) (*Service, error) {
	if db == nil {
		return nil, errors.New("notifications: NewService needs a database")
	}
	if d.EnqueueDelivery == nil {
		return nil, errors.New("notifications: Deps.EnqueueDelivery is required")
	}
	if d.EnqueueClockExpiry == nil {
		return nil, errors.New("notifications: Deps.EnqueueClockExpiry is required")
	}
	if d.Log == nil {
		d.Log = slog.Default()
	}
	s := &Service{DB: db, enqueue: d.EnqueueDelivery, enqueueClock: d.EnqueueClockExpiry, log: d.Log}
	s.guard.HTTPSOnly = true
	return s, nil
}

func (s *Service) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}

// AllowHost lets gateways use hostport (an httptest TLS server's
// 127.0.0.1:port) although it is a loopback address; https is still
// required. For tests only: production never calls it, so a gateway on a
// private or loopback address is refused.
func (s *Service) AllowHost(hostport string) { s.guard.AllowHost(hostport) }

// TrustRoots makes deliveries trust pool (an httptest TLS server's
// certificate) instead of the system roots. For tests only, before the
// first delivery.
func (s *Service) TrustRoots(pool *x509.CertPool) { s.guard.TrustRoots(pool) }

// SetRetrySchedule replaces the wait after each failed attempt (tests
// shorten it); empty restores DefaultRetrySchedule.
func (s *Service) SetRetrySchedule(r []time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.retry = slices.Clone(r)
}

func (s *Service) schedule() []time.Duration {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if len(s.retry) == 0 {
		return DefaultRetrySchedule
	}
	return s.retry
}

// MaxAttempts is how many attempts a gateway delivery gets.
func (s *Service) MaxAttempts() int { return len(s.schedule()) + 1 }

// RetryDelay is the wait after failed attempt n (1-based).
func (s *Service) RetryDelay(attempt int) time.Duration {
	r := s.schedule()
	attempt = max(attempt, 1)
	if attempt > len(r) {
		return r[len(r)-1]
	}
	return r[attempt-1]
}

// newSecret is a fresh signing secret in the Standard Webhooks form.
func newSecret() string {
	b := make([]byte, 32)
	_, _ = rand.Read(b)
	return webhooks.SecretPrefix + base64.StdEncoding.EncodeToString(b)
}

// QueueForgetRecipients queues on b the erasure of what the notifications
// about subjectIDs keep of their recipient: the secret part (the number in
// full and the text; a message to a tenant that delivers it itself keeps
// it for its webhook deliveries), and, with erased (a customer's erasure),
// the masked number too, which becomes privacy.Erased. The retention job
// keeps the masked number of the tickets it masks. A message still queued
// then fails at its next attempt instead of being sent.
func QueueForgetRecipients(b *pgx.Batch, tenantID string, subjectIDs []string, erased bool) {
	b.Queue(`UPDATE notifications SET recipient = CASE WHEN $3 THEN $4 ELSE recipient END, secret = NULL, updated_at = now()
		WHERE tenant_id = $1 AND subject_id = ANY ($2) AND (secret IS NOT NULL OR ($3 AND recipient <> $4))`,
		tenantID, subjectIDs, erased, privacy.Erased)
}

// mask hides all but the last four characters of a phone number: a
// notification stores its recipient so (the number itself is in the
// secret part only, until the message is sent, has failed or has expired),
// and its notification.requested event shows it so.
func mask(phone string) string {
	if len(phone) <= 4 {
		return "****"
	}
	return "***" + phone[len(phone)-4:]
}
