package api_test

import (
	"context"
	"net/http"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"

	"github.com/servicenet/servicenet/internal/apitest"
	"github.com/servicenet/servicenet/internal/pg"
	"github.com/servicenet/servicenet/tenants"
	"github.com/servicenet/servicenet/tenants/testclocks"
)

// createClock creates a test clock at frozen with key and returns its ID.
func createClock(t *testing.T, env *apitest.Env, key string, frozen time.Time) string {
	t.Helper()
	r := env.Do(t, http.MethodPost, "/v1/test_clocks", key, map[string]any{"name": "clock", "frozen_time": frozen.Format(time.RFC3339Nano)})
	require.Equal(t, http.StatusCreated, r.Status, "%s", r.Body)
	m := r.JSON(t)
	require.Equal(t, "ready", m["status"])
	require.Equal(t, false, m["livemode"])
	require.Equal(t, "/v1/test_clocks/"+m["id"].(string), r.Header.Get("Location"))
	return m["id"].(string)
}

// advanceClock advances the clock to at and waits until the advance's job
// has fired what fell due (the clock is ready again).
func advanceClock(t *testing.T, env *apitest.Env, key, id string, at time.Time) {
	t.Helper()
	r := env.Do(t, http.MethodPost, "/v1/test_clocks/"+id+"/advance", key, map[string]any{"frozen_time": at.Format(time.RFC3339Nano)})
	require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
	require.Equal(t, "advancing", r.JSON(t)["status"])
	require.Eventually(t, func() bool {
		r := env.Do(t, http.MethodGet, "/v1/test_clocks/"+id, key, nil)
		return r.Status == http.StatusOK && r.JSON(t)["status"] == "ready"
	}, 30*time.Second, 50*time.Millisecond, "the clock's advance job did not run")
}

func attachToClock(t *testing.T, env *apitest.Env, key, clock, object string) *apitest.Response {
	t.Helper()
	return env.Do(t, http.MethodPost, "/v1/test_clocks/"+clock+"/attach", key, map[string]any{"object_id": object})
}

func contractState(t *testing.T, env *apitest.Env, key, id string) string {
	t.Helper()
	r := env.Do(t, http.MethodGet, "/v1/contracts/"+id, key, nil)
	require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
	return r.JSON(t)["state"].(string)
}

