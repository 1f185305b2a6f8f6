package idempotency_test

import (
	"context"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
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

// request is an idempotent request of sc with key and hash.
func request(sc idempotency.Scope, key, hash string) idempotency.Request {
	return idempotency.Request{Scope: sc, Key: key, RequestHash: hash, Method: "POST", Path: "/v1/things"}
}

// run is one request as the API runs it: a unit whose first statements claim
// the key and, when commit is set and the key was free, whose last store the
// response before COMMIT (disclosing the personal data of an object named
// by the key). It returns the claim's outcome.
func (b *testBundle) run(t *testing.T, r idempotency.Request, status int, body string, commit bool) *idempotency.Claim {
	t.Helper()
	ctx := context.Background()
	u := pg.NewUnit(b.db.App, r.TenantID)
	defer u.Rollback()
	first := &pgx.Batch{}
	claim := idempotency.QueueClaim(first, r, u.SessionLockTimeout())
	err := u.Begin(ctx, first)
	if claim.Existing != nil {
		require.True(t, idempotency.IsUsed(err), "%v", err)
		return claim
	}
	require.NoError(t, err)
	require.True(t, claim.Checked)
	if !commit {
		return claim
	}
	last := &pgx.Batch{}
	require.NoError(t, idempotency.QueueResponse(last, r, status, map[string][]string{"Location": {"/v1/things/1"}}, []byte(body),
		&idempotency.Disclosed{Operation: "createThing", Objects: []string{"thing_" + r.Key}}))
	require.NoError(t, u.Commit(ctx, last))
	return claim
}

func TestClaim(t *testing.T) {
	t.Parallel()
	b := setup(t)
	other := newTenant(t, b.db)
	scopes := map[string]func() idempotency.Scope{
		"Tenant": func() idempotency.Scope {
			return idempotency.Scope{TenantID: b.tenant, CredentialID: tenants.NewID(tenants.PrefixAPIKey)}
		},
		"Platform": func() idempotency.Scope { return idempotency.Scope{CredentialID: "operator-" + tenants.NewID("cred")} },
	}
	for name, scope := range scopes {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			t.Run("FirstClaimHoldsTheKeyThenReplays", func(t *testing.T) {
				sc := scope()
				require.Nil(t, b.run(t, request(sc, "k", "h1"), http.StatusCreated, `{"id":1}`, true).Existing)
				got := b.run(t, request(sc, "k", "h1"), 0, "", true).Existing
				require.Equal(t, &idempotency.Record{RequestHash: "h1", Method: "POST", Path: "/v1/things", Status: http.StatusCreated,
					Headers: map[string][]string{"Location": {"/v1/things/1"}}, Body: []byte(`{"id":1}`),
					Disclosed: &idempotency.Disclosed{Operation: "createThing", Objects: []string{"thing_k"}}}, got, "the answer, and what it disclosed for the replay's read")
			})
			t.Run("ARolledBackClaimLeavesNothing", func(t *testing.T) {
				// A crash before COMMIT is a rollback: no claim survives it.
				sc := scope()
				require.Nil(t, b.run(t, request(sc, "k", "h1"), 0, "", false).Existing)
				require.Nil(t, b.run(t, request(sc, "k", "h2"), http.StatusOK, `{}`, true).Existing, "the retry runs")
			})
			t.Run("ExpiredRecordIsTakenOver", func(t *testing.T) {
				sc := scope()
				b.run(t, request(sc, "k", "h1"), http.StatusCreated, `{"id":1}`, true)
				b.expire(t, sc, "k")
				require.Nil(t, b.run(t, request(sc, "k", "h2"), http.StatusCreated, `{"id":2}`, true).Existing)
				require.Equal(t, "h2", b.run(t, request(sc, "k", "h2"), 0, "", true).Existing.RequestHash)
			})
			t.Run("StrandedInProgressRecordIsTakenOver", func(t *testing.T) {
				// A claim of the old two-transaction protocol whose request
				// never completed: not live, so the next request runs.
				ctx := context.Background()
				sc := scope()
				b.run(t, request(sc, "old", "h1"), http.StatusCreated, `{"id":1}`, true)
				strand := `UPDATE idempotency_keys SET state = 'in_progress', response_status = NULL, response_body = NULL
					WHERE tenant_id = $1 AND credential_id = $2 AND key = 'old'`
				if sc.TenantID == "" {
					_, err := b.db.App.Exec(ctx, `UPDATE platform_idempotency_keys SET state = 'in_progress', response_status = NULL,
						response_body = NULL WHERE $1::text IS NULL AND credential_id = $2 AND key = 'old'`, nil, sc.CredentialID)
					require.NoError(t, err)
				} else {
					require.NoError(t, pg.InTenantTx(ctx, b.db.App, sc.TenantID, func(tx pg.TenantTx) error {
						_, err := tx.Exec(ctx, strand, tx.TenantID, sc.CredentialID)
						return err
					}))
				}
				require.Nil(t, b.run(t, request(sc, "old", "h2"), http.StatusCreated, `{"id":2}`, true).Existing)
				require.Equal(t, []byte(`{"id":2}`), b.run(t, request(sc, "old", "h2"), 0, "", false).Existing.Body)
			})
			t.Run("StoringOverALiveRecordFailsTheTransaction", func(t *testing.T) {
				// The safety net under the lock: a request whose claim did not
				// see the record (say, one of a version that claims
				// differently) cannot commit a second effect for the key: the
				// record's insert raises (idempotency_key_used, 047).
				ctx := context.Background()
				sc := scope()
				r := request(sc, "net", "h")
				b.run(t, r, http.StatusCreated, `{"id":1}`, true)
				u := pg.NewUnit(b.db.App, r.TenantID)
				defer u.Rollback()
				require.NoError(t, u.Open(ctx, nil))
				last := &pgx.Batch{}
				require.NoError(t, idempotency.QueueResponse(last, r, http.StatusCreated, nil, []byte(`{"id":2}`), nil))
				err := u.Commit(ctx, last)
				require.True(t, idempotency.IsUsed(err), "%v", err)
				var pgErr *pgconn.PgError
				require.ErrorAs(t, err, &pgErr)
				table := map[bool]string{true: "idempotency_keys", false: "platform_idempotency_keys"}[sc.TenantID != ""]
				require.Equal(t, [4]string{"23505", table, table + "_pkey", "idempotency key already used by an earlier request"},
					[4]string{pgErr.Code, pgErr.TableName, pgErr.ConstraintName, pgErr.Message})
				require.Equal(t, []byte(`{"id":1}`), b.run(t, r, 0, "", false).Existing.Body, "the first record stands")
			})
			t.Run("ConcurrentDuplicatesWaitThenReplay", func(t *testing.T) {
				sc := scope()
				const n = 8
				var wg sync.WaitGroup
				claims := make([]*idempotency.Claim, n)
				for i := range n {
					wg.Add(1)
					go func() {
						defer wg.Done()
						claims[i] = b.run(t, request(sc, "burst", "h"), http.StatusCreated, `{"id":7}`, true)
					}()
				}
				wg.Wait()
				held := 0
				for _, c := range claims {
					if c.Existing == nil {
						held++
					} else {
						require.Equal(t, []byte(`{"id":7}`), c.Existing.Body)
					}
				}
				require.Equal(t, 1, held, "exactly one request ran")
			})
			t.Run("AHeldKeyIsBusyAfterClaimWait", func(t *testing.T) {
				sc := scope()
				ctx := context.Background()
				u := pg.NewUnit(b.db.App, sc.TenantID)
				defer u.Rollback()
				first := &pgx.Batch{}
				idempotency.QueueClaim(first, request(sc, "slow", "h"), u.SessionLockTimeout())
				require.NoError(t, u.Begin(ctx, first))

				dup := pg.NewUnit(b.db.App, sc.TenantID)
				defer dup.Rollback()
				second := &pgx.Batch{}
				claim := idempotency.QueueClaim(second, request(sc, "slow", "h"), dup.SessionLockTimeout())
				start := time.Now()
				err := dup.Begin(ctx, second)
				require.True(t, idempotency.IsBusy(err), "%v", err)
				require.True(t, claim.Busy)
				require.GreaterOrEqual(t, time.Since(start), idempotency.ClaimWait)
			})
		})
	}
	t.Run("KeysAreScopedToTenantAndCredential", func(t *testing.T) {
		cred := tenants.NewID(tenants.PrefixAPIKey)
		b.run(t, request(idempotency.Scope{TenantID: b.tenant, CredentialID: cred}, "k", "h"), http.StatusOK, `{}`, true)
		require.Nil(t, b.run(t, request(idempotency.Scope{TenantID: other, CredentialID: cred}, "k", "h"), http.StatusOK, `{}`, true).Existing)
		require.Nil(t, b.run(t, request(idempotency.Scope{CredentialID: cred}, "k", "h"), http.StatusOK, `{}`, true).Existing)
		require.Nil(t, b.run(t, request(idempotency.Scope{TenantID: b.tenant, CredentialID: "other"}, "k", "h"), http.StatusOK, `{}`, true).Existing)
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
		b.run(t, request(r.sc, r.key, "h"), http.StatusCreated, `{}`, true)
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

// TestClaimReadsByPrimaryKey pins the plan of the claim's read of a key's
// record, as a pooled connection caches it (generic), on the table as a new
// database has it: empty, no statistics. The sweep's index also leads with
// tenant_id, and a plan on it walks every record of the tenant for each
// claim (migration 053).
func TestClaimReadsByPrimaryKey(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	b := setup(t)
	batch := &pgx.Batch{}
	idempotency.QueueClaim(batch, request(idempotency.Scope{TenantID: b.tenant, CredentialID: "c1"}, "k", "h"), "")
	var read string
	for _, q := range batch.QueuedQueries {
		if strings.Contains(q.SQL, "FROM idempotency_keys") {
			read = q.SQL
		}
	}
	require.NotEmpty(t, read, "the claim reads the key's record")
	var plan []string
	require.NoError(t, pg.InTenantTx(ctx, b.db.App, b.tenant, func(tx pg.TenantTx) error {
		if _, err := tx.Exec(ctx, `SET LOCAL plan_cache_mode = force_generic_plan`); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `PREPARE claim_read (text, text, text) AS `+read, pgx.QueryExecModeSimpleProtocol); err != nil {
			return err
		}
		defer tx.Exec(ctx, `DEALLOCATE claim_read`) //nolint:errcheck // the transaction's end reports a failure
		rows, err := tx.Query(ctx, `EXPLAIN EXECUTE claim_read ($1, 'c1', 'k')`, pgx.QueryExecModeSimpleProtocol, tx.TenantID)
		if err != nil {
			return err
		}
		plan, err = pgx.CollectRows(rows, pgx.RowTo[string])
		return err
	}))
	require.Contains(t, strings.Join(plan, "\n"), "Index Scan using idempotency_keys_pkey", strings.Join(plan, "\n"))
}
