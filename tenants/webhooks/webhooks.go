// Package webhooks owns webhook endpoints and the signed deliveries of the
// tenant's events to them (Standard Webhooks).
package webhooks

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	mrand "math/rand/v2"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/servicenet/servicenet/internal/i18n"
	"github.com/servicenet/servicenet/internal/pg"
	"github.com/servicenet/servicenet/tenants"
	"github.com/servicenet/servicenet/tenants/customers"
	"github.com/servicenet/servicenet/tenants/events"
)

// Event types of this context.
const (
	TypeEndpointCreated  = "webhook_endpoint.created"
	TypeEndpointUpdated  = "webhook_endpoint.updated"
	TypeSecretRotated    = "webhook_endpoint.secret_rotated"
	TypeEndpointDisabled = "webhook_endpoint.disabled"
)

// SecretPrefix starts every signing secret (Standard Webhooks' whsec_).
const SecretPrefix = "whsec_"

// Defaults of the delivery policy.
const (
	DefaultRotationOverlap = 24 * time.Hour
	DefaultDisableAfter    = 50
)

// DefaultRetrySchedule is the wait after each failed attempt; its length
// plus one is the number of attempts a delivery gets.
var DefaultRetrySchedule = []time.Duration{5 * time.Second, 30 * time.Second, 2 * time.Minute, 10 * time.Minute,
	time.Hour, 3 * time.Hour, 6 * time.Hour}

// RetryJitter spreads each wait of the retry schedule by up to ±20 %
// (uniformly, Service.Rand), so that the backlogs of many endpoints failed
// by one outage are not retried in lock-step.
const RetryJitter = 0.2

// MaxRetryAfter bounds the wait a receiver may ask for with Retry-After
// (on a 429 or 503): a longer one is honoured for this long.
const MaxRetryAfter = time.Hour

// Service is the webhooks context's entry point. Each exported method runs
// in one tenant-scoped transaction. Build it with NewService.
type Service struct {
	DB  pg.DB
	Now func() time.Time
	// Rand draws the retry jitter, uniform in [0, 1); nil is math/rand/v2
	// (tests pin it).
	Rand func() float64

	enqueueDeliveries func(ctx context.Context, tx pgx.Tx, tenantID string, deliveryIDs []string, maxAttempts int) error
	attach            func(ctx context.Context, tx pg.TenantTx, eventType string, data json.RawMessage) (json.RawMessage, error)

	mu           sync.RWMutex
	retry        []time.Duration
	disableAfter int
	overlap      time.Duration

	// Guard checks endpoint URLs and makes the deliveries' requests.
	Guard
}

// Deps are the Service's dependencies; every one is required but
// LoopbackInTestMode, a setting.
type Deps struct {
	// EnqueueDeliveries inserts one delivery job per id, each allowed
	// maxAttempts attempts, in the caller's transaction (River InsertTx), so
	// rows and jobs commit together (jobs.WebhookDeliveryEnqueuer).
	EnqueueDeliveries func(ctx context.Context, tx pgx.Tx, tenantID string, deliveryIDs []string, maxAttempts int) error
	// Attach may add to the data of a delivery to a tenant endpoint (never
	// a storefront's) what the event feed must not carry (a notification's
	// secret text: notifications.Service.Attach). It runs in the attempt's
	// read transaction and returns data unchanged when it has nothing to
	// add. The signature covers what it returns.
	Attach func(ctx context.Context, tx pg.TenantTx, eventType string, data json.RawMessage) (json.RawMessage, error)
	// LoopbackInTestMode lets test-mode endpoints be loopback URLs, for
	// local development (Guard.LoopbackInTestMode, LoopbackSetting): a
	// setting of the server, false unless it is turned on.
	LoopbackInTestMode bool
}

