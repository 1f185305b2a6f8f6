package api_test

import (
	"net/http"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/servicenet/servicenet/internal/apitest"
)

// TestEventFeedTypeFilter: the feed's type filter takes what a webhook
// endpoint's event_types take (exact types, family.* and *, repeated or
// comma-separated); anything else is 422 naming the value, not an empty feed
// that a poller would read as "nothing happened" for ever.
func TestEventFeedTypeFilter(t *testing.T) {
	t.Parallel()
	env := apitest.Shared(t)
	admin := env.CreateTenant(t, "events-type-filter").AdminKey
	types := func(path string) []string {
		t.Helper()
		r := env.Do(t, http.MethodGet, path, admin, nil)
		require.Equal(t, http.StatusOK, r.Status, "%s: %s", path, r.Body)
		out := []string{}
		for _, e := range r.JSON(t)["data"].([]any) {
			out = append(out, e.(map[string]any)["type"].(string))
		}
		return out
	}
	all := types("/v1/events?limit=100")
	require.Contains(t, all, "tenant.created")
	require.Contains(t, all, "api_key.created")

	require.Equal(t, all, types("/v1/events?limit=100&type=*"), "* is every type, as for an endpoint")
	for _, q := range []string{"type=api_key.*,tenant.created", "type=api_key.*&type=tenant.created",
		"type=tenant.created&type=ticket.*,api_key.*"} {
		both := types("/v1/events?limit=100&" + q)
		require.Contains(t, both, "tenant.created", q)
		require.Contains(t, both, "api_key.created", q)
	}
	require.Equal(t, all, types("/v1/events?limit=100&type=api_key.*&type=*"))

	for _, bad := range []string{"Not%20Valid", "a.*.b", "api_key.", "%25", "tenant.created,API_KEY.*"} {
		r := env.Do(t, http.MethodGet, "/v1/events?type="+bad, admin, nil)
		loc := "query.type[0]"
		if bad == "tenant.created,API_KEY.*" {
			loc = "query.type[1]"
		}
		requireProblem(t, r, http.StatusUnprocessableEntity, "invalid", loc)
	}
}
