package pg_test

import (
	"cmp"
	"context"
	"flag"
	"fmt"
	"io/fs"
	"maps"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/servicenet/servicenet/internal/pg"
	"github.com/servicenet/servicenet/internal/pgtest"
)

// The Citus lint. TestCatalog already holds every tenant table to what
// distribution by tenant_id needs of its keys: tenant_id first in the primary
// key, in every unique key and exclusion constraint and on both sides of every
// foreign key between tenant tables, and no foreign key from a platform
// (reference) table into a tenant (distributed) one. This file adds what is
// Citus's own, and keeps the distribution DDL (deploy/citus/distribute.sql)
// generated from the migrated schema, so that a migration that adds a table
// fails here until its DDL is regenerated and reviewed.

var update = flag.Bool("update", false, "rewrite deploy/citus/distribute.sql from the migrated schema")

const distributionFile = "../../deploy/citus/distribute.sql"

// citusTriggers are the triggers on tables that Citus distributes, each with
// how it behaves there. Citus runs triggers on the shards, on the workers,
// and only with citus.enable_unsafe_triggers; a trigger that is not listed
// fails the lint until someone has thought about that.
var citusTriggers = map[string]string{
	"api_keys.api_keys_auth_notify":        "NOTIFY for the authentication cache: on Citus it fires on the worker, where no server listens; the key service must send the notification from the coordinator instead (deploy/citus.md §4)",
	"api_keys.api_keys_auth_notify_delete": "as api_keys_auth_notify",
	"tenants.tenants_auth_notify":          "reference table: fires on the coordinator, where the servers listen",
	"tenants.tenants_auth_notify_delete":   "as tenants_auth_notify",
	"tenants.tenants_ticket_number_sequence": "reference table: creates the tenant's ticket-number sequence, a coordinator-local object that " +
		"next_ticket_number() (SECURITY DEFINER) reads on the coordinator",
}

func init() {
	for _, t := range []string{"api_keys", "nodes", "technicians", "product_models", "parts", "price_lists", "storefronts",
		"customers", "units", "coverage_plans", "contracts", "webhook_endpoints", "claim_policies", "claims", "tenant_holidays",
		"payouts", "swaps", "sla_policies", "tickets", "part_stock", "loaners", "complaints", "privacy_policies",
		"ticket_visits", "ticket_tasks", "notification_gateways", "notifications", "network_import_chunks",
		"grade_proposals", "grade_appeals", "test_clocks", "notification_templates", "care_policies", "care_reminders",
		"technician_certifications", "level_proposals", "level_appeals",
		"price_list_labor", "price_list_parts", "price_list_visit_fees", "part_models", "quotes", "service_records",
		"ticket_appointments", "ticket_parts"} {
		citusTriggers[t+"."+t+"_audit"] = "audit_row (022): writes the row's audit_log entry, co-located by tenant_id, on the " +
			"same shard group; needs citus.enable_unsafe_triggers and app.actor propagated to the workers " +
			"(citus.propagate_set_commands = 'local' and SET LOCAL instead of set_config)"
	}
}

// citusDefaults are column defaults on distributed tables whose value depends
// on the node that evaluates them.
var citusDefaults = map[string]string{
	"audit_log.id": "a sequence: on Citus a bigserial of a distributed table is drawn on the coordinator; order within a tenant is kept",
	"events.txid":  "node-local transaction ids: the feed ordering must be reworked before events is distributed (deploy/citus.md §3)",
}

// nodeLocalDefault matches defaults that differ between coordinator and workers.
var nodeLocalDefault = regexp.MustCompile(`pg_current_xact_id|txid_current|nextval\(|pg_backend_pid|inet_server`)

type citusTable struct {
	name      string
	tenanted  bool
	migration string   // the migration that creates it
	refs      []string // tables it references by foreign key, itself excluded
}

// citusSchema reads the tables of schema public that Citus would manage
// (River's and tern's stay local on the coordinator) and the migration that
// creates each.
func citusSchema(ctx context.Context, q pg.Querier) ([]citusTable, error) {
	created, err := tablesByMigration()
	if err != nil {
		return nil, err
	}
	rows, err := q.Query(ctx, `
		SELECT c.relname,
		       EXISTS (SELECT 1 FROM pg_attribute a WHERE a.attrelid = c.oid AND a.attname = 'tenant_id' AND NOT a.attisdropped),
		       coalesce((SELECT array_agg(DISTINCT f.confrelid::regclass::text ORDER BY f.confrelid::regclass::text)
		                 FROM pg_constraint f WHERE f.conrelid = c.oid AND f.contype = 'f' AND f.confrelid <> c.oid), '{}')
		FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
		WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p')
		  AND c.relname NOT LIKE 'river\_%' AND c.relname <> 'schema_version'
		ORDER BY c.relname`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var tables []citusTable
	for rows.Next() {
		var t citusTable
		if err := rows.Scan(&t.name, &t.tenanted, &t.refs); err != nil {
			return nil, err
		}
		t.migration = cmp.Or(created[t.name], "(not created by a migration)")
		tables = append(tables, t)
	}
	return tables, rows.Err()
}

var createTable = regexp.MustCompile(`(?im)^\s*CREATE TABLE (?:IF NOT EXISTS )?([a-z_][a-z0-9_]*)`)

func tablesByMigration() (map[string]string, error) {
	created := map[string]string{}
	err := fs.WalkDir(pg.MigrationFiles, "migrations", func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		sql, err := fs.ReadFile(pg.MigrationFiles, path)
		if err != nil {
			return err
		}
		for _, m := range createTable.FindAllStringSubmatch(string(sql), -1) {
			created[m[1]] = d.Name()
		}
		return nil
	})
	return created, err
}