// TestTestClocks is issue 14's test-clock scenario, in test mode through the
// real River jobs: a protection plan sold today on a clock starts on day 31
// only when the clock gets there; a ticket completed on a clock gets its
// 72-hour callback breach when the clock moves 73 hours, stamped with the
// clock's time; nothing live moves, and live keys see no clock.
func TestTestClocks(t *testing.T) {
	t.Parallel()
	env := apitest.New(t)
	d := env.TestModeDemoBrand(t, "test-clocks")
	test, live := d.AdminKey, d.LiveAdminKey
	tctx, lctx := pg.WithLivemode(context.Background(), false), context.Background()
	start := time.Now().Truncate(time.Second)

	planID := func(ctx context.Context) string {
		var id string
		require.NoError(t, pg.InTenantTx(ctx, env.DB.App, d.ID, func(tx pg.TenantTx) error {
			return tx.QueryRow(ctx, `SELECT id FROM coverage_plans WHERE tenant_id = $1 AND kind = 'accidental_damage' AND code = 'DEMO-ADP-1Y'`, tx.TenantID).Scan(&id)
		}))
		return id
	}
	_, err := env.Warranty.SeedDemoPlans(lctx, tenants.Principal{TenantID: d.ID, KeyID: "live-seed", Live: true})
	require.NoError(t, err)
	sell := func(ctx context.Context, key string) string {
		unit := contractUnitIn(ctx, t, env, d.ID, "phone", 12, shanghaiToday(0), "")
		r := env.Do(t, http.MethodPost, "/v1/contracts", key, map[string]any{"unit_id": unit, "plan_id": planID(ctx)})
		require.Equal(t, http.StatusCreated, r.Status, "%s", r.Body)
		m := r.JSON(t)
		require.Equal(t, "pending", m["state"])
		require.Equal(t, shanghaiToday(30), m["starts_on"], "accidental damage: from day 31 after the purchase (today is day 1)")
		return m["id"].(string)
	}

	t.Run("LiveModeNeverSeesAClock", func(t *testing.T) {
		clock := createClock(t, env, test, start)
		r := env.Do(t, http.MethodPost, "/v1/test_clocks", live, map[string]any{})
		require.Equal(t, http.StatusNotFound, r.Status, "%s", r.Body)
		for _, path := range []string{"/v1/test_clocks", "/v1/test_clocks/" + clock} {
			r := env.Do(t, http.MethodGet, path, live, nil)
			require.Equal(t, http.StatusNotFound, r.Status, "%s: %s", path, r.Body)
			require.NotContains(t, r.JSON(t)["detail"], clock)
		}
		r = env.Do(t, http.MethodPost, "/v1/test_clocks/"+clock+"/advance", live, map[string]any{"frozen_time": start.Add(time.Hour)})
		require.Equal(t, http.StatusNotFound, r.Status, "%s", r.Body)
		r = attachToClock(t, env, live, clock, tenants.NewID(tenants.PrefixTicket))
		require.Equal(t, http.StatusNotFound, r.Status, "%s", r.Body)
		r = env.Do(t, http.MethodGet, "/v1/test_clocks", test, nil)
		require.Equal(t, http.StatusOK, r.Status)
		require.Contains(t, ids(t, r), clock)
		// RLS alone: a live transaction sees no clock, and cannot write one.
		require.NoError(t, pg.InTenantTx(lctx, env.DB.App, d.ID, func(tx pg.TenantTx) error {
			var n int
			require.NoError(t, tx.QueryRow(lctx, `SELECT count(*) FROM test_clocks`).Scan(&n))
			require.Zero(t, n)
			return nil
		}))
		err := pg.InTenantTx(lctx, env.DB.App, d.ID, func(tx pg.TenantTx) error {
			_, err := tx.Exec(lctx, `INSERT INTO test_clocks (tenant_id, id, frozen_time) VALUES ($1, $2, now())`, d.ID, tenants.NewID(tenants.PrefixTestClock))
			return err
		})
		require.Error(t, err, "no clock in live mode")
	})

	t.Run("OtherTenantsClock", func(t *testing.T) {
		clock := createClock(t, env, test, start)
		otherKey, _ := testAdminKey(t, env, env.CreateTenant(t, "test-clocks-other").AdminKey)
		for _, c := range []struct {
			method, path string
			body         any
		}{
			{http.MethodGet, "/v1/test_clocks/" + clock, nil},
			{http.MethodPost, "/v1/test_clocks/" + clock + "/advance", map[string]any{"frozen_time": start.Add(time.Hour)}},
			{http.MethodPost, "/v1/test_clocks/" + clock + "/attach", map[string]any{"object_id": tenants.NewID(tenants.PrefixTicket)}},
		} {
			r := env.Do(t, c.method, c.path, otherKey, c.body)
			require.Equal(t, http.StatusNotFound, r.Status, "%s: %s", c.path, r.Body)
		}
		require.NotContains(t, ids(t, env.Do(t, http.MethodGet, "/v1/test_clocks", otherKey, nil)), clock)
	})

	t.Run("BadInput", func(t *testing.T) {
		clock := createClock(t, env, test, start)
		r := env.Do(t, http.MethodPost, "/v1/test_clocks/"+clock+"/advance", test, map[string]any{"frozen_time": start.Add(-time.Second)})
		require.Equal(t, []string{"body.frozen_time"}, problemLocations(t, r, http.StatusUnprocessableEntity), "a clock never goes back")
		r = env.Do(t, http.MethodPost, "/v1/test_clocks/"+clock+"/advance", test, map[string]any{"frozen_time": start})
		require.Equal(t, []string{"body.frozen_time"}, problemLocations(t, r, http.StatusUnprocessableEntity), "nor stands still")
		r = attachToClock(t, env, test, clock, tenants.NewID(tenants.PrefixTicket))
		require.Equal(t, []string{"body.object_id"}, problemLocations(t, r, http.StatusUnprocessableEntity))
		r = attachToClock(t, env, test, clock, tenants.NewID(tenants.PrefixNode))
		require.Equal(t, []string{"body.object_id"}, problemLocations(t, r, http.StatusUnprocessableEntity))
		liveContract := sell(lctx, live)
		r = attachToClock(t, env, test, clock, liveContract)
		require.Equal(t, []string{"body.object_id"}, problemLocations(t, r, http.StatusUnprocessableEntity), "a live object is not there for a test key")
		r = env.Do(t, http.MethodGet, "/v1/test_clocks/"+clock, test, nil)
		require.Equal(t, start.UTC(), mustTime(t, r.JSON(t)["frozen_time"]).UTC(), "nothing changed")
		other := createClock(t, env, test, start)
		ctr := sell(tctx, test)
		require.Equal(t, http.StatusOK, attachToClock(t, env, test, clock, ctr).Status)
		require.Equal(t, http.StatusOK, attachToClock(t, env, test, clock, ctr).Status, "again: nothing changes")
		r = attachToClock(t, env, test, other, ctr)
		require.Equal(t, http.StatusConflict, r.Status, "%s", r.Body)
		require.Equal(t, http.StatusNotFound, env.Do(t, http.MethodGet, "/v1/test_clocks/"+tenants.NewID(tenants.PrefixTestClock), test, nil).Status)
	})

	t.Run("AttachAtCreation", func(t *testing.T) {
		// A ticket opened, or a contract sold, with test_clock_id lives on
		// the clock from its first instant: stamped with the clock's time,
		// its timers parked from the start.
		at := start.Add(time.Hour)
		clock := createClock(t, env, test, at)
		loc := apitest.WeekdayMorning(start, 0).Location()
		unit := contractUnitIn(tctx, t, env, d.ID, "phone", 12, shanghaiToday(0), "")
		r := env.Do(t, http.MethodPost, "/v1/contracts", test, map[string]any{"unit_id": unit, "plan_id": planID(tctx), "test_clock_id": clock})
		require.Equal(t, http.StatusCreated, r.Status, "%s", r.Body)
		ctr := r.JSON(t)
		require.Equal(t, "pending", ctr["state"])
		require.Equal(t, at.In(loc).Format(time.DateOnly), ctr["sold_on"], "sold on the clock's today")
		require.Equal(t, clock, clockOfRow(t, env, tctx, d.ID, "contracts", ctr["id"].(string)))
		require.Equal(t, clock, ctr["test_clock_id"], "the contract says which clock it is on")
		_, err := env.Warranty.AdvanceContracts(tctx, d.ID, start.AddDate(5, 0, 0))
		require.NoError(t, err)
		require.Equal(t, "pending", contractState(t, env, test, ctr["id"].(string)), "the wall-clock lifecycle leaves the clock's contract to it")

		window0 := apitest.WeekdayMorning(time.Now(), 2)
		r = env.Do(t, http.MethodPost, "/v1/tickets", test, clockTicketBody(d, "CLK-0101", window0, map[string]any{"test_clock_id": clock}))
		require.Equal(t, http.StatusCreated, r.Status, "%s", r.Body)
		tk := r.JSON(t)
		id := tk["id"].(string)
		require.Equal(t, "new", tk["state"], "%v", tk["verification"])
		require.Equal(t, at.UTC(), mustTime(t, tk["created_at"]).UTC(), "opened at the clock's time")
		require.Equal(t, at.Add(5*time.Minute).UTC(), mustTime(t, tk["sla"].(map[string]any)["route_due_at"]).UTC(), "due on the clock's time")
		require.Equal(t, clock, clockOfRow(t, env, tctx, d.ID, "tickets", id))
		require.Equal(t, clock, tk["test_clock_id"], "the ticket says which clock it is on")
		r = env.Do(t, http.MethodGet, "/v1/tickets/"+id, test, nil)
		require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
		require.Equal(t, clock, r.JSON(t)["test_clock_id"])
		require.Equal(t, at.Add(5*time.Minute).UTC(), nextSLACheck(t, env, tctx, d.ID, id).UTC(),
			"first checked at its route deadline, on the clock's time")

		// Without test_clock_id nothing is on a clock.
		r = env.Do(t, http.MethodPost, "/v1/tickets", test, clockTicketBody(d, "CLK-0102", window0, nil))
		require.Equal(t, http.StatusCreated, r.Status, "%s", r.Body)
		require.Empty(t, clockOfRow(t, env, tctx, d.ID, "tickets", r.JSON(t)["id"].(string)))
		require.NotContains(t, r.JSON(t), "test_clock_id")
		wall := r.JSON(t)
		require.Equal(t, mustTime(t, wall["sla"].(map[string]any)["route_due_at"]).UTC(), nextSLACheck(t, env, tctx, d.ID, wall["id"].(string)).UTC(),
			"first checked at its route deadline, on the wall clock")
	})

	t.Run("AttachAtCreationBadInput", func(t *testing.T) {
		clock := createClock(t, env, test, start)
		otherKey, _ := testAdminKey(t, env, env.CreateTenant(t, "test-clocks-create-other").AdminKey)
		foreign := createClock(t, env, otherKey, start)
		window0 := apitest.WeekdayMorning(time.Now(), 2)
		for _, c := range []struct {
			name, key, clock string
			ctx              context.Context
		}{
			{"LiveKey", live, clock, lctx},
			{"UnknownClock", test, tenants.NewID(tenants.PrefixTestClock), tctx},
			{"MalformedClock", test, "clk_nope", tctx},
			{"OtherTenantsClock", test, foreign, tctx},
		} {
			unit := contractUnitIn(c.ctx, t, env, d.ID, "phone", 12, shanghaiToday(0), "")
			r := env.Do(t, http.MethodPost, "/v1/contracts", c.key, map[string]any{"unit_id": unit, "plan_id": planID(c.ctx), "test_clock_id": c.clock})
			require.Equal(t, []string{"body.test_clock_id"}, problemLocations(t, r, http.StatusUnprocessableEntity), "%s: contract", c.name)
			r = env.Do(t, http.MethodPost, "/v1/tickets", c.key, clockTicketBody(d, "CLK-0201", window0, map[string]any{"test_clock_id": c.clock}))
			require.Equal(t, []string{"body.test_clock_id"}, problemLocations(t, r, http.StatusUnprocessableEntity), "%s: ticket", c.name)
			require.NotContains(t, string(r.Body), "b-private", c.name)
		}
	})

	t.Run("StorefrontsDay", func(t *testing.T) {
		// A storefront, with its own test key, drives its own clock: it sells
		// a plan and opens a ticket on it, watches the 72-hour callback
		// breach after the brand's technician completes the ticket, and sees
		// the plan start on day 31. Another storefront does not see the
		// clock, cannot use it, and cannot have its objects attached to it.
		sf := env.Storefront(t, test, "")
		sfKey := env.StorefrontKey(t, test, sf)
		otherSF := env.Storefront(t, test, "")
		otherKey := env.StorefrontKey(t, test, otherSF)
		agent, _ := env.Key(t, test, "agent")

		clock := createClock(t, env, sfKey, start)
		r := env.Do(t, http.MethodGet, "/v1/test_clocks/"+clock, sfKey, nil)
		require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
		require.Equal(t, sf, r.JSON(t)["storefront_id"])
		require.Equal(t, http.StatusOK, env.Do(t, http.MethodGet, "/v1/test_clocks/"+clock, test, nil).Status, "the brand sees its storefronts' clocks")
		brandClock := createClock(t, env, test, start)

		// Another storefront: the clock is not there.
		for _, c := range []struct {
			method, path string
			body         any
		}{
			{http.MethodGet, "/v1/test_clocks/" + clock, nil},
			{http.MethodPost, "/v1/test_clocks/" + clock + "/advance", map[string]any{"frozen_time": start.Add(time.Hour)}},
			{http.MethodPost, "/v1/test_clocks/" + clock + "/attach", map[string]any{"object_id": tenants.NewID(tenants.PrefixTicket)}},
			{http.MethodGet, "/v1/test_clocks/" + brandClock, nil},
		} {
			r := env.Do(t, c.method, c.path, otherKey, c.body)
			require.Equal(t, http.StatusNotFound, r.Status, "%s: %s", c.path, r.Body)
		}
		listed := ids(t, env.Do(t, http.MethodGet, "/v1/test_clocks", otherKey, nil))
		require.NotContains(t, listed, clock)
		require.NotContains(t, listed, brandClock)
		require.Equal(t, []string{clock}, ids(t, env.Do(t, http.MethodGet, "/v1/test_clocks", sfKey, nil)))
		otherUnit := contractUnitIn(tctx, t, env, d.ID, "phone", 12, shanghaiToday(0), otherSF)
		r = env.Do(t, http.MethodPost, "/v1/contracts", otherKey, map[string]any{"unit_id": otherUnit, "plan_id": planID(tctx), "test_clock_id": clock})
		require.Equal(t, []string{"body.test_clock_id"}, problemLocations(t, r, http.StatusUnprocessableEntity), "another storefront's clock is no clock")
		r = env.Do(t, http.MethodPost, "/v1/contracts", otherKey, map[string]any{"unit_id": otherUnit, "plan_id": planID(tctx)})
		require.Equal(t, http.StatusCreated, r.Status, "%s", r.Body)
		otherCtr := r.JSON(t)["id"].(string)

		// The storefront attaches only its own objects: another
		// storefront's contract, or a payout, is 404 (a brand key can).
		r = attachToClock(t, env, sfKey, clock, otherCtr)
		require.Equal(t, http.StatusNotFound, r.Status, "%s", r.Body)
		require.NotContains(t, string(r.Body), otherSF)
		require.Equal(t, http.StatusNotFound, attachToClock(t, env, sfKey, clock, tenants.NewID(tenants.PrefixTicket)).Status)
		require.Empty(t, clockOfRow(t, env, tctx, d.ID, "contracts", otherCtr))
		require.Equal(t, http.StatusOK, attachToClock(t, env, test, brandClock, otherCtr).Status, "the brand attaches any test object")

		// The storefront's day on its clock.
		unit := contractUnitIn(tctx, t, env, d.ID, "phone", 12, shanghaiToday(0), sf)
		r = env.Do(t, http.MethodPost, "/v1/contracts", sfKey, map[string]any{"unit_id": unit, "plan_id": planID(tctx), "test_clock_id": clock})
		require.Equal(t, http.StatusCreated, r.Status, "%s", r.Body)
		ctr := r.JSON(t)["id"].(string)
		require.Equal(t, "pending", contractState(t, env, sfKey, ctr))
		late := contractUnitIn(tctx, t, env, d.ID, "phone", 12, shanghaiToday(0), sf)
		r = env.Do(t, http.MethodPost, "/v1/contracts", sfKey, map[string]any{"unit_id": late, "plan_id": planID(tctx)})
		require.Equal(t, http.StatusCreated, r.Status, "%s", r.Body)
		attached := r.JSON(t)["id"].(string)
		require.Equal(t, http.StatusOK, attachToClock(t, env, sfKey, clock, attached).Status, "its own contract, attached after the sale")
		r = env.Do(t, http.MethodGet, "/v1/contracts/"+attached, sfKey, nil)
		require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
		require.Equal(t, clock, r.JSON(t)["test_clock_id"])

		window0 := apitest.WeekdayMorning(time.Now(), 2)
		r = env.Do(t, http.MethodPost, "/v1/tickets", sfKey, clockTicketBody(d, "CLK-0301", window0, map[string]any{"test_clock_id": clock}))
		require.Equal(t, http.StatusCreated, r.Status, "%s", r.Body)
		id := r.JSON(t)["id"].(string)
		require.Equal(t, "new", r.JSON(t)["state"], "%v", r.JSON(t)["verification"])
		_, tech, arrive := checkedInOnClock(t, env, d, agent, sfKey, clock, id, window0)
		ticketAct(t, env, tech, id, "diagnose", map[string]any{"diagnosis": map[string]any{"cause": "performance", "repairable": true},
			"work": map[string]any{"service_kind": "repair", "include_visit": true}, "price_list_shown": true}, http.StatusOK)
		tk := ticketAct(t, env, tech, id, "complete", map[string]any{"test_run": map[string]any{"passed": true}}, http.StatusOK)
		require.Equal(t, "completed", tk["state"])

		advanceClock(t, env, sfKey, clock, arrive.Add(73*time.Hour))
		require.Eventually(t, func() bool {
			return slices.Contains(timelineActions(t, env, sfKey, id), "sla_breached:completed")
		}, 30*time.Second, 50*time.Millisecond, "the storefront sees the 72-hour callback breach")
		require.Equal(t, "pending", contractState(t, env, sfKey, ctr), "day 3-7: the plan has not started")

		advanceClock(t, env, sfKey, clock, start.AddDate(0, 0, 30)) // day 31
		require.Equal(t, "active", contractState(t, env, sfKey, ctr), "day 31: the plan starts")
		require.Equal(t, "active", contractState(t, env, sfKey, attached))
		require.Equal(t, "pending", contractState(t, env, otherKey, otherCtr), "another storefront's contract is not on the clock")
	})

	t.Run("ProtectionPlanStartsOnDay31", func(t *testing.T) {
		clock := createClock(t, env, test, start)
		onClock, offClock, liveCtr := sell(tctx, test), sell(tctx, test), sell(lctx, live)
		r := attachToClock(t, env, test, clock, onClock)
		require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)

		advanceClock(t, env, test, clock, start.AddDate(0, 0, 29)) // day 30
		require.Equal(t, "pending", contractState(t, env, test, onClock), "day 30: not yet")
		advanceClock(t, env, test, clock, start.AddDate(0, 0, 30)) // day 31
		require.Equal(t, "active", contractState(t, env, test, onClock), "day 31: the plan starts")
		r = env.Do(t, http.MethodGet, "/v1/contracts/"+onClock+"/state-changes", test, nil)
		require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
		require.Contains(t, string(r.Body), "coverage started")
		require.Equal(t, "pending", contractState(t, env, test, offClock), "a test contract not on the clock stays on the wall clock")
		require.Equal(t, "pending", contractState(t, env, live, liveCtr), "nothing live moves")

		advanceClock(t, env, test, clock, start.AddDate(1, 0, 31)) // past the year
		require.Equal(t, "expired", contractState(t, env, test, onClock), "the year of coverage ended")
		require.Equal(t, "pending", contractState(t, env, test, offClock))
		require.Equal(t, "pending", contractState(t, env, live, liveCtr))

		// The wall-clock lifecycle job leaves a clock's contracts to it.
		before := contractEvents(t, env, tctx, d.ID, onClock)
		_, err := env.Warranty.AdvanceContracts(tctx, d.ID, start.AddDate(5, 0, 0))
		require.NoError(t, err)
		require.Equal(t, "expired", contractState(t, env, test, offClock), "the contract off the clock moved with the wall clock")
		require.Equal(t, before, contractEvents(t, env, tctx, d.ID, onClock), "the clock's contract did not move")
		require.Equal(t, []string{"contract.activated", "contract.expired"}, before)
	})

	// A clock is advanced one step at a time, as Stripe's are: while the
	// job of an advance has not fired what fell due (status advancing),
	// another advance is 409 and moves nothing, so that day 31 happens
	// (the plan starts, contract.activated) before day 32 is asked for.
	// The test holds the contract's row, so the advance's job waits on it
	// and the clock stays advancing for as long as the test needs.
	t.Run("AnAdvancingClockIsNotAdvancedAgain", func(t *testing.T) {
		clock := createClock(t, env, test, start)
		ctr := sell(tctx, test)
		require.Equal(t, http.StatusOK, attachToClock(t, env, test, clock, ctr).Status)
		locked, release, done := make(chan struct{}), make(chan struct{}), make(chan error, 1)
		go func() {
			done <- pg.InTenantTx(tctx, env.DB.App, d.ID, func(tx pg.TenantTx) error {
				if _, err := tx.Exec(tctx, `SELECT id FROM contracts WHERE tenant_id = $1 AND id = $2 FOR UPDATE`, tx.TenantID, ctr); err != nil {
					return err
				}
				close(locked)
				<-release
				return nil
			})
		}()
		<-locked
		var once sync.Once
		free := func() { once.Do(func() { close(release) }) }
		defer free() // a failed assertion must not leave the advance's job waiting
		day31, day32 := start.AddDate(0, 0, 30), start.AddDate(0, 0, 31)
		r := env.Do(t, http.MethodPost, "/v1/test_clocks/"+clock+"/advance", test, map[string]any{"frozen_time": day31.Format(time.RFC3339Nano)})
		require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
		require.Equal(t, "advancing", r.JSON(t)["status"])
		r = env.Do(t, http.MethodPost, "/v1/test_clocks/"+clock+"/advance", test, map[string]any{"frozen_time": day32.Format(time.RFC3339Nano)})
		require.Equal(t, http.StatusConflict, r.Status, "%s", r.Body)
		require.Equal(t, "testclocks.advancing", r.JSON(t)["detail_i18n"].(map[string]any)["code"])
		r = env.Do(t, http.MethodGet, "/v1/test_clocks/"+clock, test, nil)
		require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
		require.Equal(t, day31.UTC(), mustTime(t, r.JSON(t)["frozen_time"]).UTC(), "the refused advance moved nothing")
		require.Equal(t, "advancing", r.JSON(t)["status"])

		free()
		require.NoError(t, <-done)
		require.Eventually(t, func() bool {
			r := env.Do(t, http.MethodGet, "/v1/test_clocks/"+clock, test, nil)
			return r.Status == http.StatusOK && r.JSON(t)["status"] == "ready"
		}, 30*time.Second, 50*time.Millisecond, "the advance's job ran once the contract was free")
		require.Equal(t, "active", contractState(t, env, test, ctr), "day 31 happened: the plan started")
		require.Equal(t, []string{"contract.activated"}, contractEvents(t, env, tctx, d.ID, ctr))
		advanceClock(t, env, test, clock, day32)
	})

	t.Run("PayoutMissedWhenTheClockPassesItsDueDay", func(t *testing.T) {
		clock := createClock(t, env, test, start)
		unit := contractUnitIn(tctx, t, env, d.ID, "washer", 12, shanghaiToday(-3), "")
		r := env.Do(t, http.MethodPost, "/v1/payouts", test, map[string]any{"unit_id": unit, "amount": money(10000), "reason": "满意补偿"})
		require.Equal(t, http.StatusCreated, r.Status, "%s", r.Body)
		pay := r.JSON(t)
		id := pay["id"].(string)
		require.Equal(t, http.StatusOK, attachToClock(t, env, test, clock, id).Status)
		missedOnTheClock(t, env, test, d.ID, clock, id, pay["due_on"].(string), nil)
	})

	// A payout a clock's ticket owes lives on the ticket's clock: counted
	// from the clock's today, its deadline checked when the clock passes
	// its due day, never by the wall clock. Here the center upholds a
	// property damage complaint against a ticket on a clock frozen 60 days
	// ago, once its technician checked in on the clock (two working days
	// on): the brand owes the customer the assessed 650.00, due five
	// working days after the clock's today (long past on the wall clock,
	// where its deadline job would have marked it missed at once).
	t.Run("PayoutOfAClockTicketLivesOnTheClock", func(t *testing.T) {
		clock := createClock(t, env, test, start.AddDate(0, 0, -60))
		window0 := apitest.WeekdayMorning(start.AddDate(0, 0, -60), 2)
		r := env.Do(t, http.MethodPost, "/v1/tickets", test, clockTicketBody(d, "CLK-0201", window0, map[string]any{"test_clock_id": clock}))
		require.Equal(t, http.StatusCreated, r.Status, "%s", r.Body)
		ticket := r.JSON(t)["id"].(string)
		r = env.Do(t, http.MethodPost, "/v1/complaints", test, map[string]any{"ticket_id": ticket, "category": "property_damage",
			"severity": "high", "description": "师傅搬动洗衣机复位时划伤了木地板", "claimed_amount": money(80000)})
		require.Equal(t, http.StatusCreated, r.Status, "%s", r.Body)
		complaint := r.JSON(t)["id"].(string)
		// Before any visit the network cannot have damaged the floor: 409
		// on body.upheld, nothing paid.
		r = env.Do(t, http.MethodPost, "/v1/complaints/"+complaint+"/resolve", test, map[string]any{
			"resolution": "中心核定地板修复费用 650 元，照价赔偿", "upheld": true, "assessed_amount": money(65000), "damaged_item": "木地板"})
		require.Equal(t, []string{"body.upheld"}, problemLocations(t, r, http.StatusConflict))
		require.Contains(t, string(r.Body), ticket)
		// The technician checks in on the clock (6 minutes early), the day
		// the payout is then counted from.
		_, _, at := checkedInOnClock(t, env, d, test, test, clock, ticket, window0)
		r = env.Do(t, http.MethodPost, "/v1/complaints/"+complaint+"/resolve", test, map[string]any{
			"resolution": "中心核定地板修复费用 650 元，照价赔偿", "upheld": true, "assessed_amount": money(65000), "damaged_item": "木地板"})
		require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
		id := r.JSON(t)["compensation_payout_id"].(string)
		// and the technician is asked to apologise for it, at the clock's
		// time (seed 000: 照价赔偿,并表示歉意)
		r = env.Do(t, http.MethodGet, "/v1/tickets/"+ticket+"/tasks", test, nil)
		require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
		tasks := r.JSON(t)["data"].([]any)
		require.Len(t, tasks, 1, "%s", r.Body)
		apology := tasks[0].(map[string]any)
		require.Equal(t, "apologise_damage", apology["kind"])
		require.Equal(t, "technician", apology["assignee"])
		require.Equal(t, complaint, apology["complaint_id"])
		require.Equal(t, at.UTC(), mustTime(t, apology["created_at"]).UTC(), "opened at the clock's time")
		require.Contains(t, apology["reason"], "木地板")

		// One damage is paid once: a second complaint about the floor is
		// 409 on body.damaged_item naming the first (no item named, or the
		// floor again); other damage, named, is paid (300.00, the brand's).
		r = env.Do(t, http.MethodPost, "/v1/complaints", test, map[string]any{"ticket_id": ticket, "category": "property_damage",
			"description": "地板划痕还没处理，另外衣柜门也被碰坏了"})
		require.Equal(t, http.StatusCreated, r.Status, "%s", r.Body)
		second := r.JSON(t)["id"].(string)
		r = env.Do(t, http.MethodPost, "/v1/complaints/"+second+"/resolve", test, map[string]any{
			"resolution": "照价赔偿", "upheld": true, "assessed_amount": money(65000)})
		require.Equal(t, []string{"body.damaged_item"}, problemLocations(t, r, http.StatusConflict))
		require.Contains(t, string(r.Body), complaint)
		require.Contains(t, string(r.Body), id)
		r = env.Do(t, http.MethodPost, "/v1/complaints/"+second+"/resolve", test, map[string]any{
			"resolution": "照价赔偿", "upheld": true, "assessed_amount": money(65000), "damaged_item": "木地板"})
		require.Equal(t, []string{"body.damaged_item"}, problemLocations(t, r, http.StatusConflict))
		r = env.Do(t, http.MethodPost, "/v1/complaints/"+second+"/resolve", test, map[string]any{
			"resolution": "另核定衣柜门修复 300 元", "upheld": true, "assessed_amount": money(30000), "damaged_item": "衣柜门"})
		require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
		require.Equal(t, "衣柜门", r.JSON(t)["damaged_item"])
		r = env.Do(t, http.MethodGet, "/v1/payouts/"+r.JSON(t)["compensation_payout_id"].(string), test, nil)
		require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
		require.Equal(t, money(float64(30000)), r.JSON(t)["amount"])
		require.Equal(t, "brand", r.JSON(t)["payer"])

		r = env.Do(t, http.MethodGet, "/v1/payouts/"+id, test, nil)
		require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
		pay := r.JSON(t)
		require.Equal(t, money(float64(65000)), pay["amount"], "the assessed 650.00")
		require.Equal(t, "brand", pay["payer"])
		require.Equal(t, clock, clockOfRow(t, env, tctx, d.ID, "payouts", id), "on the ticket's clock from the start")
		require.Equal(t, clock, pay["test_clock_id"], "the payout says which clock it is on")
		loc, err := time.LoadLocation("Asia/Shanghai")
		require.NoError(t, err)
		require.Equal(t, at.In(loc).Format(time.DateOnly), pay["counted_from"], "counted from the clock's today")
		missedOnTheClock(t, env, test, d.ID, clock, id, pay["due_on"].(string), func(dueOn time.Time) {
			require.True(t, dueOn.After(at) && dueOn.Before(at.AddDate(0, 0, 12)), "due five working days after the clock's today, not the wall clock's: %s", pay["due_on"])
		})
	})

	t.Run("CallbackBreachAfter72HoursOnTheClock", func(t *testing.T) {
		agent, _ := env.Key(t, test, "agent")
		window0 := apitest.WeekdayMorning(time.Now(), 2)
		clock := createClock(t, env, test, start)
		id, _ := openReady(t, env, d, agent, "CLK-0001", 200, window0)
		r := attachToClock(t, env, test, clock, id)
		require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
		// The technician arrives 6 minutes early on the clock's time.
		tk, tech, arrive := checkedInOnClock(t, env, d, agent, test, clock, id, window0)
		require.Equal(t, "early", tk["appointment"].(map[string]any)["arrival"])
		ticketAct(t, env, tech, id, "diagnose", map[string]any{"diagnosis": map[string]any{"cause": "performance", "repairable": true},
			"work": map[string]any{"service_kind": "repair", "include_visit": true}, "price_list_shown": true}, http.StatusOK)
		tk = ticketAct(t, env, tech, id, "complete", map[string]any{"test_run": map[string]any{"passed": true}}, http.StatusOK)
		require.Equal(t, "completed", tk["state"])
		due := mustTime(t, tk["sla"].(map[string]any)["callback_due_at"])
		require.Equal(t, arrive.Add(72*time.Hour).UTC(), due.UTC(), "completed on the clock: the callback is due 72 hours after the clock's time")

		callbackBreaches := func() int {
			var n int
			require.NoError(t, pg.InTenantTx(tctx, env.DB.App, d.ID, func(tx pg.TenantTx) error {
				return tx.QueryRow(tctx, `SELECT count(*) FROM ticket_sla_breaches WHERE tenant_id = $1 AND ticket_id = $2 AND sla = 'callback'`,
					tx.TenantID, id).Scan(&n)
			}))
			return n
		}
		require.Equal(t, due.UTC(), nextSLACheck(t, env, tctx, d.ID, id).UTC(), "next checked at the callback deadline, on the clock")

		// The daily reconciliation: the completion day (on the clock) has no
		// sign-off. The wall-clock reconciliation leaves the clock's ticket
		// to the clock; the clock's advance past the day's end reconciles it
		// through the ticket_reconciliation job, found at the clock's time.
		day := arrive.In(window0.Location()).Format(time.DateOnly)
		_, err := env.Tickets.Reconcile(tctx, d.ID, day)
		require.NoError(t, err)
		require.Empty(t, findingsOf(t, env, test, id), "the wall-clock reconciliation leaves a clock's tickets to the clock")
		advanceClock(t, env, test, clock, arrive.Add(71*time.Hour))
		require.Zero(t, callbackBreaches(), "71 hours: not due")
		require.Equal(t, due.UTC(), nextSLACheck(t, env, tctx, d.ID, id).UTC(), "71 hours: still waiting for the callback deadline")
		require.Eventually(t, func() bool { return len(findingsOf(t, env, test, id)) > 0 }, 30*time.Second, 50*time.Millisecond,
			"the clock's advance past the completion day reconciled its ticket")
		f := findingsOf(t, env, test, id)
		require.Len(t, f, 1, "%v", f)
		require.Equal(t, "no_signoff", f[0]["problem"])
		require.Equal(t, day, f[0]["day"])
		require.Equal(t, arrive.Add(71*time.Hour).UTC(), mustTime(t, f[0]["found_at"]).UTC(), "found at the clock's time")
		require.Empty(t, findingsOf(t, env, live, id), "live mode sees no test finding")
		require.NotContains(t, timelineActions(t, env, agent, id), "sla_breached:completed")

		advanceClock(t, env, test, clock, arrive.Add(73*time.Hour))
		require.Eventually(t, func() bool {
			return slices.Contains(timelineActions(t, env, agent, id), "sla_breached:completed")
		}, 30*time.Second, 50*time.Millisecond, "the clock's advance checked the callback deadline")
		require.Equal(t, 2, callbackBreaches(), "an hour past the deadline: level 1 at it and level 2 (the escalation's 60 minutes) after it")
		var breachedAt, dueAt time.Time
		require.NoError(t, pg.InTenantTx(tctx, env.DB.App, d.ID, func(tx pg.TenantTx) error {
			return tx.QueryRow(tctx, `SELECT breached_at, due_at FROM ticket_sla_breaches WHERE tenant_id = $1 AND ticket_id = $2 AND sla = 'callback' AND level = 1`,
				tx.TenantID, id).Scan(&breachedAt, &dueAt)
		}))
		require.Equal(t, due.UTC(), dueAt.UTC())
		require.Equal(t, arrive.Add(73*time.Hour).UTC(), breachedAt.UTC(), "breached at the clock's time")

		// Nothing live moved: no live breach, no live contract event.
		require.NoError(t, pg.InTenantTx(lctx, env.DB.App, d.ID, func(tx pg.TenantTx) error {
			var n int
			require.NoError(t, tx.QueryRow(lctx, `SELECT count(*) FROM ticket_sla_breaches WHERE tenant_id = $1`, tx.TenantID).Scan(&n))
			require.Zero(t, n)
			require.NoError(t, tx.QueryRow(lctx, `SELECT count(*) FROM events WHERE tenant_id = $1 AND type IN ('contract.activated', 'contract.expired', 'ticket.sla_breached')`, tx.TenantID).Scan(&n))
			require.Zero(t, n)
			return nil
		}))
	})
}

