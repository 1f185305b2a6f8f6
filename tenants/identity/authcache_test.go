package identity_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/require"

	"github.com/servicenet/servicenet/internal/pg"
	"github.com/servicenet/servicenet/tenants"
	"github.com/servicenet/servicenet/tenants/identity"
)

// replicas are two running identity services on two pools of one database,
// as two server replicas are.
type replicas struct {
	*testBundle
	a, b  *identity.Service
	poolB *pgxpool.Pool
}

func setupReplicas(t *testing.T) *replicas {
	t.Helper()
	ctx := context.Background()
	bundle := setup(t)
	poolB, err := pg.Connect(ctx, bundle.db.AppURL, pg.PoolOptions{Name: "replica-b", MaxConns: 8})
	require.NoError(t, err)
	t.Cleanup(poolB.Close)
	r := &replicas{testBundle: bundle, a: bundle.svc, poolB: poolB,
		b: &identity.Service{DB: poolB, Now: func() time.Time { return bundle.now }}}
	t.Cleanup(r.a.Start(ctx))
	t.Cleanup(r.b.Start(ctx))
	require.Eventually(t, func() bool { return r.a.CacheServing() && r.b.CacheServing() }, 5*time.Second, 10*time.Millisecond)
	return r
}

// requireCached authenticates secret on svc twice and checks the second
// answer came from memory.
func requireCached(t *testing.T, svc *identity.Service, secret string) tenants.Principal {
	t.Helper()
	ctx := context.Background()
	_, err := svc.Authenticate(ctx, secret)
	require.NoError(t, err)
	before := svc.Lookups()
	p, err := svc.Authenticate(ctx, secret)
	require.NoError(t, err)
	require.Equal(t, before, svc.Lookups(), "a cached key costs no database lookup")
	return p
}

// refusedWithin waits up to d for svc to refuse secret.
func refusedWithin(t *testing.T, svc *identity.Service, secret string, d time.Duration) {
	t.Helper()
	require.Eventually(t, func() bool {
		_, err := svc.Authenticate(context.Background(), secret)
		return tenants.ErrorCode(err) == tenants.CodeUnauthenticated
	}, d, 10*time.Millisecond)
}

