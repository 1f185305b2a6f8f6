package api_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/servicenet/servicenet/internal/apitest"
)

// phoneShop is a brand with a phone model, its screen, a price list, an
// accidental-damage plan and two storefronts with their keys.
type phoneShop struct {
	admin, phone, screen, plan string
	shopA, shopB               string // storefront keys
}

func newPhoneShop(t *testing.T, env *apitest.Env, slug string) phoneShop {
	t.Helper()
	var s phoneShop
	s.admin = env.CreateTenant(t, slug).AdminKey
	s.phone = createdID(t, env, s.admin, "/v1/catalog/models", modelBody("P60-PRO", "phone", 499900, "warranty_months", 12))
	s.screen = createdID(t, env, s.admin, "/v1/catalog/parts", map[string]any{"part_number": "P60-LCD", "name": "屏幕总成",
		"category": "screen", "price": cnyBody(120000), "compatible_model_ids": []string{s.phone}})
	createdID(t, env, s.admin, "/v1/catalog/price-lists", map[string]any{"effective_from": shanghaiToday(0),
		"default_visit_fee": cnyBody(0),
		"labor":             []map[string]any{{"category": "phone", "service_kind": "repair", "amount": cnyBody(8000)}}})
	s.plan = createdID(t, env, s.admin, "/v1/coverage-plans", map[string]any{"code": "ADP-1Y", "name": "碎屏意外保",
		"kind": "accidental_damage", "eligible_categories": []string{"phone"}, "duration_months": 12,
		"discount_percent": 50, "price": cnyBody(19900),
		"depreciation_schedule": []map[string]any{{"up_to_month": 6, "percent": 20}, {"up_to_month": 12, "percent": 40}}})
	s.shopA = env.StorefrontKey(t, s.admin, env.Storefront(t, s.admin, "SHOP-A"))
	s.shopB = env.StorefrontKey(t, s.admin, env.Storefront(t, s.admin, "SHOP-B"))
	return s
}

// sell registers a phone bought daysAgo days ago through the storefront key,
// with the accidental-damage plan sold at the purchase, and returns the
// unit's and the contract's ids.
func (s phoneShop) sell(t *testing.T, env *apitest.Env, shop, serial string, daysAgo int) (unit, contract string) {
	t.Helper()
	purchase := shanghaiToday(-daysAgo)
	unit = createdID(t, env, shop, "/v1/units", map[string]any{"model_id": s.phone, "serial": serial,
		"customer":      map[string]any{"name": "赵六", "phones": []string{"+86 138 0000 " + serial[len(serial)-4:]}},
		"purchase_date": purchase, "purchase_price": cnyBody(499900), "invoice_number": "FP-" + serial})
	contract = createdID(t, env, shop, "/v1/contracts", map[string]any{"unit_id": unit, "plan_id": s.plan,
		"sold_on": purchase, "external_reference": "TM-" + serial})
	return unit, contract
}

func decide(t *testing.T, env *apitest.Env, key string, body map[string]any) *apitest.Response {
	t.Helper()
	return env.Do(t, http.MethodPost, "/v1/entitlements/decide", key, body)
}

func amountOf(m any) int64 { return int64(m.(map[string]any)["amount"].(float64)) }

