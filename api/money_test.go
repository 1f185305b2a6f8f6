package api_test

import (
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/servicenet/servicenet/internal/apitest"
)

// Money on every path (issue 12, items 3-7): what the customer pays, what
// the brand or plan bears, and what the plan owes the customer, derived
// from the seed's rules.

// plainPart is a part that fits model and is not a key part of it (the
// demo washers' motors have their own 10-year term).
func plainPart(t *testing.T, env *apitest.Env, key, model string) string {
	t.Helper()
	r := env.Do(t, http.MethodGet, "/v1/catalog/parts?model_id="+model+"&limit=50", key, nil)
	require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
	for _, p := range r.JSON(t)["data"].([]any) {
		p := p.(map[string]any)
		if p["category"] != "motor" {
			return p["id"].(string)
		}
	}
	t.Fatal("no plain part fits the model")
	return ""
}

// fitParts takes quantity of part through the ticket's requisition:
// received at the node, reserved, issued and used.
func fitParts(t *testing.T, env *apitest.Env, admin, tech, id, node, part string, quantity int) {
	t.Helper()
	r := env.Do(t, http.MethodPost, "/v1/network/nodes/"+node+"/stock/receipts", admin, map[string]any{
		"lines": []map[string]any{{"part_id": part, "quantity": quantity}}})
	require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
	for _, op := range []string{"reserve", "issue", "use"} {
		r = env.Do(t, http.MethodPost, "/v1/tickets/"+id+"/parts", tech, map[string]any{"op": op,
			"lines": []map[string]any{{"part_id": part, "quantity": quantity}}}, env.IfMatch(t, "/v1/tickets/"+id, tech)...)
		require.Equal(t, http.StatusOK, r.Status, "%s: %s", op, r.Body)
	}
}

func completionTotals(tk map[string]any) (customer, brand, plan int64) {
	tot := tk["completion"].(map[string]any)["totals"].(map[string]any)
	return amountOf(tot["customer"]), amountOf(tot["brand"]), amountOf(tot["plan"])
}

// demoPlan returns the id of the demo brand's plan of kind.
func demoPlan(t *testing.T, env *apitest.Env, key, kind string) map[string]any {
	t.Helper()
	r := env.Do(t, http.MethodGet, "/v1/coverage-plans?kind="+kind, key, nil)
	require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
	for _, p := range r.JSON(t)["data"].([]any) {
		if p := p.(map[string]any); len(p["code"].(string)) > 5 && p["code"].(string)[:5] == "DEMO-" {
			return p
		}
	}
	t.Fatalf("no demo %s plan", kind)
	return nil
}

// businessDaysAfter counts n days after from skipping weekends and holidays.
func businessDaysAfter(from time.Time, n int, holidays ...time.Time) time.Time {
	d := from
	for n > 0 {
		d = d.AddDate(0, 0, 1)
		skip := d.Weekday() == time.Saturday || d.Weekday() == time.Sunday
		for _, h := range holidays {
			skip = skip || h.Equal(d)
		}
		if !skip {
			n--
		}
	}
	return d
}

func civilDay(t time.Time) time.Time {
	loc, _ := time.LoadLocation("Asia/Shanghai")
	y, m, dd := t.In(loc).Date()
	return time.Date(y, m, dd, 0, 0, 0, 0, time.UTC)
}

// unitPayouts lists the unit's payouts.
func unitPayouts(t *testing.T, env *apitest.Env, key, unit string) []map[string]any {
	t.Helper()
	r := env.Do(t, http.MethodGet, "/v1/payouts?unit_id="+unit, key, nil)
	require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
	var out []map[string]any
	for _, p := range r.JSON(t)["data"].([]any) {
		out = append(out, p.(map[string]any))
	}
	return out
}

