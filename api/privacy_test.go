package api_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/servicenet/servicenet/internal/apitest"
	"github.com/servicenet/servicenet/internal/pg"
)

// customersOf lists the customers key sees (one page).
func customersOf(t *testing.T, env *apitest.Env, key string) map[string]map[string]any {
	t.Helper()
	r := env.Do(t, http.MethodGet, "/v1/customers?limit=200", key, nil)
	require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
	out := map[string]map[string]any{}
	for _, c := range r.JSON(t)["data"].([]any) {
		c := c.(map[string]any)
		out[c["id"].(string)] = c
	}
	return out
}

func auditRange() string {
	now := time.Now()
	return "from=" + url.QueryEscape(now.Add(-24*time.Hour).Format(time.RFC3339)) + "&to=" + url.QueryEscape(now.Add(24*time.Hour).Format(time.RFC3339))
}

// auditOf lists the audit entries about objectID.
func auditOf(t *testing.T, env *apitest.Env, key, objectID string) []map[string]any {
	t.Helper()
	r := env.Do(t, http.MethodGet, "/v1/audit?limit=200&object_id="+objectID+"&"+auditRange(), key, nil)
	require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
	var out []map[string]any
	for _, e := range r.JSON(t)["data"].([]any) {
		out = append(out, e.(map[string]any))
	}
	return out
}

// A technician key on the demo brand lists customers: only those its jobs
// touch, and masked, always (its job needs the ticket's contact and
// service address, not every phone and address the brand holds). The
// ticket's contact it sees while the job is open and for the grace period
// after, masked once it has passed. Customers its jobs never touched are
// not found; the brand's agents always see the data, auditors never.
func TestTechnicianSeesCustomersOnlyForOpenJobs(t *testing.T) {
	f := newVisitFlow(t, "privacy-tech")
	env, d := f.env, f.d
	start := apitest.WeekdayMorning(time.Now(), 2)
	tk := f.open(t, "PRIV-TECH-0001", "on_site")
	id, cus := tk["id"].(string), tk["customer_id"].(string)
	techKey := f.accept(t, tk, start)
	auditor, _ := env.Key(t, d.AdminKey, "auditor")
	// reads counts the technician's unmasked reads of object the audit log
	// holds (of operation, or any).
	reads := func(object, operation string) (n int) {
		for _, e := range auditOf(t, env, auditor, object) {
			if e["action"] == "read" && e["on_behalf_of"] == tk["technician_id"] && (operation == "" || e["operation"] == operation) {
				n++
			}
		}
		return n
	}

	// The demo brand has its 28 customers plus this one; the technician sees one.
	all := customersOf(t, env, f.agent)
	require.Greater(t, len(all), 20)
	mine := customersOf(t, env, techKey)
	require.Len(t, mine, 1, "a technician lists only the customers of its jobs")
	c := mine[cus]
	require.NotNil(t, c)
	assert.Equal(t, true, c["masked"], "the customer's record, on an open job too")
	assert.Equal(t, []any{"139****0101"}, c["phones"])
	assert.Equal(t, "钱*", c["name"])
	for other := range all {
		if other != cus {
			r := env.Do(t, http.MethodGet, "/v1/customers/"+other, techKey, nil)
			assert.Equal(t, http.StatusNotFound, r.Status, "another customer is out of a technician's scope: %s", r.Body)
			break
		}
	}
	r := env.Do(t, http.MethodGet, "/v1/tickets/"+id, techKey, nil)
	require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
	assert.Equal(t, "+8613955550101", r.JSON(t)["contact"].(map[string]any)["phone"])

	// The auditor sees the ticket masked.
	r = env.Do(t, http.MethodGet, "/v1/tickets/"+id, auditor, nil)
	require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
	got := r.JSON(t)
	assert.Equal(t, true, got["masked"])
	assert.Equal(t, "139****0101", got["contact"].(map[string]any)["phone"])
	assert.Equal(t, "钱*", got["contact"].(map[string]any)["name"])
	assert.True(t, strings.HasSuffix(got["address"].(map[string]any)["line"].(string), "****"))

	// The job is done: within the grace period (24 h by default) still shown.
	f.clock.Set(start.Add(5 * time.Minute))
	ticketAct(t, env, techKey, id, "check-in", nil, http.StatusOK)
	f.diagnose(t, techKey, id)
	done := f.complete(t, techKey, id)
	require.Equal(t, "completed", done["state"])
	f.clock.Set(start.Add(23 * time.Hour))
	assert.Equal(t, true, customersOf(t, env, techKey)[cus]["masked"])
	r = env.Do(t, http.MethodGet, "/v1/tickets/"+id, techKey, nil)
	require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
	assert.Equal(t, "+8613955550101", r.JSON(t)["contact"].(map[string]any)["phone"], "the ticket's contact, within the grace period")

	// After the grace period the same customer and ticket come back masked, not 404.
	f.clock.Set(start.Add(26 * time.Hour))
	c = customersOf(t, env, techKey)[cus]
	require.NotNil(t, c, "still the technician's customer, masked")
	assert.Equal(t, true, c["masked"])
	assert.Equal(t, []any{"139****0101"}, c["phones"])
	r = env.Do(t, http.MethodGet, "/v1/customers/"+cus, techKey, nil)
	require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
	assert.Equal(t, true, r.JSON(t)["masked"])
	logged := reads(id, "getTicket")
	r = env.Do(t, http.MethodGet, "/v1/tickets/"+id, techKey, nil)
	require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
	assert.Equal(t, "139****0101", r.JSON(t)["contact"].(map[string]any)["phone"])
	assert.Equal(t, logged, reads(id, "getTicket"), "a masked read is not logged")

	// The agent still sees it all.
	r = env.Do(t, http.MethodGet, "/v1/customers/"+cus, f.agent, nil)
	require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
	assert.Equal(t, []any{"+8613955550101"}, r.JSON(t)["phones"])

	// The technician's unmasked reads are in the audit log; its masked ones
	// (every read of the customer's record) not.
	assert.Equal(t, 0, reads(cus, ""), "the customer's record, always masked")
	assert.GreaterOrEqual(t, logged, 2, "the unmasked GETs of the ticket (open job, then grace)")
}

