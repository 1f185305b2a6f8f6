package api_test

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/servicenet/servicenet/internal/apitest"
	"github.com/servicenet/servicenet/internal/pg"
	"github.com/servicenet/servicenet/tenants"
)

var (
	// Plans are catalog: everyone reads them, the brand (and its integrator) writes.
	coveragePlanReaders = allRoles
	coveragePlanWriters = []string{"tenant_admin", "integrator"}
	contractReaders     = []string{"tenant_admin", "integrator", "agent", "storefront", "dispatcher", "node_manager", "technician", "auditor"}
	contractWriters     = []string{"tenant_admin", "integrator", "agent", "storefront"}
)

func init() {
	wantMatrix["createCoveragePlan"] = coveragePlanWriters
	wantMatrix["listCoveragePlans"] = coveragePlanReaders
	wantMatrix["getCoveragePlan"] = coveragePlanReaders
	wantMatrix["updateCoveragePlan"] = coveragePlanWriters
	wantMatrix["createContract"] = contractWriters
	wantMatrix["listContracts"] = contractReaders
	wantMatrix["getContract"] = contractReaders
	wantMatrix["listContractStateChanges"] = contractReaders
	wantMatrix["cancelContract"] = contractWriters
	dummyParams["plan_id"] = "pln_00000000000000000000000000"
	dummyParams["contract_id"] = "ctr_00000000000000000000000000"
}

// shanghaiToday is today in the test tenants' zone, offset by days.
func shanghaiToday(days int) string {
	loc, err := time.LoadLocation("Asia/Shanghai")
	if err != nil {
		panic(err)
	}
	n := time.Now().In(loc)
	return time.Date(n.Year(), n.Month(), n.Day(), 0, 0, 0, 0, time.UTC).AddDate(0, 0, days).Format(time.DateOnly)
}

// contractUnit writes a product model of category (warrantyMonths of
// manufacturer warranty), a customer and a unit bought on purchase (sold by
// storefrontID unless empty), directly as the owner in the tenant's RLS
// scope: the catalog and customer APIs are not this test's.
func contractUnit(t *testing.T, env *apitest.Env, tenantID, category string, warrantyMonths int, purchase, storefrontID string) string {
	t.Helper()
	return contractUnitIn(context.Background(), t, env, tenantID, category, warrantyMonths, purchase, storefrontID)
}

// contractUnitIn is contractUnit in ctx's mode (pg.WithLivemode).
func contractUnitIn(ctx context.Context, t *testing.T, env *apitest.Env, tenantID, category string, warrantyMonths int, purchase, storefrontID string) string {
	t.Helper()
	id := tenants.NewID(tenants.PrefixUnit)
	require.NoError(t, pg.InTenantTx(ctx, env.DB.Owner, tenantID, func(tx pg.TenantTx) error {
		model, customer := tenants.NewID(tenants.PrefixProductModel), tenants.NewID(tenants.PrefixCustomer)
		if _, err := tx.Exec(ctx, `INSERT INTO product_models (tenant_id, id, model_number, category, name, retail_price, currency, warranty_months)
			VALUES ($1, $2, $2, $3, 'Model', 299900, 'CNY', $4)`, tx.TenantID, model, category, warrantyMonths); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `INSERT INTO customers (tenant_id, id, name, phones) VALUES ($1, $2, '王五', ARRAY['+8613700000000'])`,
			tx.TenantID, customer); err != nil {
			return err
		}
		channel, sf := "brand_store", (*string)(nil)
		if storefrontID != "" {
			channel, sf = "storefront", &storefrontID
		}
		_, err := tx.Exec(ctx, `INSERT INTO units (tenant_id, id, model_id, serial, customer_id, purchase_date, channel, storefront_id, purchase_price, currency, created_by)
			VALUES ($1, $2, $3, $2::text, $4, $5::date, $6, $7, 299900, 'CNY', 'test')`, tx.TenantID, id, model, customer, purchase, channel, sf)
		return err
	}))
	return id
}

// contractEventCount counts the tenant's contract.* events in the database.
func contractEventCount(t *testing.T, env *apitest.Env, tenantID string) int {
	t.Helper()
	ctx := context.Background()
	var n int
	require.NoError(t, pg.InTenantTx(ctx, env.DB.Owner, tenantID, func(tx pg.TenantTx) error {
		return tx.QueryRow(ctx, `SELECT count(*) FROM events WHERE tenant_id = $1 AND type LIKE 'contract.%'`, tx.TenantID).Scan(&n)
	}))
	return n
}

