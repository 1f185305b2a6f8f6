package api_test

import (
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/servicenet/servicenet/internal/apitest"
)

// unitBody is a valid registration of serial of model, owned by an inline
// customer; extra are key, value pairs that replace (nil: remove) fields.
func unitBody(model, serial string, extra ...any) map[string]any {
	b := map[string]any{"model_id": model, "serial": serial, "purchase_date": "2026-10-11", "installed_on": "2026-10-13",
		"channel": "retail", "invoice_number": "044031900111-08812345",
		"purchase_price": map[string]any{"amount": 329900, "currency": "CNY"},
		"customer": map[string]any{"name": "赵敏", "phones": []string{"+86 186 0000 0001"},
			"addresses": []map[string]any{{"label": "home", "region_code": "370212", "line": "海尔路1号"}}}}
	for i := 0; i+1 < len(extra); i += 2 {
		if extra[i+1] == nil {
			delete(b, extra[i].(string))
			continue
		}
		b[extra[i].(string)] = extra[i+1]
	}
	return b
}

func registerUnit(t *testing.T, env *apitest.Env, key string, body map[string]any) map[string]any {
	t.Helper()
	r := env.Do(t, http.MethodPost, "/v1/units", key, body)
	require.Equal(t, http.StatusCreated, r.Status, "%s", r.Body)
	u := r.JSON(t)
	require.Equal(t, "/v1/units/"+u["id"].(string), r.Header.Get("Location"))
	require.Equal(t, `"v1"`, r.Header.Get("ETag"))
	return u
}

