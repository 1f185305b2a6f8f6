package identity_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"

	"github.com/servicenet/servicenet/internal/pg"
	"github.com/servicenet/servicenet/internal/pgtest"
	"github.com/servicenet/servicenet/tenants"
	"github.com/servicenet/servicenet/tenants/identity"
)

type testBundle struct {
	db  *pgtest.DB
	svc *identity.Service
	// now is the service's clock; tests move it.
	now time.Time
}

func setup(t *testing.T) *testBundle {
	t.Helper()
	db := pgtest.NewDB(t)
	b := &testBundle{db: db, now: time.Now().UTC().Truncate(time.Microsecond)}
	b.svc = &identity.Service{DB: db.App, Now: func() time.Time { return b.now }}
	return b
}

// createTenant creates a tenant and returns it with its admin principal and
// the admin key's secret.
func (b *testBundle) createTenant(t *testing.T, slug string) (identity.Tenant, tenants.Principal, string) {
	t.Helper()
	ten, key, err := b.svc.CreateTenant(context.Background(), identity.NewTenant{Name: "Brand " + slug, Slug: slug}, "operator")
	require.NoError(t, err)
	p, err := b.svc.Authenticate(context.Background(), key.Secret)
	require.NoError(t, err)
	return ten, p, key.Secret
}

func requireCode(t *testing.T, err error, code tenants.Code, location string) {
	t.Helper()
	var te *tenants.Error
	require.ErrorAs(t, err, &te)
	require.Equal(t, code, te.Code, "%v", err)
	if location != "" {
		require.NotEmpty(t, te.Fields, "%v", err)
		require.Equal(t, location, te.Fields[0].Location, "%v", err)
	}
}

// requireConstraint asserts err is code for a violation of the named
// database constraint (the API names the field it guards).
func requireConstraint(t *testing.T, err error, code tenants.Code, constraint string) {
	t.Helper()
	var te *tenants.Error
	require.ErrorAs(t, err, &te)
	require.Equal(t, code, te.Code, "%v", err)
	require.Equal(t, constraint, te.Constraint, "%v", err)
}

func TestCreateTenant(t *testing.T) {
	t.Parallel()
	ctx := context.Background()

	t.Run("FirstKeyAuthenticatesAsAdmin", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		ten, key, err := b.svc.CreateTenant(ctx, identity.NewTenant{Name: "Acme", Slug: "acme"}, "operator")
		require.NoError(t, err)
		require.True(t, tenants.ValidID(tenants.PrefixTenant, ten.ID))
		require.Equal(t, "Asia/Shanghai", ten.TimeZone)
		require.Equal(t, "CNY", ten.Currency)
		require.Equal(t, "active", ten.Status)
		require.True(t, strings.HasPrefix(key.Secret, identity.LivePrefix))
		require.True(t, strings.HasPrefix(key.Secret, key.Prefix), "the display prefix is the secret's beginning")
		require.Less(t, len(key.Prefix), len(key.Secret)/2)

		p, err := b.svc.Authenticate(ctx, key.Secret)
		require.NoError(t, err)
		require.Equal(t, tenants.Principal{TenantID: ten.ID, KeyID: key.ID, Roles: []string{tenants.RoleTenantAdmin}, Live: true, Language: "zh-CN"}, p, "the tenant's default language (zh-CN for a new tenant) travels with the caller")
	})

	t.Run("TestKeyIsNotLive", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		_, key, err := b.svc.CreateTenant(ctx, identity.NewTenant{Name: "Acme", Slug: "acme", Test: true}, "operator")
		require.NoError(t, err)
		require.True(t, strings.HasPrefix(key.Secret, identity.TestPrefix))
		p, err := b.svc.Authenticate(ctx, key.Secret)
		require.NoError(t, err)
		require.False(t, p.Live)
	})

	t.Run("TakenSlugIsAConflictOnSlug", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		b.createTenant(t, "acme")
		_, _, err := b.svc.CreateTenant(ctx, identity.NewTenant{Name: "Other", Slug: "acme"}, "operator")
		requireConstraint(t, err, tenants.CodeConflict, "tenants_slug_key")
	})

	t.Run("UnknownTimeZoneIsInvalid", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		for _, tz := range []string{"Mars/Olympus", "Local"} {
			_, _, err := b.svc.CreateTenant(ctx, identity.NewTenant{Name: "Acme", Slug: "acme", TimeZone: tz}, "operator")
			requireCode(t, err, tenants.CodeInvalid, "time_zone")
		}
	})

	t.Run("FailedCreationLeavesNothing", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		_, _, err := b.svc.CreateTenant(ctx, identity.NewTenant{Name: "Acme", Slug: "Not A Slug"}, "operator")
		requireCode(t, err, tenants.CodeInvalid, "")
		var n int
		require.NoError(t, b.db.App.QueryRow(ctx, `SELECT count(*) FROM tenants`).Scan(&n))
		require.Zero(t, n)
	})
}

