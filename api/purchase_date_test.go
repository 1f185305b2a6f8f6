package api_test

import (
	"net/http"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/servicenet/servicenet/internal/apitest"
)

// TestPurchaseDateCorrectionMovesPlanWindows: seed 002's 小明 bought a
// soymilk maker online on 2012-06-22 and received it on 2012-06-25; the
// warranty (one year) and the plans count from the day he received it (签收;
// the swap plan 以换代修 from 交易成功第31日零时起, one year; the extended
// warranty 自厂家整机保修结束之次日起). A storefront that registered the unit
// with the order day and sold the plans with it corrects the purchase date
// to the day of receipt: the plans' windows move with it, as the warranty
// does. Before, the contracts kept the windows of the order day, three days
// early: on the last three days of each plan the customer paid the price
// list for what the plan covers.
func TestPurchaseDateCorrectionMovesPlanWindows(t *testing.T) {
	t.Parallel()
	env := apitest.Shared(t)
	ten := env.CreateTenant(t, "purchase-date-windows")
	admin := ten.AdminKey
	sf := env.Storefront(t, admin, "SF-XIAOMING")
	shop := env.StorefrontKey(t, admin, sf)
	// Labor 50.00 and a visit 20.00 for a kitchen appliance's repair.
	createdID(t, env, admin, "/v1/catalog/price-lists", map[string]any{"effective_from": shanghaiToday(0),
		"default_visit_fee": cnyBody(2000),
		"labor":             []map[string]any{{"category": "kitchen", "service_kind": "repair", "amount": cnyBody(5000)}}})
	bodies := planBodies()
	swapK := createdID(t, env, admin, "/v1/coverage-plans", bodies["swapK"])
	ext := createdID(t, env, admin, "/v1/coverage-plans", with(bodies["ext"], "duration_months", 12,
		"eligible_categories", []string{"washer", "kitchen"}))

	// Two soymilk makers registered with the order day, 2012-06-22: one
	// with the swap plan, one with the extended warranty, each sold with it.
	maker := contractUnit(t, env, ten.ID, "kitchen", 12, "2012-06-22", sf)
	other := contractUnit(t, env, ten.ID, "kitchen", 12, "2012-06-22", sf)
	sell := func(unit, plan, ref string) string {
		return createdID(t, env, shop, "/v1/contracts", map[string]any{"unit_id": unit, "plan_id": plan,
			"sold_on": "2012-06-22", "external_reference": ref})
	}
	swap, extended := sell(maker, swapK, "TM-XM-1"), sell(other, ext, "TM-XM-2")
	window := func(id string) [2]any {
		r := env.Do(t, http.MethodGet, "/v1/contracts/"+id, admin, nil)
		require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
		c := r.JSON(t)
		return [2]any{c["starts_on"], c["ends_on"]}
	}
	require.Equal(t, [2]any{"2012-07-22", "2013-07-21"}, window(swap), "day 31 of the order day, one year")
	require.Equal(t, [2]any{"2013-06-22", "2014-06-21"}, window(extended), "the day after the warranty of the order day")

	// The storefront corrects the purchase dates to the day of receipt.
	for _, u := range []string{maker, other} {
		r := env.Do(t, http.MethodPatch, "/v1/units/"+u, shop, map[string]any{"purchase_date": "2012-06-25"})
		require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
	}
	require.Equal(t, [2]any{"2012-07-25", "2013-07-24"}, window(swap), "day 31 of the receipt (2012-06-25 + 30), one year")
	require.Equal(t, [2]any{"2013-06-25", "2014-06-24"}, window(extended), "the day after the warranty ends on 2013-06-24")
	r := env.Do(t, http.MethodGet, "/v1/contracts/"+swap+"/state-changes", admin, nil)
	require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
	changes := r.JSON(t)["data"].([]any)
	last := changes[len(changes)-1].(map[string]any)
	require.Equal(t, "expired", last["to_state"], "the dates moved, the state did not: ended in 2013")
	require.Contains(t, last["reason"], "2012-06-25")

	// The storefront mirrors its contracts from the event feed (or a
	// contract.* webhook): every moved window is a contract.redated with
	// both windows, whether or not the state changed (here it stayed
	// expired).
	redated := func(id string) map[string]any {
		t.Helper()
		evs := feedOf(t, env, shop, "contract.redated", id)
		require.Len(t, evs, 1, "one contract.redated for %s", id)
		return evs[0]["data"].(map[string]any)
	}
	require.Equal(t, map[string]any{"unit_id": maker, "plan_id": swapK, "storefront_id": sf,
		"from_state": "expired", "to_state": "expired", "from_starts_on": "2012-07-22", "from_ends_on": "2013-07-21",
		"starts_on": "2012-07-25", "ends_on": "2013-07-24", "today": shanghaiToday(0), "reason": last["reason"]}, redated(swap))
	require.Equal(t, [4]any{"expired", "expired", "2013-06-25", "2014-06-24"}, func() [4]any {
		d := redated(extended)
		return [4]any{d["from_state"], d["to_state"], d["starts_on"], d["ends_on"]}
	}())

	// The same correction this month: a swap plan ordered 10 days ago
	// and received 3 days later stays pending, a day-31 start three days
	// later; one ordered 31 days ago (active since yesterday) and
	// received 28 days ago goes back to pending until the day after
	// tomorrow. Both moves are contract.redated alone: no event says
	// "pending".
	pendingUnit := contractUnit(t, env, ten.ID, "kitchen", 12, shanghaiToday(-10), sf)
	activeUnit := contractUnit(t, env, ten.ID, "kitchen", 12, shanghaiToday(-31), sf)
	pendingSwap := createdID(t, env, shop, "/v1/contracts", map[string]any{"unit_id": pendingUnit, "plan_id": swapK,
		"sold_on": shanghaiToday(-10), "external_reference": "TM-XM-3"})
	activeSwap := createdID(t, env, shop, "/v1/contracts", map[string]any{"unit_id": activeUnit, "plan_id": swapK,
		"sold_on": shanghaiToday(-31), "external_reference": "TM-XM-4"})
	state := func(id string) any {
		r := env.Do(t, http.MethodGet, "/v1/contracts/"+id, admin, nil)
		require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
		return r.JSON(t)["state"]
	}
	pendingBefore, activeBefore := window(pendingSwap), window(activeSwap)
	require.Equal(t, shanghaiToday(20), pendingBefore[0])
	require.Equal(t, shanghaiToday(-1), activeBefore[0])
	require.Equal(t, []any{"pending", "active"}, []any{state(pendingSwap), state(activeSwap)})
	for unit, received := range map[string]string{pendingUnit: shanghaiToday(-7), activeUnit: shanghaiToday(-28)} {
		r := env.Do(t, http.MethodPatch, "/v1/units/"+unit, shop, map[string]any{"purchase_date": received})
		require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
	}
	pendingAfter, activeAfter := window(pendingSwap), window(activeSwap)
	require.Equal(t, shanghaiToday(23), pendingAfter[0])
	require.Equal(t, shanghaiToday(2), activeAfter[0])
	require.Equal(t, []any{"pending", "pending"}, []any{state(pendingSwap), state(activeSwap)})
	for _, c := range []struct {
		id, unit, received, from string
		before, after            [2]any
	}{
		{pendingSwap, pendingUnit, shanghaiToday(-7), "pending", pendingBefore, pendingAfter},
		{activeSwap, activeUnit, shanghaiToday(-28), "active", activeBefore, activeAfter},
	} {
		require.Equal(t, map[string]any{"unit_id": c.unit, "plan_id": swapK, "storefront_id": sf,
			"from_state": c.from, "to_state": "pending", "from_starts_on": c.before[0], "from_ends_on": c.before[1],
			"starts_on": c.after[0], "ends_on": c.after[1], "today": shanghaiToday(0),
			"reason": "purchase date corrected to " + c.received + ": coverage " + c.before[0].(string) + " to " + c.before[1].(string) +
				" moved to " + c.after[0].(string) + " to " + c.after[1].(string)}, redated(c.id))
	}
	require.Len(t, feedOf(t, env, shop, "contract.activated", activeSwap), 1, "activated when sold, not again")

	// The repair's quote, stored today: labor 50.00 and the visit 20.00.
	quote := func(unit string) string {
		r := env.Do(t, http.MethodGet, "/v1/units/"+unit, admin, nil)
		require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
		return createdID(t, env, admin, "/v1/catalog/quotes", map[string]any{"model_id": r.JSON(t)["model_id"],
			"service_kind": "repair", "include_visit": true})
	}
	quotes := map[string]string{maker: quote(maker), other: quote(other)}

	type want struct {
		basis, remedy, contract string
		customer, brand, plan   int64
		fee                     int64 // the remedy's fee; -1: none
	}
	check := func(name, unit, on, cause string, w want) {
		t.Helper()
		r := decide(t, env, admin, map[string]any{"unit_id": unit, "on": on, "fault": map[string]any{"cause": cause},
			"quote_id": quotes[unit]})
		require.Equal(t, http.StatusOK, r.Status, "%s: %s", name, r.Body)
		d := r.JSON(t)["decision"].(map[string]any)
		require.Equal(t, w.basis, d["basis"], "%s: %s", name, r.Body)
		require.Equal(t, w.remedy, d["remedy"], name)
		got := ""
		if c, ok := d["contract_id"].(string); ok {
			got = c
		}
		require.Equal(t, w.contract, got, name)
		totals := d["totals"].(map[string]any)
		require.Equal(t, w.customer, amountOf(totals["customer"]), "%s: the customer pays", name)
		require.Equal(t, w.brand, amountOf(totals["brand"]), "%s: the brand pays", name)
		require.Equal(t, w.plan, amountOf(totals["plan"]), "%s: the plan pays", name)
		if w.fee >= 0 {
			for _, rem := range d["remedies"].([]any) {
				if m := rem.(map[string]any); m["kind"] == w.remedy {
					require.Equal(t, w.fee, amountOf(m["fee"]), name)
				}
			}
		}
	}
	// The seed's case: the fault on 2013-06-24 is inside the year counted
	// from the receipt: a free warranty repair.
	check("LastDayOfTheWarranty", maker, "2013-06-24", "performance", want{basis: "manufacturer_warranty", remedy: "repair", brand: 7000, fee: -1})
	// A hardware fault on 2013-07-23 and 07-24, after the warranty:
	// the swap plan's last days, a new unit for 30.00 the customer pays.
	check("SwapPlanDayBeforeItsEnd", maker, "2013-07-23", "performance",
		want{basis: "swap_for_repair", remedy: "swap", contract: swap, customer: 3000, fee: 3000})
	check("SwapPlanLastDay", maker, "2013-07-24", "performance",
		want{basis: "swap_for_repair", remedy: "swap", contract: swap, customer: 3000, fee: 3000})
	check("SwapPlanDayAfter", maker, "2013-07-25", "performance", want{basis: "out_of_warranty", remedy: "repair", customer: 7000, fee: -1})
	// Dust after the warranty: the extended warranty from 2013-06-25
	// through 2014-06-24 repairs it free (the plan pays the labor; the
	// visit of a small appliance is the customer's, rule 4); not on
	// 2013-06-24 (the warranty's last day, which does not cover dust) nor
	// after: the price list, 70.00.
	check("ExtendedNotOnTheWarrantysLastDay", other, "2013-06-24", "environmental_dust", want{basis: "not_covered", remedy: "repair", customer: 7000, fee: -1})
	check("ExtendedFirstDay", other, "2013-06-25", "environmental_dust", want{basis: "extended_warranty", remedy: "repair", contract: extended, customer: 2000, plan: 5000, fee: -1})
	check("ExtendedLastDay", other, "2014-06-24", "environmental_dust", want{basis: "extended_warranty", remedy: "repair", contract: extended, customer: 2000, plan: 5000, fee: -1})
	check("ExtendedDayAfter", other, "2014-06-25", "environmental_dust", want{basis: "out_of_warranty", remedy: "repair", customer: 7000, fee: -1})
}