func TestAuthCacheInvalidation(t *testing.T) {
	t.Parallel()
	ctx := context.Background()

	t.Run("RevocationReachesTheOtherReplicaWithinASecond", func(t *testing.T) {
		t.Parallel()
		r := setupReplicas(t)
		_, admin, _ := r.createTenant(t, "acme")
		k, err := r.a.CreateAPIKey(ctx, admin, identity.NewAPIKey{Name: "ops", Roles: []string{tenants.RoleDispatcher}})
		require.NoError(t, err)
		requireCached(t, r.a, k.Secret)
		requireCached(t, r.b, k.Secret)

		_, err = r.a.RevokeAPIKey(ctx, admin, k.ID)
		require.NoError(t, err)
		_, err = r.a.Authenticate(ctx, k.Secret)
		require.ErrorContains(t, err, "revoked", "the revoking replica forgets the key at once")
		refusedWithin(t, r.b, k.Secret, time.Second)
		_, err = r.b.Authenticate(ctx, k.Secret)
		require.ErrorContains(t, err, "revoked")
	})

	t.Run("RolesChangeReachesBothReplicasWithinASecond", func(t *testing.T) {
		t.Parallel()
		r := setupReplicas(t)
		_, admin, _ := r.createTenant(t, "acme")
		k, err := r.a.CreateAPIKey(ctx, admin, identity.NewAPIKey{Name: "ops", Roles: []string{tenants.RoleDispatcher}})
		require.NoError(t, err)
		require.Equal(t, []string{tenants.RoleDispatcher}, requireCached(t, r.a, k.Secret).Roles)
		requireCached(t, r.b, k.Secret)

		// Keys' roles do not change through the API; an operator may in SQL.
		require.NoError(t, pg.InTenantTx(ctx, r.db.Owner, admin.TenantID, func(tx pg.TenantTx) error {
			_, err := tx.Exec(ctx, `UPDATE api_keys SET roles = '{auditor}' WHERE tenant_id = $1 AND id = $2`, tx.TenantID, k.ID)
			return err
		}))
		for _, svc := range []*identity.Service{r.a, r.b} {
			require.Eventually(t, func() bool {
				p, err := svc.Authenticate(ctx, k.Secret)
				return err == nil && len(p.Roles) == 1 && p.Roles[0] == tenants.RoleAuditor
			}, time.Second, 10*time.Millisecond)
		}
	})

	t.Run("MeAnswersFromTheCacheAndSeesEveryChange", func(t *testing.T) {
		t.Parallel()
		r := setupReplicas(t)
		ten, admin, secret := r.createTenant(t, "acme")
		for _, svc := range []*identity.Service{r.a, r.b} {
			p := requireCached(t, svc, secret)
			before := svc.Lookups()
			tn, k, err := svc.Me(ctx, p)
			require.NoError(t, err)
			require.Equal(t, before, svc.Lookups())
			require.Equal(t, "acme", tn.Slug)
			require.Equal(t, admin.KeyID, k.ID)
			require.NotNil(t, k.LastUsedAt, "the use just queued is shown before it is written")
		}
		// A rename through the service: at once on its replica, within a
		// second on the other; a key renamed in SQL too.
		name := "Acme Renamed"
		_, err := r.a.UpdateTenant(ctx, admin, identity.TenantUpdate{Name: &name})
		require.NoError(t, err)
		tn, _, err := r.a.Me(ctx, admin)
		require.NoError(t, err)
		require.Equal(t, name, tn.Name, "read your own write")
		require.NoError(t, pg.InTenantTx(ctx, r.db.Owner, ten.ID, func(tx pg.TenantTx) error {
			_, err := tx.Exec(ctx, `UPDATE api_keys SET name = 'renamed key' WHERE tenant_id = $1 AND id = $2`, tx.TenantID, admin.KeyID)
			return err
		}))
		for _, svc := range []*identity.Service{r.a, r.b} {
			require.Eventually(t, func() bool {
				p, err := svc.Authenticate(ctx, secret)
				if err != nil {
					return false
				}
				tn, k, err := svc.Me(ctx, p)
				return err == nil && tn.Name == name && k.Name == "renamed key"
			}, time.Second, 10*time.Millisecond)
		}
	})

	t.Run("TenantSuspensionAndReactivationWithinASecond", func(t *testing.T) {
		t.Parallel()
		r := setupReplicas(t)
		ten, _, secret := r.createTenant(t, "acme")
		_, _, otherSecret := r.createTenant(t, "other")
		for _, svc := range []*identity.Service{r.a, r.b} {
			requireCached(t, svc, secret)
			requireCached(t, svc, otherSecret)
		}

		_, err := r.db.Owner.Exec(ctx, `UPDATE tenants SET status = 'suspended' WHERE id = $1`, ten.ID)
		require.NoError(t, err)
		for _, svc := range []*identity.Service{r.a, r.b} {
			refusedWithin(t, svc, secret, time.Second)
			_, err = svc.Authenticate(ctx, secret)
			require.ErrorContains(t, err, "suspended")
			requireCached(t, svc, otherSecret) // another tenant's keys stay cached
		}

		// The refusal is cached (negatively) too; reactivation evicts it.
		_, err = r.db.Owner.Exec(ctx, `UPDATE tenants SET status = 'active' WHERE id = $1`, ten.ID)
		require.NoError(t, err)
		for _, svc := range []*identity.Service{r.a, r.b} {
			require.Eventually(t, func() bool {
				_, err := svc.Authenticate(ctx, secret)
				return err == nil
			}, time.Second, 10*time.Millisecond)
		}
	})

	t.Run("ExpiryIsCheckedAtReadTime", func(t *testing.T) {
		t.Parallel()
		r := setupReplicas(t)
		_, admin, _ := r.createTenant(t, "acme")
		expires := r.now.Add(time.Hour)
		k, err := r.a.CreateAPIKey(ctx, admin, identity.NewAPIKey{Name: "temp", Roles: []string{tenants.RoleAgent}, ExpiresAt: &expires})
		require.NoError(t, err)
		requireCached(t, r.a, k.Secret)
		r.now = expires
		before := r.a.Lookups()
		_, err = r.a.Authenticate(ctx, k.Secret)
		require.ErrorContains(t, err, "expired")
		require.Equal(t, before, r.a.Lookups(), "decided from the cached entry")
	})

	t.Run("ReconnectEmptiesTheCache", func(t *testing.T) {
		t.Parallel()
		r := setupReplicas(t)
		_, admin, _ := r.createTenant(t, "acme")
		k, err := r.a.CreateAPIKey(ctx, admin, identity.NewAPIKey{Name: "ops", Roles: []string{tenants.RoleDispatcher}})
		require.NoError(t, err)
		requireCached(t, r.b, k.Secret)

		// Kill replica B's listener (it is the one session of pool B that
		// LISTENs), revoke while it is away, and B must not trust its cache.
		var killed bool
		require.NoError(t, r.poolB.QueryRow(ctx, `
			SELECT pg_terminate_backend(pid) FROM pg_stat_activity
			WHERE datname = current_database() AND application_name = 'replica-b'
			  AND query IN ('LISTEN servicenet_auth', 'SELECT 1') AND pid <> pg_backend_pid()`).Scan(&killed))
		require.True(t, killed)
		_, err = r.a.RevokeAPIKey(ctx, admin, k.ID)
		require.NoError(t, err)
		refusedWithin(t, r.b, k.Secret, time.Second)
		require.Eventually(t, r.b.CacheServing, 5*time.Second, 10*time.Millisecond, "the listener reconnects")
		_, err = r.b.Authenticate(ctx, k.Secret)
		require.ErrorContains(t, err, "revoked", "the reconnected cache started empty")
	})
}

