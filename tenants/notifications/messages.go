package notifications

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/servicenet/servicenet/internal/pg"
	"github.com/servicenet/servicenet/tenants"
	"github.com/servicenet/servicenet/tenants/events"
	"github.com/servicenet/servicenet/tenants/testclocks"
	"github.com/servicenet/servicenet/tenants/webhooks"
)

// Message is a message to send.
type Message struct {
	// Channel is the channel (default sms).
	Channel string
	// Purpose names the message (signoff_code); it is on the event and
	// the ticket's delivery status.
	Purpose string
	// SubjectID is what the message is about (a ticket id).
	SubjectID string
	// To is the recipient (a phone number).
	To string
	// Text is the rendered message. Secret: it may carry Secret's values.
	Text string
	// Params are the message's parameters anyone reading the event feed
	// may see (a ticket number).
	Params map[string]any
	// Secret are the parameters only the recipient may read (a one-time
	// code).
	Secret map[string]any
	// ExpiresAt, when set, is when the message is worthless (a code
	// expired): it is not delivered after, and its secret is erased then.
	ExpiresAt *time.Time
	// TestClockID is the test clock the subject lives on (a ticket on a
	// clock), "" for none. ExpiresAt is then a time on the clock: the
	// message expires when the clock passes it, not the wall clock, and the
	// secret of one the tenant delivers itself is erased when the clock is
	// advanced past it.
	TestClockID string
	// DedupeKey, when set, makes the request idempotent: a second request
	// with the same key returns the first notification.
	DedupeKey string
}

// NotificationDelivery is where one notification's delivery stands.
type NotificationDelivery struct {
	NotificationID string     `json:"notification_id" doc:"The notification." example:"ntf_01jd3zq8w6v7t3y2k9x4n5m6pa"`
	Channel        string     `json:"channel" enum:"sms" example:"sms"`
	Via            string     `json:"via" enum:"gateway,event" doc:"gateway: through the tenant's notification gateway; event: no gateway is configured, so the tenant delivers it from the notification.requested event (signed webhook)." example:"gateway"`
	Status         Status     `json:"status" enum:"queued,sent,failed,requested" doc:"queued (retrying after a failed attempt), sent (the gateway accepted it), failed (attempts ran out, gateway disabled, or expired first), requested (via event)." example:"sent"`
	Attempts       int        `json:"attempts" doc:"Attempts made at the gateway." example:"1"`
	LastAttemptAt  *time.Time `json:"last_attempt_at,omitempty" example:"2026-12-01T10:30:01+08:00"`
	LastStatusCode *int       `json:"last_status_code,omitempty" doc:"The gateway's HTTP status on the last attempt." example:"200"`
	LastError      *string    `json:"last_error,omitempty" doc:"Why the last attempt failed." example:"the gateway answered 503"`
	NextAttemptAt  *time.Time `json:"next_attempt_at,omitempty" doc:"When the next attempt is due, while queued after a failure." example:"2026-12-01T10:30:06+08:00"`
	SentAt         *time.Time `json:"sent_at,omitempty" example:"2026-12-01T10:30:01+08:00"`
	ExpiresAt      *time.Time `json:"expires_at,omitempty" doc:"Not delivered after this." example:"2026-12-01T10:45:00+08:00"`
}

// LatestDeliverySQL is a SQL expression (jsonb, null when none) of the
// NotificationDelivery of the newest notification of purpose about the subject in
// column subjectCol, of the tenant in tenantCol: for a context that shows
// a delivery status on its own rows in one query. purpose must be a
// constant of the caller, never input.
func LatestDeliverySQL(tenantCol, subjectCol, purpose string) string {
	return `(SELECT jsonb_build_object('notification_id', n.id, 'channel', n.channel, 'via', n.via, 'status', n.status,
		'attempts', n.attempts, 'last_attempt_at', n.last_attempt_at, 'last_status_code', n.last_status_code,
		'last_error', n.last_error, 'next_attempt_at', n.next_attempt_at, 'sent_at', n.sent_at, 'expires_at', n.expires_at)
		FROM notifications n WHERE n.tenant_id = ` + tenantCol + ` AND n.subject_id = ` + subjectCol + `
		AND n.purpose = '` + purpose + `' ORDER BY n.id DESC LIMIT 1)`
}

