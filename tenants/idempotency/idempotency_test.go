package idempotency_test

import (
	"context"
	"sync"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"

	"github.com/servicenet/servicenet/internal/pg"
	"github.com/servicenet/servicenet/internal/pgtest"
	"github.com/servicenet/servicenet/tenants"
	"github.com/servicenet/servicenet/tenants/idempotency"
)

type testBundle struct {
	db     *pgtest.DB
	store  *idempotency.Store
	tenant string
}

func setup(t *testing.T) *testBundle {
	t.Helper()
	db := pgtest.NewDB(t)
	return &testBundle{db: db, store: &idempotency.Store{DB: db.App}, tenant: newTenant(t, db)}
}

func newTenant(t *testing.T, db *pgtest.DB) string {
	t.Helper()
	id := tenants.NewID(tenants.PrefixTenant)
	_, err := db.App.Exec(context.Background(), `INSERT INTO tenants (id, name, slug) VALUES ($1, 'T', $2)`, id, "t-"+id[len(id)-16:])
	require.NoError(t, err)
	return id
}

// expire backdates a record so it is past its retention.
func (b *testBundle) expire(t *testing.T, sc idempotency.Scope, key string) {
	t.Helper()
	ctx := context.Background()
	var n int64
	if sc.TenantID == "" {
		tag, err := b.db.App.Exec(ctx, `UPDATE platform_idempotency_keys SET expires_at = now() - interval '1 second' WHERE credential_id = $1 AND key = $2`, sc.CredentialID, key)
		require.NoError(t, err)
		n = tag.RowsAffected()
	} else {
		require.NoError(t, pg.InTenantTx(ctx, b.db.App, sc.TenantID, func(tx pg.TenantTx) error {
			tag, err := tx.Exec(ctx, `UPDATE idempotency_keys SET expires_at = now() - interval '1 second' WHERE tenant_id = $1 AND credential_id = $2 AND key = $3`,
				tx.TenantID, sc.CredentialID, key)
			n = tag.RowsAffected()
			return err
		}))
	}
	require.EqualValues(t, 1, n)
}

func TestStore(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	b := setup(t)
	other := newTenant(t, b.db)

	scopes := map[string]func() idempotency.Scope{
		"Tenant": func() idempotency.Scope {
			return idempotency.Scope{TenantID: b.tenant, CredentialID: tenants.NewID(tenants.PrefixAPIKey)}
		},
		"Platform": func() idempotency.Scope { return idempotency.Scope{CredentialID: "operator-" + tenants.NewID("cred")} },
	}
	for name, newScope := range scopes {
		t.Run(name, func(t *testing.T) {
			t.Parallel()

			t.Run("BeginClaimsThenReportsInProgress", func(t *testing.T) {
				t.Parallel()
				sc := newScope()
				r, err := b.store.Begin(ctx, sc, "k1", "hash-1", "POST", "/v1/things")
				require.NoError(t, err)
				require.Nil(t, r, "the first caller owns the key")
				r, err = b.store.Begin(ctx, sc, "k1", "hash-2", "POST", "/v1/things")
				require.NoError(t, err)
				require.Equal(t, &idempotency.Record{RequestHash: "hash-1", Method: "POST", Path: "/v1/things"}, r,
					"a duplicate sees the first request's claim, not its own")
			})

			t.Run("CompleteIsReplayed", func(t *testing.T) {
				t.Parallel()
				sc := newScope()
				r, err := b.store.Begin(ctx, sc, "k1", "h", "POST", "/v1/things")
				require.NoError(t, err)
				require.Nil(t, r)
				headers := map[string][]string{"Content-Type": {"application/json"}, "Location": {"/v1/things/1"}}
				require.NoError(t, b.store.Complete(ctx, sc, "k1", 201, headers, []byte(`{"id":1}`)))
				r, err = b.store.Begin(ctx, sc, "k1", "h", "POST", "/v1/things")
				require.NoError(t, err)
				require.Equal(t, &idempotency.Record{RequestHash: "h", Method: "POST", Path: "/v1/things", Completed: true,
					Status: 201, Headers: headers, Body: []byte(`{"id":1}`)}, r)

				require.Error(t, b.store.Complete(ctx, sc, "k1", 500, nil, nil), "a completed key is not completed again")
				require.NoError(t, b.store.Release(ctx, sc, "k1"), "releasing a completed key does nothing")
				r, err = b.store.Begin(ctx, sc, "k1", "h", "POST", "/v1/things")
				require.NoError(t, err)
				require.True(t, r.Completed)
				require.Equal(t, 201, r.Status)
			})

			t.Run("ReleaseLetsTheRetryRun", func(t *testing.T) {
				t.Parallel()
				sc := newScope()
				_, err := b.store.Begin(ctx, sc, "k1", "h", "POST", "/v1/things")
				require.NoError(t, err)
				require.NoError(t, b.store.Release(ctx, sc, "k1"))
				r, err := b.store.Begin(ctx, sc, "k1", "h", "POST", "/v1/things")
				require.NoError(t, err)
				require.Nil(t, r)
			})

			t.Run("CompleteWithoutClaimFails", func(t *testing.T) {
				t.Parallel()
				require.Error(t, b.store.Complete(ctx, newScope(), "never-begun", 200, nil, nil))
			})

			t.Run("KeysAreScopedToTheCredential", func(t *testing.T) {
				t.Parallel()
				sc1, sc2 := newScope(), newScope()
				_, err := b.store.Begin(ctx, sc1, "shared", "h1", "POST", "/v1/things")
				require.NoError(t, err)
				r, err := b.store.Begin(ctx, sc2, "shared", "h2", "POST", "/v1/things")
				require.NoError(t, err)
				require.Nil(t, r)
			})

			t.Run("ExpiredRecordIsReclaimed", func(t *testing.T) {
				t.Parallel()
				sc := newScope()
				_, err := b.store.Begin(ctx, sc, "k1", "old", "POST", "/v1/things")
				require.NoError(t, err)
				require.NoError(t, b.store.Complete(ctx, sc, "k1", 200, nil, []byte("old")))
				b.expire(t, sc, "k1")
				r, err := b.store.Begin(ctx, sc, "k1", "new", "POST", "/v1/things")
				require.NoError(t, err)
				require.Nil(t, r, "an expired record is neither replayed nor a conflict")
			})

			t.Run("ConcurrentBeginHasOneWinner", func(t *testing.T) {
				t.Parallel()
				sc := newScope()
				const n = 8
				var wg sync.WaitGroup
				results := make([]*idempotency.Record, n)
				errs := make([]error, n)
				for i := range n {
					wg.Go(func() {
						results[i], errs[i] = b.store.Begin(ctx, sc, "race", "h", "POST", "/v1/things")
					})
				}
				wg.Wait()
				winners := 0
				for i := range n {
					require.NoError(t, errs[i])
					if results[i] == nil {
						winners++
					} else {
						require.False(t, results[i].Completed)
					}
				}
				require.Equal(t, 1, winners)
			})
		})
	}

	t.Run("TenantsDoNotShareKeys", func(t *testing.T) {
		t.Parallel()
		cred := tenants.NewID(tenants.PrefixAPIKey)
		r, err := b.store.Begin(ctx, idempotency.Scope{TenantID: b.tenant, CredentialID: cred}, "k", "h", "POST", "/v1/x")
		require.NoError(t, err)
		require.Nil(t, r)
		r, err = b.store.Begin(ctx, idempotency.Scope{TenantID: other, CredentialID: cred}, "k", "h", "POST", "/v1/x")
		require.NoError(t, err)
		require.Nil(t, r)
		r, err = b.store.Begin(ctx, idempotency.Scope{CredentialID: cred}, "k", "h", "POST", "/v1/x")
		require.NoError(t, err)
		require.Nil(t, r, "the platform's records are apart from every tenant's")
	})
}

