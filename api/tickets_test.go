package api_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/servicenet/servicenet/internal/apitest"
	"github.com/servicenet/servicenet/internal/pg"
	"github.com/servicenet/servicenet/tenants/tickets"
)

func init() {
	readers := []string{"agent", "auditor", "dispatcher", "integrator", "node_manager", "storefront", "technician", "tenant_admin"}
	for _, op := range []string{"listTickets", "getTicket", "getTicketTimeline", "listTicketTransitions", "getTicketTransitionTable",
		"listTicketAppointments", "listTicketParts"} {
		wantMatrix[op] = readers
	}
	wantMatrix["openTicket"] = []string{"agent", "dispatcher", "integrator", "storefront", "tenant_admin"}
	for _, op := range []string{"provideTicketInfo", "triageTicket", "recordTicketGuidance", "recordTicketCallback", "reopenTicket"} {
		wantMatrix[op] = []string{"agent", "dispatcher", "tenant_admin"}
	}
	for _, op := range []string{"dispatchTicket", "assignTicket"} {
		wantMatrix[op] = []string{"dispatcher", "node_manager", "tenant_admin"}
	}
	for _, op := range []string{"acceptTicket", "rejectTicket", "scheduleTicket", "rescheduleTicket", "checkInTicket",
		"reportTicketEnRoute", "diagnoseTicket", "completeTicket", "signOffTicket", "sendTicketSignoffCode", "carryInTicket", "returnTicketUnit",
		"requestTicketSwap", "moveTicketParts", "requestTicketInvoice", "recordTicketInvoiceIssued"} {
		wantMatrix[op] = []string{"dispatcher", "node_manager", "technician", "tenant_admin"}
	}
	wantMatrix["cancelTicket"] = []string{"agent", "dispatcher", "integrator", "storefront", "tenant_admin"}
	// the centre's reduction of the customer's charges: never the network's
	// keys (technician, node manager) nor an integration's
	wantMatrix["reduceTicketCharges"] = []string{"agent", "dispatcher", "tenant_admin"}
	dummyParams["ticket_id"] = "tkt_00000000000000000000000000"
}

