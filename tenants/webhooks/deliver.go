package webhooks

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/servicenet/servicenet/internal/pg"
	"github.com/servicenet/servicenet/tenants"
	"github.com/servicenet/servicenet/tenants/customers"
	"github.com/servicenet/servicenet/tenants/events"
)

// dispatchBatch bounds the events one dispatch step reads; dispatchSteps
// bounds the steps of one Dispatch call (the next tick goes on).
const (
	dispatchBatch = 500
	dispatchSteps = 20
)

// Dispatch turns the tenant's events after its dispatch cursor into
// deliveries: one per enabled endpoint whose types match the event (and,
// for a storefront endpoint, whose storefront is the event's
// data.storefront_id) and which existed and was enabled before the event
// occurred (an endpoint never receives its own creation, nor, enabled
// again, what occurred while it was disabled). It reads
// the feed with events.List (which positions newly committed events), then
// in one transaction checks the cursor has not moved, writes the delivery
// rows, inserts their jobs and advances the cursor: nothing is lost or
// delivered twice, and concurrent dispatchers of a tenant do no harm. It
// returns how many deliveries it created.
func (s *Service) Dispatch(ctx context.Context, tenantID string) (int, error) {
	total := 0
	for range dispatchSteps {
		n, more, err := s.dispatchStep(ctx, tenantID)
		total += n
		if err != nil || !more {
			return total, err
		}
	}
	return total, nil
}

// TenantsPendingDispatch are the active tenants, each in the modes in
// which it has an enabled endpoint and events its dispatch has not read:
// one statement across tenants (pg.TenantsWithWork), so that a dispatch
// pass over idle tenants costs one round trip, whatever their number.
func (s *Service) TenantsPendingDispatch(ctx context.Context) ([]pg.TenantWork, error) {
	return pg.TenantsWithWork(ctx, s.DB, "webhook_dispatch_pending", nil)
}

type dispatchEndpoint struct {
	id           string
	types        []string
	storefrontID *string
	since        time.Time // its creation, or its last re-enabling
}

// Matches reports whether an event of type t is delivered to an endpoint
// subscribed to types (exact types, "family.*" or "*").
func Matches(types []string, t string) bool {
	for _, p := range types {
		if p == "*" || p == t {
			return true
		}
		if pre, ok := strings.CutSuffix(p, ".*"); ok && strings.HasPrefix(t, pre+".") {
			return true
		}
	}
	return false
}