// An update records the changed fields with old and new values, and who
// made it; the auditor finds it by object. Bad ranges are 422; roles
// without the permission get 403.
func TestAuditRecordsOldAndNewValues(t *testing.T) {
	env := apitest.Shared(t)
	ten := env.CreateTenant(t, "privacy-audit")
	agent, agentID := env.Key(t, ten.AdminKey, "agent")
	auditor, _ := env.Key(t, ten.AdminKey, "auditor")
	r := env.Do(t, http.MethodPost, "/v1/customers", agent, map[string]any{"name": "王丽", "phones": []string{"13800138000"}})
	require.Equal(t, http.StatusCreated, r.Status, "%s", r.Body)
	cus := r.JSON(t)["id"].(string)
	r = env.Do(t, http.MethodPatch, "/v1/customers/"+cus, agent, map[string]any{"name": "王丽华"}, env.IfMatch(t, "/v1/customers/"+cus, agent)...)
	require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)

	var update map[string]any
	actions := []string{}
	for _, e := range auditOf(t, env, auditor, cus) {
		actions = append(actions, e["action"].(string))
		if e["action"] == "update" && e["object_type"] == "customers" {
			update = e
		}
	}
	assert.Contains(t, actions, "create")
	require.NotNil(t, update, "%v", actions)
	assert.Equal(t, agentID, update["actor"])
	assert.Equal(t, []any{"agent"}, update["roles"])
	assert.Equal(t, "updateCustomer", update["operation"])
	assert.NotEmpty(t, update["request_id"])
	assert.Equal(t, map[string]any{"name": map[string]any{"old": "王*", "new": "王**"}}, update["changes"], "the auditor sees names masked")
	for _, e := range auditOf(t, env, ten.AdminKey, cus) {
		if e["action"] == "update" && e["object_type"] == "customers" {
			assert.Equal(t, map[string]any{"name": map[string]any{"old": "王丽", "new": "王丽华"}}, e["changes"], "the admin in the clear")
		}
	}

	// Filter by actor and operation: the update, and the read of its
	// answer (the customer, shown in full).
	r = env.Do(t, http.MethodGet, "/v1/audit?actor="+agentID+"&operation=updateCustomer&"+auditRange(), auditor, nil)
	require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
	var filtered []any
	for _, e := range r.JSON(t)["data"].([]any) {
		filtered = append(filtered, e.(map[string]any)["action"])
	}
	assert.Equal(t, []any{"update", "read"}, filtered)

	// Secrets are never recorded: the key's creation has no secret_hash.
	for _, e := range auditOf(t, env, auditor, agentID) {
		assert.NotContains(t, e["changes"], "secret_hash")
	}

	now := time.Now()
	for name, q := range map[string]string{
		"reversed":  "from=" + url.QueryEscape(now.Format(time.RFC3339)) + "&to=" + url.QueryEscape(now.Add(-time.Hour).Format(time.RFC3339)),
		"unbounded": "from=" + url.QueryEscape(now.Add(-time.Hour).Format(time.RFC3339)),
		"too_long":  "from=" + url.QueryEscape(now.AddDate(-2, 0, 0).Format(time.RFC3339)) + "&to=" + url.QueryEscape(now.Format(time.RFC3339)),
	} {
		r := env.Do(t, http.MethodGet, "/v1/audit?"+q, auditor, nil)
		assert.Equal(t, http.StatusUnprocessableEntity, r.Status, "%s: %s", name, r.Body)
	}
	r = env.Do(t, http.MethodGet, "/v1/audit?"+auditRange(), agent, nil)
	assert.Equal(t, http.StatusForbidden, r.Status, "%s", r.Body)
}

