package api_test

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/servicenet/servicenet/internal/apitest"
	"github.com/servicenet/servicenet/internal/pg"
)

// The values a visitFlow ticket (and the customer its intake creates) is
// opened with, and what a principal that may not see them is shown.
var (
	personalInClear = []string{"13955550101", "139 5555 0101", "钱七", "人民路 9 号"}
	flowContact     = map[string]any{"name": "钱七", "phone": "+8613955550101", "phone_display": "139 5555 0101"}
	flowContactMask = map[string]any{"name": "钱*", "phone": "139****0101", "phone_display": "139****0101"}
)

// entriesBy indexes audit entries by object type and action (the last of
// each).
func entriesBy(es []map[string]any) map[string]map[string]any {
	out := map[string]map[string]any{}
	for _, e := range es {
		out[e["object_type"].(string)+"/"+e["action"].(string)] = e
	}
	return out
}

// auditReads counts the reads of operation by actor among es.
func auditReads(es []map[string]any, actor, operation string) int {
	n := 0
	for _, e := range es {
		if e["action"] == "read" && e["actor"] == actor && e["operation"] == operation {
			n++
		}
	}
	return n
}

// change is an entry's change of field.
func change(e map[string]any, field string) map[string]any {
	c, _ := e["changes"].(map[string]any)[field].(map[string]any)
	return c
}

// auditBody is the audit log about objectID as key reads it.
func auditBody(t *testing.T, env *apitest.Env, key, objectID string) string {
	t.Helper()
	r := env.Do(t, http.MethodGet, "/v1/audit?limit=200&object_id="+objectID+"&"+auditRange(), key, nil)
	require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
	return string(r.Body)
}

// GET /v1/audit shows the personal values its entries recorded (a ticket's
// contact and service address, a customer's name, phones and addresses)
// as the ticket and the customer show them: in the clear to the brand's
// staff, that read recorded like any other read of personal data; masked
// to the auditor (who sees the ticket masked too), whose reads record
// nothing. It showed the auditor every value in full.
func TestAuditShowsPersonalDataAsTheObjectsDo(t *testing.T) {
	f := newVisitFlow(t, "privacy-audit-pii")
	env, d := f.env, f.d
	tk := f.open(t, "PRIV-AUD-0001", "on_site")
	id, cus := tk["id"].(string), tk["customer_id"].(string)
	r := env.Do(t, http.MethodPatch, "/v1/customers/"+cus, f.agent, map[string]any{"name": "钱七七",
		"phones": []string{"+86 139 5555 0101", "13955550102"}}, env.IfMatch(t, "/v1/customers/"+cus, f.agent)...)
	require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
	auditor, auditorID := env.Key(t, d.AdminKey, "auditor")

	// The auditor: the ticket and its audit entries alike masked.
	r = env.Do(t, http.MethodGet, "/v1/tickets/"+id, auditor, nil)
	require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
	shown := r.JSON(t)
	require.Equal(t, true, shown["masked"])
	require.Equal(t, flowContactMask, shown["contact"])
	line := shown["address"].(map[string]any)["line"].(string)
	require.Equal(t, "人民****", line)
	for _, obj := range []string{id, cus} {
		body := auditBody(t, env, auditor, obj)
		for _, s := range append(personalInClear, "13955550102") {
			assert.False(t, strings.Contains(body, s), "the auditor sees %q in the audit log of %s", s, obj)
		}
	}
	es := entriesBy(auditOf(t, env, auditor, id))
	require.Contains(t, es, "tickets/create")
	assert.Equal(t, map[string]any{"old": nil, "new": flowContactMask}, change(es["tickets/create"], "contact"))
	assert.Equal(t, map[string]any{"old": nil, "new": map[string]any{"region_code": d.Region, "line": line}},
		change(es["tickets/create"], "address"), "the coordinates are dropped, as on the ticket")
	assert.Equal(t, map[string]any{"old": nil, "new": "repair"}, change(es["tickets/create"], "type"), "other fields as recorded")
	es = entriesBy(auditOf(t, env, auditor, cus))
	require.Contains(t, es, "customers/update")
	assert.Equal(t, map[string]any{"old": "钱*", "new": "钱**"}, change(es["customers/update"], "name"))
	assert.Equal(t, map[string]any{"old": []any{"139****0101"}, "new": []any{"139****0101", "139****0102"}},
		change(es["customers/update"], "phones"))
	assert.Equal(t, map[string]any{"old": nil, "new": "钱*"}, change(es["customers/create"], "name"))
	assert.Zero(t, auditReads(auditOf(t, env, auditor, id), auditorID, "listAuditEntries"), "a masked read records nothing")

	// The tenant admin: in the clear, and each listing that showed a
	// ticket's or customer's values is recorded once as a read of it.
	es = entriesBy(auditOf(t, env, d.AdminKey, id))
	assert.Equal(t, map[string]any{"old": nil, "new": flowContact}, change(es["tickets/create"], "contact"))
	assert.Equal(t, "人民路 9 号 1 单元 101", change(es["tickets/create"], "address")["new"].(map[string]any)["line"])
	es = entriesBy(auditOf(t, env, d.AdminKey, cus))
	assert.Equal(t, map[string]any{"old": "钱七", "new": "钱七七"}, change(es["customers/update"], "name"))
	assert.Equal(t, map[string]any{"old": []any{"+8613955550101"}, "new": []any{"+8613955550101", "+8613955550102"}},
		change(es["customers/update"], "phones"))
	all := auditOf(t, env, auditor, id)
	assert.Equal(t, 1, auditReads(all, d.AdminID, "listAuditEntries"), "one read of the ticket for the listing: %v", all)
	all = auditOf(t, env, auditor, cus)
	assert.Equal(t, 1, auditReads(all, d.AdminID, "listAuditEntries"), "one read of the customer for its listing")
}

