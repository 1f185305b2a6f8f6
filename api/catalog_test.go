package api_test

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/servicenet/servicenet/internal/apitest"
)

func init() {
	for _, op := range []string{"listProductModels", "getProductModel", "listSimilarModels", "listParts", "getPart",
		"listPriceLists", "getPriceList", "getEffectivePriceList", "getQuote"} {
		wantMatrix[op] = catalogReaders
	}
	for _, op := range []string{"createProductModel", "updateProductModel", "createPart", "updatePart", "createPriceList"} {
		wantMatrix[op] = catalogWriters
	}
	wantMatrix["createQuote"] = []string{"tenant_admin", "integrator", "agent", "dispatcher", "node_manager", "technician", "storefront"}
	dummyParams["model_id"] = "mdl_00000000000000000000000000"
	dummyParams["part_id"] = "prt_00000000000000000000000000"
	dummyParams["price_list_id"] = "prl_00000000000000000000000000"
	dummyParams["quote_id"] = "quo_00000000000000000000000000"
}

var (
	catalogReaders = allRoles
	catalogWriters = []string{"tenant_admin", "integrator"}
)

// tenantDay is the date in the test tenants' zone (Asia/Shanghai) days from
// today. Close to midnight there it first waits for the new day, so a
// scenario does not straddle two dates.
func tenantDay(t *testing.T, days int) string {
	t.Helper()
	loc, err := time.LoadLocation("Asia/Shanghai")
	require.NoError(t, err)
	now := time.Now().In(loc)
	if now.Hour() == 23 && now.Minute() >= 58 {
		midnight := time.Date(now.Year(), now.Month(), now.Day()+1, 0, 0, 1, 0, loc)
		time.Sleep(time.Until(midnight))
		now = time.Now().In(loc)
	}
	return now.AddDate(0, 0, days).Format(time.DateOnly)
}

func cnyBody(fen int64) map[string]any { return map[string]any{"amount": fen, "currency": "CNY"} }

// modelBody is a valid new product model; extra are key, value pairs that
// replace (or, with nil, remove) fields.
func modelBody(number, category string, fen int64, extra ...any) map[string]any {
	b := map[string]any{"model_number": number, "category": category, "name": "Model " + number,
		"retail_price": cnyBody(fen), "warranty_months": 36}
	for i := 0; i+1 < len(extra); i += 2 {
		if extra[i+1] == nil {
			delete(b, extra[i].(string))
			continue
		}
		b[extra[i].(string)] = extra[i+1]
	}
	return b
}

func createdID(t *testing.T, env *apitest.Env, key, path string, body any) string {
	t.Helper()
	r := env.Do(t, http.MethodPost, path, key, body)
	require.Equal(t, http.StatusCreated, r.Status, "%s", r.Body)
	return r.JSON(t)["id"].(string)
}

