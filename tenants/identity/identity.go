// Package identity owns tenants (brands) and their API keys: creating a
// tenant with its first admin key, issuing, listing and revoking keys, and
// authenticating a presented secret into a tenants.Principal.
//
// A key's secret is shown once, at creation; only its SHA-256 is stored. A
// key's roles and scope never change after creation: to change them, issue a
// new key and revoke the old one.
package identity

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base32"
	"encoding/hex"
	"log/slog"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/servicenet/servicenet/internal/i18n"
	"github.com/servicenet/servicenet/internal/pg"
	"github.com/servicenet/servicenet/tenants"
	"github.com/servicenet/servicenet/tenants/events"
	"github.com/servicenet/servicenet/tenants/network"
	"github.com/servicenet/servicenet/tenants/phones"
)

// Secret prefixes: live keys act on real data; test keys are for integration
// environments (the prefix lets secret scanners and people tell them apart).
const (
	LivePrefix = "sn_live_"
	TestPrefix = "sn_test_"
)

// Service is the identity context's entry point. Each exported method is one
// transaction. The zero value with DB set works; Run adds the
// authentication cache (authcache.go).
type Service struct {
	// DB is a pool, not a pg.DB, because the authentication cache holds a
	// connection of its own for LISTEN (authcache.go) and a key's lookup
	// begins with its hash in BeginQuery (one round trip).
	DB  *pgxpool.Pool
	Now func() time.Time
	// Log receives Run's warnings; nil is slog.Default().
	Log *slog.Logger

	cache   authCache
	lookups atomic.Int64
}

func (s *Service) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}

// Tenant is a brand.
type Tenant struct {
	ID       string `db:"id"`
	Name     string `db:"name"`
	Slug     string `db:"slug"`
	TimeZone string `db:"time_zone"`
	Currency string `db:"currency"`
	Status   string `db:"status"`
	// DefaultLanguage is what callers without a supported Accept-Language
	// read, and what customer messages are written in (Languages).
	DefaultLanguage string `db:"default_language"`
	// ServiceHotline is the brand's unified service hotline, the number a
	// customer who objects is directed to (seed 001), in its displayed
	// form; nil when the brand has set none.
	ServiceHotline *string   `db:"service_hotline"`
	Version        int       `db:"version"`
	CreatedAt      time.Time `db:"created_at"`
	UpdatedAt      time.Time `db:"updated_at"`
}

// NewTenant is the input to CreateTenant.
type NewTenant struct {
	Name     string
	Slug     string
	TimeZone string // IANA zone; default Asia/Shanghai
	Currency string // ISO 4217; default CNY
	// AdminKeyName names the first admin key; default "Initial admin key".
	AdminKeyName string
	// Test makes the first admin key an sn_test_ key.
	Test bool
}

// APIKey is a stored key: everything but the secret.
type APIKey struct {
	ID           string     `db:"id"`
	TenantID     string     `db:"tenant_id"`
	Name         string     `db:"name"`
	Prefix       string     `db:"prefix"`
	Live         bool       `db:"live"`
	Roles        []string   `db:"roles"`
	NodeID       *string    `db:"node_id"`
	StorefrontID *string    `db:"storefront_id"`
	TechnicianID *string    `db:"technician_id"`
	ExpiresAt    *time.Time `db:"expires_at"`
	RevokedAt    *time.Time `db:"revoked_at"`
	LastUsedAt   *time.Time `db:"last_used_at"`
	CreatedBy    string     `db:"created_by"`
	CreatedAt    time.Time  `db:"created_at"`
}

// Status is "active", "expired" or "revoked" at time now.
func (k APIKey) Status(now time.Time) string {
	switch {
	case k.RevokedAt != nil:
		return "revoked"
	case k.ExpiresAt != nil && !now.Before(*k.ExpiresAt):
		return "expired"
	}
	return "active"
}

// CreatedKey is a new key with its secret, which is never readable again.
type CreatedKey struct {
	APIKey
	Secret string
}

// NewAPIKey is the input to CreateAPIKey.
type NewAPIKey struct {
	Name         string
	Roles        []string
	Test         bool
	NodeID       string
	StorefrontID string
	// TechnicianID binds a technician key to the technician it acts as; its
	// node defaults to the technician's.
	TechnicianID string
	ExpiresAt    *time.Time
}

