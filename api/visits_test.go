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

func init() {
	for _, op := range []string{"listTicketVisits", "listTicketTasks"} {
		wantMatrix[op] = []string{"agent", "auditor", "dispatcher", "integrator", "node_manager", "storefront", "technician", "tenant_admin"}
	}
	for _, op := range []string{"recordTicketVisitException", "recordTicketChecklist", "completeTicketTask", "recordTicketContactAttempt"} {
		wantMatrix[op] = []string{"dispatcher", "node_manager", "technician", "tenant_admin"}
	}
	dummyParams["task_id"] = "tsk_00000000000000000000000000"
}

// The demo price list for a washer out of warranty (the rule: charges
// follow the price list): repair labor 120.00 and the visit fee 50.00.
const washerRepairAndVisit = 12000 + 5000

// visitFlow is a demo brand with a settable clock, an agent and helpers
// that take a washer ticket bought three years ago (out of warranty)
// through its visits.
type visitFlow struct {
	env   *apitest.Env
	d     apitest.DemoBrand
	clock *testClock
	agent string
}

func newVisitFlow(t *testing.T, slug string) *visitFlow {
	env := apitest.New(t)
	clock := &testClock{}
	env.Tickets.Now = clock.Now
	d := env.DemoBrand(t, slug)
	agent, _ := env.Key(t, d.AdminKey, "agent")
	return &visitFlow{env: env, d: d, clock: clock, agent: agent}
}

// open takes a washer ticket in (new) and triages it with mode.
func (f *visitFlow) open(t *testing.T, serial, mode string) map[string]any {
	t.Helper()
	f.clock.Set(time.Time{}) // back to the real time
	r := f.env.Do(t, http.MethodPost, "/v1/tickets", f.agent, map[string]any{
		"channel": "hotline", "type": "repair",
		"contact":          map[string]any{"name": "钱七", "phone": "+86 139 5555 0101"},
		"address":          map[string]any{"region_code": f.d.Region, "line": "人民路 9 号 1 单元 101"},
		"unit":             map[string]any{"model_id": f.d.Washer, "serial": serial, "purchase_date": shanghaiToday(-4 * 365)},
		"fault":            map[string]any{"symptom": "洗衣机脱水噪音大"},
		"preferred_window": window(apitest.WeekdayMorning(time.Now(), 2)),
	})
	require.Equal(t, http.StatusCreated, r.Status, "%s", r.Body)
	id := r.JSON(t)["id"].(string)
	body := map[string]any{"mode": mode}
	if mode == "remote" {
		body["instructions"] = "请断电重启并清理排水泵过滤器"
	}
	return ticketAct(t, f.env, f.agent, id, "triage", body, http.StatusOK)
}

// accept has the proposed technician accept the dispatched ticket and
// agree the window starting at start; it returns the technician's key.
func (f *visitFlow) accept(t *testing.T, tk map[string]any, start time.Time) string {
	t.Helper()
	require.Equal(t, "dispatched", tk["state"], "%v", tk["state_reason"])
	id := tk["id"].(string)
	techID, _ := tk["technician_id"].(string)
	require.NotEmpty(t, techID)
	key := technicianKey(t, f.env, f.d.AdminKey, techID)
	ticketAct(t, f.env, key, id, "accept", nil, http.StatusOK)
	ticketAct(t, f.env, key, id, "schedule", map[string]any{"window": window(start)}, http.StatusOK)
	return key
}

// inShift is the first two-hour window from start on inside a shift of
// tk's technician (apitest.Env.InShift): the demo's shift patterns lack
// some weekday mornings.
func (f *visitFlow) inShift(t *testing.T, tk map[string]any, start time.Time) time.Time {
	t.Helper()
	techID, _ := tk["technician_id"].(string)
	require.NotEmpty(t, techID, "%v", tk["state_reason"])
	return f.env.InShift(t, f.d.AdminKey, techID, start)
}