// NewService returns the webhooks service over db. It fails when db or a
// dependency is missing.
func NewService(db pg.DB, d Deps) (*Service, error) {
	if db == nil {
		return nil, errors.New("webhooks: NewService needs a database")
	}
	if d.EnqueueDeliveries == nil {
		return nil, errors.New("webhooks: Deps.EnqueueDeliveries is required")
	}
	if d.Attach == nil {
		return nil, errors.New("webhooks: Deps.Attach is required")
	}
	return &Service{DB: db, enqueueDeliveries: d.EnqueueDeliveries, attach: d.Attach,
		Guard: Guard{LoopbackInTestMode: d.LoopbackInTestMode}}, nil
}

func (s *Service) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}

// Policy tunes retries, auto-disable and rotation; zero fields keep the
// defaults.
type Policy struct {
	RetrySchedule   []time.Duration
	DisableAfter    int
	RotationOverlap time.Duration
}

// SetPolicy replaces the delivery policy (tests shorten it).
func (s *Service) SetPolicy(p Policy) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.retry, s.disableAfter, s.overlap = slices.Clone(p.RetrySchedule), p.DisableAfter, p.RotationOverlap
}

func (s *Service) policy() Policy {
	s.mu.RLock()
	defer s.mu.RUnlock()
	p := Policy{RetrySchedule: s.retry, DisableAfter: s.disableAfter, RotationOverlap: s.overlap}
	if len(p.RetrySchedule) == 0 {
		p.RetrySchedule = DefaultRetrySchedule
	}
	if p.DisableAfter <= 0 {
		p.DisableAfter = DefaultDisableAfter
	}
	if p.RotationOverlap <= 0 {
		p.RotationOverlap = DefaultRotationOverlap
	}
	return p
}

// MaxAttempts is how many attempts a delivery gets.
func (s *Service) MaxAttempts() int { return len(s.policy().RetrySchedule) + 1 }

func (s *Service) draw() float64 {
	if s.Rand != nil {
		return s.Rand()
	}
	return mrand.Float64()
}

// RetryDelay is the wait after failed attempt n (1-based): the schedule's
// step (the last one repeats), spread by up to ±RetryJitter. A receiver's
// Retry-After may lengthen it (Deliver).
func (s *Service) RetryDelay(attempt int) time.Duration {
	r := s.policy().RetrySchedule
	step := r[min(max(attempt, 1), len(r))-1]
	return time.Duration(float64(step) * (1 + RetryJitter*(2*s.draw()-1)))
}

// scheduleEnd is how long after its creation a delivery's schedule ends:
// every wait of it, unspread.
func (s *Service) scheduleEnd() time.Duration {
	var d time.Duration
	for _, w := range s.policy().RetrySchedule {
		d += w
	}
	return d
}

// Endpoint is where the tenant's (or one storefront's) events are delivered.
type Endpoint struct {
	ID                      string     `json:"id" example:"whk_01jd3zq8w6v7t3y2k9x4n5m6pe"`
	URL                     string     `json:"url" doc:"Where deliveries are POSTed." example:"https://hooks.example.com/servicenet"`
	Description             string     `json:"description" doc:"Free text for the endpoint's owner." example:"Order system"`
	EventTypes              []string   `json:"event_types" doc:"Event types delivered: exact types, families like claim.*, or * for all." example:"[\"contract.*\",\"unit.registered\"]"`
	StorefrontID            *string    `json:"storefront_id,omitempty" doc:"The storefront the endpoint belongs to: it receives only events whose data.storefront_id is this storefront. Absent for a tenant endpoint, which receives every matching event." example:"sfr_01jd3zq8w6v7t3y2k9x4n5m6pd"`
	Enabled                 bool       `json:"enabled" doc:"Disabled endpoints receive nothing, also not once enabled again; an endpoint is disabled automatically after repeated failures, and at once when it answers 410 Gone." example:"true"`
	DisabledReason          *string    `json:"disabled_reason,omitempty" doc:"Why the endpoint was disabled." example:"50 consecutive failed attempts"`
	ConsecutiveFailures     int        `json:"consecutive_failures" doc:"Failed attempts since the last successful one, across deliveries." example:"0"`
	SecretRotatedAt         *time.Time `json:"secret_rotated_at,omitempty" doc:"When the secret was last rotated." example:"2026-11-01T09:30:00+08:00"`
	PreviousSecretExpiresAt *time.Time `json:"previous_secret_expires_at,omitempty" doc:"Until then deliveries are signed with the previous secret too." example:"2026-11-02T09:30:00+08:00"`
	Version                 int        `json:"version" doc:"Increases with every change; the ETag is \"v<version>\"." example:"1"`
	CreatedAt               time.Time  `json:"created_at" example:"2026-11-01T09:30:00+08:00"`
	UpdatedAt               time.Time  `json:"updated_at" example:"2026-11-01T09:30:00+08:00"`
}