func TestDecideEntitlement(t *testing.T) {
	t.Parallel()
	env := apitest.New(t)
	s := newPhoneShop(t, env, "decide")
	unit, contract := s.sell(t, env, s.shopA, "SN-P60-0001", 39) // today is day 40
	screenRepair := map[string]any{"service_kind": "repair", "parts": []map[string]any{{"part_id": s.screen, "quantity": 1}}}
	dropped := map[string]any{"cause": "accidental_damage", "part_categories": []string{"screen"}}

	t.Run("DroppedPhoneOnDay40IsAtLeastHalfOff", func(t *testing.T) {
		r := decide(t, env, s.shopA, map[string]any{"unit_id": unit, "fault": dropped, "work": screenRepair})
		require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
		m := r.JSON(t)
		require.Equal(t, float64(40), m["day"])
		require.Equal(t, shanghaiToday(0), m["on"])
		require.Equal(t, float64(1), m["price_list_version"])
		d := m["decision"].(map[string]any)
		require.Equal(t, "accidental_damage", d["basis"])
		require.Equal(t, contract, d["contract_id"])
		require.Equal(t, "repair", d["remedy"])
		totals := d["totals"].(map[string]any)
		list, customer := amountOf(totals["list"]), amountOf(totals["customer"])
		require.Equal(t, int64(128000), list, "screen 1,200 + labor 80")
		// Rule 5, the plan's discount_percent 50 (the seed: at least 50% off):
		// the customer pays half of 1,280.00 = 640.00, the plan the other
		// 640.00, the brand nothing.
		require.Equal(t, int64(64000), customer, "at least 50 %% off: %s", r.Body)
		require.Equal(t, int64(64000), amountOf(totals["plan"]), "%s", r.Body)
		require.Equal(t, int64(0), amountOf(totals["brand"]), "%s", r.Body)
		trace := d["trace"].([]any)
		require.NotEmpty(t, trace)
		var applied, refused []string
		for _, e := range trace {
			e := e.(map[string]any)
			if e["applied"].(bool) {
				applied = append(applied, e["rule"].(string)+": "+e["reason"].(string))
			} else {
				refused = append(refused, e["rule"].(string))
			}
		}
		require.NotEmpty(t, refused, "the trace says why other rules did not apply")
		require.Contains(t, strings.Join(applied, "\n"), "accidental", "the trace names the plan's rule")
	})

	t.Run("BeforeDay31ThePlanHasNotStarted", func(t *testing.T) {
		// The price list starts today: price the work now, decide for day 30.
		r := env.Do(t, http.MethodPost, "/v1/catalog/quotes", s.admin, map[string]any{"model_id": s.phone, "service_kind": "repair",
			"parts": []map[string]any{{"part_id": s.screen, "quantity": 1}}})
		require.Equal(t, http.StatusCreated, r.Status, "%s", r.Body)
		r = decide(t, env, s.admin, map[string]any{"unit_id": unit, "fault": dropped, "quote_id": r.JSON(t)["id"],
			"on": shanghaiToday(-10)}) // day 30
		require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
		m := r.JSON(t)
		require.Equal(t, float64(30), m["day"])
		d := m["decision"].(map[string]any)
		require.NotEqual(t, "accidental_damage", d["basis"])
		totals := d["totals"].(map[string]any)
		// Day 30: the plan starts on day 31 (rule 5), and accidental damage
		// is no warranty fault: the customer pays the price list, screen
		// 1,200.00 + labour 80.00 = 1,280.00.
		require.Equal(t, int64(128000), amountOf(totals["list"]), "%s", r.Body)
		require.Equal(t, int64(128000), amountOf(totals["customer"]), "accidental damage outside a plan is the customer's: %s", r.Body)
		require.Equal(t, int64(0), amountOf(totals["plan"]), "%s", r.Body)
		require.Equal(t, int64(0), amountOf(totals["brand"]), "%s", r.Body)
	})

	t.Run("HumanDamageIsNeverFreeEvenInsideThePlan", func(t *testing.T) {
		r := decide(t, env, s.shopA, map[string]any{"unit_id": unit, "fault": map[string]any{"cause": "human_damage",
			"part_categories": []string{"screen"}}, "work": screenRepair})
		require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
		totals := r.JSON(t)["decision"].(map[string]any)["totals"].(map[string]any)
		// Rule 1: damage by the user is never free, plan or not: the
		// customer pays screen 1,200.00 + labour 80.00 = 1,280.00.
		require.Equal(t, int64(128000), amountOf(totals["list"]), "%s", r.Body)
		require.Equal(t, int64(128000), amountOf(totals["customer"]), "%s", r.Body)
		require.Equal(t, int64(0), amountOf(totals["plan"]), "%s", r.Body)
		require.Equal(t, int64(0), amountOf(totals["brand"]), "%s", r.Body)
	})

	t.Run("TheLowerWarrantyCardChargeApplies", func(t *testing.T) {
		// Rule 2 (seed: 如果收费标准与用户保修证标准不符，要以二者中最低收费标准为准):
		// the human-damage repair is charged, the price list says 1,280.00,
		// the customer's warranty card 1,000.00: the customer pays 1,000.00
		// and the brand bears the 280.00 difference.
		r := decide(t, env, s.shopA, map[string]any{"unit_id": unit, "fault": map[string]any{"cause": "human_damage",
			"part_categories": []string{"screen"}}, "work": screenRepair, "warranty_card_charge": cnyBody(100000)})
		require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
		totals := r.JSON(t)["decision"].(map[string]any)["totals"].(map[string]any)
		require.Equal(t, int64(128000), amountOf(totals["list"]), "%s", r.Body)
		require.Equal(t, int64(100000), amountOf(totals["customer"]), "%s", r.Body)
		require.Equal(t, int64(28000), amountOf(totals["brand"]), "%s", r.Body)
		require.Equal(t, int64(0), amountOf(totals["plan"]), "%s", r.Body)
		// A card charging more than the price list changes nothing.
		r = decide(t, env, s.shopA, map[string]any{"unit_id": unit, "fault": map[string]any{"cause": "human_damage",
			"part_categories": []string{"screen"}}, "work": screenRepair, "warranty_card_charge": cnyBody(150000)})
		require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
		totals = r.JSON(t)["decision"].(map[string]any)["totals"].(map[string]any)
		require.Equal(t, int64(128000), amountOf(totals["customer"]), "%s", r.Body)
		require.Equal(t, int64(0), amountOf(totals["brand"]), "%s", r.Body)
	})

	t.Run("AStoredQuoteKeepsItsPriceListVersion", func(t *testing.T) {
		r := env.Do(t, http.MethodPost, "/v1/catalog/quotes", s.shopA, map[string]any{"model_id": s.phone, "service_kind": "repair",
			"parts": []map[string]any{{"part_id": s.screen, "quantity": 1}}})
		require.Equal(t, http.StatusCreated, r.Status, "%s", r.Body)
		quote := r.JSON(t)["id"].(string)
		// A new version from tomorrow does not reprice the stored quote.
		createdID(t, env, s.admin, "/v1/catalog/price-lists", map[string]any{"effective_from": shanghaiToday(1),
			"default_visit_fee": cnyBody(0),
			"labor":             []map[string]any{{"category": "phone", "service_kind": "repair", "amount": cnyBody(50000)}}})
		r = decide(t, env, s.shopA, map[string]any{"unit_id": unit, "fault": dropped, "quote_id": quote})
		require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
		m := r.JSON(t)
		require.Equal(t, quote, m["quote_id"])
		require.Equal(t, float64(1), m["price_list_version"])
		require.Equal(t, int64(128000), amountOf(m["decision"].(map[string]any)["totals"].(map[string]any)["list"]))
	})

	t.Run("AnotherStorefrontSeesNothing", func(t *testing.T) {
		for _, path := range []string{"/v1/units/" + unit, "/v1/contracts/" + contract, "/v1/units/" + unit + "/history"} {
			r := env.Do(t, http.MethodGet, path, s.shopB, nil)
			require.Equal(t, http.StatusNotFound, r.Status, "%s: %s", path, r.Body)
		}
		r := decide(t, env, s.shopB, map[string]any{"unit_id": unit, "fault": dropped, "work": screenRepair})
		require.Equal(t, http.StatusNotFound, r.Status, "%s", r.Body)
		require.NotContains(t, string(r.Body), "SN-P60")
		for _, path := range []string{"/v1/units", "/v1/contracts"} {
			require.Empty(t, listIDs(t, env, s.shopB, path), path)
		}
		require.Equal(t, []string{unit}, listIDs(t, env, s.shopA, "/v1/units"))
		require.Equal(t, []string{contract}, listIDs(t, env, s.shopA, "/v1/contracts"))
	})

	t.Run("BadInputNamesTheField", func(t *testing.T) {
		usd := map[string]any{"amount": 100, "currency": "USD"}
		for _, c := range []struct {
			name  string
			body  map[string]any
			where string
		}{
			{"FutureDate", map[string]any{"unit_id": unit, "fault": dropped, "on": shanghaiToday(1)}, "body.on"},
			{"BeforePurchase", map[string]any{"unit_id": unit, "fault": dropped, "on": shanghaiToday(-60)}, "body.on"},
			{"UnknownCause", map[string]any{"unit_id": unit, "fault": map[string]any{"cause": "gremlins"}}, "body.fault.cause"},
			{"CardChargeInAnotherCurrency", map[string]any{"unit_id": unit, "fault": dropped, "warranty_card_charge": usd}, "body.warranty_card_charge.currency"},
			{"NegativeCardCharge", map[string]any{"unit_id": unit, "fault": dropped, "warranty_card_charge": cnyBody(-1)}, "body.warranty_card_charge.amount"},
			{"FractionalCardCharge", map[string]any{"unit_id": unit, "fault": dropped, "warranty_card_charge": map[string]any{"amount": 1.5, "currency": "CNY"}}, "body.warranty_card_charge.amount"},
			{"QuoteAndWork", map[string]any{"unit_id": unit, "fault": dropped, "work": screenRepair, "quote_id": "quo_00000000000000000000000000"}, "body.work"},
			{"UnknownQuote", map[string]any{"unit_id": unit, "fault": dropped, "quote_id": "quo_00000000000000000000000000"}, "body.quote_id"},
			{"UnknownPart", map[string]any{"unit_id": unit, "fault": dropped, "work": map[string]any{"service_kind": "repair",
				"parts": []map[string]any{{"part_id": "prt_00000000000000000000000000", "quantity": 1}}}}, "body.work.parts[0].part_id"},
			{"NoLaborRate", map[string]any{"unit_id": unit, "fault": dropped, "work": map[string]any{"service_kind": "install"}}, "body.work.service_kind"},
		} {
			r := decide(t, env, s.shopA, c.body)
			require.Contains(t, problemLocations(t, r, http.StatusUnprocessableEntity), c.where, "%s: %s", c.name, r.Body)
		}
		r := decide(t, env, s.shopA, map[string]any{"unit_id": "unt_00000000000000000000000000", "fault": dropped})
		require.Equal(t, http.StatusNotFound, r.Status, "%s", r.Body)
	})
}

// The seven-day no-reason return is for storefront sales in resaleable
// condition, at the buyer's freight.
func TestDecideSevenDayReturn(t *testing.T) {
	t.Parallel()
	env := apitest.New(t)
	s := newPhoneShop(t, env, "returns")
	unit, _ := s.sell(t, env, s.shopA, "SN-P60-0002", 5) // day 6
	r := decide(t, env, s.shopA, map[string]any{"unit_id": unit, "requested_remedy": "return",
		"fault": map[string]any{"cause": "performance", "change_of_mind": true, "resaleable": true}})
	require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
	d := r.JSON(t)["decision"].(map[string]any)
	require.Equal(t, "return", d["remedy"], "%s", r.Body)
	require.Equal(t, "buyer", d["freight"].(map[string]any)["payer"], "%s", r.Body)
}
