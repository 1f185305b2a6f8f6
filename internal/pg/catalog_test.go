package pg_test

import (
	"context"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/servicenet/servicenet/internal/pg"
	"github.com/servicenet/servicenet/internal/pgtest"
)

// platformTables are the tables of schema public that have no tenant_id, each
// with the reason it may. A new table without tenant_id fails TestCatalog
// until it is added here, on purpose: un-tenanted tables are not under RLS.
// Tables named river_* (River's own) are platform tables too.
var platformTables = map[string]string{
	"tenants":                   "one row per tenant; the application reads it before any tenant is set",
	"platform_idempotency_keys": "the platform operator's idempotency records",
	"schema_version":            "tern's migration ledger",
	"regions":                   "administrative divisions: reference data shared by every tenant, read-only to the application",
	"api_replicas":              "the API replicas serving on the database, for per-replica shares of rate limits (no tenant data)",
}

// fkTargetsWithoutTenant are the platform tables a tenant table may reference
// without leading with tenant_id: the tenant itself (tenant_id → tenants.id)
// and shared reference data.
var fkTargetsWithoutTenant = map[string]bool{"tenants": true, "regions": true}

// broadeningPolicies are permissive policies on tenant tables whose USING
// clause does not name the tenant. Permissive policies are OR-ed, so each one
// widens what a transaction sees; every one must be reviewed and listed.
var broadeningPolicies = map[string]string{
	"api_keys.api_key_lookup": "authentication reads the one key whose SHA-256 the transaction presents",
}

// tenantRef is how a policy expression names the transaction's tenant.
var tenantRef = regexp.MustCompile(`app_current_tenant\(\)|current_setting\('app\.tenant_id'`)

// catalogReport is what checkCatalog found.
type catalogReport struct {
	TenantTables []string // tables with tenant_id that were examined
	Violations   []string
}

func (r *catalogReport) add(format string, args ...any) {
	r.Violations = append(r.Violations, fmt.Sprintf(format, args...))
}

// checkCatalog checks every table of schema public (tenant isolation, keys,
// policies) and the application role's attributes and ownership. It reads
// only catalogs, so it sees whatever the current transaction sees.
func checkCatalog(ctx context.Context, q pg.Querier, appRole string) (catalogReport, error) {
	var r catalogReport
	type table struct {
		oid                  uint32
		name                 string
		kind                 string
		rls, force, tenanted bool
	}
	rows, err := q.Query(ctx, `
		SELECT c.oid, c.relname, c.relkind::text, c.relrowsecurity, c.relforcerowsecurity,
		       EXISTS (SELECT 1 FROM pg_attribute a WHERE a.attrelid = c.oid AND a.attname = 'tenant_id' AND NOT a.attisdropped)
		FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
		WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p', 'm', 'f')
		ORDER BY c.relname`)
	if err != nil {
		return r, err
	}
	var tables []table
	for rows.Next() {
		var t table
		if err := rows.Scan(&t.oid, &t.name, &t.kind, &t.rls, &t.force, &t.tenanted); err != nil {
			return r, err
		}
		tables = append(tables, t)
	}
	if err := rows.Err(); err != nil {
		return r, err
	}
	tenanted := map[string]bool{}
	for _, t := range tables {
		tenanted[t.name] = t.tenanted
	}

	for _, t := range tables {
		if !t.tenanted {
			if _, ok := platformTables[t.name]; !ok && !strings.HasPrefix(t.name, "river_") {
				r.add("%s: no tenant_id column and not an allowlisted platform table", t.name)
			}
			continue
		}
		r.TenantTables = append(r.TenantTables, t.name)
		if t.kind == "m" || t.kind == "f" {
			r.add("%s: a materialized view or foreign table cannot be under row-level security", t.name)
			continue
		}
		if !t.rls {
			r.add("%s: row-level security is not enabled", t.name)
		}
		if !t.force {
			r.add("%s: row-level security is not forced (the owner would bypass it)", t.name)
		}
		if err := checkPolicies(ctx, q, &r, t.name); err != nil {
			return r, err
		}
		if err := checkKeys(ctx, q, &r, t.oid, t.name, tenanted); err != nil {
			return r, err
		}
		var truncate, trigger bool
		if err := q.QueryRow(ctx, `SELECT has_table_privilege($1, $2::oid, 'TRUNCATE'), has_table_privilege($1, $2::oid, 'TRIGGER')`,
			appRole, t.oid).Scan(&truncate, &trigger); err != nil {
			return r, err
		}
		if truncate {
			r.add("%s: %s may TRUNCATE it, which ignores row-level security", t.name, appRole)
		}
		if trigger {
			r.add("%s: %s may create triggers on it", t.name, appRole)
		}
	}
	if err := checkForeignKeysIntoTenantTables(ctx, q, &r, tenanted); err != nil {
		return r, err
	}
	return r, checkAppRole(ctx, q, &r, appRole)
}

