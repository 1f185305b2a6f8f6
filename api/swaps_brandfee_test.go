package api_test

import (
	"net/http"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/servicenet/servicenet/internal/apitest"
)

// A swap no rule owes free waits for the brand; the brand's approval
// charges the customer a fee (a goodwill exchange). A phone bought 200 days
// ago for 2,999.00, no plan, dropped and broken beyond repair: the brand
// decides. It approves with customer_fee 899.70 (the depreciation it
// offers): the customer pays 899.70, the brand bears 2,099.30, on GET and
// in swap.approved. A negative fee or one above the phone's price is 422
// naming body.customer_fee.amount and changes nothing; a statutory
// exchange (owed free) refuses any fee at body.customer_fee.
func TestSwapBrandFee(t *testing.T) {
	t.Parallel()
	env := apitest.Shared(t)
	ten := env.CreateTenant(t, "swapfee")
	admin := ten.AdminKey
	phone := createdID(t, env, admin, "/v1/catalog/models", modelBody("P-GW", "phone", 299900))
	unit := func(serial string, days int) string {
		return createdID(t, env, admin, "/v1/units", map[string]any{"model_id": phone, "serial": serial,
			"customer":      map[string]any{"name": "钱九", "phones": []string{"+86 139 0000 0099"}},
			"purchase_date": shanghaiToday(-days), "purchase_price": cnyBody(299900)})
	}

	r := env.Do(t, http.MethodPost, "/v1/swaps", admin, map[string]any{"unit_id": unit("PSN-GW-A", 199), "reason": "unrepairable",
		"fault_cause": "accidental_damage"})
	require.Equal(t, http.StatusCreated, r.Status, "%s", r.Body)
	swap := r.JSON(t)["id"].(string)
	m := evaluated(t, env, admin, swap)
	require.Equal(t, "pending_brand", m["state"], "%v", m)
	require.Equal(t, true, m["brand_sets_fee"])
	require.Equal(t, "brand", m["borne_by"])

	for _, fen := range []int64{-1, 299901} {
		r := swapAction(t, env, admin, swap, "approve", map[string]any{"customer_fee": cnyBody(fen)})
		require.Equal(t, []string{"body.customer_fee.amount"}, problemLocations(t, r, http.StatusUnprocessableEntity), "%d", fen)
	}
	require.Equal(t, "pending_brand", env.Do(t, http.MethodGet, "/v1/swaps/"+swap, admin, nil).JSON(t)["state"])

	r = swapAction(t, env, admin, swap, "approve", map[string]any{"customer_fee": cnyBody(89970), "note": "goodwill"})
	require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
	m = env.Do(t, http.MethodGet, "/v1/swaps/"+swap, admin, nil).JSON(t)
	require.Equal(t, "approved", m["state"])
	require.Equal(t, money(float64(89970)), m["fee"], "the customer pays the brand's fee")
	require.Equal(t, money(float64(299900-89970)), m["amount"], "the brand bears the rest")
	require.Equal(t, "brand", m["borne_by"])
	require.Equal(t, "brand", m["fee_set_by"])
	evs := eventsOf(t, env, ten.ID, "swap.approved", swap)
	require.Len(t, evs, 1)
	require.Equal(t, money(float64(89970)), evs[0]["fee"])
	require.Equal(t, money(float64(299900-89970)), evs[0]["amount"])
	require.Equal(t, "brand", evs[0]["borne_by"])
	require.Equal(t, "brand", evs[0]["fee_set_by"])

	// Rule 1: a statutory exchange on day 5 is owed free (its 2,999.00
	// goes to a node manager): a fee is refused at customer_fee.
	manager, _ := env.Key(t, admin, "node_manager")
	r = env.Do(t, http.MethodPost, "/v1/swaps", admin, map[string]any{"unit_id": unit("PSN-GW-B", 4), "reason": "statutory_exchange"})
	require.Equal(t, http.StatusCreated, r.Status, "%s", r.Body)
	owed := r.JSON(t)["id"].(string)
	m = evaluated(t, env, admin, owed)
	require.Equal(t, "pending_node_manager", m["state"], "%v", m)
	require.Equal(t, false, m["brand_sets_fee"])
	r = swapAction(t, env, manager, owed, "approve", map[string]any{"customer_fee": cnyBody(10000)})
	require.Equal(t, []string{"body.customer_fee"}, problemLocations(t, r, http.StatusUnprocessableEntity))
}