// DeliveryByIDSQL is a SQL expression (jsonb, null when none) of the
// NotificationDelivery of the notification whose id is the SQL expression
// idExpr, of the tenant in tenantCol: for a context that shows delivery
// statuses beside its own rows (a ticket's timeline) in one query.
func DeliveryByIDSQL(tenantCol, idExpr string) string {
	return `(SELECT jsonb_build_object('notification_id', n.id, 'channel', n.channel, 'via', n.via, 'status', n.status,
		'attempts', n.attempts, 'last_attempt_at', n.last_attempt_at, 'last_status_code', n.last_status_code,
		'last_error', n.last_error, 'next_attempt_at', n.next_attempt_at, 'sent_at', n.sent_at, 'expires_at', n.expires_at)
		FROM notifications n WHERE n.tenant_id = ` + tenantCol + ` AND n.id = ` + idExpr + `)`
}

type secretPart struct {
	To     string         `json:"to"`
	Text   string         `json:"text"`
	Params map[string]any `json:"params,omitempty"`
}

// RequestTx requests a message in the caller's transaction: the
// notification row, its notification.requested event (without To's full
// number, the text or the secret parameters) and, when the tenant has an
// enabled gateway for the channel, its delivery job, due now. Without one
// the notification is requested: the tenant delivers it from the event,
// the server logs that (never the secret), and a job erases the secret
// when the message expires. actor goes on the event.
//
// It reads in one round trip and writes the row and its event in a second.
func (s *Service) RequestTx(ctx context.Context, tx pg.TenantTx, actor string, m Message) (NotificationDelivery, error) {
	if m.Channel == "" {
		m.Channel = ChannelSMS
	}
	if m.Purpose == "" || m.SubjectID == "" || m.To == "" || m.Text == "" {
		return NotificationDelivery{}, errors.New("notifications: a message needs a purpose, a subject, a recipient and a text")
	}
	var l lookup
	b := &pgx.Batch{}
	queueLookup(b, tx.TenantID, m.Channel, m.DedupeKey, &l)
	if err := tx.SendBatch(ctx, b).Close(); err != nil {
		return NotificationDelivery{}, err
	}
	return s.request(ctx, tx, actor, m, l)
}

// lookup is what a request reads before it writes: the notification an
// earlier request with the same dedupe key made, and the channel's enabled
// gateway.
type lookup struct {
	existing  *NotificationDelivery
	gatewayID *string
}

// queueLookup queues a request's reads into b, into l.
func queueLookup(b *pgx.Batch, tenantID, channel, dedupeKey string, l *lookup) {
	if dedupeKey != "" {
		b.Queue(`SELECT `+deliveryColumns+` FROM notifications WHERE tenant_id = $1 AND dedupe_key = $2`,
			tenantID, dedupeKey).QueryRow(func(row pgx.Row) error {
			d, err := scanDelivery(row)
			if errors.Is(err, pgx.ErrNoRows) {
				return nil
			}
			l.existing = &d
			return err
		})
	}
	b.Queue(`SELECT id FROM notification_gateways WHERE tenant_id = $1 AND channel = $2 AND enabled`,
		tenantID, channel).QueryRow(func(row pgx.Row) error {
		if err := row.Scan(&l.gatewayID); err != nil && !errors.Is(err, pgx.ErrNoRows) {
			return err
		}
		return nil
	})
}