// storefrontKey issues a storefront key bound to storefrontID.
func money(amount any) map[string]any { return map[string]any{"amount": amount, "currency": "CNY"} }

func planBodies() map[string]map[string]any {
	return map[string]map[string]any{
		"ext": {"code": "EXT-2Y", "name": "两年延保", "kind": "extended_warranty", "eligible_categories": []string{"washer", "tv"},
			"duration_months": 24, "price": money(19900)},
		"adp": {"code": "ADP-1Y", "name": "摔碰也管修", "kind": "accidental_damage", "eligible_categories": []string{"phone", "laptop", "camera"},
			"duration_months": 12, "discount_percent": 50, "price": money(9900),
			"depreciation_schedule": []map[string]any{{"up_to_month": 6, "percent": 20}, {"up_to_month": 12, "percent": 40}}},
		"swapK": {"code": "SWAP-K", "name": "以换代修（厨房）", "kind": "swap_for_repair", "eligible_categories": []string{"kitchen", "small_appliance"},
			"duration_months": 12, "flat_fee": money(3000), "price": money(2900)},
		"swapT": {"code": "SWAP-T", "name": "以换代修（平板）", "kind": "swap_for_repair", "eligible_categories": []string{"tablet"},
			"duration_months": 12, "depreciation_cap_percent": 39, "price": money(4900)},
		"nrr": {"code": "NRR-1Y", "name": "无理由保修", "kind": "no_reason_repair", "eligible_categories": []string{"refrigerator", "air_conditioner", "washer", "tv"},
			"duration_months": 12, "discount_percent": 80, "compensation": money(10000), "payout_business_days": 5, "price": money(5900),
			"depreciation_schedule": []map[string]any{{"up_to_month": 6, "percent": 5}, {"up_to_month": 12, "percent": 10}}},
	}
}

func with(b map[string]any, kv ...any) map[string]any {
	out := map[string]any{}
	for k, v := range b {
		out[k] = v
	}
	for i := 0; i+1 < len(kv); i += 2 {
		if kv[i+1] == nil {
			delete(out, kv[i].(string))
			continue
		}
		out[kv[i].(string)] = kv[i+1]
	}
	return out
}

func ids(t *testing.T, r *apitest.Response) []string {
	t.Helper()
	require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
	out := []string{}
	for _, d := range r.JSON(t)["data"].([]any) {
		out = append(out, d.(map[string]any)["id"].(string))
	}
	return out
}

