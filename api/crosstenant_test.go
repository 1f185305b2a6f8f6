package api_test

import (
	"context"
	"maps"
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/servicenet/servicenet/authz"
	"github.com/servicenet/servicenet/internal/apitest"
	"github.com/servicenet/servicenet/internal/pg"
	"github.com/servicenet/servicenet/tenants"
)

// TestCrossTenantIsolation uses tenant A's admin key against every operation
// that names an object, with tenant B's object IDs: all answer 404 and leak
// nothing. It then points the application's own tenant filter at B (a
// test-only switch) and repeats: row-level security alone must hold.
func TestCrossTenantIsolation(t *testing.T) {
	t.Parallel()
	env := apitest.Shared(t)
	a := env.CreateTenant(t, "tenant-a")
	b := env.CreateTenant(t, "tenant-b")
	aNet := env.CreateNetwork(t, a.AdminKey, "anet") // A has data of its own in every list
	fx := walkVictim(t, env, context.Background(), b.ID, b.AdminKey, b.AdminID, aNet.Root)
	fx.leaks = append(fx.leaks, b.ID, "brand tenant-b")

	check := func(t *testing.T) { walkIsolation(t, env, a.AdminKey, b.AdminKey, fx) }
	t.Run("ApplicationFilterAndRLS", check)
	t.Run("RLSAloneWithApplicationFilterPointedAtB", func(t *testing.T) {
		restore := pg.OverrideTenantFilterForTest(a.ID, b.ID)
		defer restore()
		check(t)
		// A's own listing under the broken filter shows nothing of B's either.
		r := env.Do(t, http.MethodGet, "/v1/api-keys", a.AdminKey, nil)
		require.Equal(t, http.StatusOK, r.Status)
		require.NotContains(t, string(r.Body), fx.keyID)
	})
}

// walkFixture is the victim's side of an isolation walk: an object of every
// kind an operation can name, bodies that pass validation so a request
// reaches the object lookup, and the strings that must never appear in a
// response to anyone else.
type walkFixture struct {
	objects    map[string]string
	bodies     map[string]any
	leaks      []string
	keyID      string
	node, tech string
	unit       string
}

