package api_test

import (
	"encoding/json"
	"net/http"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/servicenet/servicenet/internal/apitest"
	"github.com/servicenet/servicenet/tenants/claims"
	"github.com/servicenet/servicenet/tenants/customers"
	"github.com/servicenet/servicenet/tenants/tickets"
)

// TestStatusMappingStates keeps the states a mapping must cover equal to
// the ticket and claim state machines'.
func TestStatusMappingStates(t *testing.T) {
	t.Parallel()
	var ts, cs []string
	for _, s := range tickets.States {
		ts = append(ts, string(s))
	}
	for _, s := range claims.States {
		cs = append(cs, string(s))
	}
	require.ElementsMatch(t, ts, customers.TicketStates)
	require.ElementsMatch(t, cs, customers.ClaimStates)
}

// tmallMapping is a total mapping in the style of a marketplace's codes.
func tmallMapping() map[string]any {
	tm, cm := map[string]any{}, map[string]any{}
	for _, s := range customers.TicketStates {
		tm[s] = "TM_SVC_" + s
	}
	for _, s := range customers.ClaimStates {
		cm[s] = "TM_CLM_" + s
	}
	return map[string]any{"tickets": tm, "claims": cm}
}

func TestStorefrontStatusMapping(t *testing.T) {
	t.Parallel()
	env := apitest.Shared(t)
	ten := env.CreateTenant(t, "sf-mapping")
	admin := ten.AdminKey

	t.Run("MissingStateIs422NamingIt", func(t *testing.T) {
		m := tmallMapping()
		delete(m["tickets"].(map[string]any), "awaiting_parts")
		delete(m["claims"].(map[string]any), "paid")
		r := env.Do(t, http.MethodPost, "/v1/storefronts", admin, map[string]any{"code": "TM-PARTIAL", "name": "天猫", "platform": "tmall", "status_mapping": m})
		require.ElementsMatch(t, []string{"body.status_mapping.tickets.awaiting_parts", "body.status_mapping.claims.paid"},
			problemLocations(t, r, http.StatusUnprocessableEntity))
		require.Contains(t, string(r.Body), "awaiting_parts")
		r = env.Do(t, http.MethodGet, "/v1/storefronts", admin, nil)
		require.Empty(t, r.JSON(t)["data"], "a refused storefront is not created")
	})
	t.Run("UnknownStateAndEmptyCodeAre422", func(t *testing.T) {
		m := tmallMapping()
		m["tickets"].(map[string]any)["teleported"] = "X"
		m["claims"].(map[string]any)["approved"] = " "
		r := env.Do(t, http.MethodPost, "/v1/storefronts", admin, map[string]any{"code": "TM-BAD", "name": "天猫", "platform": "tmall", "status_mapping": m})
		require.ElementsMatch(t, []string{"body.status_mapping.tickets.teleported", "body.status_mapping.claims.approved"},
			problemLocations(t, r, http.StatusUnprocessableEntity))
	})

	r := env.Do(t, http.MethodPost, "/v1/storefronts", admin, map[string]any{"code": "TM-1", "name": "天猫旗舰店", "platform": "tmall", "status_mapping": tmallMapping()})
	require.Equal(t, http.StatusCreated, r.Status, "%s", r.Body)
	sf := r.JSON(t)
	sfID := sf["id"].(string)
	require.Equal(t, "TM_SVC_awaiting_parts", sf["status_mapping"].(map[string]any)["tickets"].(map[string]any)["awaiting_parts"])

	t.Run("UpdateMustStayTotal", func(t *testing.T) {
		m := tmallMapping()
		delete(m["claims"].(map[string]any), "under_review")
		r := env.Do(t, http.MethodPatch, "/v1/storefronts/"+sfID, admin, map[string]any{"status_mapping": m}, `If-Match: "v1"`)
		require.Equal(t, []string{"body.status_mapping.claims.under_review"}, problemLocations(t, r, http.StatusUnprocessableEntity))
		m = tmallMapping()
		m["claims"].(map[string]any)["approved"] = "TM_CLAIM_OK"
		r = env.Do(t, http.MethodPatch, "/v1/storefronts/"+sfID, admin, map[string]any{"status_mapping": m}, `If-Match: "v1"`)
		require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
		require.Equal(t, "TM_CLAIM_OK", r.JSON(t)["status_mapping"].(map[string]any)["claims"].(map[string]any)["approved"])
	})

	// Webhooks to the storefront carry our state and its code; the brand's
	// own endpoint gets the event as written.
	key := env.StorefrontKey(t, admin, sfID)
	rcvSF, rcvBrand := newReceiver(t, env, 0), newReceiver(t, env, 0)
	createEndpoint(t, env, key, map[string]any{"url": rcvSF.url(), "event_types": []string{"claim.*", "ticket.*"}})
	createEndpoint(t, env, admin, map[string]any{"url": rcvBrand.url(), "event_types": []string{"claim.*"}})
	approved := claimSubmittedData()
	approved["storefront_id"], approved["to_state"] = sfID, "approved"
	emitEvent(t, env, ten.ID, claims.TypeApproved, approved)
	emitEvent(t, env, ten.ID, "ticket.completed", map[string]any{"ticket_id": "tkt_x", "number": "SN-20261129-00042", "storefront_id": sfID, "state": "completed"})
	data := func(q received) map[string]any {
		var p struct {
			Data map[string]any `json:"data"`
		}
		require.NoError(t, json.Unmarshal(q.body, &p))
		return p.Data
	}
	got := map[string]string{}
	for _, q := range rcvSF.waitRequests(t, 2) {
		d := data(q)
		state, _ := d["to_state"].(string)
		if state == "" {
			state = d["state"].(string)
		}
		got[state] = d["storefront_status"].(string)
	}
	require.Equal(t, map[string]string{"approved": "TM_CLAIM_OK", "completed": "TM_SVC_completed"}, got)
	require.NotContains(t, data(rcvBrand.waitRequests(t, 1)[0]), "storefront_status")
}

// TestStorefrontReadsOwnEvents: a storefront key reads the feed, scoped
// like its units and claims.
func TestStorefrontReadsOwnEvents(t *testing.T) {
	t.Parallel()
	env := apitest.Shared(t)
	ten := env.CreateTenant(t, "sf-events")
	sfA, sfB := env.Storefront(t, ten.AdminKey, "EV-A"), env.Storefront(t, ten.AdminKey, "EV-B")
	keyA := env.StorefrontKey(t, ten.AdminKey, sfA)
	emitEvent(t, env, ten.ID, "unit.registered", map[string]any{"storefront_id": sfA, "serial": "A1"})
	emitEvent(t, env, ten.ID, "unit.registered", map[string]any{"storefront_id": sfB, "serial": "B1"})
	emitEvent(t, env, ten.ID, "unit.registered", map[string]any{"serial": "BRAND"})

	r := env.Do(t, http.MethodGet, "/v1/events?type=unit.*", keyA, nil)
	require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
	var serials []string
	for _, e := range r.JSON(t)["data"].([]any) {
		serials = append(serials, e.(map[string]any)["data"].(map[string]any)["serial"].(string))
	}
	require.Equal(t, []string{"A1"}, serials)
	r = env.Do(t, http.MethodGet, "/v1/events?type=storefront.*", keyA, nil)
	require.Len(t, r.JSON(t)["data"], 1, "its own storefront.created, not the other's: %s", r.Body)
	r = env.Do(t, http.MethodGet, "/v1/events?type=unit.*", ten.AdminKey, nil)
	require.Len(t, r.JSON(t)["data"], 3)
}
