package api_test

import (
	"context"
	"maps"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/servicenet/servicenet/authz"
	"github.com/servicenet/servicenet/internal/apitest"
)

// tenantWideParams name objects every reader of the brand shares (its
// catalog, plans, quotes, calendar) or the platform's: they carry no
// customer's data and no node, storefront or technician relation, so the
// walk does not expect them out of scope. Every other path parameter names
// an object that is.
var tenantWideParams = []string{"model_id", "part_id", "plan_id", "price_list_id", "quote_id", "date", "tenant_id"}

// TestRoleRelationWalk walks every operation of the spec with the demo
// brand's scoped roles — a node manager (its subtree), a technician (its own
// jobs) and a storefront (its own sales) — against objects in a sibling
// subtree of the network, and (every operation naming a unit or contract)
// against the demo storefront's sales: a ticket dispatched to
// a repair point under another service center, its customer, unit,
// contract, payout, swap, complaint and claim, a loaner, stock and a
// technician there, another storefront, the brand's keys, imports,
// webhooks and gateways. Each answers 403 (the role may not call the
// operation) or 404 (out of scope), never the object; nothing changes.
// Every list each role reads holds none of those objects, and no customer's
// phone appears unmasked outside the role's own open jobs or sales. The
// same roles do see their own objects (the walk is not vacuous), with the
// personal data the policy allows.
func TestRoleRelationWalk(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	f := newVisitFlow(t, "relation-walk")
	env, d := f.env, f.d
	admin := d.AdminKey
	dispatcher, _ := env.Key(t, admin, "dispatcher")

	// Own: a washer ticket dispatched to a demo node N1 and accepted by its technician.
	own := f.open(t, "REL-OWN-0001", "on_site")
	ownID := own["id"].(string)
	n1 := own["node_id"].(string)
	techKey := f.accept(t, own, apitest.WeekdayMorning(time.Now(), 2))
	r := env.Do(t, http.MethodPost, "/v1/api-keys", admin, map[string]any{"name": "N1 manager", "roles": []string{"node_manager"}, "node_id": n1})
	require.Equal(t, http.StatusCreated, r.Status, "%s", r.Body)
	nodeKey := r.JSON(t)["secret"].(string)

	// Own sales: a storefront of its own, with a customer and unit it registered.
	sfOwn := env.Storefront(t, admin, "REL-SHOP")
	r = env.Do(t, http.MethodPost, "/v1/api-keys", admin, map[string]any{"name": "shop", "roles": []string{"storefront"}, "storefront_id": sfOwn})
	require.Equal(t, http.StatusCreated, r.Status, "%s", r.Body)
	shopKey := r.JSON(t)["secret"].(string)
	r = env.Do(t, http.MethodPost, "/v1/units", shopKey, map[string]any{"model_id": d.Washer, "serial": "REL-SHOP-0001",
		"customer": map[string]any{"name": "店铺客户", "phones": []string{"13911112222"}}, "purchase_date": shanghaiToday(-10),
		"purchase_price": money(299900), "channel": "storefront"})
	require.Equal(t, http.StatusCreated, r.Status, "%s", r.Body)
	shopUnit := r.JSON(t)["id"].(string)

	// A sibling subtree: a service center with a repair point under the root, outside N1's subtree.
	r = env.Do(t, http.MethodGet, "/v1/network/nodes/"+n1, admin, nil)
	require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
	require.NotEmpty(t, r.JSON(t)["parent_id"], "N1 is not the root")
	r = env.Do(t, http.MethodGet, "/v1/network/nodes?tier=manufacturer&limit=1", admin, nil)
	require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
	root := r.JSON(t)["data"].([]any)[0].(map[string]any)["id"].(string)
	node := func(code, tier, parent string) string {
		r := env.Do(t, http.MethodPost, "/v1/network/nodes", admin, map[string]any{"external_code": code, "name": "兄弟网点 " + code,
			"tier": tier, "parent_id": parent, "status": "active", "coverage": []string{d.Region}, "categories": []string{"washer"},
			"service_kinds": []string{"repair", "install"}, "daily_capacity": 10})
		require.Equal(t, http.StatusCreated, r.Status, "%s", r.Body)
		return r.JSON(t)["id"].(string)
	}
	sibCenter := node("REL-SIB-SC", "service_center", root)
	sibPoint := node("REL-SIB-RP", "repair_point", sibCenter)
	var shifts []map[string]any
	for wd := 1; wd <= 7; wd++ {
		shifts = append(shifts, map[string]any{"weekday": wd, "start": "07:00", "end": "21:00"})
	}
	r = env.Do(t, http.MethodPost, "/v1/network/technicians", admin, map[string]any{"external_code": "REL-SIB-T", "node_id": sibPoint,
		"name": "兄弟师傅", "phone": "+86 136 9999 0000", "skills": []map[string]any{{"category": "washer", "level": 5}},
		"licence": map[string]any{"number": "LIC-REL-SIB", "issued_on": "2024-01-01", "expires_on": "2099-12-31"},
		"shifts":  shifts, "daily_job_limit": 30})
	require.Equal(t, http.StatusCreated, r.Status, "%s", r.Body)
	sibTech := r.JSON(t)["id"].(string)
	// The sibling technician's certification (lists must not show it out of scope).
	sibCert := createdID(t, env, admin, "/v1/network/technicians/"+sibTech+"/certifications",
		map[string]any{"course": "washer-advanced", "completed_on": shanghaiToday(-10), "result": "passed"})

	// The sibling's job: a unit with a contract, its ticket dispatched to the sibling repair point.
	const sibPhone, sibAddress = "13966667777", "兄弟小区 7 号楼 701"
	sibUnit := contractUnitIn(ctx, t, env, d.ID, "washer", 12, shanghaiToday(-40), "")
	r = env.Do(t, http.MethodGet, "/v1/coverage-plans?limit=100", admin, nil)
	require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
	var sibContract string
	for _, p := range r.JSON(t)["data"].([]any) {
		r := env.Do(t, http.MethodPost, "/v1/contracts", admin, map[string]any{"unit_id": sibUnit, "plan_id": p.(map[string]any)["id"]})
		if r.Status == http.StatusCreated {
			sibContract = r.JSON(t)["id"].(string)
			break
		}
	}
	require.NotEmpty(t, sibContract, "some demo plan sells for the sibling's unit")
	r = env.Do(t, http.MethodPost, "/v1/tickets", f.agent, map[string]any{"channel": "hotline", "type": "repair",
		"contact": map[string]any{"name": "兄弟客户", "phone": sibPhone},
		"address": map[string]any{"region_code": d.Region, "line": sibAddress},
		"unit":    map[string]any{"unit_id": sibUnit}, "fault": map[string]any{"symptom": "不脱水"},
		"preferred_window": window(apitest.WeekdayMorning(time.Now(), 3))})
	require.Equal(t, http.StatusCreated, r.Status, "%s", r.Body)
	sibTicket := r.JSON(t)["id"].(string)
	sibCustomer := r.JSON(t)["customer_id"].(string)
	ticketAct(t, env, dispatcher, sibTicket, "triage", map[string]any{"mode": "on_site"}, http.StatusOK)
	sib := ticketAct(t, env, dispatcher, sibTicket, "dispatch", map[string]any{"node_id": sibPoint, "technician_id": sibTech,
		"reason": "客户指定网点"}, http.StatusOK)
	require.Equal(t, sibPoint, sib["node_id"])
	r = env.Do(t, http.MethodPost, "/v1/complaints", f.agent, map[string]any{"ticket_id": sibTicket, "category": "late", "description": "兄弟网点迟到"})
	require.Equal(t, http.StatusCreated, r.Status, "%s", r.Body)
	sibComplaint := r.JSON(t)["id"].(string)
	r = env.Do(t, http.MethodPost, "/v1/payouts", admin, map[string]any{"unit_id": sibUnit, "amount": money(10000), "reason": "满意补偿"})
	require.Equal(t, http.StatusCreated, r.Status, "%s", r.Body)
	sibPayout := r.JSON(t)["id"].(string)
	r = env.Do(t, http.MethodPost, "/v1/swaps", admin, map[string]any{"unit_id": sibUnit, "reason": "unrepairable"})
	require.Equal(t, http.StatusCreated, r.Status, "%s", r.Body)
	sibSwap := r.JSON(t)["id"].(string)
	r = env.Do(t, http.MethodPost, "/v1/claims", admin, map[string]any{"kind": "warranty", "unit_id": sibUnit,
		"reference": "REL-CLM-1", "occurred_on": shanghaiToday(0), "fault": map[string]any{"cause": "performance"},
		"lines": []map[string]any{{"kind": "labor", "requested": money(1000)}}})
	require.Equal(t, http.StatusCreated, r.Status, "%s", r.Body)
	sibClaim := r.JSON(t)["id"].(string)
	stockObjects, stockBodies, _ := crossTenantStock(t, env, admin, sibPoint)
	_, ticketBodies, _ := crossTenantTickets(t, env, admin, sibUnit)

	// The brand's own objects no scoped role reaches.
	_, keyID := env.Key(t, admin, "auditor")
	r = env.Do(t, http.MethodPost, "/v1/notification-gateways", admin, map[string]any{"url": "https://8.8.8.8/sms"})
	require.Equal(t, http.StatusCreated, r.Status, "%s", r.Body)
	gateway := r.JSON(t)["id"].(string)
	hooks := crossTenantWebhooksIn(ctx, t, env, d.ID, admin)
	r = env.Do(t, http.MethodPost, "/v1/network/imports", admin,
		`{"type":"node","external_code":"REL-IMP","name":"导入网点","tier":"repair_point","parent_code":"REL-SIB-SC"}`+"\n",
		"Content-Type: application/x-ndjson")
	require.Equal(t, http.StatusAccepted, r.Status, "%s", r.Body)
	imp := r.JSON(t)["id"].(string)
	r = env.Do(t, http.MethodGet, "/v1/storefronts?limit=100", admin, nil)
	require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
	var otherShop string
	for _, s := range r.JSON(t)["data"].([]any) {
		if id := s.(map[string]any)["id"].(string); id != sfOwn {
			otherShop = id
		}
	}
	require.NotEmpty(t, otherShop, "the demo storefront")
	// Another storefront's sales: a unit it sold and a contract on it.
	shopUnits := listIDs(t, env, admin, "/v1/units?limit=200&storefront_id="+otherShop)
	require.NotEmpty(t, shopUnits, "the demo storefront sold units")
	var otherSale, otherContract string
	for _, u := range shopUnits {
		if ids := listIDs(t, env, admin, "/v1/contracts?limit=5&unit_id="+u); len(ids) > 0 {
			otherSale, otherContract = u, ids[0]
			break
		}
	}
	require.NotEmpty(t, otherContract, "the demo storefront sold a contract")

	out := map[string]string{
		"ticket_id": sibTicket, "customer_id": sibCustomer, "unit_id": sibUnit, "contract_id": sibContract,
		"payout_id": sibPayout, "swap_id": sibSwap, "complaint_id": sibComplaint, "claim_id": sibClaim,
		"node_id": sibPoint, "technician_id": sibTech, "task_id": "tsk_00000000000000000000000000",
		"key_id": keyID, "gateway_id": gateway, "import_id": imp, "storefront_id": otherShop,
		"model_id": d.Washer, "part_id": "prt_00000000000000000000000000", "plan_id": "pln_00000000000000000000000000",
		"price_list_id": "prl_00000000000000000000000000", "quote_id": "quo_00000000000000000000000000",
		"date": "2026-10-01", "tenant_id": d.ID,
		"test_clock_id": "clk_00000000000000000000000000", "proposal_id": "grp_00000000000000000000000000",
		"level_proposal_id": "lvp_00000000000000000000000000", "certification_id": sibCert,
		"purpose": "ticket_received", "language": "zh-CN",
	}
	maps.Copy(out, stockObjects)
	maps.Copy(out, hooks)
	bodies := map[string]any{
		"changeNodeStatus":              map[string]any{"status": "suspended", "reason": "relation probe"},
		"moveNode":                      map[string]any{"parent_id": root},
		"renewTechnicianLicence":        map[string]any{"number": "X-1", "issued_on": "2026-01-01", "expires_on": "2031-01-01"},
		"updateWebhookEndpoint":         map[string]any{"description": "relation probe"},
		"updateNotificationGateway":     map[string]any{"description": "relation probe"},
		"cancelContract":                map[string]any{"reason": "relation probe"},
		"recordServiceEvent":            map[string]any{"kind": "repair", "occurred_on": shanghaiToday(0)},
		"updateUnit":                    map[string]any{"invoice_number": "X-1"},
		"updateStorefront":              map[string]any{"name": "relation probe"},
		"markClaimPaid":                 map[string]any{"payment_reference": "relation probe"},
		"markPayoutPaid":                map[string]any{"reference": "X-1"},
		"rejectSwap":                    map[string]any{"reason": "relation probe"},
		"fulfilSwap":                    map[string]any{"serial": "X-1"},
		"approveSwap":                   map[string]any{},
		"decideGradeProposal":           map[string]any{"decision": "approve"},
		"advanceTestClock":              map[string]any{"frozen_time": time.Now().Add(time.Hour).Format(time.RFC3339)},
		"attachTestClock":               map[string]any{"object_id": sibContract},
		"appealGradeProposal":           map[string]any{"reason": "relation probe"},
		"decideGradeAppeal":             map[string]any{"decision": "upheld", "note": "relation probe"},
		"decideLevelProposal":           map[string]any{"decision": "approve"},
		"appealLevelProposal":           map[string]any{"reason": "relation probe"},
		"decideLevelAppeal":             map[string]any{"decision": "upheld", "note": "relation probe"},
		"createTechnicianCertification": map[string]any{"course": "probe", "completed_on": shanghaiToday(0), "result": "passed"},
		"resubmitClaim": map[string]any{"occurred_on": shanghaiToday(0), "fault": map[string]any{"cause": "performance"},
			"lines": []map[string]any{{"kind": "labor", "requested": money(1000)}}},
	}
	for _, op := range []string{"requestClaimInfo", "rejectClaim", "withdrawClaim", "approveClaim"} {
		bodies[op] = map[string]any{"reason": "relation probe"}
	}
	maps.Copy(bodies, stockBodies)
	maps.Copy(bodies, ticketBodies)
	// What must never reach these roles: the sibling's personal data and objects.
	leaks := []string{sibPhone, sibAddress, "兄弟客户", sibTicket, sibCustomer, sibUnit, sibContract, sibPayout, sibSwap,
		sibComplaint, sibClaim, sibTech, gateway, imp, otherContract, sibCert}
	leaks = append(leaks, shopUnits...)
	sibVersion := func() any {
		r := env.Do(t, http.MethodGet, "/v1/tickets/"+sibTicket, admin, nil)
		require.Equal(t, http.StatusOK, r.Status)
		return r.JSON(t)["version"]
	}
	before := sibVersion()

	// Every customer phone of the brand, and which ones each role may see unmasked.
	phones := map[string]bool{sibPhone: true}
	for _, c := range customersOf(t, env, admin) {
		for _, p := range c["phones"].([]any) {
			phones[strings.TrimPrefix(p.(string), "+86")] = true
		}
	}
	ownPhone := own["contact"].(map[string]any)["phone"].(string)
	roles := []struct {
		name, key string
		allowed   []string // phones it may see unmasked: its open jobs' or its sales'
	}{
		{"node_manager(subtree)", nodeKey, []string{strings.TrimPrefix(ownPhone, "+86")}},
		{"technician(own jobs)", techKey, []string{strings.TrimPrefix(ownPhone, "+86")}},
		{"storefront(own sales)", shopKey, []string{"13911112222"}},
	}

	ops := operations(t, env.API.OpenAPI())
	var probes, outOfScope, denied, notFound, lists, unmasked, leaked int
	for _, role := range roles {
		for _, op := range ops {
			if op.Permission == string(authz.Public) || op.Permission == string(authz.Operator) || op.ID == "putHoliday" {
				continue // not tenant objects; putHoliday writes the brand's calendar
			}
			var body any
			if op.HasBody {
				body = map[string]any{"name": "x"}
				if b, ok := bodies[op.ID]; ok {
					body = b
				}
			}
			ps := params(op.Path)
			scoped := len(ps) > 0 && !slices.ContainsFunc(ps, func(p string) bool { return slices.Contains(tenantWideParams, p) })
			if len(ps) == 0 && op.Method != http.MethodGet {
				continue // creations name no existing object (covered by the matrix and bad-input walks)
			}
			probes++
			path := fill(t, op.Path, out)
			r := env.Do(t, op.Method, path, role.key, body)
			require.Less(t, r.Status, 500, "%s %s: %s", role.name, op.ID, r.Body)
			rest := strings.ReplaceAll(string(r.Body), path, "")
			for _, l := range leaks {
				if strings.Contains(rest, l) {
					leaked++
					t.Errorf("%s %s: the response names %q, out of its scope: %.300s", role.name, op.ID, l, r.Body)
				}
			}
			for p := range phones {
				if strings.Contains(rest, p) && !slices.Contains(role.allowed, p) {
					unmasked++
					t.Errorf("%s %s: phone %s unmasked", role.name, op.ID, p)
				}
			}
			switch {
			case scoped:
				outOfScope++
				switch r.Status {
				case http.StatusForbidden:
					denied++
				case http.StatusNotFound:
					notFound++
				default:
					t.Errorf("%s %s on an out-of-scope object: %d, want 403 or 404: %.300s", role.name, op.ID, r.Status, r.Body)
				}
			case len(ps) == 0:
				lists++
			}
		}
	}
	// The other storefront's sale, by every operation that names a unit or a contract.
	otherObjects := maps.Clone(out)
	otherObjects["unit_id"], otherObjects["contract_id"] = otherSale, otherContract
	for _, role := range roles {
		for _, op := range ops {
			ps := params(op.Path)
			if !slices.Contains(ps, "unit_id") && !slices.Contains(ps, "contract_id") {
				continue
			}
			var body any
			if op.HasBody {
				body = map[string]any{"name": "x"}
				if b, ok := bodies[op.ID]; ok {
					body = b
				}
			}
			probes++
			outOfScope++
			r := env.Do(t, op.Method, fill(t, op.Path, otherObjects), role.key, body)
			switch r.Status {
			case http.StatusForbidden:
				denied++
			case http.StatusNotFound:
				notFound++
			default:
				t.Errorf("%s %s on another storefront's sale: %d, want 403 or 404: %.300s", role.name, op.ID, r.Status, r.Body)
			}
		}
	}
	assert.Equal(t, before, sibVersion(), "the sibling's ticket is unchanged")
	t.Logf("relation walk: %d operations in the spec, %d probes by 3 scoped roles; %d on out-of-scope objects (%d 403, %d 404), %d lists; %d unexpected unmasked phones, %d out-of-scope objects shown",
		len(ops), probes, outOfScope, denied, notFound, lists, unmasked, leaked)
	require.Zero(t, unmasked)
	require.Zero(t, leaked)

	// Not vacuous: each role sees its own, with the personal data the policy allows.
	r = env.Do(t, http.MethodGet, "/v1/tickets/"+ownID, techKey, nil)
	require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
	assert.Equal(t, ownPhone, r.JSON(t)["contact"].(map[string]any)["phone"], "a technician's open job, unmasked")
	r = env.Do(t, http.MethodGet, "/v1/tickets/"+ownID, nodeKey, nil)
	require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
	assert.Equal(t, ownPhone, r.JSON(t)["contact"].(map[string]any)["phone"], "the subtree's open ticket, unmasked")
	assert.Contains(t, listIDs(t, env, nodeKey, "/v1/customers?limit=200"), own["customer_id"])
	assert.Contains(t, listIDs(t, env, techKey, "/v1/customers?limit=200"), own["customer_id"])
	assert.Contains(t, listIDs(t, env, shopKey, "/v1/units?limit=200"), shopUnit)
	// The sibling's own people see it: the objects exist, the scope hid them.
	sibNodeKey := ""
	r = env.Do(t, http.MethodPost, "/v1/api-keys", admin, map[string]any{"name": "sibling manager", "roles": []string{"node_manager"}, "node_id": sibCenter})
	require.Equal(t, http.StatusCreated, r.Status, "%s", r.Body)
	sibNodeKey = r.JSON(t)["secret"].(string)
	for _, p := range []string{"/v1/tickets/" + sibTicket, "/v1/contracts/" + sibContract, "/v1/swaps/" + sibSwap,
		"/v1/complaints/" + sibComplaint, "/v1/customers/" + sibCustomer, "/v1/units/" + sibUnit, "/v1/loaners/" + out["loaner_id"]} {
		r := env.Do(t, http.MethodGet, p, sibNodeKey, nil)
		assert.Equal(t, http.StatusOK, r.Status, "the sibling's manager reads %s: %s", p, r.Body)
	}
	sibTechKey := technicianKey(t, env, admin, sibTech)
	for _, p := range []string{"/v1/tickets/" + sibTicket, "/v1/contracts/" + sibContract, "/v1/swaps/" + sibSwap, "/v1/customers/" + sibCustomer} {
		r := env.Do(t, http.MethodGet, p, sibTechKey, nil)
		assert.Equal(t, http.StatusOK, r.Status, "the sibling's technician reads %s: %s", p, r.Body)
	}
}