// Export, erase, export again: the second export holds no personal data;
// the tickets stay with their totals; the phone registers anew. An open
// ticket blocks the erasure (409 naming it); other roles get 403.
func TestExportThenEraseCustomer(t *testing.T) {
	f := newVisitFlow(t, "privacy-dsr")
	env, d := f.env, f.d
	tk := f.open(t, "PRIV-DSR-0001", "on_site")
	id, cus := tk["id"].(string), tk["customer_id"].(string)

	r := env.Do(t, http.MethodPost, "/v1/customers/"+cus+"/erase", d.AdminKey, map[string]any{})
	require.Equal(t, http.StatusConflict, r.Status, "%s", r.Body)
	assert.Contains(t, string(r.Body), id)
	r = env.Do(t, http.MethodPost, "/v1/customers/"+cus+"/erase", f.agent, map[string]any{})
	assert.Equal(t, http.StatusForbidden, r.Status, "%s", r.Body)
	r = env.Do(t, http.MethodGet, "/v1/customers/"+cus+"/export", f.agent, nil)
	assert.Equal(t, http.StatusForbidden, r.Status, "%s", r.Body)

	ticketAct(t, env, f.agent, id, "cancel", map[string]any{"reason": "客户取消"}, http.StatusOK)
	before := env.Do(t, http.MethodGet, "/v1/tickets/"+id, d.AdminKey, nil).JSON(t)

	r = env.Do(t, http.MethodGet, "/v1/customers/"+cus+"/export", d.AdminKey, nil)
	require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
	first := string(r.Body)
	for _, s := range []string{"13955550101", "钱七", "人民路 9 号"} {
		assert.Contains(t, first, s)
	}
	x := r.JSON(t)
	assert.Len(t, x["tickets"], 1)
	assert.NotEmpty(t, x["units"])
	assert.NotEmpty(t, x["events"])

	// The messages to the customer about the ticket (received, ...) keep
	// its number masked, in full only in their secret part.
	type message struct {
		recipient string
		secret    bool
	}
	messages := func() []message {
		var ms []message
		require.NoError(t, pg.InTenantTx(context.Background(), env.DB.Owner, d.ID, func(tx pg.TenantTx) error {
			rows, err := tx.Query(context.Background(), `SELECT recipient, secret IS NOT NULL FROM notifications
				WHERE tenant_id = $1 AND subject_id = $2`, tx.TenantID, id)
			if err != nil {
				return err
			}
			ms, err = pgx.CollectRows(rows, func(row pgx.CollectableRow) (message, error) {
				var m message
				return m, row.Scan(&m.recipient, &m.secret)
			})
			return err
		}))
		return ms
	}
	sent := messages()
	require.NotEmpty(t, sent, "the customer was told the ticket was received")
	for _, m := range sent {
		assert.Equal(t, "***0101", m.recipient, "stored masked")
	}

	r = env.Do(t, http.MethodPost, "/v1/customers/"+cus+"/erase", d.AdminKey, map[string]any{})
	require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
	assert.EqualValues(t, 1, r.JSON(t)["tickets_retained"])
	for _, m := range messages() {
		assert.Equal(t, message{recipient: "[erased]"}, m, "an erased customer's messages keep neither its number nor their text")
	}

	r = env.Do(t, http.MethodGet, "/v1/customers/"+cus+"/export", d.AdminKey, nil)
	require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
	for _, s := range []string{"13955550101", "139 5555", "钱七", "人民路 9 号"} {
		assert.NotContains(t, string(r.Body), s, "personal data left after erasure")
	}
	after := env.Do(t, http.MethodGet, "/v1/tickets/"+id, d.AdminKey, nil).JSON(t)
	for _, k := range []string{"state", "customer_total", "unit_id", "entitlement", "customer_id", "number"} {
		assert.Equal(t, before[k], after[k], k)
	}
	// The audit log kept no personal value either: not for the tenant admin
	// (who sees the log's personal values unmasked), nowhere in the log.
	r = env.Do(t, http.MethodGet, "/v1/audit?limit=200&object_id="+cus+"&"+auditRange(), d.AdminKey, nil)
	require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
	assert.NotContains(t, string(r.Body), "13955550101")
	assert.Contains(t, string(r.Body), `"erase"`)
	r = env.Do(t, http.MethodGet, "/v1/audit?limit=200&object_id="+id+"&"+auditRange(), d.AdminKey, nil)
	require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
	assert.NotContains(t, string(r.Body), "13955550101")
	for _, s := range personalInClear {
		assert.Zero(t, inAuditLog(t, env, d.ID, s), "the audit log holds %q after the erasure", s)
	}

	// The phone registers again as a new customer.
	r = env.Do(t, http.MethodPost, "/v1/customers", f.agent, map[string]any{"name": "钱七", "phones": []string{"+86 139 5555 0101"}})
	require.Equal(t, http.StatusCreated, r.Status, "%s", r.Body)
	assert.NotEqual(t, cus, r.JSON(t)["id"])
}