// colocationAnchor is the tenant table distributed first, fixing the shard
// count of the colocation group: the network's root table, which references
// only tenants.
const colocationAnchor = "nodes"

// distributionOrder puts reference tables first and tenant tables after every
// table they reference (Citus refuses a foreign key to a table it does not
// manage yet). Ties go by migration, then name, so the file reads in the
// order the schema grew.
func distributionOrder(tables []citusTable) ([]citusTable, error) {
	slices.SortFunc(tables, func(a, b citusTable) int {
		if a.tenanted != b.tenanted {
			if a.tenanted {
				return 1
			}
			return -1
		}
		if (a.name == colocationAnchor) != (b.name == colocationAnchor) {
			if a.name == colocationAnchor {
				return -1
			}
			return 1
		}
		return cmp.Or(cmp.Compare(a.migration, b.migration), cmp.Compare(a.name, b.name))
	})
	placed := map[string]bool{}
	var out []citusTable
	for len(out) < len(tables) {
		progressed := false
		for _, t := range tables {
			if placed[t.name] || !allPlaced(t.refs, placed) {
				continue
			}
			placed[t.name] = true
			out = append(out, t)
			progressed = true
			break // restart: keep the earliest ready table first
		}
		if !progressed {
			return nil, fmt.Errorf("foreign keys form a cycle among the tables not yet placed")
		}
	}
	return out, nil
}

func allPlaced(refs []string, placed map[string]bool) bool {
	for _, r := range refs {
		if !placed[strings.TrimPrefix(r, "public.")] {
			return false
		}
	}
	return true
}

// distributionDDL renders deploy/citus/distribute.sql.
func distributionDDL(tables []citusTable, triggers []string) string {
	var b strings.Builder
	b.WriteString(`-- Citus distribution of the ServiceNet schema, for every migration.
-- GENERATED by internal/pg/citus_test.go from the migrated schema; do not edit.
-- Regenerate after adding a migration, and review the difference:
--   go test ./internal/pg -run TestCitusDistribution -update
-- How and when to use it: deploy/citus.md. Run on the coordinator as the owner
-- role after ` + "`servicenet migrate`" + `, each statement on its own (autocommit).
-- Reference tables come first, then the tenant tables, each after the tables
-- its foreign keys name; all tenant tables share one colocation group.

-- Functions that policies, CHECK constraints and defaults call.
SELECT create_distributed_function('app_current_tenant()');
SELECT create_distributed_function('network_tier_rank(text)');
SELECT create_distributed_function('product_category_valid(text)');
`)
	anchor := ""
	section := ""
	for _, t := range tables {
		kind := "Tenant tables: hash-distributed by tenant_id, colocated."
		if !t.tenanted {
			kind = "Platform tables: reference tables, a copy on every node."
		}
		if kind != section {
			section = kind
			fmt.Fprintf(&b, "\n-- %s\n", kind)
		}
		switch {
		case !t.tenanted:
			fmt.Fprintf(&b, "SELECT create_reference_table('%s');", t.name)
		case anchor == "":
			anchor = t.name
			fmt.Fprintf(&b, "SELECT create_distributed_table('%s', 'tenant_id', shard_count => 64);", t.name)
		default:
			fmt.Fprintf(&b, "SELECT create_distributed_table('%s', 'tenant_id', colocate_with => '%s');", t.name, anchor)
		}
		fmt.Fprintf(&b, " -- %s\n", strings.TrimSuffix(t.migration, ".sql"))
		for _, col := range slices.Sorted(maps.Keys(citusDefaults)) {
			if table, _, _ := strings.Cut(col, "."); table == t.name {
				fmt.Fprintf(&b, "--   not yet: %s: %s\n", col, citusDefaults[col])
			}
		}
	}
	b.WriteString(`
-- River's and tern's tables stay local on the coordinator; for two-phase
-- commit of a request's rows and its jobs, add them to the metadata:
-- SELECT citus_add_local_table_to_metadata('river_job');  -- and River's other tables

-- Triggers, which run on the shards (citus.enable_unsafe_triggers), reviewed:
`)
	for _, tr := range triggers {
		fmt.Fprintf(&b, "--   %s: %s\n", tr, citusTriggers[tr])
	}
	return b.String()
}

