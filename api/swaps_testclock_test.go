package api_test

import (
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/servicenet/servicenet/internal/apitest"
)

// TestSwapOfAClockTicketLivesOnTheClock: in test mode a technician finds
// the washer of a ticket on a test clock unrepairable and asks for its
// swap (POST /v1/tickets/{id}/swap): the swap lives on the ticket's clock
// (test_clock_id), and the replacement it hands over, after the approval,
// is bought on the clock's day, five days after the visit on the clock:
// its warranty starts then, not on the wall clock's today. Before, the
// swap knew no clock and the replacement was bought on the wall date.
func TestSwapOfAClockTicketLivesOnTheClock(t *testing.T) {
	t.Parallel()
	env := apitest.New(t)
	d := env.TestModeDemoBrand(t, "swap-clocks")
	test := d.AdminKey
	agent, _ := env.Key(t, test, "agent")
	start := time.Now().Truncate(time.Second)
	clock := createClock(t, env, test, start)
	window0 := apitest.WeekdayMorning(time.Now(), 2)

	// The invoice's price registers the unit: a swap under a plan is priced
	// on the price paid, never on a list price assumed at intake.
	body := clockTicketBody(d, "CLK-SWP-0001", window0, map[string]any{"test_clock_id": clock})
	body["unit"].(map[string]any)["purchase_price"] = cnyBody(329900)
	r := env.Do(t, http.MethodPost, "/v1/tickets", test, body)
	require.Equal(t, http.StatusCreated, r.Status, "%s", r.Body)
	id := r.JSON(t)["id"].(string)
	tk, tech, arrive := checkedInOnClock(t, env, d, agent, test, clock, id, window0)
	node := tk["node_id"].(string)
	ticketAct(t, env, tech, id, "diagnose", map[string]any{"diagnosis": map[string]any{"cause": "performance", "repairable": false,
		"notes": "主板烧毁，无备件"}, "work": map[string]any{"service_kind": "repair", "include_visit": true}, "price_list_shown": true}, http.StatusOK)
	tk = ticketAct(t, env, tech, id, "swap", map[string]any{"reason": "unrepairable"}, http.StatusOK)
	swap := tk["swap_id"].(string)

	w := evaluated(t, env, test, swap)
	require.Equal(t, clock, w["test_clock_id"], "the swap lives on its ticket's clock")
	require.Equal(t, arrive.UTC(), mustTime(t, w["created_at"]).UTC(), "requested at the clock's time (two days ahead of the wall clock)")
	for _, st := range w["steps"].([]any) {
		require.Equal(t, arrive.UTC(), mustTime(t, st.(map[string]any)["changed_at"]).UTC(), "requested and evaluated on the clock")
	}

	// Approved along the chain: the serving node's manager, then the brand
	// when the amount needs it.
	r = env.Do(t, http.MethodPost, "/v1/api-keys", test, map[string]any{"name": "manager " + node, "roles": []string{"node_manager"}, "node_id": node})
	require.Equal(t, http.StatusCreated, r.Status, "%s", r.Body)
	manager := r.JSON(t)["secret"].(string)
	for _, key := range []string{manager, test} {
		if w["state"] == "approved" {
			break
		}
		r = swapAction(t, env, key, swap, "approve", map[string]any{"note": "确认无法维修"})
		require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
		w = r.JSON(t)
	}
	require.Equal(t, "approved", w["state"], "%v", w["state_reason"])

	handover := arrive.Add(5 * 24 * time.Hour)
	advanceClock(t, env, test, clock, handover)
	r = swapAction(t, env, test, swap, "fulfil", map[string]any{"serial": "CLK-SWP-0002"})
	require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
	w = r.JSON(t)
	require.Equal(t, "fulfilled", w["state"])
	require.Equal(t, handover.UTC(), mustTime(t, w["updated_at"]).UTC(), "handed over at the clock's time")
	steps := w["steps"].([]any)
	require.Equal(t, handover.UTC(), mustTime(t, steps[len(steps)-1].(map[string]any)["changed_at"]).UTC())
	r = env.Do(t, http.MethodGet, "/v1/swaps/"+swap, d.LiveAdminKey, nil)
	require.Equal(t, http.StatusNotFound, r.Status, "a live key does not see the test swap: %s", r.Body)
	r = env.Do(t, http.MethodGet, "/v1/units/"+w["replacement_unit_id"].(string), test, nil)
	require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
	loc, err := time.LoadLocation("Asia/Shanghai")
	require.NoError(t, err)
	require.Equal(t, handover.In(loc).Format(time.DateOnly), r.JSON(t)["purchase_date"], "bought on the clock's day")
}
