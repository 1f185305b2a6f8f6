package api_test

import (
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/servicenet/servicenet/internal/apitest"
)

// TestSwapApprovalWithinSubtreeAndLimit: issue 12 item 8. A node manager
// approves only swaps served in their subtree (404 outside it, as any
// object out of scope) and only up to the chain's node limit (422 on
// body.replacement_model_id); a refusal changes nothing.
func TestSwapApprovalWithinSubtreeAndLimit(t *testing.T) {
	t.Parallel()
	env := apitest.Shared(t)
	d := env.DemoBrand(t, "booking-swaps")
	admin := d.AdminKey
	agent, _ := env.Key(t, admin, "agent")

	// A discontinued 7,999.00 washer, a similar 3,999.00 one (the evaluation's
	// pick: within the node limit 5,000.00) and a dissimilar 5,999.00 one.
	orig := createdID(t, env, admin, "/v1/catalog/models", modelBody("BK-ORIG", "washer", 799900, "specs", map[string]any{"capacity_kg": "10"}))
	sim := createdID(t, env, admin, "/v1/catalog/models", modelBody("BK-SIM", "washer", 399900, "specs", map[string]any{"capacity_kg": "10"}))
	big := createdID(t, env, admin, "/v1/catalog/models", modelBody("BK-BIG", "washer", 599900, "specs", map[string]any{"capacity_kg": "12"}))
	unit := createdID(t, env, admin, "/v1/units", map[string]any{"model_id": orig, "serial": "BKSWAP-0001",
		"customer":      map[string]any{"name": "周十", "phones": []string{"+86 139 0000 0101"}},
		"purchase_date": shanghaiToday(-200), "purchase_price": cnyBody(799900)})

	// The unit's repair ticket is dispatched to a node of the network.
	r := env.Do(t, http.MethodPost, "/v1/tickets", agent, map[string]any{
		"channel": "hotline", "type": "repair",
		"contact": map[string]any{"name": "周十", "phone": "+86 139 0000 0101"},
		"address": map[string]any{"region_code": d.Region, "line": "建设路 10 号"},
		"unit":    map[string]any{"unit_id": unit}, "fault": map[string]any{"symptom": "主板烧毁"},
		"preferred_window": window(apitest.WeekdayMorning(time.Now(), 2))})
	require.Equal(t, http.StatusCreated, r.Status, "%s", r.Body)
	ticket := r.JSON(t)["id"].(string)
	tk := ticketAct(t, env, agent, ticket, "triage", map[string]any{"mode": "on_site"}, http.StatusOK)
	require.Equal(t, "dispatched", tk["state"], "%v", tk["state_reason"])
	servingNode := tk["node_id"].(string)

	// A service center elsewhere in the network, under the root.
	r = env.Do(t, http.MethodGet, "/v1/network/nodes?tier=manufacturer&limit=1", admin, nil)
	require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
	root := r.JSON(t)["data"].([]any)[0].(map[string]any)["id"].(string)
	elsewhere := createdID(t, env, admin, "/v1/network/nodes", map[string]any{"external_code": "BK-ELSEWHERE",
		"name": "另一区域服务中心", "tier": "service_center", "parent_id": root, "status": "active",
		"coverage": []string{"110101"}, "categories": []string{"washer"}, "service_kinds": []string{"repair"}, "daily_capacity": 10})
	managerKey := func(node string) string {
		r := env.Do(t, http.MethodPost, "/v1/api-keys", admin, map[string]any{"name": "manager " + node,
			"roles": []string{"node_manager"}, "node_id": node})
		require.Equal(t, http.StatusCreated, r.Status, "%s", r.Body)
		return r.JSON(t)["secret"].(string)
	}
	outsider, insider := managerKey(elsewhere), managerKey(servingNode)

	r = env.Do(t, http.MethodPatch, "/v1/catalog/models/"+orig, admin, map[string]any{"discontinued": true})
	require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
	r = env.Do(t, http.MethodPost, "/v1/swaps", agent, map[string]any{"unit_id": unit, "reason": "unrepairable"})
	require.Equal(t, http.StatusCreated, r.Status, "%s", r.Body)
	swap := r.JSON(t)["id"].(string)
	w := evaluated(t, env, admin, swap)
	require.Equal(t, "pending_node_manager", w["state"], "%v", w["state_reason"])
	require.Equal(t, false, w["needs_brand"])
	require.Equal(t, servingNode, w["node_id"], "the node serving the unit's ticket")
	// Day 200 of a 36-month warranty, no plan: an unrepairable unit is
	// swapped at no fee to the customer (no plan, no depreciation
	// schedule); the brand bears the similar model's 3,999.00.
	require.Equal(t, sim, w["replacement_model_id"], "the same spec priced no higher than 7,999.00")
	require.Equal(t, money(float64(0)), w["fee"])
	require.Equal(t, money(float64(399900)), w["amount"])
	version := w["version"]

	unchanged := func(t *testing.T) {
		t.Helper()
		w := env.Do(t, http.MethodGet, "/v1/swaps/"+swap, admin, nil).JSON(t)
		assert.Equal(t, version, w["version"])
		assert.Equal(t, "pending_node_manager", w["state"])
		assert.Len(t, eventsOf(t, env, d.ID, "swap.approved", swap), 0)
	}

	t.Run("ManagerOutsideTheSubtreeGets404", func(t *testing.T) {
		r := env.Do(t, http.MethodPost, "/v1/swaps/"+swap+"/approve", outsider, map[string]any{})
		assert.Equal(t, http.StatusNotFound, r.Status, "%s", r.Body)
		r = env.Do(t, http.MethodPost, "/v1/swaps/"+swap+"/reject", outsider, map[string]any{"reason": "no"})
		assert.Equal(t, http.StatusNotFound, r.Status, "%s", r.Body)
		r = env.Do(t, http.MethodGet, "/v1/swaps/"+swap, outsider, nil)
		assert.Equal(t, http.StatusNotFound, r.Status, "%s", r.Body)
		assert.NotContains(t, listIDs(t, env, outsider, "/v1/swaps"), swap)
		assert.Contains(t, listIDs(t, env, insider, "/v1/swaps"), swap)
		unchanged(t)
	})

	t.Run("ReplacementAboveTheNodeLimitIs422", func(t *testing.T) {
		r := env.Do(t, http.MethodPost, "/v1/swaps/"+swap+"/approve", insider, map[string]any{"replacement_model_id": big})
		require.Contains(t, problemLocations(t, r, http.StatusUnprocessableEntity), "body.replacement_model_id")
		assert.Contains(t, string(r.Body), "5999.00")
		unchanged(t)
	})

	t.Run("ManagerOfTheServingNodeApproves", func(t *testing.T) {
		w := swapAction(t, env, insider, swap, "approve", map[string]any{"note": "照片已核"}).JSON(t)
		assert.Equal(t, "approved", w["state"], "%v", w)
		assert.Len(t, eventsOf(t, env, d.ID, "swap.approved", swap), 1)
	})
}
