package api_test

import (
	"context"
	"encoding/json"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/riverqueue/river"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/servicenet/servicenet/internal/apitest"
	"github.com/servicenet/servicenet/internal/pg"
	"github.com/servicenet/servicenet/jobs"
	"github.com/servicenet/servicenet/tenants"
	"github.com/servicenet/servicenet/tenants/claims"
)

func init() {
	readers := []string{"tenant_admin", "agent", "integrator", "storefront", "node_manager", "auditor"}
	submitters := []string{"tenant_admin", "agent", "integrator", "storefront", "node_manager"}
	reviewers := []string{"tenant_admin", "agent"}
	for _, op := range []string{"listClaims", "getClaim", "listClaimVersions", "listClaimTransitions"} {
		wantMatrix[op] = readers
	}
	for _, op := range []string{"submitClaim", "resubmitClaim", "withdrawClaim"} {
		wantMatrix[op] = submitters
	}
	for _, op := range []string{"requestClaimInfo", "approveClaim", "rejectClaim", "markClaimPaid", "getClaimPolicy", "setClaimPolicy"} {
		wantMatrix[op] = reviewers
	}
	dummyParams["claim_id"] = "clm_00000000000000000000000000"
}

// waitClaim polls a claim until it leaves state from (the adjudication sweep
// runs on the test server's River workers) and returns it.
func waitClaim(t *testing.T, env *apitest.Env, key, id string, from string) map[string]any {
	t.Helper()
	var m map[string]any
	require.EventuallyWithT(t, func(c *assert.CollectT) {
		r := env.Do(t, http.MethodGet, "/v1/claims/"+id, key, nil)
		if !assert.Equal(c, http.StatusOK, r.Status, "%s", r.Body) {
			return
		}
		m = r.JSON(t)
		assert.NotEqual(c, from, m["state"])
	}, 15*time.Second, 50*time.Millisecond)
	return m
}

func claimLines(m map[string]any) []map[string]any {
	var out []map[string]any
	for _, l := range m["lines"].([]any) {
		out = append(out, l.(map[string]any))
	}
	return out
}

func flagCodes(m map[string]any) []string {
	out := []string{}
	for _, f := range m["flags"].([]any) {
		out = append(out, f.(map[string]any)["code"].(string))
	}
	return out
}

func tenantOf(t *testing.T, env *apitest.Env, key string) string {
	t.Helper()
	r := env.Do(t, http.MethodGet, "/v1/me", key, nil)
	require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
	return r.JSON(t)["tenant"].(map[string]any)["id"].(string)
}

func claimCount(t *testing.T, env *apitest.Env, tenantID string) int {
	t.Helper()
	ctx := context.Background()
	var n int
	require.NoError(t, pg.InTenantTx(ctx, env.DB.Owner, tenantID, func(tx pg.TenantTx) error {
		return tx.QueryRow(ctx, `SELECT (SELECT count(*) FROM claims) + (SELECT count(*) FROM claim_versions)`).Scan(&n)
	}))
	return n
}