// request writes m (Channel set, fields checked) as RequestTx describes,
// given what queueLookup read: the row and its event in one round trip,
// then the delivery job when there is one.
func (s *Service) request(ctx context.Context, tx pg.TenantTx, actor string, m Message, l lookup) (NotificationDelivery, error) {
	if l.existing != nil {
		return *l.existing, nil
	}
	via, status := ViaEvent, StatusRequested
	if l.gatewayID != nil {
		via, status = ViaGateway, StatusQueued
	}
	params := m.Params
	if params == nil {
		params = map[string]any{}
	}
	secret := secretPart{To: m.To, Text: m.Text, Params: m.Secret}
	id := tenants.NewID(tenants.PrefixNotification)
	now := s.now()
	// A new notification's delivery is what is inserted (no attempt yet;
	// times as the database stores them, to the microsecond): its
	// RETURNING only confirms it, so the insert rides the transaction's
	// next round trip (pg.TenantTx.Defer).
	d := NotificationDelivery{NotificationID: id, Channel: m.Channel, Via: via, Status: status}
	if m.ExpiresAt != nil {
		at := m.ExpiresAt.Truncate(time.Microsecond).Local()
		d.ExpiresAt = &at
	}
	b := &pgx.Batch{}
	b.Queue(`INSERT INTO notifications (tenant_id, id, channel, purpose, subject_id, recipient,
			params, secret, via, gateway_id, status, expires_at, dedupe_key, created_by, created_at, updated_at, test_clock_id)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $15, $16) RETURNING `+deliveryColumns,
		tx.TenantID, id, m.Channel, m.Purpose, m.SubjectID, mask(m.To), params, secret, via, l.gatewayID, status, m.ExpiresAt,
		nullable(m.DedupeKey), actor, now, nullable(m.TestClockID)).QueryRow(func(row pgx.Row) error {
		got, err := scanDelivery(row)
		if err != nil {
			return err
		}
		if !sameDelivery(got, d) {
			return fmt.Errorf("notifications: inserted %+v, not %+v", got, d)
		}
		return nil
	})
	data := map[string]any{"notification_id": id, "channel": m.Channel, "purpose": m.Purpose, "subject_id": m.SubjectID,
		"to": mask(m.To), "via": via, "params": params, "expires_at": m.ExpiresAt}
	if err := events.QueueTx(b, tx, events.New{Type: TypeRequested, SubjectID: id, Actor: actor, Data: data}); err != nil {
		return NotificationDelivery{}, err
	}
	if err := tx.Defer(ctx, b); err != nil {
		return NotificationDelivery{}, err
	}
	var err error
	switch {
	case via == ViaGateway:
		err = s.enqueue(ctx, tx.Tx, tx.TenantID, id, now, s.MaxAttempts())
	case m.ExpiresAt != nil && m.TestClockID != "":
		// the erasure waits for the clock to pass the expiry
		err = s.enqueueClock(ctx, tx.Tx, tx.TenantID, id, m.TestClockID, *m.ExpiresAt)
	case m.ExpiresAt != nil:
		err = s.enqueue(ctx, tx.Tx, tx.TenantID, id, *m.ExpiresAt, 3)
	}
	if err != nil {
		return NotificationDelivery{}, err
	}
	if via == ViaEvent {
		s.log.LogAttrs(ctx, slog.LevelInfo, "notification requested; no gateway configured: the tenant delivers it from the notification.requested event",
			slog.String("tenant_id", tx.TenantID), slog.String("notification_id", id), slog.String("purpose", m.Purpose),
			slog.String("subject_id", m.SubjectID), slog.String("to", mask(m.To)))
	}
	return d, nil
}

// sameDelivery reports whether a and b are the same delivery state.
func sameDelivery(a, b NotificationDelivery) bool {
	sameTime := func(x, y *time.Time) bool { return (x == nil) == (y == nil) && (x == nil || x.Equal(*y)) }
	return a.NotificationID == b.NotificationID && a.Channel == b.Channel && a.Via == b.Via && a.Status == b.Status &&
		a.Attempts == b.Attempts && sameTime(a.LastAttemptAt, b.LastAttemptAt) && (a.LastStatusCode == nil) == (b.LastStatusCode == nil) &&
		(a.LastError == nil) == (b.LastError == nil) && sameTime(a.NextAttemptAt, b.NextAttemptAt) && sameTime(a.SentAt, b.SentAt) &&
		sameTime(a.ExpiresAt, b.ExpiresAt)
}

