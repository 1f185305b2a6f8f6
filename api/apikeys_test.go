package api_test

import (
	"net/http"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/servicenet/servicenet/internal/apitest"
)

// A scoped key must name a node or storefront of its own tenant: anything
// else is a 422 naming the field, and no key is made.
func TestAPIKeyScopesMustExist(t *testing.T) {
	t.Parallel()
	env := apitest.Shared(t)
	a := env.CreateTenant(t, "scope-a")
	b := env.CreateTenant(t, "scope-b")
	bNet := env.CreateNetwork(t, b.AdminKey, "bnet")
	bStore := env.Storefront(t, b.AdminKey, "B-STORE")
	aNet := env.CreateNetwork(t, a.AdminKey, "anet")
	aStore := env.Storefront(t, a.AdminKey, "A-STORE")

	keys := func() int {
		r := env.Do(t, http.MethodGet, "/v1/api-keys?limit=200", a.AdminKey, nil)
		require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
		return len(r.JSON(t)["data"].([]any))
	}
	before := keys()
	for _, tc := range []struct {
		name, field string
		body        map[string]any
	}{
		{"UnknownNode", "body.node_id", map[string]any{"roles": []string{"node_manager"}, "node_id": "nod_00000000000000000000000000"}},
		{"OtherTenantsNode", "body.node_id", map[string]any{"roles": []string{"technician"}, "node_id": bNet.Point}},
		{"UnknownStorefront", "body.storefront_id", map[string]any{"roles": []string{"storefront"}, "storefront_id": "sfr_00000000000000000000000000"}},
		{"OtherTenantsStorefront", "body.storefront_id", map[string]any{"roles": []string{"storefront"}, "storefront_id": bStore}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tc.body["name"] = "scoped"
			r := env.Do(t, http.MethodPost, "/v1/api-keys", a.AdminKey, tc.body)
			require.Equal(t, http.StatusUnprocessableEntity, r.Status, "%s", r.Body)
			require.Equal(t, tc.field, r.JSON(t)["errors"].([]any)[0].(map[string]any)["location"], "%s", r.Body)
		})
	}
	require.Equal(t, before, keys(), "no key was made")

	for _, body := range []map[string]any{
		{"name": "depot", "roles": []string{"node_manager"}, "node_id": aNet.Depot},
		{"name": "shop", "roles": []string{"storefront"}, "storefront_id": aStore},
	} {
		r := env.Do(t, http.MethodPost, "/v1/api-keys", a.AdminKey, body)
		require.Equal(t, http.StatusCreated, r.Status, "%s", r.Body)
	}
}