// A storefront files an accidental-damage claim with its own key, retries
// it, is asked for information, resubmits (both versions kept) and is
// approved and paid; another storefront sees none of it.
func TestClaimStorefrontScenario(t *testing.T) {
	t.Parallel()
	env := apitest.Shared(t)
	s := newPhoneShop(t, env, "claims-shop")
	unit, contract := s.sell(t, env, s.shopA, "SN-P60-7001", 39) // day 40: the plan runs
	// Each storefront listens for claim events on its own endpoint.
	rcvA, rcvB := newReceiver(t, env, 0), newReceiver(t, env, 0)
	_, secretA := createEndpoint(t, env, s.shopA, map[string]any{"url": rcvA.url(), "event_types": []string{"claim.*"}})
	_, secretB := createEndpoint(t, env, s.shopB, map[string]any{"url": rcvB.url(), "event_types": []string{"claim.*"}})
	// Everything waits for a person: no auto-approval.
	r := env.Do(t, http.MethodPut, "/v1/claims/policy", s.admin, map[string]any{"auto_approve_limit": cnyBody(0),
		"duplicate_window_days": 30, "parts_markup_cap_percent": 20})
	require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)

	lines := []map[string]any{
		{"kind": "labor", "description": "换屏工时", "requested": cnyBody(8000)},
		{"kind": "part", "part_id": s.screen, "quantity": 1, "requested": cnyBody(120000)},
	}
	body := map[string]any{"kind": "accidental_damage", "unit_id": unit, "contract_id": contract, "reference": "TM-CLM-0001",
		"fault":       map[string]any{"cause": "accidental_damage", "part_categories": []string{"screen"}, "description": "跌落碎屏"},
		"occurred_on": shanghaiToday(0), "lines": lines, "total": cnyBody(128000)}

	r = env.Do(t, http.MethodPost, "/v1/claims", s.shopA, body, "Idempotency-Key: clm-1")
	require.Equal(t, http.StatusCreated, r.Status, "%s", r.Body)
	first := r.JSON(t)
	id := first["id"].(string)
	require.Equal(t, "accidental_damage", first["kind"])
	require.Equal(t, float64(1), first["version"])

	t.Run("RetriesFileOneClaim", func(t *testing.T) {
		r := env.Do(t, http.MethodPost, "/v1/claims", s.shopA, body, "Idempotency-Key: clm-1")
		require.Equal(t, http.StatusCreated, r.Status, "%s", r.Body)
		require.Equal(t, id, r.JSON(t)["id"])
		r = env.Do(t, http.MethodPost, "/v1/claims", s.shopA, body) // the same body under the same reference
		require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
		require.Equal(t, id, r.JSON(t)["id"])
		require.Equal(t, []string{id}, listIDs(t, env, s.shopA, "/v1/claims"))
	})

	t.Run("ReferenceReusedWithAnotherBody", func(t *testing.T) {
		r := env.Do(t, http.MethodPost, "/v1/claims", s.shopA, with(body, "occurred_on", shanghaiToday(-1)))
		requireProblem(t, r, http.StatusConflict, "conflict", "body.reference")
		require.Equal(t, id, r.JSON(t)["existing_id"], "the 409 names the claim that holds the reference")
	})

	t.Run("FoundByOwnReference", func(t *testing.T) {
		require.Equal(t, []string{id}, listIDs(t, env, s.shopA, "/v1/claims?reference=TM-CLM-0001"))
		require.Equal(t, []string{id}, listIDs(t, env, s.admin, "/v1/claims?reference=TM-CLM-0001"))
		require.Empty(t, listIDs(t, env, s.shopA, "/v1/claims?reference=TM-CLM-9999"))
		require.Empty(t, listIDs(t, env, s.shopB, "/v1/claims?reference=TM-CLM-0001"), "another storefront finds nothing")
	})

	m := waitClaim(t, env, s.shopA, id, "submitted")
	require.Equal(t, "under_review", m["state"], "%v", m)
	require.NotEmpty(t, m["reasons"])
	require.Equal(t, "accidental_damage", m["decision"].(map[string]any)["basis"])
	require.Equal(t, int64(64000), amountOf(m["total_calculated"]), "half of the repair")

	t.Run("ResubmitOnlyFromNeedsInfo", func(t *testing.T) {
		r := env.Do(t, http.MethodPost, "/v1/claims/"+id+"/resubmit", s.shopA, map[string]any{"fault": body["fault"],
			"occurred_on": body["occurred_on"], "lines": lines}, env.IfMatch(t, "/v1/claims/"+id, s.shopA)...)
		p := requireProblem(t, r, http.StatusConflict, "conflict", "")
		require.Contains(t, p["detail"], "claim is under_review")
	})

	r = env.Do(t, http.MethodPost, "/v1/claims/"+id+"/request-info", s.admin, map[string]any{"reason": "请补充购买发票照片"}, env.IfMatch(t, "/v1/claims/"+id, s.admin)...)
	require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
	require.Equal(t, "needs_info", r.JSON(t)["state"])
	require.Equal(t, []any{"resubmit", "withdraw"}, r.JSON(t)["allowed_actions"])

	r = env.Do(t, http.MethodPost, "/v1/claims/"+id+"/resubmit", s.shopA, map[string]any{"fault": body["fault"],
		"occurred_on": body["occurred_on"], "lines": lines, "total": cnyBody(128000), "note": "发票已上传"}, env.IfMatch(t, "/v1/claims/"+id, s.shopA)...)
	require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
	m = r.JSON(t)
	require.Equal(t, float64(2), m["version"])
	require.Equal(t, "submitted", m["state"])

	m = waitClaim(t, env, s.shopA, id, "submitted")
	require.Equal(t, "under_review", m["state"])
	r = env.Do(t, http.MethodGet, "/v1/claims/"+id+"/versions", s.shopA, nil)
	require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
	vs := r.JSON(t)["data"].([]any)
	require.Len(t, vs, 2)
	require.Equal(t, float64(1), vs[0].(map[string]any)["version"])
	require.Equal(t, float64(2), vs[1].(map[string]any)["version"])
	require.Equal(t, "发票已上传", vs[1].(map[string]any)["note"])

	r = env.Do(t, http.MethodPost, "/v1/claims/"+id+"/approve", s.admin, map[string]any{"reason": "发票核实"}, env.IfMatch(t, "/v1/claims/"+id, s.admin)...)
	require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
	m = r.JSON(t)
	require.Equal(t, "approved", m["state"])
	require.Equal(t, int64(64000), amountOf(m["total_approved"]))
	// Rule 5 with the plan's discount_percent 50: each line at half of what
	// the price list charges (labour 80.00, the screen 1,200.00): the plan
	// pays 40.00 + 600.00 = 640.00 and the customer the other half.
	approvedLines := claimLines(m)
	require.Len(t, approvedLines, 2)
	for i, want := range []int64{4000, 60000} {
		l := approvedLines[i]
		require.Equal(t, "partly_approved", l["decision"], "%v", l)
		require.Equal(t, want, amountOf(l["approved"]), "line %d: %v", i, l)
	}
	require.NotEmpty(t, m["approved_on"])

	t.Run("IllegalTransitionNamesTheState", func(t *testing.T) {
		for _, action := range []string{"approve", "request-info", "reject"} {
			r := env.Do(t, http.MethodPost, "/v1/claims/"+id+"/"+action, s.admin, map[string]any{"reason": "again"}, env.IfMatch(t, "/v1/claims/"+id, s.admin)...)
			p := requireProblem(t, r, http.StatusConflict, "conflict", "")
			require.Contains(t, p["detail"], "claim is approved; allowed: mark_paid", action)
		}
		r := env.Do(t, http.MethodPost, "/v1/claims/"+id+"/withdraw", s.shopA, nil, env.IfMatch(t, "/v1/claims/"+id, s.shopA)...)
		requireProblem(t, r, http.StatusConflict, "conflict", "")
	})

	r = env.Do(t, http.MethodPost, "/v1/claims/"+id+"/mark-paid", s.admin, map[string]any{"payment_reference": "PAY-1"}, env.IfMatch(t, "/v1/claims/"+id, s.admin)...)
	require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
	require.Equal(t, "paid", r.JSON(t)["state"])

	r = env.Do(t, http.MethodGet, "/v1/claims/"+id+"/transitions", s.shopA, nil)
	require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
	var states []string
	for _, tr := range r.JSON(t)["data"].([]any) {
		states = append(states, tr.(map[string]any)["to_state"].(string))
	}
	require.Equal(t, []string{"submitted", "under_review", "needs_info", "submitted", "under_review", "approved", "paid"}, states)

	t.Run("EventsCarryTheStorefront", func(t *testing.T) {
		evs := waitEvents(t, env, s.admin, "type=claim.*", 7)
		for _, e := range evs {
			d := e["data"].(map[string]any)
			require.Equal(t, unit, d["unit_id"], "%v", e)
			require.NotEmpty(t, d["storefront_id"], "%v", e)
		}
	})

	t.Run("AnotherStorefrontSeesNothing", func(t *testing.T) {
		for _, path := range []string{"/v1/claims/" + id, "/v1/claims/" + id + "/versions", "/v1/claims/" + id + "/transitions"} {
			r := env.Do(t, http.MethodGet, path, s.shopB, nil)
			require.Equal(t, http.StatusNotFound, r.Status, "%s: %s", path, r.Body)
		}
		r := env.Do(t, http.MethodPost, "/v1/claims/"+id+"/resubmit", s.shopB, map[string]any{"fault": body["fault"],
			"occurred_on": body["occurred_on"], "lines": lines})
		require.Equal(t, http.StatusNotFound, r.Status, "%s", r.Body)
		r = env.Do(t, http.MethodPost, "/v1/claims/"+id+"/withdraw", s.shopB, nil)
		require.Equal(t, http.StatusNotFound, r.Status, "%s", r.Body)
		require.Empty(t, listIDs(t, env, s.shopB, "/v1/claims"))
		r = env.Do(t, http.MethodPost, "/v1/claims", s.shopB, with(body, "reference", "B-1"))
		require.Equal(t, http.StatusNotFound, r.Status, "another storefront's unit: %s", r.Body)
	})

	t.Run("BadInputNamesTheFieldAndChangesNothing", func(t *testing.T) {
		other := createdID(t, env, s.admin, "/v1/catalog/models", modelBody("P70", "phone", 599900, "warranty_months", 12))
		foreign := createdID(t, env, s.admin, "/v1/catalog/parts", map[string]any{"part_number": "P70-LCD", "name": "屏幕",
			"category": "screen", "price": cnyBody(150000), "compatible_model_ids": []string{other}})
		tenantID := tenantOf(t, env, s.admin)
		before := claimCount(t, env, tenantID)
		for _, c := range []struct {
			name  string
			body  map[string]any
			where string
		}{
			{"LinesDoNotAddUp", with(body, "reference", "X-1", "total", cnyBody(100)), "body.total"},
			{"PartDoesNotFit", with(body, "reference", "X-2", "total", nil, "lines", []map[string]any{
				{"kind": "part", "part_id": foreign, "requested": cnyBody(150000)}}), "body.lines[0].part_id"},
			{"PartLineWithoutPart", with(body, "reference", "X-3", "total", nil, "lines", []map[string]any{
				{"kind": "part", "requested": cnyBody(150000)}}), "body.lines[0].part_id"},
			{"FutureDate", with(body, "reference", "X-4", "occurred_on", shanghaiToday(2)), "body.occurred_on"},
			{"OtherCurrency", with(body, "reference", "X-5", "total", nil, "lines", []map[string]any{
				{"kind": "labor", "requested": map[string]any{"amount": 100, "currency": "USD"}}}), "body.lines[0].requested.currency"},
			{"StorefrontReimbursement", with(body, "reference", "X-6", "kind", "reimbursement"), "body.kind"},
		} {
			r := env.Do(t, http.MethodPost, "/v1/claims", s.shopA, c.body)
			requireProblem(t, r, http.StatusUnprocessableEntity, "invalid", c.where)
			requireNoInternals(t, r)
		}
		require.Equal(t, before, claimCount(t, env, tenantID))
	})

	t.Run("EachTransitionIsASignedWebhookToItsStorefrontOnly", func(t *testing.T) {
		want := []string{"claim.approved", "claim.needs_info", "claim.paid", "claim.submitted", "claim.submitted",
			"claim.under_review", "claim.under_review"}
		var got []string
		require.Eventually(t, func() bool {
			got = got[:0]
			for _, rq := range rcvA.requests() {
				var ev struct {
					Type string         `json:"type"`
					Data map[string]any `json:"data"`
				}
				require.NoError(t, json.Unmarshal(rq.body, &ev))
				if ev.Data["claim_id"] == id || rq.header.Get("webhook-id") != "" && strings.Contains(string(rq.body), id) {
					require.NoError(t, verify(t, secretA, rq), "signed with the storefront's secret")
					got = append(got, ev.Type)
				}
			}
			return len(got) >= len(want)
		}, 30*time.Second, 100*time.Millisecond)
		slices.Sort(got)
		require.Equal(t, want, got)
		for _, rq := range rcvB.requests() {
			require.NotContains(t, string(rq.body), id, "another storefront receives none of it")
			require.NoError(t, verify(t, secretB, rq))
		}
	})
}