// walkVictim makes the victim's objects with key (an admin key of tenantID,
// whose ID is adminID); ctx carries the key's mode for the few objects
// written directly. otherRoot is a node of the attacker's (moveNode's body).
func walkVictim(t *testing.T, env *apitest.Env, ctx context.Context, tenantID, key, adminID, otherRoot string) walkFixture {
	t.Helper()
	const secretName = "b-private-key-name"
	r := env.Do(t, http.MethodPost, "/v1/api-keys", key, map[string]any{"name": secretName, "roles": []string{"dispatcher"}})
	require.Equal(t, http.StatusCreated, r.Status, "%s", r.Body)
	bKeyID := r.JSON(t)["id"].(string)
	bNet := env.CreateNetwork(t, key, "bnet")
	// Bodies that pass validation, so the request reaches the object lookup.
	validBodies := map[string]any{
		"changeNodeStatus":       map[string]any{"status": "suspended", "reason": "cross-tenant probe"},
		"moveNode":               map[string]any{"parent_id": otherRoot},
		"renewTechnicianLicence": map[string]any{"number": "X-1", "issued_on": "2026-01-01", "expires_on": "2031-01-01"},
	}
	const techName = "b-private-technician"
	r = env.Do(t, http.MethodPost, "/v1/network/technicians", key, map[string]any{"external_code": "bnet-T1",
		"node_id": bNet.Point, "name": techName, "phone": "+86 138 0000 0000"})
	require.Equal(t, http.StatusCreated, r.Status, "%s", r.Body)
	bTechID := r.JSON(t)["id"].(string)
	r = env.Do(t, http.MethodPost, "/v1/network/imports", key,
		`{"type":"node","external_code":"bnet-IMP","name":"b-imported-node","tier":"repair_point","parent_code":"bnet-SD"}`+"\n",
		"Content-Type: application/x-ndjson")
	require.Equal(t, http.StatusAccepted, r.Status, "%s", r.Body)
	bImportID := r.JSON(t)["id"].(string)
	bObjects := map[string]string{"key_id": bKeyID, "node_id": bNet.Center, "technician_id": bTechID, "import_id": bImportID}
	// What must never appear in a response to A.
	leaks := []string{secretName, bKeyID[4:], "bnet", bNet.Root[4:], bNet.Center[4:], bNet.Point[4:],
		techName, bTechID[4:], bImportID[4:], "b-imported-node"}
	catObjects, catLeaks := crossTenantCatalog(t, env, key)
	maps.Copy(bObjects, catObjects)
	maps.Copy(bObjects, crossTenantWebhooksIn(ctx, t, env, tenantID, key))
	leaks = append(leaks, "b-private-webhook")
	validBodies["updateWebhookEndpoint"] = map[string]any{"description": "cross-tenant probe"}
	r = env.Do(t, http.MethodPost, "/v1/notification-gateways", key, map[string]any{"url": "https://8.8.8.8/b-private-gateway"})
	require.Equal(t, http.StatusCreated, r.Status, "%s", r.Body)
	bObjects["gateway_id"] = r.JSON(t)["id"].(string)
	leaks = append(leaks, "b-private-gateway", bObjects["gateway_id"][4:])
	validBodies["updateNotificationGateway"] = map[string]any{"description": "cross-tenant probe"}
	r = env.Do(t, http.MethodPut, "/v1/notification-templates/ticket_received/zh-CN", key,
		map[string]any{"text": "b-private-template {ticket_number}"})
	require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
	leaks = append(leaks, "b-private-template")
	// A care policy of B's: the attacker's own (never set) must read as v0.
	r = env.Do(t, http.MethodPut, "/v1/care-policy", key, map[string]any{"enabled": true, "interval_days": 45,
		"categories": []any{map[string]any{"category": "camera", "interval_days": 77, "enabled": true}}}, `If-Match: "v0"`)
	require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
	leaks = append(leaks, catLeaks...)
	bPlans, err := env.Warranty.SeedDemoPlans(ctx, tenants.Principal{TenantID: tenantID, KeyID: adminID, Live: pg.Livemode(ctx)})
	require.NoError(t, err)
	bUnit := contractUnitIn(ctx, t, env, tenantID, "washer", 12, shanghaiToday(-3), "")
	r = env.Do(t, http.MethodPost, "/v1/contracts", key, map[string]any{"unit_id": bUnit, "plan_id": bPlans["no_reason_repair"]})
	require.Equal(t, http.StatusCreated, r.Status, "%s", r.Body)
	bContractID := r.JSON(t)["id"].(string)
	validBodies["cancelContract"] = map[string]any{"reason": "cross-tenant probe"}
	bObjects["plan_id"], bObjects["contract_id"] = bPlans["no_reason_repair"], bContractID
	bObjects["unit_id"], bObjects["storefront_id"] = bUnit, env.Storefront(t, key, "B-SHOP")
	r = env.Do(t, http.MethodPost, "/v1/customers", key, map[string]any{"name": "b-private-customer", "phones": []string{"+86 139 0000 1111"}})
	require.Equal(t, http.StatusCreated, r.Status, "%s", r.Body)
	bObjects["customer_id"] = r.JSON(t)["id"].(string)
	validBodies["recordServiceEvent"] = map[string]any{"kind": "repair", "occurred_on": shanghaiToday(0)}
	validBodies["updateUnit"] = map[string]any{"invoice_number": "X-1"}
	validBodies["updateStorefront"] = map[string]any{"name": "cross-tenant probe"}
	leaks = append(leaks, "b-private-customer", "B-SHOP", bObjects["customer_id"][4:])
	r = env.Do(t, http.MethodPost, "/v1/claims", key, map[string]any{"kind": "warranty", "unit_id": bUnit,
		"reference": "B-CLM-1", "occurred_on": shanghaiToday(0), "fault": map[string]any{"cause": "performance"},
		"lines": []map[string]any{{"kind": "labor", "requested": money(1000)}}})
	require.Equal(t, http.StatusCreated, r.Status, "%s", r.Body)
	bObjects["claim_id"] = r.JSON(t)["id"].(string)
	leaks = append(leaks, bObjects["claim_id"][4:], "B-CLM-1")
	for _, op := range []string{"requestClaimInfo", "rejectClaim", "withdrawClaim", "approveClaim"} {
		validBodies[op] = map[string]any{"reason": "cross-tenant probe"}
	}
	validBodies["markClaimPaid"] = map[string]any{"payment_reference": "cross-tenant probe"}
	validBodies["resubmitClaim"] = map[string]any{"occurred_on": shanghaiToday(0), "fault": map[string]any{"cause": "performance"},
		"lines": []map[string]any{{"kind": "labor", "requested": money(1000)}}}
	r = env.Do(t, http.MethodPost, "/v1/payouts", key, map[string]any{"unit_id": bUnit, "amount": money(10000), "reason": "b-private-payout"})
	require.Equal(t, http.StatusCreated, r.Status, "%s", r.Body)
	bObjects["payout_id"] = r.JSON(t)["id"].(string)
	r = env.Do(t, http.MethodPost, "/v1/swaps", key, map[string]any{"unit_id": bUnit, "reason": "unrepairable", "note": "b-private-swap"})
	require.Equal(t, http.StatusCreated, r.Status, "%s", r.Body)
	bObjects["swap_id"] = r.JSON(t)["id"].(string)
	r = env.Do(t, http.MethodPut, "/v1/tenant/holidays/2026-10-01", key, map[string]any{"name": "b-private-holiday"})
	require.Equal(t, http.StatusCreated, r.Status, "%s", r.Body)
	bObjects["date"] = "2026-10-01"
	validBodies["markPayoutPaid"] = map[string]any{"reference": "X-1"}
	validBodies["rejectSwap"] = map[string]any{"reason": "cross-tenant probe"}
	validBodies["fulfilSwap"] = map[string]any{"serial": "X-1"}
	validBodies["approveSwap"] = map[string]any{}
	leaks = append(leaks, "b-private-payout", "b-private-swap", "b-private-holiday", bObjects["payout_id"][4:], bObjects["swap_id"][4:])
	leaks = append(leaks, bContractID[4:], bUnit[4:])
	sObjects, sBodies, sLeaks := crossTenantStock(t, env, key, bNet.Point)
	maps.Copy(bObjects, sObjects)
	maps.Copy(validBodies, sBodies)
	leaks = append(leaks, sLeaks...)
	tObjects, tBodies, tLeaks := crossTenantTickets(t, env, key, bUnit)
	maps.Copy(bObjects, tObjects)
	maps.Copy(validBodies, tBodies)
	leaks = append(leaks, tLeaks...)
	qObjects, qBodies, qLeaks := crossTenantQuality(t, env, ctx, tenantID, bNet.Center)
	maps.Copy(bObjects, qObjects)
	maps.Copy(validBodies, qBodies)
	leaks = append(leaks, qLeaks...)
	lObjects, lBodies, lLeaks := crossTenantLevels(t, env, ctx, tenantID, bNet.Center, bTechID)
	maps.Copy(bObjects, lObjects)
	maps.Copy(validBodies, lBodies)
	leaks = append(leaks, lLeaks...)
	cObjects, cBodies, cLeaks := crossTenantClock(t, env, ctx, tenantID, adminID, bContractID)
	maps.Copy(bObjects, cObjects)
	maps.Copy(validBodies, cBodies)
	leaks = append(leaks, cLeaks...)
	return walkFixture{objects: bObjects, bodies: validBodies, leaks: leaks, keyID: bKeyID, node: bNet.Center, tech: bTechID, unit: bUnit}
}