// crossTenantTickets gives tenant B a ticket for unit and a complaint about
// it, with bodies that pass validation for every ticket and complaint
// action, for the cross-tenant walk.
func crossTenantTickets(t *testing.T, env *apitest.Env, bKey, unit string) (objects map[string]string, bodies map[string]any, leaks []string) {
	t.Helper()
	r := env.Do(t, http.MethodPost, "/v1/tickets", bKey, map[string]any{"channel": "hotline", "type": "repair",
		"contact": map[string]any{"name": "b-private-ticket-customer", "phone": "+86 139 0000 2222"},
		"address": map[string]any{"region_code": "370212", "line": "b-private-address"},
		"unit":    map[string]any{"unit_id": unit}, "fault": map[string]any{"symptom": "b-private-symptom"}})
	require.Equal(t, http.StatusCreated, r.Status, "%s", r.Body)
	tk := r.JSON(t)
	r = env.Do(t, http.MethodPost, "/v1/complaints", bKey, map[string]any{"ticket_id": tk["id"], "category": "late",
		"description": "b-private-complaint"})
	require.Equal(t, http.StatusCreated, r.Status, "%s", r.Body)
	complaint := r.JSON(t)["id"].(string)
	future := time.Now().Add(72 * time.Hour)
	w := map[string]any{"start": future.Format(time.RFC3339), "end": future.Add(2 * time.Hour).Format(time.RFC3339)}
	bodies = map[string]any{
		"provideTicketInfo":    map[string]any{},
		"triageTicket":         map[string]any{"mode": "on_site"},
		"recordTicketGuidance": map[string]any{"outcome": "resolved"},
		"dispatchTicket":       map[string]any{},
		"assignTicket":         map[string]any{"technician_id": "tec_00000000000000000000000000"},
		"acceptTicket":         map[string]any{},
		"rejectTicket":         map[string]any{"reason_code": "other"},
		"scheduleTicket":       map[string]any{"window": w},
		"rescheduleTicket":     map[string]any{"window": w, "reason": "other", "customer_agreed": true},
		"checkInTicket":        map[string]any{},
		"reportTicketEnRoute":  map[string]any{"eta": future.Format(time.RFC3339)},
		"diagnoseTicket": map[string]any{"diagnosis": map[string]any{"cause": "performance", "repairable": true},
			"work": map[string]any{"service_kind": "repair"}, "price_list_shown": true},
		"moveTicketParts":            map[string]any{"op": "reserve", "lines": []any{map[string]any{"part_id": "prt_00000000000000000000000000", "quantity": 1}}},
		"carryInTicket":              map[string]any{"condition": "cross-tenant probe", "customer_agreed": true},
		"returnTicketUnit":           map[string]any{},
		"requestTicketSwap":          map[string]any{"reason": "unrepairable"},
		"completeTicket":             map[string]any{"test_run": map[string]any{"passed": true}},
		"signOffTicket":              map[string]any{"rating": 5},
		"requestTicketInvoice":       map[string]any{"title_type": "personal", "title": "cross-tenant probe", "delivery": "later", "promised_on": "2030-01-02"},
		"recordTicketInvoiceIssued":  map[string]any{"invoice_number": "1", "issued_on": "2026-12-02"},
		"recordTicketCallback":       map[string]any{"outcome": "satisfied"},
		"reopenTicket":               map[string]any{"reason": "cross-tenant probe"},
		"cancelTicket":               map[string]any{"reason": "cross-tenant probe"},
		"reduceTicketCharges":        map[string]any{"lines": []any{"visit"}, "reason": "cross-tenant probe"},
		"investigateComplaint":       map[string]any{},
		"escalateComplaint":          map[string]any{"reason": "cross-tenant probe"},
		"resolveComplaint":           map[string]any{"resolution": "cross-tenant probe"},
		"rateComplaint":              map[string]any{"rating": 4},
		"closeComplaint":             map[string]any{},
		"recordTicketVisitException": map[string]any{"reason": "power_cut"},
		"recordTicketContactAttempt": map[string]any{"outcome": "no_answer"},
		"recordTicketChecklist": map[string]any{"licence_shown": true, "licence_matches": true,
			"charges_within_price_list": true, "confirmed_by": "customer"},
		"completeTicketTask": map[string]any{"outcome": "done"},
		"reportTicketInstallation": map[string]any{"position": "x", "position_agreed": true, "customer_instructed": true,
			"test_run": map[string]any{"passed": true}, "price_list_shown": true},
		"reportTicketService": map[string]any{"checklist": []any{map[string]any{"item": "x", "done": true}}, "price_list_shown": true},
		"pickUpTicketUnit":    map[string]any{},
		"inspectTicketUnit":   map[string]any{"resellable": true, "fault_confirmed": false},
		"recordTicketOutcome": map[string]any{"outcome": "refusal"},
	}
	leaks = []string{tk["id"].(string)[4:], tk["number"].(string), "b-private-ticket-customer", "b-private-address",
		"b-private-symptom", "b-private-complaint", complaint[4:]}
	return map[string]string{"ticket_id": tk["id"].(string), "complaint_id": complaint,
		"task_id": "tsk_00000000000000000000000000"}, bodies, leaks
}

// testClock is a settable clock for the tickets service.
type testClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *testClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.now.IsZero() {
		return time.Now()
	}
	return c.now
}

func (c *testClock) Set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = t
}

// codeSink captures sign-off codes instead of texting them.
type codeSink struct {
	mu    sync.Mutex
	codes map[string]string
}

func (s *codeSink) SendSignoffCode(_ context.Context, _, ticketID, _, code string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.codes == nil {
		s.codes = map[string]string{}
	}
	s.codes[ticketID] = code
	return nil
}