// missedOnTheClock shows that payout id, on clock and due on dueOn
// (YYYY-MM-DD, Shanghai), is judged by the clock alone: still scheduled
// while the wall clock runs (a second), and an hour before the due day
// ends on the clock; missed, at the clock's time, once the clock is an
// hour past it. check, when not nil, looks at the due day first.
func missedOnTheClock(t *testing.T, env *apitest.Env, key, tenantID, clock, id, dueOn string, check func(time.Time)) {
	t.Helper()
	loc, err := time.LoadLocation("Asia/Shanghai")
	require.NoError(t, err)
	due, err := time.ParseInLocation(time.DateOnly, dueOn, loc)
	require.NoError(t, err)
	if check != nil {
		check(due)
	}
	end := due.AddDate(0, 0, 1) // the due day ends
	state := func() string {
		r := env.Do(t, http.MethodGet, "/v1/payouts/"+id, key, nil)
		require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
		return r.JSON(t)["state"].(string)
	}
	require.Never(t, func() bool { return state() != "scheduled" }, time.Second, 50*time.Millisecond,
		"the wall clock does not judge a payout on a clock")
	advanceClock(t, env, key, clock, end.Add(-time.Hour))
	require.Equal(t, "scheduled", state(), "the due day has not ended on the clock")
	advanceClock(t, env, key, clock, end.Add(time.Hour))
	require.Eventually(t, func() bool { return state() == "missed" }, 30*time.Second, 50*time.Millisecond,
		"the deadline check ran through its job when the clock passed the due day")
	tctx := pg.WithLivemode(context.Background(), false)
	var missedAt time.Time
	require.NoError(t, pg.InTenantTx(tctx, env.DB.App, tenantID, func(tx pg.TenantTx) error {
		return tx.QueryRow(tctx, `SELECT missed_at FROM payouts WHERE tenant_id = $1 AND id = $2`, tx.TenantID, id).Scan(&missedAt)
	}))
	require.Equal(t, end.Add(time.Hour).UTC(), missedAt.UTC(), "missed at the clock's time")
}