// checkCitus reports what Citus would refuse, or run differently, in the
// schema, beyond the key rules TestCatalog enforces.
func checkCitus(ctx context.Context, q pg.Querier) (violations, triggers []string, err error) {
	add := func(format string, args ...any) { violations = append(violations, fmt.Sprintf(format, args...)) }
	type finding struct{ table, name, detail string }
	scan := func(sql string, each func(f finding)) error {
		rows, err := q.Query(ctx, sql)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var f finding
			if err := rows.Scan(&f.table, &f.name, &f.detail); err != nil {
				return err
			}
			each(f)
		}
		return rows.Err()
	}
	const managed = `n.nspname = 'public' AND c.relkind IN ('r', 'p') AND c.relname NOT LIKE 'river\_%' AND c.relname <> 'schema_version'`
	const tenanted = `EXISTS (SELECT 1 FROM pg_attribute a WHERE a.attrelid = c.oid AND a.attname = 'tenant_id' AND NOT a.attisdropped)`

	// Policies on distributed tables may not contain subqueries.
	if err := scan(`
		SELECT p.tablename::text, p.policyname::text, coalesce(p.qual, '') || ' ' || coalesce(p.with_check, '')
		FROM pg_policies p JOIN pg_class c ON c.relname = p.tablename JOIN pg_namespace n ON n.oid = c.relnamespace AND n.nspname = p.schemaname
		WHERE `+managed+` AND `+tenanted, func(f finding) {
		if regexp.MustCompile(`(?i)\bSELECT\b`).MatchString(f.detail) {
			add("%s: policy %s has a subquery, which Citus does not allow on a distributed table", f.table, f.name)
		}
	}); err != nil {
		return nil, nil, err
	}
	// Identity columns on distributed tables must be bigint.
	if err := scan(`
		SELECT c.relname::text, a.attname::text, format_type(a.atttypid, a.atttypmod)
		FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid JOIN pg_namespace n ON n.oid = c.relnamespace
		WHERE `+managed+` AND `+tenanted+` AND a.attidentity <> '' AND NOT a.attisdropped`, func(f finding) {
		if f.detail != "bigint" {
			add("%s: identity column %s is %s; Citus distributes only bigint identity columns", f.table, f.name, f.detail)
		}
	}); err != nil {
		return nil, nil, err
	}
	// A foreign key may not set the distribution column on delete or update.
	if err := scan(`
		SELECT c.relname::text, f.conname::text, f.confdeltype::text || f.confupdtype::text ||
		       CASE WHEN f.confdelsetcols IS NULL OR (SELECT attnum FROM pg_attribute WHERE attrelid = c.oid AND attname = 'tenant_id') = ANY (f.confdelsetcols) THEN '*' ELSE '' END
		FROM pg_constraint f JOIN pg_class c ON c.oid = f.conrelid JOIN pg_namespace n ON n.oid = c.relnamespace
		WHERE f.contype = 'f' AND `+managed+` AND `+tenanted, func(f finding) {
		actions, setsTenant := strings.TrimSuffix(f.detail, "*"), strings.HasSuffix(f.detail, "*")
		if strings.ContainsAny(actions[1:], "nd") || (strings.ContainsAny(actions[:1], "nd") && setsTenant) {
			add("%s: foreign key %s sets tenant_id to NULL or its default; Citus refuses SET NULL/SET DEFAULT on the distribution column (name the other columns: ON DELETE SET NULL (col))", f.table, f.name)
		}
	}); err != nil {
		return nil, nil, err
	}
	// Exclusion constraints must compare the distribution column with =.
	if err := scan(`
		SELECT c.relname::text, x.conname::text, pg_get_constraintdef(x.oid)
		FROM pg_constraint x JOIN pg_class c ON c.oid = x.conrelid JOIN pg_namespace n ON n.oid = c.relnamespace
		WHERE x.contype = 'x' AND `+managed+` AND `+tenanted, func(f finding) {
		if !regexp.MustCompile(`\(tenant_id WITH =`).MatchString(f.detail) {
			add("%s: exclusion constraint %s does not start with tenant_id WITH =", f.table, f.name)
		}
	}); err != nil {
		return nil, nil, err
	}
	// Defaults that depend on the node evaluating them.
	if err := scan(`
		SELECT c.relname::text, a.attname::text, pg_get_expr(d.adbin, d.adrelid)
		FROM pg_attrdef d JOIN pg_attribute a ON a.attrelid = d.adrelid AND a.attnum = d.adnum
		JOIN pg_class c ON c.oid = d.adrelid JOIN pg_namespace n ON n.oid = c.relnamespace
		WHERE `+managed+` AND `+tenanted, func(f finding) {
		if _, ok := citusDefaults[f.table+"."+f.name]; !ok && nodeLocalDefault.MatchString(f.detail) {
			add("%s: column %s defaults to %s, which differs between the coordinator and the workers", f.table, f.name, f.detail)
		}
	}); err != nil {
		return nil, nil, err
	}
	// Triggers must be reviewed for how they run under Citus.
	if err := scan(`
		SELECT c.relname::text, t.tgname::text, ''
		FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid JOIN pg_namespace n ON n.oid = c.relnamespace
		WHERE NOT t.tgisinternal AND `+managed+`
		ORDER BY 1, 2`, func(f finding) {
		key := f.table + "." + f.name
		triggers = append(triggers, key)
		if _, ok := citusTriggers[key]; !ok {
			add("%s: trigger %s is not reviewed for Citus (add it to citusTriggers with how it runs on the shards)", f.table, f.name)
		}
	}); err != nil {
		return nil, nil, err
	}
	return violations, triggers, nil
}

