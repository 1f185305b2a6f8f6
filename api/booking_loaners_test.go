package api_test

import (
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/servicenet/servicenet/internal/apitest"
)

// TestCarryInDispatchWeighsLoaners: issue 12 item 13. A carry-in prefers a
// node holding an available loaner of the category, insists on one when
// triaged loaner=required, and says so in the decision.
func TestCarryInDispatchWeighsLoaners(t *testing.T) {
	t.Parallel()
	env := apitest.Shared(t)
	ten := env.CreateTenant(t, "booking-loaners")
	admin := ten.AdminKey
	agent, _ := env.Key(t, admin, "agent")
	node := func(code, tier, parent string) string {
		body := map[string]any{"external_code": code, "name": "LN " + code, "tier": tier, "status": "active",
			"coverage": []string{"370212"}, "categories": []string{"washer"},
			"service_kinds": []string{"repair", "carry_in"}, "daily_capacity": 10}
		if parent != "" {
			body["parent_id"] = parent
		}
		return createdID(t, env, admin, "/v1/network/nodes", body)
	}
	depot := node("LN-SD", "specialist_depot", node("LN-SC", "service_center", node("LN-ROOT", "manufacturer", "")))
	first, second := node("LN-RP1", "repair_point", depot), node("LN-RP2", "repair_point", depot)
	washer := createdID(t, env, admin, "/v1/catalog/models", modelBody("LN-W1", "washer", 299900))
	n := 0
	open := func() string {
		n++
		serial := "LNSER-000" + string(rune('0'+n))
		r := env.Do(t, http.MethodPost, "/v1/tickets", agent, map[string]any{
			"channel": "hotline", "type": "repair",
			"contact": map[string]any{"name": "客户", "phone": "+86 138 0000 100" + string(rune('0'+n))},
			"address": map[string]any{"region_code": "370212", "line": "海尔路 1 号"},
			"unit":    map[string]any{"model_id": washer, "serial": serial, "purchase_date": shanghaiToday(-400)},
			"fault":   map[string]any{"symptom": "不脱水"}})
		require.Equal(t, http.StatusCreated, r.Status, "%s", r.Body)
		require.Equal(t, "new", r.JSON(t)["state"])
		return r.JSON(t)["id"].(string)
	}
	decision := func(tk map[string]any) map[string]any {
		return tk["dispatch"].(map[string]any)["decision"].(map[string]any)
	}

	t.Run("RequiredWithoutAnyLoanerDispatchesNowhere", func(t *testing.T) {
		id := open()
		tk := ticketAct(t, env, agent, id, "triage", map[string]any{"mode": "carry_in", "loaner": "required"}, http.StatusOK)
		assert.Equal(t, "triaged", tk["state"])
		assert.Nil(t, tk["node_id"])
		points := 0
		for _, c := range decision(tk)["nodes"].([]any) {
			c := c.(map[string]any)
			if c["tier"] == "repair_point" {
				points++
				assert.Equal(t, "no_loaner_available", c["excluded_by"], "%v", c)
			}
		}
		require.Positive(t, points, "the decision weighed the covering repair points: %v", decision(tk)["nodes"])
		assert.Contains(t, decision(tk)["reason"], "loaner")
	})

	t.Run("WithoutLoanersTheUsualRankingHolds", func(t *testing.T) {
		id := open()
		tk := ticketAct(t, env, agent, id, "triage", map[string]any{"mode": "carry_in"}, http.StatusOK)
		require.Equal(t, "dispatched", tk["state"], "%v", tk["state_reason"])
		assert.Equal(t, first, tk["node_id"], "equal scores: the first node")
	})

	createdID(t, env, admin, "/v1/loaners", map[string]any{"node_id": second, "category": "washer", "serial": "LN-LOANER-1"})

	t.Run("PreferredGoesToTheNodeWithALoaner", func(t *testing.T) {
		id := open()
		tk := ticketAct(t, env, agent, id, "triage", map[string]any{"mode": "carry_in"}, http.StatusOK)
		require.Equal(t, "dispatched", tk["state"], "%v", tk["state_reason"])
		assert.Equal(t, second, tk["node_id"])
		d := decision(tk)
		assert.Contains(t, d["reason"], "1 available washer loaner")
		var weighed bool
		for _, c := range d["nodes"].([]any) {
			c := c.(map[string]any)
			if c["node_id"] == second {
				weighed = true
				assert.EqualValues(t, 1, c["loaners_available"])
				assert.EqualValues(t, 95, c["breakdown"].(map[string]any)["loaner"])
			}
		}
		require.True(t, weighed, "the chosen node is among the candidates: %v", d["nodes"])
		assert.Equal(t, "preferred", tk["dispatch"].(map[string]any)["loaner"])
	})

	t.Run("RequiredGoesToTheNodeWithALoaner", func(t *testing.T) {
		id := open()
		tk := ticketAct(t, env, agent, id, "triage", map[string]any{"mode": "carry_in", "loaner": "required"}, http.StatusOK)
		assert.Equal(t, second, tk["node_id"])
	})

	t.Run("OnSiteHasNoLoaner", func(t *testing.T) {
		id := open()
		r := env.Do(t, http.MethodPost, "/v1/tickets/"+id+"/triage", agent, map[string]any{"mode": "on_site", "loaner": "required"},
			env.IfMatch(t, "/v1/tickets/"+id, agent)...)
		require.Contains(t, problemLocations(t, r, http.StatusUnprocessableEntity), "body.loaner")
		assert.Equal(t, "new", env.Do(t, http.MethodGet, "/v1/tickets/"+id, agent, nil).JSON(t)["state"])
	})
}