const tenantColumns = `id, name, slug, time_zone, currency, status, default_language, service_hotline, version, created_at, updated_at`

const keyColumns = `id, tenant_id, name, prefix, live, roles, node_id, storefront_id, technician_id, expires_at, revoked_at, last_used_at, created_by, created_at`

// CreateTenant creates a tenant and its first tenant_admin key in one
// transaction, with tenant.created and api_key.created events. A taken slug
// is a conflict on slug.
func (s *Service) CreateTenant(ctx context.Context, in NewTenant, actor string) (Tenant, CreatedKey, error) {
	if in.TimeZone == "" {
		in.TimeZone = "Asia/Shanghai"
	}
	if in.Currency == "" {
		in.Currency = "CNY"
	}
	if _, err := time.LoadLocation(in.TimeZone); err != nil || in.TimeZone == "Local" {
		return Tenant{}, CreatedKey{}, tenants.InvalidMsg("time_zone", i18n.M("common.unknown_time_zone"), in.TimeZone)
	}
	if in.AdminKeyName == "" {
		in.AdminKeyName = "Initial admin key"
	}
	var t Tenant
	var key CreatedKey
	id := tenants.NewID(tenants.PrefixTenant)
	err := pg.InTenantTx(ctx, s.DB, id, func(tx pg.TenantTx) error {
		rows, err := tx.Query(ctx, `
			INSERT INTO tenants (id, name, slug, time_zone, currency) VALUES ($1, $2, $3, $4, $5)
			RETURNING `+tenantColumns,
			id, in.Name, in.Slug, in.TimeZone, in.Currency)
		if err != nil {
			return err
		}
		if t, err = pgx.CollectExactlyOneRow(rows, pgx.RowToStructByName[Tenant]); err != nil {
			return err
		}
		if err := events.Append(ctx, tx, events.New{Type: events.TypeTenantCreated, SubjectID: t.ID, Actor: actor,
			Data: map[string]any{"name": t.Name, "slug": t.Slug}}); err != nil {
			return err
		}
		if in.Test {
			// The key is made in its own mode (test keys are test data).
			if err := pg.SetTenant(pg.WithLivemode(ctx, false), tx, id); err != nil {
				return err
			}
		}
		key, err = s.insertKey(ctx, tx, NewAPIKey{Name: in.AdminKeyName, Roles: []string{tenants.RoleTenantAdmin}, Test: in.Test}, actor)
		return err
	})
	return t, key, pg.Translate(err)
}

// GetTenant returns a tenant by ID.
func (s *Service) GetTenant(ctx context.Context, id string) (Tenant, error) {
	var t Tenant
	err := pg.InTx(ctx, s.DB, func(tx pgx.Tx) error {
		rows, err := tx.Query(ctx, `SELECT `+tenantColumns+` FROM tenants WHERE id = $1`, id)
		if err != nil {
			return err
		}
		t, err = pgx.CollectExactlyOneRow(rows, pgx.RowToStructByName[Tenant])
		return err
	})
	if err != nil {
		err = pg.Translate(err)
		if tenants.ErrorCode(err) == tenants.CodeNotFound {
			return t, tenants.NotFound("tenant")
		}
	}
	return t, err
}

// TenantUpdate changes a tenant's settings; nil fields are left alone.
type TenantUpdate struct {
	Name     *string
	TimeZone *string
	// DefaultLanguage is one of Languages.
	DefaultLanguage *string
	// ServiceHotline is a phone number as phones.Parse reads it (a
	// 400 or 800 national service number, a landline with its area code, a
	// mobile, +country code and number), stored in its displayed form;
	// empty clears it.
	ServiceHotline *string
	// IfVersion, when set, makes the update conditional on the tenant's
	// current version (optimistic concurrency; precondition_failed otherwise).
	IfVersion *int
}

