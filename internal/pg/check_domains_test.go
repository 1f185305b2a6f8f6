package pg_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/jackc/pgerrcode"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/stretchr/testify/require"

	"github.com/servicenet/servicenet/internal/pg"
	"github.com/servicenet/servicenet/internal/pgtest"
)

// TestCheckDomains checks migration 052's domains (the single-column CHECKs
// on text columns of the hot tables, moved to a domain per column): each is
// the type of the one column it is named after, each of its constraints
// names VALUE and keeps its table constraint's name, and a value a rule
// refuses is still a check_violation naming that constraint, through the
// application role.
func TestCheckDomains(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := pgtest.NewDB(t)

	rows, err := db.Owner.Query(ctx, `
		SELECT t.typname::text, c.conname::text, pg_get_constraintdef(c.oid),
		       (SELECT array_agg(a.attrelid::regclass::text || '.' || a.attname ORDER BY 1) FROM pg_attribute a
		         WHERE a.atttypid = t.oid AND NOT a.attisdropped AND a.attrelid IN (SELECT oid FROM pg_class WHERE relkind = 'r'))
		FROM pg_type t JOIN pg_constraint c ON c.contypid = t.oid
		WHERE t.typtype = 'd' AND t.typnamespace = 'public'::regnamespace ORDER BY 1, 2`)
	require.NoError(t, err)
	type domainCheck struct {
		domain, constraint, def string
		columns                 []string
	}
	checks, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (domainCheck, error) {
		var d domainCheck
		err := r.Scan(&d.domain, &d.constraint, &d.def, &d.columns)
		return d, err
	})
	require.NoError(t, err)
	require.GreaterOrEqual(t, len(checks), 30, "the hot tables' single-column checks on text")
	for _, c := range checks {
		require.Len(t, c.columns, 1, "%s: the type of one column", c.domain)
		require.Equal(t, strings.Replace(c.columns[0], ".", "_", 1), c.domain)
		require.Regexp(t, `^`+c.domain+`_[a-z_]*check$`, c.constraint)
		require.Contains(t, c.def, "VALUE", "%s", c.constraint)
		require.NotContains(t, c.def, "'VALUE", "%s: a literal was rewritten", c.constraint)
	}

	// A refused value through the application, as a service would send it.
	err = pg.InTenantTx(ctx, db.App, "ten_domains", func(tx pg.TenantTx) error {
		_, err := tx.Exec(ctx, `INSERT INTO idempotency_keys (tenant_id, credential_id, key, request_hash, method, path, state, expires_at)
			VALUES ($1, 'key_x', 'k', 'h', 'POST', '/v1/x', $2, now())`, tx.TenantID, "forgotten")
		return err
	})
	var pgErr *pgconn.PgError
	require.True(t, errors.As(err, &pgErr), "%v", err)
	require.Equal(t, pgerrcode.CheckViolation, pgErr.Code)
	require.Equal(t, "idempotency_keys_state_check", pgErr.ConstraintName)
}