func TestCoveragePlans(t *testing.T) {
	t.Parallel()
	env := apitest.Shared(t)
	ten := env.CreateTenant(t, "coverage-plans")
	admin := ten.AdminKey
	bodies := planBodies()
	created := map[string]map[string]any{}
	for _, k := range []string{"ext", "adp", "swapK", "swapT", "nrr"} {
		r := env.Do(t, http.MethodPost, "/v1/coverage-plans", admin, bodies[k])
		require.Equal(t, http.StatusCreated, r.Status, "%s: %s", k, r.Body)
		created[k] = r.JSON(t)
		require.Equal(t, "/v1/coverage-plans/"+created[k]["id"].(string), r.Header.Get("Location"))
		require.Equal(t, `"v1"`, r.Header.Get("ETag"))
	}
	ext, adp, swapT, nrr := created["ext"], created["adp"], created["swapT"], created["nrr"]
	require.Regexp(t, `^pln_[0-9a-z]{26}$`, ext["id"])
	require.Equal(t, true, ext["starts_after_manufacturer_warranty"])
	require.Nil(t, ext["start_offset_days"])
	require.Nil(t, ext["sale_window_days"], "sold through the manufacturer warranty")
	require.Equal(t, true, ext["environmental_faults_free"])
	require.Equal(t, true, ext["no_visit_fee_large_appliances"])
	require.Equal(t, []any{"force_majeure", "human_damage"}, ext["exclusions"], "always excluded")
	require.Equal(t, float64(30), adp["start_offset_days"], "day 31")
	require.Equal(t, float64(30), adp["sale_window_days"])
	require.Equal(t, false, adp["environmental_faults_free"])
	require.Equal(t, float64(1), swapT["start_offset_days"], "tablets: the next day")
	require.Equal(t, float64(1), nrr["start_offset_days"])
	require.Equal(t, money(float64(10000)), nrr["compensation"])
	require.Equal(t, "active", nrr["status"])

	t.Run("ValidationPerKind", func(t *testing.T) {
		cases := []struct {
			name string
			body map[string]any
			want []string
		}{
			{"AccidentalDamageTerms", with(bodies["adp"], "code", "X1", "discount_percent", 40, "eligible_categories", []string{"phone", "washer"}),
				[]string{"body.eligible_categories", "body.discount_percent"}},
			{"ExtendedFourYears", with(bodies["ext"], "code", "X2", "duration_months", 48), []string{"body.duration_months"}},
			{"ExtendedWithStartOffset", with(bodies["ext"], "code", "X3", "start_offset_days", 30), []string{"body.start_offset_days"}},
			{"TabletCapOver39", with(bodies["swapT"], "code", "X4", "depreciation_cap_percent", 40), []string{"body.depreciation_cap_percent"}},
			{"KitchenSwapWithoutFee", with(bodies["swapK"], "code", "X5", "flat_fee", nil), []string{"body.flat_fee"}},
			{"KitchenSwapFeeAbove30", with(bodies["swapK"], "code", "X5B", "flat_fee", money(3001)), []string{"body.flat_fee.amount"}},
			{"NoReasonWithoutCompensation", with(bodies["nrr"], "code", "X6", "compensation", nil), []string{"body.compensation"}},
			{"NegativePrice", with(bodies["adp"], "code", "X7", "price", money(-1)), []string{"body.price.amount"}},
			{"NonIntegerPrice", with(bodies["adp"], "code", "X8", "price", money(99.5)), []string{"body.price.amount"}},
			{"ForeignCurrency", with(bodies["adp"], "code", "X9", "price", map[string]any{"amount": 100, "currency": "USD"}), []string{"body.price.currency"}},
			{"ExcludesWhatItCovers", with(bodies["adp"], "code", "X10", "exclusions", []string{"accidental_damage"}), []string{"body.exclusions[0]"}},
			// Rules 5 and 7 swap for a depreciation fee: no schedule, no plan.
			{"AccidentalWithoutDepreciationSchedule", with(bodies["adp"], "code", "X11", "depreciation_schedule", nil), []string{"body.depreciation_schedule"}},
			{"NoReasonWithoutDepreciationSchedule", with(bodies["nrr"], "code", "X12", "depreciation_schedule", nil), []string{"body.depreciation_schedule"}},
			{"ScheduleFalling", with(bodies["nrr"], "code", "X13", "depreciation_schedule", []map[string]any{{"up_to_month": 6, "percent": 10}, {"up_to_month": 12, "percent": 5}}),
				[]string{"body.depreciation_schedule[1].percent"}},
			{"KitchenSwapWithSchedule", with(bodies["swapK"], "code", "X14", "depreciation_schedule", []map[string]any{{"up_to_month": 12, "percent": 10}}),
				[]string{"body.depreciation_schedule"}},
			// The terms a kind fixes are the plan's output, not inputs (they
			// could only repeat the kind's value or be refused).
			{"ExtendedEnvironmentalFaultsIsNoInput", with(bodies["ext"], "code", "X15", "environmental_faults_free", false), []string{"body.environmental_faults_free"}},
			{"AccidentalStartsAfterWarrantyIsNoInput", with(bodies["adp"], "code", "X16", "starts_after_manufacturer_warranty", true), []string{"body.starts_after_manufacturer_warranty"}},
			{"ExtendedNoVisitFeeIsNoInput", with(bodies["ext"], "code", "X17", "no_visit_fee_large_appliances", true), []string{"body.no_visit_fee_large_appliances"}},
		}
		for _, c := range cases {
			locs := problemLocations(t, env.Do(t, http.MethodPost, "/v1/coverage-plans", admin, c.body), http.StatusUnprocessableEntity)
			require.Equal(t, c.want, locs, c.name)
		}
		r := env.Do(t, http.MethodPost, "/v1/coverage-plans", admin, bodies["adp"])
		require.Equal(t, http.StatusConflict, r.Status, "duplicate code: %s", r.Body)
		require.Len(t, ids(t, env.Do(t, http.MethodGet, "/v1/coverage-plans", admin, nil)), 5, "nothing refused was stored")
	})

	t.Run("ListFilters", func(t *testing.T) {
		id := func(k string) string { return created[k]["id"].(string) }
		cases := []struct {
			query string
			want  []string
		}{
			{"", []string{id("ext"), id("adp"), id("swapK"), id("swapT"), id("nrr")}},
			{"?kind=swap_for_repair", []string{id("swapK"), id("swapT")}},
			{"?category=washer", []string{id("ext"), id("nrr")}},
			{"?category=tablet&kind=swap_for_repair", []string{id("swapT")}},
			{"?status=retired", []string{}},
		}
		for _, c := range cases {
			require.Equal(t, c.want, ids(t, env.Do(t, http.MethodGet, "/v1/coverage-plans"+c.query, admin, nil)), c.query)
		}
		r := env.Do(t, http.MethodGet, "/v1/coverage-plans?limit=2", admin, nil)
		require.Len(t, ids(t, r), 2)
		next := r.JSON(t)["next_cursor"].(string)
		require.Equal(t, []string{id("swapK"), id("swapT")}, ids(t, env.Do(t, http.MethodGet, "/v1/coverage-plans?limit=2&cursor="+next, admin, nil)))
		sf := env.StorefrontKey(t, admin, env.Storefront(t, admin, "SF-PLANS"))
		require.Len(t, ids(t, env.Do(t, http.MethodGet, "/v1/coverage-plans", sf, nil)), 5, "storefronts read the plans they sell")
	})

	t.Run("GetAndUpdate", func(t *testing.T) {
		path := "/v1/coverage-plans/" + adp["id"].(string)
		r := env.Do(t, http.MethodGet, path, admin, nil)
		require.Equal(t, http.StatusOK, r.Status)
		require.Equal(t, adp, r.JSON(t))
		require.Equal(t, http.StatusNotFound, env.Do(t, http.MethodGet, "/v1/coverage-plans/pln_00000000000000000000000000", admin, nil).Status)
		require.Equal(t, http.StatusNotFound, env.Do(t, http.MethodGet, "/v1/coverage-plans/nonsense", admin, nil).Status)

		r = env.Do(t, http.MethodPatch, path, admin, map[string]any{"discount_percent": 60, "name": "摔碰也管修 Pro"}, `If-Match: "v1"`)
		require.Equal(t, http.StatusOK, r.Status, "terms change freely before any contract: %s", r.Body)
		require.Equal(t, `"v2"`, r.Header.Get("ETag"))
		require.Equal(t, float64(60), r.JSON(t)["discount_percent"])
		r = env.Do(t, http.MethodPatch, path, admin, map[string]any{"name": "stale"}, `If-Match: "v1"`)
		require.Equal(t, http.StatusPreconditionFailed, r.Status, "%s", r.Body)
		locs := problemLocations(t, env.Do(t, http.MethodPatch, path, admin, map[string]any{"discount_percent": 30}), http.StatusUnprocessableEntity)
		require.Equal(t, []string{"body.discount_percent"}, locs)
		locs = problemLocations(t, env.Do(t, http.MethodPatch, path, admin, map[string]any{"depreciation_schedule": []any{}}), http.StatusUnprocessableEntity)
		require.Equal(t, []string{"body.depreciation_schedule"}, locs, "an accidental-damage plan keeps a depreciation schedule")
		r = env.Do(t, http.MethodGet, path, admin, nil)
		require.Equal(t, `"v2"`, r.Header.Get("ETag"), "nothing changed")
		require.Len(t, r.JSON(t)["depreciation_schedule"], 2)

		// Once sold, the terms are fixed; name, price and status are not.
		unit := contractUnit(t, env, ten.ID, "phone", 12, shanghaiToday(-5), "")
		r = env.Do(t, http.MethodPost, "/v1/contracts", admin, map[string]any{"unit_id": unit, "plan_id": adp["id"]})
		require.Equal(t, http.StatusCreated, r.Status, "%s", r.Body)
		r = env.Do(t, http.MethodPatch, path, admin, map[string]any{"discount_percent": 70})
		require.Equal(t, http.StatusConflict, r.Status, "%s", r.Body)
		require.Equal(t, []string{"body.discount_percent"}, problemLocations(t, r, http.StatusConflict))
		r = env.Do(t, http.MethodPatch, path, admin, map[string]any{"status": "retired", "price": money(12900)}, `If-Match: "v2"`)
		require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
		require.Equal(t, "retired", r.JSON(t)["status"])
		require.Equal(t, []string{adp["id"].(string)}, ids(t, env.Do(t, http.MethodGet, "/v1/coverage-plans?status=retired", admin, nil)))

		other := contractUnit(t, env, ten.ID, "phone", 12, shanghaiToday(-5), "")
		locs = problemLocations(t, env.Do(t, http.MethodPost, "/v1/contracts", admin, map[string]any{"unit_id": other, "plan_id": adp["id"]}),
			http.StatusUnprocessableEntity)
		require.Equal(t, []string{"body.plan_id"}, locs, "a retired plan is not sold")
	})
}