// scheduled opens a washer ticket on site (serial) and has its technician
// accept it and agree the first window inside the technician's shift from
// a weekday morning two days ahead. It returns the ticket as triaged
// (dispatched), the window's start and the technician's key.
func (f *visitFlow) scheduled(t *testing.T, serial string) (tk map[string]any, start time.Time, key string) {
	t.Helper()
	tk = f.open(t, serial, "on_site")
	start = f.inShift(t, tk, apitest.WeekdayMorning(time.Now(), 2))
	return tk, start, f.accept(t, tk, start)
}

func (f *visitFlow) diagnose(t *testing.T, key, id string) map[string]any {
	t.Helper()
	return ticketAct(t, f.env, key, id, "diagnose", map[string]any{
		"diagnosis": map[string]any{"cause": "performance", "repairable": true},
		"work":      map[string]any{"service_kind": "repair", "include_visit": true}, "price_list_shown": true}, http.StatusOK)
}

func (f *visitFlow) complete(t *testing.T, key, id string) map[string]any {
	t.Helper()
	return ticketAct(t, f.env, key, id, "complete", map[string]any{"test_run": map[string]any{"passed": true}}, http.StatusOK)
}

func (f *visitFlow) list(t *testing.T, id, what string) []map[string]any {
	t.Helper()
	r := f.env.Do(t, http.MethodGet, "/v1/tickets/"+id+"/"+what, f.agent, nil)
	require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
	var out []map[string]any
	for _, e := range r.JSON(t)["data"].([]any) {
		out = append(out, e.(map[string]any))
	}
	return out
}

// waivers lists the codes (and actions) of a completion's waivers.
func waivers(t *testing.T, tk map[string]any) []string {
	t.Helper()
	out := []string{}
	for _, w := range tk["completion"].(map[string]any)["waivers"].([]any) {
		w := w.(map[string]any)
		out = append(out, w["code"].(string)+":"+w["action"].(string))
	}
	return out
}

func totals(tk map[string]any) (customer, brand, list int64) {
	tt := tk["completion"].(map[string]any)["totals"].(map[string]any)
	return amountOf(tt["customer"]), amountOf(tt["brand"]), amountOf(tt["list"])
}

