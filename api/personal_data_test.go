package api_test

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/servicenet/servicenet/internal/apitest"
)

// reads counts the audit log's reads of objectID by operation, made by the
// key keyID (or on behalf of onBehalfOf when keyID is "").
func reads(t *testing.T, env *apitest.Env, auditor, objectID, operation, keyID, onBehalfOf string) int {
	t.Helper()
	n := 0
	for _, e := range auditOf(t, env, auditor, objectID) {
		if e["action"] != "read" || e["operation"] != operation {
			continue
		}
		if (keyID != "" && e["actor"] == keyID) || (keyID == "" && e["on_behalf_of"] == onBehalfOf) {
			n++
		}
	}
	return n
}

// A visit exception's product location is an address of the customer's:
// the brand's staff, and the technician and node on the job (and for the
// grace period after it), see it; the auditor, and the technician and node
// once the grace period has passed, see it masked like the service
// address. The timeline does not repeat it. The customer's export holds it,
// the erasure removes it (from the audit log too).
func TestVisitExceptionLocationIsPersonal(t *testing.T) {
	t.Parallel()
	f := newVisitFlow(t, "privacy-visit-location")
	env, d := f.env, f.d
	tk, start, techKey := f.scheduled(t, "PRIV-LOC-0001")
	id, cus, techID := tk["id"].(string), tk["customer_id"].(string), tk["technician_id"].(string)
	r := env.Do(t, http.MethodPost, "/v1/api-keys", d.AdminKey, map[string]any{"name": "node",
		"roles": []string{"node_manager"}, "node_id": tk["node_id"]})
	require.Equal(t, http.StatusCreated, r.Status, "%s", r.Body)
	nodeKey := r.JSON(t)["secret"].(string)
	auditor, auditorID := env.Key(t, d.AdminKey, "auditor")

	const where, masked = "客户父母家，崂山区海尔路8号", "客户父母家，崂山区****"
	f.clock.Set(start.Add(-5 * time.Minute))
	tk = ticketAct(t, env, techKey, id, "visit-exception", map[string]any{"reason": "product_elsewhere", "product_location": where}, http.StatusOK)
	require.Equal(t, "assigned", tk["state"])

	location := func(key string) any {
		t.Helper()
		r := env.Do(t, http.MethodGet, "/v1/tickets/"+id+"/visits", key, nil)
		require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
		data := r.JSON(t)["data"].([]any)
		require.Len(t, data, 1)
		v := data[0].(map[string]any)
		assert.Equal(t, id, v["ticket_id"])
		return v["exception"].(map[string]any)["product_location"]
	}
	timeline := func(key string) string {
		t.Helper()
		r := env.Do(t, http.MethodGet, "/v1/tickets/"+id+"/timeline", key, nil)
		require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
		return string(r.Body)
	}

	// The job is open.
	for role, key := range map[string]string{"tenant_admin": d.AdminKey, "agent": f.agent, "technician": techKey, "node_manager": nodeKey} {
		assert.Equal(t, where, location(key), role)
	}
	assert.Equal(t, masked, location(auditor), "the auditor never sees personal data")
	for role, key := range map[string]string{"agent": f.agent, "auditor": auditor} {
		assert.False(t, strings.Contains(timeline(key), "海尔路"), "%s: the timeline repeats the location", role)
	}
	// The audit log's record of the visit shows it to the auditor as masked.
	r = env.Do(t, http.MethodGet, "/v1/audit?limit=200&object_id="+id+"&"+auditRange(), auditor, nil)
	require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
	assert.Contains(t, string(r.Body), masked, "the visit's creation is audited")
	assert.False(t, strings.Contains(string(r.Body), "海尔路"), "the auditor reads the location in the audit log")
	r = env.Do(t, http.MethodGet, "/v1/audit?limit=200&object_id="+id+"&"+auditRange(), d.AdminKey, nil)
	require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
	assert.Contains(t, string(r.Body), where, "the brand's staff read it in full")
	// The technician's unmasked read is logged; the auditor's masked one not.
	assert.Equal(t, 1, reads(t, env, auditor, id, "listTicketVisits", "", techID))
	assert.Zero(t, reads(t, env, auditor, id, "listTicketVisits", auditorID, ""))

	// The job ends; the grace period (24 h) passes.
	ticketAct(t, env, f.agent, id, "cancel", map[string]any{"reason": "客户取消"}, http.StatusOK)
	f.clock.Set(start.Add(23 * time.Hour))
	assert.Equal(t, where, location(techKey), "technician, within the grace period")
	f.clock.Set(start.Add(26 * time.Hour))
	assert.Equal(t, masked, location(techKey), "technician, after the grace period")
	assert.Equal(t, masked, location(nodeKey), "node manager, after the grace period")
	assert.Equal(t, where, location(f.agent), "the brand's staff")

	// The export holds it.
	r = env.Do(t, http.MethodGet, "/v1/customers/"+cus+"/export", d.AdminKey, nil)
	require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
	visits, _ := r.JSON(t)["visits"].([]any)
	require.Len(t, visits, 1, "the export's visits")
	v := visits[0].(map[string]any)
	assert.Equal(t, id, v["ticket_id"])
	assert.Equal(t, where, v["exception"].(map[string]any)["product_location"])

	// The erasure removes it: from the visit, the export and the audit log.
	r = env.Do(t, http.MethodPost, "/v1/customers/"+cus+"/erase", d.AdminKey, map[string]any{})
	require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
	assert.Equal(t, "[erased]", location(d.AdminKey))
	r = env.Do(t, http.MethodGet, "/v1/customers/"+cus+"/export", d.AdminKey, nil)
	require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
	assert.False(t, strings.Contains(string(r.Body), "海尔路"), "the export after the erasure holds the location")
	r = env.Do(t, http.MethodGet, "/v1/audit?limit=200&object_id="+id+"&"+auditRange(), auditor, nil)
	require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
	assert.Contains(t, string(r.Body), `"ticket_visits"`, "the visit's writes are audited")
	assert.False(t, strings.Contains(string(r.Body), "海尔路"), "the audit log kept the location")
}