func TestCatalogProductModels(t *testing.T) {
	t.Parallel()
	env := apitest.Shared(t)
	ten := env.CreateTenant(t, "catalog-models")
	admin := ten.AdminKey

	r := env.Do(t, http.MethodPost, "/v1/catalog/models", admin, modelBody("EG100MATE2S", "washer", 399900,
		"key_parts", []map[string]any{{"part_category": "motor", "warranty_months": 120}},
		"specs", map[string]any{"type": "front_load", "capacity_kg": "10"}))
	require.Equal(t, http.StatusCreated, r.Status, "%s", r.Body)
	m := r.JSON(t)
	washer := m["id"].(string)
	require.Regexp(t, `^mdl_[0-9a-z]{26}$`, washer)
	require.Equal(t, "/v1/catalog/models/"+washer, r.Header.Get("Location"))
	require.Equal(t, `"v1"`, r.Header.Get("ETag"))
	require.Equal(t, map[string]any{"amount": float64(399900), "currency": "CNY"}, m["retail_price"])
	require.Equal(t, []any{map[string]any{"part_category": "motor", "warranty_months": float64(120)}}, m["key_parts"])
	require.Equal(t, false, m["discontinued"])
	require.Equal(t, []any{}, m["warranty_promotions"], "no promotion: the model's own term")
	fridge := createdID(t, env, admin, "/v1/catalog/models", modelBody("BCD-470WGHFD", "refrigerator", 599900))
	tv := createdID(t, env, admin, "/v1/catalog/models", modelBody("65E8K", "tv", 499900, "discontinued", true))

	t.Run("BadInputNamesTheField", func(t *testing.T) {
		cases := []struct {
			name   string
			body   any
			status int
			where  string
		}{
			{"NegativePrice", modelBody("X-1", "washer", -1), 422, "body.retail_price.amount"},
			{"FractionalPrice", modelBody("X-1", "washer", 0, "retail_price", map[string]any{"amount": 12.5, "currency": "CNY"}), 422, "body.retail_price.amount"},
			{"ForeignCurrency", modelBody("X-1", "washer", 0, "retail_price", map[string]any{"amount": 100, "currency": "USD"}), 422, "body.retail_price.currency"},
			{"UnknownCategory", modelBody("X-1", "drone", 100), 422, "body.category"},
			{"KeyPartNotLonger", modelBody("X-1", "washer", 100, "key_parts", []map[string]any{{"part_category": "motor", "warranty_months": 12}}), 422, "body.key_parts[0].warranty_months"},
			{"PromotionNotLonger", modelBody("X-1", "washer", 100, "warranty_promotions", []map[string]any{{"name": "三年免费保修",
				"purchased_from": "2027-03-01", "purchased_through": "2027-05-03", "warranty_months": 12}}), 422, "body.warranty_promotions[0].warranty_months"},
			{"PromotionWindowReversed", modelBody("X-1", "washer", 100, "warranty_promotions", []map[string]any{{"name": "三年免费保修",
				"purchased_from": "2027-05-03", "purchased_through": "2027-03-01", "warranty_months": 36}}), 422, "body.warranty_promotions[0].purchased_through"},
			{"BadSpecName", modelBody("X-1", "washer", 100, "specs", map[string]any{"Capacity": "10"}), 422, "body.specs.Capacity"},
			{"DuplicateModelNumber", modelBody("EG100MATE2S", "washer", 100), 409, "body.model_number"},
		}
		for _, c := range cases {
			r := env.Do(t, http.MethodPost, "/v1/catalog/models", admin, c.body)
			require.Contains(t, problemLocations(t, r, c.status), c.where, c.name)
		}
		require.Equal(t, []string{washer, fridge, tv}, listIDs(t, env, admin, "/v1/catalog/models"), "nothing was created")
	})

	t.Run("GetAndList", func(t *testing.T) {
		r := env.Do(t, http.MethodGet, "/v1/catalog/models/"+washer, admin, nil)
		require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
		require.Equal(t, m, r.JSON(t))
		for _, bad := range []string{"mdl_00000000000000000000000000", "nonsense"} {
			require.Equal(t, http.StatusNotFound, env.Do(t, http.MethodGet, "/v1/catalog/models/"+bad, admin, nil).Status)
		}
		dispatcher, _ := env.Key(t, admin, "dispatcher")
		for q, want := range map[string][]string{
			"":                           {washer, fridge, tv},
			"?category=washer":           {washer},
			"?discontinued=true":         {tv},
			"?discontinued=false":        {washer, fridge},
			"?model_number=BCD-470WGHFD": {fridge},
			"?model_number=NOPE":         {},
		} {
			require.Equal(t, want, listIDs(t, env, dispatcher, "/v1/catalog/models"+q), q)
		}
		r = env.Do(t, http.MethodGet, "/v1/catalog/models?limit=2", admin, nil)
		next := r.JSON(t)["next_cursor"].(string)
		require.Equal(t, []string{tv}, listIDs(t, env, admin, "/v1/catalog/models?limit=2&cursor="+next))
		require.Contains(t, problemLocations(t, env.Do(t, http.MethodGet, "/v1/catalog/models?cursor=bogus", admin, nil), 422), "query.cursor")
	})

	t.Run("UpdateWithIfMatch", func(t *testing.T) {
		r := env.Do(t, http.MethodPatch, "/v1/catalog/models/"+fridge, admin,
			map[string]any{"retail_price": cnyBody(549900), "discontinued": true}, `If-Match: "v1"`)
		require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
		require.Equal(t, `"v2"`, r.Header.Get("ETag"))
		got := r.JSON(t)
		require.Equal(t, float64(549900), got["retail_price"].(map[string]any)["amount"])
		require.Equal(t, true, got["discontinued"])
		require.Equal(t, "Model BCD-470WGHFD", got["name"], "absent fields stay")

		r = env.Do(t, http.MethodPatch, "/v1/catalog/models/"+fridge, admin, map[string]any{"name": "late"}, `If-Match: "v1"`)
		require.Equal(t, http.StatusPreconditionFailed, r.Status, "%s", r.Body)
		r = env.Do(t, http.MethodPatch, "/v1/catalog/models/"+fridge, admin, map[string]any{"retail_price": cnyBody(-5)})
		require.Contains(t, problemLocations(t, r, 422), "body.retail_price.amount")
		r = env.Do(t, http.MethodPatch, "/v1/catalog/models/"+fridge, admin, map[string]any{"model_number": "EG100MATE2S"})
		require.Contains(t, problemLocations(t, r, 409), "body.model_number")
		r = env.Do(t, http.MethodGet, "/v1/catalog/models/"+fridge, admin, nil)
		require.Equal(t, `"v2"`, r.Header.Get("ETag"), "refused updates change nothing")
		r = env.Do(t, http.MethodPatch, "/v1/catalog/models/mdl_00000000000000000000000000", admin, map[string]any{"name": "x"})
		require.Equal(t, http.StatusNotFound, r.Status)
	})

	t.Run("EventsOnTheFeed", func(t *testing.T) {
		assert.EventuallyWithT(t, func(c *assert.CollectT) {
			r := env.Do(t, http.MethodGet, "/v1/events?type=product_model.*&limit=100", admin, nil)
			got := map[string]int{}
			for _, e := range r.JSON(t)["data"].([]any) {
				got[e.(map[string]any)["type"].(string)]++
			}
			assert.Equal(c, map[string]int{"product_model.created": 3, "product_model.updated": 1}, got)
		}, 5*time.Second, 50*time.Millisecond)
	})
}

