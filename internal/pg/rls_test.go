package pg_test

import (
	"context"
	"errors"
	"fmt"
	"net"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgerrcode"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/stretchr/testify/require"

	"github.com/servicenet/servicenet/internal/pg"
	"github.com/servicenet/servicenet/internal/pgtest"
	"github.com/servicenet/servicenet/tenants"
)

// rlsBundle is two tenants, each with one API key and one event, inserted in
// a transaction that the test rolls back.
type rlsBundle struct {
	tx         pgx.Tx
	a, b       string // tenant IDs
	keyA, keyB string
}

func setupRLS(t *testing.T) *rlsBundle {
	t.Helper()
	ctx := context.Background()
	tx := pgtest.Tx(t)
	bundle := &rlsBundle{tx: tx, a: tenants.NewID(tenants.PrefixTenant), b: tenants.NewID(tenants.PrefixTenant)}
	bundle.keyA, bundle.keyB = tenants.NewID(tenants.PrefixAPIKey), tenants.NewID(tenants.PrefixAPIKey)
	for _, ten := range []struct{ id, key string }{{bundle.a, bundle.keyA}, {bundle.b, bundle.keyB}} {
		_, err := tx.Exec(ctx, `INSERT INTO tenants (id, name, slug) VALUES ($1, $1, $2)`, ten.id, "t-"+ten.id[len(ten.id)-12:])
		require.NoError(t, err)
		setTenant(t, tx, ten.id)
		insertKey(t, tx, ten.id, ten.key)
		insertEvent(t, tx, ten.id)
	}
	setTenant(t, tx, "")
	return bundle
}

func setTenant(t *testing.T, tx pgx.Tx, tenantID string) {
	t.Helper()
	require.NoError(t, pg.SetTenant(context.Background(), tx, tenantID))
}

func insertKey(t *testing.T, q pg.Querier, tenantID, keyID string) {
	t.Helper()
	require.NoError(t, tryInsertKey(q, tenantID, keyID))
}

func tryInsertKey(q pg.Querier, tenantID, keyID string) error {
	_, err := q.Exec(context.Background(), `
		INSERT INTO api_keys (tenant_id, id, name, prefix, secret_hash, live, roles, created_by)
		VALUES ($1, $2, 'k', 'sn_live_abcdef', repeat('0', 64), true, '{tenant_admin}', 'test')`, tenantID, keyID)
	return err
}

func insertEvent(t *testing.T, q pg.Querier, tenantID string) {
	t.Helper()
	require.NoError(t, tryInsertEvent(q, tenantID))
}

func tryInsertEvent(q pg.Querier, tenantID string) error {
	_, err := q.Exec(context.Background(), `INSERT INTO events (tenant_id, id, type, subject_id, actor) VALUES ($1, $2, 'test.happened', 'x', 'test')`,
		tenantID, tenants.NewID(tenants.PrefixEvent))
	return err
}

// savepoint runs fn in a savepoint of tx and rolls it back, so a statement
// that fails does not abort the test's transaction. It returns fn's error.
func savepoint(t *testing.T, tx pgx.Tx, fn func(tx pgx.Tx) error) error {
	t.Helper()
	ctx := context.Background()
	sp, err := tx.Begin(ctx)
	require.NoError(t, err)
	defer sp.Rollback(ctx) //nolint:errcheck
	return fn(sp)
}

func count(t *testing.T, q pg.Querier, table string) int {
	t.Helper()
	var n int
	require.NoError(t, q.QueryRow(context.Background(), `SELECT count(*) FROM `+table).Scan(&n))
	return n
}

func requirePgCode(t *testing.T, err error, code string) {
	t.Helper()
	var pgErr *pgconn.PgError
	require.True(t, errors.As(err, &pgErr), "want PostgreSQL error %s, got %v", code, err)
	require.Equal(t, code, pgErr.Code, "%s", pgErr.Message)
}