// UpdateTenant changes the caller's tenant's settings and records a
// tenant.updated event. Settings sent with the values they have change
// nothing: the tenant is answered as it is, version and all, no event.
// The settings are one row both modes read (live deadlines and business
// days are reckoned in its zone, live texts name its hotline): a test key
// changes no live data, so its call is a conflict and changes nothing.
func (s *Service) UpdateTenant(ctx context.Context, p tenants.Principal, u TenantUpdate) (Tenant, error) {
	if !pg.Livemode(ctx) || !p.Live {
		return Tenant{}, tenants.ErrorMsg(tenants.CodeConflict, i18n.M("identity.tenant_settings_need_live_key"))
	}
	if u.TimeZone != nil {
		if _, err := time.LoadLocation(*u.TimeZone); err != nil || *u.TimeZone == "Local" || *u.TimeZone == "" {
			return Tenant{}, tenants.InvalidMsg("time_zone", i18n.M("common.unknown_time_zone"), *u.TimeZone)
		}
	}
	if u.DefaultLanguage != nil && !slices.Contains(Languages, *u.DefaultLanguage) {
		return Tenant{}, tenants.InvalidMsg("default_language",
			i18n.M("problem.unsupported_language", "Languages", "zh-CN, en"), *u.DefaultLanguage)
	}
	if u.ServiceHotline != nil {
		shown := strings.TrimSpace(*u.ServiceHotline)
		if shown != "" {
			var ok bool
			if _, shown, ok = phones.Parse(shown); !ok {
				return Tenant{}, tenants.InvalidMsg("service_hotline", i18n.M("identity.service_hotline"), *u.ServiceHotline)
			}
		}
		u.ServiceHotline = &shown
	}
	var t Tenant
	err := pg.InTenantTx(ctx, s.DB, p.TenantID, func(tx pg.TenantTx) error {
		rows, err := tx.Query(ctx, `SELECT `+tenantColumns+` FROM tenants WHERE id = $1 FOR UPDATE`, tx.TenantID)
		if err != nil {
			return err
		}
		if t, err = pgx.CollectExactlyOneRow(rows, pgx.RowToStructByName[Tenant]); err != nil {
			return err
		}
		if u.IfVersion != nil && *u.IfVersion != t.Version {
			return tenants.ErrorMsg(tenants.CodePreconditionFailed, i18n.M("identity.tenant_changed"))
		}
		// Settings sent with the values they have are no change: nothing
		// is written, the version (the ETag) stays, no event.
		var changed tenants.Changes
		changed.Set("name", tenants.Differs(u.Name, t.Name), func() {})
		changed.Set("time_zone", tenants.Differs(u.TimeZone, t.TimeZone), func() {})
		changed.Set("default_language", tenants.Differs(u.DefaultLanguage, t.DefaultLanguage), func() {})
		changed.Set("service_hotline", tenants.Differs(u.ServiceHotline, deref(t.ServiceHotline)), func() {})
		if len(changed) == 0 {
			return nil
		}
		rows, err = tx.Query(ctx, `UPDATE tenants SET name = coalesce($2, name), time_zone = coalesce($3, time_zone),
			default_language = coalesce($4, default_language),
			service_hotline = CASE WHEN $5::text IS NULL THEN service_hotline ELSE nullif($5, '') END,
			version = version + 1, updated_at = now() WHERE id = $1 RETURNING `+tenantColumns, tx.TenantID, u.Name, u.TimeZone,
			u.DefaultLanguage, u.ServiceHotline)
		if err != nil {
			return err
		}
		if t, err = pgx.CollectExactlyOneRow(rows, pgx.RowToStructByName[Tenant]); err != nil {
			return err
		}
		return events.Append(ctx, tx, events.New{Type: events.TypeTenantUpdated, SubjectID: t.ID, Actor: p.Subject(),
			Data: map[string]any{"name": t.Name, "time_zone": t.TimeZone, "default_language": t.DefaultLanguage,
				"service_hotline": deref(t.ServiceHotline)}})
	})
	if err == nil {
		// Me answers from the cache: this replica forgets the tenant now,
		// the others when the trigger's notification (029) reaches them.
		s.cache.evict(t.ID)
	}
	return t, pg.Translate(err)
}

// ServiceHotlineTx returns, inside tx, the service hotline of tx's tenant
// as it is shown, or "" when the brand has set none: the number a text that
// directs a customer to the hotline names.
func ServiceHotlineTx(ctx context.Context, tx pg.TenantTx) (string, error) {
	var h *string
	err := tx.QueryRow(ctx, `SELECT service_hotline FROM tenants WHERE id = $1`, tx.TenantID).Scan(&h)
	return deref(h), err
}

// Languages are the languages ServiceNet speaks (BCP 47 tags).
var Languages = []string{i18n.Chinese, i18n.English}