// inAuditLog counts the tenant's audit entries whose recorded values
// contain s (read as the owner, whatever the API shows).
func inAuditLog(t *testing.T, env *apitest.Env, tenantID, s string) int {
	t.Helper()
	var n int
	require.NoError(t, pg.InTenantTx(context.Background(), env.DB.Owner, tenantID, func(tx pg.TenantTx) error {
		return tx.QueryRow(context.Background(), `SELECT count(*) FROM audit_log
			WHERE tenant_id = $1 AND strpos(coalesce(created_row::text, '') || changes::text, $2) > 0`, tx.TenantID, s).Scan(&n)
	}))
	return n
}

// Retention masks a closed ticket at rest, and the audit log with it: the
// tenant admin and the auditor both read the ticket's creation and the
// retention's own change as masked as the ticket (before, the admin read
// the contact and address in full, the retention's change holding them as
// its old values). The customer's erasure then leaves no personal value of
// the customer or its ticket in the log, masked or not, for either role.
func TestAuditAfterRetentionAndErasure(t *testing.T) {
	f := newVisitFlow(t, "privacy-audit-retention")
	env, d := f.env, f.d
	tk := f.open(t, "PRIV-RET-0001", "remote")
	id, cus := tk["id"].(string), tk["customer_id"].(string)
	ticketAct(t, env, f.agent, id, "guidance", map[string]any{"outcome": "resolved", "notes": "已恢复排水"}, http.StatusOK)
	tk = ticketAct(t, env, f.agent, id, "callback", map[string]any{"outcome": "satisfied"}, http.StatusOK)
	require.Equal(t, "closed", tk["state"])
	auditor, _ := env.Key(t, d.AdminKey, "auditor")
	require.Positive(t, inAuditLog(t, env, d.ID, "13955550101"))

	r := env.Do(t, http.MethodPatch, "/v1/privacy-policy", d.AdminKey, map[string]any{"retention_days": 1}, `If-Match: "v0"`)
	require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
	n, err := env.Tickets.ApplyRetention(context.Background(), d.ID, time.Now().AddDate(0, 0, 2))
	require.NoError(t, err)
	require.Positive(t, n)
	r = env.Do(t, http.MethodGet, "/v1/tickets/"+id, d.AdminKey, nil)
	require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
	contact := r.JSON(t)["contact"].(map[string]any)
	require.Equal(t, []any{"钱*", "139****0101"}, []any{contact["name"], contact["phone"]}, "masked at rest")

	address := map[string]any{"region_code": d.Region, "line": "人民****"}
	for role, key := range map[string]string{"tenant_admin": d.AdminKey, "auditor": auditor} {
		body := auditBody(t, env, key, id)
		for _, s := range personalInClear {
			assert.False(t, strings.Contains(body, s), "%s reads %q in the audit log of a ticket masked at rest", role, s)
		}
		es := entriesBy(auditOf(t, env, key, id))
		assert.Equal(t, map[string]any{"old": nil, "new": flowContactMask}, change(es["tickets/create"], "contact"), role)
		assert.Equal(t, map[string]any{"old": nil, "new": address}, change(es["tickets/create"], "address"), role)
		retention := es["tickets/update"]
		assert.Equal(t, "system", retention["actor"], role)
		assert.Equal(t, map[string]any{"old": flowContactMask, "new": flowContactMask}, change(retention, "contact"),
			"%s: the retention's own change holds no clear old value", role)
		assert.Equal(t, map[string]any{"old": address, "new": address}, change(retention, "address"), role)
	}
	assert.Equal(t, 1, inAuditLog(t, env, d.ID, "13955550101"), "only the customer's creation holds the phone (retention masks tickets)")

	r = env.Do(t, http.MethodPost, "/v1/customers/"+cus+"/erase", d.AdminKey, map[string]any{})
	require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
	erased := map[string]any{"old": "[erased]", "new": "[erased]"}
	for role, key := range map[string]string{"tenant_admin": d.AdminKey, "auditor": auditor} {
		for _, obj := range []string{id, cus} {
			body := auditBody(t, env, key, obj)
			for _, s := range append(personalInClear, "139****0101", "钱*", "人民****") {
				assert.False(t, strings.Contains(body, s), "%s reads %q in the audit log of %s after the erasure", role, s, obj)
			}
		}
		es := entriesBy(auditOf(t, env, key, cus))
		for _, field := range []string{"name", "phones", "addresses"} {
			assert.Equal(t, erased, change(es["customers/create"], field), "%s: %s", role, field)
		}
		for _, e := range auditOf(t, env, key, id) {
			assert.NotContains(t, e["changes"], "contact", role)
			assert.NotContains(t, e["changes"], "address", role)
		}
	}
	for _, s := range append(personalInClear, "139****0101", "钱*", "人民****") {
		assert.Zero(t, inAuditLog(t, env, d.ID, s), "the tenant's audit log still holds %q after the erasure", s)
	}
}