// washerShop is a brand with a washer model, a control board that fits it,
// a pump that fits another model, an extended warranty and a unit whose
// extended warranty is running (bought 400 days ago, a 12-month
// manufacturer warranty).
type washerShop struct {
	admin, model, board, unit, contract, newUnit string
}

func newWasherShop(t *testing.T, env *apitest.Env, slug string) washerShop {
	t.Helper()
	return washerShopFor(t, env, env.CreateTenant(t, slug).AdminKey)
}

// washerShopFor is newWasherShop's catalog, plan, units and contract made
// with admin (a tenant's admin key, of either mode).
func washerShopFor(t *testing.T, env *apitest.Env, admin string) washerShop {
	t.Helper()
	w := washerShop{admin: admin}
	w.model = createdID(t, env, w.admin, "/v1/catalog/models", modelBody("XQG100", "washer", 299900, "warranty_months", 12))
	w.board = createdID(t, env, w.admin, "/v1/catalog/parts", map[string]any{"part_number": "XQG-CB-01", "name": "主控板",
		"category": "control_board", "price": cnyBody(30000), "compatible_model_ids": []string{w.model}})
	plan := createdID(t, env, w.admin, "/v1/coverage-plans", planBodies()["ext"])
	purchase := shanghaiToday(-400)
	w.unit = createdID(t, env, w.admin, "/v1/units", map[string]any{"model_id": w.model, "serial": "WSH0001",
		"customer":      map[string]any{"name": "钱七", "phones": []string{"+86 139 0000 0001"}},
		"purchase_date": purchase, "purchase_price": cnyBody(299900), "channel": "brand_store"})
	w.contract = createdID(t, env, w.admin, "/v1/contracts", map[string]any{"unit_id": w.unit, "plan_id": plan, "sold_on": shanghaiToday(-390)})
	w.newUnit = createdID(t, env, w.admin, "/v1/units", map[string]any{"model_id": w.model, "serial": "WSH0002",
		"customer":      map[string]any{"name": "孙八", "phones": []string{"+86 139 0000 0002"}},
		"purchase_date": shanghaiToday(-30), "purchase_price": cnyBody(299900), "channel": "brand_store"})
	return w
}

