package api_test

import (
	"net/http"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/servicenet/servicenet/internal/apitest"
)

// TestStorefrontSaleDoesNotReachBrandCustomer: a storefront key that
// registers a sale with an inline customer whose phone is a brand
// customer's gets a customer of its own with what it sent; the brand's
// customer (name, other phones, address) stays out of its scope, and
// nothing in the answers tells it the phone was known. Before, the unit was
// linked to the brand's customer, whom the storefront could then read and
// change.
func TestStorefrontSaleDoesNotReachBrandCustomer(t *testing.T) {
	t.Parallel()
	env := apitest.Shared(t)
	ten := env.CreateTenant(t, "sf-sale-phone")
	admin := ten.AdminKey
	washer := createModel(t, env, ten.ID, "XQG100", "washer")
	sfA := env.Storefront(t, admin, "A")
	keyA := env.StorefrontKey(t, admin, sfA)

	victim := createCustomer(t, env, admin, map[string]any{"name": "王丽", "phones": []string{"13812340001", "0532 8893 0001"},
		"addresses": []map[string]any{{"label": "home", "region_code": "370212", "line": "海尔路1号 3单元502"}}}, http.StatusCreated)
	vid := victim["id"].(string)
	require.Equal(t, http.StatusNotFound, env.Do(t, http.MethodGet, "/v1/customers/"+vid, keyA, nil).Status)

	secret := []string{vid, "王丽", "+8653288930001", "海尔路1号"}
	noSecret := func(t *testing.T, body []byte) {
		t.Helper()
		for _, s := range secret {
			require.NotContains(t, string(body), s)
		}
	}

	// A sale to the victim's phone and a sale to an unknown phone answer alike.
	r := env.Do(t, http.MethodPost, "/v1/units", keyA, unitBody(washer, "A-1", "channel", nil,
		"customer", map[string]any{"name": "张三", "phones": []string{"138 1234 0001"}}))
	require.Equal(t, http.StatusCreated, r.Status, "%s", r.Body)
	noSecret(t, r.Body)
	u := r.JSON(t)
	own := u["customer_id"].(string)
	require.NotEqual(t, vid, own)
	fresh := registerUnit(t, env, keyA, unitBody(washer, "A-2", "channel", nil,
		"customer", map[string]any{"name": "李四", "phones": []string{"138 1234 0009"}}))
	require.NotEqual(t, own, fresh["customer_id"])

	t.Run("TheBrandsCustomerStaysOutOfScope", func(t *testing.T) {
		r := env.Do(t, http.MethodGet, "/v1/customers/"+vid, keyA, nil)
		require.Equal(t, http.StatusNotFound, r.Status, "%s", r.Body)
		require.NotContains(t, string(r.Body), "王丽")
		r = env.Do(t, http.MethodPatch, "/v1/customers/"+vid, keyA, map[string]any{"phones": []string{"13999999999"}})
		require.Equal(t, http.StatusNotFound, r.Status, "%s", r.Body)
		r = env.Do(t, http.MethodGet, "/v1/customers", keyA, nil)
		require.Equal(t, http.StatusOK, r.Status)
		noSecret(t, r.Body)
		require.ElementsMatch(t, []string{own, fresh["customer_id"].(string)}, listIDs(t, env, keyA, "/v1/customers"))
		require.Empty(t, listIDs(t, env, keyA, "/v1/customers?phone=053288930001"))
		// Unchanged for the brand.
		v := env.Do(t, http.MethodGet, "/v1/customers/"+vid, admin, nil).JSON(t)
		require.Equal(t, "王丽", v["name"])
		require.Equal(t, []any{"+8613812340001", "+8653288930001"}, v["phones"])
		require.Equal(t, float64(1), v["version"])
	})

	t.Run("TheStorefrontsOwnCustomerHasWhatItSent", func(t *testing.T) {
		r := env.Do(t, http.MethodGet, "/v1/customers/"+own, keyA, nil)
		require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
		noSecret(t, r.Body)
		c := r.JSON(t)
		require.Equal(t, "张三", c["name"])
		require.Equal(t, []any{"+8613812340001"}, c["phones"])
		require.Equal(t, false, c["masked"])
		require.Equal(t, []string{own}, listIDs(t, env, keyA, "/v1/customers?phone=13812340001"))
		// Found again by the phone, with the victim's other phone too: the
		// storefront's customer, no conflict, nothing of the victim.
		r = env.Do(t, http.MethodPost, "/v1/units", keyA, unitBody(washer, "A-3", "channel", nil,
			"customer", map[string]any{"name": "张三", "phones": []string{"13812340001", "053288930001"}}))
		require.Equal(t, http.StatusCreated, r.Status, "%s", r.Body)
		require.Equal(t, own, r.JSON(t)["customer_id"])
		r = env.Do(t, http.MethodPost, "/v1/customers", keyA, map[string]any{"name": "x", "phones": []string{"+86 138 1234 0001"}})
		require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
		require.Equal(t, own, r.JSON(t)["id"])
		// Its own customer takes the victim's other phone without a conflict.
		r = env.Do(t, http.MethodPatch, "/v1/customers/"+own, keyA, map[string]any{"phones": []string{"13812340001", "0532 8893 0001"}})
		require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
		require.Equal(t, []any{"+8613812340001", "+8653288930001"}, r.JSON(t)["phones"])
		require.Equal(t, []string{own}, listIDs(t, env, keyA, "/v1/customers?phone=053288930001"))
	})

	t.Run("TheBrandStillFindsItsCustomerAndSeesBoth", func(t *testing.T) {
		u := registerUnit(t, env, admin, unitBody(washer, "BR-1", "customer", map[string]any{"name": "x", "phones": []string{"138-1234-0001"}}))
		require.Equal(t, vid, u["customer_id"], "the brand's sale links the customer the phone belongs to")
		c := createCustomer(t, env, admin, map[string]any{"name": "x", "phones": []string{"05328893 0001"}}, http.StatusOK)
		require.Equal(t, vid, c["id"])
		require.ElementsMatch(t, []string{vid, own}, listIDs(t, env, admin, "/v1/customers?phone=13812340001"))
		// A sale the brand registers for the storefront to its customer
		// brings that customer into the storefront's scope, as before.
		other := createCustomer(t, env, admin, map[string]any{"name": "周七", "phones": []string{"13812340007"}}, http.StatusCreated)
		registerUnit(t, env, admin, unitBody(washer, "BR-2", "channel", "storefront", "storefront_id", sfA, "customer", nil, "customer_id", other["id"]))
		require.Equal(t, http.StatusOK, env.Do(t, http.MethodGet, "/v1/customers/"+other["id"].(string), keyA, nil).Status)
		u = registerUnit(t, env, keyA, unitBody(washer, "A-4", "channel", nil, "customer", map[string]any{"name": "x", "phones": []string{"13812340007"}}))
		require.Equal(t, other["id"], u["customer_id"], "the storefront's own sale's customer is found by phone")
	})
}