// LocaleTx returns the language and time zone of tx's tenant, inside tx:
// what a context writing to a customer renders its text in.
func LocaleTx(ctx context.Context, tx pg.TenantTx) (string, *time.Location, error) {
	var (
		lang string
		loc  *time.Location
	)
	b := &pgx.Batch{}
	QueueLocale(b, tx.TenantID, &lang, &loc)
	if err := tx.SendBatch(ctx, b).Close(); err != nil {
		return "", nil, err
	}
	return lang, loc, nil
}

// QueueLocale queues LocaleTx's read into b, into lang and loc, for a
// caller that reads it in one round trip with others (b is sent in the
// tenant's transaction). An unknown zone reads as UTC.
func QueueLocale(b *pgx.Batch, tenantID string, lang *string, loc **time.Location) {
	b.Queue(`SELECT default_language, time_zone FROM tenants WHERE id = $1`, tenantID).QueryRow(func(row pgx.Row) error {
		var zone string
		if err := row.Scan(lang, &zone); err != nil {
			return err
		}
		l, err := pg.Location(zone)
		if err != nil {
			l = time.UTC
		}
		*loc = l
		return nil
	})
}

// ListTenants pages through all tenants (operator only), oldest first.
func (s *Service) ListTenants(ctx context.Context, limit int, cursor string) ([]Tenant, string, error) {
	after, err := tenants.PageAfter("tenants", cursor)
	if err != nil {
		return nil, "", err
	}
	var ts []Tenant
	err = pg.InTx(ctx, s.DB, func(tx pgx.Tx) error {
		rows, err := tx.Query(ctx, `SELECT `+tenantColumns+` FROM tenants WHERE id > $1 ORDER BY id LIMIT $2`, after, limit+1)
		if err != nil {
			return err
		}
		ts, err = pgx.CollectRows(rows, pgx.RowToStructByName[Tenant])
		return err
	})
	if err != nil {
		return nil, "", pg.Translate(err)
	}
	ts, next := tenants.NextPage("tenants", ts, limit, func(t Tenant) string { return t.ID })
	return ts, next, nil
}

// TenantBySlug returns the tenant with the given slug.
func (s *Service) TenantBySlug(ctx context.Context, slug string) (Tenant, error) {
	var id string
	if err := s.DB.QueryRow(ctx, `SELECT id FROM tenants WHERE slug = $1`, slug).Scan(&id); err != nil {
		err = pg.Translate(err)
		if tenants.ErrorCode(err) == tenants.CodeNotFound {
			return Tenant{}, tenants.NotFound("tenant")
		}
		return Tenant{}, err
	}
	return s.GetTenant(ctx, id)
}

// CreateAPIKey issues a key in the caller's tenant and records an
// api_key.created event. The returned secret is shown once. The key is made
// in its own mode: a test key's node, technician and storefront must be
// test data, and its api_key.created event is on the test feed. A test
// key may create test keys only (environment).
func (s *Service) CreateAPIKey(ctx context.Context, p tenants.Principal, in NewAPIKey) (CreatedKey, error) {
	if err := s.validateNewKey(in); err != nil {
		return CreatedKey{}, err
	}
	if !pg.Livemode(ctx) && !in.Test {
		return CreatedKey{}, tenants.InvalidMsg("environment", i18n.M("identity.test_key_test_only"), "live")
	}
	ctx = pg.WithLivemode(ctx, !in.Test)
	var key CreatedKey
	err := pg.InTenantTx(ctx, s.DB, p.TenantID, func(tx pg.TenantTx) error {
		var err error
		key, err = s.insertKey(ctx, tx, in, p.Subject())
		return err
	})
	return key, pg.Translate(err)
}