// EndpointWithSecret is an endpoint with its signing secret, answered only
// by create and rotate.
type EndpointWithSecret struct {
	Endpoint
	Secret string `json:"secret" doc:"The signing secret (Standard Webhooks whsec_ form). Shown only now: store it." example:"whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"`
}

// NewEndpoint is an endpoint to register.
type NewEndpoint struct {
	URL          string   `json:"url" minLength:"1" maxLength:"2048" doc:"An https URL whose host resolves only to public addresses." example:"https://hooks.example.com/servicenet"`
	EventTypes   []string `json:"event_types" minItems:"1" maxItems:"50" doc:"Event types to deliver: exact types, families like claim.*, or * for all." example:"[\"contract.*\",\"unit.registered\"]"`
	Description  string   `json:"description,omitempty" maxLength:"500" doc:"Free text." example:"Order system"`
	StorefrontID string   `json:"storefront_id,omitempty" maxLength:"64" doc:"Bind the endpoint to a storefront (it then receives only that storefront's events). A storefront key always binds to its own storefront." example:"sfr_01jd3zq8w6v7t3y2k9x4n5m6pd"`
}

// EndpointUpdate changes an endpoint; absent fields are kept.
type EndpointUpdate struct {
	URL         *string   `json:"url,omitempty" minLength:"1" maxLength:"2048" doc:"A new https URL." example:"https://hooks.example.com/v2/servicenet"`
	EventTypes  *[]string `json:"event_types,omitempty" minItems:"1" maxItems:"50" doc:"Replaces the event types." example:"[\"contract.*\"]"`
	Description *string   `json:"description,omitempty" maxLength:"500" doc:"Replaces the description." example:"Order system v2"`
	Enabled     *bool     `json:"enabled,omitempty" doc:"false stops deliveries; true re-enables (and resets the failure count)." example:"true"`
}

// DeliveryStatus is where a delivery stands.
type DeliveryStatus string

// Delivery statuses.
const (
	DeliveryPending   DeliveryStatus = "pending"
	DeliveryRetrying  DeliveryStatus = "retrying"
	DeliveryDelivered DeliveryStatus = "delivered"
	DeliveryFailed    DeliveryStatus = "failed"
)

