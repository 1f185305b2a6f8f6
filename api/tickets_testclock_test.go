package api_test

import (
	"context"
	"encoding/json"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/servicenet/servicenet/internal/apitest"
	"github.com/servicenet/servicenet/internal/pg"
)

// openOnClock opens a repair on clock (clockTicketBody's, bought 400
// days ago, with extra fields) and returns it.
func openOnClock(t *testing.T, env *apitest.Env, d apitest.DemoBrand, key, clock, serial string, start time.Time, extra map[string]any) map[string]any {
	t.Helper()
	body := clockTicketBody(d, serial, start, map[string]any{"test_clock_id": clock})
	body["unit"].(map[string]any)["purchase_date"] = shanghaiToday(-400)
	for k, v := range extra {
		body[k] = v
	}
	r := env.Do(t, http.MethodPost, "/v1/tickets", key, body)
	require.Equal(t, http.StatusCreated, r.Status, "%s", r.Body)
	return r.JSON(t)
}

// acceptedOnSite triages ticket id on site and has the proposed technician
// accept it: the technician's key and id.
func acceptedOnSite(t *testing.T, env *apitest.Env, d apitest.DemoBrand, agent, id string) (tech, techID string) {
	t.Helper()
	tk := ticketAct(t, env, agent, id, "triage", map[string]any{"mode": "on_site"}, http.StatusOK)
	require.Equal(t, "dispatched", tk["state"], "%v", tk["state_reason"])
	techID = tk["technician_id"].(string)
	tech = technicianKey(t, env, d.AdminKey, techID)
	ticketAct(t, env, tech, id, "accept", nil, http.StatusOK)
	return tech, techID
}

// checkedInOnClock takes ticket id, on clock with a visit wanted in
// window0, to its technician's check-in on the clock: triaged on site by
// agent and accepted (acceptedOnSite), scheduled in window0, the clock
// advanced by clockKey (the clock's owner's key) to 6 minutes before the
// window. It returns the checked-in ticket, the technician's key and the
// arrival.
func checkedInOnClock(t *testing.T, env *apitest.Env, d apitest.DemoBrand, agent, clockKey, clock, id string, window0 time.Time) (tk map[string]any, tech string, arrive time.Time) {
	t.Helper()
	tech, _ = acceptedOnSite(t, env, d, agent, id)
	ticketAct(t, env, tech, id, "schedule", map[string]any{"window": window(window0)}, http.StatusOK)
	arrive = window0.Add(-6 * time.Minute)
	advanceClock(t, env, clockKey, clock, arrive)
	return ticketAct(t, env, tech, id, "check-in", nil, http.StatusOK), tech, arrive
}

// completedOnClock is a washer repair on a new clock at frozen, taken
// through its visit (the clock advanced to 6 minutes before the window)
// to completed: the ticket, the technician's key, the clock and its time.
func completedOnClock(t *testing.T, env *apitest.Env, d apitest.DemoBrand, agent, serial string, frozen time.Time) (id, tech, clock string, at time.Time) {
	t.Helper()
	clock = createClock(t, env, d.AdminKey, frozen)
	tk := openOnClock(t, env, d, agent, clock, serial, apitest.WeekdayMorning(frozen, 2), nil)
	require.Equal(t, "new", tk["state"], "%v", tk["verification"])
	id = tk["id"].(string)
	tech, techID := acceptedOnSite(t, env, d, agent, id)
	start := env.InShift(t, d.AdminKey, techID, apitest.WeekdayMorning(frozen, 1))
	ticketAct(t, env, tech, id, "schedule", map[string]any{"window": window(start)}, http.StatusOK)
	at = start.Add(-6 * time.Minute)
	advanceClock(t, env, d.AdminKey, clock, at)
	ticketAct(t, env, tech, id, "check-in", nil, http.StatusOK)
	ticketAct(t, env, tech, id, "diagnose", map[string]any{"diagnosis": map[string]any{"cause": "performance", "repairable": true},
		"work": map[string]any{"service_kind": "repair", "include_visit": true}, "price_list_shown": true}, http.StatusOK)
	tk = ticketAct(t, env, tech, id, "complete", map[string]any{"test_run": map[string]any{"passed": true}}, http.StatusOK)
	require.Equal(t, "completed", tk["state"])
	return id, tech, clock, at
}