func (s *Service) dispatchStep(ctx context.Context, tenantID string) (created int, more bool, err error) {
	// A tenant without enabled endpoints costs one read a tick: its cursor
	// stays put, and when an endpoint appears the backlog is read through
	// (endpoints receive only what occurs after their registration).
	var after string
	var active bool
	if err := pg.InTenantTx(ctx, s.DB, tenantID, func(tx pg.TenantTx) error {
		return tx.QueryRow(ctx, `SELECT coalesce((SELECT cursor FROM webhook_dispatch_cursors WHERE tenant_id = $1), ''),
			EXISTS (SELECT 1 FROM webhook_endpoints WHERE tenant_id = $1 AND enabled)`, tx.TenantID).Scan(&after, &active)
	}); err != nil {
		return 0, false, pg.Translate(err)
	}
	if !active {
		return 0, false, nil
	}
	page, err := events.List(ctx, s.DB, tenantID, events.Filter{After: after, Limit: dispatchBatch})
	if err != nil || len(page.Events) == 0 {
		return 0, false, err
	}
	err = pg.InTenantTx(ctx, s.DB, tenantID, func(tx pg.TenantTx) error {
		var cur string
		if err := tx.QueryRow(ctx, `
			INSERT INTO webhook_dispatch_cursors AS c (tenant_id) VALUES ($1)
			ON CONFLICT (tenant_id, livemode) DO UPDATE SET updated_at = now()
			RETURNING c.cursor`, tx.TenantID).Scan(&cur); err != nil {
			return err
		}
		if cur != after {
			return nil // another dispatcher got here first; the next tick reads on from its cursor
		}
		rows, err := tx.Query(ctx, `SELECT id, event_types, storefront_id, greatest(created_at, reenabled_at)
			FROM webhook_endpoints WHERE tenant_id = $1 AND enabled ORDER BY id`, tx.TenantID)
		if err != nil {
			return err
		}
		eps, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (dispatchEndpoint, error) {
			var e dispatchEndpoint
			return e, r.Scan(&e.id, &e.types, &e.storefrontID, &e.since)
		})
		if err != nil {
			return err
		}
		var ids, endpointIDs, eventIDs []string
		for _, ev := range page.Events {
			var sf struct {
				StorefrontID string `json:"storefront_id"`
			}
			_ = json.Unmarshal(ev.Data, &sf)
			for _, ep := range eps {
				if !ev.OccurredAt.After(ep.since) || !Matches(ep.types, ev.Type) ||
					(ep.storefrontID != nil && *ep.storefrontID != sf.StorefrontID) {
					continue
				}
				ids = append(ids, tenants.NewID(tenants.PrefixDelivery))
				endpointIDs = append(endpointIDs, ep.id)
				eventIDs = append(eventIDs, ev.ID)
			}
		}
		if len(ids) > 0 {
			if _, err := tx.Exec(ctx, `INSERT INTO webhook_deliveries (tenant_id, id, endpoint_id, event_id)
				SELECT $1, unnest($2::text[]), unnest($3::text[]), unnest($4::text[])`,
				tx.TenantID, ids, endpointIDs, eventIDs); err != nil {
				return err
			}
			if err := s.enqueueDeliveries(ctx, tx.Tx, tx.TenantID, ids, s.MaxAttempts()); err != nil {
				return err
			}
		}
		if _, err := tx.Exec(ctx, `UPDATE webhook_dispatch_cursors SET cursor = $2, updated_at = now() WHERE tenant_id = $1`,
			tx.TenantID, page.NextCursor); err != nil {
			return err
		}
		created = len(ids)
		more = len(page.Events) == dispatchBatch
		return nil
	})
	if err != nil {
		return 0, false, pg.Translate(err)
	}
	return created, more, nil
}

// Sign is the Standard Webhooks signature of body sent as message msgID at
// ts with secret (whsec_<base64>): "v1," and the base64 HMAC-SHA256 of
// "msgID.unixSeconds.body".
func Sign(secret, msgID string, ts time.Time, body []byte) (string, error) {
	key, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(secret, SecretPrefix))
	if err != nil {
		return "", errors.New("webhooks: malformed secret")
	}
	mac := hmac.New(sha256.New, key)
	mac.Write([]byte(msgID + "." + strconv.FormatInt(ts.Unix(), 10) + "."))
	mac.Write(body)
	return "v1," + base64.StdEncoding.EncodeToString(mac.Sum(nil)), nil
}

// Payload is the body of a delivery (Standard Webhooks' type, timestamp
// and data).
type Payload struct {
	Type      string          `json:"type"`
	Timestamp time.Time       `json:"timestamp"`
	Data      json.RawMessage `json:"data"`
}

// ErrAttemptFailed wraps why an attempt did not deliver; the job retries.
var ErrAttemptFailed = errors.New("webhook delivery attempt failed")

// ErrEndpointGone is an attempt the receiver answered 410 Gone: it wants
// no more webhooks (Standard Webhooks), so the endpoint is disabled and the
// delivery failed; the job is not retried. It wraps ErrAttemptFailed.
var ErrEndpointGone = fmt.Errorf("%w: %s", ErrAttemptFailed, goneReason)

// goneReason is the disabled_reason of an endpoint that answered 410.
const goneReason = "the receiver answered 410 Gone"

// RetryError is an attempt that failed and is retried: At is when, as the
// delivery's log shows it (next_attempt_at), and the job must be scheduled
// for that time (jobs.WebhookDeliveryWorker). It wraps ErrAttemptFailed.
type RetryError struct {
	At  time.Time
	err error
}

func (e *RetryError) Error() string { return e.err.Error() }
func (e *RetryError) Unwrap() error { return e.err }

type attempt struct {
	status     DeliveryStatus
	endpointID string
	storefront *string // the endpoint's storefront, if it is a storefront's
	url        string
	enabled    bool
	secret     string
	previous   *string
	prevUntil  *time.Time
	eventID    string
	payload    Payload
}