// Delivery is one event sent (or to be sent) to one endpoint.
type Delivery struct {
	ID             string         `json:"id" example:"dlv_01jd3zq8w6v7t3y2k9x4n5m6pf"`
	EndpointID     string         `json:"endpoint_id" example:"whk_01jd3zq8w6v7t3y2k9x4n5m6pe"`
	EventID        string         `json:"event_id" doc:"The event delivered; also the webhook-id header." example:"evt_01jd3zq8w6v7t3y2k9x4n5m6pg"`
	EventType      string         `json:"event_type" example:"contract.activated"`
	ReplayOf       *string        `json:"replay_of,omitempty" doc:"The delivery this one replays." example:"dlv_01jd3zq8w6v7t3y2k9x4n5m6ph"`
	Status         DeliveryStatus `json:"status" enum:"pending,retrying,delivered,failed" doc:"pending before the first attempt, retrying after a failed one, delivered on a 2xx, failed when the attempts ran out or the endpoint was disabled." example:"delivered"`
	Attempts       int            `json:"attempts" example:"1"`
	LastAttemptAt  *time.Time     `json:"last_attempt_at,omitempty" example:"2026-11-01T09:30:01+08:00"`
	LastStatusCode *int           `json:"last_status_code,omitempty" doc:"The receiver's HTTP status on the last attempt." example:"200"`
	LastError      *string        `json:"last_error,omitempty" doc:"Why the last attempt failed." example:"receiver answered 500"`
	NextAttemptAt  *time.Time     `json:"next_attempt_at,omitempty" doc:"When the next attempt is due, while retrying: the retry schedule's wait spread by up to ±20 %, or later when the receiver answered 429 or 503 with a Retry-After." example:"2026-11-01T09:30:06+08:00"`
	DeliveredAt    *time.Time     `json:"delivered_at,omitempty" example:"2026-11-01T09:30:01+08:00"`
	CreatedAt      time.Time      `json:"created_at" example:"2026-11-01T09:30:00+08:00"`
}

// DeliveryFilter selects deliveries of one endpoint.
type DeliveryFilter struct {
	Status string
	Limit  int
	Cursor string
}

const endpointColumns = `id, url, description, event_types, storefront_id, enabled, disabled_reason, consecutive_failures,
	secret_rotated_at, previous_secret_expires_at, version, created_at, updated_at`

func scanEndpoint(row pgx.Row) (Endpoint, error) {
	var e Endpoint
	err := row.Scan(&e.ID, &e.URL, &e.Description, &e.EventTypes, &e.StorefrontID, &e.Enabled, &e.DisabledReason,
		&e.ConsecutiveFailures, &e.SecretRotatedAt, &e.PreviousSecretExpiresAt, &e.Version, &e.CreatedAt, &e.UpdatedAt)
	return e, err
}

// getEndpoint reads an endpoint the principal may see (a storefront key only
// its storefront's); lock is "" or "FOR UPDATE".
func getEndpoint(ctx context.Context, tx pg.TenantTx, storefrontID, id, lock string) (Endpoint, error) {
	if !tenants.ValidID(tenants.PrefixWebhook, id) {
		return Endpoint{}, tenants.NotFound("webhook endpoint")
	}
	e, err := scanEndpoint(tx.QueryRow(ctx, `SELECT `+endpointColumns+` FROM webhook_endpoints
		WHERE tenant_id = $1 AND id = $2 AND ($3 = '' OR storefront_id = $3) `+lock, tx.TenantID, id, storefrontID))
	if errors.Is(err, pgx.ErrNoRows) {
		return Endpoint{}, tenants.NotFound("webhook endpoint")
	}
	return e, err
}

func checkEventTypes(v *tenants.Validation, types []string) []string {
	if len(types) == 0 || len(types) > 50 {
		v.AddMsg("event_types", i18n.M("webhooks.event_type_count", "Min", 1, "Max", 50), types)
		return nil
	}
	out := make([]string, 0, len(types))
	for i, t := range types {
		if !events.ValidTypeFilter(t) {
			v.AddMsg("event_types["+strconv.Itoa(i)+"]", i18n.M("webhooks.event_type"), t)
			continue
		}
		if !slices.Contains(out, t) {
			out = append(out, t)
		}
	}
	return out
}

// newSecret is a fresh signing secret: whsec_ and 32 random bytes in base64.
func newSecret() string {
	b := make([]byte, 32)
	_, _ = rand.Read(b)
	return SecretPrefix + base64.StdEncoding.EncodeToString(b)
}

// endpointData starts a webhook_endpoint.* event's data: the endpoint's
// ID, and its storefront's when it has one.
func endpointData(id string, sf *string) map[string]any {
	d := map[string]any{"endpoint_id": id}
	if sf != nil {
		d["storefront_id"] = *sf
	}
	return d
}