func TestCatalogParts(t *testing.T) {
	t.Parallel()
	env := apitest.Shared(t)
	admin := env.CreateTenant(t, "catalog-parts").AdminKey
	a := createdID(t, env, admin, "/v1/catalog/models", modelBody("EG100MATE2S", "washer", 399900))
	b := createdID(t, env, admin, "/v1/catalog/models", modelBody("EG100MATE35S", "washer", 369900))

	r := env.Do(t, http.MethodPost, "/v1/catalog/parts", admin, map[string]any{"part_number": "0021800078A", "name": "直驱变频电机",
		"category": "motor", "price": cnyBody(68000), "compatible_model_ids": []string{b, a}})
	require.Equal(t, http.StatusCreated, r.Status, "%s", r.Body)
	motor := r.JSON(t)
	require.Equal(t, []any{a, b}, motor["compatible_model_ids"], "in id order")
	require.Equal(t, `"v1"`, r.Header.Get("ETag"))
	pump := createdID(t, env, admin, "/v1/catalog/parts", map[string]any{"part_number": "0024000145", "name": "排水泵",
		"category": "drain_pump", "price": cnyBody(8500), "compatible_model_ids": []string{a}})

	for name, c := range map[string]struct {
		body   map[string]any
		status int
		where  string
	}{
		"UnknownModel": {map[string]any{"part_number": "P-1", "name": "x", "category": "motor", "price": cnyBody(1),
			"compatible_model_ids": []string{a, "mdl_00000000000000000000000000"}}, 422, "body.compatible_model_ids[1]"},
		"DuplicateModel": {map[string]any{"part_number": "P-1", "name": "x", "category": "motor", "price": cnyBody(1),
			"compatible_model_ids": []string{a, a}}, 422, "body.compatible_model_ids[1]"},
		"NegativePrice":       {map[string]any{"part_number": "P-1", "name": "x", "category": "motor", "price": cnyBody(-1)}, 422, "body.price.amount"},
		"BadCategory":         {map[string]any{"part_number": "P-1", "name": "x", "category": "Motor!", "price": cnyBody(1)}, 422, "body.category"},
		"DuplicatePartNumber": {map[string]any{"part_number": "0024000145", "name": "x", "category": "motor", "price": cnyBody(1)}, 409, "body.part_number"},
	} {
		r := env.Do(t, http.MethodPost, "/v1/catalog/parts", admin, c.body)
		require.Contains(t, problemLocations(t, r, c.status), c.where, name)
	}

	motorID := motor["id"].(string)
	require.Equal(t, []string{motorID, pump}, listIDs(t, env, admin, "/v1/catalog/parts?model_id="+a))
	require.Equal(t, []string{motorID}, listIDs(t, env, admin, "/v1/catalog/parts?model_id="+b))
	require.Equal(t, []string{pump}, listIDs(t, env, admin, "/v1/catalog/parts?category=drain_pump"))
	require.Equal(t, []string{motorID}, listIDs(t, env, admin, "/v1/catalog/parts?part_number=0021800078A"))

	r = env.Do(t, http.MethodPatch, "/v1/catalog/parts/"+pump, admin,
		map[string]any{"compatible_model_ids": []string{a, b}, "price": cnyBody(9000)}, `If-Match: "v1"`)
	require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
	require.Equal(t, `"v2"`, r.Header.Get("ETag"))
	require.Equal(t, float64(9000), r.JSON(t)["price"].(map[string]any)["amount"])
	require.Equal(t, []string{motorID, pump}, listIDs(t, env, admin, "/v1/catalog/parts?model_id="+b))
	r = env.Do(t, http.MethodPatch, "/v1/catalog/parts/"+pump, admin, map[string]any{"compatible_model_ids": []string{"mdl_00000000000000000000000000"}})
	require.Contains(t, problemLocations(t, r, 422), "body.compatible_model_ids[0]")
	r = env.Do(t, http.MethodPatch, "/v1/catalog/parts/"+pump, admin, map[string]any{"name": "x"}, `If-Match: "v1"`)
	require.Equal(t, http.StatusPreconditionFailed, r.Status)
	r = env.Do(t, http.MethodGet, "/v1/catalog/parts/"+pump, admin, nil)
	require.Equal(t, http.StatusOK, r.Status)
	require.Equal(t, []any{a, b}, r.JSON(t)["compatible_model_ids"], "the refused update changed nothing")
}

