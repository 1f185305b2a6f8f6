package api_test

import (
	"net/http"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/servicenet/servicenet/internal/apitest"
)

// Seed 001 (电话沟通注意事项 (1): 如果客户有什么异议,引导客户拨打统一热线电话):
// the brand's unified service hotline is a tenant setting. A 400 or 800
// national service number, or an ordinary number, is stored and shown in
// one form however it was written; anything else is 422 at
// body.service_hotline and changes nothing; an empty string clears it.
func TestTenantServiceHotline(t *testing.T) {
	t.Parallel()
	env := apitest.Shared(t)
	admin := env.CreateTenant(t, "service-hotline").AdminKey
	hotline := func() (any, string) {
		r := env.Do(t, http.MethodGet, "/v1/tenant", admin, nil)
		require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
		return r.JSON(t)["service_hotline"], r.Header.Get("ETag")
	}
	none, _ := hotline()
	require.Nil(t, none, "no hotline until the brand sets one")

	for _, c := range []struct{ sent, shown string }{
		{"400-699-9999", "400 699 9999"},
		{"+86 800 820 8888", "800 820 8888"},
		{"0532-8893 0000", "0532 8893 0000"},
		{"4006999999", "400 699 9999"},
	} {
		r := env.Do(t, http.MethodPatch, "/v1/tenant", admin, map[string]any{"service_hotline": c.sent})
		require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
		require.Equal(t, c.shown, r.JSON(t)["service_hotline"], c.sent)
		got, _ := hotline()
		require.Equal(t, c.shown, got, c.sent)
	}

	was, etag := hotline()
	for _, bad := range []string{"400-699-999", "95555", "hotline", "400 NOW CALL"} {
		r := env.Do(t, http.MethodPatch, "/v1/tenant", admin, map[string]any{"service_hotline": bad, "name": "Not applied"})
		require.Equal(t, []string{"body.service_hotline"}, problemLocations(t, r, http.StatusUnprocessableEntity), bad)
		got, now := hotline()
		require.Equal(t, was, got, "nothing changed: %q", bad)
		require.Equal(t, etag, now, "nothing changed: %q", bad)
	}

	r := env.Do(t, http.MethodPatch, "/v1/tenant", admin, map[string]any{"service_hotline": ""})
	require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
	require.Nil(t, r.JSON(t)["service_hotline"], "cleared")
	got, _ := hotline()
	require.Nil(t, got, "cleared")
}