// CreateEndpoint registers an endpoint and returns it with its secret (the
// only time but a rotation that the secret is shown). A storefront key's
// endpoint is bound to its storefront. The URL must be https and resolve
// only to public addresses.
func (s *Service) CreateEndpoint(ctx context.Context, p tenants.Principal, in NewEndpoint) (EndpointWithSecret, error) {
	v := &tenants.Validation{}
	in.URL = strings.TrimSpace(in.URL)
	if len(in.URL) == 0 || len(in.URL) > 2048 {
		v.AddMsg("url", i18n.M("common.length", "Min", 1, "Max", 2048), in.URL)
	} else if msg := s.CheckURL(ctx, in.URL); msg != nil {
		v.AddMsg("url", *msg, in.URL)
	}
	types := checkEventTypes(v, in.EventTypes)
	if len([]rune(in.Description)) > 500 {
		v.AddMsg("description", i18n.M("common.max_length", "Max", 500), in.Description)
	}
	var sf *string
	switch {
	case p.StorefrontID != "":
		if in.StorefrontID != "" && in.StorefrontID != p.StorefrontID {
			v.AddMsg("storefront_id", i18n.M("webhooks.storefront_own"), in.StorefrontID)
		}
		sf = &p.StorefrontID
	case in.StorefrontID != "":
		sf = &in.StorefrontID
	}
	if err := v.Err(); err != nil {
		return EndpointWithSecret{}, err
	}
	out := EndpointWithSecret{Secret: newSecret()}
	err := pg.InTenantTx(ctx, s.DB, p.TenantID, func(tx pg.TenantTx) error {
		if sf != nil && p.StorefrontID == "" {
			ok, err := customers.StorefrontExistsTx(ctx, tx, *sf)
			if err != nil {
				return err
			}
			if !ok {
				return tenants.InvalidMsg("storefront_id", i18n.M("common.no_such_storefront"), *sf)
			}
		}
		var err error
		out.Endpoint, err = scanEndpoint(tx.QueryRow(ctx, `
			INSERT INTO webhook_endpoints (tenant_id, id, storefront_id, url, description, event_types, secret, created_by)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
			RETURNING `+endpointColumns,
			tx.TenantID, tenants.NewID(tenants.PrefixWebhook), sf, in.URL, in.Description, types, out.Secret, p.Subject()))
		if err != nil {
			return err
		}
		d := endpointData(out.ID, sf)
		d["url"], d["event_types"] = out.URL, out.EventTypes
		return events.Append(ctx, tx, events.New{Type: TypeEndpointCreated, SubjectID: out.ID, Actor: p.Subject(), Data: d})
	})
	if err != nil {
		return EndpointWithSecret{}, pg.Translate(err)
	}
	return out, nil
}

// ListEndpoints lists endpoints in id (creation) order; a storefront key
// sees only its storefront's.
func (s *Service) ListEndpoints(ctx context.Context, p tenants.Principal, limit int, cursor string) ([]Endpoint, string, error) {
	limit = tenants.PageLimit(limit)
	after, err := tenants.PageAfter("webhook_endpoints", cursor)
	if err != nil {
		return nil, "", err
	}
	out, err := pg.QueryRows(ctx, s.DB, p.TenantID, func(r pgx.CollectableRow) (Endpoint, error) { return scanEndpoint(r) },
		`SELECT `+endpointColumns+` FROM webhook_endpoints
		WHERE tenant_id = $1 AND id > $2 AND ($3 = '' OR storefront_id = $3) ORDER BY id LIMIT $4`,
		after, p.StorefrontID, limit+1)
	if err != nil {
		return nil, "", err
	}
	if out == nil {
		out = []Endpoint{}
	}
	out, next := tenants.NextPage("webhook_endpoints", out, limit, func(e Endpoint) string { return e.ID })
	return out, next, nil
}

