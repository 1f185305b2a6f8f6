package pg_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/servicenet/servicenet/internal/pgtest"
	"github.com/servicenet/servicenet/tenants"
)

// unaudited are the tenant tables whose writes have no audit_row trigger,
// each with the reason. A new tenant table fails TestEveryTenantTableIsAudited
// until it gets a trigger (<table>_audit, migrations 022, 027 and 035) or an
// entry here: a write nobody can trace is a deliberate choice.
var unaudited = map[string]string{
	// The log itself.
	"audit_log": "the audit log",
	// Append-only histories: records of who did what of their own.
	"claim_state_changes":     "history",
	"claim_versions":          "history",
	"complaint_changes":       "history",
	"contract_state_changes":  "history",
	"events":                  "history: the event feed",
	"loaner_loans":            "history",
	"node_status_changes":     "history",
	"stock_moves":             "history",
	"swap_steps":              "history",
	"ticket_timeline":         "history",
	"ticket_sla_breaches":     "history",
	"ticket_callbacks":        "history",
	"reconciliation_findings": "history: what the reconciliation found",
	"network_import_errors":   "history: an import's per-row errors",
	"grading_policies":        "history: append-only versions, each with its author",
	"grading_runs":            "history: the grading job's runs (its proposals are audited)",
	"grade_history":           "history: a node's grades, old and new, who and why",
	"level_policies":          "history: append-only versions, each with its author",
	"level_runs":              "history: the levelling job's runs (its proposals are audited)",
	"level_history":           "history: a technician's levels, old and new, who and why",
	"webhook_deliveries":      "history: delivery attempts",
	// Bookkeeping that is no business object.
	"idempotency_keys":         "stored responses of retried requests",
	"ticket_number_days":       "a per-day number base; the ticket it numbers is audited",
	"webhook_dispatch_cursors": "the dispatcher's position in the event feed",
	"customer_phones":          "the phone index for deduplication; the phones are audited on customers",
	"network_imports":          "an import job's progress; the nodes and technicians it writes are audited",
	"network_import_codes":     "an import run's transient index of the file's codes, deleted when it finishes",
	"quality_positions":        "derived: folded from the event feed (024), rebuilt from it",
	"quality_complaints":       "derived: folded from the event feed (024), rebuilt from it",
	"quality_facts":            "derived: folded from the event feed (024), rebuilt from it",
	"quality_daily":            "derived: rollups of quality_facts",
	"quality_monthly":          "derived: rollups of quality_facts",
	"quality_months":           "derived: the months whose scorecards are ready",

	// A storefront's own phone index (072), beside customer_phones.
	"customer_storefront_phones": "the phones are audited on customers",
}

// Every tenant table's writes are audited (who, what, old and new values in
// the writing transaction) unless unaudited says why not; the tables added
// by migrations 016–023 are all audited.
func TestEveryTenantTableIsAudited(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := pgtest.NewDB(t)
	rows, err := db.Owner.Query(ctx, `SELECT c.relname,
			EXISTS (SELECT FROM pg_trigger g WHERE g.tgrelid = c.oid AND g.tgname = c.relname || '_audit' AND g.tgenabled <> 'D')
		FROM pg_class c JOIN pg_attribute a ON a.attrelid = c.oid AND a.attname = 'tenant_id' AND NOT a.attisdropped
		WHERE c.relkind = 'r' AND c.relnamespace = 'public'::regnamespace ORDER BY c.relname`)
	require.NoError(t, err)
	audited := map[string]bool{}
	for rows.Next() {
		var name string
		var has bool
		require.NoError(t, rows.Scan(&name, &has))
		audited[name] = has
	}
	require.NoError(t, rows.Err())
	for name, has := range audited {
		_, exempt := unaudited[name]
		switch {
		case has && exempt:
			t.Errorf("%s is audited now: strike it from unaudited", name)
		case !has && !exempt:
			t.Errorf("%s has no %s_audit trigger and no reason in unaudited", name, name)
		}
	}
	for name := range unaudited {
		_, ok := audited[name]
		require.True(t, ok, "unaudited names %s, which is not a tenant table", name)
	}
	for _, name := range []string{"ticket_visits", "ticket_tasks", "notification_gateways", "notifications",
		"network_import_chunks", "privacy_policies", "payouts", "swaps", "coverage_plans", "storefronts", "tickets", "customers"} {
		require.True(t, audited[name], "%s (016–023) is audited", name)
	}
}

