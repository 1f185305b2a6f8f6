package api_test

import (
	"context"
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

func TestTicketPaths(t *testing.T) {
	t.Parallel()
	codes := &codeSink{}
	env := apitest.New(t, apitest.Options{Codes: codes})
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
		fireTimer(t, env, id, "callback")
		require.Eventually(t, func() bool {
			return slices.Contains(timelineActions(t, env, agent, id), "sla_breached:resolved")
		}, 20*time.Second, 100*time.Millisecond)
		tk = ticketAct(t, env, agent, id, "callback", map[string]any{"outcome": "satisfied"}, http.StatusOK)
		assert.Equal(t, "closed", tk["state"])
	})

	t.Run("ObserveThenFailedGuidanceGoesToDispatch", func(t *testing.T) {
		id, _ := openReady(t, env, d, agent, "RMT-0002", 200, start)
		ticketAct(t, env, agent, id, "triage", map[string]any{"mode": "remote", "instructions": "观察 30 分钟"}, http.StatusOK)
		before := time.Now()
		tk := ticketAct(t, env, agent, id, "guidance", map[string]any{"outcome": "observe"}, http.StatusOK)
		assert.Equal(t, "remote_guidance", tk["state"])
		due, err := time.Parse(time.RFC3339, tk["sla"].(map[string]any)["callback_due_at"].(string))
		require.NoError(t, err)
		assert.WithinDuration(t, before.Add(30*time.Minute), due, time.Minute)
		tk = ticketAct(t, env, agent, id, "guidance", map[string]any{"outcome": "failed"}, http.StatusOK)
		assert.Equal(t, "dispatched", tk["state"], "%v", tk["state_reason"])
		assert.Nil(t, tk["sla"].(map[string]any)["callback_due_at"], "the callback is moot once a visit is dispatched")
	})

	t.Run("CarryInWithLoaner", func(t *testing.T) {
		id, unit := openReady(t, env, d, agent, "CRY-0003", 1200, start)
		tk := ticketAct(t, env, agent, id, "triage", map[string]any{"mode": "on_site"}, http.StatusOK)
		node := tk["node_id"].(string)
		tech := visit(t, env, clock, d.AdminKey, id, tk, start)

		// The node's stock: a part that fits the washer, one that does not.
		fits := demoPart(t, env, d.AdminKey, demoDrainPumpNumber)
		misfit := partFor(t, env, d.AdminKey, d.Washer, false)
		r := env.Do(t, http.MethodPost, "/v1/network/nodes/"+node+"/stock/receipts", d.AdminKey, map[string]any{
			"lines": []map[string]any{{"part_id": fits, "quantity": 2}, {"part_id": misfit, "quantity": 1}}})
		require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
		r = env.Do(t, http.MethodPost, "/v1/tickets/"+id+"/parts", tech, map[string]any{"op": "reserve",
			"lines": []map[string]any{{"part_id": misfit, "quantity": 1}}}, env.IfMatch(t, "/v1/tickets/"+id, tech)...)
		require.Equal(t, http.StatusUnprocessableEntity, r.Status, "%s", r.Body)
		assert.Contains(t, problemLocations(t, r, http.StatusUnprocessableEntity), "body.lines[0].part_id")
		for _, op := range []string{"reserve", "issue", "use", "return_defective"} {
			r = env.Do(t, http.MethodPost, "/v1/tickets/"+id+"/parts", tech, map[string]any{"op": op,
				"lines": []map[string]any{{"part_id": fits, "quantity": 1}}}, env.IfMatch(t, "/v1/tickets/"+id, tech)...)
			require.Equal(t, http.StatusOK, r.Status, "%s: %s", op, r.Body)
		}
		parts := r.JSON(t)["parts"].([]any)
		require.Len(t, parts, 1)
		assert.EqualValues(t, 1, parts[0].(map[string]any)["used"])
		assert.EqualValues(t, 1, parts[0].(map[string]any)["defective_returned"])

		// Carried in with a loaner of the node, due tomorrow.
		loaner := createdID(t, env, d.AdminKey, "/v1/loaners", map[string]any{"node_id": node, "category": "washer", "serial": "LN-TKT-0001"})
		tk = ticketAct(t, env, tech, id, "carry-in", map[string]any{"condition": "外观完好", "accessories": []string{"进水管"},
			"loaner": map[string]any{"loaner_id": loaner, "due_on": shanghaiToday(1)}}, http.StatusOK)
		require.Equal(t, "carry_in", tk["state"])
		ci := tk["carry_in"].(map[string]any)
		assert.Regexp(t, `^RC-SN-`, ci["receipt_number"])
		assert.Equal(t, loaner, ci["loan"].(map[string]any)["loaner_id"])
		r = env.Do(t, http.MethodGet, "/v1/loaners/"+loaner, d.AdminKey, nil)
		require.Equal(t, http.StatusOK, r.Status)
		assert.Equal(t, "lent", r.JSON(t)["status"])
		// Overdue two days later.
		env.Stock.Now = func() time.Time { return time.Now().AddDate(0, 0, 3) }
		assert.Equal(t, []string{loaner}, listIDs(t, env, d.AdminKey, "/v1/loaners?overdue=true"))
		env.Stock.Now = nil

		ticketAct(t, env, tech, id, "diagnose", map[string]any{"diagnosis": map[string]any{"cause": "performance", "repairable": true},
			"work":             map[string]any{"service_kind": "repair", "parts": []map[string]any{{"part_id": fits, "quantity": 1}}},
			"price_list_shown": true}, http.StatusOK)
		r = env.Do(t, http.MethodPost, "/v1/tickets/"+id+"/return", tech, map[string]any{}, env.IfMatch(t, "/v1/tickets/"+id, tech)...)
		require.Equal(t, http.StatusUnprocessableEntity, r.Status, "%s", r.Body)
		assert.Contains(t, problemLocations(t, r, http.StatusUnprocessableEntity), "body.loaner_condition")
		tk = ticketAct(t, env, tech, id, "return", map[string]any{"loaner_condition": "good"}, http.StatusOK)
		require.Equal(t, "returned", tk["state"])
		r = env.Do(t, http.MethodGet, "/v1/loaners/"+loaner, d.AdminKey, nil)
		assert.Equal(t, "available", r.JSON(t)["status"])
		tk = ticketAct(t, env, tech, id, "complete", map[string]any{"test_run": map[string]any{"passed": true}}, http.StatusOK)
		assert.Equal(t, "completed", tk["state"])
		// Out of warranty (1200 days > 36 months), on time, price list
		// shown: the customer pays by the price list (rule 2) labour
		// 120.00 + the drain pump quoted and used once 85.00 = 205.00; no
		// visit fee was quoted.
		assert.EqualValues(t, dayWasherLabor+dayDrainPump, amountOf(tk["customer_total"]))
		customer, brand, plan := completionTotals(tk)
		assert.EqualValues(t, 20500, customer)
		assert.EqualValues(t, 0, brand)
		assert.EqualValues(t, 0, plan)
		r = env.Do(t, http.MethodGet, "/v1/units/"+unit+"/history", d.AdminKey, nil)
		require.Equal(t, http.StatusOK, r.Status)
		assert.Len(t, r.JSON(t)["data"], 1, "the repair joined the unit's history")
	})

	t.Run("RepeatRepairIsFree", func(t *testing.T) {
		id, unit := openReady(t, env, d, agent, "RPT-0004", 1200, start)
		// A paid repair of the same unit four months ago.
		r := env.Do(t, http.MethodPost, "/v1/units/"+unit+"/service-records", d.AdminKey, map[string]any{"kind": "repair",
			"occurred_on": shanghaiToday(-120), "basis": "out_of_warranty", "fault_cause": "performance", "paid": true,
			"amount": cnyBody(18000), "reference": "OLD-1"})
		require.Equal(t, http.StatusCreated, r.Status, "%s", r.Body)
		tk := ticketAct(t, env, agent, id, "triage", map[string]any{"mode": "on_site"}, http.StatusOK)
		tech := visit(t, env, clock, d.AdminKey, id, tk, start)
		ticketAct(t, env, tech, id, "diagnose", map[string]any{"diagnosis": map[string]any{"cause": "performance", "repairable": true},
			"work": map[string]any{"service_kind": "repair", "include_visit": true}, "price_list_shown": true}, http.StatusOK)
		tk = ticketAct(t, env, tech, id, "complete", map[string]any{"test_run": map[string]any{"passed": true}}, http.StatusOK)
		// Rule 8 / Midea's promise 2: a fault again within a year of a paid
		// repair is free; the brand bears labour 120.00 + visit 50.00.
		assert.EqualValues(t, 0, amountOf(tk["customer_total"]))
		customer, brand, plan := completionTotals(tk)
		assert.EqualValues(t, 0, customer)
		assert.EqualValues(t, dayWasherLabor+dayWasherVisitFee, brand)
		assert.EqualValues(t, 0, plan)
		var codes []string
		for _, w := range tk["completion"].(map[string]any)["waivers"].([]any) {
			codes = append(codes, w.(map[string]any)["code"].(string))
		}
		assert.Equal(t, []string{"repeat_fault"}, codes)
	})

	t.Run("SignoffCodeExpires", func(t *testing.T) {
		id, _ := openReady(t, env, d, agent, "EXP-0005", 1200, start)
		tk := ticketAct(t, env, agent, id, "triage", map[string]any{"mode": "on_site"}, http.StatusOK)
		tech := visit(t, env, clock, d.AdminKey, id, tk, start)
		ticketAct(t, env, tech, id, "diagnose", map[string]any{"diagnosis": map[string]any{"cause": "performance", "repairable": true},
			"work": map[string]any{"service_kind": "repair"}, "price_list_shown": false}, http.StatusOK)
		tk = ticketAct(t, env, tech, id, "complete", map[string]any{"test_run": map[string]any{"passed": true}}, http.StatusOK)
		// Rule 8 / Midea's promise 3: no price list shown, the service is
		// free; the brand bears the labour 120.00 (no visit fee quoted).
		assert.EqualValues(t, 0, amountOf(tk["customer_total"]), "the price list was not shown: free")
		customer, brand, plan := completionTotals(tk)
		assert.EqualValues(t, 0, customer)
		assert.EqualValues(t, dayWasherLabor, brand)
		assert.EqualValues(t, 0, plan)
		ticketAct(t, env, tech, id, "sign-off/code", nil, http.StatusOK)
		clock.Set(clock.Now().Add(16 * time.Minute))
		r := env.Do(t, http.MethodPost, "/v1/tickets/"+id+"/sign-off", tech, map[string]any{"code": codes.code(id), "rating": 5}, env.IfMatch(t, "/v1/tickets/"+id, tech)...)
		require.Equal(t, http.StatusUnprocessableEntity, r.Status, "%s", r.Body)
		assert.Contains(t, string(r.Body), "expired")
		r = env.Do(t, http.MethodGet, "/v1/tickets/"+id, tech, nil)
		assert.Nil(t, r.JSON(t)["signoff"].(map[string]any)["signed_off_at"], "nothing changed")
		// Without a code the sign-off is recorded unconfirmed; the daily
		// reconciliation flags it.
		tk = ticketAct(t, env, tech, id, "sign-off", map[string]any{"rating": 5}, http.StatusOK)
		assert.Equal(t, false, tk["signoff"].(map[string]any)["confirmed_by_code"])
		n, err := env.Tickets.Reconcile(context.Background(), d.ID, clock.Now().In(start.Location()).Format(time.DateOnly))
		require.NoError(t, err)
		assert.Positive(t, n)
		r = env.Do(t, http.MethodGet, "/v1/reconciliation/findings?problem=rating_not_confirmed", d.AdminKey, nil)
		require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
		found := false
		for _, f := range r.JSON(t)["data"].([]any) {
			found = found || f.(map[string]any)["ticket_id"] == id
		}
		assert.True(t, found, "the unconfirmed rating is flagged: %s", r.Body)
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

	t.Run("FiveWrongCodesNeedANewCode", func(t *testing.T) {
		clock.Set(time.Time{})
		id, _ := openReady(t, env, d, agent, "WRG-0008", 1200, start)
		tk := ticketAct(t, env, agent, id, "triage", map[string]any{"mode": "on_site"}, http.StatusOK)
		tech := visit(t, env, clock, d.AdminKey, id, tk, start)
		ticketAct(t, env, tech, id, "diagnose", map[string]any{"diagnosis": map[string]any{"cause": "performance", "repairable": true},
			"work": map[string]any{"service_kind": "repair"}, "price_list_shown": true}, http.StatusOK)
		ticketAct(t, env, tech, id, "complete", map[string]any{"test_run": map[string]any{"passed": true}}, http.StatusOK)
		ticketAct(t, env, tech, id, "sign-off/code", nil, http.StatusOK)
		code := codes.code(id)
		wrong := "000000"
		if code == wrong {
			wrong = "111111"
		}
		for range 5 {
			r := env.Do(t, http.MethodPost, "/v1/tickets/"+id+"/sign-off", tech, map[string]any{"code": wrong, "rating": 5}, env.IfMatch(t, "/v1/tickets/"+id, tech)...)
			require.Equal(t, http.StatusUnprocessableEntity, r.Status, "%s", r.Body)
		}
		r := env.Do(t, http.MethodPost, "/v1/tickets/"+id+"/sign-off", tech, map[string]any{"code": code, "rating": 5}, env.IfMatch(t, "/v1/tickets/"+id, tech)...)
		require.Equal(t, http.StatusUnprocessableEntity, r.Status, "the right code no longer works: %s", r.Body)
		assert.Contains(t, string(r.Body), "too many wrong codes")
		ticketAct(t, env, tech, id, "sign-off/code", nil, http.StatusOK)
		tk = ticketAct(t, env, tech, id, "sign-off", map[string]any{"code": codes.code(id), "rating": 5}, http.StatusOK)
		assert.Equal(t, true, tk["signoff"].(map[string]any)["confirmed_by_code"])
	})

	t.Run("CancelReleasesAndStopsClocks", func(t *testing.T) {
		clock.Set(time.Time{})
		id, _ := openReady(t, env, d, agent, "CNL-0006", 100, start)
		tk := ticketAct(t, env, agent, id, "cancel", map[string]any{"reason": "客户已自行解决"}, http.StatusOK)
		assert.Equal(t, "cancelled", tk["state"])
		sla := tk["sla"].(map[string]any)
		assert.Nil(t, sla["route_due_at"])
		assert.Nil(t, sla["completion_due_at"])
		r := env.Do(t, http.MethodPost, "/v1/tickets/"+id+"/triage", agent, map[string]any{"mode": "on_site"}, env.IfMatch(t, "/v1/tickets/"+id, agent)...)
		require.Equal(t, http.StatusConflict, r.Status)
		assert.Contains(t, string(r.Body), "cancelled")
	})
}

// partFor returns a catalog part that fits model (fits) or one that does not.
func partFor(t *testing.T, env *apitest.Env, admin, model string, fits bool) string {
	t.Helper()
	fit := listIDs(t, env, admin, "/v1/catalog/parts?model_id="+model+"&limit=50")
	fitting := map[string]bool{}
	for _, id := range fit {
		fitting[id] = true
	}
	if fits {
		require.NotEmpty(t, fit, "no part fits %s", model)
		return fit[0]
	}
	for _, id := range listIDs(t, env, admin, "/v1/catalog/parts?limit=200") {
		if !fitting[id] {
			return id
		}
	}
	t.Fatal("every part fits")
	return ""
}