// withStorefrontStatus adds, to a ticket or claim event delivered to a
// storefront's endpoint, the storefront's own code for the state the event
// leaves the object in (data.storefront_status), when the storefront has a
// status mapping; other deliveries are sent as the event was written.
func withStorefrontStatus(ctx context.Context, tx pg.TenantTx, storefrontID *string, typ string, data json.RawMessage) (json.RawMessage, error) {
	if storefrontID == nil {
		return data, nil
	}
	kind, field := "", ""
	switch {
	case strings.HasPrefix(typ, "ticket."):
		kind, field = "tickets", "state"
	case strings.HasPrefix(typ, "claim."):
		kind, field = "claims", "to_state"
	default:
		return data, nil
	}
	var d map[string]any
	if err := json.Unmarshal(data, &d); err != nil {
		return nil, err
	}
	state, _ := d[field].(string)
	if state == "" {
		return data, nil
	}
	code, err := customers.StorefrontStatusTx(ctx, tx, *storefrontID, kind, state)
	if err != nil || code == "" {
		return data, err
	}
	d["storefront_status"] = code
	return json.Marshal(d)
}

// Deliver makes one attempt at a delivery. A delivery already delivered or
// failed is left alone (the worker is idempotent: only a replay sends an
// event again); one whose endpoint was disabled is marked failed. A 2xx
// answer within the timeout delivers it and resets the endpoint's failure
// count; a 410 Gone fails the delivery and disables the endpoint at once
// (webhook_endpoint.disabled) and returns ErrEndpointGone; anything else
// records the attempt, schedules the next (or, when final, fails the
// delivery), counts against the endpoint, which is disabled with a
// webhook_endpoint.disabled event once its consecutive failures reach the
// limit, and returns an error wrapping ErrAttemptFailed: a *RetryError
// with the next attempt's time when there is one. The next attempt comes
// after the schedule's wait, spread by up to ±RetryJitter, or, when a 429
// or 503 answer's Retry-After asks for longer, no sooner than it asks
// (nextAttempt). The HTTP request runs between two transactions, never
// inside one.
func (s *Service) Deliver(ctx context.Context, tenantID, deliveryID string, final bool) error {
	var a attempt
	err := pg.InTenantTx(ctx, s.DB, tenantID, func(tx pg.TenantTx) error {
		err := tx.QueryRow(ctx, `
			SELECT d.status, e.id, e.storefront_id, e.url, e.enabled, e.secret, e.previous_secret, e.previous_secret_expires_at,
			       ev.id, ev.type, ev.data, ev.occurred_at
			FROM webhook_deliveries d
			JOIN webhook_endpoints e ON e.tenant_id = d.tenant_id AND e.id = d.endpoint_id
			JOIN event_payloads ev ON ev.tenant_id = d.tenant_id AND ev.id = d.event_id
			WHERE d.tenant_id = $1 AND d.id = $2`, tx.TenantID, deliveryID).
			Scan(&a.status, &a.endpointID, &a.storefront, &a.url, &a.enabled, &a.secret, &a.previous, &a.prevUntil,
				&a.eventID, &a.payload.Type, &a.payload.Data, &a.payload.Timestamp)
		if errors.Is(err, pgx.ErrNoRows) {
			return tenants.NotFound("delivery")
		}
		if err != nil {
			return err
		}
		if a.payload.Data, err = withStorefrontStatus(ctx, tx, a.storefront, a.payload.Type, a.payload.Data); err != nil {
			return err
		}
		if (a.status == DeliveryPending || a.status == DeliveryRetrying) && !a.enabled {
			a.status = DeliveryFailed
			_, err = tx.Exec(ctx, `UPDATE webhook_deliveries SET status = 'failed', last_error = $3,
				next_attempt_at = NULL, updated_at = now() WHERE tenant_id = $1 AND id = $2`, tx.TenantID, deliveryID, endpointDisabledError)
			return err
		}
		if a.storefront == nil && (a.status == DeliveryPending || a.status == DeliveryRetrying) {
			a.payload.Data, err = s.attach(ctx, tx, a.payload.Type, a.payload.Data)
		}
		return err
	})
	if err != nil {
		return pg.Translate(err)
	}
	if a.status == DeliveryDelivered || a.status == DeliveryFailed {
		return nil
	}

	now := s.now()
	ans, sendErr := s.send(ctx, a, now)
	return s.record(context.WithoutCancel(ctx), tenantID, deliveryID, a.endpointID, ans, sendErr, final)
}