// findingsOf lists the reconciliation findings of ticket id key sees.
// clockTicketBody is a complete repair intake (openReady's) whose unit was
// bought purchaseDaysAgo, wanted in the window from start, with extra
// fields (test_clock_id ...).
func clockTicketBody(d apitest.DemoBrand, serial string, start time.Time, extra map[string]any) map[string]any {
	b := map[string]any{
		"channel": "web", "type": "repair",
		"contact": map[string]any{"name": "客户 " + serial, "phone": "+86 138 " + serial[len(serial)-4:] + " 0000"},
		"address": map[string]any{"region_code": d.Region, "line": "建设路 1 号"},
		"unit":    map[string]any{"model_id": d.Washer, "serial": serial, "purchase_date": shanghaiToday(-200)},
		"fault":   map[string]any{"symptom": "不排水"}, "preferred_window": window(start),
	}
	for k, v := range extra {
		b[k] = v
	}
	return b
}

// nextSLACheck is when a ticket's SLA deadlines are checked next
// (sla_check_at: the sweep, or its clock's advance); it must have one.
func nextSLACheck(t *testing.T, env *apitest.Env, ctx context.Context, tenantID, id string) time.Time {
	t.Helper()
	var at *time.Time
	require.NoError(t, pg.InTenantTx(ctx, env.DB.App, tenantID, func(tx pg.TenantTx) error {
		return tx.QueryRow(ctx, `SELECT sla_check_at FROM tickets WHERE tenant_id = $1 AND id = $2`, tx.TenantID, id).Scan(&at)
	}))
	require.NotNil(t, at, "ticket %s has no next SLA check", id)
	return *at
}

