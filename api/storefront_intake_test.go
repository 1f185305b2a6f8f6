package api_test

import (
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/servicenet/servicenet/internal/apitest"
)

// TestStorefrontIntakeInScope: a storefront key's ticket finds its
// customer by phone and its unit by serial among what the storefront sold,
// never the brand's. Before, a brand customer's phone with a new serial
// answered 422 naming the brand customer's id at body.customer_id, and
// with the brand's serial 201 linking the brand's customer and unit.
func TestStorefrontIntakeInScope(t *testing.T) {
	t.Parallel()
	env := apitest.Shared(t)
	d := env.DemoBrand(t, "sf-intake-scope")
	admin := d.AdminKey
	sf := env.Storefront(t, admin, "SF-INTAKE-SCOPE")
	shop := env.StorefrontKey(t, admin, sf)

	victim := createCustomer(t, env, admin, map[string]any{"name": "王丽", "phones": []string{"13912340001"},
		"addresses": []map[string]any{{"label": "home", "region_code": d.Region, "line": "海尔路1号 3单元502"}}}, http.StatusCreated)
	vid := victim["id"].(string)
	brandUnit := registerUnit(t, env, admin, unitBody(d.Washer, "BR-INTAKE-1", "channel", "brand_store",
		"customer", nil, "customer_id", vid, "purchase_date", shanghaiToday(-40), "installed_on", nil))
	buid := brandUnit["id"].(string)

	body := func(phone, serial, ref string) map[string]any {
		return map[string]any{"channel": "storefront", "type": "repair", "external_reference": ref,
			"contact": map[string]any{"name": "张三", "phone": phone},
			"address": map[string]any{"region_code": d.Region, "line": "建设路 1 号"},
			"unit":    map[string]any{"model_id": d.Washer, "serial": serial, "purchase_date": shanghaiToday(-30)},
			"fault":   map[string]any{"symptom": "不排水"}}
	}
	open := func(t *testing.T, b map[string]any) map[string]any {
		t.Helper()
		r := env.Do(t, http.MethodPost, "/v1/tickets", shop, b)
		require.Equal(t, http.StatusCreated, r.Status, "%s", r.Body)
		require.NotContains(t, string(r.Body), vid)
		require.NotContains(t, string(r.Body), buid)
		return r.JSON(t)
	}

	var own string
	t.Run("KnownPhoneNewSerialIsTheStorefrontsOwnSale", func(t *testing.T) {
		tk := open(t, body("139 1234 0001", "SF-SCOPE-1", "REF-1"))
		assert.Equal(t, "new", tk["state"], "%v", tk["verification"])
		own = tk["customer_id"].(string)
		require.NotEqual(t, vid, own)
		uid, _ := tk["unit_id"].(string)
		require.NotEmpty(t, uid)
		u := env.Do(t, http.MethodGet, "/v1/units/"+uid, shop, nil)
		require.Equal(t, http.StatusOK, u.Status, "%s", u.Body)
		require.Equal(t, own, u.JSON(t)["customer_id"])
		require.Equal(t, sf, u.JSON(t)["storefront_id"])
		c := env.Do(t, http.MethodGet, "/v1/customers/"+own, shop, nil)
		require.Equal(t, http.StatusOK, c.Status, "%s", c.Body)
		require.Equal(t, "张三", c.JSON(t)["name"])
		require.NotContains(t, string(c.Body), "海尔路")
		require.Equal(t, http.StatusNotFound, env.Do(t, http.MethodGet, "/v1/customers/"+vid, shop, nil).Status)
		// An unknown phone answers alike.
		other := open(t, body("139 1234 0002", "SF-SCOPE-2", "REF-2"))
		assert.Equal(t, "new", other["state"])
		assert.NotEmpty(t, other["unit_id"])
	})

	t.Run("TheBrandsSerialIsNotLinked", func(t *testing.T) {
		tk := open(t, body("139 1234 0001", "BR-INTAKE-1", "REF-3"))
		require.Equal(t, own, tk["customer_id"], "the storefront's own customer, found again")
		assert.Nil(t, tk["unit_id"])
		require.Equal(t, "needs_info", tk["state"])
		var fields []any
		for _, it := range tk["verification"].([]any) {
			fields = append(fields, it.(map[string]any)["field"])
		}
		assert.Equal(t, []any{"unit.serial"}, fields)
		// By id, the brand's unit is no unit of the storefront's.
		b := body("139 1234 0001", "", "REF-4")
		b["unit"] = map[string]any{"unit_id": buid}
		r := env.Do(t, http.MethodPost, "/v1/tickets", shop, b)
		assert.Equal(t, []string{"body.unit.unit_id"}, problemLocations(t, r, http.StatusUnprocessableEntity))
		// The brand's staff verify it and link the unit.
		tk = ticketAct(t, env, admin, tk["id"].(string), "info", map[string]any{"note": "品牌核实"}, http.StatusOK)
		assert.Equal(t, buid, tk["unit_id"])
		assert.Equal(t, "new", tk["state"], "%v", tk["verification"])
	})

	t.Run("ItsOwnUnitAndCustomerAreFound", func(t *testing.T) {
		u := registerUnit(t, env, shop, unitBody(d.Washer, "SF-SCOPE-9", "channel", nil, "purchase_date", shanghaiToday(-20), "installed_on", nil,
			"customer", map[string]any{"name": "赵六", "phones": []string{"13912340009"}}))
		tk := open(t, body("+86 139 1234 0009", "sf-scope-9", "REF-5"))
		assert.Equal(t, "new", tk["state"], "%v", tk["verification"])
		assert.Equal(t, u["id"], tk["unit_id"])
		assert.Equal(t, u["customer_id"], tk["customer_id"])
	})

	t.Run("TheBrandsIntakeIsUnchanged", func(t *testing.T) {
		agent, _ := env.Key(t, admin, "agent")
		b := body("139 1234 0001", "BR-INTAKE-1", "")
		delete(b, "external_reference")
		b["channel"] = "hotline"
		r := env.Do(t, http.MethodPost, "/v1/tickets", agent, b)
		require.Equal(t, http.StatusCreated, r.Status, "%s", r.Body)
		tk := r.JSON(t)
		assert.Equal(t, vid, tk["customer_id"])
		assert.Equal(t, buid, tk["unit_id"])
	})
}