func TestRLS(t *testing.T) {
	t.Parallel()
	ctx := context.Background()

	t.Run("NoTenantSeesNothing", func(t *testing.T) {
		t.Parallel()
		b := setupRLS(t)
		for _, table := range []string{"api_keys", "events", "idempotency_keys", "nodes"} {
			require.Zero(t, count(t, b.tx, table), table)
		}
		// Sanity: the rows are there for their tenant.
		setTenant(t, b.tx, b.a)
		require.Equal(t, 1, count(t, b.tx, "api_keys"))
		require.Equal(t, 1, count(t, b.tx, "events"))
	})

	t.Run("NoTenantCannotWrite", func(t *testing.T) {
		t.Parallel()
		b := setupRLS(t)
		err := savepoint(t, b.tx, func(tx pgx.Tx) error { return tryInsertKey(tx, b.a, tenants.NewID(tenants.PrefixAPIKey)) })
		requirePgCode(t, err, pgerrcode.InsufficientPrivilege)
		err = savepoint(t, b.tx, func(tx pgx.Tx) error { return tryInsertEvent(tx, b.a) })
		requirePgCode(t, err, pgerrcode.InsufficientPrivilege)
		tag, err := b.tx.Exec(ctx, `UPDATE api_keys SET name = 'hijacked'`)
		require.NoError(t, err)
		require.Zero(t, tag.RowsAffected())
	})

	t.Run("FreshSessionFailsClosed", func(t *testing.T) {
		// A connection that never set app.tenant_id (current_setting is
		// NULL, not '') sees nothing either.
		t.Parallel()
		db := pgtest.NewDB(t)
		a := tenants.NewID(tenants.PrefixTenant)
		require.NoError(t, pg.InTenantTx(ctx, db.App, a, func(tx pg.TenantTx) error {
			if _, err := tx.Exec(ctx, `INSERT INTO tenants (id, name, slug) VALUES ($1, 'A', 'fresh-a')`, a); err != nil {
				return err
			}
			insertKey(t, tx, a, tenants.NewID(tenants.PrefixAPIKey))
			insertEvent(t, tx, a)
			return nil
		}))
		conn, err := db.App.Acquire(ctx)
		require.NoError(t, err)
		defer conn.Release()
		var setting *string
		require.NoError(t, conn.QueryRow(ctx, `SELECT current_setting('app.tenant_id', true)`).Scan(&setting))
		require.True(t, setting == nil || *setting == "", "the pool hands out connections without a tenant")
		require.Zero(t, count(t, conn, "api_keys"))
		require.Zero(t, count(t, conn, "events"))
		requirePgCode(t, tryInsertEvent(conn, a), pgerrcode.InsufficientPrivilege)
		// The setting is transaction-local: it does not survive InTenantTx.
		require.NoError(t, pg.InTenantTx(ctx, db.App, a, func(pg.TenantTx) error { return nil }))
		require.Zero(t, count(t, db.App, "events"))
	})

	t.Run("OtherTenantsRowsAreInvisible", func(t *testing.T) {
		t.Parallel()
		b := setupRLS(t)
		setTenant(t, b.tx, b.a)
		var ids []string
		rows, err := b.tx.Query(ctx, `SELECT id FROM api_keys`)
		require.NoError(t, err)
		ids, err = pgx.CollectRows(rows, pgx.RowTo[string])
		require.NoError(t, err)
		require.Equal(t, []string{b.keyA}, ids)
		// Naming B's rows explicitly finds nothing, and changes nothing.
		var n int
		require.NoError(t, b.tx.QueryRow(ctx, `SELECT count(*) FROM api_keys WHERE tenant_id = $1`, b.b).Scan(&n))
		require.Zero(t, n)
		require.NoError(t, b.tx.QueryRow(ctx, `SELECT count(*) FROM events WHERE tenant_id = $1`, b.b).Scan(&n))
		require.Zero(t, n)
		tag, err := b.tx.Exec(ctx, `UPDATE api_keys SET revoked_at = now() WHERE id = $1`, b.keyB)
		require.NoError(t, err)
		require.Zero(t, tag.RowsAffected())
	})

	t.Run("WritingForAnotherTenantIsRefused", func(t *testing.T) {
		t.Parallel()
		b := setupRLS(t)
		setTenant(t, b.tx, b.a)
		err := savepoint(t, b.tx, func(tx pgx.Tx) error { return tryInsertKey(tx, b.b, tenants.NewID(tenants.PrefixAPIKey)) })
		requirePgCode(t, err, pgerrcode.InsufficientPrivilege)
		require.Equal(t, tenants.CodeNotFound, tenants.ErrorCode(pg.Translate(err)))
		err = savepoint(t, b.tx, func(tx pgx.Tx) error { return tryInsertEvent(tx, b.b) })
		requirePgCode(t, err, pgerrcode.InsufficientPrivilege)
		// Moving an own row into another tenant is refused by WITH CHECK.
		err = savepoint(t, b.tx, func(tx pgx.Tx) error {
			_, err := tx.Exec(ctx, `UPDATE api_keys SET tenant_id = $1 WHERE id = $2`, b.b, b.keyA)
			return err
		})
		requirePgCode(t, err, pgerrcode.InsufficientPrivilege)
	})

	t.Run("EventsAreAppendOnly", func(t *testing.T) {
		t.Parallel()
		b := setupRLS(t)
		setTenant(t, b.tx, b.a)
		for _, stmt := range []string{`UPDATE events SET actor = 'someone else'`, `DELETE FROM events`, `TRUNCATE events`} {
			err := savepoint(t, b.tx, func(tx pgx.Tx) error { _, err := tx.Exec(ctx, stmt); return err })
			requirePgCode(t, err, pgerrcode.InsufficientPrivilege)
		}
		require.Equal(t, 1, count(t, b.tx, "events"))
	})

	t.Run("APIKeysAreNeverDeleted", func(t *testing.T) {
		t.Parallel()
		b := setupRLS(t)
		setTenant(t, b.tx, b.a)
		err := savepoint(t, b.tx, func(tx pgx.Tx) error { _, err := tx.Exec(ctx, `DELETE FROM api_keys`); return err })
		requirePgCode(t, err, pgerrcode.InsufficientPrivilege)
	})

	t.Run("KeyLookupSeesOnlyThePresentedHash", func(t *testing.T) {
		t.Parallel()
		b := setupRLS(t)
		// Both keys share the test hash (000…); a transaction presenting
		// another hash sees neither.
		_, err := b.tx.Exec(ctx, `SELECT set_config('app.api_key_hash', repeat('1', 64), true)`)
		require.NoError(t, err)
		require.Zero(t, count(t, b.tx, "api_keys"))
		_, err = b.tx.Exec(ctx, `SELECT set_config('app.api_key_hash', repeat('0', 64), true)`)
		require.NoError(t, err)
		require.Equal(t, 2, count(t, b.tx, "api_keys"))
		// The lookup policy is SELECT only: it grants no writes.
		tag, err := b.tx.Exec(ctx, `UPDATE api_keys SET name = 'x'`)
		require.NoError(t, err)
		require.Zero(t, tag.RowsAffected())
	})

	t.Run("FilterBugIsCaughtByRLS", func(t *testing.T) {
		// An application predicate pointed at the wrong tenant still reads
		// only the transaction's own tenant.
		t.Parallel()
		db := pgtest.NewDB(t)
		a, b := tenants.NewID(tenants.PrefixTenant), tenants.NewID(tenants.PrefixTenant)
		for i, id := range []string{a, b} {
			require.NoError(t, pg.InTenantTx(ctx, db.App, id, func(tx pg.TenantTx) error {
				if _, err := tx.Exec(ctx, `INSERT INTO tenants (id, name, slug) VALUES ($1, 'T', $2)`, id, fmt.Sprintf("filter-%d", i)); err != nil {
					return err
				}
				return tryInsertEvent(tx, id)
			}))
		}
		restore := pg.OverrideTenantFilterForTest(a, b)
		defer restore()
		require.NoError(t, pg.InTenantTx(ctx, db.App, a, func(tx pg.TenantTx) error {
			require.Equal(t, b, tx.TenantID)
			var n int
			require.NoError(t, tx.QueryRow(ctx, `SELECT count(*) FROM events WHERE tenant_id = $1`, tx.TenantID).Scan(&n))
			require.Zero(t, n)
			return nil
		}))
	})
}