// A reopen after remote guidance is not a repeat visit: the first visit
// the network makes is charged by the price list (labour 120.00 + visit
// 50.00, out of warranty). The network coming again after the customer
// found that repair unsatisfactory is no promise of its own (seed 003,
// 承诺二: the repeat-visit clause is an installation's, 未送安同步而多次上门,
// 限美的专卖店购买): the fault back within two years of the paid repair
// makes the new round free (多次维修予以免单: 保修期外,首次付费维修后一年内
// (洗衣机产品两年)再出现故障则给予免费维修), the brand bearing 170.00, and the
// 170.00 the customer paid for the first round stays paid: no refund.
func TestRepeatVisitCountsTechnicianVisits(t *testing.T) {
	t.Parallel()
	f := newVisitFlow(t, "visits-repeat")

	tk := f.open(t, "VISIT-RPT-0001", "remote")
	require.Equal(t, "remote_guidance", tk["state"])
	id := tk["id"].(string)
	ticketAct(t, f.env, f.agent, id, "guidance", map[string]any{"outcome": "observe", "notes": "请观察30分钟"}, http.StatusOK)
	tk = ticketAct(t, f.env, f.agent, id, "callback", map[string]any{"outcome": "unsatisfied", "note": "仍有噪音"}, http.StatusOK)
	require.EqualValues(t, 1, tk["reopen_count"])

	start := f.inShift(t, tk, apitest.WeekdayMorning(time.Now(), 2))
	key := f.accept(t, tk, start)
	f.clock.Set(start.Add(-7 * time.Minute))
	tk = ticketAct(t, f.env, key, id, "check-in", nil, http.StatusOK)
	assert.Equal(t, "early", tk["appointment"].(map[string]any)["arrival"])
	f.clock.Set(start.Add(10 * time.Minute))
	tk = f.diagnose(t, key, id)
	assert.EqualValues(t, washerRepairAndVisit, amountOf(tk["entitlement"].(map[string]any)["decision"].(map[string]any)["totals"].(map[string]any)["customer"]))
	f.clock.Set(start.Add(50 * time.Minute))
	tk = f.complete(t, key, id)
	customer, brand, list := totals(tk)
	assert.EqualValues(t, washerRepairAndVisit, customer, "the first technician visit is charged by the price list")
	assert.EqualValues(t, 0, brand)
	assert.EqualValues(t, washerRepairAndVisit, list)
	assert.Empty(t, waivers(t, tk), "no repeat_visit: guidance is not a visit")
	assert.Equal(t, "out_of_warranty", tk["completion"].(map[string]any)["basis"])
	visits := f.list(t, id, "visits")
	require.Len(t, visits, 1)
	assert.EqualValues(t, 1, visits[0]["round"])
	assert.Equal(t, true, visits[0]["network_visit"])

	// The fix does not hold: the network comes again for the same fault.
	f.clock.Set(start.Add(3 * time.Hour))
	tk = ticketAct(t, f.env, f.agent, id, "callback", map[string]any{"outcome": "unsatisfied", "note": "噪音又出现"}, http.StatusOK)
	start2 := f.inShift(t, tk, apitest.WeekdayMorning(f.clock.Now(), 1))
	key = f.accept(t, tk, start2)
	f.clock.Set(start2.Add(-6 * time.Minute))
	ticketAct(t, f.env, key, id, "check-in", nil, http.StatusOK)
	f.diagnose(t, key, id)
	tk = f.complete(t, key, id)
	customer, brand, list = totals(tk)
	assert.EqualValues(t, 0, customer, "the fault back within two years of a paid repair is repaired free")
	assert.EqualValues(t, washerRepairAndVisit, brand, "the brand pays the waived service")
	assert.EqualValues(t, washerRepairAndVisit, list, "labour 120.00 + visit 50.00, once: not per visit")
	assert.Equal(t, []string{"repeat_fault:none"}, waivers(t, tk), "the repeat-fault promise, not a repeat visit")
	unit := tk["unit_id"].(string)
	assert.Empty(t, unitPayouts(t, f.env, f.d.AdminKey, unit), "the first round's 170.00 stays paid: no refund")

	// Completed again after another reopen, still free: nothing more is owed.
	f.clock.Set(start2.Add(3 * time.Hour))
	tk = ticketAct(t, f.env, f.agent, id, "callback", map[string]any{"outcome": "unsatisfied", "note": "还有异响"}, http.StatusOK)
	start3 := f.inShift(t, tk, apitest.WeekdayMorning(f.clock.Now(), 1))
	key = f.accept(t, tk, start3)
	f.clock.Set(start3.Add(-6 * time.Minute))
	ticketAct(t, f.env, key, id, "check-in", nil, http.StatusOK)
	f.diagnose(t, key, id)
	tk = f.complete(t, key, id)
	customer, brand, _ = totals(tk)
	assert.EqualValues(t, 0, customer)
	assert.EqualValues(t, washerRepairAndVisit, brand)
	assert.Equal(t, []string{"repeat_fault:none"}, waivers(t, tk))
	assert.Empty(t, unitPayouts(t, f.env, f.d.AdminKey, unit), "nothing is refunded")
}