// A phone that is no phone number sends the ticket to needs_info with a
// verification item naming the field, not the number: the auditor, who
// sees the contact's phone masked, does not read it in full in the
// verification or on the timeline.
func TestVerificationDoesNotRepeatThePhone(t *testing.T) {
	t.Parallel()
	f := newVisitFlow(t, "privacy-verification")
	env := f.env
	auditor, _ := env.Key(t, f.d.AdminKey, "auditor")
	r := env.Do(t, http.MethodPost, "/v1/tickets", f.agent, map[string]any{
		"channel": "hotline", "type": "repair",
		"contact": map[string]any{"name": "钱七", "phone": "1395555012"},
		"address": map[string]any{"region_code": f.d.Region, "line": "人民路 9 号 1 单元 101"},
		"unit":    map[string]any{"model_id": f.d.Washer, "serial": "PRIV-VER-0001", "purchase_date": shanghaiToday(-3 * 365)},
		"fault":   map[string]any{"symptom": "洗衣机脱水噪音大"},
	})
	require.Equal(t, http.StatusCreated, r.Status, "%s", r.Body)
	tk := r.JSON(t)
	id := tk["id"].(string)
	require.Equal(t, "needs_info", tk["state"])
	var problem string
	for _, it := range tk["verification"].([]any) {
		if it := it.(map[string]any); it["field"] == "contact.phone" {
			problem = it["problem"].(string)
		}
	}
	require.NotEmpty(t, problem, "%v", tk["verification"])
	assert.True(t, strings.HasPrefix(problem, "contact.phone is not a valid phone number"), problem)
	assert.NotContains(t, problem, "1395555012")

	r = env.Do(t, http.MethodGet, "/v1/tickets/"+id, auditor, nil)
	require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
	assert.Equal(t, "139****5012", r.JSON(t)["contact"].(map[string]any)["phone"])
	assert.False(t, strings.Contains(string(r.Body), "1395555012"), "the auditor reads the phone in full")
	r = env.Do(t, http.MethodGet, "/v1/tickets/"+id+"/timeline", auditor, nil)
	require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
	assert.Contains(t, string(r.Body), "contact.phone")
	assert.False(t, strings.Contains(string(r.Body), "1395555012"), "the timeline holds the phone in full")
}