const deliveryColumns = `id, channel, via, status, attempts, last_attempt_at, last_status_code, last_error, next_attempt_at,
	sent_at, expires_at`

func scanDelivery(row pgx.Row) (NotificationDelivery, error) {
	var d NotificationDelivery
	err := row.Scan(&d.NotificationID, &d.Channel, &d.Via, &d.Status, &d.Attempts, &d.LastAttemptAt, &d.LastStatusCode,
		&d.LastError, &d.NextAttemptAt, &d.SentAt, &d.ExpiresAt)
	return d, err
}

func nullable(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

// Attach is webhooks.Deps.Attach: to the data of a notification.requested
// event delivered to one of the tenant's own endpoints it adds what the
// tenant needs to deliver the message itself (to, text, secret params),
// while the notification goes via event and has not expired (on its test
// clock's time when it has one, Message.TestClockID). Anything else comes
// back unchanged.
func (s *Service) Attach(ctx context.Context, tx pg.TenantTx, eventType string, data json.RawMessage) (json.RawMessage, error) {
	if eventType != TypeRequested {
		return data, nil
	}
	var d map[string]any
	if err := json.Unmarshal(data, &d); err != nil {
		return data, nil
	}
	id, _ := d["notification_id"].(string)
	var sec *secretPart
	err := tx.QueryRow(ctx, `SELECT secret FROM notifications WHERE tenant_id = $1 AND id = $2 AND via = 'event'
		AND (expires_at IS NULL OR expires_at > `+testclocks.TimeOfSQL("tenant_id", "test_clock_id", "$3::timestamptz")+`)`,
		tx.TenantID, id, s.now()).Scan(&sec)
	if errors.Is(err, pgx.ErrNoRows) || (err == nil && sec == nil) {
		return data, nil
	}
	if err != nil {
		return nil, err
	}
	d["to"], d["text"], d["secret_params"] = sec.To, sec.Text, sec.Secret()
	return json.Marshal(d)
}

// Secret is the secret parameters, never nil.
func (p *secretPart) Secret() map[string]any {
	if p.Params == nil {
		return map[string]any{}
	}
	return p.Params
}

// gatewayRequest is the body POSTed to a gateway.
type gatewayRequest struct {
	Type      string         `json:"type"`
	Timestamp time.Time      `json:"timestamp"`
	Data      map[string]any `json:"data"`
}

type attempt struct {
	via, status, channel, purpose, subject string
	params                                 map[string]any
	secret                                 *secretPart
	expires                                *time.Time
	created                                time.Time
	url, key                               *string
	enabled                                *bool
}

// Deliver makes one attempt at a notification. It is idempotent: a sent or
// failed notification is left alone. Via event, it only erases the secret
// once the message has expired (before that it returns how long to wait).
// Via gateway: an expired message, or one whose gateway is disabled, fails
// without a request; otherwise the message is POSTed, signed, and a 2xx
// within the timeout sends it, anything else records the attempt and
// (final: fails it) returns an error to retry. The request runs between two
// transactions, never inside one. The expiry is judged on the test clock of
// a notification on one (Message.TestClockID).
func (s *Service) Deliver(ctx context.Context, tenantID, id string, final bool) (time.Duration, error) {
	// A subject's messages go out in order: while an earlier one is still
	// queued (being sent, or retrying), this one waits a little here, then
	// snoozes.
	for waited := time.Duration(0); ; waited += orderPoll {
		wait, blocked, err := s.deliver(ctx, tenantID, id, final)
		if !blocked {
			return wait, err
		}
		if waited >= orderWait {
			return time.Second, nil
		}
		select {
		case <-ctx.Done():
			return time.Second, nil
		case <-time.After(orderPoll):
		}
	}
}

// How long a delivery waits in process for an earlier message of its
// subject, checking every orderPoll, before it snoozes.
const (
	orderWait = 5 * time.Second
	orderPoll = 50 * time.Millisecond
)

func (s *Service) deliver(ctx context.Context, tenantID, id string, final bool) (wait time.Duration, blocked bool, err error) {
	var a attempt
	now := s.now()
	err = pg.InTenantTx(ctx, s.DB, tenantID, func(tx pg.TenantTx) error {
		// at is the subject's time: its test clock's, else now
		var at time.Time
		err := tx.QueryRow(ctx, `SELECT n.via, n.status, n.channel, n.purpose, n.subject_id, n.params, n.secret, n.expires_at,
				n.created_at, g.url, g.secret, g.enabled, `+testclocks.TimeOfSQL("n.tenant_id", "n.test_clock_id", "$3::timestamptz")+`
			FROM notifications n LEFT JOIN notification_gateways g ON g.tenant_id = n.tenant_id AND g.id = n.gateway_id
			WHERE n.tenant_id = $1 AND n.id = $2 FOR UPDATE OF n`, tx.TenantID, id, now).
			Scan(&a.via, &a.status, &a.channel, &a.purpose, &a.subject, &a.params, &a.secret, &a.expires, &a.created,
				&a.url, &a.key, &a.enabled, &at)
		if errors.Is(err, pgx.ErrNoRows) {
			return tenants.NotFound("notification")
		}
		if err != nil {
			return err
		}
		expired := a.expires != nil && !at.Before(*a.expires)
		switch {
		case a.via == ViaEvent:
			if a.expires != nil && !expired {
				wait = a.expires.Sub(at)
				return nil
			}
			_, err := tx.Exec(ctx, `UPDATE notifications SET secret = NULL, updated_at = now()
				WHERE tenant_id = $1 AND id = $2 AND secret IS NOT NULL`, tx.TenantID, id)
			return err
		case a.status != string(StatusQueued):
			return nil
		case expired:
			return s.fail(ctx, tx, id, "the message expired before it could be delivered")
		case a.secret == nil:
			// Only a customer's erasure (or the retention job) drops a queued
			// message's secret (QueueForgetRecipients).
			return s.fail(ctx, tx, id, "the recipient was erased")
		case a.enabled == nil || !*a.enabled:
			return s.fail(ctx, tx, id, "the gateway is disabled")
		}
		if err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT FROM notifications o WHERE o.tenant_id = $1 AND o.subject_id = $3
				AND o.status = 'queued' AND o.seq < (SELECT seq FROM notifications WHERE tenant_id = $1 AND id = $2))`,
			tx.TenantID, id, a.subject).Scan(&blocked); err != nil || blocked {
			return err
		}
		a.status = "send"
		return nil
	})
	if err != nil || a.status != "send" {
		return wait, blocked, pg.Translate(err)
	}
	code, sendErr := s.send(ctx, id, a, now)
	return 0, false, s.record(context.WithoutCancel(ctx), tenantID, id, code, sendErr, final)
}

func (s *Service) fail(ctx context.Context, tx pg.TenantTx, id, why string) error {
	if _, err := tx.Exec(ctx, `UPDATE notifications SET status = 'failed', secret = NULL, last_error = $3,
		next_attempt_at = NULL, updated_at = now() WHERE tenant_id = $1 AND id = $2`, tx.TenantID, id, why); err != nil {
		return err
	}
	return s.event(ctx, tx, TypeFailed, id, map[string]any{"reason": why})
}

func (s *Service) event(ctx context.Context, tx pg.TenantTx, typ, id string, extra map[string]any) error {
	var d map[string]any
	err := tx.QueryRow(ctx, `SELECT jsonb_build_object('notification_id', id, 'channel', channel, 'purpose', purpose,
		'subject_id', subject_id, 'status', status, 'attempts', attempts) FROM notifications WHERE tenant_id = $1 AND id = $2`,
		tx.TenantID, id).Scan(&d)
	if err != nil {
		return err
	}
	for k, v := range extra {
		d[k] = v
	}
	return events.Append(ctx, tx, events.New{Type: typ, SubjectID: id, Actor: "system", Data: d})
}

// send POSTs the message to the gateway, signed, and returns the gateway's
// status code (0 without an answer) and why it failed, or nil for a 2xx.
func (s *Service) send(ctx context.Context, id string, a attempt, now time.Time) (int, error) {
	params := map[string]any{}
	for k, v := range a.params {
		params[k] = v
	}
	for k, v := range a.secret.Secret() {
		params[k] = v
	}
	body, err := json.Marshal(gatewayRequest{Type: TypeRequested, Timestamp: a.created.UTC(), Data: map[string]any{
		"notification_id": id, "channel": a.channel, "purpose": a.purpose, "subject_id": a.subject, "to": a.secret.To,
		"text": a.secret.Text, "params": params, "expires_at": a.expires}})
	if err != nil {
		return 0, err
	}
	sig, err := webhooks.Sign(*a.key, id, now, body)
	if err != nil {
		return 0, err
	}
	rctx, cancel := context.WithTimeout(ctx, webhooks.DeliveryTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(rctx, http.MethodPost, *a.url, bytes.NewReader(body))
	if err != nil {
		return 0, errors.New("the gateway URL cannot be requested")
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "ServiceNet-Notifications/1")
	req.Header.Set("webhook-id", id)
	req.Header.Set("webhook-timestamp", strconv.FormatInt(now.Unix(), 10))
	req.Header.Set("webhook-signature", sig)
	resp, err := s.guard.Client(ctx).Do(req)
	if err != nil {
		switch {
		case webhooks.Blocked(err):
			return 0, errors.New("the gateway's address is not public: refused")
		case errors.Is(err, context.DeadlineExceeded) || strings.Contains(err.Error(), "Timeout"):
			return 0, fmt.Errorf("no answer within %s", webhooks.DeliveryTimeout)
		}
		msg := err.Error()
		if len(msg) > 300 {
			msg = msg[:300]
		}
		return 0, fmt.Errorf("request failed: %s", msg)
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	_ = resp.Body.Close()
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return resp.StatusCode, fmt.Errorf("the gateway answered %d", resp.StatusCode)
	}
	return resp.StatusCode, nil
}

// ErrAttemptFailed wraps why an attempt did not deliver; the job retries.
var ErrAttemptFailed = errors.New("notification delivery attempt failed")

// record writes an attempt's outcome, with notification.sent or (final)
// notification.failed.
func (s *Service) record(ctx context.Context, tenantID, id string, code int, sendErr error, final bool) error {
	var status *int
	if code != 0 {
		status = &code
	}
	now := s.now()
	err := pg.InTenantTx(ctx, s.DB, tenantID, func(tx pg.TenantTx) error {
		if sendErr == nil {
			if _, err := tx.Exec(ctx, `UPDATE notifications SET status = 'sent', attempts = attempts + 1, last_attempt_at = $3,
					last_status_code = $4, last_error = NULL, next_attempt_at = NULL, sent_at = $3, secret = NULL, updated_at = now()
				WHERE tenant_id = $1 AND id = $2`, tx.TenantID, id, now, status); err != nil {
				return err
			}
			return s.event(ctx, tx, TypeSent, id, nil)
		}
		var attempts int
		if err := tx.QueryRow(ctx, `SELECT attempts + 1 FROM notifications WHERE tenant_id = $1 AND id = $2 FOR UPDATE`,
			tx.TenantID, id).Scan(&attempts); err != nil {
			return err
		}
		var next *time.Time
		if !final {
			n := now.Add(s.RetryDelay(attempts))
			next = &n
		}
		if _, err := tx.Exec(ctx, `UPDATE notifications SET attempts = $3, last_attempt_at = $4, last_status_code = $5,
				last_error = $6, next_attempt_at = $7, updated_at = now() WHERE tenant_id = $1 AND id = $2`,
			tx.TenantID, id, attempts, now, status, sendErr.Error(), next); err != nil {
			return err
		}
		if final {
			return s.fail(ctx, tx, id, sendErr.Error())
		}
		return nil
	})
	if err != nil {
		return pg.Translate(err)
	}
	if sendErr != nil {
		return fmt.Errorf("%w: %s", ErrAttemptFailed, sendErr.Error())
	}
	return nil
}