func (w washerShop) claim(kind, unit, ref, cause string, lines ...map[string]any) map[string]any {
	return map[string]any{"kind": kind, "unit_id": unit, "reference": ref, "occurred_on": shanghaiToday(0),
		"fault": map[string]any{"cause": cause, "part_categories": []string{"control_board"}}, "lines": lines}
}

func labor(fen int64) map[string]any {
	return map[string]any{"kind": "labor", "requested": cnyBody(fen)}
}

func (w washerShop) boardLine(fen int64) map[string]any {
	return map[string]any{"kind": "part", "part_id": w.board, "quantity": 1, "requested": cnyBody(fen)}
}

// TestClaimAdjudicationSweep: claims are adjudicated by a sweep of the
// submitted ones, in the test mode as in the live one; pausing the claims
// queue pauses adjudication (a claim filed meanwhile stays submitted) until
// the queue is resumed. A per-claim job of before the sweep still
// adjudicates its claim, which the sweep then leaves alone.
func TestClaimAdjudicationSweep(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	reg := prometheus.NewRegistry()
	env := apitest.New(t, apitest.Options{Metrics: reg}) // its own server: the test pauses its claims queue
	// lag is the sweep's servicenet_claim_adjudication_lag_seconds.
	lag := func() float64 {
		t.Helper()
		mfs, err := reg.Gather()
		require.NoError(t, err)
		for _, mf := range mfs {
			if mf.GetName() == "servicenet_claim_adjudication_lag_seconds" {
				return mf.GetMetric()[0].GetGauge().GetValue()
			}
		}
		t.Fatal("no servicenet_claim_adjudication_lag_seconds")
		return 0
	}
	live := newWasherShop(t, env, "claims-sweep")
	testKey, _ := testAdminKey(t, env, live.admin)
	test := washerShopFor(t, env, testKey)
	// Adjudication moves a claim from submitted to its decision in one
	// transaction: the first state read after submitted is the decision.
	approved := func(w washerShop, id string) {
		t.Helper()
		m := waitClaim(t, env, w.admin, id, "submitted")
		require.Equal(t, "approved", m["state"], "%v", m)
		d := m["decision"].(map[string]any)
		require.Equal(t, "extended_warranty", d["basis"], "the plan pays")
		require.Equal(t, w.contract, d["contract_id"])
		require.Equal(t, int64(40000), amountOf(m["total_approved"]), "the plan pays labour 100.00 and the board 300.00")
	}
	file := func(w washerShop, ref string) string {
		t.Helper()
		r := env.Do(t, http.MethodPost, "/v1/claims", w.admin, w.claim("extended_warranty", w.unit, ref, "power_surge",
			labor(10000), w.boardLine(30000)))
		require.Equal(t, http.StatusCreated, r.Status, "%s", r.Body)
		require.Equal(t, "submitted", r.JSON(t)["state"])
		return r.JSON(t)["id"].(string)
	}

	approved(test, file(test, "SWEEP-TEST"))

	require.NoError(t, env.River.QueuePause(ctx, jobs.QueueClaims, nil))
	time.Sleep(jobs.ClaimAdjudicationInterval + time.Second) // a pass under way ends its page first
	paused := file(live, "SWEEP-PAUSED")
	// A per-claim job of before the sweep, still queued (here in the
	// default queue, which runs), adjudicates its claim as it did.
	r := env.Do(t, http.MethodPost, "/v1/claims", live.admin, live.claim("warranty", live.newUnit, "SWEEP-LEGACY", "power_surge",
		labor(10000), live.boardLine(30000)))
	require.Equal(t, http.StatusCreated, r.Status, "%s", r.Body)
	legacy := r.JSON(t)["id"].(string)
	_, err := env.River.Insert(ctx, jobs.ClaimAdjudicationArgs{TenantID: tenantOf(t, env, live.admin), ClaimID: legacy, Version: 1},
		&river.InsertOpts{Queue: river.QueueDefault})
	require.NoError(t, err)
	waitClaim(t, env, live.admin, legacy, "submitted")
	time.Sleep(2 * jobs.ClaimAdjudicationInterval)
	r = env.Do(t, http.MethodGet, "/v1/claims/"+paused, live.admin, nil)
	require.Equal(t, "submitted", r.JSON(t)["state"], "paused, the claim awaits adjudication")
	require.GreaterOrEqual(t, lag(), 1.0, "paused, the lag shows how long it has waited")

	// Resumed, the sweep adjudicates it; the legacy job's claim it leaves
	// alone (adjudicated once).
	require.NoError(t, env.River.QueueResume(ctx, jobs.QueueClaims, nil))
	approved(live, paused)
	require.Eventually(t, func() bool { return lag() == 0 }, 5*time.Second, 100*time.Millisecond, "none waits any more")
	r = env.Do(t, http.MethodGet, "/v1/claims/"+legacy+"/transitions", live.admin, nil)
	var reviews int
	for _, x := range r.JSON(t)["data"].([]any) {
		if x.(map[string]any)["to_state"] == "under_review" {
			reviews++
		}
	}
	require.Equal(t, 1, reviews, "%s", r.Body)
}