func TestContracts(t *testing.T) {
	t.Parallel()
	env := apitest.Shared(t)
	ten := env.CreateTenant(t, "contracts")
	admin := ten.AdminKey
	plans, err := env.Warranty.SeedDemoPlans(context.Background(), tenants.Principal{TenantID: ten.ID, KeyID: ten.AdminID})
	require.NoError(t, err)
	sfA, sfB := env.Storefront(t, admin, "SF-A"), env.Storefront(t, admin, "SF-B")
	keyA, keyB := env.StorefrontKey(t, admin, sfA), env.StorefrontKey(t, admin, sfB)

	// Phones bought 10 days ago: accidental damage from day 31, in 20 days.
	uA := contractUnit(t, env, ten.ID, "phone", 12, shanghaiToday(-10), sfA)
	uA2 := contractUnit(t, env, ten.ID, "laptop", 12, shanghaiToday(-10), sfA)
	uB := contractUnit(t, env, ten.ID, "phone", 12, shanghaiToday(-10), sfB)
	washer := contractUnit(t, env, ten.ID, "washer", 12, shanghaiToday(-3), "")

	sell := func(key string, body map[string]any) *apitest.Response {
		return env.Do(t, http.MethodPost, "/v1/contracts", key, body)
	}
	r := sell(keyA, map[string]any{"unit_id": uA, "plan_id": plans["accidental_damage"], "external_reference": "TM-0001"})
	require.Equal(t, http.StatusCreated, r.Status, "%s", r.Body)
	cA := r.JSON(t)
	require.Regexp(t, `^ctr_[0-9a-z]{26}$`, cA["id"])
	require.Equal(t, "/v1/contracts/"+cA["id"].(string), r.Header.Get("Location"))
	require.Equal(t, sfA, cA["storefront_id"], "a storefront key sells as its storefront")
	require.Equal(t, "pending", cA["state"])
	require.Equal(t, shanghaiToday(0), cA["sold_on"], "sold today by default")
	require.Equal(t, shanghaiToday(20), cA["starts_on"], "day 31 after the purchase")
	require.Equal(t, money(float64(9900)), cA["price"], "the plan's price by default")
	require.Equal(t, "accidental_damage", cA["plan"].(map[string]any)["kind"])
	ctrA := cA["id"].(string)

	r = sell(keyB, map[string]any{"unit_id": uB, "plan_id": plans["accidental_damage"], "external_reference": "TM-0001", "price": money(8800)})
	require.Equal(t, http.StatusCreated, r.Status, "another seller may use the same reference: %s", r.Body)
	ctrB := r.JSON(t)["id"].(string)
	require.Equal(t, money(float64(8800)), r.JSON(t)["price"])

	r = sell(admin, map[string]any{"unit_id": washer, "plan_id": plans["no_reason_repair"], "sold_on": shanghaiToday(-1)})
	require.Equal(t, http.StatusCreated, r.Status, "%s", r.Body)
	brand := r.JSON(t)
	require.Nil(t, brand["storefront_id"], "sold by the brand")
	require.Equal(t, "active", brand["state"], "from the next day after the purchase")
	ctrBrand := brand["id"].(string)

	t.Run("StorefrontScope", func(t *testing.T) {
		r := sell(keyA, map[string]any{"unit_id": uB, "plan_id": plans["accidental_damage"]})
		require.Equal(t, http.StatusNotFound, r.Status, "A cannot sell for B's unit: %s", r.Body)
		require.NotContains(t, string(r.Body), sfB)
		r = sell(keyA, map[string]any{"unit_id": washer, "plan_id": plans["extended_warranty"]})
		require.Equal(t, http.StatusNotFound, r.Status, "nor for the brand's: %s", r.Body)
		r = sell(keyA, map[string]any{"unit_id": uA2, "plan_id": plans["accidental_damage"], "storefront_id": sfB})
		require.Equal(t, []string{"body.storefront_id"}, problemLocations(t, r, http.StatusUnprocessableEntity))

		require.Equal(t, http.StatusNotFound, env.Do(t, http.MethodGet, "/v1/contracts/"+ctrB, keyA, nil).Status)
		require.Equal(t, http.StatusNotFound, env.Do(t, http.MethodGet, "/v1/contracts/"+ctrBrand, keyA, nil).Status)
		require.Equal(t, http.StatusNotFound, env.Do(t, http.MethodGet, "/v1/contracts/"+ctrB+"/state-changes", keyA, nil).Status)
		require.Equal(t, http.StatusNotFound, env.Do(t, http.MethodPost, "/v1/contracts/"+ctrB+"/cancel", keyA, map[string]any{"reason": "probe"}).Status)
		require.Equal(t, http.StatusOK, env.Do(t, http.MethodGet, "/v1/contracts/"+ctrA, keyA, nil).Status)

		require.Equal(t, []string{ctrA}, ids(t, env.Do(t, http.MethodGet, "/v1/contracts", keyA, nil)))
		require.Equal(t, []string{ctrB}, ids(t, env.Do(t, http.MethodGet, "/v1/contracts", keyB, nil)))
		require.Equal(t, []string{}, ids(t, env.Do(t, http.MethodGet, "/v1/contracts?unit_id="+uB, keyA, nil)))
		require.Equal(t, []string{ctrA, ctrB, ctrBrand}, ids(t, env.Do(t, http.MethodGet, "/v1/contracts", admin, nil)))
		require.Equal(t, []string{ctrBrand}, ids(t, env.Do(t, http.MethodGet, "/v1/contracts?state=active", admin, nil)))
		require.Equal(t, []string{ctrA, ctrB}, ids(t, env.Do(t, http.MethodGet, "/v1/contracts?plan_id="+plans["accidental_damage"], admin, nil)))
		require.Equal(t, []string{ctrB}, ids(t, env.Do(t, http.MethodGet, "/v1/contracts?unit_id="+uB, admin, nil)))
	})

	t.Run("Refusals", func(t *testing.T) {
		before := ids(t, env.Do(t, http.MethodGet, "/v1/contracts", admin, nil))
		eventsBefore := contractEventCount(t, env, ten.ID)
		cases := []struct {
			name string
			key  string
			body map[string]any
			want []string
		}{
			{"IneligibleCategory", admin, map[string]any{"unit_id": washer, "plan_id": plans["accidental_damage"]}, []string{"body.plan_id"}},
			{"SoldInTheFuture", keyA, map[string]any{"unit_id": uA2, "plan_id": plans["accidental_damage"], "sold_on": shanghaiToday(1)}, []string{"body.sold_on"}},
			{"SoldBeforePurchase", keyA, map[string]any{"unit_id": uA2, "plan_id": plans["accidental_damage"], "sold_on": shanghaiToday(-11)}, []string{"body.sold_on"}},
			{"NegativePrice", keyA, map[string]any{"unit_id": uA2, "plan_id": plans["accidental_damage"], "price": money(-100)}, []string{"body.price.amount"}},
			{"NonIntegerPrice", keyA, map[string]any{"unit_id": uA2, "plan_id": plans["accidental_damage"], "price": money(1.5)}, []string{"body.price.amount"}},
			{"ForeignCurrency", keyA, map[string]any{"unit_id": uA2, "plan_id": plans["accidental_damage"], "price": map[string]any{"amount": 100, "currency": "EUR"}}, []string{"body.price.currency"}},
			{"UnknownUnitAndPlan", admin, map[string]any{"unit_id": "unt_00000000000000000000000000", "plan_id": "pln_00000000000000000000000000"}, []string{"body.unit_id", "body.plan_id"}},
			{"UnknownStorefront", admin, map[string]any{"unit_id": washer, "plan_id": plans["extended_warranty"], "storefront_id": "sfr_00000000000000000000000000"}, []string{"body.storefront_id"}},
			{"MalformedDate", admin, map[string]any{"unit_id": washer, "plan_id": plans["extended_warranty"], "sold_on": "2026-02-30x"}, []string{"body.sold_on"}},
		}
		for _, c := range cases {
			require.Equal(t, c.want, problemLocations(t, sell(c.key, c.body), http.StatusUnprocessableEntity), c.name)
		}
		// Nothing changed: no contract, no event.
		require.Equal(t, before, ids(t, env.Do(t, http.MethodGet, "/v1/contracts", admin, nil)))
		require.Equal(t, eventsBefore, contractEventCount(t, env, ten.ID))

		r := sell(keyA, map[string]any{"unit_id": uA2, "plan_id": plans["accidental_damage"], "external_reference": "TM-0001"})
		require.Equal(t, []string{"body.external_reference"}, problemLocations(t, r, http.StatusConflict), "the seller's reference is unique per seller")
		r = sell(admin, map[string]any{"unit_id": uA, "plan_id": plans["accidental_damage"]})
		require.Equal(t, []string{"body.plan_id"}, problemLocations(t, r, http.StatusConflict), "one live contract of a kind per unit")
	})

	t.Run("Cancel", func(t *testing.T) {
		path := "/v1/contracts/" + ctrA + "/cancel"
		r := env.Do(t, http.MethodPost, path, keyA, map[string]any{"reason": "returned"}, `If-Match: "v9"`)
		require.Equal(t, http.StatusPreconditionFailed, r.Status, "%s", r.Body)
		require.Equal(t, []string{"body.reason"}, problemLocations(t, env.Do(t, http.MethodPost, path, keyA, map[string]any{"reason": ""}), http.StatusUnprocessableEntity))
		r = env.Do(t, http.MethodPost, path, keyA, map[string]any{"reason": "customer returned the plan"}, `If-Match: "v1"`)
		require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
		require.Equal(t, "cancelled", r.JSON(t)["state"])
		require.Equal(t, "customer returned the plan", r.JSON(t)["state_reason"])
		require.Equal(t, `"v2"`, r.Header.Get("ETag"))
		r = env.Do(t, http.MethodPost, path, keyA, map[string]any{"reason": "again"})
		require.Equal(t, http.StatusConflict, r.Status, "a cancelled contract stays cancelled: %s", r.Body)

		r = env.Do(t, http.MethodGet, "/v1/contracts/"+ctrA+"/state-changes", keyA, nil)
		require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
		h := r.JSON(t)["data"].([]any)
		require.Len(t, h, 2)
		require.Equal(t, "pending", h[0].(map[string]any)["to_state"])
		require.Equal(t, "cancelled", h[1].(map[string]any)["to_state"])
		require.Equal(t, "pending", h[1].(map[string]any)["from_state"])

		// With the accidental-damage contract cancelled, the unit can get another.
		r = sell(keyA, map[string]any{"unit_id": uA, "plan_id": plans["accidental_damage"]})
		require.Equal(t, http.StatusCreated, r.Status, "%s", r.Body)
	})

	t.Run("EventFeed", func(t *testing.T) {
		// ctrBrand was sold on a past day: a backfilled sale (issue 12 item 16).
		want := []string{"contract.created " + ctrA, "contract.created " + ctrBrand, "contract.backfilled " + ctrBrand,
			"contract.activated " + ctrBrand, "contract.cancelled " + ctrA}
		// The feed shows a transaction's events once every older transaction
		// in the cluster has ended: poll.
		var got []string
		require.Eventually(t, func() bool {
			r := env.Do(t, http.MethodGet, "/v1/events?type=contract.*&limit=200", admin, nil)
			require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
			got = nil
			for _, e := range r.JSON(t)["data"].([]any) {
				m := e.(map[string]any)
				if s := m["subject_id"].(string); s == ctrA || s == ctrBrand {
					got = append(got, m["type"].(string)+" "+s)
				}
			}
			return len(got) >= len(want)
		}, 15*time.Second, 50*time.Millisecond)
		require.Equal(t, want, got)
	})
}