// Export, erase, export again for a customer whose unit has a warranty
// claim: the second export holds no personal data, and the brand's claim
// stays with its amounts (requested 400.00 CNY, approved by the
// extended warranty) and its decision.
func TestEraseKeepsClaimTotals(t *testing.T) {
	t.Parallel()
	env := apitest.Shared(t)
	w := newWasherShop(t, env, "privacy-claims")
	r := env.Do(t, http.MethodPost, "/v1/claims", w.admin, w.claim("extended_warranty", w.unit, "ERASE-1", "power_surge",
		labor(10000), w.boardLine(30000)))
	require.Equal(t, http.StatusCreated, r.Status, "%s", r.Body)
	claim := r.JSON(t)["id"].(string)
	m := waitClaim(t, env, w.admin, claim, "submitted")
	if m["state"] == "under_review" {
		m = waitClaim(t, env, w.admin, claim, "under_review")
	}
	require.Equal(t, "approved", m["state"], "%v", m)
	before := env.Do(t, http.MethodGet, "/v1/claims/"+claim, w.admin, nil).JSON(t)
	require.Equal(t, int64(40000), amountOf(before["total_requested"]))
	approved := amountOf(before["total_approved"])
	require.Positive(t, approved)

	r = env.Do(t, http.MethodGet, "/v1/units/"+w.unit, w.admin, nil)
	require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
	cus := r.JSON(t)["customer_id"].(string)
	r = env.Do(t, http.MethodGet, "/v1/customers/"+cus+"/export", w.admin, nil)
	require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
	for _, s := range []string{"13900000001", "钱七"} {
		assert.Contains(t, string(r.Body), s)
	}
	assert.Len(t, r.JSON(t)["claims"], 1)

	r = env.Do(t, http.MethodPost, "/v1/customers/"+cus+"/erase", w.admin, map[string]any{})
	require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
	assert.EqualValues(t, 1, r.JSON(t)["claims_retained"])

	r = env.Do(t, http.MethodGet, "/v1/customers/"+cus+"/export", w.admin, nil)
	require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
	for _, s := range []string{"13900000001", "139 0000 0001", "钱七"} {
		assert.NotContains(t, string(r.Body), s, "personal data left after erasure")
	}
	assert.Len(t, r.JSON(t)["claims"], 1, "the claim stays")
	after := env.Do(t, http.MethodGet, "/v1/claims/"+claim, w.admin, nil).JSON(t)
	assert.Equal(t, int64(40000), amountOf(after["total_requested"]))
	assert.Equal(t, approved, amountOf(after["total_approved"]))
	for _, k := range []string{"state", "unit_id", "lines", "decision", "total_calculated", "reference"} {
		assert.Equal(t, before[k], after[k], k)
	}
}

