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

// openReady opens a complete repair intake for a new washer bought
// purchaseDaysAgo days ago and returns the new ticket's id and unit.
func openReady(t *testing.T, env *apitest.Env, d apitest.DemoBrand, key, serial string, purchaseDaysAgo int, start time.Time) (id, unit string) {
	t.Helper()
	r := env.Do(t, http.MethodPost, "/v1/tickets", key, map[string]any{
		"channel": "web", "type": "repair",
		"contact": map[string]any{"name": "客户 " + serial, "phone": "+86 138 " + serial[len(serial)-4:] + " 0000"},
		"address": map[string]any{"region_code": d.Region, "line": "建设路 1 号"},
		"unit":    map[string]any{"model_id": d.Washer, "serial": serial, "purchase_date": shanghaiToday(-purchaseDaysAgo)},
		"fault":   map[string]any{"symptom": "不排水"}, "preferred_window": window(start),
	})
	require.Equal(t, http.StatusCreated, r.Status, "%s", r.Body)
	m := r.JSON(t)
	require.Equal(t, "new", m["state"], "%v", m["verification"])
	return m["id"].(string), m["unit_id"].(string)
}

// visit takes a dispatched ticket through accept, schedule and an on-time
// check-in with the technician's key, which it returns.
func visit(t *testing.T, env *apitest.Env, clock *testClock, admin, id string, tk map[string]any, start time.Time) string {
	t.Helper()
	require.Equal(t, "dispatched", tk["state"], "%v", tk["state_reason"])
	require.NotNil(t, tk["technician_id"], "no technician proposed: %v", tk["state_reason"])
	key := technicianKey(t, env, admin, tk["technician_id"].(string))
	ticketAct(t, env, key, id, "accept", nil, http.StatusOK)
	ticketAct(t, env, key, id, "schedule", map[string]any{"window": window(start)}, http.StatusOK)
	clock.Set(start.Add(-6 * time.Minute))
	tk = ticketAct(t, env, key, id, "check-in", nil, http.StatusOK)
	require.Equal(t, "early", tk["appointment"].(map[string]any)["arrival"])
	return key
}