// TestCatalogPriceListVersioning is the done-when: a quote made
// before a new version takes effect keeps its version.
func TestCatalogPriceListVersioning(t *testing.T) {
	t.Parallel()
	env := apitest.Shared(t)
	admin := env.CreateTenant(t, "catalog-versions").AdminKey
	today, tomorrow, yesterday := tenantDay(t, 0), tenantDay(t, 1), tenantDay(t, -1)
	washer := createdID(t, env, admin, "/v1/catalog/models", modelBody("EG100MATE2S", "washer", 399900))
	fridge := createdID(t, env, admin, "/v1/catalog/models", modelBody("BCD-470WGHFD", "refrigerator", 599900))
	motor := createdID(t, env, admin, "/v1/catalog/parts", map[string]any{"part_number": "MTR-1", "name": "电机", "category": "motor",
		"price": cnyBody(68000), "compatible_model_ids": []string{washer}})
	compressor := createdID(t, env, admin, "/v1/catalog/parts", map[string]any{"part_number": "CMP-1", "name": "压缩机",
		"category": "compressor", "price": cnyBody(98000), "compatible_model_ids": []string{fridge}})

	r := env.Do(t, http.MethodGet, "/v1/catalog/price-lists/effective", admin, nil)
	require.Equal(t, http.StatusNotFound, r.Status, "no version yet: %s", r.Body)

	v1Body := map[string]any{"effective_from": today, "default_visit_fee": cnyBody(3000),
		"labor":      []map[string]any{{"category": "washer", "service_kind": "repair", "amount": cnyBody(12000)}},
		"visit_fees": []map[string]any{{"category": "washer", "amount": cnyBody(5000)}}}
	r = env.Do(t, http.MethodPost, "/v1/catalog/price-lists", admin, v1Body)
	require.Equal(t, http.StatusCreated, r.Status, "%s", r.Body)
	v1 := r.JSON(t)
	v1ID := v1["id"].(string)
	require.Equal(t, "/v1/catalog/price-lists/"+v1ID, r.Header.Get("Location"))
	require.Equal(t, float64(1), v1["version"])
	require.Equal(t, "current", v1["status"])

	t.Run("BadPriceListsNameTheField", func(t *testing.T) {
		labor := []map[string]any{{"category": "washer", "service_kind": "repair", "amount": cnyBody(100)}}
		cases := []struct {
			name   string
			body   map[string]any
			status int
			where  string
		}{
			{"InThePast", map[string]any{"effective_from": yesterday, "labor": labor}, 422, "body.effective_from"},
			{"SameDateAsV1", map[string]any{"effective_from": today, "labor": labor}, 409, "body.effective_from"},
			{"NotADate", map[string]any{"effective_from": "soon", "labor": labor}, 422, "body.effective_from"},
			{"DuplicateLabor", map[string]any{"effective_from": tenantDay(t, 5), "labor": append(labor, labor[0])}, 422, "body.labor[1]"},
			{"NegativeLabor", map[string]any{"effective_from": tenantDay(t, 5),
				"labor": []map[string]any{{"category": "washer", "service_kind": "repair", "amount": cnyBody(-100)}}}, 422, "body.labor[0].amount.amount"},
			{"FractionalLabor", map[string]any{"effective_from": tenantDay(t, 5),
				"labor": []map[string]any{{"category": "washer", "service_kind": "repair", "amount": map[string]any{"amount": 1.5, "currency": "CNY"}}}}, 422, "body.labor[0].amount.amount"},
			{"ForeignCurrency", map[string]any{"effective_from": tenantDay(t, 5),
				"labor": []map[string]any{{"category": "washer", "service_kind": "repair", "amount": map[string]any{"amount": 100, "currency": "USD"}}}}, 422, "body.labor[0].amount.currency"},
			{"UnknownPart", map[string]any{"effective_from": tenantDay(t, 5), "labor": labor,
				"parts": []map[string]any{{"part_id": "prt_00000000000000000000000000", "price": cnyBody(1)}}}, 422, "body.parts[0].part_id"},
		}
		for _, c := range cases {
			r := env.Do(t, http.MethodPost, "/v1/catalog/price-lists", admin, c.body)
			require.Contains(t, problemLocations(t, r, c.status), c.where, c.name)
		}
		require.Equal(t, []string{v1ID}, listIDs(t, env, admin, "/v1/catalog/price-lists"), "nothing was created")
	})

	job := map[string]any{"model_id": washer, "service_kind": "repair", "include_visit": true,
		"parts": []map[string]any{{"part_id": motor, "quantity": 1}}}
	r = env.Do(t, http.MethodPost, "/v1/catalog/quotes", admin, job)
	require.Equal(t, http.StatusCreated, r.Status, "%s", r.Body)
	q1 := r.JSON(t)
	q1ID := q1["id"].(string)
	require.Equal(t, "/v1/catalog/quotes/"+q1ID, r.Header.Get("Location"))
	require.Equal(t, today, q1["on"])
	require.Equal(t, v1ID, q1["price_list_id"])
	require.Equal(t, float64(1), q1["price_list_version"])
	require.Equal(t, map[string]any{"amount": float64(12000 + 5000 + 68000), "currency": "CNY"}, q1["total"])
	lines := q1["lines"].([]any)
	require.Len(t, lines, 3)
	require.Equal(t, "labor", lines[0].(map[string]any)["kind"])
	require.Equal(t, map[string]any{"amount": float64(5000), "currency": "CNY"}, lines[1].(map[string]any)["amount"])
	require.Equal(t, motor, lines[2].(map[string]any)["part_id"])

	t.Run("BadQuotesNameTheField", func(t *testing.T) {
		cases := []struct {
			name  string
			body  map[string]any
			where string
		}{
			{"IncompatiblePart", map[string]any{"model_id": washer, "service_kind": "repair",
				"parts": []map[string]any{{"part_id": compressor, "quantity": 1}}}, "body.parts[0].part_id"},
			{"UnknownModel", map[string]any{"model_id": "mdl_00000000000000000000000000", "service_kind": "repair"}, "body.model_id"},
			{"NoLaborRate", map[string]any{"model_id": fridge, "service_kind": "repair"}, "body.service_kind"},
			{"BeforeAnyVersion", map[string]any{"model_id": washer, "service_kind": "repair", "on": yesterday}, "body.on"},
			{"ZeroQuantity", map[string]any{"model_id": washer, "service_kind": "repair",
				"parts": []map[string]any{{"part_id": motor, "quantity": 0}}}, "body.parts[0].quantity"},
		}
		for _, c := range cases {
			r := env.Do(t, http.MethodPost, "/v1/catalog/quotes", admin, c.body)
			require.Contains(t, problemLocations(t, r, 422), c.where, c.name)
		}
	})

	// v2 takes effect tomorrow: dearer labor and a motor price override.
	r = env.Do(t, http.MethodPost, "/v1/catalog/price-lists", admin, map[string]any{"effective_from": tomorrow,
		"labor":      []map[string]any{{"category": "washer", "service_kind": "repair", "amount": cnyBody(15000)}},
		"visit_fees": []map[string]any{{"category": "washer", "amount": cnyBody(6000)}},
		"parts":      []map[string]any{{"part_id": motor, "price": cnyBody(60000)}}, "note": "2027 rates"})
	require.Equal(t, http.StatusCreated, r.Status, "%s", r.Body)
	v2 := r.JSON(t)
	v2ID := v2["id"].(string)
	require.Equal(t, float64(2), v2["version"])
	require.Equal(t, "scheduled", v2["status"])

	r = env.Do(t, http.MethodGet, "/v1/catalog/price-lists/effective", admin, nil)
	require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
	require.Equal(t, v1ID, r.JSON(t)["id"], "today v1 is still in effect")
	r = env.Do(t, http.MethodGet, "/v1/catalog/price-lists/effective?on="+tomorrow, admin, nil)
	require.Equal(t, v2ID, r.JSON(t)["id"])
	r = env.Do(t, http.MethodGet, "/v1/catalog/price-lists/effective?on="+yesterday, admin, nil)
	require.Equal(t, http.StatusNotFound, r.Status)
	r = env.Do(t, http.MethodGet, "/v1/catalog/price-lists/effective?on=2026-02-30", admin, nil)
	require.Contains(t, problemLocations(t, r, 422), "query.on")

	job["on"] = tomorrow
	r = env.Do(t, http.MethodPost, "/v1/catalog/quotes", admin, job)
	require.Equal(t, http.StatusCreated, r.Status, "%s", r.Body)
	q2 := r.JSON(t)
	require.Equal(t, v2ID, q2["price_list_id"])
	require.Equal(t, float64(2), q2["price_list_version"])
	require.Equal(t, float64(15000+6000+60000), q2["total"].(map[string]any)["amount"])

	// The earlier quote still shows v1 with its amounts.
	r = env.Do(t, http.MethodGet, "/v1/catalog/quotes/"+q1ID, admin, nil)
	require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
	require.Equal(t, q1, r.JSON(t))

	r = env.Do(t, http.MethodGet, "/v1/catalog/price-lists/"+v2ID, admin, nil)
	require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
	require.Equal(t, v2, r.JSON(t))
	require.Equal(t, []any{map[string]any{"part_id": motor, "price": map[string]any{"amount": float64(60000), "currency": "CNY"}}}, v2["parts"])
	require.Equal(t, []string{v1ID, v2ID}, listIDs(t, env, admin, "/v1/catalog/price-lists"))
	require.Equal(t, http.StatusNotFound, env.Do(t, http.MethodGet, "/v1/catalog/quotes/quo_00000000000000000000000000", admin, nil).Status)

	assert.EventuallyWithT(t, func(c *assert.CollectT) {
		r := env.Do(t, http.MethodGet, "/v1/events?type=price_list.created&limit=100", admin, nil)
		assert.Len(c, r.JSON(t)["data"], 2)
	}, 5*time.Second, 50*time.Millisecond)
}