func TestClaimAdjudication(t *testing.T) {
	t.Parallel()
	var hooked struct {
		sync.Mutex
		claims []claims.Claim
	}
	env := apitest.New(t, apitest.Options{OnClaimApproved: func(_ context.Context, _ pg.TenantTx, c claims.Claim) error {
		hooked.Lock()
		defer hooked.Unlock()
		hooked.claims = append(hooked.claims, c)
		return nil
	}})
	w := newWasherShop(t, env, "claims-adj")

	r := env.Do(t, http.MethodPost, "/v1/claims", w.admin, w.claim("extended_warranty", w.unit, "EXT-1", "power_surge",
		labor(10000), w.boardLine(30000)))
	require.Equal(t, http.StatusCreated, r.Status, "%s", r.Body)
	id := r.JSON(t)["id"].(string)

	t.Run("PowerSurgeUnderTheExtendedWarrantyIsAutoApproved", func(t *testing.T) {
		m := waitClaim(t, env, w.admin, id, "submitted")
		if m["state"] == "under_review" { // the job moves it on in the same transaction
			m = waitClaim(t, env, w.admin, id, "under_review")
		}
		require.Equal(t, "approved", m["state"], "%v", m)
		require.Empty(t, flagCodes(m))
		d := m["decision"].(map[string]any)
		require.Equal(t, "extended_warranty", d["basis"])
		require.Equal(t, w.contract, d["contract_id"])
		// Rule 4: a power surge under the extended warranty is repaired
		// free, no parts or labour fee: the plan pays the labour 100.00 and
		// the board at its price-list 300.00 in full, 400.00.
		ls := claimLines(m)
		require.Len(t, ls, 2)
		for i, want := range []int64{10000, 30000} {
			l := ls[i]
			require.Equal(t, "approved", l["decision"], "%v", l)
			require.Equal(t, want, amountOf(l["calculated"]), "line %d: %v", i, l)
			require.Equal(t, want, amountOf(l["approved"]), "line %d: %v", i, l)
			require.NotEmpty(t, l["reason"])
		}
		require.Equal(t, int64(40000), amountOf(m["total_approved"]))
		r := env.Do(t, http.MethodGet, "/v1/claims/"+id+"/transitions", w.admin, nil)
		tr := r.JSON(t)["data"].([]any)
		require.Equal(t, "system", tr[len(tr)-1].(map[string]any)["actor"])

		// The job again (a retry) changes nothing.
		require.NoError(t, env.Claims.Adjudicate(context.Background(), tenantOf(t, env, w.admin), id, 1))
		r = env.Do(t, http.MethodGet, "/v1/claims/"+id+"/transitions", w.admin, nil)
		require.Len(t, r.JSON(t)["data"].([]any), len(tr))
	})

	t.Run("ADuplicateIsFlagged", func(t *testing.T) {
		r := env.Do(t, http.MethodPost, "/v1/claims", w.admin, w.claim("extended_warranty", w.unit, "EXT-2", "power_surge",
			labor(10000), w.boardLine(30000)))
		require.Equal(t, http.StatusCreated, r.Status, "%s", r.Body)
		m := waitClaim(t, env, w.admin, r.JSON(t)["id"].(string), "submitted")
		require.Equal(t, "under_review", m["state"], "%v", m)
		require.Contains(t, flagCodes(m), "duplicate")
		require.Contains(t, strings.Join(toStrings(m["reasons"]), "\n"), id)
		evs := waitEvents(t, env, w.admin, "type=claim.flagged", 1)
		require.Nil(t, evs[0]["data"].(map[string]any)["storefront_id"])
	})

	t.Run("ANoReasonRepairApprovalCallsThePayoutHook", func(t *testing.T) {
		plan := createdID(t, env, w.admin, "/v1/coverage-plans", planBodies()["nrr"])
		contract := createdID(t, env, w.admin, "/v1/contracts", map[string]any{"unit_id": w.newUnit, "plan_id": plan,
			"sold_on": shanghaiToday(-30)})
		r := env.Do(t, http.MethodPost, "/v1/claims", w.admin, w.claim("no_reason_repair", w.newUnit, "NRR-1", "unstable_voltage",
			labor(10000), w.boardLine(30000)))
		require.Equal(t, http.StatusCreated, r.Status, "%s", r.Body)
		id := r.JSON(t)["id"].(string)
		var got claims.Claim
		require.Eventually(t, func() bool {
			hooked.Lock()
			defer hooked.Unlock()
			for _, c := range hooked.claims {
				if c.ID == id {
					got = c
					return true
				}
			}
			return false
		}, 15*time.Second, 50*time.Millisecond)
		require.Equal(t, claims.KindNoReasonRepair, got.Kind)
		require.Equal(t, w.newUnit, got.UnitID)
		require.NotNil(t, got.ApprovedOn)
		require.NotNil(t, got.Decision)
		require.Equal(t, contract, got.Decision.ContractID)
		require.NotNil(t, got.Decision.Compensation, "the no-reason plan owes the customer compensation")
		// Rule 7: 100.00 paid by the plan within 5 business days of the
		// repair (today; the tenant has no holidays).
		require.Equal(t, int64(10000), got.Decision.Compensation.Amount.Amount)
		require.Equal(t, "CNY", got.Decision.Compensation.Amount.Currency)
		require.Equal(t, "plan", got.Decision.Compensation.Payer)
		require.Equal(t, businessDaysAfter(civilDay(time.Now()), 5).Format(time.DateOnly), got.Decision.Compensation.Due)
	})

	t.Run("HumanDamageIsAutoRejectedWithTheReason", func(t *testing.T) {
		r := env.Do(t, http.MethodPost, "/v1/claims", w.admin, w.claim("extended_warranty", w.unit, "EXT-3", "human_damage",
			labor(10000)))
		require.Equal(t, http.StatusCreated, r.Status, "%s", r.Body)
		m := waitClaim(t, env, w.admin, r.JSON(t)["id"].(string), "submitted")
		if m["state"] == "under_review" {
			m = waitClaim(t, env, w.admin, m["id"].(string), "under_review")
		}
		require.Equal(t, "rejected", m["state"], "%v", m)
		require.Contains(t, m["state_reason"], "human_damage")
		ls := claimLines(m)
		require.Len(t, ls, 1)
		require.Equal(t, "rejected", ls[0]["decision"])
		// Rule 1: damage by the user is never free: the plan approves 0.
		if ap, ok := ls[0]["approved"]; ok && ap != nil {
			require.Zero(t, amountOf(ap), "%v", ls[0])
		}
		if ta, ok := m["total_approved"]; ok && ta != nil {
			require.Zero(t, amountOf(ta))
		}
	})

	t.Run("ConcurrentFilingsOfOneReferenceMakeOneClaim", func(t *testing.T) {
		b, err := json.Marshal(w.claim("extended_warranty", w.unit, "EXT-CONC", "environmental_dust", labor(10000)))
		require.NoError(t, err)
		rs := fire(t, env, 8, http.MethodPost, "/v1/claims", w.admin, string(b))
		seen := map[string]bool{}
		for _, r := range rs {
			require.Contains(t, []int{http.StatusCreated, http.StatusOK}, r.Status, "%s", r.Body)
			seen[r.JSON(t)["id"].(string)] = true
		}
		require.Len(t, seen, 1)
	})
}