// A late first visit earns the late promise for the whole service: a parts
// shortage forces a second visit, on time, and the service stays free.
func TestLatePromiseHoldsForLaterVisits(t *testing.T) {
	t.Parallel()
	f := newVisitFlow(t, "visits-late")
	r := f.env.Do(t, http.MethodGet, "/v1/catalog/parts?model_id="+f.d.Washer, f.d.AdminKey, nil)
	require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
	parts := r.JSON(t)["data"].([]any)
	require.NotEmpty(t, parts)
	partID := parts[0].(map[string]any)["id"].(string)

	for i, c := range []struct {
		late   int
		action string
	}{{1, "apology"}, {16, "apology_and_gift"}} {
		t.Run("Late"+itoa(c.late)+"Minutes", func(t *testing.T) {
			tk := f.open(t, "VISIT-LATE-000"+itoa(i), "on_site")
			id := tk["id"].(string)
			start := f.inShift(t, tk, apitest.WeekdayMorning(time.Now(), 2+i))
			key := f.accept(t, tk, start)

			f.clock.Set(start.Add(2*time.Hour + time.Duration(c.late)*time.Minute)) // after the two-hour window closed
			tk = ticketAct(t, f.env, key, id, "check-in", nil, http.StatusOK)
			assert.EqualValues(t, c.late, tk["appointment"].(map[string]any)["arrival_minutes"])
			tk = f.diagnose(t, key, id)
			dec := tk["entitlement"].(map[string]any)["decision"].(map[string]any)
			assert.EqualValues(t, 0, amountOf(dec["totals"].(map[string]any)["customer"]), "the diagnosis tells the customer 0")
			require.NotEmpty(t, dec["promises"])
			assert.Equal(t, "late_arrival", dec["promises"].([]any)[0].(map[string]any)["code"])

			// A shortage: the ticket waits for parts; the second visit is on time.
			r := f.env.Do(t, http.MethodPost, "/v1/tickets/"+id+"/parts", key, map[string]any{"op": "reserve",
				"lines": []any{map[string]any{"part_id": partID, "quantity": 100}}}, f.env.IfMatch(t, "/v1/tickets/"+id, key)...)
			require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
			require.Equal(t, "awaiting_parts", r.JSON(t)["ticket"].(map[string]any)["state"])
			start2 := f.inShift(t, tk, start.Add(48*time.Hour))
			ticketAct(t, f.env, key, id, "reschedule", map[string]any{"window": window(start2), "reason": "parts", "customer_agreed": true}, http.StatusOK)
			f.clock.Set(start2.Add(-5 * time.Minute))
			tk = ticketAct(t, f.env, key, id, "check-in", nil, http.StatusOK)
			assert.Equal(t, "early", tk["appointment"].(map[string]any)["arrival"])
			tk = f.complete(t, key, id)
			customer, brand, list := totals(tk)
			assert.EqualValues(t, 0, customer, "the late promise belongs to the service")
			assert.EqualValues(t, list, brand, "the brand pays the whole service")
			assert.EqualValues(t, washerRepairAndVisit, list)
			assert.Equal(t, []string{"late_arrival:" + c.action}, waivers(t, tk))

			visits := f.list(t, id, "visits")
			require.Len(t, visits, 2, "each visit keeps its own arrival")
			assert.EqualValues(t, c.late, visits[0]["arrival_minutes"])
			assert.EqualValues(t, -5, visits[1]["arrival_minutes"])

			// Lateness is an event: one arrival breach, the apology (and the gift).
			var kinds []string
			for _, k := range f.list(t, id, "tasks") {
				kinds = append(kinds, k["kind"].(string))
				assert.Equal(t, "open", k["state"])
			}
			want := []string{"apologise"}
			if c.late > 15 {
				want = append(want, "gift")
			}
			assert.ElementsMatch(t, want, kinds)
			assert.Contains(t, timelineActions(t, f.env, f.agent, id), "sla_breached:scheduled")
			r = f.env.Do(t, http.MethodGet, "/v1/sla-breaches?sla=arrival", f.agent, nil)
			require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
			n := 0
			for _, b := range r.JSON(t)["data"].([]any) {
				if b.(map[string]any)["ticket_id"] == id {
					n++
				}
			}
			assert.Equal(t, 1, n)
		})
	}
}