func (s *Service) validateNewKey(in NewAPIKey) error {
	if len(in.Roles) == 0 {
		return tenants.InvalidMsg("roles", i18n.M("identity.role_required"), in.Roles)
	}
	for i, r := range in.Roles {
		if !slices.Contains(tenants.Roles, r) {
			return tenants.InvalidMsg("roles["+strconv.Itoa(i)+"]", i18n.M("identity.unknown_role", "Roles", strings.Join(tenants.Roles, ", ")), r)
		}
		if slices.Index(in.Roles, r) != i {
			return tenants.InvalidMsg("roles["+strconv.Itoa(i)+"]", i18n.M("identity.duplicate_role"), r)
		}
	}
	storefront := slices.Contains(in.Roles, tenants.RoleStorefront)
	switch {
	case storefront && len(in.Roles) > 1:
		return tenants.InvalidMsg("roles", i18n.M("identity.storefront_role_only"), in.Roles)
	case storefront && in.StorefrontID == "":
		return tenants.InvalidMsg("storefront_id", i18n.M("identity.required_for_storefront_key"), nil)
	case !storefront && in.StorefrontID != "":
		return tenants.InvalidMsg("storefront_id", i18n.M("identity.storefront_only"), in.StorefrontID)
	}
	technician := slices.Contains(in.Roles, tenants.RoleTechnician)
	if in.TechnicianID != "" && !technician {
		return tenants.InvalidMsg("technician_id", i18n.M("identity.technician_only"), in.TechnicianID)
	}
	scoped := slices.Contains(in.Roles, tenants.RoleNodeManager) || technician
	if scoped && in.NodeID == "" && in.TechnicianID == "" {
		return tenants.InvalidMsg("node_id", i18n.M("identity.node_required"), nil)
	}
	if in.ExpiresAt != nil && !in.ExpiresAt.After(s.now()) {
		return tenants.InvalidMsg("expires_at", i18n.M("common.must_be_in_future"), in.ExpiresAt)
	}
	return nil
}

func (s *Service) insertKey(ctx context.Context, tx pg.TenantTx, in NewAPIKey, actor string) (CreatedKey, error) {
	if in.TechnicianID != "" {
		// The technician's node must be the key's node or lie under it.
		techNode, inside, found, err := network.TechnicianUnderTx(ctx, tx, in.TechnicianID, in.NodeID)
		if err != nil {
			return CreatedKey{}, err
		}
		if !found {
			return CreatedKey{}, tenants.InvalidMsg("technician_id", i18n.M("identity.no_technician_in_tenant"), in.TechnicianID)
		}
		if !inside {
			return CreatedKey{}, tenants.InvalidMsg("technician_id", i18n.M("identity.technician_outside_subtree"), in.TechnicianID)
		}
		if in.NodeID == "" {
			in.NodeID = techNode
		}
	}
	// A binding to an object of the other mode fails its foreign key,
	// which includes the mode (migration 021): node_id, storefront_id.
	secret, display, hash := newSecret(!in.Test)
	id := tenants.NewID(tenants.PrefixAPIKey)
	rows, err := tx.Query(ctx, `
		INSERT INTO api_keys (tenant_id, id, name, prefix, secret_hash, live, roles, node_id, storefront_id, technician_id, expires_at, created_by)
		VALUES ($1, $2, $3, $4, $5, $6, $7, NULLIF($8, ''), NULLIF($9, ''), NULLIF($10, ''), $11, $12)
		RETURNING `+keyColumns,
		tx.TenantID, id, in.Name, display, hash, !in.Test, in.Roles, in.NodeID, in.StorefrontID, in.TechnicianID, in.ExpiresAt, actor)
	if err != nil {
		return CreatedKey{}, err
	}
	k, err := pgx.CollectExactlyOneRow(rows, pgx.RowToStructByName[APIKey])
	if err != nil {
		return CreatedKey{}, err
	}
	err = events.Append(ctx, tx, events.New{Type: events.TypeAPIKeyCreated, SubjectID: k.ID, Actor: actor,
		Data: map[string]any{"name": k.Name, "roles": k.Roles, "live": k.Live}})
	return CreatedKey{APIKey: k, Secret: secret}, err
}

// GetAPIKey returns one of the caller's tenant's keys.
func (s *Service) GetAPIKey(ctx context.Context, p tenants.Principal, id string) (APIKey, error) {
	if !tenants.ValidID(tenants.PrefixAPIKey, id) {
		return APIKey{}, tenants.NotFound("api key")
	}
	var k APIKey
	err := pg.InTenantTx(ctx, s.DB, p.TenantID, func(tx pg.TenantTx) error {
		var err error
		k, err = getKey(ctx, tx, id, false)
		return err
	})
	return k, err
}