// answer is what the receiver answered: its status code (0 when there was
// no answer) and its Retry-After header.
type answer struct {
	code       int
	retryAfter string
}

// send POSTs the delivery and returns the receiver's answer and why it
// failed, or nil for a 2xx.
func (s *Service) send(ctx context.Context, a attempt, now time.Time) (answer, error) {
	a.payload.Timestamp = a.payload.Timestamp.UTC()
	body, err := json.Marshal(a.payload)
	if err != nil {
		return answer{}, err
	}
	sig, err := Sign(a.secret, a.eventID, now, body)
	if err != nil {
		return answer{}, err
	}
	if a.previous != nil && a.prevUntil != nil && now.Before(*a.prevUntil) {
		old, err := Sign(*a.previous, a.eventID, now, body)
		if err == nil {
			sig += " " + old
		}
	}
	rctx, cancel := context.WithTimeout(ctx, DeliveryTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(rctx, http.MethodPost, a.url, bytes.NewReader(body))
	if err != nil {
		return answer{}, errors.New("the endpoint URL cannot be requested")
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "ServiceNet-Webhooks/1")
	req.Header.Set("webhook-id", a.eventID)
	req.Header.Set("webhook-timestamp", strconv.FormatInt(now.Unix(), 10))
	req.Header.Set("webhook-signature", sig)
	resp, err := s.Client(ctx).Do(req)
	if err != nil {
		if errors.Is(err, errBlocked) {
			return answer{}, errors.New("the endpoint's address is not public: refused")
		}
		if errors.Is(err, context.DeadlineExceeded) || strings.Contains(err.Error(), "Timeout") {
			return answer{}, fmt.Errorf("no answer within %s", DeliveryTimeout)
		}
		return answer{}, fmt.Errorf("request failed: %s", scrub(err.Error()))
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	_ = resp.Body.Close()
	ans := answer{code: resp.StatusCode, retryAfter: resp.Header.Get("Retry-After")}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return ans, fmt.Errorf("the receiver answered %d", resp.StatusCode)
	}
	return ans, nil
}

// retryAfter is the wait a 429 Too Many Requests or 503 Service
// Unavailable answer asks for with its Retry-After header (RFC 9110
// 10.2.3: delta-seconds, or an HTTP-date read against now), at most
// MaxRetryAfter; false for another status, or a header that is absent,
// malformed or names no later time.
func retryAfter(ans answer, now time.Time) (time.Duration, bool) {
	if ans.code != http.StatusTooManyRequests && ans.code != http.StatusServiceUnavailable {
		return 0, false
	}
	v := strings.TrimSpace(ans.retryAfter)
	if v == "" {
		return 0, false
	}
	if strings.Trim(v, "0123456789") == "" {
		n, err := strconv.ParseUint(v, 10, 64)
		if err != nil || n > uint64(MaxRetryAfter/time.Second) {
			return MaxRetryAfter, true // too many digits to parse is still a (long) delta
		}
		return time.Duration(n) * time.Second, n > 0
	}
	at, err := http.ParseTime(v)
	if err != nil || !at.After(now) {
		return 0, false
	}
	return min(at.Sub(now), MaxRetryAfter), true
}

// nextAttempt is when a delivery made at created, whose failed attempt n
// the receiver answered with ans at now, is attempted again: after the
// schedule's wait (RetryDelay), or, when the receiver asked for longer with
// Retry-After, no sooner than it asked (spread upward only, by up to
// RetryJitter, and at most MaxRetryAfter), yet not past the end of the
// delivery's schedule (created plus every wait): the receiver's ask never
// keeps a delivery alive for longer than the schedule would.
func (s *Service) nextAttempt(now, created time.Time, n int, ans answer) time.Time {
	next := now.Add(s.RetryDelay(n))
	wait, ok := retryAfter(ans, now)
	if !ok {
		return next
	}
	wait = min(time.Duration(float64(wait)*(1+RetryJitter*s.draw())), MaxRetryAfter)
	asked := now.Add(wait)
	if end := created.Add(s.scheduleEnd()); asked.After(end) {
		asked = end
	}
	if asked.After(next) {
		return asked
	}
	return next
}

// scrub keeps a transport error short.
func scrub(s string) string {
	if len(s) > 500 {
		s = s[:500]
	}
	return s
}

// record writes an attempt's outcome. A failed attempt that is retried
// returns a *RetryError with the time it recorded as the next attempt's.
func (s *Service) record(ctx context.Context, tenantID, deliveryID, endpointID string, ans answer, sendErr error, final bool) error {
	code := ans.code
	var status *int
	if code != 0 {
		status = &code
	}
	var next *time.Time // the next attempt, when there is one
	err := pg.InTenantTx(ctx, s.DB, tenantID, func(tx pg.TenantTx) error {
		if sendErr == nil {
			if _, err := tx.Exec(ctx, `UPDATE webhook_deliveries SET status = 'delivered', attempts = attempts + 1,
					last_attempt_at = now(), last_status_code = $3, last_error = NULL, next_attempt_at = NULL,
					delivered_at = now(), updated_at = now()
				WHERE tenant_id = $1 AND id = $2`, tx.TenantID, deliveryID, status); err != nil {
				return err
			}
			_, err := tx.Exec(ctx, `UPDATE webhook_endpoints SET consecutive_failures = 0
				WHERE tenant_id = $1 AND id = $2 AND consecutive_failures <> 0`, tx.TenantID, endpointID)
			return err
		}
		var attempts int
		var cur DeliveryStatus
		var created time.Time
		if err := tx.QueryRow(ctx, `SELECT attempts + 1, status, created_at FROM webhook_deliveries
			WHERE tenant_id = $1 AND id = $2 FOR UPDATE`,
			tx.TenantID, deliveryID).Scan(&attempts, &cur, &created); err != nil {
			return err
		}
		gone := code == http.StatusGone
		st := DeliveryRetrying
		if final || gone || cur == DeliveryFailed {
			// The last attempt, the receiver wants no more, or the endpoint
			// was disabled while this one was on its way: the delivery
			// stays failed.
			st = DeliveryFailed
		} else {
			n := s.nextAttempt(s.now(), created, attempts, ans)
			next = &n
		}
		msg := sendErr.Error()
		if _, err := tx.Exec(ctx, `UPDATE webhook_deliveries SET status = $3, attempts = $4, last_attempt_at = now(),
				last_status_code = $5, last_error = $6, next_attempt_at = $7, updated_at = now()
			WHERE tenant_id = $1 AND id = $2`, tx.TenantID, deliveryID, st, attempts, status, msg, next); err != nil {
			return err
		}
		var failures int
		var enabled bool
		var sf *string
		if err := tx.QueryRow(ctx, `UPDATE webhook_endpoints SET consecutive_failures = consecutive_failures + 1
			WHERE tenant_id = $1 AND id = $2 RETURNING consecutive_failures, enabled, storefront_id`,
			tx.TenantID, endpointID).Scan(&failures, &enabled, &sf); err != nil {
			return err
		}
		if limit := s.policy().DisableAfter; enabled && (gone || failures >= limit) {
			reason := fmt.Sprintf("%d consecutive failed attempts", failures)
			if gone {
				reason = goneReason
			}
			if _, err := tx.Exec(ctx, `UPDATE webhook_endpoints SET enabled = false, disabled_reason = $3,
				version = version + 1, updated_at = now() WHERE tenant_id = $1 AND id = $2`, tx.TenantID, endpointID, reason); err != nil {
				return err
			}
			if err := failPendingDeliveries(ctx, tx, endpointID); err != nil {
				return err
			}
			next = nil // this delivery failed with the others
			d := endpointData(endpointID, sf)
			d["reason"] = reason
			if err := events.Append(ctx, tx, events.New{Type: TypeEndpointDisabled, SubjectID: endpointID, Actor: "system", Data: d}); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return pg.Translate(err)
	}
	if code == http.StatusGone {
		return ErrEndpointGone
	}
	if sendErr != nil {
		err := fmt.Errorf("%w: %s", ErrAttemptFailed, sendErr.Error())
		if next != nil {
			return &RetryError{At: *next, err: err}
		}
		return err
	}
	return nil
}
