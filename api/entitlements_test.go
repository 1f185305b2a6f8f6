package api_test

import (
	"net/http"
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
	return phoneShopOf(t, env, env.CreateTenant(t, slug).AdminKey)
}

// phoneShopOf makes the phone shop with admin, an admin key of a tenant
// (in the key's mode: a test key makes it in test mode).
func phoneShopOf(t *testing.T, env *apitest.Env, admin string) phoneShop {
	t.Helper()
	s := phoneShop{admin: admin}
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
	env := apitest.Shared(t)
	s := newPhoneShop(t, env, "decide")
	unit, contract := s.sell(t, env, s.shopA, "SN-P60-0001", 39) // today is day 40
	screenRepair := map[string]any{"service_kind": "repair", "parts": []map[string]any{{"part_id": s.screen, "quantity": 1}}}
	dropped := map[string]any{"cause": "accidental_damage", "part_categories": []string{"screen"}}

	// The decision's money (rules 1, 2 and 5, quotes' price list versions)
	// is tested without HTTP: tenants/warranty TestRolledBackDecideEntitlement.
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