func checkPolicies(ctx context.Context, q pg.Querier, r *catalogReport, table string) error {
	rows, err := q.Query(ctx, `
		SELECT policyname, permissive, cmd, coalesce(qual, ''), coalesce(with_check, '')
		FROM pg_policies WHERE schemaname = 'public' AND tablename = $1 ORDER BY policyname`, table)
	if err != nil {
		return err
	}
	defer rows.Close()
	isolating := false
	for rows.Next() {
		var name, permissive, cmd, qual, check string
		if err := rows.Scan(&name, &permissive, &cmd, &qual, &check); err != nil {
			return err
		}
		namesTenant := tenantRef.MatchString(qual) && strings.Contains(qual, "tenant_id")
		if namesTenant {
			isolating = true
		} else if _, ok := broadeningPolicies[table+"."+name]; !ok && permissive == "PERMISSIVE" {
			r.add("%s: permissive policy %s does not compare tenant_id with the transaction's tenant (USING %s)", table, name, qual)
		}
		if check != "" && !tenantRef.MatchString(check) {
			r.add("%s: policy %s lets rows be written without naming the tenant (WITH CHECK %s)", table, name, check)
		}
		if check == "" && !namesTenant && (cmd == "ALL" || cmd == "INSERT" || cmd == "UPDATE") {
			r.add("%s: policy %s admits writes without naming the tenant", table, name)
		}
	}
	if err := rows.Err(); err != nil {
		return err
	}
	if !isolating {
		r.add("%s: no policy compares tenant_id with app_current_tenant()", table)
	}
	return nil
}

// checkKeys checks the primary key, unique and exclusion constraints, unique
// indexes and foreign keys of one tenant table.
func checkKeys(ctx context.Context, q pg.Querier, r *catalogReport, oid uint32, table string, tenanted map[string]bool) error {
	var hasPK bool
	rows, err := q.Query(ctx, `
		SELECT i.indexrelid::regclass::text, i.indisprimary,
		       coalesce((SELECT attname FROM pg_attribute WHERE attrelid = i.indrelid AND attnum = i.indkey[0]), '(expression)')
		FROM pg_index i WHERE i.indrelid = $1 AND i.indisunique`, oid)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var index, first string
		var primary bool
		if err := rows.Scan(&index, &primary, &first); err != nil {
			return err
		}
		hasPK = hasPK || primary
		if first != "tenant_id" {
			what := "unique index"
			if primary {
				what = "primary key"
			}
			r.add("%s: %s %s starts with %s, not tenant_id", table, what, index, first)
		}
	}
	if err := rows.Err(); err != nil {
		return err
	}
	if !hasPK {
		r.add("%s: no primary key", table)
	}

	rows, err = q.Query(ctx, `
		SELECT c.conname, c.contype::text, c.confrelid::regclass::text,
		       (SELECT array_agg(a.attname ORDER BY k.ord) FROM unnest(c.conkey) WITH ORDINALITY k(n, ord)
		          JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = k.n),
		       coalesce((SELECT array_agg(a.attname ORDER BY k.ord) FROM unnest(c.confkey) WITH ORDINALITY k(n, ord)
		          JOIN pg_attribute a ON a.attrelid = c.confrelid AND a.attnum = k.n), '{}')
		FROM pg_constraint c WHERE c.conrelid = $1 AND c.contype IN ('f', 'x')`, oid)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var name, kind, target string
		var cols, refCols []string
		if err := rows.Scan(&name, &kind, &target, &cols, &refCols); err != nil {
			return err
		}
		target = strings.TrimPrefix(target, "public.")
		switch {
		case kind == "x":
			if len(cols) == 0 || cols[0] != "tenant_id" {
				r.add("%s: exclusion constraint %s does not start with tenant_id", table, name)
			}
		case target == "tenants":
			if !slices.Equal(cols, []string{"tenant_id"}) || !slices.Equal(refCols, []string{"id"}) {
				r.add("%s: foreign key %s to tenants must be (tenant_id) → tenants (id), is %v → %v", table, name, cols, refCols)
			}
		case fkTargetsWithoutTenant[target]:
			// Shared reference data.
		case !tenanted[target]:
			r.add("%s: foreign key %s references %s, a table without tenant_id", table, name, target)
		case len(cols) == 0 || cols[0] != "tenant_id" || refCols[0] != "tenant_id":
			r.add("%s: foreign key %s %v → %s %v must lead with tenant_id on both sides", table, name, cols, target, refCols)
		}
	}
	return rows.Err()
}