func TestUnitRegistration(t *testing.T) {
	t.Parallel()
	env := apitest.Shared(t)
	ten := env.CreateTenant(t, "units")
	admin := ten.AdminKey
	washer := createModel(t, env, ten.ID, "XQG100-HBD14126L", "washer")
	fridge := createModel(t, env, ten.ID, "BCD-510WGHTD", "refrigerator")
	sfA := env.Storefront(t, admin, "SHOP-A")
	sfB := env.Storefront(t, admin, "SHOP-B")
	keyA := env.StorefrontKey(t, admin, sfA)

	u := registerUnit(t, env, admin, unitBody(washer, "bh0y3e1d2000123"))
	unitID := u["id"].(string)
	require.Regexp(t, `^unt_[0-9a-z]{26}$`, unitID)
	require.Equal(t, "BH0Y3E1D2000123", u["serial"], "serials are upper-cased")
	require.Equal(t, washer, u["model_id"])
	require.Equal(t, "washer", u["category"])
	require.Equal(t, map[string]any{"id": washer, "model_number": "XQG100-HBD14126L", "category": "washer", "name": "Model XQG100-HBD14126L"}, u["model"])
	require.Equal(t, "2026-10-11", u["purchase_date"])
	require.Equal(t, "2026-10-13", u["installed_on"])
	require.Equal(t, "retail", u["channel"])
	require.Nil(t, u["storefront_id"])
	require.Equal(t, map[string]any{"amount": float64(329900), "currency": "CNY"}, u["purchase_price"])
	require.Equal(t, "active", u["status"])
	owner := u["customer_id"].(string)
	r := env.Do(t, http.MethodGet, "/v1/customers/"+owner, admin, nil)
	require.Equal(t, http.StatusOK, r.Status)
	require.Equal(t, []any{"+8618600000001"}, r.JSON(t)["phones"])

	r = env.Do(t, http.MethodGet, "/v1/units/"+unitID, admin, nil)
	require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
	require.Equal(t, u, r.JSON(t))

	evs := waitEvents(t, env, admin, "type=unit.registered", 1)
	require.Equal(t, unitID, evs[0]["subject_id"])
	require.Equal(t, "BH0Y3E1D2000123", evs[0]["data"].(map[string]any)["serial"])

	t.Run("SameOwnerFoundByPhone", func(t *testing.T) {
		u2 := registerUnit(t, env, admin, unitBody(fridge, "FR-0001", "customer", map[string]any{"name": "Zhao Min", "phones": []string{"18600000001"}}))
		require.Equal(t, owner, u2["customer_id"])
		u3 := registerUnit(t, env, admin, unitBody(fridge, "FR-0002", "customer", nil, "customer_id", owner, "installed_on", nil))
		require.Equal(t, owner, u3["customer_id"])
		require.Nil(t, u3["installed_on"])
		require.Equal(t, []string{u2["id"].(string), u3["id"].(string)}, listIDs(t, env, admin, "/v1/units?model_id="+fridge))
	})

	t.Run("SerialUniquePerModel", func(t *testing.T) {
		customers, units := count(t, env, ten.ID, "customers"), count(t, env, ten.ID, "units")
		// The same serial and model again, with a new inline customer: 409, and not even the customer is written.
		r := env.Do(t, http.MethodPost, "/v1/units", admin, unitBody(washer, "BH0Y3E1D2000123",
			"customer", map[string]any{"name": "新人", "phones": []string{"18600000999"}}))
		require.Equal(t, []string{"body.serial"}, problemLocations(t, r, http.StatusConflict))
		// The washer's serial under another model is a wrong model or a typo: 422, nothing written.
		r = env.Do(t, http.MethodPost, "/v1/units", admin, unitBody(fridge, "bh0y3e1d2000123", "customer", nil, "customer_id", owner))
		require.Equal(t, []string{"body.serial"}, problemLocations(t, r, http.StatusUnprocessableEntity))
		require.Equal(t, customers, count(t, env, ten.ID, "customers"))
		require.Equal(t, units, count(t, env, ten.ID, "units"))
		require.Len(t, listIDs(t, env, admin, "/v1/units?serial=bh0y3e1d2000123"), 1)
	})

	today := time.Now().In(time.FixedZone("CST", 8*3600))
	tomorrow := today.AddDate(0, 0, 1).Format(time.DateOnly)
	t.Run("BadInputNamesTheFieldAndChangesNothing", func(t *testing.T) {
		newCustomer := map[string]any{"name": "不该存在", "phones": []string{"18600000777"}}
		cases := []struct {
			name   string
			key    string
			body   map[string]any
			status int
			want   []string
		}{
			{"PurchaseInTheFuture", admin, unitBody(washer, "N1", "purchase_date", tomorrow, "installed_on", nil), 422, []string{"body.purchase_date"}},
			{"InstalledBeforePurchase", admin, unitBody(washer, "N1", "installed_on", "2026-10-10"), 422, []string{"body.installed_on"}},
			{"InstalledInTheFuture", admin, unitBody(washer, "N1", "installed_on", tomorrow), 422, []string{"body.installed_on"}},
			{"NotADate", admin, unitBody(washer, "N1", "purchase_date", "2026-02-30"), 422, []string{"body.purchase_date"}},
			{"UnknownModel", admin, unitBody("mdl_00000000000000000000000000", "N1"), 422, []string{"body.model_id"}},
			{"MalformedModel", admin, unitBody("washer-10kg", "N1"), 422, []string{"body.model_id"}},
			{"NegativePrice", admin, unitBody(washer, "N1", "purchase_price", map[string]any{"amount": -1, "currency": "CNY"}), 422, []string{"body.purchase_price.amount"}},
			{"FractionalPrice", admin, unitBody(washer, "N1", "purchase_price", map[string]any{"amount": 3299.5, "currency": "CNY"}), 422, []string{"body.purchase_price.amount"}},
			{"OtherCurrency", admin, unitBody(washer, "N1", "purchase_price", map[string]any{"amount": 100, "currency": "USD"}), 422, []string{"body.purchase_price.currency"}},
			{"UnknownRegion", admin, unitBody(washer, "N1", "customer", map[string]any{"name": "x", "phones": []string{"18600000777"},
				"addresses": []map[string]any{{"region_code": "370299", "line": "x"}}}), 422, []string{"body.customer.addresses[0].region_code"}},
			{"BadPhone", admin, unitBody(washer, "N1", "customer", map[string]any{"name": "x", "phones": []string{"123"}}), 422, []string{"body.customer.phones[0]"}},
			{"UnknownCustomer", admin, unitBody(washer, "N1", "customer", nil, "customer_id", "cus_00000000000000000000000000"), 422, []string{"body.customer_id"}},
			{"NoOwner", admin, unitBody(washer, "N1", "customer", nil), 422, []string{"body.customer_id"}},
			{"BothOwners", admin, unitBody(washer, "N1", "customer_id", owner), 422, []string{"body.customer"}},
			{"StorefrontChannelWithoutStorefront", admin, unitBody(washer, "N1", "channel", "storefront", "customer", newCustomer), 422, []string{"body.storefront_id"}},
			{"StorefrontWithOtherChannel", admin, unitBody(washer, "N1", "storefront_id", sfA, "customer", newCustomer), 422, []string{"body.channel"}},
			{"UnknownStorefront", admin, unitBody(washer, "N1", "channel", "storefront", "storefront_id", "sfr_00000000000000000000000000", "customer", newCustomer), 422, []string{"body.storefront_id"}},
			{"StorefrontKeyNamingAnother", keyA, unitBody(washer, "N1", "channel", nil, "storefront_id", sfB, "customer", newCustomer), 422, []string{"body.storefront_id"}},
			{"StorefrontKeyOtherChannel", keyA, unitBody(washer, "N1", "customer", newCustomer), 422, []string{"body.channel"}},
			{"EverythingAtOnce", admin, unitBody("mdl_00000000000000000000000000", "N1", "purchase_date", tomorrow, "installed_on", "2026-01-01",
				"purchase_price", map[string]any{"amount": -5, "currency": "EUR"}), 422,
				[]string{"body.purchase_date", "body.installed_on", "body.purchase_price.amount", "body.purchase_price.currency", "body.model_id"}},
		}
		customers, units := count(t, env, ten.ID, "customers"), count(t, env, ten.ID, "units")
		for _, c := range cases {
			t.Run(c.name, func(t *testing.T) {
				r := env.Do(t, http.MethodPost, "/v1/units", c.key, c.body)
				require.ElementsMatch(t, c.want, problemLocations(t, r, c.status))
				requireNoInternals(t, r)
			})
		}
		require.Equal(t, customers, count(t, env, ten.ID, "customers"))
		require.Equal(t, units, count(t, env, ten.ID, "units"))
	})

	t.Run("SuspendedStorefront", func(t *testing.T) {
		sfC := env.Storefront(t, admin, "SHOP-C")
		keyC := env.StorefrontKey(t, admin, sfC)
		sold := registerUnit(t, env, keyC, unitBody(washer, "C-1", "channel", nil))
		require.Equal(t, sfC, sold["storefront_id"])
		require.Equal(t, "storefront", sold["channel"])
		r := env.Do(t, http.MethodPatch, "/v1/storefronts/"+sfC, admin, map[string]any{"status": "suspended"})
		require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
		// Its keys still read...
		require.Equal(t, http.StatusOK, env.Do(t, http.MethodGet, "/v1/units/"+sold["id"].(string), keyC, nil).Status)
		require.Equal(t, http.StatusOK, env.Do(t, http.MethodGet, "/v1/units/"+sold["id"].(string)+"/history", keyC, nil).Status)
		// ...but write nothing.
		r = env.Do(t, http.MethodPost, "/v1/units", keyC, unitBody(washer, "C-2", "channel", nil))
		require.Equal(t, http.StatusForbidden, r.Status, "%s", r.Body)
		r = env.Do(t, http.MethodPatch, "/v1/units/"+sold["id"].(string), keyC, map[string]any{"invoice_number": "X"})
		require.Equal(t, http.StatusForbidden, r.Status, "%s", r.Body)
		// Nobody registers a unit as sold through it.
		r = env.Do(t, http.MethodPost, "/v1/units", admin, unitBody(washer, "C-3", "channel", "storefront", "storefront_id", sfC))
		require.Equal(t, []string{"body.storefront_id"}, problemLocations(t, r, http.StatusUnprocessableEntity))
	})
}