// The auto-approval limit is inclusive and counts the calculated total:
// 400.00 (labour 100.00 + the board 300.00, rule 4) auto-approves under a
// limit of 400.00 and waits for a person under 399.99.
func TestClaimAutoApprovalLimit(t *testing.T) {
	t.Parallel()
	env := apitest.Shared(t)
	w := newWasherShop(t, env, "claims-limit")
	setLimit := func(fen int64) {
		r := env.Do(t, http.MethodPut, "/v1/claims/policy", w.admin, map[string]any{"auto_approve_limit": cnyBody(fen),
			"duplicate_window_days": 30, "parts_markup_cap_percent": 20})
		require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
	}
	file := func(ref, cause string) map[string]any {
		r := env.Do(t, http.MethodPost, "/v1/claims", w.admin, w.claim("extended_warranty", w.unit, ref, cause, labor(10000), w.boardLine(30000)))
		require.Equal(t, http.StatusCreated, r.Status, "%s", r.Body)
		return waitClaim(t, env, w.admin, r.JSON(t)["id"].(string), "submitted")
	}

	setLimit(39999)
	m := file("LIM-1", "power_surge")
	require.Equal(t, "under_review", m["state"], "%v", m)
	require.Empty(t, flagCodes(m))
	require.Equal(t, int64(40000), amountOf(m["total_calculated"]))
	require.Contains(t, strings.Join(toStrings(m["reasons"]), "\n"), "above the auto-approval limit")
	require.Nil(t, m["total_approved"])

	setLimit(40000)
	m = file("LIM-2", "unstable_voltage")
	if m["state"] == "under_review" { // the job moves it on in the same transaction
		m = waitClaim(t, env, w.admin, m["id"].(string), "under_review")
	}
	require.Equal(t, "approved", m["state"], "%v", m)
	require.Equal(t, int64(40000), amountOf(m["total_approved"]))
}

func toStrings(v any) []string {
	out := []string{}
	for _, s := range v.([]any) {
		out = append(out, s.(string))
	}
	return out
}