func TestCatalogSimilarModels(t *testing.T) {
	t.Parallel()
	env := apitest.Shared(t)
	admin := env.CreateTenant(t, "catalog-similar").AdminKey
	specs := map[string]any{"type": "front_load", "capacity_kg": "10", "drive": "direct_drive"}
	old := createdID(t, env, admin, "/v1/catalog/models", modelBody("OLD-10", "washer", 399900, "specs", specs, "discontinued", true))
	successor := createdID(t, env, admin, "/v1/catalog/models", modelBody("NEW-10", "washer", 369900, "specs", specs))
	belt := createdID(t, env, admin, "/v1/catalog/models", modelBody("BELT-10", "washer", 389900,
		"specs", map[string]any{"type": "front_load", "capacity_kg": "10", "drive": "belt"}))
	dear := createdID(t, env, admin, "/v1/catalog/models", modelBody("DEAR-10", "washer", 459900, "specs", specs))
	createdID(t, env, admin, "/v1/catalog/models", modelBody("TOP-8", "washer", 169900, "specs", map[string]any{"type": "top_load"}))
	createdID(t, env, admin, "/v1/catalog/models", modelBody("FRIDGE", "refrigerator", 199900, "specs", specs))

	r := env.Do(t, http.MethodGet, "/v1/catalog/models/"+old+"/similar", admin, nil)
	require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
	data := r.JSON(t)["data"].([]any)
	require.Len(t, data, 2)
	require.Equal(t, successor, data[0].(map[string]any)["id"])
	require.Equal(t, float64(3), data[0].(map[string]any)["matching_specs"])
	require.Equal(t, belt, data[1].(map[string]any)["id"])
	require.Equal(t, float64(2), data[1].(map[string]any)["matching_specs"])

	require.Equal(t, []string{dear, successor, belt}, listIDs(t, env, admin, "/v1/catalog/models/"+old+"/similar?max_price=500000"))
	require.Equal(t, []string{dear}, listIDs(t, env, admin, "/v1/catalog/models/"+old+"/similar?max_price=500000&limit=1"))
	require.Equal(t, []string{}, listIDs(t, env, admin, "/v1/catalog/models/"+old+"/similar?max_price=100"))
	r = env.Do(t, http.MethodGet, "/v1/catalog/models/"+old+"/similar?max_price=-1", admin, nil)
	require.Contains(t, problemLocations(t, r, 422), "query.max_price")
	r = env.Do(t, http.MethodGet, "/v1/catalog/models/mdl_00000000000000000000000000/similar", admin, nil)
	require.Equal(t, http.StatusNotFound, r.Status)
}