// walkIsolation sends every operation that names an object with the
// victim's IDs and the attacker's key: each is 404 and leaks nothing; every
// list the attacker reads leaks nothing. victimKey then finds its objects
// unchanged.
func walkIsolation(t *testing.T, env *apitest.Env, attackerKey, victimKey string, fx walkFixture) {
	t.Helper()
	for _, op := range operations(t, env.API.OpenAPI()) {
		if op.Permission == string(authz.Public) || op.Permission == string(authz.Operator) || op.ID == "putHoliday" ||
			op.ID == "setNotificationTemplate" {
			continue // not tenant-scoped; putHoliday writes A's own calendar, setNotificationTemplate A's own text
		}
		var body any
		if op.HasBody {
			body = map[string]any{"name": "x"}
			if b, ok := fx.bodies[op.ID]; ok {
				body = b
			}
		}
		if len(params(op.Path)) > 0 {
			path := fill(t, op.Path, fx.objects)
			r := env.Do(t, op.Method, path, attackerKey, body)
			require.Equal(t, http.StatusNotFound, r.Status, "%s with B's object: %s", op.ID, r.Body)
			// The problem's instance echoes the request path; nothing else may name B.
			rest := strings.ReplaceAll(withoutRequestID(t, r), path, "")
			for _, l := range fx.leaks {
				require.NotContains(t, strings.ToLower(rest), strings.ToLower(l), "%s leaked %q", op.ID, l)
			}
		} else if op.Method == http.MethodGet {
			r := env.Do(t, op.Method, op.Path, attackerKey, nil)
			require.Less(t, r.Status, 500, "%s: %s", op.ID, r.Body)
			for _, l := range fx.leaks {
				require.NotContains(t, strings.ToLower(withoutRequestID(t, r)), strings.ToLower(l), "%s leaked %q", op.ID, l)
			}
		}
	}
	// B's unit is unknown to A's entitlement questions.
	r := env.Do(t, http.MethodPost, "/v1/entitlements/decide", attackerKey, map[string]any{"unit_id": fx.unit,
		"fault": map[string]any{"cause": "performance"}})
	require.Equal(t, http.StatusNotFound, r.Status, "decide with B's unit: %s", r.Body)
	for _, l := range fx.leaks {
		require.NotContains(t, strings.ToLower(withoutRequestID(t, r)), strings.ToLower(l), "decideEntitlement leaked %q", l)
	}
	// B's test clock (a live victim's: an ID naming nothing) is no clock to
	// A: naming it when opening a ticket or selling a contract is 422 on
	// body.test_clock_id, leaking nothing.
	for _, c := range []struct {
		path string
		body map[string]any
	}{
		{"/v1/tickets", map[string]any{"channel": "web", "type": "repair",
			"contact": map[string]any{"name": "探针", "phone": "+86 138 0000 0000"},
			"address": map[string]any{"region_code": "370212", "line": "建设路 1 号"},
			"unit":    map[string]any{"model_id": tenants.NewID(tenants.PrefixProductModel), "serial": "X-1", "purchase_date": "2026-01-01"},
			"fault":   map[string]any{"symptom": "不排水"}}},
		{"/v1/contracts", map[string]any{"unit_id": tenants.NewID(tenants.PrefixUnit), "plan_id": tenants.NewID(tenants.PrefixPlan)}},
	} {
		c.body["test_clock_id"] = fx.objects["test_clock_id"]
		r := env.Do(t, http.MethodPost, c.path, attackerKey, c.body)
		require.Contains(t, problemLocations(t, r, http.StatusUnprocessableEntity), "body.test_clock_id", "%s with B's clock", c.path)
		for _, l := range fx.leaks {
			if l != fx.objects["test_clock_id"] && l != fx.objects["test_clock_id"][4:] { // the request's own value is echoed
				require.NotContains(t, strings.ToLower(withoutRequestID(t, r)), strings.ToLower(l), "%s leaked %q", c.path, l)
			}
		}
	}
	// A reads its own care policy (none: v0), never B's.
	r = env.Do(t, http.MethodGet, "/v1/care-policy", attackerKey, nil)
	require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
	require.Equal(t, `"v0"`, r.Header.Get("ETag"), "%s", r.Body)
	require.NotContains(t, string(r.Body), "camera")
	r = env.Do(t, http.MethodGet, "/v1/care-policy", victimKey, nil)
	require.Equal(t, `"v1"`, r.Header.Get("ETag"), "B's care policy is unchanged")
	// B's key is untouched (A's revoke attempt did nothing).
	r = env.Do(t, http.MethodGet, "/v1/api-keys/"+fx.keyID, victimKey, nil)
	require.Equal(t, http.StatusOK, r.Status)
	require.Equal(t, "active", r.JSON(t)["status"])
	r = env.Do(t, http.MethodGet, "/v1/network/nodes/"+fx.node, victimKey, nil)
	require.Equal(t, http.StatusOK, r.Status)
	require.Equal(t, float64(1), r.JSON(t)["version"], "B's node is unchanged")
	r = env.Do(t, http.MethodGet, "/v1/network/technicians/"+fx.tech, victimKey, nil)
	require.Equal(t, http.StatusOK, r.Status)
	require.Equal(t, float64(1), r.JSON(t)["version"], "B's technician is unchanged")
}
