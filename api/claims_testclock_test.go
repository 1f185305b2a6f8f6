package api_test

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/servicenet/servicenet/internal/apitest"
	"github.com/servicenet/servicenet/internal/pg"
	"github.com/servicenet/servicenet/tenants"
)

// claimMissedAt reads what the claim's row records of its deadlines.
func claimMissedAt(t *testing.T, env *apitest.Env, ctx context.Context, tenantID, id string) (review, decision *time.Time) {
	t.Helper()
	require.NoError(t, pg.InTenantTx(ctx, env.DB.App, tenantID, func(tx pg.TenantTx) error {
		return tx.QueryRow(ctx, `SELECT review_missed_at, decision_missed_at FROM claims WHERE tenant_id = $1 AND id = $2`,
			tx.TenantID, id).Scan(&review, &decision)
	}))
	return review, decision
}

// missedDeadlines are the claim.deadline_missed events of claim id: the
// deadline and due_at of each, oldest first.
func missedDeadlines(t *testing.T, env *apitest.Env, ctx context.Context, tenantID, id string) []map[string]any {
	t.Helper()
	var out []map[string]any
	for _, m := range eventsIn(t, env, ctx, tenantID, "claim.deadline_missed", id) {
		out = append(out, map[string]any{"deadline": m["deadline"], "due_at": m["due_at"]})
	}
	return out
}

