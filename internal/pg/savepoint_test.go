package pg_test

import (
	"context"
	"errors"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"

	"github.com/servicenet/servicenet/internal/pg"
	"github.com/servicenet/servicenet/internal/pgtest"
)

// On a transaction (a test's pg.DB), InTenantTx and InTx run in savepoints,
// each scoped afresh: tenant, mode and actor do not leak from one to the
// next, and a failing fn rolls back its savepoint only.
func TestInTenantTxOnATransactionUsesSavepoints(t *testing.T) {
	ctx := pg.WithActor(pg.WithLivemode(context.Background(), true), pg.Actor{Key: "key_test"})
	tx := pgtest.Tx(t)
	tenant := "ten_0000000000000000000000000a"
	require.NoError(t, pg.InTenantTx(ctx, tx, tenant, func(tx pg.TenantTx) error {
		_, err := tx.Exec(ctx, `INSERT INTO tenants (id, name, slug) VALUES ($1, 'Savepoints', 'savepoints-test')`, tenant)
		return err
	}))
	boom := errors.New("boom")
	err := pg.InTenantTx(ctx, tx, tenant, func(tx pg.TenantTx) error {
		if _, err := tx.Exec(ctx, `UPDATE tenants SET name = 'Changed' WHERE id = $1`, tenant); err != nil {
			return err
		}
		return boom
	})
	require.ErrorIs(t, err, boom)
	var name, scope, actor string
	require.NoError(t, pg.InTx(context.Background(), tx, func(tx pgx.Tx) error {
		return tx.QueryRow(ctx, `SELECT name, coalesce(app_current_tenant(), ''), current_setting('app.actor', true) FROM tenants WHERE id = $1`,
			tenant).Scan(&name, &scope, &actor)
	}))
	require.Equal(t, "Savepoints", name, "the failed savepoint is rolled back, the first one kept")
	require.Empty(t, scope, "InTx runs without a tenant")
	require.Empty(t, actor, "nor the previous savepoint's actor")
}