func TestSecretsAreStoredHashed(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	b := setup(t)
	ten, admin, secret := b.createTenant(t, "acme")
	other, err := b.svc.CreateAPIKey(ctx, admin, identity.NewAPIKey{Name: "integration", Roles: []string{tenants.RoleIntegrator}})
	require.NoError(t, err)

	sum := sha256.Sum256([]byte(secret))
	// Every column of every key, and every event, as the owner with the
	// tenant set (the owner is under forced RLS too).
	var keyRows, eventRows []string
	require.NoError(t, pg.InTenantTx(ctx, b.db.Owner, ten.ID, func(tx pg.TenantTx) error {
		texts := func(sql string) ([]string, error) {
			rows, err := tx.Query(ctx, sql, tx.TenantID)
			if err != nil {
				return nil, err
			}
			return pgx.CollectRows(rows, pgx.RowTo[string])
		}
		var err error
		if keyRows, err = texts(`SELECT to_jsonb(k)::text FROM api_keys k WHERE tenant_id = $1`); err != nil {
			return err
		}
		eventRows, err = texts(`SELECT to_jsonb(e)::text FROM events e WHERE tenant_id = $1`)
		return err
	}))
	require.Len(t, keyRows, 2)
	require.Len(t, eventRows, 3, "tenant.created and two api_key.created")
	all := strings.Join(append(keyRows, eventRows...), "\n")
	for _, s := range []string{secret, other.Secret} {
		body := s[len(identity.LivePrefix):]
		require.NotContains(t, all, body[:16], "a piece of a secret is stored")
	}
	require.Contains(t, all, hex.EncodeToString(sum[:]), "the SHA-256 is what is stored")
}

