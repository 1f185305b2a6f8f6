package api_test

import (
	"net/http"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/servicenet/servicenet/internal/apitest"
)

func init() {
	wantMatrix["requestSwap"] = []string{"tenant_admin", "agent", "dispatcher", "node_manager", "technician", "storefront"}
	wantMatrix["listSwaps"] = []string{"tenant_admin", "agent", "dispatcher", "node_manager", "technician", "storefront", "integrator", "auditor"}
	wantMatrix["getSwap"] = wantMatrix["listSwaps"]
	wantMatrix["approveSwap"] = []string{"tenant_admin", "node_manager"}
	wantMatrix["rejectSwap"] = []string{"tenant_admin", "node_manager"}
	wantMatrix["fulfilSwap"] = []string{"tenant_admin", "node_manager"}
	dummyParams["swap_id"] = "swp_00000000000000000000000000"
}

// evaluated waits for a swap's evaluation job and returns the swap.
func evaluated(t *testing.T, env *apitest.Env, key, id string) map[string]any {
	t.Helper()
	return eventually(t, func() *apitest.Response { return env.Do(t, http.MethodGet, "/v1/swaps/"+id, key, nil) },
		func(m map[string]any) bool { return m["state"] != "requested" })
}

func swapAction(t *testing.T, env *apitest.Env, key, id, action string, body any) *apitest.Response {
	t.Helper()
	if body == nil {
		body = map[string]any{}
	}
	return env.Do(t, http.MethodPost, "/v1/swaps/"+id+"/"+action, key, body)
}

