package api_test

import (
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/servicenet/servicenet/internal/apitest"
)

// smsOf is what the gateway received for one notification.
type smsOf struct {
	id, purpose, subject, text string
}

// accepted lists the messages the gateway accepted, in order, one per
// notification id (a retried request carries the same webhook-id).
func accepted(t *testing.T, gw *smsGateway, secret string) []smsOf {
	t.Helper()
	gw.mu.Lock()
	got := append([]received(nil), gw.got...)
	gw.mu.Unlock()
	var out []smsOf
	for i, r := range got {
		if i < gw.fail {
			continue // answered 503: retried with the same webhook-id
		}
		d := verifySigned(t, secret, r)
		out = append(out, smsOf{id: r.header.Get("webhook-id"), purpose: d["purpose"].(string),
			subject: d["subject_id"].(string), text: d["text"].(string)})
	}
	return out
}

func purposesFor(ms []smsOf, subject string) []string {
	var out []string
	for _, m := range ms {
		if m.subject == subject {
			out = append(out, m.purpose)
		}
	}
	return out
}

// TestCustomerNotifications runs a repair from intake to sign-off against a
// local HTTPS test gateway: the customer gets each moment's message, in
// Chinese (the tenant's default language), in order and exactly once; a
// retried request sends nothing more; each message's delivery status is on
// the ticket's timeline; a customer who opted out gets only the sign-off
// code.
func TestCustomerNotifications(t *testing.T) {
	t.Parallel()
	env := apitest.New(t)
	clock := &testClock{}
	env.Tickets.Now = clock.Now
	d := env.DemoBrand(t, "notify-moments")
	agent, _ := env.Key(t, d.AdminKey, "agent")
	// The visit's windows, moved into the dispatched technician's shifts
	// by run (apitest.Env.InShift).
	start := apitest.WeekdayMorning(time.Now(), 2)
	var next time.Time
	gw := newSMSGateway(t, env, 1) // the first request fails: the job retries it
	r := env.Do(t, http.MethodPost, "/v1/notification-gateways", d.AdminKey, map[string]any{"url": gw.srv.URL + "/sms"})
	require.Equal(t, http.StatusCreated, r.Status, "%s", r.Body)
	secret := r.JSON(t)["secret"].(string)

	r = env.Do(t, http.MethodGet, "/v1/catalog/parts?model_id="+d.Washer+"&limit=50", d.AdminKey, nil)
	require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
	var pump string
	for _, p := range r.JSON(t)["data"].([]any) {
		if p := p.(map[string]any); p["part_number"] == "0024000145" {
			pump = p["id"].(string)
		}
	}
	require.NotEmpty(t, pump)

	// run takes a repair through every moment and returns its id.
	run := func(t *testing.T, serial string) (string, string) {
		clock.Set(time.Time{})
		id, _ := openReady(t, env, d, agent, serial, 1200, start)
		tk := ticketAct(t, env, agent, id, "triage", map[string]any{"mode": "on_site"}, http.StatusOK)
		require.Equal(t, "dispatched", tk["state"], "%v", tk["state_reason"])
		tech := technicianKey(t, env, d.AdminKey, tk["technician_id"].(string))
		start = env.InShift(t, d.AdminKey, tk["technician_id"].(string), start)
		next = env.InShift(t, d.AdminKey, tk["technician_id"].(string), start.Add(24*time.Hour))
		ticketAct(t, env, tech, id, "accept", nil, http.StatusOK)
		ticketAct(t, env, tech, id, "schedule", map[string]any{"window": window(start)}, http.StatusOK)
		clock.Set(start.Add(-time.Hour))
		ticketAct(t, env, tech, id, "en-route", map[string]any{"eta": start.Add(-10 * time.Minute).Format(time.RFC3339)}, http.StatusOK)
		// A retried request (same Idempotency-Key) is answered from the first: no second message.
		late := map[string]any{"eta": start.Add(2*time.Hour + 20*time.Minute).Format(time.RFC3339)} // after the two-hour window
		ifm := env.IfMatch(t, "/v1/tickets/"+id, tech)
		for range 2 {
			r := env.Do(t, http.MethodPost, "/v1/tickets/"+id+"/en-route", tech, late, append(ifm, "Idempotency-Key: late-"+serial)...)
			require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
		}
		clock.Set(start.Add(2*time.Hour + 20*time.Minute))
		ticketAct(t, env, tech, id, "check-in", nil, http.StatusOK)
		ticketAct(t, env, tech, id, "diagnose", map[string]any{"diagnosis": map[string]any{"cause": "performance", "repairable": true},
			"work": map[string]any{"service_kind": "repair"}, "price_list_shown": true}, http.StatusOK)
		r := env.Do(t, http.MethodPost, "/v1/tickets/"+id+"/parts", tech, map[string]any{"op": "reserve",
			"lines": []any{map[string]any{"part_id": pump, "quantity": 100}}}, env.IfMatch(t, "/v1/tickets/"+id, tech)...)
		require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
		require.Equal(t, "awaiting_parts", r.JSON(t)["ticket"].(map[string]any)["state"])
		ticketAct(t, env, tech, id, "reschedule", map[string]any{"window": window(next), "reason": "parts", "customer_agreed": true}, http.StatusOK)
		clock.Set(next.Add(-6 * time.Minute))
		ticketAct(t, env, tech, id, "check-in", nil, http.StatusOK)
		tk = ticketAct(t, env, tech, id, "complete", map[string]any{"test_run": map[string]any{"passed": true}}, http.StatusOK)
		require.NotNil(t, tk["customer_total"])
		ticketAct(t, env, tech, id, "sign-off/code", nil, http.StatusOK)
		return id, tech
	}

	all := []string{"ticket_received", "technician_assigned", "on_the_way", "running_late", "parts_awaited",
		"visit_rescheduled", "completed", "callback_due", "signoff_code"}

	t.Run("EveryMomentInChineseInOrderOnce", func(t *testing.T) {
		id, tech := run(t, "MSG-0001")
		gw.wait(t, len(all)+1)
		var ms []smsOf
		require.Eventually(t, func() bool {
			ms = accepted(t, gw, secret)
			return len(purposesFor(ms, id)) >= len(all)
		}, 30*time.Second, 50*time.Millisecond)
		assert.Equal(t, all, purposesFor(ms, id), "each moment once, in order")
		seen := map[string]bool{}
		texts := map[string]string{}
		for _, m := range ms {
			if m.subject != id {
				continue
			}
			assert.False(t, seen[m.id], "notification %s delivered once", m.id)
			seen[m.id] = true
			texts[m.purpose] = m.text
		}
		r := env.Do(t, http.MethodGet, "/v1/tickets/"+id, tech, nil)
		number := r.JSON(t)["number"].(string)
		assert.Equal(t, "您的服务申请已受理，工单号 "+number+"。我们将尽快安排服务。", texts["ticket_received"])
		assert.Contains(t, texts["technician_assigned"], "服务证号")
		assert.Contains(t, texts["running_late"], "很抱歉")
		assert.Contains(t, texts["running_late"], start.Add(2*time.Hour+20*time.Minute).In(shanghai).Format("15:04"), "the new time")
		assert.Contains(t, texts["on_the_way"], "已出发")
		assert.Contains(t, texts["parts_awaited"], "配件")
		assert.Contains(t, texts["visit_rescheduled"], next.In(shanghai).Format("15:04"))
		assert.Regexp(t, `本次应付费用 ¥\d+\.\d\d`, texts["completed"])
		assert.Contains(t, texts["callback_due"], "回访")
		assert.Regexp(t, `签收码：\d{6}`, texts["signoff_code"])

		// The delivery status of each message is on the ticket's timeline.
		var notified []map[string]any
		ok := assert.Eventually(t, func() bool {
			r := env.Do(t, http.MethodGet, "/v1/tickets/"+id+"/timeline", agent, nil)
			require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
			notified = nil
			sent := 0
			for _, e := range r.JSON(t)["data"].([]any) {
				if e := e.(map[string]any); e["action"] == "customer_notified" {
					notified = append(notified, e)
					if e["delivery"].(map[string]any)["status"] == "sent" {
						sent++
					}
				}
			}
			return sent == len(all)
		}, 30*time.Second, 100*time.Millisecond, "every message sent, on the timeline")
		require.True(t, ok, "%v", notified)
		var onTimeline []string
		for _, e := range notified {
			onTimeline = append(onTimeline, e["detail"].(map[string]any)["purpose"].(string))
		}
		assert.Equal(t, all, onTimeline)
		assert.EqualValues(t, 2, notified[0]["delivery"].(map[string]any)["attempts"], "the first was retried once")
	})

	t.Run("OptedOutCustomerGetsOnlyTheSignoffCode", func(t *testing.T) {
		c := createCustomer(t, env, d.AdminKey, map[string]any{"name": "不打扰", "phones": []string{"+86 138 0002 0000"}}, http.StatusCreated)
		r := env.Do(t, http.MethodPatch, "/v1/customers/"+c["id"].(string), d.AdminKey, map[string]any{"notifications_opt_out": true})
		require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
		require.Equal(t, true, r.JSON(t)["notifications_opt_out"])
		id, _ := run(t, "MSG-0002") // openReady's phone: +86 138 0002 0000
		var ms []smsOf
		require.Eventually(t, func() bool {
			ms = accepted(t, gw, secret)
			return len(purposesFor(ms, id)) >= 1
		}, 30*time.Second, 50*time.Millisecond)
		// Every message of a change is requested in its transaction: the
		// sign-off code came last, so nothing else is on its way.
		assert.Equal(t, []string{"signoff_code"}, purposesFor(ms, id))
	})
}