// GetEndpoint reads one endpoint (never its secret).
func (s *Service) GetEndpoint(ctx context.Context, p tenants.Principal, id string) (Endpoint, error) {
	var out Endpoint
	err := pg.InTenantTx(ctx, s.DB, p.TenantID, func(tx pg.TenantTx) error {
		var err error
		out, err = getEndpoint(ctx, tx, p.StorefrontID, id, "")
		return err
	})
	return out, pg.Translate(err)
}

// UpdateEndpoint changes an endpoint's URL, types, description or enabled
// flag; ifVersion > 0 must match its version. Re-enabling resets the
// failure count, and the endpoint receives the events that occur from then
// on (none of those that occurred while it was disabled). An update whose values are the endpoint's own changes
// nothing: it answers the endpoint as it is, version and all, and appends
// no event.
func (s *Service) UpdateEndpoint(ctx context.Context, p tenants.Principal, id string, in EndpointUpdate, ifVersion int) (Endpoint, error) {
	v := &tenants.Validation{}
	if in.URL != nil {
		u := strings.TrimSpace(*in.URL)
		in.URL = &u
		if len(u) == 0 || len(u) > 2048 {
			v.AddMsg("url", i18n.M("common.length", "Min", 1, "Max", 2048), u)
		} else if msg := s.CheckURL(ctx, u); msg != nil {
			v.AddMsg("url", *msg, u)
		}
	}
	var types []string
	if in.EventTypes != nil {
		types = checkEventTypes(v, *in.EventTypes)
	}
	if in.Description != nil && len([]rune(*in.Description)) > 500 {
		v.AddMsg("description", i18n.M("common.max_length", "Max", 500), *in.Description)
	}
	if err := v.Err(); err != nil {
		return Endpoint{}, err
	}
	var out Endpoint
	err := pg.InTenantTx(ctx, s.DB, p.TenantID, func(tx pg.TenantTx) error {
		cur, err := getEndpoint(ctx, tx, p.StorefrontID, id, "FOR UPDATE")
		if err != nil {
			return err
		}
		if err := tenants.CheckVersion("webhook endpoint", ifVersion, cur.Version); err != nil {
			return err
		}
		// A field is changed only when its value differs: a PATCH that
		// changes nothing writes nothing, keeps the version (the ETag) and
		// tells of nothing.
		f := cur
		var changed tenants.Changes
		set := changed.Set
		set("url", in.URL != nil && *in.URL != cur.URL, func() { f.URL = *in.URL })
		set("event_types", in.EventTypes != nil && !slices.Equal(types, cur.EventTypes), func() { f.EventTypes = types })
		set("description", in.Description != nil && *in.Description != cur.Description, func() { f.Description = *in.Description })
		set("enabled", in.Enabled != nil && *in.Enabled != cur.Enabled, func() { f.Enabled = *in.Enabled })
		if len(changed) == 0 {
			out = cur
			return nil
		}
		reenable := f.Enabled && !cur.Enabled
		out, err = scanEndpoint(tx.QueryRow(ctx, `
			UPDATE webhook_endpoints SET url = $3, event_types = $4, description = $5, enabled = $6,
				disabled_reason = CASE WHEN NOT $8 THEN disabled_reason WHEN $6 THEN NULL ELSE 'disabled by ' || $7 END,
				consecutive_failures = CASE WHEN $9 THEN 0 ELSE consecutive_failures END,
				reenabled_at = CASE WHEN $9 THEN now() ELSE reenabled_at END,
				version = version + 1, updated_at = now()
			WHERE tenant_id = $1 AND id = $2
			RETURNING `+endpointColumns,
			tx.TenantID, cur.ID, f.URL, f.EventTypes, f.Description, f.Enabled, p.Subject(), slices.Contains(changed, "enabled"),
			reenable))
		if err != nil {
			return err
		}
		if cur.Enabled && !out.Enabled {
			if err := failPendingDeliveries(ctx, tx, out.ID); err != nil {
				return err
			}
		}
		d := endpointData(out.ID, out.StorefrontID)
		d["url"], d["event_types"], d["enabled"] = out.URL, out.EventTypes, out.Enabled
		return events.Append(ctx, tx, events.New{Type: TypeEndpointUpdated, SubjectID: out.ID, Actor: p.Subject(), Data: d})
	})
	if err != nil {
		return Endpoint{}, pg.Translate(err)
	}
	return out, nil
}