func TestSwaps(t *testing.T) {
	t.Parallel()
	env := apitest.Shared(t)
	ten := env.CreateTenant(t, "swaps")
	admin := ten.AdminKey
	manager, _ := env.Key(t, admin, "node_manager")
	shopID := env.Storefront(t, admin, "SWAP-SHOP")
	shop := env.StorefrontKey(t, admin, shopID)
	otherShop := env.StorefrontKey(t, admin, env.Storefront(t, admin, "SWAP-OTHER"))

	// A washer model about to be discontinued, a similar one priced lower and
	// one priced higher.
	old := createdID(t, env, admin, "/v1/catalog/models", modelBody("W-OLD", "washer", 899900))
	similar := createdID(t, env, admin, "/v1/catalog/models", modelBody("W-SIM", "washer", 799900))
	dear := createdID(t, env, admin, "/v1/catalog/models", modelBody("W-DEAR", "washer", 999900))
	nrr := createdID(t, env, admin, "/v1/coverage-plans", planBodies()["nrr"])
	purchase := shanghaiToday(-10)
	unit := createdID(t, env, shop, "/v1/units", map[string]any{"model_id": old, "serial": "WSN-0001",
		"customer":      map[string]any{"name": "孙七", "phones": []string{"+86 139 0000 0001"}},
		"purchase_date": purchase, "purchase_price": cnyBody(899900)})
	contract := createdID(t, env, shop, "/v1/contracts", map[string]any{"unit_id": unit, "plan_id": nrr, "sold_on": purchase})
	r := env.Do(t, http.MethodPatch, "/v1/catalog/models/"+old, admin, map[string]any{"discontinued": true})
	require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)

	var swap string
	t.Run("DiscontinuedModelGetsASimilarModelPricedNoHigher", func(t *testing.T) {
		r := env.Do(t, http.MethodPost, "/v1/swaps", shop, map[string]any{"unit_id": unit, "reason": "unrepairable"})
		require.Equal(t, http.StatusCreated, r.Status, "%s", r.Body)
		m := r.JSON(t)
		swap = m["id"].(string)
		require.Regexp(t, `^swp_[0-9a-z]{26}$`, swap)
		require.Equal(t, "requested", m["state"])
		m = evaluated(t, env, shop, swap)
		require.Equal(t, "pending_node_manager", m["state"], "%v", m)
		require.Equal(t, similar, m["replacement_model_id"])
		require.Equal(t, contract, m["contract_id"], "the unit's active plan")
		require.Equal(t, true, m["needs_brand"], "7,549.05 is above the node limit")
		// Rule 7: a small depreciation fee, the plan's 5% in month 1 of ownership.
		require.Equal(t, money(float64(44995)), m["fee"], "an unrepairable unit under the no-reason plan is not swapped for free")
		require.Contains(t, m["fee_rule"], "5% of the purchase price 899900 in month 1 of ownership")
		require.Equal(t, money(float64(799900-44995)), m["amount"])
		require.Contains(t, m["state_reason"], "discontinued")

		evs := eventsOf(t, env, ten.ID, "swap.requested", swap)
		require.Len(t, evs, 1)
		require.Equal(t, shopID, evs[0]["storefront_id"])
		require.Equal(t, unit, evs[0]["unit_id"])
	})

	t.Run("AboveTheThresholdTheNodeManagerThenTheBrandApprove", func(t *testing.T) {
		r := swapAction(t, env, admin, swap, "approve", nil)
		require.Equal(t, http.StatusForbidden, r.Status, "the brand is not the node manager: %s", r.Body)
		require.Contains(t, r.JSON(t)["detail"], "pending_node_manager")
		r = swapAction(t, env, manager, swap, "fulfil", map[string]any{"serial": "WSN-0002"})
		require.Equal(t, http.StatusConflict, r.Status, "%s", r.Body)
		require.Contains(t, r.JSON(t)["detail"], "pending_node_manager")

		r = swapAction(t, env, manager, swap, "approve", map[string]any{"note": "photos checked"})
		require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
		require.Equal(t, "pending_brand", r.JSON(t)["state"])
		r = swapAction(t, env, manager, swap, "approve", nil)
		require.Equal(t, http.StatusForbidden, r.Status, "%s", r.Body)
		require.Contains(t, r.JSON(t)["detail"], "pending_brand")
		r = swapAction(t, env, manager, swap, "reject", map[string]any{"reason": "no"})
		require.Equal(t, http.StatusForbidden, r.Status, "not the node manager's step: %s", r.Body)

		for _, m := range []string{dear, old} {
			r = swapAction(t, env, admin, swap, "approve", map[string]any{"replacement_model_id": m})
			require.Equal(t, []string{"body.replacement_model_id"}, problemLocations(t, r, http.StatusUnprocessableEntity),
				"priced higher, or discontinued")
		}
	})

	t.Run("TheOldUnitsPlanEndsAndTheReplacementIsRegistered", func(t *testing.T) {
		r := swapAction(t, env, admin, swap, "approve", nil)
		require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
		require.Equal(t, "approved", r.JSON(t)["state"])
		require.Len(t, eventsOf(t, env, ten.ID, "swap.approved", swap), 1)

		r = swapAction(t, env, manager, swap, "fulfil", map[string]any{"serial": "wsn-0002"})
		require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
		m := r.JSON(t)
		require.Equal(t, "fulfilled", m["state"])
		replacement := m["replacement_unit_id"].(string)
		var states []string
		for _, s := range m["steps"].([]any) {
			states = append(states, s.(map[string]any)["to_state"].(string))
		}
		require.Equal(t, []string{"requested", "pending_node_manager", "pending_brand", "approved", "fulfilled"}, states)

		u := env.Do(t, http.MethodGet, "/v1/units/"+unit, shop, nil).JSON(t)
		require.Equal(t, "replaced", u["status"])
		require.Equal(t, replacement, u["replaced_by"])
		nu := env.Do(t, http.MethodGet, "/v1/units/"+replacement, shop, nil).JSON(t)
		require.Equal(t, similar, nu["model_id"])
		require.Equal(t, "WSN-0002", nu["serial"])
		require.Equal(t, u["customer_id"], nu["customer_id"], "same owner")
		require.Equal(t, shopID, nu["storefront_id"])
		c := env.Do(t, http.MethodGet, "/v1/contracts/"+contract, admin, nil).JSON(t)
		require.Equal(t, "consumed", c["state"], "the old unit's plan ends")

		evs := eventsOf(t, env, ten.ID, "swap.fulfilled", swap)
		require.Len(t, evs, 1)
		require.Equal(t, replacement, evs[0]["replacement_unit_id"])
		require.Equal(t, shopID, evs[0]["storefront_id"])
	})

	t.Run("IllegalTransitionsNameTheState", func(t *testing.T) {
		bodies := map[string]any{"approve": map[string]any{}, "fulfil": map[string]any{"serial": "WSN-0003"}, "reject": map[string]any{"reason": "x"}}
		for _, action := range []string{"approve", "fulfil", "reject"} {
			r := swapAction(t, env, admin, swap, action, bodies[action])
			require.Equal(t, http.StatusConflict, r.Status, "%s: %s", action, r.Body)
			require.Contains(t, r.JSON(t)["detail"], "fulfilled")
		}
		r := env.Do(t, http.MethodPost, "/v1/swaps", admin, map[string]any{"unit_id": unit, "reason": "unrepairable"})
		require.Equal(t, []string{"body.unit_id"}, problemLocations(t, r, http.StatusUnprocessableEntity), "the old unit is replaced")
		r = env.Do(t, http.MethodPost, "/v1/swaps", admin, map[string]any{"unit_id": "unt_00000000000000000000000000", "reason": "unrepairable"})
		require.Equal(t, []string{"body.unit_id"}, problemLocations(t, r, http.StatusUnprocessableEntity), "unknown unit")
		r = env.Do(t, http.MethodPost, "/v1/swaps", admin, map[string]any{"unit_id": unit, "reason": "lost"})
		require.Equal(t, []string{"body.reason"}, problemLocations(t, r, http.StatusUnprocessableEntity))
		r = env.Do(t, http.MethodPost, "/v1/swaps", otherShop, map[string]any{"unit_id": unit, "reason": "unrepairable"})
		require.Equal(t, http.StatusNotFound, r.Status, "another storefront's unit: %s", r.Body)
	})

	// A small swap under a plan, approved at once for the flat fee: tenants/swaps
	// TestRolledBackSwapSmallUnderPlanApprovedAtOnce.

	t.Run("OthersSeeNothing", func(t *testing.T) {
		require.Equal(t, http.StatusNotFound, env.Do(t, http.MethodGet, "/v1/swaps/"+swap, otherShop, nil).Status)
		require.Empty(t, ids(t, env.Do(t, http.MethodGet, "/v1/swaps", otherShop, nil)))
		other := env.CreateTenant(t, "swaps-other")
		require.Equal(t, http.StatusNotFound, env.Do(t, http.MethodGet, "/v1/swaps/"+swap, other.AdminKey, nil).Status)
		require.Equal(t, http.StatusNotFound, swapAction(t, env, other.AdminKey, swap, "approve", nil).Status)
		require.Empty(t, ids(t, env.Do(t, http.MethodGet, "/v1/swaps", other.AdminKey, nil)))
	})
}