// A creation is recorded as the created row (json, migration 040) without
// its secrets, and read back as {field: {old: null, new: value}} for the
// fields with a value, tenant_id left out; an update records its diff.
// Every audited table's trigger runs the function generated for it.
func TestAuditCreationIsTheRowWithoutSecrets(t *testing.T) {
	ctx := context.Background()
	tx := pgtest.Tx(t)
	ten, key := tenants.NewID(tenants.PrefixTenant), tenants.NewID(tenants.PrefixAPIKey)
	_, err := tx.Exec(ctx, `INSERT INTO tenants (id, name, slug) VALUES ($1, $1, $2)`, ten, "t-"+ten[len(ten)-12:])
	require.NoError(t, err)
	setTenant(t, tx, ten)
	_, err = tx.Exec(ctx, `SELECT set_config('app.actor', 'key_a|tenant_admin||createApiKey|req1', true)`)
	require.NoError(t, err)
	insertKey(t, tx, ten, key)
	_, err = tx.Exec(ctx, `UPDATE api_keys SET name = 'renamed', last_used_at = now() WHERE tenant_id = $1 AND id = $2`, ten, key)
	require.NoError(t, err)

	rows, err := tx.Query(ctx, `SELECT action, actor, operation, object_id, created_row IS NOT NULL, audit_entry_changes(changes, created_row)
		FROM audit_log WHERE tenant_id = $1 AND object_type = 'api_keys' ORDER BY id`, ten)
	require.NoError(t, err)
	type entry struct {
		action, actor, operation, object string
		asRow                            bool
		changes                          map[string]map[string]any
	}
	var got []entry
	for rows.Next() {
		var e entry
		require.NoError(t, rows.Scan(&e.action, &e.actor, &e.operation, &e.object, &e.asRow, &e.changes))
		got = append(got, e)
	}
	require.NoError(t, rows.Err())
	require.Len(t, got, 2, "the creation and the rename (last_used_at is no change of its own: excluded)")

	created := got[0]
	assert.Equal(t, []any{"create", "key_a", "createApiKey", key, true}, []any{created.action, created.actor, created.operation, created.object, created.asRow})
	assert.Equal(t, map[string]any{"old": nil, "new": "k"}, created.changes["name"])
	assert.Equal(t, map[string]any{"old": nil, "new": []any{"tenant_admin"}}, created.changes["roles"])
	for _, k := range []string{"secret_hash", "tenant_id", "last_used_at", "node_id", "revoked_at"} {
		assert.NotContains(t, created.changes, k, "a secret, the tenant or a null")
	}
	var secret string
	require.NoError(t, tx.QueryRow(ctx, `SELECT coalesce(created_row ->> 'secret_hash', '') FROM audit_log
		WHERE tenant_id = $1 AND object_type = 'api_keys' AND action = 'create'`, ten).Scan(&secret))
	assert.Empty(t, secret, "the secret is not stored")

	renamed := got[1]
	assert.Equal(t, "update", renamed.action)
	assert.False(t, renamed.asRow)
	assert.Equal(t, map[string]map[string]any{"name": {"old": "k", "new": "renamed"}}, renamed.changes)

	var stray []string
	require.NoError(t, tx.QueryRow(ctx, `SELECT coalesce(array_agg(c.relname ORDER BY c.relname), '{}')
		FROM pg_trigger g JOIN pg_class c ON c.oid = g.tgrelid
		WHERE g.tgname = c.relname || '_audit' AND g.tgfoid <> to_regproc(c.relname || '_audit')`).Scan(&stray))
	assert.Empty(t, stray, "audit triggers not on their generated function (attach with audit_table)")
}

// audit_mask_values (070, 073), the retention's way into the append-only
// log, rewrites nothing but the personal columns of tickets, customers and
// ticket visits, and
// only in entries about objects of the type it names.
func TestAuditMaskValuesRewritesOnlyPersonalColumns(t *testing.T) {
	ctx := context.Background()
	tx := pgtest.Tx(t)
	ten, cus, key := tenants.NewID(tenants.PrefixTenant), tenants.NewID(tenants.PrefixCustomer), tenants.NewID(tenants.PrefixAPIKey)
	_, err := tx.Exec(ctx, `INSERT INTO tenants (id, name, slug) VALUES ($1, $1, $2)`, ten, "t-"+ten[len(ten)-12:])
	require.NoError(t, err)
	setTenant(t, tx, ten)
	insertKey(t, tx, ten, key)
	_, err = tx.Exec(ctx, `INSERT INTO customers (tenant_id, id, name, phones) VALUES ($1, $2, '王丽', '{+8613800138000}')`, ten, cus)
	require.NoError(t, err)
	entry := func(objectType string) string {
		var id string
		require.NoError(t, tx.QueryRow(ctx, `SELECT id::text FROM audit_log WHERE tenant_id = $1 AND object_type = $2`, ten, objectType).Scan(&id))
		return id
	}
	customer, apiKey := entry("customers"), entry("api_keys")
	mask := func(objectType string, masked map[string]map[string]any) error {
		sp, err := tx.Begin(ctx)
		require.NoError(t, err)
		if _, err = sp.Exec(ctx, `SELECT audit_mask_values($1, $2)`, objectType, masked); err != nil {
			require.NoError(t, sp.Rollback(ctx))
			return err
		}
		return sp.Commit(ctx)
	}
	recorded := func(id string) map[string]map[string]any {
		var c map[string]map[string]any
		require.NoError(t, tx.QueryRow(ctx, `SELECT audit_entry_changes(changes, created_row) FROM audit_log WHERE tenant_id = $1 AND id = $2::bigint`,
			ten, id).Scan(&c))
		return c
	}

	require.Error(t, mask("customers", map[string]map[string]any{customer: {"name": "王*", "notifications_opt_out": true}}), "not a personal column")
	require.Error(t, mask("api_keys", map[string]map[string]any{apiKey: {"name": "x"}}), "no personal columns")
	require.Error(t, mask("ticket_visits", map[string]map[string]any{customer: {"outcome": "x"}}), "a visit's only personal column is its exception")
	require.NoError(t, mask("tickets", map[string]map[string]any{customer: {"contact": "x"}}))
	assert.Equal(t, "王丽", recorded(customer)["name"]["new"], "an entry about another type of object is left alone")

	require.NoError(t, mask("customers", map[string]map[string]any{customer: {"name": "王*", "phones": []string{"138****8000"}}}))
	c := recorded(customer)
	assert.Equal(t, map[string]any{"old": nil, "new": "王*"}, c["name"])
	assert.Equal(t, map[string]any{"old": nil, "new": []any{"138****8000"}}, c["phones"])
	assert.Equal(t, map[string]any{"old": nil, "new": cus}, c["id"], "the other columns as recorded")
}