// RotateSecret gives the endpoint a new secret and returns it (shown only
// now). The previous secret keeps signing beside it for the rotation
// overlap (24 h by default), so receivers can switch without losing
// deliveries; a second rotation within the overlap drops the oldest.
func (s *Service) RotateSecret(ctx context.Context, p tenants.Principal, id string) (EndpointWithSecret, error) {
	out := EndpointWithSecret{Secret: newSecret()}
	overlap := s.policy().RotationOverlap
	err := pg.InTenantTx(ctx, s.DB, p.TenantID, func(tx pg.TenantTx) error {
		cur, err := getEndpoint(ctx, tx, p.StorefrontID, id, "FOR UPDATE")
		if err != nil {
			return err
		}
		out.Endpoint, err = scanEndpoint(tx.QueryRow(ctx, `
			UPDATE webhook_endpoints SET previous_secret = secret, previous_secret_expires_at = $4,
				secret = $3, secret_rotated_at = now(), version = version + 1, updated_at = now()
			WHERE tenant_id = $1 AND id = $2
			RETURNING `+endpointColumns,
			tx.TenantID, cur.ID, out.Secret, s.now().Add(overlap)))
		if err != nil {
			return err
		}
		d := endpointData(out.ID, out.StorefrontID)
		d["previous_secret_expires_at"] = out.PreviousSecretExpiresAt
		return events.Append(ctx, tx, events.New{Type: TypeSecretRotated, SubjectID: out.ID, Actor: p.Subject(), Data: d})
	})
	if err != nil {
		return EndpointWithSecret{}, pg.Translate(err)
	}
	return out, nil
}

// endpointDisabledError is the last_error of a delivery its endpoint's
// disabling failed.
const endpointDisabledError = "the endpoint is disabled"

// failPendingDeliveries fails, in tx, the endpoint's deliveries not yet
// delivered (pending or retrying): a disabled endpoint's deliveries stop at
// once, show as failed with no next attempt, and stay failed if the
// endpoint is enabled again (a replay sends one again). Their jobs find
// them failed and end.
func failPendingDeliveries(ctx context.Context, tx pg.TenantTx, endpointID string) error {
	_, err := tx.Exec(ctx, `UPDATE webhook_deliveries SET status = 'failed', last_error = $3, next_attempt_at = NULL,
			updated_at = now()
		WHERE tenant_id = $1 AND endpoint_id = $2 AND status IN ('pending', 'retrying')`, tx.TenantID, endpointID, endpointDisabledError)
	return err
}

const deliveryColumns = `d.id, d.endpoint_id, d.event_id, ev.type, d.replay_of, d.status, d.attempts, d.last_attempt_at,
	d.last_status_code, d.last_error, d.next_attempt_at, d.delivered_at, d.created_at`

// deliveryFrom joins each delivery to its event, as tenants/events exports
// it (the event_payloads view, 043).
const deliveryFrom = ` FROM webhook_deliveries d JOIN event_payloads ev ON ev.tenant_id = d.tenant_id AND ev.id = d.event_id `

func scanDelivery(row pgx.Row) (Delivery, error) {
	var d Delivery
	err := row.Scan(&d.ID, &d.EndpointID, &d.EventID, &d.EventType, &d.ReplayOf, &d.Status, &d.Attempts, &d.LastAttemptAt,
		&d.LastStatusCode, &d.LastError, &d.NextAttemptAt, &d.DeliveredAt, &d.CreatedAt)
	return d, err
}

var deliveryStatuses = []string{"pending", "retrying", "delivered", "failed"}