// checkForeignKeysIntoTenantTables refuses references from platform tables
// into tenant tables: they would tie shared rows to one tenant's.
func checkForeignKeysIntoTenantTables(ctx context.Context, q pg.Querier, r *catalogReport, tenanted map[string]bool) error {
	rows, err := q.Query(ctx, `
		SELECT c.conname, c.conrelid::regclass::text, c.confrelid::regclass::text
		FROM pg_constraint c JOIN pg_class t ON t.oid = c.conrelid JOIN pg_namespace n ON n.oid = t.relnamespace
		WHERE c.contype = 'f' AND n.nspname = 'public'`)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var name, from, to string
		if err := rows.Scan(&name, &from, &to); err != nil {
			return err
		}
		from, to = strings.TrimPrefix(from, "public."), strings.TrimPrefix(to, "public.")
		if !tenanted[from] && tenanted[to] {
			r.add("%s: foreign key %s from a platform table into tenant table %s", from, name, to)
		}
	}
	return rows.Err()
}

// checkAppRole checks that appRole cannot defeat row-level security: it is no
// superuser, has no BYPASSRLS, cannot create objects in public, and neither
// owns nor is a member of the owner of anything in the database.
func checkAppRole(ctx context.Context, q pg.Querier, r *catalogReport, appRole string) error {
	var super, bypass, create bool
	err := q.QueryRow(ctx, `SELECT rolsuper, rolbypassrls, has_schema_privilege(rolname, 'public', 'CREATE') FROM pg_roles WHERE rolname = $1`, appRole).
		Scan(&super, &bypass, &create)
	if err != nil {
		return fmt.Errorf("role %s: %w", appRole, err)
	}
	if super {
		r.add("role %s is a superuser", appRole)
	}
	if bypass {
		r.add("role %s has BYPASSRLS", appRole)
	}
	if create {
		r.add("role %s may create objects in schema public (it would own them)", appRole)
	}
	rows, err := q.Query(ctx, `
		WITH owned(kind, name, owner) AS (
		  SELECT 'relation', c.oid::regclass::text, c.relowner FROM pg_class c
		    JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg_toast%'
		  UNION ALL
		  SELECT 'function', p.oid::regprocedure::text, p.proowner FROM pg_proc p
		    JOIN pg_namespace n ON n.oid = p.pronamespace WHERE n.nspname NOT IN ('pg_catalog', 'information_schema')
		  UNION ALL
		  SELECT 'type', t.oid::regtype::text, t.typowner FROM pg_type t
		    JOIN pg_namespace n ON n.oid = t.typnamespace WHERE n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg_toast%'
		  UNION ALL
		  SELECT 'schema', nspname, nspowner FROM pg_namespace WHERE nspname NOT IN ('pg_catalog', 'information_schema') AND nspname NOT LIKE 'pg_toast%' AND nspname NOT LIKE 'pg_temp%'
		  UNION ALL
		  SELECT 'database', datname, datdba FROM pg_database WHERE datname = current_database()
		)
		SELECT kind, name, pg_get_userbyid(owner) FROM owned
		WHERE pg_has_role($1, owner, 'MEMBER')
		ORDER BY kind, name`, appRole)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var kind, name, owner string
		if err := rows.Scan(&kind, &name, &owner); err != nil {
			return err
		}
		if owner == appRole {
			r.add("role %s owns %s %s", appRole, kind, name)
		} else {
			r.add("role %s is a member of %s, which owns %s %s", appRole, owner, kind, name)
		}
	}
	return rows.Err()
}