// TestContractsCrossTenant uses tenant A's keys against tenant B's plans and
// contracts: every operation answers 404 (or, for B's IDs named in a body,
// 422 "no such"), leaks nothing and changes nothing, also with the
// application's tenant filter pointed at B (RLS alone).
func TestContractsCrossTenant(t *testing.T) {
	t.Parallel()
	env := apitest.Shared(t)
	a := env.CreateTenant(t, "contracts-a")
	b := env.CreateTenant(t, "contracts-b")
	ctx := context.Background()
	plansA, err := env.Warranty.SeedDemoPlans(ctx, tenants.Principal{TenantID: a.ID, KeyID: a.AdminID})
	require.NoError(t, err)
	plansB, err := env.Warranty.SeedDemoPlans(ctx, tenants.Principal{TenantID: b.ID, KeyID: b.AdminID})
	require.NoError(t, err)
	const secretRef = "B-SECRET-ORDER-42"
	unitB := contractUnit(t, env, b.ID, "washer", 12, shanghaiToday(-3), "")
	contractUnit(t, env, a.ID, "washer", 12, shanghaiToday(-3), "") // A has data of its own
	r := env.Do(t, http.MethodPost, "/v1/contracts", b.AdminKey, map[string]any{"unit_id": unitB, "plan_id": plansB["no_reason_repair"], "external_reference": secretRef})
	require.Equal(t, http.StatusCreated, r.Status, "%s", r.Body)
	ctrB := r.JSON(t)["id"].(string)
	planB := plansB["no_reason_repair"]
	sfA := env.StorefrontKey(t, a.AdminKey, env.Storefront(t, a.AdminKey, "SF-A"))
	leaks := []string{b.ID[4:], ctrB[4:], planB[4:], unitB[4:], secretRef}

	check := func(t *testing.T) {
		for _, key := range []string{a.AdminKey, sfA} {
			for _, c := range []struct {
				method, path string
				body         any
			}{
				{http.MethodGet, "/v1/coverage-plans/" + planB, nil},
				{http.MethodPatch, "/v1/coverage-plans/" + planB, map[string]any{"name": "hijacked"}},
				{http.MethodGet, "/v1/contracts/" + ctrB, nil},
				{http.MethodGet, "/v1/contracts/" + ctrB + "/state-changes", nil},
				{http.MethodPost, "/v1/contracts/" + ctrB + "/cancel", map[string]any{"reason": "cross-tenant probe"}},
			} {
				r := env.Do(t, c.method, c.path, key, c.body)
				if key == sfA && c.method == http.MethodPatch {
					require.Equal(t, http.StatusForbidden, r.Status, "storefronts do not write plans")
					continue
				}
				require.Equal(t, http.StatusNotFound, r.Status, "%s %s: %s", c.method, c.path, r.Body)
				rest := strings.ReplaceAll(string(r.Body), c.path, "")
				for _, l := range leaks {
					require.NotContains(t, rest, l, "%s %s leaked %q", c.method, c.path, l)
				}
			}
			for _, path := range []string{"/v1/coverage-plans", "/v1/contracts", "/v1/contracts?unit_id=" + unitB, "/v1/contracts?plan_id=" + planB} {
				r := env.Do(t, http.MethodGet, path, key, nil)
				require.Equal(t, http.StatusOK, r.Status, "%s: %s", path, r.Body)
				for _, l := range leaks {
					require.NotContains(t, withoutRequestID(t, r), l, "%s leaked %q", path, l)
				}
			}
		}
		// B's IDs in a body name nothing in A.
		r := env.Do(t, http.MethodPost, "/v1/contracts", a.AdminKey, map[string]any{"unit_id": unitB, "plan_id": planB})
		require.Equal(t, []string{"body.unit_id", "body.plan_id"}, problemLocations(t, r, http.StatusUnprocessableEntity))
		r = env.Do(t, http.MethodPost, "/v1/contracts", sfA, map[string]any{"unit_id": unitB, "plan_id": plansA["no_reason_repair"]})
		require.Equal(t, http.StatusNotFound, r.Status, "%s", r.Body)

		// B's objects are untouched.
		r = env.Do(t, http.MethodGet, "/v1/contracts/"+ctrB, b.AdminKey, nil)
		require.Equal(t, http.StatusOK, r.Status)
		require.Equal(t, "active", r.JSON(t)["state"])
		require.Equal(t, float64(1), r.JSON(t)["version"])
		r = env.Do(t, http.MethodGet, "/v1/coverage-plans/"+planB, b.AdminKey, nil)
		require.Equal(t, http.StatusOK, r.Status)
		require.Equal(t, float64(1), r.JSON(t)["version"])
	}
	t.Run("ApplicationFilterAndRLS", check)
	t.Run("RLSAloneWithApplicationFilterPointedAtB", func(t *testing.T) {
		restore := pg.OverrideTenantFilterForTest(a.ID, b.ID)
		defer restore()
		check(t)
	})
}