func TestTranslate(t *testing.T) {
	t.Parallel()
	ctx := context.Background()

	t.Run("SyntheticCodes", func(t *testing.T) {
		t.Parallel()
		cases := []struct {
			code string
			want tenants.Code
		}{
			{pgerrcode.UniqueViolation, tenants.CodeConflict},
			{pgerrcode.ExclusionViolation, tenants.CodeConflict},
			{pgerrcode.ForeignKeyViolation, tenants.CodeInvalid},
			{pgerrcode.CheckViolation, tenants.CodeInvalid},
			{pgerrcode.NotNullViolation, tenants.CodeInvalid},
			{pgerrcode.InvalidTextRepresentation, tenants.CodeInvalid},
			{pgerrcode.NumericValueOutOfRange, tenants.CodeInvalid},
			{pgerrcode.StringDataRightTruncationDataException, tenants.CodeInvalid},
			{pgerrcode.InvalidDatetimeFormat, tenants.CodeInvalid},
			{pgerrcode.DatetimeFieldOverflow, tenants.CodeInvalid},
			{pgerrcode.InsufficientPrivilege, tenants.CodeNotFound},
			{pgerrcode.QueryCanceled, tenants.CodeDatabaseUnavailable},
			{pgerrcode.LockNotAvailable, tenants.CodeUnavailable},
			{pgerrcode.TooManyConnections, tenants.CodeDatabaseUnavailable},
			{pgerrcode.AdminShutdown, tenants.CodeDatabaseUnavailable},
			{pgerrcode.CrashShutdown, tenants.CodeDatabaseUnavailable},
			{pgerrcode.CannotConnectNow, tenants.CodeDatabaseUnavailable},
			{pgerrcode.ConnectionFailure, tenants.CodeDatabaseUnavailable},
			{pgerrcode.SerializationFailure, tenants.CodeConflict},
			{pgerrcode.DeadlockDetected, tenants.CodeConflict},
		}
		for _, c := range cases {
			err := fmt.Errorf("wrapped: %w", &pgconn.PgError{Code: c.code, Message: "secret detail"})
			got := pg.Translate(err)
			require.Equal(t, c.want, tenants.ErrorCode(got), c.code)
			require.NotContains(t, got.Error(), "secret detail", "driver text never reaches the client")
		}
	})

	t.Run("PassesOtherErrorsThrough", func(t *testing.T) {
		t.Parallel()
		require.NoError(t, pg.Translate(nil))
		other := errors.New("boom")
		require.Same(t, other, pg.Translate(other))
		internal := &pgconn.PgError{Code: pgerrcode.DiskFull}
		require.Same(t, internal, pg.Translate(internal))
		own := tenants.Invalid("body.x", "bad", 1)
		require.Same(t, own, pg.Translate(own))
		require.Equal(t, tenants.CodeNotFound, tenants.ErrorCode(pg.Translate(fmt.Errorf("get: %w", pgx.ErrNoRows))))
		require.Equal(t, tenants.CodeDatabaseUnavailable, tenants.ErrorCode(pg.Translate(context.DeadlineExceeded)))
		require.Equal(t, tenants.CodeDatabaseUnavailable, tenants.ErrorCode(pg.Translate(fmt.Errorf("acquire: %w", syscall.ECONNREFUSED))))
		require.Equal(t, tenants.CodeDatabaseUnavailable, tenants.ErrorCode(pg.Translate(pgconn.ErrConnClosed)))
		canceled := fmt.Errorf("query: %w", context.Canceled)
		require.Same(t, canceled, pg.Translate(canceled), "a client that went away is not an outage")
	})

	t.Run("ConnectionRefused", func(t *testing.T) {
		t.Parallel()
		// A port nothing listens on: what a stopped server looks like.
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		require.NoError(t, err)
		addr := ln.Addr().String()
		require.NoError(t, ln.Close())
		conn, err := pgx.Connect(ctx, "postgres://nobody:hunter2@"+addr+"/nowhere?sslmode=disable")
		if conn != nil {
			_ = conn.Close(ctx)
		}
		require.Error(t, err)
		require.True(t, pg.Unavailable(err), "%v", err)
		got := pg.Translate(err)
		require.Equal(t, tenants.CodeDatabaseUnavailable, tenants.ErrorCode(got))
		require.NotContains(t, got.Error(), "hunter2")
		require.NotContains(t, got.Error(), addr, "the address is for the log, not the client")
	})

	t.Run("RealViolations", func(t *testing.T) {
		t.Parallel()
		b := setupRLS(t)
		try := func(sql string, args ...any) error {
			return savepoint(t, b.tx, func(tx pgx.Tx) error { _, err := tx.Exec(ctx, sql, args...); return err })
		}
		var slug string
		require.NoError(t, b.tx.QueryRow(ctx, `SELECT slug FROM tenants WHERE id = $1`, b.a).Scan(&slug))

		err := pg.Translate(try(`INSERT INTO tenants (id, name, slug) VALUES ($1, 'dup', $2)`, tenants.NewID(tenants.PrefixTenant), slug))
		require.Equal(t, tenants.CodeConflict, tenants.ErrorCode(err))
		var te *tenants.Error
		require.ErrorAs(t, err, &te)
		require.Equal(t, "tenants_slug_key", te.Constraint, "the violated constraint is named, for the API to name its field")
		require.Empty(t, te.Fields)

		setTenant(t, b.tx, b.a)
		err = pg.Translate(try(`INSERT INTO api_keys (tenant_id, id, name, prefix, secret_hash, live, roles, created_by)
			VALUES ($1, $2, 'k', 'p', repeat('0', 64), true, '{tenant_admin}', 'test')`, b.a, b.keyA))
		require.Equal(t, tenants.CodeConflict, tenants.ErrorCode(err), "duplicate primary key")
		require.ErrorAs(t, err, &te)
		require.Empty(t, te.Fields, "a unique violation names no field")

		err = pg.Translate(try(`INSERT INTO tenants (id, name, slug) VALUES ($1, 'x', 'Not A Slug')`, tenants.NewID(tenants.PrefixTenant)))
		require.Equal(t, tenants.CodeInvalid, tenants.ErrorCode(err), "check violation")

		err = pg.Translate(try(`INSERT INTO tenants (id, name, slug) VALUES ($1, NULL, 'nameless')`, tenants.NewID(tenants.PrefixTenant)))
		require.Equal(t, tenants.CodeInvalid, tenants.ErrorCode(err), "not null violation")

		err = pg.Translate(try(`SELECT $1::int`, "twelve"))
		require.Equal(t, tenants.CodeInvalid, tenants.ErrorCode(err), "malformed value")

		// A tenant that does not exist: RLS admits the row, the foreign key
		// to tenants refuses it (api_keys keeps it; the tables every
		// intake writes dropped theirs, migration 034).
		ghost := tenants.NewID(tenants.PrefixTenant)
		setTenant(t, b.tx, ghost)
		err = pg.Translate(try(`INSERT INTO api_keys (tenant_id, id, name, prefix, secret_hash, live, roles, created_by)
			VALUES ($1, $2, 'k', 'p', repeat('0', 64), true, '{tenant_admin}', 'test')`, ghost, tenants.NewID(tenants.PrefixAPIKey)))
		require.Equal(t, tenants.CodeInvalid, tenants.ErrorCode(err), "foreign key violation")

		err = pg.Translate(try(`SET LOCAL statement_timeout = '20ms'; SELECT pg_sleep(1)`))
		require.Equal(t, tenants.CodeDatabaseUnavailable, tenants.ErrorCode(err), "statement timeout")

		err = pg.Translate(b.tx.QueryRow(ctx, `SELECT id FROM tenants WHERE id = 'nope'`).Scan(new(string)))
		require.Equal(t, tenants.CodeNotFound, tenants.ErrorCode(err))
	})

	t.Run("ContextDeadline", func(t *testing.T) {
		t.Parallel()
		db := pgtest.NewDB(t)
		dctx, cancel := context.WithTimeout(ctx, 30*time.Millisecond)
		defer cancel()
		_, err := db.App.Exec(dctx, `SELECT pg_sleep(2)`)
		require.Error(t, err)
		require.Equal(t, tenants.CodeDatabaseUnavailable, tenants.ErrorCode(pg.Translate(err)), "%v", err)
		require.True(t, pgconn.Timeout(err), "pgx closes the connection on a query's deadline: %v", err)

		// The server's pool carries its timeouts as session defaults, and a
		// SET LOCAL ... = DEFAULT (the idempotency claim) returns to them.
		pool, err := pg.Connect(ctx, db.AppURL, pg.PoolOptions{Name: "timeouts", MaxConns: 1,
			StatementTimeout: 1500 * time.Millisecond, LockTimeout: 250 * time.Millisecond})
		require.NoError(t, err)
		defer pool.Close()
		var st, lt string
		require.NoError(t, pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error {
			if _, err := tx.Exec(ctx, `SET LOCAL lock_timeout = '3s'`); err != nil {
				return err
			}
			if _, err := tx.Exec(ctx, `SET LOCAL lock_timeout = DEFAULT`); err != nil {
				return err
			}
			return tx.QueryRow(ctx, `SELECT current_setting('statement_timeout'), current_setting('lock_timeout')`).Scan(&st, &lt)
		}))
		require.Equal(t, "1500ms", st)
		require.Equal(t, "250ms", lt)
		_, err = pool.Exec(ctx, `SELECT pg_sleep(3)`)
		require.Equal(t, tenants.CodeDatabaseUnavailable, tenants.ErrorCode(pg.Translate(err)), "%v", err)
	})
}