func TestDeleteExpired(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	b := setup(t)
	other := newTenant(t, b.db)

	type rec struct {
		sc      idempotency.Scope
		key     string
		expired bool
	}
	recs := []rec{
		{idempotency.Scope{TenantID: b.tenant, CredentialID: "c1"}, "old-1", true},
		{idempotency.Scope{TenantID: b.tenant, CredentialID: "c1"}, "old-2", true},
		{idempotency.Scope{TenantID: b.tenant, CredentialID: "c1"}, "fresh", false},
		{idempotency.Scope{TenantID: other, CredentialID: "c2"}, "old", true},
		{idempotency.Scope{CredentialID: "operator"}, "old", true},
		{idempotency.Scope{CredentialID: "operator"}, "fresh", false},
	}
	for _, r := range recs {
		_, err := b.store.Begin(ctx, r.sc, r.key, "h", "POST", "/v1/x")
		require.NoError(t, err)
		if r.expired {
			b.expire(t, r.sc, r.key)
		}
	}
	remaining := func() []string {
		var keys []string
		for _, ten := range []string{b.tenant, other} {
			require.NoError(t, pg.InTenantTx(ctx, b.db.App, ten, func(tx pg.TenantTx) error {
				rows, err := tx.Query(ctx, `SELECT credential_id || '/' || key FROM idempotency_keys WHERE tenant_id = $1 ORDER BY 1`, tx.TenantID)
				if err != nil {
					return err
				}
				k, err := pgx.CollectRows(rows, pgx.RowTo[string])
				keys = append(keys, k...)
				return err
			}))
		}
		rows, err := b.db.App.Query(ctx, `SELECT 'platform:' || credential_id || '/' || key FROM platform_idempotency_keys ORDER BY 1`)
		require.NoError(t, err)
		k, err := pgx.CollectRows(rows, pgx.RowTo[string])
		require.NoError(t, err)
		return append(keys, k...)
	}

	n, err := b.store.DeleteExpired(ctx, b.tenant)
	require.NoError(t, err)
	require.EqualValues(t, 2, n)
	require.Equal(t, []string{"c1/fresh", "c2/old", "platform:operator/fresh", "platform:operator/old"}, remaining(),
		"only that tenant's expired records go")

	n, err = b.store.DeleteExpired(ctx, "")
	require.NoError(t, err)
	require.EqualValues(t, 1, n)
	require.Equal(t, []string{"c1/fresh", "c2/old", "platform:operator/fresh"}, remaining())

	n, err = b.store.DeleteExpired(ctx, other)
	require.NoError(t, err)
	require.EqualValues(t, 1, n)
	n, err = b.store.DeleteExpired(ctx, other)
	require.NoError(t, err)
	require.Zero(t, n, "sweeping again deletes nothing")
	require.Equal(t, []string{"c1/fresh", "platform:operator/fresh"}, remaining())
}
