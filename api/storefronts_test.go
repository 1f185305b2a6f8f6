package api_test

import (
	"net/http"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/servicenet/servicenet/internal/apitest"
)

func init() {
	storefrontReaders := []string{"agent", "auditor", "integrator", "tenant_admin"}
	wantMatrix["createStorefront"] = []string{"tenant_admin"}
	wantMatrix["listStorefronts"] = storefrontReaders
	wantMatrix["getStorefront"] = storefrontReaders
	wantMatrix["updateStorefront"] = []string{"tenant_admin"}
	dummyParams["storefront_id"] = "sfr_00000000000000000000000000"
}

func TestStorefronts(t *testing.T) {
	t.Parallel()
	env := apitest.Shared(t)
	ten := env.CreateTenant(t, "storefronts")
	admin := ten.AdminKey

	r := env.Do(t, http.MethodPost, "/v1/storefronts", admin, map[string]any{"code": "TMALL-FLAGSHIP", "name": "海尔官方旗舰店",
		"platform": "tmall", "contact": map[string]any{"name": "张敏", "phone": "+86 571 8502 2088", "email": "shop@example.cn"}})
	require.Equal(t, http.StatusCreated, r.Status, "%s", r.Body)
	sf := r.JSON(t)
	id := sf["id"].(string)
	require.Regexp(t, `^sfr_[0-9a-z]{26}$`, id)
	require.Equal(t, "/v1/storefronts/"+id, r.Header.Get("Location"))
	require.Equal(t, `"v1"`, r.Header.Get("ETag"))
	require.Equal(t, "active", sf["status"])
	require.Equal(t, "张敏", sf["contact"].(map[string]any)["name"])

	jd := env.Do(t, http.MethodPost, "/v1/storefronts", admin, map[string]any{"code": "JD-1", "name": "京东自营", "platform": "jd"})
	require.Equal(t, http.StatusCreated, jd.Status, "%s", jd.Body)
	jdID := jd.JSON(t)["id"].(string)

	t.Run("DuplicateCodeIsConflictOnCode", func(t *testing.T) {
		r := env.Do(t, http.MethodPost, "/v1/storefronts", admin, map[string]any{"code": "TMALL-FLAGSHIP", "name": "x", "platform": "jd"})
		require.Equal(t, []string{"body.code"}, problemLocations(t, r, http.StatusConflict))
	})

	t.Run("BadInputNamesEveryField", func(t *testing.T) {
		r := env.Do(t, http.MethodPost, "/v1/storefronts", admin, map[string]any{"code": "-bad", "name": "", "platform": "amazon",
			"contact": map[string]any{"email": "nope"}})
		require.ElementsMatch(t, []string{"body.code", "body.name", "body.platform", "body.contact.email"}, problemLocations(t, r, http.StatusUnprocessableEntity))
	})

	t.Run("GetAndList", func(t *testing.T) {
		r := env.Do(t, http.MethodGet, "/v1/storefronts/"+id, admin, nil)
		require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
		require.Equal(t, sf, r.JSON(t))
		for _, bad := range []string{"sfr_00000000000000000000000000", "nonsense"} {
			r := env.Do(t, http.MethodGet, "/v1/storefronts/"+bad, admin, nil)
			require.Equal(t, http.StatusNotFound, r.Status, "%s", r.Body)
		}
		r = env.Do(t, http.MethodGet, "/v1/storefronts?platform=jd", admin, nil)
		require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
		data := r.JSON(t)["data"].([]any)
		require.Len(t, data, 1)
		require.Equal(t, jdID, data[0].(map[string]any)["id"])

		r = env.Do(t, http.MethodGet, "/v1/storefronts?limit=1", admin, nil)
		require.Equal(t, http.StatusOK, r.Status)
		page := r.JSON(t)
		require.Equal(t, id, page["data"].([]any)[0].(map[string]any)["id"])
		r = env.Do(t, http.MethodGet, "/v1/storefronts?limit=1&cursor="+page["next_cursor"].(string), admin, nil)
		require.Equal(t, http.StatusOK, r.Status)
		page = r.JSON(t)
		require.Equal(t, jdID, page["data"].([]any)[0].(map[string]any)["id"])
		require.Nil(t, page["next_cursor"])
	})

	t.Run("UpdateAndSuspend", func(t *testing.T) {
		r := env.Do(t, http.MethodPatch, "/v1/storefronts/"+jdID, admin, map[string]any{"status": "suspended"}, `If-Match: "v9"`)
		require.Equal(t, http.StatusPreconditionFailed, r.Status, "%s", r.Body)
		r = env.Do(t, http.MethodPatch, "/v1/storefronts/"+jdID, admin, map[string]any{"code": "TMALL-FLAGSHIP"})
		require.Equal(t, []string{"body.code"}, problemLocations(t, r, http.StatusConflict))
		r = env.Do(t, http.MethodPatch, "/v1/storefronts/"+jdID, admin, map[string]any{"status": "suspended", "name": "京东自营旗舰店"}, `If-Match: "v1"`)
		require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
		require.Equal(t, `"v2"`, r.Header.Get("ETag"))
		got := r.JSON(t)
		require.Equal(t, "suspended", got["status"])
		require.Equal(t, "京东自营旗舰店", got["name"])
		r = env.Do(t, http.MethodGet, "/v1/storefronts?status=suspended", admin, nil)
		require.Len(t, r.JSON(t)["data"], 1)

		evs := waitEvents(t, env, admin, "type=storefront.*", 3) // two created, one updated
		require.Equal(t, jdID, evs[2]["subject_id"])
		require.Equal(t, "suspended", evs[2]["data"].(map[string]any)["to_status"])
	})

	t.Run("StorefrontKeys", func(t *testing.T) {
		r := env.Do(t, http.MethodPost, "/v1/api-keys", admin, map[string]any{"name": "shop", "roles": []string{"storefront"}, "storefront_id": id})
		require.Equal(t, http.StatusCreated, r.Status, "%s", r.Body)
		key := r.JSON(t)["secret"].(string)
		me := env.Do(t, http.MethodGet, "/v1/me", key, nil)
		require.Equal(t, http.StatusOK, me.Status)
		require.Contains(t, string(me.Body), id)
		// storefronts.read is not a storefront permission: the key learns its storefront from getMe.
		require.Equal(t, http.StatusForbidden, env.Do(t, http.MethodGet, "/v1/storefronts/"+id, key, nil).Status)
		// A key for a storefront that does not exist is refused.
		r = env.Do(t, http.MethodPost, "/v1/api-keys", admin, map[string]any{"name": "ghost", "roles": []string{"storefront"},
			"storefront_id": "sfr_00000000000000000000000000"})
		require.Equal(t, []string{"body.storefront_id"}, problemLocations(t, r, http.StatusUnprocessableEntity))
	})

	t.Run("CrossTenant", func(t *testing.T) {
		other := env.CreateTenant(t, "storefronts-other")
		r := env.Do(t, http.MethodGet, "/v1/storefronts/"+id, other.AdminKey, nil)
		require.Equal(t, http.StatusNotFound, r.Status)
		require.NotContains(t, string(r.Body), "TMALL")
		r = env.Do(t, http.MethodPatch, "/v1/storefronts/"+id, other.AdminKey, map[string]any{"status": "suspended"})
		require.Equal(t, http.StatusNotFound, r.Status)
		r = env.Do(t, http.MethodGet, "/v1/storefronts", other.AdminKey, nil)
		require.Equal(t, http.StatusOK, r.Status)
		require.Empty(t, r.JSON(t)["data"])
		// The same code is free in another tenant.
		r = env.Do(t, http.MethodPost, "/v1/storefronts", other.AdminKey, map[string]any{"code": "TMALL-FLAGSHIP", "name": "x", "platform": "tmall"})
		require.Equal(t, http.StatusCreated, r.Status, "%s", r.Body)
		r = env.Do(t, http.MethodGet, "/v1/storefronts/"+id, admin, nil)
		require.Equal(t, float64(1), r.JSON(t)["version"], "unchanged")
	})
}