// What the customer wrote is masked with the contact: a symptom asking to
// call the customer's wife on her number, naming the customer, shows an
// auditor (who never sees personal data) the fault without the number or
// the name; the brand's agent sees it as written.
func TestMaskedTicketMasksTheCustomersWords(t *testing.T) {
	f := newVisitFlow(t, "privacy-text")
	env, d := f.env, f.d
	r := env.Do(t, http.MethodPost, "/v1/tickets", f.agent, map[string]any{
		"channel": "hotline", "type": "repair",
		"contact": map[string]any{"name": "钱七", "phone": "+86 139 5555 0101"},
		"address": map[string]any{"region_code": d.Region, "line": "人民路 9 号 1 单元 101"},
		"unit":    map[string]any{"model_id": d.Washer, "serial": "PRIV-TEXT-0001", "purchase_date": shanghaiToday(-400)},
		"fault": map[string]any{"symptom": "洗衣机 E4, 钱七白天不在, 请打 138-0013-8000 找他妻子",
			"customer_request": "上门前打 0532 88886666"},
	})
	require.Equal(t, http.StatusCreated, r.Status, "%s", r.Body)
	id := r.JSON(t)["id"].(string)
	auditor, _ := env.Key(t, d.AdminKey, "auditor")
	r = env.Do(t, http.MethodGet, "/v1/tickets/"+id, auditor, nil)
	require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
	fault := r.JSON(t)["fault"].(map[string]any)
	assert.Equal(t, "洗衣机 E4, 钱*白天不在, 请打 138****8000 找他妻子", fault["symptom"])
	assert.Equal(t, "上门前打 053****6666", fault["customer_request"])
	assert.NotContains(t, r.Body, "88886666")

	r = env.Do(t, http.MethodGet, "/v1/tickets/"+id, f.agent, nil)
	require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
	assert.Equal(t, "洗衣机 E4, 钱七白天不在, 请打 138-0013-8000 找他妻子", r.JSON(t)["fault"].(map[string]any)["symptom"])

	// The audit log's record of the ticket shows the auditor the words as
	// the ticket does: the contact's name masked too, not only the numbers.
	created := func(key string) map[string]any {
		t.Helper()
		for _, e := range auditOf(t, env, key, id) {
			if e["action"] == "create" && e["object_type"] == "tickets" {
				return e["changes"].(map[string]any)["fault"].(map[string]any)["new"].(map[string]any)
			}
		}
		t.Fatal("no creation of the ticket in the audit log")
		return nil
	}
	fault = created(auditor)
	assert.Equal(t, "洗衣机 E4, 钱*白天不在, 请打 138****8000 找他妻子", fault["symptom"])
	assert.Equal(t, "上门前打 053****6666", fault["customer_request"])
	r = env.Do(t, http.MethodGet, "/v1/audit?limit=200&object_id="+id+"&"+auditRange(), auditor, nil)
	require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
	assert.NotContains(t, string(r.Body), "钱七")
	assert.Equal(t, "洗衣机 E4, 钱七白天不在, 请打 138-0013-8000 找他妻子", created(d.AdminKey)["symptom"], "the brand's staff read it as written")
}