func (s *codeSink) code(id string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.codes[id]
}

func window(start time.Time) map[string]any {
	return map[string]any{"start": start.Format(time.RFC3339), "end": start.Add(2 * time.Hour).Format(time.RFC3339)}
}

// ticketAct reads the ticket, posts an action with its ETag in If-Match
// and requires the status.
func ticketAct(t *testing.T, env *apitest.Env, key, id, action string, body any, want int) map[string]any {
	t.Helper()
	if body == nil {
		body = map[string]any{}
	}
	r := env.Do(t, http.MethodPost, "/v1/tickets/"+id+"/"+action, key, body, env.IfMatch(t, "/v1/tickets/"+id, key)...)
	require.Equal(t, want, r.Status, "%s: %s", action, r.Body)
	return r.JSON(t)
}

func timelineActions(t *testing.T, env *apitest.Env, key, id string) []string {
	t.Helper()
	r := env.Do(t, http.MethodGet, "/v1/tickets/"+id+"/timeline", key, nil)
	require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
	var out []string
	for _, e := range r.JSON(t)["data"].([]any) {
		e := e.(map[string]any)
		if e["action"] == "customer_notified" {
			continue // the customer's messages: see TestCustomerNotifications
		}
		out = append(out, e["action"].(string)+":"+e["to_state"].(string))
	}
	return out
}

// lastTimelineDetail is the detail of the ticket's latest timeline entry
// of action (nil when there is none).
func lastTimelineDetail(t *testing.T, env *apitest.Env, key, id, action string) map[string]any {
	t.Helper()
	r := env.Do(t, http.MethodGet, "/v1/tickets/"+id+"/timeline", key, nil)
	require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
	for _, e := range slices.Backward(r.JSON(t)["data"].([]any)) {
		if e := e.(map[string]any); e["action"] == action {
			d, _ := e["detail"].(map[string]any)
			return d
		}
	}
	return nil
}

// fireTimer checks a ticket's SLA deadline now instead of at its due time,
// ahead of the sweep (tickets.Service.CheckTimer): the deadline's next
// escalation level is breached if it still runs.
func fireTimer(t *testing.T, env *apitest.Env, tenantID, ticketID, sla string) {
	t.Helper()
	ctx := context.Background()
	col := sla + "_due_at"
	if sla == string(tickets.SLAArrival) {
		col = "window_end" // the arrival is due by the agreed window's end
	}
	var due *time.Time
	var level int
	require.NoError(t, pg.InTenantTx(ctx, env.DB.App, tenantID, func(tx pg.TenantTx) error {
		return tx.QueryRow(ctx, `SELECT t.`+col+`, (SELECT coalesce(max(b.level), 0) FROM ticket_sla_breaches b
			WHERE b.tenant_id = t.tenant_id AND b.ticket_id = t.id AND b.sla = $3 AND b.due_at = t.`+col+`)
			FROM tickets t WHERE t.tenant_id = $1 AND t.id = $2`, tx.TenantID, ticketID, sla).Scan(&due, &level)
	}))
	require.NotNil(t, due, "no %s deadline runs on %s", sla, ticketID)
	_, err := env.Tickets.CheckTimer(ctx, tenantID, ticketID, tickets.SLA(sla), *due, level+1)
	require.NoError(t, err)
}

