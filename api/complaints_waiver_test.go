package api_test

import (
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/servicenet/servicenet/internal/apitest"
)

// chargedRepair completes an out-of-warranty washer repair with the visit
// fee: the demo price list charges the customer labor 120.00 and the visit
// 50.00, 170.00 in all, and the brand nothing.
func chargedRepair(t *testing.T, env *apitest.Env, clock *testClock, d apitest.DemoBrand, agent, serial string, start time.Time) (id, unit string) {
	t.Helper()
	clock.Set(time.Time{})
	id, unit = openReady(t, env, d, agent, serial, 1200, start)
	tk := ticketAct(t, env, agent, id, "triage", map[string]any{"mode": "on_site"}, http.StatusOK)
	tech := visit(t, env, clock, d.AdminKey, id, tk, start)
	ticketAct(t, env, tech, id, "diagnose", map[string]any{"diagnosis": map[string]any{"cause": "performance", "repairable": true},
		"work": map[string]any{"service_kind": "repair", "include_visit": true}, "price_list_shown": true}, http.StatusOK)
	tk = ticketAct(t, env, tech, id, "complete", map[string]any{"test_run": map[string]any{"passed": true}}, http.StatusOK)
	totals := tk["completion"].(map[string]any)["totals"].(map[string]any)
	require.EqualValues(t, 17000, totals["customer"].(map[string]any)["amount"], "out of warranty: labor 120.00 + visit 50.00")
	require.EqualValues(t, 0, totals["brand"].(map[string]any)["amount"])
	require.Empty(t, tk["completion"].(map[string]any)["waivers"])
	return id, unit
}

func fileComplaint(t *testing.T, env *apitest.Env, key, ticketID, category string) string {
	t.Helper()
	r := env.Do(t, http.MethodPost, "/v1/complaints", key, map[string]any{"ticket_id": ticketID, "category": category,
		"severity": "high", "description": "客户投诉：" + category})
	require.Equal(t, http.StatusCreated, r.Status, "%s", r.Body)
	return r.JSON(t)["id"].(string)
}

func resolveComplaint(t *testing.T, env *apitest.Env, key, id string, body map[string]any) *apitest.Response {
	t.Helper()
	return env.Do(t, http.MethodPost, "/v1/complaints/"+id+"/resolve", key, body, env.IfMatch(t, "/v1/complaints/"+id, key)...)
}