func TestUnitUpdateAndHistory(t *testing.T) {
	t.Parallel()
	env := apitest.Shared(t)
	ten := env.CreateTenant(t, "unit-history")
	admin := ten.AdminKey
	washer := createModel(t, env, ten.ID, "XQG100", "washer")
	u := registerUnit(t, env, admin, unitBody(washer, "H-1", "purchase_date", "2024-03-01", "installed_on", "2024-03-02"))
	id := u["id"].(string)
	other := createCustomer(t, env, admin, map[string]any{"name": "钱多", "phones": []string{"13300133000"}}, http.StatusCreated)

	t.Run("Update", func(t *testing.T) {
		r := env.Do(t, http.MethodPatch, "/v1/units/"+id, admin, map[string]any{"installed_on": "2024-02-01"})
		require.Equal(t, []string{"body.installed_on"}, problemLocations(t, r, http.StatusUnprocessableEntity))
		r = env.Do(t, http.MethodPatch, "/v1/units/"+id, admin, map[string]any{"customer_id": "cus_00000000000000000000000000"})
		require.Equal(t, []string{"body.customer_id"}, problemLocations(t, r, http.StatusUnprocessableEntity))
		r = env.Do(t, http.MethodPatch, "/v1/units/"+id, admin, map[string]any{"purchase_price": map[string]any{"amount": 1, "currency": "USD"}})
		require.Equal(t, []string{"body.purchase_price.currency"}, problemLocations(t, r, http.StatusUnprocessableEntity))
		r = env.Do(t, http.MethodPatch, "/v1/units/"+id, admin, map[string]any{"invoice_number": "INV-2"}, `If-Match: "v3"`)
		require.Equal(t, http.StatusPreconditionFailed, r.Status, "%s", r.Body)
		r = env.Do(t, http.MethodPatch, "/v1/units/"+id, admin, map[string]any{"invoice_number": "INV-2", "customer_id": other["id"],
			"installed_on": "2024-03-05"}, `If-Match: "v1"`)
		require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
		require.Equal(t, `"v2"`, r.Header.Get("ETag"))
		got := r.JSON(t)
		require.Equal(t, "INV-2", got["invoice_number"])
		require.Equal(t, other["id"], got["customer_id"])
		require.Equal(t, "2024-03-05", got["installed_on"])
		require.Equal(t, []string{id}, listIDs(t, env, admin, "/v1/units?customer_id="+other["id"].(string)))
		evs := waitEvents(t, env, admin, "type=unit.updated", 1)
		require.Equal(t, other["id"], evs[0]["data"].(map[string]any)["to_customer_id"])
	})

	t.Run("History", func(t *testing.T) {
		record := func(body map[string]any) map[string]any {
			r := env.Do(t, http.MethodPost, "/v1/units/"+id+"/service-records", admin, body)
			require.Equal(t, http.StatusCreated, r.Status, "%s", r.Body)
			return r.JSON(t)
		}
		r1 := record(map[string]any{"kind": "maintenance", "occurred_on": "2024-09-01", "reference": "LEGACY-1"})
		require.Equal(t, true, r1["fixed"], "fixed by default")
		require.Equal(t, []any{}, r1["part_categories"])
		r2 := record(map[string]any{"kind": "repair", "occurred_on": "2025-06-10", "basis": "out_of_warranty", "fault_cause": "drain_pump_failure",
			"part_categories": []string{"drain_pump"}, "paid": true, "amount": map[string]any{"amount": 28000, "currency": "CNY"},
			"reference": "LEGACY-2", "note": "排水泵更换"})
		require.Equal(t, map[string]any{"amount": float64(28000), "currency": "CNY"}, r2["amount"])
		r3 := record(map[string]any{"kind": "claim", "occurred_on": "2024-12-24", "basis": "manufacturer_warranty", "fixed": false})

		r := env.Do(t, http.MethodGet, "/v1/units/"+id+"/history", admin, nil)
		require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
		data := r.JSON(t)["data"].([]any)
		require.Len(t, data, 3)
		require.Equal(t, r2, data[0], "newest first")
		require.Equal(t, r3["id"], data[1].(map[string]any)["id"])
		require.Equal(t, r1["id"], data[2].(map[string]any)["id"])
		page := env.Do(t, http.MethodGet, "/v1/units/"+id+"/history?limit=2", admin, nil).JSON(t)
		require.Len(t, page["data"], 2)
		require.Equal(t, []string{r1["id"].(string)}, listIDs(t, env, admin, "/v1/units/"+id+"/history?limit=2&cursor="+page["next_cursor"].(string)))

		before := count(t, env, ten.ID, "service_records")
		for name, c := range map[string]struct {
			body   map[string]any
			status int
			want   []string
		}{
			"BeforePurchase":     {map[string]any{"kind": "repair", "occurred_on": "2024-02-29"}, 422, []string{"body.occurred_on"}},
			"InTheFuture":        {map[string]any{"kind": "repair", "occurred_on": "2099-01-01"}, 422, []string{"body.occurred_on"}},
			"NegativeAmount":     {map[string]any{"kind": "repair", "occurred_on": "2025-01-01", "amount": map[string]any{"amount": -1, "currency": "CNY"}}, 422, []string{"body.amount.amount"}},
			"OtherCurrency":      {map[string]any{"kind": "repair", "occurred_on": "2025-01-01", "amount": map[string]any{"amount": 1, "currency": "HKD"}}, 422, []string{"body.amount.currency"}},
			"UnknownKind":        {map[string]any{"kind": "upgrade", "occurred_on": "2025-01-01"}, 422, []string{"body.kind"}},
			"BadPartCategory":    {map[string]any{"kind": "repair", "occurred_on": "2025-01-01", "part_categories": []string{"Drain Pump"}}, 422, []string{"body.part_categories[0]"}},
			"DuplicateReference": {map[string]any{"kind": "repair", "occurred_on": "2025-06-10", "reference": "LEGACY-2"}, 409, []string{"body.reference"}},
		} {
			r := env.Do(t, http.MethodPost, "/v1/units/"+id+"/service-records", admin, c.body)
			require.Equal(t, c.want, problemLocations(t, r, c.status), name)
		}
		require.Equal(t, before, count(t, env, ten.ID, "service_records"))
		// The same reference under another kind is another record.
		record(map[string]any{"kind": "claim", "occurred_on": "2025-06-10", "reference": "LEGACY-2"})
		require.Equal(t, http.StatusNotFound, env.Do(t, http.MethodGet, "/v1/units/unt_00000000000000000000000000/history", admin, nil).Status)
	})

	t.Run("CrossTenant", func(t *testing.T) {
		b := env.CreateTenant(t, "unit-history-b")
		bModel := createModel(t, env, b.ID, "XQG100", "washer")
		for _, c := range []struct {
			method, path string
			body         any
		}{
			{http.MethodGet, "/v1/units/" + id, nil},
			{http.MethodPatch, "/v1/units/" + id, map[string]any{"invoice_number": "x"}},
			{http.MethodGet, "/v1/units/" + id + "/history", nil},
			{http.MethodPost, "/v1/units/" + id + "/service-records", map[string]any{"kind": "repair", "occurred_on": "2025-01-01"}},
			{http.MethodGet, "/v1/customers/" + other["id"].(string), nil},
		} {
			r := env.Do(t, c.method, c.path, b.AdminKey, c.body)
			require.Equal(t, http.StatusNotFound, r.Status, "%s %s: %s", c.method, c.path, r.Body)
			require.NotContains(t, string(r.Body), "H-1")
		}
		require.Empty(t, listIDs(t, env, b.AdminKey, "/v1/units?serial=H-1"))
		// A's model and customer cannot be named in B.
		r := env.Do(t, http.MethodPost, "/v1/units", b.AdminKey, unitBody(washer, "X-1"))
		require.Equal(t, []string{"body.model_id"}, problemLocations(t, r, http.StatusUnprocessableEntity))
		r = env.Do(t, http.MethodPost, "/v1/units", b.AdminKey, unitBody(bModel, "X-1", "customer", nil, "customer_id", other["id"]))
		require.Equal(t, []string{"body.customer_id"}, problemLocations(t, r, http.StatusUnprocessableEntity))
		// The same serial and model number is free in B.
		registerUnit(t, env, b.AdminKey, unitBody(bModel, "H-1"))
		require.Equal(t, float64(2), env.Do(t, http.MethodGet, "/v1/units/"+id, admin, nil).JSON(t)["version"], "A's unit unchanged")
	})
}