var shanghai = func() *time.Location {
	l, err := time.LoadLocation("Asia/Shanghai")
	if err != nil {
		panic(err)
	}
	return l
}()

// TestNotificationTemplates: a tenant rewrites a message; bad templates and
// languages are 422 naming the field, and nothing changes.
func TestNotificationTemplates(t *testing.T) {
	t.Parallel()
	env := apitest.Shared(t)
	ten := env.CreateTenant(t, "notify-templates")
	put := func(purpose, lang, text string) *apitest.Response {
		return env.Do(t, http.MethodPut, "/v1/notification-templates/"+purpose+"/"+lang, ten.AdminKey, map[string]any{"text": text})
	}
	assert.Equal(t, []string{"body.text"}, problemLocations(t, put("ticket_received", "zh-CN", "工单 {ticket_no}"), http.StatusUnprocessableEntity),
		"unknown parameter")
	assert.Equal(t, []string{"body.text"}, problemLocations(t, put("ticket_received", "zh-CN", "工单 {ticket_number"), http.StatusUnprocessableEntity),
		"invalid syntax")
	assert.Equal(t, []string{"path.language"}, problemLocations(t, put("ticket_received", "fr", "n° {ticket_number}"), http.StatusUnprocessableEntity))
	assert.Equal(t, http.StatusNotFound, put("no_such_message", "en", "x").Status)
	r := env.Do(t, http.MethodGet, "/v1/notification-templates", ten.AdminKey, nil)
	require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
	templates := r.JSON(t)["data"].([]any)
	require.NotEmpty(t, templates)
	for _, x := range templates {
		assert.Equal(t, false, x.(map[string]any)["custom"], "nothing changed")
	}
	r = put("ticket_received", "zh-CN", "【测试品牌】已受理，工单号 {ticket_number}")
	require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
	assert.Equal(t, true, r.JSON(t)["custom"])

	r = env.Do(t, http.MethodGet, "/v1/tenant", ten.AdminKey, nil)
	require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
	was := r.JSON(t)["default_language"]
	r = env.Do(t, http.MethodPatch, "/v1/tenant", ten.AdminKey, map[string]any{"default_language": "fr"})
	assert.Equal(t, []string{"body.default_language"}, problemLocations(t, r, http.StatusUnprocessableEntity))
	r = env.Do(t, http.MethodGet, "/v1/tenant", ten.AdminKey, nil)
	assert.Equal(t, was, r.JSON(t)["default_language"], "nothing changed")
	r = env.Do(t, http.MethodPatch, "/v1/tenant", ten.AdminKey, map[string]any{"default_language": "en"})
	require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
	assert.Equal(t, "en", r.JSON(t)["default_language"])
}

// waitPurpose waits for the gateway to receive subject's message of
// purpose and returns its data.
func waitPurpose(t *testing.T, gw *smsGateway, secret, subject, purpose string) map[string]any {
	t.Helper()
	var data map[string]any
	require.Eventually(t, func() bool {
		gw.mu.Lock()
		got := append([]received(nil), gw.got...)
		gw.mu.Unlock()
		for _, r := range got {
			d := verifySigned(t, secret, r)
			if d["subject_id"] == subject && d["purpose"] == purpose {
				data = d
				return true
			}
		}
		return false
	}, 30*time.Second, 50*time.Millisecond, "no %s message for %s", purpose, subject)
	return data
}