// crossTenantCatalog gives tenant bKey a model, a part, a price list version
// effective today and a quote. It returns their IDs by path parameter name
// and the strings that must never reach another tenant (TestCrossTenantIsolation
// can merge both into its bObjects and leaks).
func crossTenantCatalog(t *testing.T, env *apitest.Env, bKey string) (objects map[string]string, leaks []string) {
	t.Helper()
	const secret = "b-private-model"
	model := createdID(t, env, bKey, "/v1/catalog/models", modelBody("B-SECRET-1", "washer", 100000, "name", secret,
		"specs", map[string]any{"type": "front_load"}))
	part := createdID(t, env, bKey, "/v1/catalog/parts", map[string]any{"part_number": "B-PART-1", "name": "b-private-part",
		"category": "motor", "price": cnyBody(100), "compatible_model_ids": []string{model}})
	list := createdID(t, env, bKey, "/v1/catalog/price-lists", map[string]any{"effective_from": tenantDay(t, 0), "note": "b-private-note",
		"labor": []map[string]any{{"category": "washer", "service_kind": "repair", "amount": cnyBody(100)}}})
	quote := createdID(t, env, bKey, "/v1/catalog/quotes", map[string]any{"model_id": model, "service_kind": "repair",
		"parts": []map[string]any{{"part_id": part, "quantity": 1}}})
	return map[string]string{"model_id": model, "part_id": part, "price_list_id": list, "quote_id": quote},
		[]string{secret, "B-SECRET-1", "B-PART-1", "b-private", model[4:], part[4:], list[4:], quote[4:]}
}

