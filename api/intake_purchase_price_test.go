package api_test

import (
	"net/http"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/servicenet/servicenet/internal/apitest"
)

// The contract of an intake's unit.purchase_price: given, the unit it
// registers has it (purchase_price_source invoice); a negative amount or
// another currency is 422 on body.unit.purchase_price and registers
// nothing; absent, the unit has its model's retail price marked
// model_retail_price, and the brand's updateUnit with the invoice's price
// makes it invoice.
func TestIntakePurchasePriceContract(t *testing.T) {
	t.Parallel()
	env := apitest.Shared(t)
	d := env.DemoBrand(t, "intake-price")
	agent, _ := env.Key(t, d.AdminKey, "agent")
	open := func(serial string, price map[string]any) *apitest.Response {
		unit := map[string]any{"model_id": d.Washer, "serial": serial, "purchase_date": shanghaiToday(-30)}
		if price != nil {
			unit["purchase_price"] = price
		}
		return env.Do(t, http.MethodPost, "/v1/tickets", agent, map[string]any{"channel": "hotline", "type": "repair",
			"contact": map[string]any{"name": "客户", "phone": "+86 138 " + serial[len(serial)-4:] + " 0000"},
			"address": map[string]any{"region_code": d.Region, "line": "建设路 1 号"},
			"unit":    unit, "fault": map[string]any{"symptom": "不排水"}})
	}
	unitOf := func(r *apitest.Response) map[string]any {
		require.Equal(t, http.StatusCreated, r.Status, "%s", r.Body)
		u := env.Do(t, http.MethodGet, "/v1/units/"+r.JSON(t)["unit_id"].(string), d.AdminKey, nil)
		require.Equal(t, http.StatusOK, u.Status, "%s", u.Body)
		return u.JSON(t)
	}

	u := unitOf(open("PRC-0001", cnyBody(259900)))
	require.Equal(t, int64(259900), amountOf(u["purchase_price"]))
	require.Equal(t, "invoice", u["purchase_price_source"])

	require.Equal(t, []string{"body.unit.purchase_price.amount"}, problemLocations(t, open("PRC-0002", cnyBody(-1)), http.StatusUnprocessableEntity))
	require.Equal(t, []string{"body.unit.purchase_price.currency"},
		problemLocations(t, open("PRC-0003", map[string]any{"amount": 259900, "currency": "USD"}), http.StatusUnprocessableEntity))
	for _, serial := range []string{"PRC-0002", "PRC-0003"} {
		r := env.Do(t, http.MethodGet, "/v1/units?serial="+serial, d.AdminKey, nil)
		require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
		require.Empty(t, r.JSON(t)["data"], "nothing registered")
	}

	u = unitOf(open("PRC-0004", nil))
	require.Equal(t, "model_retail_price", u["purchase_price_source"])
	r := env.Do(t, http.MethodPatch, "/v1/units/"+u["id"].(string), d.AdminKey, map[string]any{"purchase_price": cnyBody(259900)})
	require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
	require.Equal(t, "invoice", r.JSON(t)["purchase_price_source"])
	require.Equal(t, int64(259900), amountOf(r.JSON(t)["purchase_price"]))
}