// A no-reason plan owes the customer 100 CNY within 5 business days of a
// repair under it (rule 7): the network's own repair schedules it on
// completion, once, whatever retries, re-completions and claims follow.
func TestNoReasonPlanRepairPaysCompensationOnce(t *testing.T) {
	t.Parallel()
	codes := &codeSink{}
	env := apitest.New(t, apitest.Options{Codes: codes})
	clock := &testClock{}
	env.Tickets.Now = clock.Now
	d := env.DemoBrand(t, "money-nrr")
	agent, _ := env.Key(t, d.AdminKey, "agent")
	start := apitest.WeekdayMorning(time.Now(), 2)
	plan := demoPlan(t, env, d.AdminKey, "no_reason_repair")
	require.NotEmpty(t, plan["depreciation_schedule"], "the demo plan is valid: it carries a depreciation schedule")

	id, unit := openReady(t, env, d, agent, "MNY-NRR-0001", 10, start)
	contract := createdID(t, env, d.AdminKey, "/v1/contracts", map[string]any{"unit_id": unit, "plan_id": plan["id"]})
	// The first weekday after the repair is the tenant's holiday.
	repairDay := civilDay(start)
	holiday := businessDaysAfter(repairDay, 1)
	r := env.Do(t, http.MethodPut, "/v1/tenant/holidays/"+holiday.Format(time.DateOnly), d.AdminKey, map[string]any{"name": "厂庆"})
	require.Equal(t, http.StatusCreated, r.Status, "%s", r.Body)
	wantDue := businessDaysAfter(repairDay, 5, holiday).Format(time.DateOnly)

	tk := ticketAct(t, env, agent, id, "triage", map[string]any{"mode": "on_site"}, http.StatusOK)
	tech := visit(t, env, clock, d.AdminKey, id, tk, start)
	ticketAct(t, env, tech, id, "diagnose", map[string]any{
		"diagnosis": map[string]any{"cause": "environmental_moisture", "repairable": true},
		"work":      map[string]any{"service_kind": "repair", "include_visit": true}, "price_list_shown": true}, http.StatusOK)
	clock.Set(start.Add(30 * time.Minute))
	complete := map[string]any{"test_run": map[string]any{"passed": true}}
	r = env.Do(t, http.MethodPost, "/v1/tickets/"+id+"/complete", tech, complete,
		append(env.IfMatch(t, "/v1/tickets/"+id, tech), "Idempotency-Key: nrr-complete-1")...)
	require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
	tk = r.JSON(t)

	var payoutID string
	t.Run("TheRepairIsThePlansAndTheCompensationIsScheduled", func(t *testing.T) {
		comp := tk["completion"].(map[string]any)
		require.Equal(t, "no_reason_repair", comp["basis"])
		customer, brand, planPays := completionTotals(tk)
		// Rule 7: an environmental fault under the no-reason plan is free
		// for the customer; the plan pays the whole price-list service,
		// labour 120.00 + visit 50.00 = 170.00.
		assert.Zero(t, customer, "environmental faults are free under the plan")
		assert.Zero(t, brand)
		assert.EqualValues(t, dayWasherLabor+dayWasherVisitFee, planPays)
		assert.EqualValues(t, 17000, planPays)
		c := comp["compensation"].(map[string]any)
		payoutID = c["payout_id"].(string)
		assert.Equal(t, int64(10000), amountOf(c["amount"]))
		assert.Equal(t, "plan", c["payer"])
		assert.Equal(t, wantDue, c["due_on"], "5 business days after the repair, past the weekend and the holiday")
		assert.Equal(t, false, c["existing"])

		ps := unitPayouts(t, env, d.AdminKey, unit)
		require.Len(t, ps, 1)
		p := ps[0]
		assert.Equal(t, payoutID, p["id"])
		assert.Equal(t, int64(10000), amountOf(p["amount"]))
		assert.Equal(t, contract, p["contract_id"])
		assert.Equal(t, id, p["ticket_id"])
		assert.Equal(t, repairDay.Format(time.DateOnly), p["counted_from"])
		assert.EqualValues(t, 5, p["business_days"])
		assert.Equal(t, wantDue, p["due_on"])
		assert.Equal(t, "scheduled", p["state"])
		require.Len(t, eventsOf(t, env, d.ID, "payout.scheduled", payoutID), 1)
	})

	t.Run("ARetryCreatesNoSecondPayout", func(t *testing.T) {
		r := env.Do(t, http.MethodPost, "/v1/tickets/"+id+"/complete", tech, complete, "Idempotency-Key: nrr-complete-1")
		require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
		assert.Equal(t, payoutID, r.JSON(t)["completion"].(map[string]any)["compensation"].(map[string]any)["payout_id"])
		r = env.Do(t, http.MethodPost, "/v1/tickets/"+id+"/complete", tech, complete, env.IfMatch(t, "/v1/tickets/"+id, tech)...)
		require.Equal(t, http.StatusConflict, r.Status, "%s", r.Body)
		require.Len(t, unitPayouts(t, env, d.AdminKey, unit), 1)
	})

	t.Run("ASecondCompletionAfterAReopenCreatesNoSecondPayout", func(t *testing.T) {
		tk := ticketAct(t, env, agent, id, "callback", map[string]any{"outcome": "unsatisfied", "note": "还是漏水"}, http.StatusOK)
		start2 := apitest.WeekdayMorning(clock.Now(), 1)
		tech2 := visit(t, env, clock, d.AdminKey, id, tk, start2)
		// The second round is completed on its own decision (38f6c7d).
		ticketAct(t, env, tech2, id, "diagnose", map[string]any{
			"diagnosis": map[string]any{"cause": "environmental_moisture", "repairable": true},
			"work":      map[string]any{"service_kind": "repair", "include_visit": true}, "price_list_shown": true}, http.StatusOK)
		clock.Set(start2.Add(30 * time.Minute))
		tk = ticketAct(t, env, tech2, id, "complete", complete, http.StatusOK)
		c := tk["completion"].(map[string]any)["compensation"].(map[string]any)
		assert.Equal(t, payoutID, c["payout_id"])
		assert.Equal(t, true, c["existing"])
		require.Len(t, unitPayouts(t, env, d.AdminKey, unit), 1)
		require.Len(t, eventsOf(t, env, d.ID, "payout.scheduled", payoutID), 1)
	})

	t.Run("AClaimForTheSameRepairDoesNotPayAgain", func(t *testing.T) {
		r := env.Do(t, http.MethodPost, "/v1/claims", d.AdminKey, map[string]any{"kind": "no_reason_repair", "unit_id": unit,
			"contract_id": contract, "reference": "NRR-DUP-1", "occurred_on": shanghaiToday(0), "ticket_id": id,
			"fault": map[string]any{"cause": "environmental_moisture"}, "lines": []map[string]any{labor(12000)}})
		require.Equal(t, http.StatusCreated, r.Status, "%s", r.Body)
		claim := r.JSON(t)["id"].(string)
		m := waitClaim(t, env, d.AdminKey, claim, "submitted")
		if m["state"] == "under_review" {
			m = waitClaim(t, env, d.AdminKey, claim, "under_review")
		}
		if m["state"] == "needs_review" || m["state"] == "under_review" {
			r = env.Do(t, http.MethodPost, "/v1/claims/"+claim+"/approve", d.AdminKey, map[string]any{"reason": "核实"},
				env.IfMatch(t, "/v1/claims/"+claim, d.AdminKey)...)
			require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
			m = r.JSON(t)
		}
		require.Equal(t, "approved", m["state"], "%v", m)
		cc, _ := m["decision"].(map[string]any)["compensation"].(map[string]any)
		require.NotNil(t, cc, "the claim's decision owes the compensation too")
		// Rule 7: 100.00 satisfaction compensation, owed by the plan.
		assert.EqualValues(t, 10000, amountOf(cc["amount"]))
		assert.Equal(t, "plan", cc["payer"])
		ps := unitPayouts(t, env, d.AdminKey, unit)
		require.Len(t, ps, 1, "the repair's compensation is paid once")
		assert.Equal(t, payoutID, ps[0]["id"])
	})
}