// TestCatalogCrossTenant: tenant B's catalog objects are not found by tenant
// A, cannot be referenced from A's writes, and never appear in A's lists.
func TestCatalogCrossTenant(t *testing.T) {
	t.Parallel()
	env := apitest.Shared(t)
	a := env.CreateTenant(t, "catalog-a").AdminKey
	b := env.CreateTenant(t, "catalog-b").AdminKey
	bObjects, leaks := crossTenantCatalog(t, env, b)
	bModel, bPart, bList, bQuote := bObjects["model_id"], bObjects["part_id"], bObjects["price_list_id"], bObjects["quote_id"]

	// A has a catalog of its own, so its lists are not trivially empty.
	aModel := createdID(t, env, a, "/v1/catalog/models", modelBody("A-1", "washer", 90000, "specs", map[string]any{"type": "front_load"}))
	createdID(t, env, a, "/v1/catalog/parts", map[string]any{"part_number": "A-PART-1", "name": "a part", "category": "motor",
		"price": cnyBody(100), "compatible_model_ids": []string{aModel}})
	createdID(t, env, a, "/v1/catalog/price-lists", map[string]any{"effective_from": tenantDay(t, 2),
		"labor": []map[string]any{{"category": "washer", "service_kind": "repair", "amount": cnyBody(100)}}})

	noLeak := func(t *testing.T, what string, r *apitest.Response) {
		t.Helper()
		for _, l := range leaks {
			require.NotContains(t, strings.ToLower(withoutRequestID(t, r)), strings.ToLower(l), "%s leaked %q", what, l)
		}
	}
	for _, path := range []string{"/v1/catalog/models/" + bModel, "/v1/catalog/models/" + bModel + "/similar",
		"/v1/catalog/parts/" + bPart, "/v1/catalog/price-lists/" + bList, "/v1/catalog/quotes/" + bQuote} {
		r := env.Do(t, http.MethodGet, path, a, nil)
		require.Equal(t, http.StatusNotFound, r.Status, "%s: %s", path, r.Body)
		noLeak(t, path, &apitest.Response{Body: []byte(strings.ReplaceAll(string(r.Body), path, ""))})
	}
	r := env.Do(t, http.MethodPatch, "/v1/catalog/models/"+bModel, a, map[string]any{"discontinued": true})
	require.Equal(t, http.StatusNotFound, r.Status)
	r = env.Do(t, http.MethodPatch, "/v1/catalog/parts/"+bPart, a, map[string]any{"name": "stolen"})
	require.Equal(t, http.StatusNotFound, r.Status)

	// B's objects are unknown in A's writes: 422 naming the field.
	r = env.Do(t, http.MethodPost, "/v1/catalog/parts", a, map[string]any{"part_number": "A-2", "name": "x", "category": "motor",
		"price": cnyBody(1), "compatible_model_ids": []string{bModel}})
	require.Contains(t, problemLocations(t, r, 422), "body.compatible_model_ids[0]")
	r = env.Do(t, http.MethodPost, "/v1/catalog/price-lists", a, map[string]any{"effective_from": tenantDay(t, 3),
		"labor": []map[string]any{{"category": "washer", "service_kind": "repair", "amount": cnyBody(1)}},
		"parts": []map[string]any{{"part_id": bPart, "price": cnyBody(1)}}})
	require.Contains(t, problemLocations(t, r, 422), "body.parts[0].part_id")
	r = env.Do(t, http.MethodPost, "/v1/catalog/quotes", a, map[string]any{"model_id": bModel, "service_kind": "repair"})
	require.Contains(t, problemLocations(t, r, 422), "body.model_id")

	// A's lists and A's similar models show nothing of B's.
	for _, path := range []string{"/v1/catalog/models", "/v1/catalog/parts", "/v1/catalog/price-lists",
		"/v1/catalog/models/" + aModel + "/similar?max_price=1000000", "/v1/catalog/parts?model_id=" + bModel,
		"/v1/catalog/price-lists/effective?on=" + tenantDay(t, 2), "/v1/events?limit=200"} {
		r := env.Do(t, http.MethodGet, path, a, nil)
		require.Equal(t, http.StatusOK, r.Status, "%s: %s", path, r.Body)
		noLeak(t, path, r)
	}
	require.Equal(t, []string{}, listIDs(t, env, a, "/v1/catalog/parts?model_id="+bModel))
	// B's model is unchanged.
	r = env.Do(t, http.MethodGet, "/v1/catalog/models/"+bModel, b, nil)
	require.Equal(t, http.StatusOK, r.Status)
	require.Equal(t, false, r.JSON(t)["discontinued"])
}