// When the agreed window ends without a check-in, the arrival SLA breaches:
// an event, a timeline entry and the seed's follow-ups as tasks. A late
// check-in breaches once; the apology refused sends the node manager.
func TestArrivalBreachOpensFollowUps(t *testing.T) {
	t.Parallel()
	f := newVisitFlow(t, "visits-arrival")
	tk, start, key := f.scheduled(t, "VISIT-ARR-0001")
	id := tk["id"].(string)

	fireTimer(t, f.env, f.d.ID, id, "arrival")
	require.Eventually(t, func() bool {
		return slices.Contains(timelineActions(t, f.env, f.agent, id), "sla_breached:scheduled")
	}, 20*time.Second, 100*time.Millisecond, "the arrival timer recorded no breach")
	tasks := f.list(t, id, "tasks")
	var kinds []string
	for _, k := range tasks {
		kinds = append(kinds, k["kind"].(string))
	}
	assert.ElementsMatch(t, []string{"call_customer", "apologise"}, kinds)
	r := f.env.Do(t, http.MethodGet, "/v1/events?type=ticket.sla_breached", f.d.AdminKey, nil)
	require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
	found := false
	for _, e := range r.JSON(t)["data"].([]any) {
		data := e.(map[string]any)["data"].(map[string]any)
		found = found || (data["ticket_id"] == id && data["sla"] == "arrival")
	}
	assert.True(t, found, "a ticket.sla_breached event for the arrival")

	// The technician calls the customer, then arrives 20 minutes late.
	call := tasks[slices.IndexFunc(tasks, func(k map[string]any) bool { return k["kind"] == "call_customer" })]
	r = f.env.Do(t, http.MethodPost, "/v1/tickets/"+id+"/tasks/"+call["id"].(string)+"/complete", key,
		map[string]any{"outcome": "done", "note": "已提前致电客户"}, f.env.IfMatch(t, "/v1/tickets/"+id, key)...)
	require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
	done := r.JSON(t)["task"].(map[string]any)
	assert.Equal(t, "done", done["state"])
	assert.NotEmpty(t, done["completed_by"])
	assert.NotEmpty(t, done["completed_at"])
	r = f.env.Do(t, http.MethodPost, "/v1/tickets/"+id+"/tasks/"+call["id"].(string)+"/complete", key,
		map[string]any{"outcome": "done"}, f.env.IfMatch(t, "/v1/tickets/"+id, key)...)
	require.Equal(t, http.StatusConflict, r.Status, "%s", r.Body)
	r = f.env.Do(t, http.MethodPost, "/v1/tickets/"+id+"/tasks/"+call["id"].(string)+"/complete", key,
		map[string]any{"outcome": "refused"}, f.env.IfMatch(t, "/v1/tickets/"+id, key)...)
	require.Equal(t, http.StatusConflict, r.Status, "a done task is done: %s", r.Body)

	f.clock.Set(start.Add(2*time.Hour + 20*time.Minute))
	ticketAct(t, f.env, key, id, "check-in", nil, http.StatusOK)
	tasks = f.list(t, id, "tasks")
	kinds = nil
	for _, k := range tasks {
		kinds = append(kinds, k["kind"].(string))
	}
	assert.ElementsMatch(t, []string{"call_customer", "apologise", "gift"}, kinds, "more than 15 minutes late: a gift")
	// One arrival breach per window (the check-in, two days after the
	// call, also meets the 24-hour response late: a response breach).
	r = f.env.Do(t, http.MethodGet, "/v1/sla-breaches?sla=arrival", f.agent, nil)
	require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
	breaches := 0
	for _, b := range r.JSON(t)["data"].([]any) {
		if b.(map[string]any)["ticket_id"] == id {
			breaches++
		}
	}
	assert.Equal(t, 1, breaches, "one breach per window")

	// A refusal that is not allowed changes nothing.
	gift := tasks[slices.IndexFunc(tasks, func(k map[string]any) bool { return k["kind"] == "gift" })]
	r = f.env.Do(t, http.MethodPost, "/v1/tickets/"+id+"/tasks/"+gift["id"].(string)+"/complete", key,
		map[string]any{"outcome": "maybe"}, f.env.IfMatch(t, "/v1/tickets/"+id, key)...)
	require.Equal(t, http.StatusUnprocessableEntity, r.Status, "%s", r.Body)
	assert.Contains(t, problemLocations(t, r, http.StatusUnprocessableEntity), "body.outcome")

	// The customer refuses the apology: the node manager visits, and the
	// late promise's action is the manager's visit.
	apology := tasks[slices.IndexFunc(tasks, func(k map[string]any) bool { return k["kind"] == "apologise" })]
	r = f.env.Do(t, http.MethodPost, "/v1/tickets/"+id+"/tasks/"+apology["id"].(string)+"/complete", key,
		map[string]any{"outcome": "refused", "note": "客户不接受道歉"}, f.env.IfMatch(t, "/v1/tickets/"+id, key)...)
	require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
	tasks = f.list(t, id, "tasks")
	mv := slices.IndexFunc(tasks, func(k map[string]any) bool { return k["kind"] == "manager_visit" })
	require.GreaterOrEqual(t, mv, 0, "a manager visit task")
	assert.Equal(t, "node_manager", tasks[mv]["assignee"])
	assert.Contains(t, timelineActions(t, f.env, f.agent, id), "task_completed:on_site")

	f.diagnose(t, key, id)
	tk = f.complete(t, key, id)
	// 20 minutes late (超时免单): free for the customer; the brand bears
	// labour 120.00 + visit 50.00.
	customer, brand, list := totals(tk)
	assert.EqualValues(t, 0, customer)
	assert.EqualValues(t, washerRepairAndVisit, brand)
	assert.EqualValues(t, washerRepairAndVisit, list)
	assert.Equal(t, []string{"late_arrival:manager_visit"}, waivers(t, tk))
}