// A repair point's reimbursement claim: refused without the ticket, and
// checked against the parts markup cap.
func TestClaimReimbursement(t *testing.T) {
	t.Parallel()
	env := apitest.Shared(t)
	w := newWasherShop(t, env, "claims-rp")
	point, _ := env.Key(t, w.admin, "node_manager")
	storefront, _ := env.Key(t, w.admin, "storefront")

	t.Run("TicketLessIsRefusedWithTheReason", func(t *testing.T) {
		r := env.Do(t, http.MethodPost, "/v1/claims", point, w.claim("reimbursement", w.newUnit, "RP-0", "performance", labor(5000)))
		p := requireProblem(t, r, http.StatusUnprocessableEntity, "invalid", "body.ticket_id")
		require.Contains(t, string(r.Body), "a reimbursement claim needs the ticket (or service record) of the repair", "%v", p)
	})

	t.Run("TheTicketMustBeACompletedRepairOfTheUnit", func(t *testing.T) {
		open := ticketInStateOf(t, env, w.admin, point, w.newUnit, "TKT-OPEN", "on_site")
		r := env.Do(t, http.MethodPost, "/v1/claims", point, with(w.claim("reimbursement", w.newUnit, "RP-T1", "performance", labor(5000)), "ticket_id", open))
		p := requireProblem(t, r, http.StatusUnprocessableEntity, "invalid", "body.ticket_id")
		require.Contains(t, string(r.Body), "not completed", "%v", p)
		r = env.Do(t, http.MethodPost, "/v1/claims", point, with(w.claim("reimbursement", w.newUnit, "RP-T2", "performance", labor(5000)), "ticket_id", "TKT-1"))
		requireProblem(t, r, http.StatusUnprocessableEntity, "invalid", "body.ticket_id")
		other := completedTicket(t, env, w.admin, w.unit, "TKT-OTHER-UNIT")
		r = env.Do(t, http.MethodPost, "/v1/claims", point, with(w.claim("reimbursement", w.newUnit, "RP-T3", "performance", labor(5000)), "ticket_id", other))
		requireProblem(t, r, http.StatusUnprocessableEntity, "invalid", "body.ticket_id")
		// A completed repair of the unit that no node (or another node) served
		// is not the point's to claim: it is unknown to it.
		unserved := completedTicket(t, env, w.admin, w.newUnit, "TKT-UNSERVED")
		r = env.Do(t, http.MethodPost, "/v1/claims", point, with(w.claim("reimbursement", w.newUnit, "RP-T4", "performance", labor(5000)), "ticket_id", unserved))
		requireProblem(t, r, http.StatusUnprocessableEntity, "invalid", "body.ticket_id")
	})

	// A service record names the repair the claim is for (adjudication does
	// not count it as an earlier repair): a repair of the claim's unit on
	// its occurred_on, for every kind. Before, a claim of any kind but a
	// reimbursement could name any well-formed ID, and an earlier repair of
	// the unit was then left out of the history the rules weigh.
	t.Run("AServiceRecordIsTheRepairOfTheClaimsDay", func(t *testing.T) {
		record := func(unit, on string) string {
			return createdID(t, env, w.admin, "/v1/units/"+unit+"/service-records", map[string]any{"kind": "repair", "occurred_on": on,
				"basis": "manufacturer_warranty", "fault_cause": "performance", "part_categories": []string{"control_board"}})
		}
		earlier, today, otherUnit := record(w.unit, shanghaiToday(-20)), record(w.unit, shanghaiToday(0)), record(w.newUnit, shanghaiToday(0))
		before := listIDs(t, env, w.admin, "/v1/claims?unit_id="+w.unit)
		for _, c := range []struct {
			key, kind, record, want string
		}{
			{w.admin, "extended_warranty", earlier, "was done on " + shanghaiToday(-20)},
			{w.admin, "extended_warranty", otherUnit, "no repair with this id"},
			{w.admin, "extended_warranty", "svr_00000000000000000000000000", "no repair with this id"},
			{point, "reimbursement", earlier, "was done on " + shanghaiToday(-20)},
		} {
			r := env.Do(t, http.MethodPost, "/v1/claims", c.key, with(w.claim(c.kind, w.unit, "RP-SR-"+c.record, "performance", labor(5000)),
				"service_record_id", c.record))
			requireProblem(t, r, http.StatusUnprocessableEntity, "invalid", "body.service_record_id")
			require.Contains(t, string(r.Body), c.want)
		}
		require.Equal(t, before, listIDs(t, env, w.admin, "/v1/claims?unit_id="+w.unit), "nothing filed")
		r := env.Do(t, http.MethodPost, "/v1/claims", w.admin, with(w.claim("extended_warranty", w.unit, "RP-SR-OK", "performance", labor(5000)),
			"service_record_id", today))
		require.Equal(t, http.StatusCreated, r.Status, "%s", r.Body)
		require.Equal(t, today, r.JSON(t)["service_record_id"])
	})

	t.Run("ANodeKeyFilesOnlyReimbursement", func(t *testing.T) {
		r := env.Do(t, http.MethodPost, "/v1/claims", point, with(w.claim("warranty", w.newUnit, "RP-1", "performance", labor(5000)), "ticket_id", "TKT-1"))
		requireProblem(t, r, http.StatusUnprocessableEntity, "invalid", "body.kind")
	})

	t.Run("PartsAboveTheMarkupCapAreFlaggedAndCapped", func(t *testing.T) {
		// The ticket fitted the board and took the old one back for the
		// brand: only the markup is flagged.
		tkt := completedTicketOf(t, env, w.admin, point, w.newUnit, "TKT-2")
		fittedAndReturned(t, env, w.admin, tkt, w.board)
		r := env.Do(t, http.MethodPost, "/v1/claims", point, with(w.claim("reimbursement", w.newUnit, "RP-2", "performance",
			labor(5000), w.boardLine(50000)), "ticket_id", tkt))
		require.Equal(t, http.StatusCreated, r.Status, "%s", r.Body)
		id := r.JSON(t)["id"].(string)
		m := waitClaim(t, env, point, id, "submitted")
		require.Equal(t, "under_review", m["state"], "%v", m)
		require.Equal(t, []string{"markup_above_cap"}, flagCodes(m))
		ls := claimLines(m)
		require.Len(t, ls, 2)
		require.Equal(t, int64(5000), amountOf(ls[0]["calculated"]), "in warranty: the brand owes the labor")
		require.Equal(t, int64(36000), amountOf(ls[1]["calculated"]), "the part at most at the price list plus 20%%")
		require.Equal(t, "manufacturer_warranty", m["decision"].(map[string]any)["basis"])

		require.Equal(t, []string{id}, listIDs(t, env, point, "/v1/claims"))
		require.Empty(t, listIDs(t, env, storefront, "/v1/claims"))
		r = env.Do(t, http.MethodGet, "/v1/claims/"+id, storefront, nil)
		require.Equal(t, http.StatusNotFound, r.Status, "%s", r.Body)

		r = env.Do(t, http.MethodPost, "/v1/claims/"+id+"/approve", w.admin, nil, env.IfMatch(t, "/v1/claims/"+id, w.admin)...)
		require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
		require.Equal(t, int64(41000), amountOf(r.JSON(t)["total_approved"]))
	})

	t.Run("WithdrawnAfterARequestForInformation", func(t *testing.T) {
		r := env.Do(t, http.MethodPost, "/v1/claims", point, with(w.claim("reimbursement", w.newUnit, "RP-3", "performance",
			labor(5000)), "ticket_id", completedTicketOf(t, env, w.admin, point, w.newUnit, "TKT-3")))
		require.Equal(t, http.StatusCreated, r.Status, "%s", r.Body)
		id := r.JSON(t)["id"].(string)
		m := waitClaim(t, env, point, id, "submitted")
		require.Equal(t, "under_review", m["state"], "%v", m)
		require.Contains(t, flagCodes(m), "duplicate", "RP-2 was approved for the same unit and cause")

		r = env.Do(t, http.MethodPost, "/v1/claims/"+id+"/request-info", w.admin, map[string]any{"reason": "same repair as RP-2?"},
			`If-Match: "v1"`)
		requireProblem(t, r, http.StatusPreconditionFailed, "precondition_failed", "")
		r = env.Do(t, http.MethodGet, "/v1/claims/"+id, point, nil)
		r = env.Do(t, http.MethodPost, "/v1/claims/"+id+"/request-info", w.admin, map[string]any{"reason": "same repair as RP-2?"},
			"If-Match: "+r.Header.Get("ETag"))
		require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
		r = env.Do(t, http.MethodPost, "/v1/claims/"+id+"/withdraw", point, map[string]any{"reason": "filed twice"}, env.IfMatch(t, "/v1/claims/"+id, point)...)
		require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
		require.Equal(t, "withdrawn", r.JSON(t)["state"])
		r = env.Do(t, http.MethodPost, "/v1/claims/"+id+"/resubmit", point, map[string]any{"occurred_on": shanghaiToday(0),
			"fault": map[string]any{"cause": "performance"}, "service_record_id": "svr_00000000000000000000000000", "lines": []map[string]any{labor(5000)}}, env.IfMatch(t, "/v1/claims/"+id, point)...)
		p := requireProblem(t, r, http.StatusConflict, "conflict", "")
		require.Contains(t, p["detail"], "claim is withdrawn; allowed: none")
	})

	t.Run("AnotherTenantSeesNothing", func(t *testing.T) {
		otherTenant := env.CreateTenant(t, "claims-other")
		other := otherTenant.AdminKey
		require.Empty(t, listIDs(t, env, other, "/v1/claims"))
		ids := listIDs(t, env, w.admin, "/v1/claims")
		require.NotEmpty(t, ids)
		for _, path := range []string{"/v1/claims/" + ids[0], "/v1/claims/" + ids[0] + "/versions"} {
			r := env.Do(t, http.MethodGet, path, other, nil)
			require.Equal(t, http.StatusNotFound, r.Status, "%s", r.Body)
		}
		r := env.Do(t, http.MethodPost, "/v1/claims/"+ids[0]+"/approve", other, nil)
		require.Equal(t, http.StatusNotFound, r.Status, "%s", r.Body)

		// Row-level security alone holds when the application's filter
		// points at the claims' tenant.
		restore := pg.OverrideTenantFilterForTest(otherTenant.ID, tenantOf(t, env, w.admin))
		defer restore()
		require.Empty(t, listIDs(t, env, other, "/v1/claims"))
		for _, path := range []string{"/v1/claims/" + ids[0], "/v1/claims/" + ids[0] + "/transitions"} {
			r := env.Do(t, http.MethodGet, path, other, nil)
			require.Equal(t, http.StatusNotFound, r.Status, "%s", r.Body)
		}
		r = env.Do(t, http.MethodPost, "/v1/claims/"+ids[0]+"/reject", other, map[string]any{"reason": "probe"})
		require.Equal(t, http.StatusNotFound, r.Status, "%s", r.Body)
	})
}