// clockOf is the test clock of a test ticket or contract (table), "" if none.
func clockOfRow(t *testing.T, env *apitest.Env, ctx context.Context, tenantID, table, id string) string {
	t.Helper()
	var clock *string
	require.NoError(t, pg.InTenantTx(ctx, env.DB.App, tenantID, func(tx pg.TenantTx) error {
		return tx.QueryRow(ctx, `SELECT test_clock_id FROM `+table+` WHERE tenant_id = $1 AND id = $2`, tx.TenantID, id).Scan(&clock)
	}))
	if clock == nil {
		return ""
	}
	return *clock
}

func findingsOf(t *testing.T, env *apitest.Env, key, id string) []map[string]any {
	t.Helper()
	r := env.Do(t, http.MethodGet, "/v1/reconciliation/findings?limit=100", key, nil)
	require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
	var out []map[string]any
	for _, f := range r.JSON(t)["data"].([]any) {
		if m := f.(map[string]any); m["ticket_id"] == id {
			out = append(out, m)
		}
	}
	return out
}

func contractEvents(t *testing.T, env *apitest.Env, ctx context.Context, tenantID, id string) []string {
	t.Helper()
	var out []string
	require.NoError(t, pg.InTenantTx(ctx, env.DB.App, tenantID, func(tx pg.TenantTx) error {
		// Positions are assigned by the feed's readers: an event not read yet has none,
		// and (txid, seq) is then its order.
		rows, err := tx.Query(ctx, `SELECT type FROM events WHERE tenant_id = $1 AND subject_id = $2 AND type <> 'contract.created' ORDER BY position NULLS LAST, txid, seq`, tx.TenantID, id)
		if err != nil {
			return err
		}
		out, err = pgx.CollectRows(rows, pgx.RowTo[string])
		return err
	}))
	return out
}