// Visit exceptions record the attempt and reschedule; the seed's knock
// protocol is required for a customer not home; attempts the customer's
// side ended do not count against the network.
func TestVisitExceptions(t *testing.T) {
	t.Parallel()
	f := newVisitFlow(t, "visits-exceptions")
	tk, start, key := f.scheduled(t, "VISIT-EXC-0001")
	id := tk["id"].(string)
	f.clock.Set(start.Add(-5 * time.Minute))

	// Without the knock protocol: 422 naming the field, nothing changes.
	before := f.env.Do(t, http.MethodGet, "/v1/tickets/"+id, key, nil).JSON(t)["version"]
	for _, c := range []struct {
		body map[string]any
		loc  string
	}{
		{map[string]any{"reason": "customer_not_home"}, "body.not_home"},
		{map[string]any{"reason": "customer_not_home", "not_home": map[string]any{"knocked_minutes": 2, "called_customer": true, "slip_left": true}}, "body.not_home.knocked_minutes"},
		{map[string]any{"reason": "customer_not_home", "not_home": map[string]any{"knocked_minutes": 5, "called_customer": true, "slip_left": false}}, "body.not_home.slip_left"},
		{map[string]any{"reason": "entry_refused"}, "body.licence_shown"},
		{map[string]any{"reason": "product_elsewhere"}, "body.product_location"},
		{map[string]any{"reason": "power_cut", "licence_shown": true}, "body.licence_shown"},
		{map[string]any{"reason": "flood"}, "body.reason"},
	} {
		r := f.env.Do(t, http.MethodPost, "/v1/tickets/"+id+"/visit-exception", key, c.body, f.env.IfMatch(t, "/v1/tickets/"+id, key)...)
		require.Equal(t, http.StatusUnprocessableEntity, r.Status, "%v: %s", c.body, r.Body)
		assert.Contains(t, problemLocations(t, r, http.StatusUnprocessableEntity), c.loc)
	}
	require.Equal(t, before, f.env.Do(t, http.MethodGet, "/v1/tickets/"+id, key, nil).JSON(t)["version"])

	// Not home, on time, protocol followed, a new window agreed.
	start2 := f.inShift(t, tk, start.Add(24*time.Hour))
	tk = ticketAct(t, f.env, key, id, "visit-exception", map[string]any{"reason": "customer_not_home",
		"not_home": map[string]any{"knocked_minutes": 5, "called_customer": true, "neighbour_asked": true, "slip_left": true},
		"window":   window(start2), "note": "敲门5分钟无人，已贴留言条"}, http.StatusOK)
	assert.Equal(t, "scheduled", tk["state"])
	assert.Equal(t, "customer_not_home", tk["state_reason"])
	assert.Equal(t, start2.Unix(), parseTime(t, tk["appointment"].(map[string]any)["start"]).Unix())
	assert.Len(t, f.list(t, id, "appointments"), 2, "the attempt rescheduled")

	// Entry refused, licence shown, no new window yet: assigned again, the node manager visits.
	f.clock.Set(start2.Add(-8 * time.Minute))
	tk = ticketAct(t, f.env, key, id, "visit-exception", map[string]any{"reason": "entry_refused", "licence_shown": true}, http.StatusOK)
	assert.Equal(t, "assigned", tk["state"])
	var kinds []string
	for _, k := range f.list(t, id, "tasks") {
		kinds = append(kinds, k["kind"].(string))
	}
	assert.ElementsMatch(t, []string{"reach_customer", "manager_visit"}, kinds)

	// The third visit gets to work, on time: charged in full, no promise.
	start3 := f.inShift(t, tk, start2.Add(24*time.Hour))
	ticketAct(t, f.env, key, id, "schedule", map[string]any{"window": window(start3)}, http.StatusOK)
	f.clock.Set(start3.Add(-6 * time.Minute))
	ticketAct(t, f.env, key, id, "check-in", nil, http.StatusOK)
	// A power cut after the check-in ends the visit; the fourth visit is on time.
	start4 := f.inShift(t, tk, start3.Add(24*time.Hour))
	tk = ticketAct(t, f.env, key, id, "visit-exception", map[string]any{"reason": "power_cut",
		"window": window(start4)}, http.StatusOK)
	assert.Equal(t, "scheduled", tk["state"])
	f.clock.Set(start4.Add(-5 * time.Minute))
	ticketAct(t, f.env, key, id, "check-in", nil, http.StatusOK)
	f.diagnose(t, key, id)
	tk = f.complete(t, key, id)
	customer, brand, _ := totals(tk)
	assert.EqualValues(t, washerRepairAndVisit, customer, "attempts the customer's side ended cost the network nothing")
	assert.EqualValues(t, 0, brand)
	assert.Empty(t, waivers(t, tk))

	visits := f.list(t, id, "visits")
	require.Len(t, visits, 4)
	var outcomes []string
	for _, v := range visits {
		outcomes = append(outcomes, v["outcome"].(string))
		assert.Equal(t, v["outcome"] == "on_site", v["network_visit"], "%v", v)
	}
	assert.Equal(t, []string{"customer_not_home", "entry_refused", "power_cut", "on_site"}, outcomes)
	assert.Equal(t, true, visits[0]["exception"].(map[string]any)["slip_left"])

	// A late attempt the customer was not home for still earns the late promise.
	tk = f.open(t, "VISIT-EXC-0002", "on_site")
	id = tk["id"].(string)
	s := f.inShift(t, tk, apitest.WeekdayMorning(time.Now(), 4))
	key = f.accept(t, tk, s)
	s2 := f.inShift(t, tk, s.Add(24*time.Hour))
	f.clock.Set(s.Add(2*time.Hour + 25*time.Minute)) // the two-hour window closed 25 minutes ago
	ticketAct(t, f.env, key, id, "visit-exception", map[string]any{"reason": "customer_not_home",
		"not_home": map[string]any{"knocked_minutes": 6, "called_customer": true, "slip_left": true}, "window": window(s2)}, http.StatusOK)
	f.clock.Set(s2.Add(-5 * time.Minute))
	ticketAct(t, f.env, key, id, "check-in", nil, http.StatusOK)
	f.diagnose(t, key, id)
	tk = f.complete(t, key, id)
	// Late by 25 minutes after the window for the attempt: the service is free; the brand
	// bears labour 120.00 + visit 50.00.
	customer, brand, _ = totals(tk)
	assert.EqualValues(t, 0, customer)
	assert.EqualValues(t, washerRepairAndVisit, brand)
	assert.Equal(t, []string{"late_arrival:apology_and_gift"}, waivers(t, tk))
	visits = f.list(t, id, "visits")
	require.Len(t, visits, 2, "the late attempt and the visit that did the work")
	assert.Equal(t, true, visits[0]["network_visit"], "the technician was late for it")
}