// completedTicket records a completed service ticket for unit (the repair
// a reimbursement claim rests on) directly in the tenant's tables.
func completedTicket(t *testing.T, env *apitest.Env, admin, unit, number string) string {
	t.Helper()
	return ticketInState(t, env, admin, unit, number, "completed")
}

// completedTicketOf is completedTicket served by the node of node-bound key
// servedBy: the node a reimbursement for its repair is paid to.
func completedTicketOf(t *testing.T, env *apitest.Env, admin, servedBy, unit, number string) string {
	t.Helper()
	return ticketInStateOf(t, env, admin, servedBy, unit, number, "completed")
}

// fittedAndReturned records in the tenant's tables that ticket fitted one
// of part, from its node's stock, and took the replaced one back for the
// brand.
func fittedAndReturned(t *testing.T, env *apitest.Env, admin, ticket, part string) {
	t.Helper()
	r := env.Do(t, http.MethodGet, "/v1/me", admin, nil)
	require.Equal(t, http.StatusOK, r.Status)
	tenantID := r.JSON(t)["tenant"].(map[string]any)["id"].(string)
	require.NoError(t, pg.InTenantTx(context.Background(), env.DB.App, tenantID, func(tx pg.TenantTx) error {
		_, err := tx.Exec(context.Background(), `INSERT INTO ticket_parts (tenant_id, ticket_id, part_id, node_id, reserved, issued, used,
			defective_returned) SELECT $1, $2, $3, node_id, 1, 1, 1, 1 FROM tickets WHERE tenant_id = $1 AND id = $2`, tenantID, ticket, part)
		return err
	}))
}

// ticketInStateOf is ticketInState served by the node of node-bound key
// servedBy.
func ticketInStateOf(t *testing.T, env *apitest.Env, admin, servedBy, unit, number, state string) string {
	t.Helper()
	id := ticketInState(t, env, admin, unit, number, state)
	r := env.Do(t, http.MethodGet, "/v1/me", servedBy, nil)
	require.Equal(t, http.StatusOK, r.Status)
	m := r.JSON(t)
	node := m["key"].(map[string]any)["node_id"].(string)
	tenantID := m["tenant"].(map[string]any)["id"].(string)
	require.NoError(t, pg.InTenantTx(context.Background(), env.DB.App, tenantID, func(tx pg.TenantTx) error {
		_, err := tx.Exec(context.Background(), `UPDATE tickets SET node_id = $3 WHERE tenant_id = $1 AND id = $2`, tenantID, id, node)
		return err
	}))
	return id
}

// ticketInState records a service ticket for unit in state directly in the
// tenant's tables.
func ticketInState(t *testing.T, env *apitest.Env, admin, unit, number, state string) string {
	t.Helper()
	r := env.Do(t, http.MethodGet, "/v1/me", admin, nil)
	require.Equal(t, http.StatusOK, r.Status)
	tenantID := r.JSON(t)["tenant"].(map[string]any)["id"].(string)
	r = env.Do(t, http.MethodGet, "/v1/units/"+unit, admin, nil)
	require.Equal(t, http.StatusOK, r.Status)
	customer := r.JSON(t)["customer_id"].(string)
	id := tenants.NewID(tenants.PrefixTicket)
	require.NoError(t, pg.InTenantTx(context.Background(), env.DB.App, tenantID, func(tx pg.TenantTx) error {
		_, err := tx.Exec(context.Background(), `INSERT INTO tickets (tenant_id, id, number, channel, type, state, customer_id,
			unit_id, contact, address, fault, created_by, completed_at)
			VALUES ($1, $2, $3, 'hotline', 'repair', $6, $4, $5, '{"name":"x","phone":"13800000000"}',
			'{"region_code":"370212","line":"x"}', '{"symptom":"x"}', 'test', now())`, tenantID, id, number, customer, unit, state)
		return err
	}))
	return id
}