// TestTicketPaths walks ticket paths over HTTP where the contract is the
// point: an SLA deadline checked ahead of the sweep, the queues each role's key sees, a
// storefront key's own tickets. The paths' domain rules (guidance
// outcomes, parts and loaners, charges and who pays, sign-off codes,
// rejection and manual dispatch, cancelling) are tested in rolled-back
// transactions in tenants/tickets/paths_test.go.
func TestTicketPaths(t *testing.T) {
	t.Parallel()
	env := apitest.New(t)
	clock := &testClock{}
	env.Tickets.Now = clock.Now
	d := env.DemoBrand(t, "tickets-paths")
	agent, _ := env.Key(t, d.AdminKey, "agent")
	start := apitest.WeekdayMorning(time.Now(), 2)

	t.Run("RemoteGuidanceWithItsTwoHourCallback", func(t *testing.T) {
		id, _ := openReady(t, env, d, agent, "RMT-0001", 200, start)
		r := env.Do(t, http.MethodPost, "/v1/tickets/"+id+"/triage", agent, map[string]any{"mode": "remote"}, env.IfMatch(t, "/v1/tickets/"+id, agent)...)
		require.Equal(t, http.StatusUnprocessableEntity, r.Status, "%s", r.Body)
		assert.Contains(t, problemLocations(t, r, http.StatusUnprocessableEntity), "body.instructions")
		tk := ticketAct(t, env, agent, id, "triage", map[string]any{"mode": "remote", "instructions": "清理排水泵过滤器后重启"}, http.StatusOK)
		require.Equal(t, "remote_guidance", tk["state"])
		assert.Nil(t, tk["node_id"], "no visit, no node")
		before := time.Now()
		tk = ticketAct(t, env, agent, id, "guidance", map[string]any{"outcome": "resolved", "notes": "已恢复排水"}, http.StatusOK)
		require.Equal(t, "resolved", tk["state"])
		due, err := time.Parse(time.RFC3339, tk["sla"].(map[string]any)["callback_due_at"].(string))
		require.NoError(t, err)
		assert.WithinDuration(t, before.Add(2*time.Hour), due, time.Minute, "the callback is due 2 hours after guidance")
		fireTimer(t, env, d.ID, id, "callback")
		require.Eventually(t, func() bool {
			return slices.Contains(timelineActions(t, env, agent, id), "sla_breached:resolved")
		}, 20*time.Second, 100*time.Millisecond)
		tk = ticketAct(t, env, agent, id, "callback", map[string]any{"outcome": "satisfied"}, http.StatusOK)
		assert.Equal(t, "closed", tk["state"])
	})

	t.Run("RejectionRedispatchesAndRoleViews", func(t *testing.T) {
		clock.Set(time.Time{})
		id, _ := openReady(t, env, d, agent, "REJ-0007", 100, start)
		tk := ticketAct(t, env, agent, id, "triage", map[string]any{"mode": "on_site"}, http.StatusOK)
		require.Equal(t, "dispatched", tk["state"])
		first, node := tk["technician_id"].(string), tk["node_id"].(string)
		// The dispatcher's queue of unassigned tickets has it.
		dispatcher, _ := env.Key(t, d.AdminKey, "dispatcher")
		assert.Contains(t, listIDs(t, env, dispatcher, "/v1/tickets?unassigned=true&limit=200"), id)
		// The node's manager sees it in its queue; another node's manager does not.
		r := env.Do(t, http.MethodPost, "/v1/api-keys", d.AdminKey, map[string]any{"name": "rp manager", "roles": []string{"node_manager"}, "node_id": node})
		require.Equal(t, http.StatusCreated, r.Status, "%s", r.Body)
		manager := r.JSON(t)["secret"].(string)
		assert.Contains(t, listIDs(t, env, manager, "/v1/tickets?state=dispatched"), id)
		// The proposed technician rejects: re-dispatched without them.
		key := technicianKey(t, env, d.AdminKey, first)
		tk = ticketAct(t, env, key, id, "reject", map[string]any{"reason_code": "schedule_conflict", "note": "当天已排满"}, http.StatusOK)
		require.Contains(t, []any{"dispatched", "triaged"}, tk["state"])
		assert.NotEqual(t, first, tk["technician_id"], "the rejecting technician is not proposed again")
		rec := tk["dispatch"].(map[string]any)
		assert.Equal(t, []any{first}, rec["rejected_technicians"])
		r = env.Do(t, http.MethodGet, "/v1/tickets/"+id, key, nil)
		assert.Equal(t, http.StatusNotFound, r.Status, "the ticket is no longer the rejecting technician's")
		steps := timelineActions(t, env, agent, id)
		assert.True(t, slices.Contains(steps, "rejected:dispatched") || slices.Contains(steps, "rejected:triaged"), "%v", steps)
		// A manual override needs a reason and is recorded.
		r = env.Do(t, http.MethodPost, "/v1/tickets/"+id+"/dispatch", dispatcher, map[string]any{"node_id": node}, env.IfMatch(t, "/v1/tickets/"+id, dispatcher)...)
		require.Equal(t, http.StatusUnprocessableEntity, r.Status, "%s", r.Body)
		assert.Contains(t, problemLocations(t, r, http.StatusUnprocessableEntity), "body.reason")
		tk = ticketAct(t, env, dispatcher, id, "dispatch", map[string]any{"node_id": node, "reason": "客户指定网点"}, http.StatusOK)
		assert.Equal(t, "客户指定网点", tk["dispatch"].(map[string]any)["override"].(map[string]any)["reason"])
	})

	t.Run("StorefrontOpensAndSeesOnlyItsOwnTickets", func(t *testing.T) {
		clock.Set(time.Time{})
		sfs := listIDs(t, env, d.AdminKey, "/v1/storefronts")
		require.NotEmpty(t, sfs)
		sf := env.StorefrontKey(t, d.AdminKey, sfs[0])
		units := listIDs(t, env, sf, "/v1/units?limit=1")
		require.NotEmpty(t, units, "the demo storefront sold units")
		body := map[string]any{"channel": "web", "type": "repair", "external_reference": "TM-88812",
			"contact": map[string]any{"name": "天猫客户", "phone": "+86 137 0000 8881"},
			"address": map[string]any{"region_code": d.Region, "line": "中山路 9 号"},
			"unit":    map[string]any{"unit_id": units[0]}, "fault": map[string]any{"symptom": "不制冷"}}
		r := env.Do(t, http.MethodPost, "/v1/tickets", sf, body)
		require.Equal(t, http.StatusCreated, r.Status, "%s", r.Body)
		tk := r.JSON(t)
		assert.Equal(t, "storefront", tk["channel"], "a storefront key always opens storefront tickets")
		assert.Equal(t, sfs[0], tk["storefront_id"])
		body["fault"] = map[string]any{"symptom": "另一个问题"}
		r = env.Do(t, http.MethodPost, "/v1/tickets", sf, body)
		require.Equal(t, http.StatusConflict, r.Status, "%s", r.Body)
		assert.Contains(t, problemLocations(t, r, http.StatusConflict), "body.external_reference")
		assert.Equal(t, tk["id"], r.JSON(t)["existing_id"], "the 409 names the ticket that holds the reference")
		other := env.StorefrontKey(t, d.AdminKey, env.Storefront(t, d.AdminKey, ""))
		// Found by the storefront's own reference and by its number; the
		// reference is the storefront's: another storefront finds nothing.
		assert.Equal(t, []string{tk["id"].(string)}, listIDs(t, env, sf, "/v1/tickets?external_reference=TM-88812"))
		assert.Equal(t, []string{tk["id"].(string)}, listIDs(t, env, d.AdminKey, "/v1/tickets?external_reference=TM-88812"))
		assert.Empty(t, listIDs(t, env, other, "/v1/tickets?external_reference=TM-88812"))
		assert.Empty(t, listIDs(t, env, sf, "/v1/tickets?external_reference=TM-00000"))
		assert.Equal(t, []string{tk["id"].(string)}, listIDs(t, env, sf, "/v1/tickets?number="+tk["number"].(string)))
		assert.Equal(t, []string{tk["id"].(string)}, listIDs(t, env, d.AdminKey, "/v1/tickets?number="+tk["number"].(string)))
		assert.Empty(t, listIDs(t, env, other, "/v1/tickets?number="+tk["number"].(string)))
		r = env.Do(t, http.MethodGet, "/v1/tickets/"+tk["id"].(string), other, nil)
		assert.Equal(t, http.StatusNotFound, r.Status)
		assert.NotContains(t, listIDs(t, env, other, "/v1/tickets"), tk["id"])
		assert.Contains(t, listIDs(t, env, sf, "/v1/tickets"), tk["id"])
		r = env.Do(t, http.MethodPost, "/v1/tickets/"+tk["id"].(string)+"/cancel", sf, map[string]any{"reason": "客户撤销"}, env.IfMatch(t, "/v1/tickets/"+tk["id"].(string), sf)...)
		require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
	})

}
