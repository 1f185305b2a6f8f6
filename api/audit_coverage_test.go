package api_test

import (
	"net/http"
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/servicenet/servicenet/internal/apitest"
)

// auditEntry finds the entry of objectType and action among es.
func auditEntry(es []map[string]any, objectType, action string) map[string]any {
	i := slices.IndexFunc(es, func(e map[string]any) bool { return e["object_type"] == objectType && e["action"] == action })
	if i < 0 {
		return nil
	}
	return es[i]
}

// The tables added after the audit log (visits and follow-up tasks,
// notification gateways, …; migration 027) are audited like the rest: who,
// what, and the changed fields with old and new values, secrets excluded.
// An auditor finds a visit under its ticket.
func TestAuditCoversAddedTables(t *testing.T) {
	t.Parallel()
	f := newVisitFlow(t, "audit-added")
	auditor, _ := f.env.Key(t, f.d.AdminKey, "auditor")
	tk := f.open(t, "AUDIT-VISIT-0001", "on_site")
	id := tk["id"].(string)
	start := apitest.WeekdayMorning(time.Now(), 2)
	key := f.accept(t, tk, start)
	f.clock.Set(start.Add(2*time.Hour + 20*time.Minute)) // late, after the two-hour window: the seed's apology and gift follow
	ticketAct(t, f.env, key, id, "check-in", nil, http.StatusOK)

	visit := auditEntry(auditOf(t, f.env, auditor, id), "ticket_visits", "create")
	require.NotNil(t, visit, "the check-in's visit is audited under its ticket")
	assert.Equal(t, "checkInTicket", visit["operation"])
	assert.Equal(t, []any{"technician"}, visit["roles"])
	assert.NotEmpty(t, visit["on_behalf_of"], "the technician the key acts for")
	changes := visit["changes"].(map[string]any)
	assert.Equal(t, map[string]any{"old": nil, "new": "very_late"}, changes["arrival"], "more than 15 minutes late")
	assert.Equal(t, map[string]any{"old": nil, "new": "on_site"}, changes["outcome"])

	tasks := f.list(t, id, "tasks")
	require.NotEmpty(t, tasks)
	task := tasks[0]["id"].(string)
	r := f.env.Do(t, http.MethodPost, "/v1/tickets/"+id+"/tasks/"+task+"/complete", key,
		map[string]any{"outcome": "done", "note": "已致歉"}, f.env.IfMatch(t, "/v1/tickets/"+id, key)...)
	require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
	es := auditOf(t, f.env, auditor, task)
	require.NotNil(t, auditEntry(es, "ticket_tasks", "create"), "%v", es)
	upd := auditEntry(es, "ticket_tasks", "update")
	require.NotNil(t, upd, "%v", es)
	assert.Equal(t, "completeTicketTask", upd["operation"])
	assert.Equal(t, map[string]any{"old": "open", "new": "done"}, upd["changes"].(map[string]any)["state"])
	assert.Equal(t, map[string]any{"old": nil, "new": "已致歉"}, upd["changes"].(map[string]any)["note"])

	// A gateway's secret is never recorded; its changes are.
	r = f.env.Do(t, http.MethodPost, "/v1/notification-gateways", f.d.AdminKey, map[string]any{"url": "https://8.8.8.8/sms", "description": "短信网关"})
	require.Equal(t, http.StatusCreated, r.Status, "%s", r.Body)
	gw := r.JSON(t)["id"].(string)
	r = f.env.Do(t, http.MethodPatch, "/v1/notification-gateways/"+gw, f.d.AdminKey, map[string]any{"description": "备用短信网关"},
		f.env.IfMatch(t, "/v1/notification-gateways/"+gw, f.d.AdminKey)...)
	require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
	es = auditOf(t, f.env, auditor, gw)
	require.NotNil(t, auditEntry(es, "notification_gateways", "create"), "%v", es)
	upd = auditEntry(es, "notification_gateways", "update")
	require.NotNil(t, upd, "%v", es)
	assert.Equal(t, map[string]any{"description": map[string]any{"old": "短信网关", "new": "备用短信网关"}}, upd["changes"])
	for _, e := range es {
		assert.NotContains(t, e["changes"], "secret")
	}
}

// The child tables that were debt (migration 035) are audited under the
// object they belong to: a ticket's appointment windows and part lines
// under the ticket, a part's compatible models under the part. An update
// of a part line records the old and new quantities.
func TestAuditCoversChildTables(t *testing.T) {
	t.Parallel()
	f := newVisitFlow(t, "audit-children")
	admin := f.d.AdminKey
	auditor, _ := f.env.Key(t, admin, "auditor")
	tk := f.open(t, "AUDIT-PART-0001", "on_site")
	id := tk["id"].(string)
	start := apitest.WeekdayMorning(time.Now(), 2)
	key := f.accept(t, tk, start)
	f.clock.Set(start.Add(-5 * time.Minute))
	ticketAct(t, f.env, key, id, "check-in", nil, http.StatusOK)
	f.diagnose(t, key, id)
	part := plainPart(t, f.env, admin, f.d.Washer)
	fitParts(t, f.env, admin, key, id, tk["node_id"].(string), part, 2)

	es := auditOf(t, f.env, auditor, id)
	window := auditEntry(es, "ticket_appointments", "create")
	require.NotNil(t, window, "the agreed window is audited under its ticket: %v", es)
	assert.Equal(t, "scheduleTicket", window["operation"])
	line := auditEntry(es, "ticket_parts", "create")
	require.NotNil(t, line, "the part line is audited under its ticket: %v", es)
	assert.Equal(t, map[string]any{"old": nil, "new": part}, line["changes"].(map[string]any)["part_id"])
	var issued map[string]any
	for _, e := range es {
		if e["object_type"] == "ticket_parts" && e["action"] == "update" && e["changes"].(map[string]any)["issued"] != nil {
			issued = e
		}
	}
	require.NotNil(t, issued, "issuing the reserved parts is an update of the line: %v", es)
	assert.Equal(t, []any{"technician"}, issued["roles"])
	assert.Equal(t, tk["technician_id"], issued["on_behalf_of"])
	assert.Equal(t, map[string]any{"old": float64(0), "new": float64(2)}, issued["changes"].(map[string]any)["issued"])
	assert.NotContains(t, issued["changes"], "updated_at", "updated_at alone is no change of its own")

	// A part's compatible models, under the part.
	r := f.env.Do(t, http.MethodGet, "/v1/catalog/parts/"+part, admin, nil)
	require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
	r = f.env.Do(t, http.MethodPatch, "/v1/catalog/parts/"+part, admin, map[string]any{"compatible_model_ids": []string{}},
		f.env.IfMatch(t, "/v1/catalog/parts/"+part, admin)...)
	require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
	var removed []any
	for _, e := range auditOf(t, f.env, auditor, part) {
		if e["object_type"] == "part_models" && e["action"] == "delete" {
			assert.Equal(t, "updatePart", e["operation"])
			removed = append(removed, e["changes"].(map[string]any)["model_id"].(map[string]any)["old"])
		}
	}
	assert.Contains(t, removed, f.d.Washer, "the removed compatibility is audited under the part")
}