// Me returns the principal's tenant and key: from the authentication cache
// when it holds the key (no round trip; every change but the key's last use
// is notified to it, see authcache.go), else read in one round trip.
func (s *Service) Me(ctx context.Context, p tenants.Principal) (Tenant, APIKey, error) {
	if t, k, ok := s.cache.me(p.KeyID, s.now()); ok && k.TenantID == p.TenantID {
		return t, k, nil
	}
	var t Tenant
	var k APIKey
	err := pg.InTenantRead(ctx, s.DB, p.TenantID, func(b *pgx.Batch, tenant string) {
		b.Queue(`SELECT `+tenantColumns+` FROM tenants WHERE id = $1`, tenant).Query(func(rows pgx.Rows) error {
			var err error
			t, err = pgx.CollectExactlyOneRow(rows, pgx.RowToStructByName[Tenant])
			return err
		})
		b.Queue(`SELECT `+keyColumns+` FROM api_keys WHERE tenant_id = $1 AND id = $2`, tenant, p.KeyID).Query(func(rows pgx.Rows) error {
			var err error
			k, err = pgx.CollectExactlyOneRow(rows, pgx.RowToStructByName[APIKey])
			return err
		})
	})
	if err != nil {
		err = pg.Translate(err)
		if tenants.ErrorCode(err) == tenants.CodeNotFound {
			err = tenants.NotFound("api key")
		}
	}
	return t, k, err
}

func getKey(ctx context.Context, tx pg.TenantTx, id string, forUpdate bool) (APIKey, error) {
	q := `SELECT ` + keyColumns + ` FROM api_keys WHERE tenant_id = $1 AND id = $2`
	if forUpdate {
		q += ` FOR UPDATE`
	}
	rows, err := tx.Query(ctx, q, tx.TenantID, id)
	if err != nil {
		return APIKey{}, err
	}
	k, err := pgx.CollectExactlyOneRow(rows, pgx.RowToStructByName[APIKey])
	if err != nil {
		err = pg.Translate(err)
		if tenants.ErrorCode(err) == tenants.CodeNotFound {
			return k, tenants.NotFound("api key")
		}
	}
	return k, err
}

// KeyFilter narrows ListAPIKeys.
type KeyFilter struct {
	Status string // active, revoked, expired; "" for all
	Role   string
	Limit  int
	Cursor string
}

// ListAPIKeys pages through the tenant's keys, oldest first. Secrets are
// never part of a listing.
func (s *Service) ListAPIKeys(ctx context.Context, p tenants.Principal, f KeyFilter) ([]APIKey, string, error) {
	after, err := tenants.PageAfter("api_keys", f.Cursor)
	if err != nil {
		return nil, "", err
	}
	var keys []APIKey
	err = pg.InTenantTx(ctx, s.DB, p.TenantID, func(tx pg.TenantTx) error {
		rows, err := tx.Query(ctx, `
			SELECT `+keyColumns+` FROM api_keys
			WHERE tenant_id = $1 AND id > $2
			  AND ($3 = '' OR $3 = ANY(roles))
			  AND CASE $4
			        WHEN 'active'  THEN revoked_at IS NULL AND (expires_at IS NULL OR expires_at > now())
			        WHEN 'revoked' THEN revoked_at IS NOT NULL
			        WHEN 'expired' THEN revoked_at IS NULL AND expires_at <= now()
			        ELSE true END
			ORDER BY id LIMIT $5`,
			tx.TenantID, after, f.Role, f.Status, f.Limit+1)
		if err != nil {
			return err
		}
		keys, err = pgx.CollectRows(rows, pgx.RowToStructByName[APIKey])
		return err
	})
	if err != nil {
		return nil, "", pg.Translate(err)
	}
	keys, next := tenants.NextPage("api_keys", keys, f.Limit, func(k APIKey) string { return k.ID })
	return keys, next, nil
}

// RevokeAPIKey revokes a key at once and records an api_key.revoked event.
// Revoking a revoked key returns it unchanged. A key cannot revoke itself
// (that would lock an only admin out); revoke it with another admin key.
func (s *Service) RevokeAPIKey(ctx context.Context, p tenants.Principal, id string) (APIKey, error) {
	if !tenants.ValidID(tenants.PrefixAPIKey, id) {
		return APIKey{}, tenants.NotFound("api key")
	}
	if id == p.KeyID {
		return APIKey{}, tenants.ErrorMsg(tenants.CodeConflict, i18n.M("identity.key_revokes_itself"))
	}
	var k APIKey
	err := pg.InTenantTx(ctx, s.DB, p.TenantID, func(tx pg.TenantTx) error {
		var err error
		if k, err = getKey(ctx, tx, id, true); err != nil || k.RevokedAt != nil {
			return err
		}
		rows, err := tx.Query(ctx, `UPDATE api_keys SET revoked_at = $3 WHERE tenant_id = $1 AND id = $2 RETURNING `+keyColumns,
			tx.TenantID, id, s.now())
		if err != nil {
			return err
		}
		if k, err = pgx.CollectExactlyOneRow(rows, pgx.RowToStructByName[APIKey]); err != nil {
			return err
		}
		return events.Append(ctx, tx, events.New{Type: events.TypeAPIKeyRevoked, SubjectID: k.ID, Actor: p.Subject()})
	})
	if err == nil {
		// This replica forgets the key now; the others when the trigger's
		// notification reaches them.
		s.cache.evict(k.ID)
	}
	return k, pg.Translate(err)
}