// TestUpheldComplaintWaivesAndRefunds: rule 8 and Midea's promise 3 make
// the service free when the technician showed no licence, charged beyond
// the price list, breached the conduct standard, or served with a bad
// attitude or passed the buck (服务态度差、推诿不一票到底). Found after the
// service, an upheld complaint of the matching category waives the
// charges (the brand pays them, as for every service promise) and refunds
// the customer what they paid, once.
func TestUpheldComplaintWaivesAndRefunds(t *testing.T) {
	t.Parallel()
	env := apitest.New(t)
	clock := &testClock{}
	env.Tickets.Now = clock.Now
	d := env.DemoBrand(t, "complaint-waivers")
	agent, _ := env.Key(t, d.AdminKey, "agent")
	start := apitest.WeekdayMorning(time.Now(), 2)

	t.Run("ConductBreachRefundsTheCustomerOnce", func(t *testing.T) {
		id, unit := chargedRepair(t, env, clock, d, agent, "CMW-0001", start)
		cmp := fileComplaint(t, env, agent, id, "conduct")

		r := resolveComplaint(t, env, agent, cmp, map[string]any{"resolution": "核实属实", "upheld": true})
		assert.Equal(t, []string{"body.breach"}, problemLocations(t, r, http.StatusUnprocessableEntity), "the breach is named")
		r = resolveComplaint(t, env, agent, cmp, map[string]any{"resolution": "核实属实", "upheld": true, "breach": "singing"})
		assert.Equal(t, []string{"body.breach"}, problemLocations(t, r, http.StatusUnprocessableEntity))
		r = env.Do(t, http.MethodGet, "/v1/tickets/"+id, agent, nil)
		assert.EqualValues(t, 17000, r.JSON(t)["customer_total"].(map[string]any)["amount"], "a refused resolution changes nothing")
		assert.Empty(t, unitPayouts(t, env, d.AdminKey, unit))

		r = resolveComplaint(t, env, agent, cmp, map[string]any{"resolution": "师傅在客户家中吸烟，核实属实，全额退还服务费", "upheld": true, "breach": "smoking"})
		require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
		c := r.JSON(t)
		assert.Equal(t, true, c["upheld"])
		assert.Equal(t, "smoking", c["breach"])
		assert.Equal(t, "conduct_breach", c["waiver"])
		payoutID, _ := c["refund_payout_id"].(string)
		require.NotEmpty(t, payoutID)

		// The refund: what the customer paid, to the customer, owed by the
		// brand (no claim, no plan contract), due in 5 business days.
		r = env.Do(t, http.MethodGet, "/v1/payouts/"+payoutID, d.AdminKey, nil)
		require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
		p := r.JSON(t)
		assert.Equal(t, map[string]any{"amount": float64(17000), "currency": "CNY"}, p["amount"])
		assert.Equal(t, unit, p["unit_id"])
		assert.Nil(t, p["claim_id"])
		assert.Nil(t, p["contract_id"])
		assert.Equal(t, "scheduled", p["state"])
		assert.EqualValues(t, 5, p["business_days"])
		assert.Contains(t, p["reason"], "conduct_breach")

		// The ticket: free for the customer, the brand pays every line.
		r = env.Do(t, http.MethodGet, "/v1/tickets/"+id, agent, nil)
		tk := r.JSON(t)
		assert.EqualValues(t, 0, tk["customer_total"].(map[string]any)["amount"])
		comp := tk["completion"].(map[string]any)
		totals := comp["totals"].(map[string]any)
		assert.EqualValues(t, 0, totals["customer"].(map[string]any)["amount"])
		assert.EqualValues(t, 17000, totals["brand"].(map[string]any)["amount"])
		assert.EqualValues(t, 0, totals["plan"].(map[string]any)["amount"])
		lines := comp["lines"].([]any)
		require.Len(t, lines, 2, "labour 120.00 and visit 50.00")
		for _, l := range lines {
			line := l.(map[string]any)
			assert.Equal(t, "brand", line["payer"], "%v", line)
			assert.EqualValues(t, 0, line["customer_pays"].(map[string]any)["amount"])
		}
		require.Len(t, comp["waivers"], 1)
		assert.Equal(t, "conduct_breach", comp["waivers"].([]any)[0].(map[string]any)["code"])
		assert.Equal(t, []any{"conduct_breach"}, tk["upheld_promises"], "the ticket shows the promise the complaint established")
		assert.Contains(t, timelineActions(t, env, agent, id), "charges_waived:completed")

		// Exactly once: a low rating reopens the complaint, resolving it
		// again refunds nothing more; another upheld complaint on the same
		// ticket (now free) adds its promise and refunds nothing.
		r = env.Do(t, http.MethodPost, "/v1/complaints/"+cmp+"/rate", agent, map[string]any{"rating": 1},
			env.IfMatch(t, "/v1/complaints/"+cmp, agent)...)
		require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
		r = resolveComplaint(t, env, agent, cmp, map[string]any{"resolution": "再次致歉", "upheld": true, "breach": "smoking"})
		require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
		assert.Equal(t, payoutID, r.JSON(t)["refund_payout_id"])
		lic := fileComplaint(t, env, agent, id, "licence")
		r = resolveComplaint(t, env, agent, lic, map[string]any{"resolution": "未出示服务证", "upheld": true})
		require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
		assert.Equal(t, "licence_not_shown", r.JSON(t)["waiver"])
		assert.Nil(t, r.JSON(t)["refund_payout_id"], "nothing left to refund")
		ps := unitPayouts(t, env, d.AdminKey, unit)
		require.Len(t, ps, 1, "one refund for the service")
		r = env.Do(t, http.MethodGet, "/v1/tickets/"+id, agent, nil)
		assert.Len(t, r.JSON(t)["completion"].(map[string]any)["waivers"], 2)
		assert.Equal(t, []any{"conduct_breach", "licence_not_shown"}, r.JSON(t)["upheld_promises"], "each promise once")
	})

	t.Run("AttitudeOverchargeAndLicenceRefundWhatWasPaid", func(t *testing.T) {
		for i, cat := range []string{"overcharge", "licence", "attitude"} {
			id, unit := chargedRepair(t, env, clock, d, agent, "CMW-000"+string(rune('2'+i)), start)
			cmp := fileComplaint(t, env, agent, id, cat)
			r := resolveComplaint(t, env, agent, cmp, map[string]any{"resolution": "核实属实", "upheld": true})
			require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
			ps := unitPayouts(t, env, d.AdminKey, unit)
			require.Len(t, ps, 1, cat)
			// Rule 8: the 170.00 paid comes back from the brand (no plan).
			assert.EqualValues(t, 17000, ps[0]["amount"].(map[string]any)["amount"], cat)
			assert.Equal(t, "brand", ps[0]["payer"], cat)
			assert.Nil(t, ps[0]["contract_id"], cat)
			assert.Equal(t, r.JSON(t)["refund_payout_id"], ps[0]["id"])
			tk := env.Do(t, http.MethodGet, "/v1/tickets/"+id, agent, nil).JSON(t)
			customer, brand, plan := completionTotals(tk)
			assert.EqualValues(t, 0, customer, cat)
			assert.EqualValues(t, 17000, brand, cat)
			assert.EqualValues(t, 0, plan, cat)
			if cat == "attitude" {
				assert.Equal(t, "conduct_breach", r.JSON(t)["waiver"], "promise 3's conduct clause")
				// once: a second upheld attitude complaint refunds nothing more
				r = resolveComplaint(t, env, agent, fileComplaint(t, env, agent, id, "attitude"), map[string]any{"resolution": "再次核实属实", "upheld": true})
				require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
				assert.Nil(t, r.JSON(t)["refund_payout_id"])
				assert.Len(t, unitPayouts(t, env, d.AdminKey, unit), 1, "one refund of 170.00")
			}
		}
	})

	t.Run("NotUpheldOrNotWaivingChangesNoCharge", func(t *testing.T) {
		id, unit := chargedRepair(t, env, clock, d, agent, "CMW-0005", start)
		r := resolveComplaint(t, env, agent, fileComplaint(t, env, agent, id, "conduct"), map[string]any{"resolution": "经核实不属实"})
		require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
		assert.Nil(t, r.JSON(t)["waiver"])
		r = resolveComplaint(t, env, agent, fileComplaint(t, env, agent, id, "attitude"), map[string]any{"resolution": "经核实不属实"})
		require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
		assert.Nil(t, r.JSON(t)["waiver"], "a rejected attitude complaint waives nothing")
		r = resolveComplaint(t, env, agent, fileComplaint(t, env, agent, id, "quality"), map[string]any{"resolution": "已返修", "upheld": true})
		require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
		assert.Nil(t, r.JSON(t)["waiver"], "quality is no service promise")
		assert.Nil(t, r.JSON(t)["refund_payout_id"])
		assert.Empty(t, unitPayouts(t, env, d.AdminKey, unit))
		r = env.Do(t, http.MethodGet, "/v1/tickets/"+id, agent, nil)
		assert.EqualValues(t, 17000, r.JSON(t)["customer_total"].(map[string]any)["amount"])
	})

	// Upheld before the completion, the promise is recorded on the ticket
	// for its completion to apply: nothing was paid, nothing is refunded.
	// A late arrival needs a window agreed: this ticket never had one.
	t.Run("AnOpenTicketRecordsThePromise", func(t *testing.T) {
		clock.Set(time.Time{})
		id, unit := openReady(t, env, d, agent, "CMW-0006", 1200, start)
		late := fileComplaint(t, env, agent, id, "late_arrival")
		r := resolveComplaint(t, env, agent, late, map[string]any{"resolution": "核实属实", "upheld": true})
		require.Equal(t, http.StatusConflict, r.Status, "%s", r.Body)
		r = env.Do(t, http.MethodGet, "/v1/complaints/"+late, agent, nil)
		assert.Equal(t, "open", r.JSON(t)["state"], "nothing changed")
		r = env.Do(t, http.MethodGet, "/v1/tickets/"+id, agent, nil)
		assert.Equal(t, []any{}, r.JSON(t)["upheld_promises"], "no promise recorded")

		cmp := fileComplaint(t, env, agent, id, "licence")
		r = resolveComplaint(t, env, agent, cmp, map[string]any{"resolution": "核实属实", "upheld": true})
		require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
		assert.Equal(t, "licence_not_shown", r.JSON(t)["waiver"])
		assert.Nil(t, r.JSON(t)["refund_payout_id"], "nothing paid yet")
		assert.Empty(t, unitPayouts(t, env, d.AdminKey, unit))
		r = env.Do(t, http.MethodGet, "/v1/tickets/"+id, agent, nil)
		assert.Equal(t, []any{"licence_not_shown"}, r.JSON(t)["upheld_promises"], "recorded for the completion to apply")
		assert.Nil(t, r.JSON(t)["completion"])
	})
}
