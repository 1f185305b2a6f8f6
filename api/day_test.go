package api_test

import (
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/servicenet/servicenet/internal/apitest"
)

// The demo price list (tenants/catalog/demo.go) and the demo plans
// (tenants/warranty/demo.go), in fen: what the day below is charged by.
const (
	dayWasherLabor     = 12000 // washer repair labor, 120.00
	dayWasherVisitFee  = 5000  // washer visit fee, 50.00
	dayDrainPump       = 8500  // 0024000145 排水泵, 85.00 (the price list keeps the catalog price)
	dayNRRCompensation = 10000 // DEMO-NRR-1Y: 100 CNY to the customer…
	dayNRRBusinessDays = 5     // …within 5 business days of the repair
)

// feedOf reads the tenant's event feed through the API, following its
// cursor to the end, and returns the events of type typ about subject.
func feedOf(t *testing.T, env *apitest.Env, key, typ, subject string) []map[string]any {
	t.Helper()
	var out []map[string]any
	cursor := ""
	for {
		r := env.Do(t, http.MethodGet, "/v1/events?limit=200&type="+typ+"&cursor="+cursor, key, nil)
		require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
		page := r.JSON(t)
		data := page["data"].([]any)
		for _, e := range data {
			if e := e.(map[string]any); e["subject_id"] == subject {
				out = append(out, e)
			}
		}
		next, _ := page["next_cursor"].(string)
		if len(data) == 0 || next == "" || next == cursor {
			return out
		}
		cursor = next
	}
}

// linesBy checks that every charge line of a completion is paid by payer
// and returns the lines.
func linesBy(t *testing.T, tk map[string]any, payer string) []map[string]any {
	t.Helper()
	var out []map[string]any
	for _, l := range tk["completion"].(map[string]any)["lines"].([]any) {
		l := l.(map[string]any)
		assert.Equal(t, payer, l["payer"], "%v", l)
		out = append(out, l)
	}
	return out
}

// waiverNotes returns the notes (the reasons) of a completion's waivers.
func waiverNotes(tk map[string]any) []string {
	var out []string
	for _, w := range tk["completion"].(map[string]any)["waivers"].([]any) {
		out = append(out, w.(map[string]any)["note"].(string))
	}
	return out
}