// TestClaimsOnTestClocks: in test mode a storefront files a claim on its
// test clock and sees, by advancing the clock through the real River jobs,
// what a claim's 24-hour review and 30-day decision deadlines do
// (claim.deadline_missed once each, stamped with the clock's time), and a
// claim under an accidental-damage plan that starts on day 31 (seed: the
// plan covers from day 31) covered on the clock's day 35, with the money
// the plan owes. Bad clocks are refused at body.test_clock_id and write
// nothing.
func TestClaimsOnTestClocks(t *testing.T) {
	t.Parallel()
	env := apitest.Shared(t)
	ten := env.CreateTenant(t, "claim-clocks")
	test, _ := testAdminKey(t, env, ten.AdminKey)
	live := ten.AdminKey
	tctx, lctx := pg.WithLivemode(context.Background(), false), context.Background()
	s := phoneShopOf(t, env, test)
	start := time.Now().Truncate(time.Second)
	const day = 24 * time.Hour
	// Everything waits for a person: no auto-approval.
	r := env.Do(t, http.MethodPut, "/v1/claims/policy", test, map[string]any{"auto_approve_limit": cnyBody(0),
		"duplicate_window_days": 30, "parts_markup_cap_percent": 20})
	require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
	screenClaim := func(unit, contract, ref, occurredOn string, extra ...any) map[string]any {
		b := map[string]any{"kind": "accidental_damage", "unit_id": unit, "contract_id": contract, "reference": ref,
			"fault":       map[string]any{"cause": "accidental_damage", "part_categories": []string{"screen"}, "description": "跌落碎屏"},
			"occurred_on": occurredOn, "total": cnyBody(128000), "lines": []map[string]any{
				{"kind": "labor", "description": "换屏工时", "requested": cnyBody(8000)},
				{"kind": "part", "part_id": s.screen, "quantity": 1, "requested": cnyBody(120000)}}}
		return with(b, extra...)
	}
	same := func(t *testing.T, want time.Time, got any, msg string) {
		t.Helper()
		require.Equal(t, want.UTC(), mustTime(t, got).UTC(), msg)
	}

	t.Run("DeadlinesMissedOnTheClock", func(t *testing.T) {
		clock := createClock(t, env, s.shopA, start)
		unit, contract := s.sell(t, env, s.shopA, "SN-CLK-0001", 39) // day 40 on the wall clock: the plan runs
		r := env.Do(t, http.MethodPost, "/v1/claims", s.shopA, screenClaim(unit, contract, "CLK-CLM-1", shanghaiToday(0), "test_clock_id", clock))
		require.Equal(t, http.StatusCreated, r.Status, "%s", r.Body)
		c := r.JSON(t)
		id := c["id"].(string)
		require.Equal(t, clock, c["test_clock_id"], "the claim says which clock it is on")
		same(t, start, c["created_at"], "filed at the clock's time")
		same(t, start.Add(day), c["review_due_at"], "24 hours on the clock to respond")
		same(t, start.Add(30*day), c["decision_due_at"], "30 days on the clock to decide")

		c = waitClaim(t, env, s.shopA, id, "submitted")
		require.Equal(t, "under_review", c["state"], "%v", c)
		require.Equal(t, clock, c["test_clock_id"])
		same(t, start, c["updated_at"], "adjudicated at the clock's time")
		require.NotContains(t, c, "responded_at", "left for a person: no response yet")
		r = env.Do(t, http.MethodGet, "/v1/claims/"+id+"/transitions", s.shopA, nil)
		require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
		for _, tr := range r.JSON(t)["data"].([]any) {
			same(t, start, tr.(map[string]any)["changed_at"], "history on the clock's time")
		}

		// The wall clock does not sweep a clock's claim, however late it is.
		_, err := env.Claims.SweepDeadlines(tctx, ten.ID, start.Add(40*day))
		require.NoError(t, err)
		require.Empty(t, missedDeadlines(t, env, tctx, ten.ID, id), "the wall-clock sweep leaves a clock's claim to its clock")
		work, err := env.Claims.TenantsDeadlinesDue(tctx, start.Add(40*day))
		require.NoError(t, err)
		for _, w := range work {
			require.False(t, w.TenantID == ten.ID && !w.Live, "the wall-clock question does not count a clock's claims: %v", w)
		}
		require.NotContains(t, listIDs(t, env, s.shopA, "/v1/claims?overdue=true"), id, "not overdue at the clock's time")

		// 25 hours on the clock: the review deadline is missed, once.
		advanceClock(t, env, s.shopA, clock, start.Add(25*time.Hour))
		m := missedDeadlines(t, env, tctx, ten.ID, id)
		require.Len(t, m, 1, "%v", m)
		require.Equal(t, "review", m[0]["deadline"])
		same(t, start.Add(day), m[0]["due_at"], "due 24 hours after the filing on the clock")
		review, decision := claimMissedAt(t, env, tctx, ten.ID, id)
		require.NotNil(t, review)
		require.Equal(t, start.Add(25*time.Hour).UTC(), review.UTC(), "missed at the clock's time")
		require.Nil(t, decision)
		r = env.Do(t, http.MethodGet, "/v1/claims/"+id, s.shopA, nil)
		require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
		require.Equal(t, []any{"review"}, r.JSON(t)["deadlines_missed"])
		require.Contains(t, listIDs(t, env, s.shopA, "/v1/claims?overdue=true"), id, "overdue at the clock's time (not yet on the wall clock)")

		// A reviewer asks for information on the clock's time: the response
		// is stamped with it; the decision deadline keeps running.
		r = env.Do(t, http.MethodPost, "/v1/claims/"+id+"/request-info", test, map[string]any{"reason": "请补充购买发票照片"},
			env.IfMatch(t, "/v1/claims/"+id, test)...)
		require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
		c = r.JSON(t)
		require.Equal(t, "needs_info", c["state"])
		same(t, start.Add(25*time.Hour), c["responded_at"], "responded at the clock's time")
		same(t, start.Add(25*time.Hour), c["updated_at"], "updated at the clock's time")

		// 31 days on the clock: the decision deadline is missed, once.
		advanceClock(t, env, s.shopA, clock, start.Add(31*day))
		m = missedDeadlines(t, env, tctx, ten.ID, id)
		require.Len(t, m, 2, "%v", m)
		require.Equal(t, "decision", m[1]["deadline"])
		same(t, start.Add(30*day), m[1]["due_at"], "due 30 days after the filing on the clock")
		_, decision = claimMissedAt(t, env, tctx, ten.ID, id)
		require.NotNil(t, decision)
		require.Equal(t, start.Add(31*day).UTC(), decision.UTC(), "missed at the clock's time")

		// Again: nothing more.
		advanceClock(t, env, s.shopA, clock, start.Add(32*day))
		require.Len(t, missedDeadlines(t, env, tctx, ten.ID, id), 2, "each deadline is recorded once")
		r = env.Do(t, http.MethodGet, "/v1/claims/"+id, s.shopA, nil)
		require.Equal(t, []any{"review", "decision"}, r.JSON(t)["deadlines_missed"])
	})

	t.Run("BadClockWritesNothing", func(t *testing.T) {
		clock := createClock(t, env, s.shopA, start)
		before := claimCount(t, env, ten.ID)

		// A live key: there are no clocks in live mode.
		liveUnit := contractUnitIn(lctx, t, env, ten.ID, "phone", 12, shanghaiToday(-10), "")
		r := env.Do(t, http.MethodPost, "/v1/claims", live, map[string]any{"kind": "warranty", "unit_id": liveUnit, "reference": "CLK-LIVE",
			"fault": map[string]any{"cause": "performance"}, "occurred_on": shanghaiToday(0), "test_clock_id": clock,
			"lines": []map[string]any{{"kind": "labor", "requested": cnyBody(8000)}}})
		require.Equal(t, []string{"body.test_clock_id"}, problemLocations(t, r, http.StatusUnprocessableEntity))

		// Another storefront's clock is no clock for this one.
		unitB, contractB := s.sell(t, env, s.shopB, "SN-CLK-0002", 39)
		r = env.Do(t, http.MethodPost, "/v1/claims", s.shopB, screenClaim(unitB, contractB, "CLK-CLM-B", shanghaiToday(0), "test_clock_id", clock))
		require.Equal(t, []string{"body.test_clock_id"}, problemLocations(t, r, http.StatusUnprocessableEntity))
		require.NotContains(t, string(r.Body), s.shopA)

		// Clocks do not mix: a contract on the brand's clock, a claim on the
		// storefront's.
		brandClock := createClock(t, env, test, start.Add(time.Hour))
		unit, contract := s.sell(t, env, s.shopA, "SN-CLK-0003", 39)
		require.Equal(t, http.StatusOK, attachToClock(t, env, test, brandClock, contract).Status)
		r = env.Do(t, http.MethodPost, "/v1/claims", s.shopA, screenClaim(unit, contract, "CLK-CLM-MIX", shanghaiToday(0), "test_clock_id", clock))
		require.Equal(t, []string{"body.test_clock_id"}, problemLocations(t, r, http.StatusUnprocessableEntity))
		// A ticket of the unit on the brand's clock, a claim on the
		// storefront's.
		unitT, contractT := s.sell(t, env, s.shopA, "SN-CLK-0006", 39)
		ticket := tenants.NewID(tenants.PrefixTicket)
		require.NoError(t, pg.InTenantTx(tctx, env.DB.App, ten.ID, func(tx pg.TenantTx) error {
			_, err := tx.Exec(tctx, `INSERT INTO tickets (tenant_id, id, number, channel, type, state, customer_id,
				unit_id, contact, address, fault, created_by, completed_at, test_clock_id)
				SELECT $1, $2, 'CLK-TKT-0006', 'hotline', 'repair', 'completed', u.customer_id, u.id, '{"name":"x","phone":"13800000000"}',
				'{"region_code":"370212","line":"x"}', '{"symptom":"x"}', 'test', now(), $4
				FROM units u WHERE u.tenant_id = $1 AND u.id = $3`, tx.TenantID, ticket, unitT, brandClock)
			return err
		}))
		r = env.Do(t, http.MethodPost, "/v1/claims", s.shopA, screenClaim(unitT, contractT, "CLK-CLM-TKT", shanghaiToday(0),
			"test_clock_id", clock, "ticket_id", ticket))
		require.Equal(t, []string{"body.test_clock_id"}, problemLocations(t, r, http.StatusUnprocessableEntity))
		require.Contains(t, string(r.Body), ticket, "the problem names the ticket on the other clock")
		require.Equal(t, before, claimCount(t, env, ten.ID), "nothing written")

		// Without test_clock_id the claim takes its contract's clock.
		r = env.Do(t, http.MethodPost, "/v1/claims", test, screenClaim(unit, contract, "CLK-CLM-TAKES", shanghaiToday(0)))
		require.Equal(t, http.StatusCreated, r.Status, "%s", r.Body)
		require.Equal(t, brandClock, r.JSON(t)["test_clock_id"])
		same(t, start.Add(time.Hour), r.JSON(t)["created_at"], "filed at its contract's clock's time")
	})

	t.Run("PreviewOnTheContractsClock", func(t *testing.T) {
		// The entitlement preview of a unit whose plan lives on a clock is
		// decided at the clock's time: on the clock's day 35 the
		// accidental-damage plan (from day 31) covers a dropped phone's
		// screen, as a claim that day would be; on the wall clock's day 1
		// it had not started.
		clock := createClock(t, env, s.shopA, start)
		unit := createdID(t, env, s.shopA, "/v1/units", map[string]any{"model_id": s.phone, "serial": "SN-CLK-0008",
			"customer":      map[string]any{"name": "赵六", "phones": []string{"+86 138 0000 0008"}},
			"purchase_date": shanghaiToday(0), "purchase_price": cnyBody(499900), "invoice_number": "FP-CLK-0008"})
		r := env.Do(t, http.MethodPost, "/v1/contracts", s.shopA, map[string]any{"unit_id": unit, "plan_id": s.plan,
			"external_reference": "TM-CLK-0008", "test_clock_id": clock})
		require.Equal(t, http.StatusCreated, r.Status, "%s", r.Body)
		contract := r.JSON(t)["id"].(string)
		preview := func(t *testing.T, key string, extra ...any) map[string]any {
			t.Helper()
			r := env.Do(t, http.MethodPost, "/v1/entitlements/decide", key, with(map[string]any{"unit_id": unit,
				"fault": map[string]any{"cause": "accidental_damage", "part_categories": []string{"screen"}},
				"work":  map[string]any{"service_kind": "repair", "parts": []map[string]any{{"part_id": s.screen, "quantity": 1}}}}, extra...))
			require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
			return r.JSON(t)
		}
		e := preview(t, s.shopA)
		require.Equal(t, shanghaiToday(0), e["on"])
		require.NotEqual(t, "accidental_damage", e["decision"].(map[string]any)["basis"], "day 1: the plan has not started")

		advanceClock(t, env, s.shopA, clock, start.Add(34*day))
		for _, extra := range [][]any{nil, {"test_clock_id", clock}} {
			e = preview(t, s.shopA, extra...)
			require.Equal(t, shanghaiToday(34), e["on"], "the clock's today")
			dec := e["decision"].(map[string]any)
			require.Equal(t, "accidental_damage", dec["basis"], "the plan covers on the clock's day 35")
			require.Equal(t, contract, dec["contract_id"])
			tot := dec["totals"].(map[string]any)
			require.Positive(t, amountOf(tot["plan"]), "the plan pays its share")
		}
		r = env.Do(t, http.MethodPost, "/v1/entitlements/decide", live, map[string]any{"unit_id": unit, "test_clock_id": clock,
			"fault": map[string]any{"cause": "accidental_damage"}})
		require.Contains(t, []int{http.StatusNotFound, http.StatusUnprocessableEntity}, r.Status, "%s", r.Body)
	})

	t.Run("CoveredOnTheClocksDay", func(t *testing.T) {
		// Bought today, with the accidental-damage plan on a clock: the plan
		// covers from day 31 (purchase + 30). On the clock's day 35 a
		// dropped phone's screen is the plan's: half of the repair (the
		// plan's 50 %), 4,000 of the 8,000 labor and 60,000 of the 120,000
		// screen, 64,000 in all, owed under the contract.
		clock := createClock(t, env, s.shopA, start)
		unit := createdID(t, env, s.shopA, "/v1/units", map[string]any{"model_id": s.phone, "serial": "SN-CLK-0004",
			"customer":      map[string]any{"name": "赵六", "phones": []string{"+86 138 0000 0004"}},
			"purchase_date": shanghaiToday(0), "purchase_price": cnyBody(499900), "invoice_number": "FP-CLK-0004"})
		r := env.Do(t, http.MethodPost, "/v1/contracts", s.shopA, map[string]any{"unit_id": unit, "plan_id": s.plan,
			"external_reference": "TM-CLK-0004", "test_clock_id": clock})
		require.Equal(t, http.StatusCreated, r.Status, "%s", r.Body)
		contract := r.JSON(t)["id"].(string)
		require.Equal(t, shanghaiToday(30), r.JSON(t)["starts_on"], "day 31")

		day35 := shanghaiToday(34)
		// On the wall clock day 35 has not come.
		r = env.Do(t, http.MethodPost, "/v1/claims", s.shopA, screenClaim(unit, contract, "CLK-CLM-WALL", day35))
		require.Equal(t, []string{"body.occurred_on"}, problemLocations(t, r, http.StatusUnprocessableEntity))

		at := start.Add(34 * day)
		advanceClock(t, env, s.shopA, clock, at)
		require.Equal(t, "active", contractState(t, env, s.shopA, contract), "the plan started on the clock")
		r = env.Do(t, http.MethodPost, "/v1/claims", s.shopA, screenClaim(unit, contract, "CLK-CLM-35", day35, "test_clock_id", clock))
		require.Equal(t, http.StatusCreated, r.Status, "%s", r.Body)
		id := r.JSON(t)["id"].(string)
		same(t, at, r.JSON(t)["created_at"], "filed on the clock's day 35")

		c := waitClaim(t, env, s.shopA, id, "submitted")
		require.Equal(t, "under_review", c["state"], "%v", c)
		dec := c["decision"].(map[string]any)
		require.Equal(t, "accidental_damage", dec["basis"], "the plan pays")
		require.Equal(t, contract, dec["contract_id"], "under the contract on the clock")
		lines := claimLines(c)
		require.Equal(t, int64(4000), amountOf(lines[0]["calculated"]), "half the labor")
		require.Equal(t, int64(60000), amountOf(lines[1]["calculated"]), "half the screen")
		require.Equal(t, int64(64000), amountOf(c["total_calculated"]))

		r = env.Do(t, http.MethodPost, "/v1/claims/"+id+"/approve", test, map[string]any{"reason": "发票核实"},
			env.IfMatch(t, "/v1/claims/"+id, test)...)
		require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
		c = r.JSON(t)
		require.Equal(t, "approved", c["state"])
		require.Equal(t, int64(64000), amountOf(c["total_approved"]), "the plan's half, approved")
		require.Equal(t, day35, c["approved_on"], "approved on the clock's day")
		same(t, at, c["responded_at"], "decided at the clock's time")

		r = env.Do(t, http.MethodPost, "/v1/claims/"+id+"/mark-paid", test, map[string]any{"payment_reference": "PAY-CLK"},
			env.IfMatch(t, "/v1/claims/"+id, test)...)
		require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
		same(t, at, r.JSON(t)["paid_at"], "paid at the clock's time")
	})

	t.Run("Attach", func(t *testing.T) {
		clock := createClock(t, env, s.shopA, start)
		unit, contract := s.sell(t, env, s.shopA, "SN-CLK-0005", 39)
		r := env.Do(t, http.MethodPost, "/v1/claims", s.shopA, screenClaim(unit, contract, "CLK-CLM-ATT", shanghaiToday(0)))
		require.Equal(t, http.StatusCreated, r.Status, "%s", r.Body)
		id := r.JSON(t)["id"].(string)
		require.NotContains(t, r.JSON(t), "test_clock_id", "on the wall clock")
		require.Equal(t, http.StatusNotFound, attachToClock(t, env, s.shopB, clock, id).Status, "another storefront's claim, and clock")
		r = attachToClock(t, env, s.shopA, clock, id)
		require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
		require.Equal(t, http.StatusOK, attachToClock(t, env, s.shopA, clock, id).Status, "again: nothing changes")
		r = env.Do(t, http.MethodGet, "/v1/claims/"+id, s.shopA, nil)
		require.Equal(t, clock, r.JSON(t)["test_clock_id"])
		_, err := env.Claims.SweepDeadlines(tctx, ten.ID, start.Add(40*day))
		require.NoError(t, err)
		require.Empty(t, missedDeadlines(t, env, tctx, ten.ID, id), "attached: the wall-clock sweep leaves it to its clock")
		other := createClock(t, env, test, start)
		require.Equal(t, http.StatusConflict, attachToClock(t, env, test, other, id).Status, "on another clock")
		r = attachToClock(t, env, test, clock, tenants.NewID(tenants.PrefixClaim))
		require.Equal(t, []string{"body.object_id"}, problemLocations(t, r, http.StatusUnprocessableEntity))

		// Objects on two clocks do not mix, attached later as at filing: a
		// wall-clock claim whose contract went onto one clock is not
		// attached to another (409 naming the contract), and is to the
		// contract's own.
		unit, contract = s.sell(t, env, s.shopA, "SN-CLK-0007", 39)
		r = env.Do(t, http.MethodPost, "/v1/claims", s.shopA, screenClaim(unit, contract, "CLK-CLM-ATT2", shanghaiToday(0)))
		require.Equal(t, http.StatusCreated, r.Status, "%s", r.Body)
		id = r.JSON(t)["id"].(string)
		require.Equal(t, http.StatusOK, attachToClock(t, env, s.shopA, clock, contract).Status)
		r = attachToClock(t, env, test, other, id)
		require.Equal(t, http.StatusConflict, r.Status, "%s", r.Body)
		require.Contains(t, r.JSON(t)["detail"], contract)
		require.Empty(t, clockOfRow(t, env, tctx, ten.ID, "claims", id), "nothing attached")
		require.Equal(t, http.StatusOK, attachToClock(t, env, s.shopA, clock, id).Status, "the contract's clock")
	})
}