// refused posts an action that must be refused with 422 naming loc, and
// requires the ticket unchanged.
func refused(t *testing.T, env *apitest.Env, key, id, action string, body map[string]any, loc string) {
	t.Helper()
	before := env.Do(t, http.MethodGet, "/v1/tickets/"+id, key, nil).JSON(t)["version"]
	r := env.Do(t, http.MethodPost, "/v1/tickets/"+id+"/"+action, key, body, env.IfMatch(t, "/v1/tickets/"+id, key)...)
	require.Equal(t, []string{loc}, problemLocations(t, r, http.StatusUnprocessableEntity), "%s: %s", action, r.Body)
	require.Equal(t, before, env.Do(t, http.MethodGet, "/v1/tickets/"+id, key, nil).JSON(t)["version"], "%s changed nothing", action)
}

// TestTicketActionsOnTheTicketsClock: a ticket on a test clock has its
// actions' times judged on the clock, not on the wall clock: windows,
// arrivals and ETAs in the clock's future are accepted and those in its
// past refused, however far the clock stands from the wall clock.
func TestTicketActionsOnTheTicketsClock(t *testing.T) {
	t.Parallel()
	env := apitest.New(t)
	d := env.TestModeDemoBrand(t, "ticket-actions-clock")
	agent, _ := env.Key(t, d.AdminKey, "agent")
	now := time.Now().Truncate(time.Second)
	// The demo price list takes effect today: clocks in the past price
	// their repairs by it too.
	tctx := pg.WithLivemode(context.Background(), false)
	require.NoError(t, pg.InTenantTx(tctx, env.DB.Owner, d.ID, func(tx pg.TenantTx) error {
		_, err := tx.Exec(tctx, `UPDATE price_lists SET effective_from = effective_from - 100 WHERE tenant_id = $1`, tx.TenantID)
		return err
	}))

	t.Run("ValidationsOnAClockInThePast", func(t *testing.T) {
		// 60 days back: the clock's tomorrow is long gone on the wall clock.
		past := now.AddDate(0, 0, -60)
		clock := createClock(t, env, d.AdminKey, past)
		// Opened without its unit: needs_info, completed with a window on
		// the clock's tomorrow.
		tk := openOnClock(t, env, d, agent, clock, "CLK-0601", apitest.WeekdayMorning(past, 2), map[string]any{"unit": map[string]any{}})
		require.Equal(t, "needs_info", tk["state"], "%v", tk["verification"])
		id := tk["id"].(string)
		tk = ticketAct(t, env, agent, id, "info", map[string]any{"unit": map[string]any{"model_id": d.Washer, "serial": "CLK-0601",
			"purchase_date": shanghaiToday(-400)}, "preferred_window": window(apitest.WeekdayMorning(past, 1))}, http.StatusOK)
		require.Equal(t, "new", tk["state"], "%v", tk["verification"])
		tech, techID := acceptedOnSite(t, env, d, agent, id)

		refused(t, env, tech, id, "schedule", map[string]any{"window": window(past.Add(-3 * time.Hour))}, "body.window.end")
		start := env.InShift(t, d.AdminKey, techID, apitest.WeekdayMorning(past, 1))
		tk = ticketAct(t, env, tech, id, "schedule", map[string]any{"window": window(start)}, http.StatusOK)
		require.Equal(t, "scheduled", tk["state"])
		start2 := env.InShift(t, d.AdminKey, techID, start.AddDate(0, 0, 1))
		ticketAct(t, env, tech, id, "reschedule", map[string]any{"window": window(start2), "reason": "parts", "customer_agreed": true}, http.StatusOK)
		refused(t, env, tech, id, "en-route", map[string]any{"eta": past.Add(-time.Hour).Format(time.RFC3339)}, "body.eta")
		ticketAct(t, env, tech, id, "en-route", map[string]any{"eta": start2.Add(-10 * time.Minute).Format(time.RFC3339)}, http.StatusOK)

		// Not home on the clock's day; the new window is the clock's next day.
		advanceClock(t, env, d.AdminKey, clock, start2.Add(-8*time.Minute))
		start3 := env.InShift(t, d.AdminKey, techID, start2.AddDate(0, 0, 1))
		notHome := map[string]any{"knocked_minutes": 5, "called_customer": true, "neighbour_asked": true, "slip_left": true}
		refused(t, env, tech, id, "visit-exception", map[string]any{"reason": "customer_not_home", "not_home": notHome,
			"window": window(start2.Add(-4 * time.Hour))}, "body.window.end")
		tk = ticketAct(t, env, tech, id, "visit-exception", map[string]any{"reason": "customer_not_home", "not_home": notHome,
			"window": window(start3)}, http.StatusOK)
		require.Equal(t, "scheduled", tk["state"])
		require.Equal(t, start3.Unix(), mustTime(t, tk["appointment"].(map[string]any)["start"]).Unix())
	})

	t.Run("ValidationsOnAClockAhead", func(t *testing.T) {
		// 60 days ahead: the wall clock's tomorrow is the clock's past, and
		// the clock's now is the wall clock's future.
		ahead := now.AddDate(0, 0, 60)
		clock := createClock(t, env, d.AdminKey, ahead)
		tk := openOnClock(t, env, d, agent, clock, "CLK-0602", apitest.WeekdayMorning(ahead, 2), nil)
		require.Equal(t, "new", tk["state"], "%v", tk["verification"])
		id := tk["id"].(string)
		tech, techID := acceptedOnSite(t, env, d, agent, id)

		wall := env.InShift(t, d.AdminKey, techID, apitest.WeekdayMorning(now, 1))
		refused(t, env, tech, id, "schedule", map[string]any{"window": window(wall)}, "body.window.end")
		start := env.InShift(t, d.AdminKey, techID, apitest.WeekdayMorning(ahead, 1))
		ticketAct(t, env, tech, id, "schedule", map[string]any{"window": window(start)}, http.StatusOK)
		refused(t, env, tech, id, "reschedule", map[string]any{"window": window(wall), "reason": "parts", "customer_agreed": true}, "body.window.end")
		refused(t, env, tech, id, "en-route", map[string]any{"eta": now.Add(2 * time.Hour).Format(time.RFC3339)}, "body.eta")

		// The technician arrives 6 minutes early, on the clock: the arrival
		// is the clock's now, not the wall clock's future.
		arrive := start.Add(-6 * time.Minute)
		advanceClock(t, env, d.AdminKey, clock, arrive)
		refused(t, env, tech, id, "check-in", map[string]any{"arrived_at": arrive.Add(5 * time.Minute).Format(time.RFC3339)}, "body.arrived_at")
		tk = ticketAct(t, env, tech, id, "check-in", map[string]any{"arrived_at": arrive.Format(time.RFC3339)}, http.StatusOK)
		require.Equal(t, "on_site", tk["state"])
		require.Equal(t, "early", tk["appointment"].(map[string]any)["arrival"])
	})

	t.Run("LoanerLentAndReturnedOnTheClock", func(t *testing.T) {
		// On a clock 50 days back, the unit is carried in with a loaner due
		// on the clock's day after tomorrow, and handed back 12 clock days
		// after the carry-in: 10 days late.
		past := now.AddDate(0, 0, -50)
		clock := createClock(t, env, d.AdminKey, past)
		tk := openOnClock(t, env, d, agent, clock, "CLK-0603", apitest.WeekdayMorning(past, 2), nil)
		require.Equal(t, "new", tk["state"], "%v", tk["verification"])
		id := tk["id"].(string)
		tech, techID := acceptedOnSite(t, env, d, agent, id)
		start := env.InShift(t, d.AdminKey, techID, apitest.WeekdayMorning(past, 1))
		tk = ticketAct(t, env, tech, id, "schedule", map[string]any{"window": window(start)}, http.StatusOK)
		arrive := start.Add(-6 * time.Minute)
		advanceClock(t, env, d.AdminKey, clock, arrive)
		ticketAct(t, env, tech, id, "check-in", nil, http.StatusOK)
		loaner := createdID(t, env, d.AdminKey, "/v1/loaners", map[string]any{"node_id": tk["node_id"], "category": "washer", "serial": "LN-CLK-0603"})

		day := func(at time.Time, days int) string {
			return at.In(start.Location()).AddDate(0, 0, days).Format(time.DateOnly)
		}
		dueOn := day(arrive, 2)
		refused(t, env, tech, id, "carry-in", map[string]any{"condition": "外观完好", "customer_agreed": true,
			"loaner": map[string]any{"loaner_id": loaner, "due_on": day(arrive, -1)}}, "body.loaner.due_on")
		tk = ticketAct(t, env, tech, id, "carry-in", map[string]any{"condition": "外观完好", "customer_agreed": true,
			"loaner": map[string]any{"loaner_id": loaner, "due_on": dueOn}}, http.StatusOK)
		loan := tk["carry_in"].(map[string]any)["loan"].(map[string]any)
		require.Equal(t, arrive.UTC(), mustTime(t, loan["lent_at"]).UTC(), "lent at the clock's time")
		require.Equal(t, dueOn, loan["due_on"])
		// Its overdue flag is the clock's: due on the clock's day after
		// tomorrow, not overdue now (on the wall clock it was due 48 days
		// ago), and overdue once the clock is past the due day.
		overdue := func() (loaned, listed bool) {
			t.Helper()
			r := env.Do(t, http.MethodGet, "/v1/loaners/"+loaner, d.AdminKey, nil)
			require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
			got := r.JSON(t)
			require.Equal(t, got["overdue"], got["loans"].([]any)[0].(map[string]any)["overdue"], "the loaner and its current loan agree")
			for _, l := range listIDs(t, env, d.AdminKey, "/v1/loaners?overdue=true&limit=200") {
				listed = listed || l == loaner
			}
			return got["overdue"].(bool), listed
		}
		require.Equal(t, false, loan["overdue"])
		loaned, listed := overdue()
		require.False(t, loaned, "due on the clock's day after tomorrow")
		require.False(t, listed)

		back := arrive.AddDate(0, 0, 12)
		advanceClock(t, env, d.AdminKey, clock, back)
		loaned, listed = overdue()
		require.True(t, loaned, "ten days past the due day on the clock")
		require.True(t, listed)
		tk = ticketAct(t, env, tech, id, "return", map[string]any{"loaner_condition": "good"}, http.StatusOK)
		loan = tk["carry_in"].(map[string]any)["loan"].(map[string]any)
		require.Equal(t, back.UTC(), mustTime(t, loan["returned_at"]).UTC(), "returned at the clock's time")
		r := env.Do(t, http.MethodGet, "/v1/events?limit=100&type=loaner.returned", d.AdminKey, nil)
		require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
		var returned map[string]any
		for _, e := range r.JSON(t)["data"].([]any) {
			if data := e.(map[string]any)["data"].(map[string]any); data["ticket_id"] == id {
				returned = data
			}
		}
		require.NotNil(t, returned, "%s", r.Body)
		require.EqualValues(t, 10, returned["overdue_days"], "due on %s, back on %s on the clock", dueOn, day(back, 0))
	})

	t.Run("SignoffCodeFromTheEventOnAClockInThePast", func(t *testing.T) {
		// Without a gateway the tenant delivers the code from the signed
		// notification.requested event: the code is in it while the code
		// lives on the clock, and its secret is erased when the clock
		// passes its expiry, not by the wall clock.
		rcv := newReceiver(t, env, 0)
		createEndpoint(t, env, d.AdminKey, map[string]any{"url": rcv.url(), "event_types": []string{"notification.*"}})
		id, tech, clock, at := completedOnClock(t, env, d, agent, "CLK-0604", now.AddDate(0, 0, -35))
		tk := ticketAct(t, env, tech, id, "sign-off/code", nil, http.StatusOK)
		so := tk["signoff"].(map[string]any)
		require.Equal(t, at.Add(15*time.Minute).UTC(), mustTime(t, so["code_expires_at"]).UTC(), "15 minutes on the clock")
		del := so["delivery"].(map[string]any)
		require.Equal(t, "event", del["via"])
		require.Equal(t, "requested", del["status"])

		var data map[string]any
		require.Eventually(t, func() bool {
			for _, r := range rcv.requests() {
				var p struct {
					Data map[string]any `json:"data"`
				}
				require.NoError(t, json.Unmarshal(r.body, &p))
				if p.Data["purpose"] == "signoff_code" && p.Data["subject_id"] == id {
					data = p.Data
					return true
				}
			}
			return false
		}, 30*time.Second, 50*time.Millisecond, "the code's notification.requested event was delivered")
		require.Contains(t, data, "secret_params", "the event carries the code: it has not expired on the clock: %v", data)
		code := data["secret_params"].(map[string]any)["code"].(string)
		require.Regexp(t, `^\d{6}$`, code)

		kept := func() bool {
			var kept bool
			require.NoError(t, pg.InTenantTx(tctx, env.DB.App, d.ID, func(tx pg.TenantTx) error {
				return tx.QueryRow(tctx, `SELECT secret IS NOT NULL FROM notifications WHERE tenant_id = $1 AND id = $2`,
					tx.TenantID, del["notification_id"]).Scan(&kept)
			}))
			return kept
		}
		require.Never(t, func() bool { return !kept() }, time.Second, 50*time.Millisecond, "the secret waits for the clock")
		tk = ticketAct(t, env, tech, id, "sign-off", map[string]any{"code": code, "rating": 5}, http.StatusOK)
		require.Equal(t, true, tk["signoff"].(map[string]any)["confirmed_by_code"])

		advanceClock(t, env, d.AdminKey, clock, at.Add(16*time.Minute))
		require.Eventually(t, func() bool { return !kept() }, 30*time.Second, 50*time.Millisecond,
			"the clock passed the code's expiry: its secret is erased")
	})

	t.Run("SignoffCodeThroughTheGatewayOnAClockInThePast", func(t *testing.T) {
		// Through the tenant's SMS gateway: sent, not failed as expired.
		gw := newSMSGateway(t, env, 0)
		r := env.Do(t, http.MethodPost, "/v1/notification-gateways", d.AdminKey, map[string]any{"url": gw.srv.URL + "/sms"})
		require.Equal(t, http.StatusCreated, r.Status, "%s", r.Body)
		id, tech, _, _ := completedOnClock(t, env, d, agent, "CLK-0605", now.AddDate(0, 0, -20))
		tk := ticketAct(t, env, tech, id, "sign-off/code", nil, http.StatusOK)
		del := tk["signoff"].(map[string]any)["delivery"].(map[string]any)
		require.Equal(t, "gateway", del["via"])
		require.Eventually(t, func() bool {
			r := env.Do(t, http.MethodGet, "/v1/tickets/"+id, tech, nil)
			del = r.JSON(t)["signoff"].(map[string]any)["delivery"].(map[string]any)
			return del["status"] != "queued"
		}, 30*time.Second, 50*time.Millisecond)
		require.Equal(t, "sent", del["status"], "%v", del)
		var code string
		for _, r := range gw.wait(t, 1) {
			var p struct {
				Data map[string]any `json:"data"`
			}
			require.NoError(t, json.Unmarshal(r.body, &p))
			if p.Data["purpose"] == "signoff_code" && p.Data["subject_id"] == id {
				code = p.Data["params"].(map[string]any)["code"].(string)
			}
		}
		require.Regexp(t, `^\d{6}$`, code, "the gateway got the code")
		tk = ticketAct(t, env, tech, id, "sign-off", map[string]any{"code": code, "rating": 5}, http.StatusOK)
		require.Equal(t, true, tk["signoff"].(map[string]any)["confirmed_by_code"])
	})
}