// errBadKey is the authentication failure for an unknown, malformed, revoked
// or expired key or a suspended tenant, at the presented secret. Its
// message (code, in the catalog as auth.*) says which, but never whether
// another tenant exists.
func errBadKey(code string) error {
	m := i18n.M(code)
	msg := m.Render(i18n.English)
	return &tenants.Error{Code: tenants.CodeUnauthenticated, Message: msg, Msg: &m,
		Fields: []tenants.FieldError{{Location: "secret", Message: msg, Msg: &m}}}
}

// lastUsedGranularity bounds how often authentication writes last_used_at.
const lastUsedGranularity = time.Minute

// Authenticate turns a presented secret into a Principal. While Run is
// running it answers from the authentication cache and queues last_used_at
// (see authcache.go); otherwise, and on a miss, it reads the key in one
// transaction under the api_key_lookup policy, which may read the one key
// whose hash it presents and nothing else.
func (s *Service) Authenticate(ctx context.Context, secret string) (tenants.Principal, error) {
	if !strings.HasPrefix(secret, LivePrefix) && !strings.HasPrefix(secret, TestPrefix) {
		return tenants.Principal{}, errBadKey("auth.not_a_key")
	}
	hash := hashSecret(secret)
	now := s.now()
	e, wait, lead, gen, cached := s.cache.begin(hash)
	switch {
	case !cached:
		e, err := s.lookup(ctx, hash, now, true)
		if err != nil {
			return tenants.Principal{}, err
		}
		return e.result(now)
	case wait != nil:
		select {
		case <-wait.done:
		case <-ctx.Done():
			return tenants.Principal{}, ctx.Err()
		}
		if e = wait.entry; wait.err != nil {
			// The leader's request failed (its deadline, say): try on our own.
			var err error
			if e, err = s.lookup(ctx, hash, now, false); err != nil {
				return tenants.Principal{}, err
			}
		}
	case lead != nil:
		lead.entry, lead.err = s.lookup(ctx, hash, now, false)
		s.cache.finish(hash, lead, gen, now)
		if lead.err != nil {
			return tenants.Principal{}, lead.err
		}
		e = lead.entry
	}
	p, err := e.result(now)
	if err == nil {
		s.cache.touch(e, now)
	}
	return p, err
}