func TestAuthenticate(t *testing.T) {
	t.Parallel()
	ctx := context.Background()

	t.Run("BadSecrets", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		_, _, secret := b.createTenant(t, "acme")
		for _, s := range []string{"", "Bearer x", "sk_live_abc", identity.LivePrefix + "nope", secret + "x", strings.ToUpper(secret)} {
			_, err := b.svc.Authenticate(ctx, s)
			requireCode(t, err, tenants.CodeUnauthenticated, "secret")
		}
	})

	t.Run("RevokedKeyFails", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		_, admin, _ := b.createTenant(t, "acme")
		k, err := b.svc.CreateAPIKey(ctx, admin, identity.NewAPIKey{Name: "ops", Roles: []string{tenants.RoleDispatcher}})
		require.NoError(t, err)
		_, err = b.svc.Authenticate(ctx, k.Secret)
		require.NoError(t, err)

		revoked, err := b.svc.RevokeAPIKey(ctx, admin, k.ID)
		require.NoError(t, err)
		require.Equal(t, "revoked", revoked.Status(b.now))
		_, err = b.svc.Authenticate(ctx, k.Secret)
		requireCode(t, err, tenants.CodeUnauthenticated, "secret")
		require.Contains(t, err.Error(), "revoked")

		again, err := b.svc.RevokeAPIKey(ctx, admin, k.ID)
		require.NoError(t, err, "revoking twice is harmless")
		require.Equal(t, revoked.RevokedAt, again.RevokedAt)
	})

	t.Run("KeyCannotRevokeItself", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		_, admin, secret := b.createTenant(t, "acme")
		_, err := b.svc.RevokeAPIKey(ctx, admin, admin.KeyID)
		requireCode(t, err, tenants.CodeConflict, "")
		_, err = b.svc.Authenticate(ctx, secret)
		require.NoError(t, err)
	})

	t.Run("ExpiredKeyFails", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		_, admin, _ := b.createTenant(t, "acme")
		expires := b.now.Add(time.Hour)
		k, err := b.svc.CreateAPIKey(ctx, admin, identity.NewAPIKey{Name: "temp", Roles: []string{tenants.RoleAgent}, ExpiresAt: &expires})
		require.NoError(t, err)
		_, err = b.svc.Authenticate(ctx, k.Secret)
		require.NoError(t, err)

		b.now = expires // expiry is inclusive
		_, err = b.svc.Authenticate(ctx, k.Secret)
		requireCode(t, err, tenants.CodeUnauthenticated, "secret")
		require.Contains(t, err.Error(), "expired")
		got, err := b.svc.GetAPIKey(ctx, admin, k.ID)
		require.NoError(t, err)
		require.Equal(t, "expired", got.Status(b.now))
	})

	t.Run("SuspendedTenantFails", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		ten, _, secret := b.createTenant(t, "acme")
		_, err := b.db.Owner.Exec(ctx, `UPDATE tenants SET status = 'suspended' WHERE id = $1`, ten.ID)
		require.NoError(t, err)
		_, err = b.svc.Authenticate(ctx, secret)
		requireCode(t, err, tenants.CodeUnauthenticated, "secret")
	})

	t.Run("RecordsLastUseAtMostOncePerMinute", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		_, admin, secret := b.createTenant(t, "acme")
		first := b.now
		got, err := b.svc.GetAPIKey(ctx, admin, admin.KeyID)
		require.NoError(t, err)
		require.Equal(t, first, got.LastUsedAt.UTC())

		b.now = first.Add(30 * time.Second)
		_, err = b.svc.Authenticate(ctx, secret)
		require.NoError(t, err)
		got, err = b.svc.GetAPIKey(ctx, admin, admin.KeyID)
		require.NoError(t, err)
		require.Equal(t, first, got.LastUsedAt.UTC())

		b.now = first.Add(2 * time.Minute)
		_, err = b.svc.Authenticate(ctx, secret)
		require.NoError(t, err)
		got, err = b.svc.GetAPIKey(ctx, admin, admin.KeyID)
		require.NoError(t, err)
		require.Equal(t, b.now, got.LastUsedAt.UTC())
	})
}