// ListDeliveries lists an endpoint's deliveries, newest first.
func (s *Service) ListDeliveries(ctx context.Context, p tenants.Principal, endpointID string, f DeliveryFilter) ([]Delivery, string, error) {
	if f.Status != "" && !slices.Contains(deliveryStatuses, f.Status) {
		return nil, "", tenants.InvalidMsg("status", i18n.M("common.one_of", "Values", "pending, retrying, delivered, failed"), f.Status)
	}
	f.Limit = tenants.PageLimit(f.Limit)
	before, err := tenants.PageAfter("webhook_deliveries", f.Cursor)
	if err != nil {
		return nil, "", err
	}
	var out []Delivery
	err = pg.InTenantTx(ctx, s.DB, p.TenantID, func(tx pg.TenantTx) error {
		if _, err := getEndpoint(ctx, tx, p.StorefrontID, endpointID, ""); err != nil {
			return err
		}
		rows, err := tx.Query(ctx, `SELECT `+deliveryColumns+deliveryFrom+`
			WHERE d.tenant_id = $1 AND d.endpoint_id = $2 AND ($3 = '' OR d.id < $3) AND ($4 = '' OR d.status = $4)
			ORDER BY d.id DESC LIMIT $5`, tx.TenantID, endpointID, before, f.Status, f.Limit+1)
		if err != nil {
			return err
		}
		out, err = pgx.CollectRows(rows, func(r pgx.CollectableRow) (Delivery, error) { return scanDelivery(r) })
		return err
	})
	if err != nil {
		return nil, "", pg.Translate(err)
	}
	if out == nil {
		out = []Delivery{}
	}
	out, next := tenants.NextPage("webhook_deliveries", out, f.Limit, func(d Delivery) string { return d.ID })
	return out, next, nil
}

// ReplayDelivery sends a delivery's event to its endpoint again, as a new
// delivery (replay_of the old one) with its own attempts. The endpoint must
// be enabled.
func (s *Service) ReplayDelivery(ctx context.Context, p tenants.Principal, endpointID, deliveryID string) (Delivery, error) {
	var out Delivery
	err := pg.InTenantTx(ctx, s.DB, p.TenantID, func(tx pg.TenantTx) error {
		ep, err := getEndpoint(ctx, tx, p.StorefrontID, endpointID, "FOR SHARE")
		if err != nil {
			return err
		}
		if !tenants.ValidID(tenants.PrefixDelivery, deliveryID) {
			return tenants.NotFound("delivery")
		}
		var eventID string
		err = tx.QueryRow(ctx, `SELECT event_id FROM webhook_deliveries WHERE tenant_id = $1 AND id = $2 AND endpoint_id = $3`,
			tx.TenantID, deliveryID, ep.ID).Scan(&eventID)
		if errors.Is(err, pgx.ErrNoRows) {
			return tenants.NotFound("delivery")
		} else if err != nil {
			return err
		}
		if !ep.Enabled {
			return tenants.ErrorMsg(tenants.CodeConflict, i18n.M("webhooks.endpoint_disabled"))
		}
		id := tenants.NewID(tenants.PrefixDelivery)
		out, err = scanDelivery(tx.QueryRow(ctx, `
			WITH d AS (
				INSERT INTO webhook_deliveries (tenant_id, id, endpoint_id, event_id, replay_of)
				VALUES ($1, $2, $3, $4, $5) RETURNING *)
			SELECT `+deliveryColumns+` FROM d JOIN event_payloads ev ON ev.tenant_id = d.tenant_id AND ev.id = d.event_id`,
			tx.TenantID, id, ep.ID, eventID, deliveryID))
		if err != nil {
			return err
		}
		return s.enqueueDeliveries(ctx, tx.Tx, tx.TenantID, []string{id}, s.MaxAttempts())
	})
	if err != nil {
		return Delivery{}, pg.Translate(err)
	}
	return out, nil
}