func TestTicketEndToEnd(t *testing.T) {
	t.Parallel()
	codes := &codeSink{}
	env := apitest.New(t, apitest.Options{Codes: codes})
	clock := &testClock{}
	env.Tickets.Now = clock.Now
	d := env.DemoBrand(t, "tickets-e2e")
	agent, _ := env.Key(t, d.AdminKey, "agent")
	rcv := newReceiver(t, env, 0)
	_, secret := createEndpoint(t, env, d.AdminKey, map[string]any{"url": rcv.url(), "event_types": []string{"ticket.*"}})

	// Intake without a model: needs_info with what to verify.
	start := apitest.WeekdayMorning(time.Now(), 2)
	r := env.Do(t, http.MethodPost, "/v1/tickets", agent, map[string]any{
		"channel": "hotline", "type": "repair",
		"contact":          map[string]any{"name": "赵六", "phone": "+86 139 1234 5678"},
		"address":          map[string]any{"region_code": d.Region, "line": "人民路 8 号 2 单元 301"},
		"unit":             map[string]any{},
		"fault":            map[string]any{"symptom": "洗衣机不脱水", "codes": []string{"E21"}, "customer_request": "上门维修"},
		"preferred_window": window(start),
	}, "Idempotency-Key: e2e-intake-1")
	require.Equal(t, http.StatusCreated, r.Status, "%s", r.Body)
	tk := r.JSON(t)
	id := tk["id"].(string)
	assert.Equal(t, "needs_info", tk["state"])
	assert.Regexp(t, `^SN-\d{8}-\d{5}$`, tk["number"])
	ver := tk["verification"].([]any)
	require.Len(t, ver, 1)
	assert.Equal(t, "unit.model_id", ver[0].(map[string]any)["field"])
	assert.Equal(t, []any{}, tk["upheld_promises"], "no complaint upheld yet: an empty list, not null")

	// A retry with the same key is the same ticket.
	r = env.Do(t, http.MethodPost, "/v1/tickets", agent, map[string]any{
		"channel": "hotline", "type": "repair",
		"contact":          map[string]any{"name": "赵六", "phone": "+86 139 1234 5678"},
		"address":          map[string]any{"region_code": d.Region, "line": "人民路 8 号 2 单元 301"},
		"unit":             map[string]any{},
		"fault":            map[string]any{"symptom": "洗衣机不脱水", "codes": []string{"E21"}, "customer_request": "上门维修"},
		"preferred_window": window(start),
	}, "Idempotency-Key: e2e-intake-1")
	require.Equal(t, http.StatusCreated, r.Status, "%s", r.Body)
	assert.Equal(t, id, r.JSON(t)["id"])

	// Triage before the intake is complete is illegal: 409 naming the state.
	r = env.Do(t, http.MethodPost, "/v1/tickets/"+id+"/triage", agent, map[string]any{"mode": "on_site"}, env.IfMatch(t, "/v1/tickets/"+id, agent)...)
	require.Equal(t, http.StatusConflict, r.Status, "%s", r.Body)
	assert.Contains(t, string(r.Body), "needs_info")
	assert.Contains(t, string(r.Body), "info_provided")

	// The agent confirms the model, serial and a purchase four years ago
	// (the washer's 36-month warranty long over): new.
	purchase := shanghaiToday(-4 * 365)
	tk = ticketAct(t, env, agent, id, "info", map[string]any{"unit": map[string]any{"model_id": d.Washer,
		"serial": "E2E-WASH-0001", "purchase_date": purchase}, "note": "客户确认型号"}, http.StatusOK)
	require.Equal(t, "new", tk["state"], "%v", tk["verification"])
	require.NotEmpty(t, tk["unit_id"])
	assert.NotEmpty(t, tk["sla"].(map[string]any)["route_due_at"])

	// Triage on site: dispatched automatically, with the choice explained.
	tk = ticketAct(t, env, agent, id, "triage", map[string]any{"mode": "on_site"}, http.StatusOK)
	require.Equal(t, "dispatched", tk["state"], "%v", tk["state_reason"])
	assert.Nil(t, tk["sla"].(map[string]any)["route_due_at"], "routing met the route SLA")
	dec := tk["dispatch"].(map[string]any)["decision"].(map[string]any)
	nodes := dec["nodes"].([]any)
	require.NotEmpty(t, nodes)
	assert.NotEmpty(t, dec["reason"])
	techID, _ := tk["technician_id"].(string)
	require.NotEmpty(t, techID, "a technician was proposed: %v", dec["reason"])
	assert.NotEmpty(t, dec["technicians"])

	// The proposed technician's key accepts; another technician's key cannot see it.
	techKey := technicianKey(t, env, d.AdminKey, techID)
	other := otherTechnician(t, env, d.AdminKey, techID)
	otherKey := technicianKey(t, env, d.AdminKey, other)
	r = env.Do(t, http.MethodGet, "/v1/tickets/"+id, otherKey, nil)
	assert.Equal(t, http.StatusNotFound, r.Status, "%s", r.Body)
	r = env.Do(t, http.MethodPost, "/v1/tickets/"+id+"/accept", otherKey, map[string]any{})
	assert.Equal(t, http.StatusNotFound, r.Status, "%s", r.Body)
	// Checking in before the appointment is illegal.
	r = env.Do(t, http.MethodPost, "/v1/tickets/"+id+"/check-in", techKey, map[string]any{}, env.IfMatch(t, "/v1/tickets/"+id, techKey)...)
	require.Equal(t, http.StatusConflict, r.Status, "%s", r.Body)
	tk = ticketAct(t, env, techKey, id, "accept", nil, http.StatusOK)
	require.Equal(t, "assigned", tk["state"])

	// Windows in the past or inverted are refused, nothing changes.
	past := time.Now().Add(-48 * time.Hour)
	r = env.Do(t, http.MethodPost, "/v1/tickets/"+id+"/schedule", techKey, map[string]any{"window": window(past)}, env.IfMatch(t, "/v1/tickets/"+id, techKey)...)
	require.Equal(t, http.StatusUnprocessableEntity, r.Status, "%s", r.Body)
	assert.Contains(t, problemLocations(t, r, http.StatusUnprocessableEntity), "body.window.end")
	r = env.Do(t, http.MethodPost, "/v1/tickets/"+id+"/schedule", techKey, map[string]any{"window": map[string]any{
		"start": start.Add(2 * time.Hour).Format(time.RFC3339), "end": start.Format(time.RFC3339)}}, env.IfMatch(t, "/v1/tickets/"+id, techKey)...)
	require.Equal(t, http.StatusUnprocessableEntity, r.Status, "%s", r.Body)
	tk = ticketAct(t, env, techKey, id, "schedule", map[string]any{"window": window(start)}, http.StatusOK)
	require.Equal(t, "scheduled", tk["state"])

	// Check-in 20 minutes late: after the two-hour window agreed closed.
	clock.Set(start.Add(2*time.Hour + 20*time.Minute))
	tk = ticketAct(t, env, techKey, id, "check-in", nil, http.StatusOK)
	require.Equal(t, "on_site", tk["state"])
	appt := tk["appointment"].(map[string]any)
	assert.Equal(t, "very_late", appt["arrival"])
	assert.EqualValues(t, 20, appt["arrival_minutes"])

	// Diagnosis under an expired warranty: the customer would pay.
	clock.Set(start.Add(2*time.Hour + 40*time.Minute))
	tk = ticketAct(t, env, techKey, id, "diagnose", map[string]any{
		"diagnosis":        map[string]any{"cause": "performance", "codes": []string{"M01"}, "repairable": true, "notes": "排水泵堵塞"},
		"work":             map[string]any{"service_kind": "repair", "include_visit": true},
		"price_list_shown": true,
	}, http.StatusOK)
	ent := tk["entitlement"].(map[string]any)["decision"].(map[string]any)
	assert.Equal(t, "out_of_warranty", ent["basis"])
	// Rule 2, by the demo price list: washer repair labour 120.00 + the
	// washer visit fee 50.00 = 170.00. Rule 8 / Midea's promise 1 (超时免单):
	// the technician was 20 minutes late, so the customer is told 0 and
	// the brand bears the 170.00.
	entTotals := ent["totals"].(map[string]any)
	assert.EqualValues(t, dayWasherLabor+dayWasherVisitFee, amountOf(entTotals["list"]))
	assert.EqualValues(t, 0, amountOf(entTotals["customer"]), "late: the diagnosis tells the customer 0")
	assert.EqualValues(t, 17000, amountOf(entTotals["brand"]))
	assert.EqualValues(t, 0, amountOf(entTotals["plan"]))
	require.NotEmpty(t, tk["quote_id"])

	// Completion: the late arrival waives the charges.
	clock.Set(start.Add(2*time.Hour + 70*time.Minute))
	tk = ticketAct(t, env, techKey, id, "complete", map[string]any{"test_run": map[string]any{"passed": true, "notes": "试机正常"}}, http.StatusOK)
	require.Equal(t, "completed", tk["state"])
	assert.EqualValues(t, 0, amountOf(tk["customer_total"]))
	assert.Empty(t, tk["receipts"], "nothing charged: no receipt")
	r = env.Do(t, http.MethodPost, "/v1/tickets/"+id+"/invoice", techKey, map[string]any{"title_type": "personal", "title": "王丽",
		"delivery": "on_site"}, env.IfMatch(t, "/v1/tickets/"+id, techKey)...)
	assert.Equal(t, http.StatusConflict, r.Status, "no receipt, nothing to invoice: %s", r.Body)
	customer, brand, plan := completionTotals(tk)
	assert.EqualValues(t, 0, customer, "超时免单: the late service is free for the customer")
	assert.EqualValues(t, 17000, brand, "the brand pays the waived labour 120.00 + visit 50.00")
	assert.EqualValues(t, 0, plan)
	waivers := tk["completion"].(map[string]any)["waivers"].([]any)
	require.Len(t, waivers, 1)
	assert.Equal(t, "late_arrival", waivers[0].(map[string]any)["code"])
	assert.Equal(t, "apology_and_gift", waivers[0].(map[string]any)["action"], "more than 15 minutes late: apology and gift")
	assert.NotEmpty(t, tk["sla"].(map[string]any)["callback_due_at"])

	// The customer's refusal to sign is recorded once the customer was
	// asked in their own channel: before the code is sent it is a conflict.
	r = env.Do(t, http.MethodPost, "/v1/tickets/"+id+"/sign-off", techKey, map[string]any{"declined": true}, env.IfMatch(t, "/v1/tickets/"+id, techKey)...)
	assert.Equal(t, []string{"body.declined"}, problemLocations(t, r, http.StatusConflict))

	// Sign-off with the code sent to the customer: a wrong code uses an attempt.
	ticketAct(t, env, techKey, id, "sign-off/code", nil, http.StatusOK)
	code := codes.code(id)
	require.Len(t, code, 6)
	wrong := "000000"
	if code == wrong {
		wrong = "111111"
	}
	r = env.Do(t, http.MethodPost, "/v1/tickets/"+id+"/sign-off", techKey, map[string]any{"code": wrong, "rating": 4}, env.IfMatch(t, "/v1/tickets/"+id, techKey)...)
	require.Equal(t, http.StatusUnprocessableEntity, r.Status, "%s", r.Body)
	assert.Contains(t, problemLocations(t, r, http.StatusUnprocessableEntity), "body.code")
	r = env.Do(t, http.MethodPost, "/v1/tickets/"+id+"/sign-off", techKey, map[string]any{"code": code, "rating": 9}, env.IfMatch(t, "/v1/tickets/"+id, techKey)...)
	require.Equal(t, http.StatusUnprocessableEntity, r.Status, "%s", r.Body)
	assert.Contains(t, problemLocations(t, r, http.StatusUnprocessableEntity), "body.rating")
	// A rating or the customer's refusal to sign, exactly one.
	r = env.Do(t, http.MethodPost, "/v1/tickets/"+id+"/sign-off", techKey, map[string]any{"rating": 4, "declined": true}, env.IfMatch(t, "/v1/tickets/"+id, techKey)...)
	require.Equal(t, http.StatusUnprocessableEntity, r.Status, "%s", r.Body)
	assert.Equal(t, []string{"body.declined"}, problemLocations(t, r, http.StatusUnprocessableEntity))
	r = env.Do(t, http.MethodPost, "/v1/tickets/"+id+"/sign-off", techKey, map[string]any{"declined": true, "comment": "不签"}, env.IfMatch(t, "/v1/tickets/"+id, techKey)...)
	assert.Equal(t, []string{"body.comment"}, problemLocations(t, r, http.StatusUnprocessableEntity), "a refusal carries no comment")
	r = env.Do(t, http.MethodPost, "/v1/tickets/"+id+"/sign-off", techKey, map[string]any{"code": code}, env.IfMatch(t, "/v1/tickets/"+id, techKey)...)
	require.Equal(t, http.StatusUnprocessableEntity, r.Status, "%s", r.Body)
	assert.Equal(t, []string{"body.rating"}, problemLocations(t, r, http.StatusUnprocessableEntity))
	tk = ticketAct(t, env, techKey, id, "sign-off", map[string]any{"code": code, "rating": 4, "comment": "准时处理"}, http.StatusOK)
	so := tk["signoff"].(map[string]any)
	assert.Equal(t, true, so["confirmed_by_code"])
	assert.EqualValues(t, 4, so["attempts_left"], "one wrong attempt was used before the code was accepted")

	// The 72-hour callback timer fires: a breach escalated to the dispatcher.
	fireTimer(t, env, d.ID, id, "callback")
	require.Eventually(t, func() bool {
		return slices.Contains(timelineActions(t, env, agent, id), "sla_breached:completed")
	}, 20*time.Second, 100*time.Millisecond, "the callback timer recorded no breach")

	// Callback: unsatisfied reopens and re-dispatches.
	clock.Set(start.Add(80 * time.Hour))
	tk = ticketAct(t, env, agent, id, "callback", map[string]any{"outcome": "unsatisfied", "note": "噪音还在"}, http.StatusOK)
	require.Equal(t, "dispatched", tk["state"], "%v", tk["state_reason"])
	assert.EqualValues(t, 1, tk["reopen_count"])

	// Served again until satisfied.
	tech2, _ := tk["technician_id"].(string)
	require.NotEmpty(t, tech2)
	key2 := techKey
	if tech2 != techID {
		key2 = technicianKey(t, env, d.AdminKey, tech2)
	}
	ticketAct(t, env, key2, id, "accept", nil, http.StatusOK)
	start2 := apitest.WeekdayMorning(clock.Now(), 1)
	ticketAct(t, env, key2, id, "schedule", map[string]any{"window": window(start2)}, http.StatusOK)
	clock.Set(start2.Add(-8 * time.Minute))
	tk = ticketAct(t, env, key2, id, "check-in", nil, http.StatusOK)
	assert.Equal(t, "early", tk["appointment"].(map[string]any)["arrival"])
	ticketAct(t, env, key2, id, "diagnose", map[string]any{
		"diagnosis": map[string]any{"cause": "performance", "repairable": true},
		"work":      map[string]any{"service_kind": "repair", "include_visit": true}, "price_list_shown": true}, http.StatusOK)
	tk = ticketAct(t, env, key2, id, "complete", map[string]any{"test_run": map[string]any{"passed": true}}, http.StatusOK)
	assert.EqualValues(t, 0, amountOf(tk["customer_total"]), "the late promise holds for the service served again")
	for _, w := range tk["completion"].(map[string]any)["waivers"].([]any) {
		assert.NotEqual(t, "repeat_visit", w.(map[string]any)["code"], "a repair visited again is no repeat visit")
	}
	ticketAct(t, env, key2, id, "sign-off/code", nil, http.StatusOK)
	ticketAct(t, env, key2, id, "sign-off", map[string]any{"code": codes.code(id), "rating": 5}, http.StatusOK)
	tk = ticketAct(t, env, agent, id, "callback", map[string]any{"outcome": "satisfied"}, http.StatusOK)
	require.Equal(t, "closed", tk["state"])

	// Closed: no action but reopening, the return of parts issued and
	// not fitted (the parts are settled: only returns move them), the
	// completion of its follow-up tasks (an apology owed after the callback)
	// and the centre's reduction of the settled charges (refunded).
	r = env.Do(t, http.MethodPost, "/v1/tickets/"+id+"/cancel", agent, map[string]any{"reason": "x"}, env.IfMatch(t, "/v1/tickets/"+id, agent)...)
	require.Equal(t, http.StatusConflict, r.Status, "%s", r.Body)
	r = env.Do(t, http.MethodGet, "/v1/tickets/"+id+"/transitions", agent, nil)
	require.Equal(t, http.StatusOK, r.Status)
	var allowed []string
	for _, tr := range r.JSON(t)["data"].([]any) {
		allowed = append(allowed, tr.(map[string]any)["action"].(string))
	}
	assert.Equal(t, []string{"parts_moved", "reopened", "task_completed", "invoice_requested", "invoice_issued", "charges_reduced"}, allowed)

	// Every step is on the timeline ...
	steps := timelineActions(t, env, agent, id)
	for _, want := range []string{"opened:needs_info", "info_provided:new", "triaged:triaged", "triaged:dispatched",
		"accepted:assigned", "scheduled:scheduled", "checked_in:on_site", "diagnosed:on_site", "completed:completed",
		"signoff_code_sent:completed", "signed_off:completed", "sla_breached:completed", "callback_recorded:reopened",
		"callback_recorded:dispatched", "callback_recorded:closed"} {
		assert.True(t, slices.Contains(steps, want), "timeline lacks %s: %v", want, steps)
	}
	// ... and arrives as signed webhooks.
	wantTypes := []string{"ticket.opened", "ticket.info_provided", "ticket.triaged", "ticket.accepted", "ticket.scheduled",
		"ticket.checked_in", "ticket.diagnosed", "ticket.completed", "ticket.signed_off", "ticket.sla_breached",
		"ticket.callback_recorded"}
	require.Eventually(t, func() bool {
		got := map[string]bool{}
		for _, rq := range rcv.requests() {
			var ev map[string]any
			if json.Unmarshal(rq.body, &ev) == nil {
				got[fmt.Sprint(ev["type"])] = true
			}
		}
		for _, w := range wantTypes {
			if !got[w] {
				return false
			}
		}
		return true
	}, 40*time.Second, 200*time.Millisecond, "webhooks missing some of %v", wantTypes)
	for _, rq := range rcv.requests() {
		require.NoError(t, verify(t, secret, rq))
	}
}

// technicianKey issues a technician key acting as techID.
func technicianKey(t *testing.T, env *apitest.Env, admin, techID string) string {
	t.Helper()
	r := env.Do(t, http.MethodPost, "/v1/api-keys", admin, map[string]any{"name": "tech " + techID,
		"roles": []string{"technician"}, "technician_id": techID})
	require.Equal(t, http.StatusCreated, r.Status, "%s", r.Body)
	return r.JSON(t)["secret"].(string)
}

// otherTechnician returns a technician other than techID.
func otherTechnician(t *testing.T, env *apitest.Env, admin, techID string) string {
	t.Helper()
	r := env.Do(t, http.MethodGet, "/v1/network/technicians?limit=5", admin, nil)
	require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
	for _, x := range r.JSON(t)["data"].([]any) {
		if id := x.(map[string]any)["id"].(string); id != techID {
			return id
		}
	}
	t.Fatal("no other technician")
	return ""
}