// Rule 5: an unrepairable phone under the accidental-damage plan is swapped
// for a depreciation fee, by the plan's schedule; never for free.
func TestAccidentalDamageSwapChargesTheDepreciationFee(t *testing.T) {
	t.Parallel()
	env := apitest.Shared(t)
	s := newPhoneShop(t, env, "money-adp")
	unit, contract := s.sell(t, env, s.shopA, "SN-P60-0101", 39) // day 40: month 2 of ownership, 20%
	r := decide(t, env, s.shopA, map[string]any{"unit_id": unit,
		"fault": map[string]any{"cause": "accidental_damage", "part_categories": []string{"screen"}, "repairable": false}})
	require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
	dec := r.JSON(t)["decision"].(map[string]any)
	require.Equal(t, "accidental_damage", dec["basis"])
	require.Equal(t, "swap", dec["remedy"])
	require.Equal(t, contract, dec["contract_id"])
	require.Equal(t, true, dec["contract_consumed"])
	fee := int64(499900 * 20 / 100)
	assert.Equal(t, fee, amountOf(dec["totals"].(map[string]any)["customer"]))
	assert.Equal(t, fee, amountOf(dec["remedies"].([]any)[0].(map[string]any)["fee"]))
	var traced bool
	for _, e := range dec["trace"].([]any) {
		e := e.(map[string]any)
		if e["rule"] == "R5.accidental_damage" && e["applied"] == true {
			traced = true
			assert.Contains(t, e["reason"], "20% of the purchase price 499900 in month 2 of ownership")
			assert.NotContains(t, e["reason"], "flat fee")
		}
	}
	assert.True(t, traced, "the trace shows R5 applied with its fee: %v", dec["trace"])

	t.Run("TheDemoAccidentalPlanCarriesASchedule", func(t *testing.T) {
		d := env.DemoBrand(t, "money-adp-demo")
		p := demoPlan(t, env, d.AdminKey, "accidental_damage")
		require.NotEmpty(t, p["depreciation_schedule"])
	})
}