// The technician's checklist: a failed item makes the service free, with
// the promise that names it (rule 8, Midea promise 3).
func TestVisitChecklistWaivesService(t *testing.T) {
	t.Parallel()
	f := newVisitFlow(t, "visits-checklist")
	ok := map[string]any{"licence_shown": true, "licence_matches": true, "charges_within_price_list": true, "confirmed_by": "customer"}
	with := func(k string, v any) map[string]any {
		m := map[string]any{}
		for a, b := range ok {
			m[a] = b
		}
		m[k] = v
		return m
	}
	for i, c := range []struct {
		name      string
		checklist map[string]any
		customer  int64
		waivers   []string
	}{
		{"AllKept", ok, washerRepairAndVisit, []string{}},
		{"LicenceNotShown", with("licence_shown", false), 0, []string{"licence_not_shown:none"}},
		{"LicenceNotMatching", with("licence_matches", false), 0, []string{"licence_not_shown:none"}},
		{"ChargedBeyondPriceList", with("charges_within_price_list", false), 0, []string{"charge_beyond_price_list:none"}},
		{"Smoking", with("conduct_breaches", []string{"smoking"}), 0, []string{"conduct_breach:none"}},
		{"RefusedToFinish", with("conduct_breaches", []string{"refused_to_finish", "accepted_gift"}), 0, []string{"conduct_breach:none"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			tk := f.open(t, "VISIT-CHK-000"+itoa(i), "on_site")
			id := tk["id"].(string)
			start := f.inShift(t, tk, apitest.WeekdayMorning(time.Now(), 2+i))
			key := f.accept(t, tk, start)
			f.clock.Set(start.Add(-5 * time.Minute))
			ticketAct(t, f.env, key, id, "check-in", nil, http.StatusOK)
			f.diagnose(t, key, id)
			tk = ticketAct(t, f.env, key, id, "checklist", c.checklist, http.StatusOK)
			dec := tk["entitlement"].(map[string]any)["decision"].(map[string]any)
			assert.EqualValues(t, c.customer, amountOf(dec["totals"].(map[string]any)["customer"]), "the decision shown is made again")
			tk = f.complete(t, key, id)
			customer, brand, _ := totals(tk)
			assert.EqualValues(t, c.customer, customer)
			assert.EqualValues(t, washerRepairAndVisit-c.customer, brand)
			assert.Equal(t, c.waivers, waivers(t, tk))
			visits := f.list(t, id, "visits")
			require.Len(t, visits, 1)
			assert.Equal(t, "customer", visits[0]["checklist"].(map[string]any)["confirmed_by"])
		})
	}

	t.Run("BadInput", func(t *testing.T) {
		tk := f.open(t, "VISIT-CHK-0099", "on_site")
		id := tk["id"].(string)
		start := f.inShift(t, tk, apitest.WeekdayMorning(time.Now(), 9))
		key := f.accept(t, tk, start)
		// before any visit: conflict
		r := f.env.Do(t, http.MethodPost, "/v1/tickets/"+id+"/checklist", key, ok, f.env.IfMatch(t, "/v1/tickets/"+id, key)...)
		require.Equal(t, http.StatusConflict, r.Status, "%s", r.Body)
		f.clock.Set(start.Add(-5 * time.Minute))
		ticketAct(t, f.env, key, id, "check-in", nil, http.StatusOK)
		r = f.env.Do(t, http.MethodPost, "/v1/tickets/"+id+"/checklist", key, with("conduct_breaches", []string{"singing"}), f.env.IfMatch(t, "/v1/tickets/"+id, key)...)
		require.Equal(t, http.StatusUnprocessableEntity, r.Status, "%s", r.Body)
		assert.Contains(t, problemLocations(t, r, http.StatusUnprocessableEntity)[0], "body.conduct_breaches")
		r = f.env.Do(t, http.MethodPost, "/v1/tickets/"+id+"/checklist", key, map[string]any{"licence_shown": true}, f.env.IfMatch(t, "/v1/tickets/"+id, key)...)
		require.Equal(t, http.StatusUnprocessableEntity, r.Status, "%s", r.Body)
		require.Nil(t, f.list(t, id, "visits")[0]["checklist"], "nothing recorded")
	})
}

func parseTime(t *testing.T, v any) time.Time {
	t.Helper()
	at, err := time.Parse(time.RFC3339, v.(string))
	require.NoError(t, err)
	return at
}

func itoa(n int) string {
	return string(rune('0'+n/10)) + string(rune('0'+n%10))
}