func TestCreateAPIKey(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	b := setup(t)
	_, admin, _ := b.createTenant(t, "acme")
	past := b.now.Add(-time.Minute)

	t.Run("Invalid", func(t *testing.T) {
		t.Parallel()
		for _, c := range []struct {
			name     string
			in       identity.NewAPIKey
			location string
		}{
			{"NoRoles", identity.NewAPIKey{Name: "k"}, "roles"},
			{"UnknownRole", identity.NewAPIKey{Name: "k", Roles: []string{"superuser"}}, "roles[0]"},
			{"UnknownSecondRole", identity.NewAPIKey{Name: "k", Roles: []string{tenants.RoleAgent, "root"}}, "roles[1]"},
			{"DuplicateRole", identity.NewAPIKey{Name: "k", Roles: []string{tenants.RoleAgent, tenants.RoleAgent}}, "roles[1]"},
			{"StorefrontWithoutStorefrontID", identity.NewAPIKey{Name: "k", Roles: []string{tenants.RoleStorefront}}, "storefront_id"},
			{"StorefrontWithOtherRoles", identity.NewAPIKey{Name: "k", Roles: []string{tenants.RoleStorefront, tenants.RoleAgent}, StorefrontID: "s1"}, "roles"},
			{"StorefrontIDWithoutStorefrontRole", identity.NewAPIKey{Name: "k", Roles: []string{tenants.RoleAgent}, StorefrontID: "s1"}, "storefront_id"},
			{"NodeManagerWithoutNodeID", identity.NewAPIKey{Name: "k", Roles: []string{tenants.RoleNodeManager}}, "node_id"},
			{"TechnicianWithoutNodeID", identity.NewAPIKey{Name: "k", Roles: []string{tenants.RoleTechnician}}, "node_id"},
			{"ExpiryInThePast", identity.NewAPIKey{Name: "k", Roles: []string{tenants.RoleAgent}, ExpiresAt: &past}, "expires_at"},
		} {
			t.Run(c.name, func(t *testing.T) {
				_, err := b.svc.CreateAPIKey(ctx, admin, c.in)
				requireCode(t, err, tenants.CodeInvalid, c.location)
			})
		}
	})

	t.Run("ScopedKeysCarryTheirScope", func(t *testing.T) {
		t.Parallel()
		node, shop := tenants.NewID(tenants.PrefixNode), tenants.NewID(tenants.PrefixStorefront)
		require.NoError(t, pg.InTenantTx(ctx, b.db.App, admin.TenantID, func(tx pg.TenantTx) error {
			if _, err := tx.Exec(ctx, `INSERT INTO nodes (tenant_id, id, external_code, name, tier, path) VALUES ($1, $2, 'ROOT', 'Root', 'manufacturer', $3::ltree)`,
				tx.TenantID, node, node); err != nil {
				return err
			}
			_, err := tx.Exec(ctx, `INSERT INTO storefronts (tenant_id, id, code, name, platform) VALUES ($1, $2, 'SHOP-1', 'Shop', 'tmall')`, tx.TenantID, shop)
			return err
		}))
		k, err := b.svc.CreateAPIKey(ctx, admin, identity.NewAPIKey{Name: "depot", Roles: []string{tenants.RoleNodeManager}, NodeID: node})
		require.NoError(t, err)
		p, err := b.svc.Authenticate(ctx, k.Secret)
		require.NoError(t, err)
		require.Equal(t, node, p.NodeID)
		require.Equal(t, admin.KeyID, k.CreatedBy)

		// A test key is bound to test objects only: the live shop is unknown to it.
		_, err = b.svc.CreateAPIKey(ctx, admin, identity.NewAPIKey{Name: "shop", Roles: []string{tenants.RoleStorefront}, StorefrontID: shop, Test: true})
		requireConstraint(t, err, tenants.CodeInvalid, "api_keys_storefront_fkey")
		testShop := tenants.NewID(tenants.PrefixStorefront)
		require.NoError(t, pg.InTenantTx(pg.WithLivemode(ctx, false), b.db.App, admin.TenantID, func(tx pg.TenantTx) error {
			_, err := tx.Exec(ctx, `INSERT INTO storefronts (tenant_id, id, code, name, platform) VALUES ($1, $2, 'SHOP-1', 'Test shop', 'tmall')`, tx.TenantID, testShop)
			return err
		}))
		k, err = b.svc.CreateAPIKey(ctx, admin, identity.NewAPIKey{Name: "shop", Roles: []string{tenants.RoleStorefront}, StorefrontID: testShop, Test: true})
		require.NoError(t, err)
		p, err = b.svc.Authenticate(ctx, k.Secret)
		require.NoError(t, err)
		require.Equal(t, testShop, p.StorefrontID)
		require.False(t, p.Live)
		// A test key creates test keys only.
		_, err = b.svc.CreateAPIKey(pg.WithLivemode(ctx, false), p, identity.NewAPIKey{Name: "escalate", Roles: []string{tenants.RoleTenantAdmin}})
		requireCode(t, err, tenants.CodeInvalid, "environment")
	})
}

func TestKeysAreTenantScoped(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	b := setup(t)
	_, adminA, _ := b.createTenant(t, "alpha")
	_, adminB, _ := b.createTenant(t, "bravo")
	kA, err := b.svc.CreateAPIKey(ctx, adminA, identity.NewAPIKey{Name: "a", Roles: []string{tenants.RoleAuditor}})
	require.NoError(t, err)

	_, err = b.svc.GetAPIKey(ctx, adminB, kA.ID)
	requireCode(t, err, tenants.CodeNotFound, "")
	_, err = b.svc.RevokeAPIKey(ctx, adminB, kA.ID)
	requireCode(t, err, tenants.CodeNotFound, "")
	_, err = b.svc.Authenticate(ctx, kA.Secret)
	require.NoError(t, err, "B's attempt changed nothing")

	keys, _, err := b.svc.ListAPIKeys(ctx, adminB, identity.KeyFilter{Limit: 50})
	require.NoError(t, err)
	require.Len(t, keys, 1)
	require.Equal(t, adminB.KeyID, keys[0].ID)

	_, err = b.svc.GetAPIKey(ctx, adminA, "key_malformed")
	requireCode(t, err, tenants.CodeNotFound, "")
}