func TestAuthCacheFloodOfOneUnknownKeyReachesTheDatabaseOnce(t *testing.T) {
	t.Parallel()
	r := setupReplicas(t)
	_, _, secret := r.createTenant(t, "acme")
	ctx := context.Background()
	for _, c := range []struct {
		name, secret string
		ok           bool
	}{
		{"Unknown", identity.LivePrefix + "notakeynotakeynotakeynotakeynotakeynotakeynotakeyn", false},
		{"Known", secret, true},
	} {
		before := r.b.Lookups()
		var wg sync.WaitGroup
		errs := make(chan error, 1000)
		for range 50 {
			wg.Go(func() {
				for range 20 {
					_, err := r.b.Authenticate(ctx, c.secret)
					errs <- err
				}
			})
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			if c.ok {
				require.NoError(t, err, c.name)
			} else {
				require.Equal(t, tenants.CodeUnauthenticated, tenants.ErrorCode(err), "%s: %v", c.name, err)
			}
		}
		require.LessOrEqual(t, r.b.Lookups()-before, int64(1), "%s: 1,000 requests, one database lookup", c.name)
	}
}

func TestLastUsedIsWrittenOffTheRequestPath(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	r := setupReplicas(t)
	_, admin, _ := r.createTenant(t, "acme")
	k1, err := r.a.CreateAPIKey(ctx, admin, identity.NewAPIKey{Name: "one", Roles: []string{tenants.RoleAgent}})
	require.NoError(t, err)
	k2, err := r.a.CreateAPIKey(ctx, admin, identity.NewAPIKey{Name: "two", Roles: []string{tenants.RoleAgent}})
	require.NoError(t, err)

	_, err = r.b.Authenticate(ctx, k1.Secret)
	require.NoError(t, err)
	got, err := r.a.GetAPIKey(ctx, admin, k1.ID)
	require.NoError(t, err)
	require.Nil(t, got.LastUsedAt, "not written by the request")
	require.Eventually(t, func() bool {
		got, err := r.a.GetAPIKey(ctx, admin, k1.ID)
		return err == nil && got.LastUsedAt != nil && got.LastUsedAt.Equal(r.now)
	}, 5*time.Second, 50*time.Millisecond, "written by the next flush")

	// Stopping flushes what is queued.
	svc := &identity.Service{DB: r.db.App, Now: func() time.Time { return r.now }}
	stop := svc.Start(ctx)
	require.Eventually(t, svc.CacheServing, 5*time.Second, 10*time.Millisecond)
	_, err = svc.Authenticate(ctx, k2.Secret)
	require.NoError(t, err)
	stop()
	got, err = r.a.GetAPIKey(ctx, admin, k2.ID)
	require.NoError(t, err)
	require.NotNil(t, got.LastUsedAt)
	require.True(t, got.LastUsedAt.Equal(r.now))
}

func TestOnlyChangesThatMatterToTheCacheNotify(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	b := setup(t)
	ten, admin, _ := b.createTenant(t, "acme")
	conn, err := pgx.Connect(ctx, b.db.AppURL)
	require.NoError(t, err)
	t.Cleanup(func() { _ = conn.Close(context.Background()) })
	_, err = conn.Exec(ctx, `LISTEN servicenet_auth`)
	require.NoError(t, err)
	next := func() string {
		wctx, cancel := context.WithTimeout(ctx, 300*time.Millisecond)
		defer cancel()
		n, err := conn.WaitForNotification(wctx)
		if err != nil {
			return ""
		}
		return n.Payload
	}
	inTenant := func(sql string) {
		require.NoError(t, pg.InTenantTx(ctx, b.db.Owner, ten.ID, func(tx pg.TenantTx) error {
			_, err := tx.Exec(ctx, sql, tx.TenantID, admin.KeyID)
			return err
		}))
	}

	inTenant(`UPDATE api_keys SET last_used_at = now() WHERE tenant_id = $1 AND id = $2`)
	require.Empty(t, next(), "a key's last use notifies nothing")

	inTenant(`UPDATE api_keys SET roles = roles WHERE tenant_id = $1 AND id = $2`)
	require.Empty(t, next(), "an update that changes nothing notifies nothing")

	// What Me shows (029): a key's name, any change of its tenant.
	inTenant(`UPDATE api_keys SET name = 'renamed' WHERE tenant_id = $1 AND id = $2`)
	require.Equal(t, admin.KeyID, next())
	_, err = b.db.Owner.Exec(ctx, `UPDATE tenants SET name = 'Renamed', updated_at = now() WHERE id = $1`, ten.ID)
	require.NoError(t, err)
	require.Equal(t, ten.ID, next())

	inTenant(`UPDATE api_keys SET revoked_at = now() WHERE tenant_id = $1 AND id = $2`)
	require.Equal(t, admin.KeyID, next())
	_, err = b.db.Owner.Exec(ctx, `UPDATE tenants SET status = 'suspended' WHERE id = $1`, ten.ID)
	require.NoError(t, err)
	require.Equal(t, ten.ID, next())
}