// lookup reads the key whose secret hashes to hash. With writeLastUsed it
// also records the use, at most once per lastUsedGranularity, in the same
// transaction; otherwise the caller queues it.
func (s *Service) lookup(ctx context.Context, hash string, now time.Time, writeLastUsed bool) (*authEntry, error) {
	s.lookups.Add(1)
	var e *authEntry
	// One round trip opens the transaction with the hash set (it is hex: safe
	// to inline).
	begin := pgx.TxOptions{BeginQuery: "BEGIN; SELECT set_config('app.api_key_hash', '" + hash + "', true)"}
	err := pgx.BeginTxFunc(ctx, s.DB, begin, func(tx pgx.Tx) error {
		var k APIKey
		var t Tenant
		err := tx.QueryRow(ctx, `
			SELECT k.id, k.tenant_id, k.name, k.prefix, k.live, k.roles, k.node_id, k.storefront_id, k.technician_id,
			       k.expires_at, k.revoked_at, k.last_used_at, k.created_by, k.created_at,
			       t.id, t.name, t.slug, t.time_zone, t.currency, t.status, t.default_language, t.service_hotline, t.version,
			       t.created_at, t.updated_at
			FROM api_keys k JOIN tenants t ON t.id = k.tenant_id
			WHERE k.secret_hash = $1`, hash).
			Scan(&k.ID, &k.TenantID, &k.Name, &k.Prefix, &k.Live, &k.Roles, &k.NodeID, &k.StorefrontID, &k.TechnicianID,
				&k.ExpiresAt, &k.RevokedAt, &k.LastUsedAt, &k.CreatedBy, &k.CreatedAt,
				&t.ID, &t.Name, &t.Slug, &t.TimeZone, &t.Currency, &t.Status, &t.DefaultLanguage, &t.ServiceHotline, &t.Version,
				&t.CreatedAt, &t.UpdatedAt)
		tenantStatus := t.Status
		if err == pgx.ErrNoRows {
			e = &authEntry{bad: "auth.unknown_key"}
			return nil
		}
		if err != nil {
			return err
		}
		if k.RevokedAt != nil {
			e = &authEntry{bad: "auth.key_revoked", p: tenants.Principal{TenantID: k.TenantID, KeyID: k.ID}}
			return nil
		}
		e = &authEntry{
			p: tenants.Principal{TenantID: k.TenantID, KeyID: k.ID, Roles: k.Roles, Live: k.Live,
				NodeID: deref(k.NodeID), StorefrontID: deref(k.StorefrontID), TechnicianID: deref(k.TechnicianID),
				Language: t.DefaultLanguage},
			expiresAt: k.ExpiresAt, tenantActive: tenantStatus == "active", lastUsed: k.LastUsedAt,
			key: k, tenant: t,
		}
		if _, err := e.result(now); err != nil || !writeLastUsed {
			return nil
		}
		if k.LastUsedAt == nil || now.Sub(*k.LastUsedAt) >= lastUsedGranularity {
			if err := pg.SetTenant(pg.WithLivemode(ctx, k.Live), tx, k.TenantID); err != nil {
				return err
			}
			_, err = tx.Exec(ctx, `UPDATE api_keys SET last_used_at = $3 WHERE tenant_id = $1 AND id = $2`, k.TenantID, k.ID, now)
			return err
		}
		return nil
	})
	if err != nil {
		return nil, pg.Translate(err)
	}
	return e, nil
}

var secretEncoding = base32.StdEncoding.WithPadding(base32.NoPadding)

// newSecret returns a fresh secret (32 random bytes), its display prefix and
// its hash.
func newSecret(live bool) (secret, display, hash string) {
	b := make([]byte, 32)
	_, _ = rand.Read(b) // crypto/rand.Read never fails (Go ≥ 1.24)
	prefix := TestPrefix
	if live {
		prefix = LivePrefix
	}
	secret = prefix + strings.ToLower(secretEncoding.EncodeToString(b))
	return secret, secret[:len(prefix)+6], hashSecret(secret)
}

func hashSecret(secret string) string {
	sum := sha256.Sum256([]byte(secret))
	return hex.EncodeToString(sum[:])
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

// DeleteTestData deletes all of the caller's tenant's test data in one
// transaction: every test-mode row of every context (tickets, claims,
// units, customers, the test network and catalog, test events, webhooks and
// their deliveries ...), and the test keys bound to a deleted node,
// technician or storefront. Live data, unbound test keys, idempotency
// records and the audit log are untouched (the log is append-only: it keeps
// the test mode's entries and records each deleted row as a delete by the
// caller). It must be called with a test key (a conflict otherwise: the
// key's mode is live) and returns how many rows of test data went.
func (s *Service) DeleteTestData(ctx context.Context, p tenants.Principal) (int64, error) {
	if pg.Livemode(ctx) || p.Live {
		return 0, tenants.ErrorMsg(tenants.CodeConflict, i18n.M("identity.test_data_needs_test_key"))
	}
	var n int64
	// The sweep locks rows across every table, in its own order; a job
	// working on a test object meanwhile (a claim's adjudication, say) can
	// deadlock with it, and the server aborts one of the two. Nothing of
	// an aborted sweep stays, so it runs again, a few times before the
	// caller is told to retry.
	var err error
	for range 3 {
		err = pg.InTenantTx(ctx, s.DB, p.TenantID, func(tx pg.TenantTx) error {
			return tx.QueryRow(ctx, `SELECT delete_test_data()`).Scan(&n)
		})
		if !pg.Interfered(err) {
			break
		}
	}
	return n, pg.Translate(err)
}