// TestPrivacyPolicyIsChangedLikeTheOtherPolicies: the privacy policy has an
// ETag (its version, "v0" before the tenant sets one) and a PATCH requires
// If-Match, as the SLA, care, claim and grading policies do: 428 without
// it, 412 with a stale one, nothing changed. A PATCH with the values the
// policy has answers it as read: same ETag, same updated_at, no
// privacy_policy.updated event (failed before: ETag "v2", a new
// updated_at). A change is one event.
func TestPrivacyPolicyIsChangedLikeTheOtherPolicies(t *testing.T) {
	t.Parallel()
	env := apitest.Shared(t)
	ten := env.CreateTenant(t, "privacy-policy-etag")
	path := "/v1/privacy-policy"
	read := func(t *testing.T) (map[string]any, string) {
		t.Helper()
		r := env.Do(t, http.MethodGet, path, ten.AdminKey, nil)
		require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
		return r.JSON(t), r.Header.Get("ETag")
	}
	pol, etag := read(t)
	require.Equal(t, `"v0"`, etag)
	require.Equal(t, 0.0, pol["version"])
	set := map[string]any{"grace_hours": 48, "retention_days": 365}

	r := env.Do(t, http.MethodPatch, path, ten.AdminKey, set)
	requireProblem(t, r, http.StatusPreconditionRequired, "precondition_required", "header.If-Match")
	r = env.Do(t, http.MethodPatch, path, ten.AdminKey, set, `If-Match: "v1"`)
	requireProblem(t, r, http.StatusPreconditionFailed, "precondition_failed", "header.If-Match")
	_, etag = read(t)
	require.Equal(t, `"v0"`, etag, "nothing changed")

	r = env.Do(t, http.MethodPatch, path, ten.AdminKey, set, `If-Match: "v0"`)
	require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
	require.Equal(t, `"v1"`, r.Header.Get("ETag"))
	first := r.JSON(t)
	require.Equal(t, 365.0, first["retention_days"])

	for _, body := range []map[string]any{set, {"retention_days": 365}, {}} {
		r = env.Do(t, http.MethodPatch, path, ten.AdminKey, body, `If-Match: "v1"`)
		require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
		require.Equal(t, `"v1"`, r.Header.Get("ETag"), "%v changes nothing", body)
		require.Equal(t, first, r.JSON(t))
	}
	pol, etag = read(t)
	require.Equal(t, `"v1"`, etag)
	require.Equal(t, first, pol)
	require.Len(t, eventsOf(t, env, ten.ID, "privacy_policy.updated", ten.ID), 1)

	r = env.Do(t, http.MethodPatch, path, ten.AdminKey, map[string]any{"retention_days": -1}, `If-Match: "v1"`)
	requireProblem(t, r, http.StatusUnprocessableEntity, "invalid", "body.retention_days")
	r = env.Do(t, http.MethodPatch, path, ten.AdminKey, map[string]any{"retention_days": 0}, `If-Match: "v1"`)
	require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
	require.Equal(t, `"v2"`, r.Header.Get("ETag"))
	require.NotContains(t, r.JSON(t), "retention_days", "retention off")
	evs := eventsOf(t, env, ten.ID, "privacy_policy.updated", ten.ID)
	require.Len(t, evs, 2)
	require.Equal(t, []any{"retention_days"}, evs[1]["changed"])
}