// POST /v1/payouts takes only a claim of this tenant about the same unit:
// anything else is 422 on body.claim_id and changes nothing.
func TestPayoutClaimMustBeTheUnits(t *testing.T) {
	t.Parallel()
	env := apitest.Shared(t)
	w := newWasherShop(t, env, "money-payout-claim")
	other := newWasherShop(t, env, "money-payout-claim-other")
	r := env.Do(t, http.MethodPost, "/v1/claims", w.admin, w.claim("extended_warranty", w.unit, "EXT-PAY-1", "power_surge", labor(10000)))
	require.Equal(t, http.StatusCreated, r.Status, "%s", r.Body)
	claim := r.JSON(t)["id"].(string)
	r = env.Do(t, http.MethodPost, "/v1/claims", other.admin, other.claim("extended_warranty", other.unit, "EXT-PAY-1", "power_surge", labor(10000)))
	require.Equal(t, http.StatusCreated, r.Status, "%s", r.Body)
	foreign := r.JSON(t)["id"].(string)

	body := func(unit, claim string) map[string]any {
		return map[string]any{"unit_id": unit, "claim_id": claim, "amount": money(10000), "reason": "compensation", "business_days": 5}
	}
	for name, b := range map[string]map[string]any{
		"MadeUp":         body(w.unit, "clm_00000000000000000000000000"),
		"Malformed":      body(w.unit, "not-a-claim"),
		"AnotherTenants": body(w.unit, foreign),
		"AnotherUnits":   body(w.newUnit, claim),
	} {
		t.Run(name, func(t *testing.T) {
			locs := problemLocations(t, env.Do(t, http.MethodPost, "/v1/payouts", w.admin, b), http.StatusUnprocessableEntity)
			require.Equal(t, []string{"body.claim_id"}, locs)
		})
	}
	require.Empty(t, unitPayouts(t, env, w.admin, w.unit), "nothing changed")
	require.Empty(t, unitPayouts(t, env, w.admin, w.newUnit))

	r = env.Do(t, http.MethodPost, "/v1/payouts", w.admin, body(w.unit, claim))
	require.Equal(t, http.StatusCreated, r.Status, "%s", r.Body)
	p := r.JSON(t)
	require.Equal(t, claim, p["claim_id"])
	// What was asked: 100.00 to the unit's customer; no contract named, so
	// the brand owes it.
	require.Equal(t, money(float64(10000)), p["amount"])
	require.Equal(t, "brand", p["payer"])
	require.Equal(t, w.unit, p["unit_id"])
	require.Len(t, unitPayouts(t, env, w.admin, w.unit), 1)
}