func mustTime(t *testing.T, v any) time.Time {
	t.Helper()
	s, ok := v.(string)
	require.True(t, ok, "%v", v)
	at, err := time.Parse(time.RFC3339Nano, s)
	require.NoError(t, err)
	return at
}

func init() {
	for _, op := range []string{"createTestClock", "advanceTestClock", "attachTestClock"} {
		wantMatrix[op] = []string{"integrator", "storefront", "tenant_admin"}
	}
	for _, op := range []string{"listTestClocks", "getTestClock"} {
		wantMatrix[op] = []string{"auditor", "integrator", "storefront", "tenant_admin"}
	}
	dummyParams["test_clock_id"] = "clk_00000000000000000000000000"
}

// crossTenantClock gives the victim (tenantID, in ctx's mode) a test clock
// for the cross-tenant and cross-mode walks, with bodies that pass
// validation. A live victim has no clock (there is none in live mode): its
// "clock" is an ID that names nothing. TestTestClocks/OtherTenantsClock
// walks another tenant's test clock with a test key.
func crossTenantClock(t *testing.T, env *apitest.Env, ctx context.Context, tenantID, adminID, contractID string) (objects map[string]string, bodies map[string]any, leaks []string) {
	t.Helper()
	name := "b-private-clock"
	id := tenants.NewID(tenants.PrefixTestClock)
	if !pg.Livemode(ctx) {
		c, err := env.TestClocks.Create(ctx, tenants.Principal{TenantID: tenantID, KeyID: adminID}, testclocks.NewClock{Name: &name})
		require.NoError(t, err)
		id = c.ID
	}
	return map[string]string{"test_clock_id": id},
		map[string]any{"advanceTestClock": map[string]any{"frozen_time": time.Now().Add(time.Hour).Format(time.RFC3339)},
			"attachTestClock": map[string]any{"object_id": contractID}},
		[]string{name, id[4:]}
}