// TestADayOfService walks one service day on a demo brand as its
// operations team lives it, through the HTTP API only (issue 12, "Done
// when"). In the morning the call centre takes six calls and the
// technicians book their windows on the service day D; on D the network
// visits them in order, and the next weekday one visit is finished; then a
// complaint about the first visit comes in. Every amount is derived from
// the demo price list and the seed's rules:
//
//   - A: remote guidance, "observe", the customer calls back unsatisfied;
//     the first technician visit is not a repeat visit: 170.00 customer.
//   - B: the technician is 16 minutes late, a parts shortage forces a second
//     visit, which is on time: the late promise holds, the customer pays 0,
//     the brand 170.00, apology and gift.
//   - C: a drain pump used through /parts out of warranty: 255.00 customer.
//   - N: a no-reason-repair plan repair: the plan pays 170.00 and owes the
//     customer 100.00 within 5 business days, one payout.
//   - F: booked onto C's technician over C's window: 409 naming C; booked
//     later; the customer is not home: recorded and rescheduled.
//   - A's sign-off code reaches the customer through the tenant's SMS
//     gateway (a local HTTPS test gateway) and confirms the sign-off; then
//     an upheld conduct complaint makes A free and refunds the 170.00.
func TestADayOfService(t *testing.T) {
	t.Parallel()
	env := apitest.New(t)
	clock := &testClock{}
	env.Tickets.Now = clock.Now
	d := env.DemoBrand(t, "a-day-of-service")
	agent, _ := env.Key(t, d.AdminKey, "agent")
	dispatcher, _ := env.Key(t, d.AdminKey, "dispatcher")
	admin := d.AdminKey
	f := &visitFlow{env: env, d: d, clock: clock, agent: agent}

	// The service day D and its slots (Shanghai time, inside the shifts).
	day := apitest.WeekdayMorning(time.Now(), 2) // D 10:00
	at := func(hour int) time.Time { return day.Add(time.Duration(hour-10) * time.Hour) }
	slotA, slotB, slotC, slotN, slotF := at(8), at(10), at(12), at(14), at(16)
	next := apitest.WeekdayMorning(day, 1) // the next weekday, 10:00
	const serviceList = dayWasherLabor + dayWasherVisitFee

	// The tenant's SMS gateway, configured before the day starts.
	gw := newSMSGateway(t, env, 0)
	r := env.Do(t, http.MethodPost, "/v1/notification-gateways", admin, map[string]any{"url": gw.srv.URL + "/sms", "description": "短信网关"})
	require.Equal(t, http.StatusCreated, r.Status, "%s", r.Body)
	gatewaySecret := r.JSON(t)["secret"].(string)

	// The drain pump, from the catalog: it fits every demo washer.
	r = env.Do(t, http.MethodGet, "/v1/catalog/parts?model_id="+d.Washer+"&limit=50", admin, nil)
	require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
	var pump string
	for _, p := range r.JSON(t)["data"].([]any) {
		if p := p.(map[string]any); p["part_number"] == "0024000145" {
			pump = p["id"].(string)
		}
	}
	require.NotEmpty(t, pump, "the demo drain pump fits the washer")

	// ---- Morning: the call centre takes the calls (real time). ----
	clock.Set(time.Time{})

	// A: guidance first; the customer calls back unsatisfied.
	idA, unitA := openReady(t, env, d, agent, "DAY-A-0001", 1200, slotA)
	tk := ticketAct(t, env, agent, idA, "triage", map[string]any{"mode": "remote", "instructions": "请断电重启并清理排水泵过滤器"}, http.StatusOK)
	require.Equal(t, "remote_guidance", tk["state"])
	ticketAct(t, env, agent, idA, "guidance", map[string]any{"outcome": "observe", "notes": "请观察30分钟"}, http.StatusOK)
	tkA := ticketAct(t, env, agent, idA, "callback", map[string]any{"outcome": "unsatisfied", "note": "仍有噪音"}, http.StatusOK)
	require.EqualValues(t, 1, tkA["reopen_count"])
	// The reopen is on the timeline; the request's one event says why.
	assert.Contains(t, timelineActions(t, env, agent, idA), "callback_recorded:reopened")
	callbacks := feedOf(t, env, admin, "ticket.callback_recorded", idA)
	require.Len(t, callbacks, 1)
	assert.Equal(t, "unsatisfied", callbacks[0]["data"].(map[string]any)["outcome"])
	assert.Equal(t, "dispatched", callbacks[0]["data"].(map[string]any)["state"])

	// B and C: out of warranty (bought 1200 and 1500 days ago).
	idB, _ := openReady(t, env, d, agent, "DAY-B-0002", 1200, slotB)
	tkB := ticketAct(t, env, agent, idB, "triage", map[string]any{"mode": "on_site"}, http.StatusOK)
	idC, _ := openReady(t, env, d, agent, "DAY-C-0003", 1500, slotC)
	tkC := ticketAct(t, env, agent, idC, "triage", map[string]any{"mode": "on_site"}, http.StatusOK)

	// N: bought 10 days ago with the demo no-reason-repair plan.
	plan := demoPlan(t, env, admin, "no_reason_repair")
	idN, unitN := openReady(t, env, d, agent, "DAY-N-0004", 10, slotN)
	contractN := createdID(t, env, admin, "/v1/contracts", map[string]any{"unit_id": unitN, "plan_id": plan["id"]})
	tkN := ticketAct(t, env, agent, idN, "triage", map[string]any{"mode": "on_site"}, http.StatusOK)

	// The technicians accept and book their windows on D.
	keyA := f.accept(t, tkA, slotA)
	keyB := f.accept(t, tkB, slotB)
	keyC := f.accept(t, tkC, slotC)
	keyN := f.accept(t, tkN, slotN)

	// F: the dispatcher gives it to C's technician, who tries to book it
	// over C's window: refused, naming C, nothing changed.
	techC := tkC["technician_id"].(string)
	idF := dispatchedTo(t, env, d, agent, dispatcher, "DAY-F-0005", techC, slotF)
	ticketAct(t, env, keyC, idF, "accept", nil, http.StatusOK)
	before := env.Do(t, http.MethodGet, "/v1/tickets/"+idF, keyC, nil).JSON(t)
	r = env.Do(t, http.MethodPost, "/v1/tickets/"+idF+"/schedule", keyC, map[string]any{"window": window(slotC.Add(time.Hour))},
		env.IfMatch(t, "/v1/tickets/"+idF, keyC)...)
	assert.Equal(t, []string{"body.window"}, problemLocations(t, r, http.StatusConflict), "an overlapping booking is refused")
	assert.Contains(t, string(r.Body), idC, "the conflicting ticket is named")
	after := env.Do(t, http.MethodGet, "/v1/tickets/"+idF, keyC, nil).JSON(t)
	assert.Equal(t, before["version"], after["version"], "nothing changed")
	assert.Equal(t, "assigned", after["state"])
	assert.Empty(t, f.list(t, idF, "appointments"), "no appointment recorded")
	ticketAct(t, env, keyC, idF, "schedule", map[string]any{"window": window(slotF)}, http.StatusOK)

	// ---- The service day D. ----
	t.Run("A_FirstVisitAfterGuidanceIsCharged", func(t *testing.T) {
		clock.Set(slotA.Add(-6 * time.Minute))
		tk := ticketAct(t, env, keyA, idA, "check-in", nil, http.StatusOK)
		assert.Equal(t, "early", tk["appointment"].(map[string]any)["arrival"])
		clock.Set(slotA.Add(10 * time.Minute))
		f.diagnose(t, keyA, idA)
		clock.Set(slotA.Add(40 * time.Minute))
		tk = f.complete(t, keyA, idA)
		customer, brand, list := totals(tk)
		assert.EqualValues(t, serviceList, list, "labor 120.00 + visit 50.00")
		assert.EqualValues(t, serviceList, customer, "the first technician visit is charged by the price list")
		assert.EqualValues(t, 0, brand)
		assert.Equal(t, "out_of_warranty", tk["completion"].(map[string]any)["basis"])
		assert.Empty(t, waivers(t, tk), "guidance is not a visit: no repeat_visit")
		assert.Len(t, linesBy(t, tk, "customer"), 2)
		visits := f.list(t, idA, "visits")
		require.Len(t, visits, 1)
		assert.Equal(t, true, visits[0]["network_visit"])
		assert.EqualValues(t, 1, visits[0]["round"])
		assert.Len(t, feedOf(t, env, admin, "ticket.completed", idA), 1)
	})

	t.Run("A_SignOffCodeDeliveredByTheGatewayAndConfirmed", func(t *testing.T) {
		clock.Set(slotA.Add(45 * time.Minute))
		tk := ticketAct(t, env, keyA, idA, "sign-off/code", nil, http.StatusOK)
		del := tk["signoff"].(map[string]any)["delivery"].(map[string]any)
		assert.Equal(t, "gateway", del["via"])
		// The customer's earlier messages (received, assigned ...) came first.
		data := waitPurpose(t, gw, gatewaySecret, idA, "signoff_code")
		assert.Equal(t, idA, data["subject_id"])
		assert.Equal(t, "signoff_code", data["purpose"])
		code := data["params"].(map[string]any)["code"].(string)
		assert.Regexp(t, `^\d{6}$`, code)
		assert.Contains(t, data["text"], code)
		require.Eventually(t, func() bool {
			del = env.Do(t, http.MethodGet, "/v1/tickets/"+idA, keyA, nil).JSON(t)["signoff"].(map[string]any)["delivery"].(map[string]any)
			return del["status"] == "sent"
		}, 30*time.Second, 100*time.Millisecond, "delivery status on the ticket: %v", del)
		assert.EqualValues(t, 1, del["attempts"])
		assert.NotEmpty(t, feedOf(t, env, admin, "notification.sent", del["notification_id"].(string)), "notification.sent in the feed")

		clock.Set(slotA.Add(48 * time.Minute))
		tk = ticketAct(t, env, keyA, idA, "sign-off", map[string]any{"code": code, "rating": 4, "comment": "修好了"}, http.StatusOK)
		assert.Equal(t, true, tk["signoff"].(map[string]any)["confirmed_by_code"])
		assert.Len(t, feedOf(t, env, admin, "ticket.signed_off", idA), 1)
	})

	t.Run("B_LateFirstVisitThenPartsShortage", func(t *testing.T) {
		clock.Set(slotB.Add(2*time.Hour + 16*time.Minute)) // 16 minutes after the two-hour window closed
		tk := ticketAct(t, env, keyB, idB, "check-in", nil, http.StatusOK)
		assert.EqualValues(t, 16, tk["appointment"].(map[string]any)["arrival_minutes"])
		clock.Set(slotB.Add(2*time.Hour + 30*time.Minute))
		tk = f.diagnose(t, keyB, idB)
		dec := tk["entitlement"].(map[string]any)["decision"].(map[string]any)
		assert.EqualValues(t, 0, amountOf(dec["totals"].(map[string]any)["customer"]), "the diagnosis tells the customer 0")
		require.NotEmpty(t, dec["promises"])
		assert.Equal(t, "late_arrival", dec["promises"].([]any)[0].(map[string]any)["code"])

		// Lateness is an event: one arrival breach, the apology and the gift.
		assert.Contains(t, timelineActions(t, env, agent, idB), "sla_breached:scheduled")
		breaches := 0
		for _, e := range feedOf(t, env, admin, "ticket.sla_breached", idB) {
			if e["data"].(map[string]any)["sla"] == "arrival" {
				breaches++
			}
		}
		assert.Equal(t, 1, breaches, "one arrival breach event")
		var kinds []string
		for _, k := range f.list(t, idB, "tasks") {
			kinds = append(kinds, k["kind"].(string))
		}
		assert.ElementsMatch(t, []string{"apologise", "gift"}, kinds, "more than 15 minutes late: apology and a gift")

		// No pumps for 100: the ticket waits for parts, the visit moves.
		r := env.Do(t, http.MethodPost, "/v1/tickets/"+idB+"/parts", keyB, map[string]any{"op": "reserve",
			"lines": []any{map[string]any{"part_id": pump, "quantity": 100}}}, env.IfMatch(t, "/v1/tickets/"+idB, keyB)...)
		require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
		require.Equal(t, "awaiting_parts", r.JSON(t)["ticket"].(map[string]any)["state"])
		ticketAct(t, env, keyB, idB, "reschedule", map[string]any{"window": window(next), "reason": "parts", "customer_agreed": true}, http.StatusOK)
	})

	t.Run("C_PartsUsedAreBilledOutOfWarranty", func(t *testing.T) {
		clock.Set(slotC.Add(-5 * time.Minute))
		ticketAct(t, env, keyC, idC, "check-in", nil, http.StatusOK)
		f.diagnose(t, keyC, idC)
		fitParts(t, env, admin, keyC, idC, tkC["node_id"].(string), pump, 1)
		clock.Set(slotC.Add(40 * time.Minute))
		// The pump was not in the quote the customer was shown: completing
		// would charge it unseen (seed 000: 如果使用备件要给用户出示备件费用),
		// so completion waits for a diagnosis that shows it.
		r := env.Do(t, http.MethodPost, "/v1/tickets/"+idC+"/complete", keyC, map[string]any{"test_run": map[string]any{"passed": true}},
			env.IfMatch(t, "/v1/tickets/"+idC, keyC)...)
		require.Equal(t, http.StatusConflict, r.Status, "%s", r.Body)
		ticketAct(t, env, keyC, idC, "diagnose", map[string]any{
			"diagnosis": map[string]any{"cause": "performance", "repairable": true},
			"work": map[string]any{"service_kind": "repair", "include_visit": true,
				"parts": []any{map[string]any{"part_id": pump, "quantity": 1}}}, "price_list_shown": true}, http.StatusOK)
		tk := f.complete(t, keyC, idC)
		customer, brand, list := totals(tk)
		assert.EqualValues(t, serviceList+dayDrainPump, list, "labor, visit and the pump used")
		assert.EqualValues(t, serviceList+dayDrainPump, customer, "out of warranty the customer pays the part used")
		assert.EqualValues(t, serviceList+dayDrainPump, amountOf(tk["customer_total"]))
		assert.EqualValues(t, 0, brand)
		comp := tk["completion"].(map[string]any)
		assert.Equal(t, "out_of_warranty", comp["basis"])
		assert.Nil(t, comp["parts_billed"], "the pump used was quoted and shown: nothing billed beyond the quote")
		var parts []map[string]any
		for _, l := range linesBy(t, tk, "customer") {
			if l["kind"] == "part" {
				parts = append(parts, l)
			}
		}
		require.Len(t, parts, 1)
		assert.EqualValues(t, dayDrainPump, amountOf(parts[0]["customer_pays"]))
		assert.Equal(t, "drain_pump", parts[0]["part_category"])
		assert.Empty(t, waivers(t, tk))
	})

	var payoutN string
	t.Run("N_NoReasonPlanRepairPaysCompensationOnce", func(t *testing.T) {
		clock.Set(slotN.Add(-6 * time.Minute))
		ticketAct(t, env, keyN, idN, "check-in", nil, http.StatusOK)
		ticketAct(t, env, keyN, idN, "diagnose", map[string]any{
			"diagnosis": map[string]any{"cause": "environmental_moisture", "repairable": true},
			"work":      map[string]any{"service_kind": "repair", "include_visit": true}, "price_list_shown": true}, http.StatusOK)
		clock.Set(slotN.Add(30 * time.Minute))
		complete := map[string]any{"test_run": map[string]any{"passed": true}}
		r := env.Do(t, http.MethodPost, "/v1/tickets/"+idN+"/complete", keyN, complete,
			append(env.IfMatch(t, "/v1/tickets/"+idN, keyN), "Idempotency-Key: day-n-complete")...)
		require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
		tk := r.JSON(t)
		comp := tk["completion"].(map[string]any)
		assert.Equal(t, "no_reason_repair", comp["basis"])
		customer, brand, planPays := completionTotals(tk)
		assert.EqualValues(t, 0, customer, "no reason needed: the plan covers it")
		assert.EqualValues(t, 0, brand)
		assert.EqualValues(t, serviceList, planPays, "the plan pays labor and visit")
		assert.Len(t, linesBy(t, tk, "plan"), 2, "labour and visit, both the plan's")

		repairDay := civilDay(slotN)
		wantDue := businessDaysAfter(repairDay, dayNRRBusinessDays).Format(time.DateOnly)
		c := comp["compensation"].(map[string]any)
		payoutN = c["payout_id"].(string)
		assert.EqualValues(t, dayNRRCompensation, amountOf(c["amount"]))
		assert.Equal(t, "plan", c["payer"])
		assert.Equal(t, wantDue, c["due_on"])
		assert.Equal(t, false, c["existing"])

		// The retry of the same completion creates nothing more.
		r = env.Do(t, http.MethodPost, "/v1/tickets/"+idN+"/complete", keyN, complete, "Idempotency-Key: day-n-complete")
		require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
		assert.Equal(t, payoutN, r.JSON(t)["completion"].(map[string]any)["compensation"].(map[string]any)["payout_id"])

		ps := unitPayouts(t, env, admin, unitN)
		require.Len(t, ps, 1, "exactly one payout for the repair")
		p := ps[0]
		assert.Equal(t, payoutN, p["id"])
		assert.Equal(t, map[string]any{"amount": float64(dayNRRCompensation), "currency": "CNY"}, p["amount"])
		assert.Equal(t, unitN, p["unit_id"], "paid to the unit's customer")
		assert.Equal(t, contractN, p["contract_id"], "owed by the plan contract")
		assert.Equal(t, "plan", p["payer"])
		assert.Equal(t, idN, p["ticket_id"])
		assert.Nil(t, p["claim_id"])
		assert.Equal(t, repairDay.Format(time.DateOnly), p["counted_from"])
		assert.EqualValues(t, dayNRRBusinessDays, p["business_days"])
		assert.Equal(t, wantDue, p["due_on"])
		assert.Equal(t, "scheduled", p["state"])
		assert.Len(t, feedOf(t, env, admin, "payout.scheduled", payoutN), 1, "one payout.scheduled event")
	})

	t.Run("F_CustomerNotHomeIsRecordedAndRescheduled", func(t *testing.T) {
		clock.Set(slotF.Add(-3 * time.Minute))
		newWindow := next.Add(6 * time.Hour) // the next weekday, 16:00
		tk := ticketAct(t, env, keyC, idF, "visit-exception", map[string]any{"reason": "customer_not_home",
			"not_home": map[string]any{"knocked_minutes": 5, "called_customer": true, "neighbour_asked": true, "slip_left": true},
			"window":   window(newWindow), "note": "敲门5分钟无人，电话未接，已贴留言条"}, http.StatusOK)
		assert.Equal(t, "scheduled", tk["state"])
		assert.Equal(t, "customer_not_home", tk["state_reason"])
		assert.Equal(t, newWindow.Unix(), parseTime(t, tk["appointment"].(map[string]any)["start"]).Unix())
		assert.Len(t, f.list(t, idF, "appointments"), 2, "the attempt and the new window")
		visits := f.list(t, idF, "visits")
		require.Len(t, visits, 1)
		assert.Equal(t, "customer_not_home", visits[0]["outcome"])
		assert.Equal(t, false, visits[0]["network_visit"], "on time, protocol followed: not the network's visit")
		assert.Equal(t, true, visits[0]["exception"].(map[string]any)["slip_left"])
		assert.Contains(t, timelineActions(t, env, agent, idF), "visit_exception_recorded:scheduled")
		assert.Len(t, feedOf(t, env, admin, "ticket.visit_exception_recorded", idF), 1)
	})

	// ---- The next weekday: B's second visit, on time. ----
	t.Run("B_OnTimeSecondVisitKeepsTheLatePromise", func(t *testing.T) {
		clock.Set(next.Add(-5 * time.Minute))
		tk := ticketAct(t, env, keyB, idB, "check-in", nil, http.StatusOK)
		assert.Equal(t, "early", tk["appointment"].(map[string]any)["arrival"])
		clock.Set(next.Add(40 * time.Minute))
		tk = f.complete(t, keyB, idB)
		customer, brand, list := totals(tk)
		assert.EqualValues(t, serviceList, list)
		assert.EqualValues(t, 0, customer, "the late promise belongs to the service")
		assert.EqualValues(t, serviceList, brand, "the brand pays the whole service")
		assert.Len(t, linesBy(t, tk, "brand"), 2, "labour and visit, both the brand's")
		assert.Equal(t, []string{"late_arrival:apology_and_gift"}, waivers(t, tk))
		notes := waiverNotes(tk)
		require.Len(t, notes, 1)
		assert.Contains(t, notes[0], "16", "the waiver says why: 16 minutes late")
		visits := f.list(t, idB, "visits")
		require.Len(t, visits, 2, "each visit keeps its own arrival")
		assert.EqualValues(t, 16, visits[0]["arrival_minutes"])
		assert.EqualValues(t, -5, visits[1]["arrival_minutes"])
	})

	// ---- Later: the customer of A complains; the audit upholds it. ----
	t.Run("A_UpheldConductComplaintRefundsThePayment", func(t *testing.T) {
		cmp := fileComplaint(t, env, agent, idA, "conduct")
		r := resolveComplaint(t, env, agent, cmp, map[string]any{"resolution": "师傅在客户家中吸烟，核实属实，全额退还服务费",
			"upheld": true, "breach": "smoking"})
		require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
		c := r.JSON(t)
		assert.Equal(t, "conduct_breach", c["waiver"])
		refundID, _ := c["refund_payout_id"].(string)
		require.NotEmpty(t, refundID)

		r = env.Do(t, http.MethodGet, "/v1/payouts/"+refundID, admin, nil)
		require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
		p := r.JSON(t)
		assert.Equal(t, map[string]any{"amount": float64(serviceList), "currency": "CNY"}, p["amount"], "what the customer paid")
		assert.Equal(t, unitA, p["unit_id"], "to the unit's customer")
		assert.Nil(t, p["contract_id"], "no plan: the brand owes it")
		assert.Equal(t, "brand", p["payer"])
		assert.Nil(t, p["claim_id"])
		assert.Equal(t, "scheduled", p["state"])
		assert.EqualValues(t, 5, p["business_days"])
		from, err := time.Parse(time.DateOnly, p["counted_from"].(string))
		require.NoError(t, err)
		assert.Equal(t, businessDaysAfter(from, 5).Format(time.DateOnly), p["due_on"])
		assert.Contains(t, p["reason"], "conduct_breach")
		assert.Len(t, unitPayouts(t, env, admin, unitA), 1, "one refund")
		assert.Len(t, feedOf(t, env, admin, "payout.scheduled", refundID), 1)

		tk := env.Do(t, http.MethodGet, "/v1/tickets/"+idA, agent, nil).JSON(t)
		customer, brand, plan := completionTotals(tk)
		assert.EqualValues(t, 0, customer)
		assert.EqualValues(t, serviceList, brand, "the brand pays the waived service")
		assert.EqualValues(t, 0, plan)
		assert.EqualValues(t, 0, amountOf(tk["customer_total"]))
		assert.Len(t, linesBy(t, tk, "brand"), 2, "labour and visit, both the brand's")
		assert.Equal(t, []string{"conduct_breach:none"}, waivers(t, tk))
		notes := waiverNotes(tk)
		require.Len(t, notes, 1)
		assert.NotEmpty(t, notes[0], "the waiver says why")
		assert.True(t, slices.ContainsFunc(timelineActions(t, env, agent, idA), func(s string) bool {
			return strings.HasPrefix(s, "charges_waived:")
		}), "the waiver is on the timeline")
		assert.Len(t, feedOf(t, env, admin, "ticket.charges_waived", idA), 1)
		assert.Equal(t, true, tk["signoff"].(map[string]any)["confirmed_by_code"], "the sign-off stands")
	})

	// The day's money in one place: nothing else was paid out.
	for _, unit := range []string{unitN, unitA} {
		assert.Len(t, unitPayouts(t, env, admin, unit), 1)
	}
}