func TestStorefrontScope(t *testing.T) {
	t.Parallel()
	env := apitest.Shared(t)
	ten := env.CreateTenant(t, "storefront-scope")
	admin := ten.AdminKey
	washer := createModel(t, env, ten.ID, "XQG100", "washer")
	sfA, sfB := env.Storefront(t, admin, "A"), env.Storefront(t, admin, "B")
	keyA, keyB := env.StorefrontKey(t, admin, sfA), env.StorefrontKey(t, admin, sfB)

	// A sells a unit to a new customer; the brand registers one of its own for a known customer.
	ua := registerUnit(t, env, keyA, unitBody(washer, "A-1", "channel", nil, "customer", map[string]any{"name": "孙悟", "phones": []string{"13511112222"}}))
	require.Equal(t, sfA, ua["storefront_id"])
	require.Equal(t, "storefront", ua["channel"])
	aOwner := ua["customer_id"].(string)
	brandCustomer := createCustomer(t, env, admin, map[string]any{"name": "猪八", "phones": []string{"13533334444"}}, http.StatusCreated)
	brandUnit := registerUnit(t, env, admin, unitBody(washer, "BR-1", "channel", "brand_store", "customer", nil, "customer_id", brandCustomer["id"]))
	ub := registerUnit(t, env, keyB, unitBody(washer, "B-1", "channel", "storefront", "customer", map[string]any{"name": "沙和", "phones": []string{"13555556666"}}))
	bOwner := ub["customer_id"].(string)

	t.Run("UnitsOfAnotherStorefrontAreNotFound", func(t *testing.T) {
		require.Equal(t, []string{ua["id"].(string)}, listIDs(t, env, keyA, "/v1/units"))
		require.Empty(t, listIDs(t, env, keyA, "/v1/units?storefront_id="+sfB))
		require.Empty(t, listIDs(t, env, keyA, "/v1/units?serial=BR-1"))
		require.Len(t, listIDs(t, env, admin, "/v1/units"), 3)
		for _, id := range []string{ub["id"].(string), brandUnit["id"].(string)} {
			for _, c := range []struct {
				method, path string
				body         any
			}{
				{http.MethodGet, "/v1/units/" + id, nil},
				{http.MethodPatch, "/v1/units/" + id, map[string]any{"invoice_number": "x"}},
				{http.MethodGet, "/v1/units/" + id + "/history", nil},
				{http.MethodPost, "/v1/units/" + id + "/service-records", map[string]any{"kind": "repair", "occurred_on": "2026-10-20"}},
			} {
				r := env.Do(t, c.method, c.path, keyA, c.body)
				require.Equal(t, http.StatusNotFound, r.Status, "%s %s: %s", c.method, c.path, r.Body)
			}
		}
		require.Equal(t, http.StatusOK, env.Do(t, http.MethodGet, "/v1/units/"+ua["id"].(string), keyA, nil).Status)
	})

	t.Run("CustomersThroughTheirUnits", func(t *testing.T) {
		require.Equal(t, []string{aOwner}, listIDs(t, env, keyA, "/v1/customers"))
		require.Equal(t, http.StatusOK, env.Do(t, http.MethodGet, "/v1/customers/"+aOwner, keyA, nil).Status)
		for _, id := range []string{bOwner, brandCustomer["id"].(string)} {
			r := env.Do(t, http.MethodGet, "/v1/customers/"+id, keyA, nil)
			require.Equal(t, http.StatusNotFound, r.Status, "%s", r.Body)
			r = env.Do(t, http.MethodPatch, "/v1/customers/"+id, keyA, map[string]any{"name": "x"})
			require.Equal(t, http.StatusNotFound, r.Status, "%s", r.Body)
		}
		require.Empty(t, listIDs(t, env, keyA, "/v1/customers?phone=13555556666"))
		// A phone of a customer A has no business with is, for A, a phone
		// no one has: A makes a customer of its own, and learns nothing of
		// B's (not even that the phone was known).
		r := env.Do(t, http.MethodPost, "/v1/customers", keyA, map[string]any{"name": "x", "phones": []string{"13555556666"}})
		require.Equal(t, http.StatusCreated, r.Status, "%s", r.Body)
		require.NotContains(t, string(r.Body), "沙和")
		require.NotContains(t, string(r.Body), bOwner)
		aOwn := r.JSON(t)
		require.Equal(t, []any{"+8613555556666"}, aOwn["phones"])
		require.Equal(t, []string{aOwn["id"].(string)}, listIDs(t, env, keyA, "/v1/customers?phone=13555556666"))
		// A customer A creates is A's to see before any unit.
		own := createCustomer(t, env, keyA, map[string]any{"name": "唐僧", "phones": []string{"13577778888"}}, http.StatusCreated)
		require.Equal(t, http.StatusOK, env.Do(t, http.MethodGet, "/v1/customers/"+own["id"].(string), keyA, nil).Status)
		require.Equal(t, http.StatusNotFound, env.Do(t, http.MethodGet, "/v1/customers/"+own["id"].(string), keyB, nil).Status)
		// A unit A sells with B's customer's phone goes to A's own customer
		// with that phone: B's customer stays out of A's scope.
		u := registerUnit(t, env, keyA, unitBody(washer, "A-2", "channel", nil, "customer", map[string]any{"name": "x", "phones": []string{"135 5555 6666"}}))
		require.Equal(t, aOwn["id"], u["customer_id"])
		require.Equal(t, http.StatusNotFound, env.Do(t, http.MethodGet, "/v1/customers/"+bOwner, keyA, nil).Status)
		require.Equal(t, http.StatusOK, env.Do(t, http.MethodGet, "/v1/customers/"+bOwner, keyB, nil).Status)
		// The brand finds both under the phone, to merge them.
		require.ElementsMatch(t, []string{bOwner, aOwn["id"].(string)}, listIDs(t, env, admin, "/v1/customers?phone=13555556666"))
		// But A cannot register a unit to a customer outside its scope by id.
		r = env.Do(t, http.MethodPost, "/v1/units", keyA, unitBody(washer, "A-3", "channel", nil, "customer", nil, "customer_id", brandCustomer["id"]))
		require.Equal(t, []string{"body.customer_id"}, problemLocations(t, r, http.StatusUnprocessableEntity))
	})

	t.Run("HistoryOfOwnUnits", func(t *testing.T) {
		r := env.Do(t, http.MethodPost, "/v1/units/"+ua["id"].(string)+"/service-records", keyA, map[string]any{"kind": "return", "occurred_on": "2026-10-15",
			"basis": "seven_day_no_reason"})
		require.Equal(t, http.StatusCreated, r.Status, "%s", r.Body)
		require.Len(t, listIDs(t, env, keyA, "/v1/units/"+ua["id"].(string)+"/history"), 1)
	})
}