func TestCitusDistribution(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := pgtest.NewDB(t)

	render := func(q pg.Querier) (string, []string) {
		violations, triggers, err := checkCitus(ctx, q)
		require.NoError(t, err)
		tables, err := citusSchema(ctx, q)
		require.NoError(t, err)
		ordered, err := distributionOrder(tables)
		require.NoError(t, err)
		return distributionDDL(ordered, triggers), violations
	}

	t.Run("SchemaIsDistributable", func(t *testing.T) {
		ddl, violations := render(db.Owner)
		require.Empty(t, violations, "Citus violations:\n%s", strings.Join(violations, "\n"))
		if *update {
			require.NoError(t, os.WriteFile(distributionFile, []byte(ddl), 0o644))
		}
		committed, err := os.ReadFile(distributionFile)
		require.NoError(t, err)
		require.Equal(t, string(committed), ddl,
			"deploy/citus/distribute.sql is stale: run go test ./internal/pg -run TestCitusDistribution -update and review the difference")
		// Every migration that creates a table is in the file.
		created, err := tablesByMigration()
		require.NoError(t, err)
		for table, migration := range created {
			switch table {
			case "ticket_counters", // created by 011, dropped by 015
				"ticket_number_counters": // created by 018, dropped by 029
				continue
			}
			require.Contains(t, ddl, "'"+table+"'", "table %s of %s", table, migration)
		}
	})

	t.Run("ReportsWhatCitusRefuses", func(t *testing.T) {
		tx, err := db.Owner.Begin(ctx)
		require.NoError(t, err)
		defer tx.Rollback(ctx) //nolint:errcheck
		_, err = tx.Exec(ctx, `
			CREATE TABLE zz_citus (
			  tenant_id text NOT NULL REFERENCES tenants (id),
			  id        text NOT NULL,
			  n         integer GENERATED ALWAYS AS IDENTITY,
			  livemode  boolean NOT NULL DEFAULT true,
			  node_id   text,
			  tx        xid8 DEFAULT pg_current_xact_id(),
			  PRIMARY KEY (tenant_id, livemode, id),
			  CONSTRAINT zz_citus_tenant_id_node_id_fkey FOREIGN KEY (tenant_id, livemode, node_id) REFERENCES nodes (tenant_id, livemode, id) ON DELETE SET NULL
			);
			SELECT enable_tenant_rls('zz_citus');
			CREATE POLICY nosy ON zz_citus USING (tenant_id = app_current_tenant() AND EXISTS (SELECT 1 FROM nodes));
			CREATE TRIGGER zz_touch BEFORE UPDATE ON zz_citus FOR EACH ROW EXECUTE FUNCTION auth_notify_key();`)
		require.NoError(t, err)
		ddl, violations := render(tx)
		got := strings.Join(violations, "\n")
		for _, want := range []string{
			"zz_citus: policy nosy has a subquery",
			"zz_citus: identity column n is integer",
			"zz_citus: foreign key zz_citus_tenant_id_node_id_fkey sets tenant_id to NULL",
			"zz_citus: column tx defaults to pg_current_xact_id()",
			"zz_citus: trigger zz_touch is not reviewed for Citus",
		} {
			require.Contains(t, got, want)
		}
		// A new table changes the DDL, so the committed file would be stale.
		require.Contains(t, ddl, "SELECT create_distributed_table('zz_citus', 'tenant_id', colocate_with => ")
		nodes, citus := strings.Index(ddl, "'nodes'"), strings.Index(ddl, "'zz_citus'")
		require.Less(t, nodes, citus, "a table is distributed after the tables it references")
	})
}