func TestCatalog(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := pgtest.NewDB(t)

	t.Run("EveryTenantTableIsIsolated", func(t *testing.T) {
		t.Parallel()
		r, err := checkCatalog(ctx, db.Owner, pg.AppRole)
		require.NoError(t, err)
		require.Empty(t, r.Violations, "catalog violations:\n%s", strings.Join(r.Violations, "\n"))
		// Not vacuous: the foundation's tenant tables were examined.
		for _, name := range []string{"api_keys", "events", "idempotency_keys"} {
			require.Contains(t, r.TenantTables, name)
		}
		t.Logf("examined %d tenant tables: %v", len(r.TenantTables), r.TenantTables)
	})

	t.Run("AuditLogIsAppendOnlyForTheApp", func(t *testing.T) {
		t.Parallel()
		for priv, want := range map[string]bool{"SELECT": true, "INSERT": true, "UPDATE": false, "DELETE": false, "TRUNCATE": false} {
			var has bool
			require.NoError(t, db.Owner.QueryRow(ctx, `SELECT has_table_privilege($1, 'audit_log', $2)`, pg.AppRole, priv).Scan(&has))
			require.Equal(t, want, has, "%s on audit_log for %s", priv, pg.AppRole)
		}
		// And the database refuses it, whatever the application tries.
		tx, err := db.App.Begin(ctx)
		require.NoError(t, err)
		defer tx.Rollback(ctx) //nolint:errcheck
		_, err = tx.Exec(ctx, `UPDATE audit_log SET actor = 'forged'`)
		require.ErrorContains(t, err, "permission denied")
		tx2, err := db.App.Begin(ctx)
		require.NoError(t, err)
		defer tx2.Rollback(ctx) //nolint:errcheck
		_, err = tx2.Exec(ctx, `DELETE FROM audit_log`)
		require.ErrorContains(t, err, "permission denied")
	})

	t.Run("AppRoleChecksAgreeWithCheckAppRole", func(t *testing.T) {
		t.Parallel()
		require.NoError(t, pg.CheckAppRole(ctx, db.App))
		require.Error(t, pg.CheckAppRole(ctx, db.Owner), "the owner owns tables: serving as it must be refused")
	})

	t.Run("ReportsALeakyTable", func(t *testing.T) {
		t.Parallel()
		// DDL is transactional: the broken tables vanish with the rollback.
		tx, err := db.Owner.Begin(ctx)
		require.NoError(t, err)
		defer tx.Rollback(ctx) //nolint:errcheck
		_, err = tx.Exec(ctx, `
			CREATE TABLE zz_leaky (
			  tenant_id text NOT NULL REFERENCES tenants (id),
			  id        text NOT NULL PRIMARY KEY,
			  code      text NOT NULL UNIQUE,
			  livemode  boolean NOT NULL DEFAULT true,
			  node_id   text,
			  CONSTRAINT zz_leaky_node_id_tenant_id_fkey FOREIGN KEY (node_id, livemode, tenant_id) REFERENCES nodes (id, livemode, tenant_id)
			);
			CREATE UNIQUE INDEX zz_leaky_code_idx ON zz_leaky (code, tenant_id);
			CREATE TABLE zz_untenanted (id text PRIMARY KEY);
			CREATE TABLE zz_wide (tenant_id text NOT NULL, id text NOT NULL, PRIMARY KEY (tenant_id, id));
			SELECT enable_tenant_rls('zz_wide');
			CREATE POLICY everything ON zz_wide USING (true);`)
		require.NoError(t, err)
		r, err := checkCatalog(ctx, tx, pg.AppRole)
		require.NoError(t, err)
		got := strings.Join(r.Violations, "\n")
		for _, want := range []string{
			"zz_leaky: row-level security is not enabled",
			"zz_leaky: row-level security is not forced",
			"zz_leaky: no policy compares tenant_id",
			"zz_leaky: primary key zz_leaky_pkey starts with id",
			"zz_leaky: unique index zz_leaky_code_key starts with code",
			"zz_leaky: unique index zz_leaky_code_idx starts with code",
			"zz_leaky: foreign key zz_leaky_node_id_tenant_id_fkey [node_id livemode tenant_id] → nodes [id livemode tenant_id] must lead with tenant_id",
			"zz_untenanted: no tenant_id column and not an allowlisted platform table",
			"zz_wide: permissive policy everything does not compare tenant_id",
		} {
			require.Contains(t, got, want)
		}
		require.NotContains(t, got, "zz_wide: no policy", "zz_wide keeps its tenant_isolation policy")
	})

	t.Run("ReportsAnAppRoleThatOwnsSomething", func(t *testing.T) {
		t.Parallel()
		tx, err := db.Owner.Begin(ctx)
		require.NoError(t, err)
		defer tx.Rollback(ctx) //nolint:errcheck
		// Making the app role a member of the owner is the subtle way to
		// let it own every table.
		var owner string
		require.NoError(t, tx.QueryRow(ctx, `SELECT current_user`).Scan(&owner))
		_, err = tx.Exec(ctx, `GRANT `+owner+` TO `+pg.AppRole)
		if err != nil {
			t.Skipf("the owner cannot grant its membership here: %v", err)
		}
		r, err := checkCatalog(ctx, tx, pg.AppRole)
		require.NoError(t, err)
		require.Contains(t, strings.Join(r.Violations, "\n"), "role servicenet_app is a member of "+owner+", which owns relation api_keys")
	})
}
