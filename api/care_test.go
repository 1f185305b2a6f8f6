package api_test

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"
	"github.com/stretchr/testify/require"

	"github.com/servicenet/servicenet/internal/apitest"
	"github.com/servicenet/servicenet/internal/pg"
	"github.com/servicenet/servicenet/jobs"
)

func init() {
	wantMatrix["getCarePolicy"] = []string{"tenant_admin", "integrator", "agent", "dispatcher", "auditor"}
	wantMatrix["setCarePolicy"] = []string{"tenant_admin"}
}

// runCareReminders runs the care_reminders job once, to completion.
func runCareReminders(t *testing.T, env *apitest.Env) {
	t.Helper()
	ctx := context.Background()
	res, err := env.River.Insert(ctx, jobs.CareRemindersArgs{}, &river.InsertOpts{})
	require.NoError(t, err)
	require.Eventually(t, func() bool {
		j, err := env.River.JobGet(ctx, res.Job.ID)
		require.NoError(t, err)
		require.NotEqual(t, rivertype.JobStateDiscarded, j.State, "%v", j.Errors)
		return j.State == rivertype.JobStateCompleted
	}, 20*time.Second, 50*time.Millisecond, "the care_reminders job completes")
}

// TestCareReminders: under a 30-day care policy (the seeds' periodic care
// reminder, 定期保养提醒), the care_reminders job emits unit.care_due for a
// unit installed 30 days ago, none for one installed 29 days ago (though
// bought 31 days ago: the installation date counts), and none twice when
// it runs again. A policy with a negative interval is 422 naming the
// field, and nothing changes.
func TestCareReminders(t *testing.T) {
	t.Parallel()
	env := apitest.New(t)
	ten := env.CreateTenant(t, "care-reminders")
	admin := ten.AdminKey
	agent, _ := env.Key(t, admin, "agent")
	model := createdID(t, env, admin, "/v1/catalog/models", modelBody("KFR-35GW", "air_conditioner", 329900))
	unit := func(serial string, bought, installed int) string {
		return createdID(t, env, admin, "/v1/units", map[string]any{"model_id": model, "serial": serial,
			"customer":      map[string]any{"name": "周九", "phones": []string{"+86 139 0000 0" + serial[len(serial)-3:]}},
			"purchase_date": shanghaiToday(-bought), "installed_on": shanghaiToday(-installed), "purchase_price": cnyBody(329900),
			"channel": "brand_store"})
	}
	due := unit("CARE001", 32, 30)
	notYet := unit("CARE002", 31, 29)
	// Installed 40 days ago, cleaned 10 days ago: not due; installed 65
	// days ago, cleaned 30 days ago: due today, counted from the cleaning.
	cleaned := unit("CARE003", 45, 40)
	cleanedLong := unit("CARE004", 70, 65)
	for u, days := range map[string]int{cleaned: 10, cleanedLong: 30} {
		r := env.Do(t, http.MethodPost, "/v1/units/"+u+"/service-records", admin, map[string]any{
			"kind": "maintenance", "occurred_on": shanghaiToday(-days), "note": "清洗内机滤网"})
		require.Equal(t, http.StatusCreated, r.Status, "%s", r.Body)
	}

	r := env.Do(t, http.MethodGet, "/v1/care-policy", agent, nil)
	require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
	require.Equal(t, `"v0"`, r.Header.Get("ETag"))
	require.Equal(t, false, r.JSON(t)["enabled"])

	t.Run("NegativeIntervalIs422NamingTheFieldNothingChanged", func(t *testing.T) {
		r := env.Do(t, http.MethodPut, "/v1/care-policy", admin, map[string]any{"enabled": true, "interval_days": -30}, `If-Match: "v0"`)
		requireProblem(t, r, http.StatusUnprocessableEntity, "invalid", "body.interval_days")
		r = env.Do(t, http.MethodPut, "/v1/care-policy", admin, map[string]any{"enabled": true, "interval_days": 30,
			"categories": []any{map[string]any{"category": "washer", "interval_days": -1, "enabled": true}}}, `If-Match: "v0"`)
		requireProblem(t, r, http.StatusUnprocessableEntity, "invalid", "body.categories[0].interval_days")
		r = env.Do(t, http.MethodGet, "/v1/care-policy", admin, nil)
		require.Equal(t, `"v0"`, r.Header.Get("ETag"), "nothing changed")
		require.Empty(t, eventsOf(t, env, ten.ID, "care_policy.updated", ten.ID))
	})

	t.Run("OnlyTheAdminSetsItWithIfMatch", func(t *testing.T) {
		r := env.Do(t, http.MethodPut, "/v1/care-policy", agent, map[string]any{"enabled": true, "interval_days": 30}, `If-Match: "v0"`)
		require.Equal(t, http.StatusForbidden, r.Status, "%s", r.Body)
		r = env.Do(t, http.MethodPut, "/v1/care-policy", admin, map[string]any{"enabled": true, "interval_days": 30})
		requireProblem(t, r, http.StatusPreconditionRequired, "precondition_required", "header.If-Match")
	})

	r = env.Do(t, http.MethodPut, "/v1/care-policy", admin, map[string]any{"enabled": true, "interval_days": 30}, `If-Match: "v0"`)
	require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
	require.Equal(t, `"v1"`, r.Header.Get("ETag"))
	r = env.Do(t, http.MethodPut, "/v1/care-policy", admin, map[string]any{"enabled": true, "interval_days": 30}, `If-Match: "v0"`)
	requireProblem(t, r, http.StatusPreconditionFailed, "precondition_failed", "")

	t.Run("DueAfterThirtyDaysOnceOnly", func(t *testing.T) {
		runCareReminders(t, env)
		evs := eventsOf(t, env, ten.ID, "unit.care_due", due)
		require.Len(t, evs, 1)
		require.Equal(t, "installed_on", evs[0]["anchor"])
		require.Equal(t, shanghaiToday(-30), evs[0]["anchor_date"])
		require.Equal(t, shanghaiToday(0), evs[0]["due_on"])
		require.EqualValues(t, 30, evs[0]["interval_days"])
		require.EqualValues(t, 1, evs[0]["period"])
		require.Equal(t, "air_conditioner", evs[0]["category"])
		require.Empty(t, eventsOf(t, env, ten.ID, "unit.care_due", notYet), "installed 29 days ago: not due yet")

		runCareReminders(t, env)
		require.Len(t, eventsOf(t, env, ten.ID, "unit.care_due", due), 1, "a rerun announces nothing twice")
		require.Empty(t, eventsOf(t, env, ten.ID, "unit.care_due", notYet))

		require.Empty(t, eventsOf(t, env, ten.ID, "unit.care_due", cleaned), "cleaned 10 days ago: not due")
		evs = eventsOf(t, env, ten.ID, "unit.care_due", cleanedLong)
		require.Len(t, evs, 1)
		require.Equal(t, "maintained_on", evs[0]["anchor"])
		require.Equal(t, shanghaiToday(-30), evs[0]["anchor_date"], "counted from the cleaning, not the installation")
		require.Equal(t, shanghaiToday(0), evs[0]["due_on"])
		require.EqualValues(t, 1, evs[0]["period"])

		// The event is in the tenant's feed.
		r := env.Do(t, http.MethodGet, "/v1/events?type=unit.care_due", admin, nil)
		require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
		require.Contains(t, string(r.Body), due)
	})

	t.Run("ADisabledCategoryIsNotReminded", func(t *testing.T) {
		r := env.Do(t, http.MethodPut, "/v1/care-policy", admin, map[string]any{"enabled": true, "interval_days": 29,
			"categories": []any{map[string]any{"category": "air_conditioner", "interval_days": 29, "enabled": false}}}, `If-Match: "v1"`)
		require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
		runCareReminders(t, env)
		require.Empty(t, eventsOf(t, env, ten.ID, "unit.care_due", notYet))
	})

	t.Run("TestModeHasItsOwnPolicyAndReminders", func(t *testing.T) {
		testKey, _ := testAdminKey(t, env, admin)
		r := env.Do(t, http.MethodGet, "/v1/care-policy", testKey, nil)
		require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
		require.Equal(t, `"v0"`, r.Header.Get("ETag"), "the live policy is not the test mode's")
		testModel := createdID(t, env, testKey, "/v1/catalog/models", modelBody("KFR-35GW", "air_conditioner", 329900))
		testUnit := createdID(t, env, testKey, "/v1/units", map[string]any{"model_id": testModel, "serial": "CARE-T01",
			"customer":      map[string]any{"name": "测试", "phones": []string{"+86 139 0000 0901"}},
			"purchase_date": shanghaiToday(-30), "installed_on": shanghaiToday(-30), "purchase_price": cnyBody(329900),
			"channel": "brand_store"})
		feed := func(key string) string {
			r := env.Do(t, http.MethodGet, "/v1/events?type=unit.care_due&limit=100", key, nil)
			require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
			return string(r.Body)
		}
		runCareReminders(t, env)
		require.NotContains(t, feed(testKey), testUnit, "no test-mode policy yet: the live one does not apply")
		r = env.Do(t, http.MethodPut, "/v1/care-policy", testKey, map[string]any{"enabled": true, "interval_days": 30}, `If-Match: "v0"`)
		require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
		runCareReminders(t, env)
		require.Contains(t, feed(testKey), testUnit)
		require.NotContains(t, feed(testKey), due, "the test feed shows no live unit")
		require.NotContains(t, feed(admin), testUnit, "the live feed shows no test unit")
	})

	t.Run("BeforeTheSeasonWithinItsLeadDaysOnce", func(t *testing.T) {
		// The seeds' 换季前提醒: air conditioners reminded 7 days before their season.
		mmdd := func(days int) string { return shanghaiToday(days)[5:] }
		r := env.Do(t, http.MethodGet, "/v1/care-policy", admin, nil)
		r = env.Do(t, http.MethodPut, "/v1/care-policy", admin, map[string]any{"enabled": true, "seasons": []any{
			map[string]any{"category": "air_conditioner", "start": mmdd(5), "lead_days": 7},
			map[string]any{"category": "washer", "start": mmdd(3), "lead_days": 7}}}, "If-Match: "+r.Header.Get("ETag"))
		require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
		runCareReminders(t, env)
		runCareReminders(t, env)
		for _, u := range []string{due, notYet} {
			var season []map[string]any
			for _, e := range eventsOf(t, env, ten.ID, "unit.care_due", u) {
				if e["anchor"] == "season" {
					season = append(season, e)
				}
			}
			require.Len(t, season, 1, "one season reminder per unit, reruns included")
			require.Equal(t, shanghaiToday(5), season[0]["due_on"])
			require.EqualValues(t, 7, season[0]["lead_days"])
		}
		// A season 8 days away with 7 lead days is not due yet.
		r = env.Do(t, http.MethodPut, "/v1/care-policy", admin, map[string]any{"enabled": true, "seasons": []any{
			map[string]any{"category": "air_conditioner", "start": mmdd(8), "lead_days": 7}}}, "If-Match: "+r.Header.Get("ETag"))
		require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
		runCareReminders(t, env)
		for _, e := range eventsOf(t, env, ten.ID, "unit.care_due", due) {
			require.NotEqual(t, shanghaiToday(8), e["due_on"])
		}
		r = env.Do(t, http.MethodPut, "/v1/care-policy", admin, map[string]any{"enabled": true, "seasons": []any{
			map[string]any{"category": "air_conditioner", "start": "02-30", "lead_days": 7}}}, "If-Match: "+r.Header.Get("ETag"))
		requireProblem(t, r, http.StatusUnprocessableEntity, "invalid", "body.seasons[0].start")
	})
}

// TestCareReminderOnATestClockFallsDueWhenTheClockAdvances: in test mode a
// unit attached to a test clock is reminded of care on the clock's today.
// Under a 90-day policy a washer bought 10 days ago, on a clock advanced
// 85 days (its day 95), gets unit.care_due from the clock's advance job,
// due on the purchase day plus 90; a live key sees neither the unit nor the
// clock.
func TestCareReminderOnATestClockFallsDueWhenTheClockAdvances(t *testing.T) {
	t.Parallel()
	env := apitest.New(t)
	d := env.TestModeDemoBrand(t, "care-clocks")
	test := d.AdminKey
	tctx := pg.WithLivemode(context.Background(), false)
	r := env.Do(t, http.MethodPut, "/v1/care-policy", test, map[string]any{"enabled": true, "interval_days": 90}, `If-Match: "v0"`)
	require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
	model := createdID(t, env, test, "/v1/catalog/models", modelBody("W-CARE-CLK", "washer", 299900))
	unit := createdID(t, env, test, "/v1/units", map[string]any{"model_id": model, "serial": "CARECLK001",
		"customer":      map[string]any{"name": "周九", "phones": []string{"+86 139 0000 0601"}},
		"purchase_date": shanghaiToday(-10), "purchase_price": cnyBody(299900), "channel": "brand_store"})
	now := time.Now().Truncate(time.Second)
	clock := createClock(t, env, test, now)

	r = env.Do(t, http.MethodPost, "/v1/test_clocks/"+clock+"/attach", d.LiveAdminKey, map[string]any{"object_id": unit})
	require.Equal(t, http.StatusNotFound, r.Status, "%s", r.Body)
	r = env.Do(t, http.MethodPost, "/v1/test_clocks/"+clock+"/attach", test, map[string]any{"object_id": unit})
	require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
	r = env.Do(t, http.MethodGet, "/v1/units/"+unit, test, nil)
	require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
	require.Equal(t, clock, r.JSON(t)["test_clock_id"])
	r = env.Do(t, http.MethodGet, "/v1/units/"+unit, d.LiveAdminKey, nil)
	require.Equal(t, http.StatusNotFound, r.Status, "%s", r.Body)

	// A ticket opened on the clock takes its unit (bought 200 days ago)
	// onto the clock with it.
	r = env.Do(t, http.MethodPost, "/v1/tickets", test, clockTicketBody(d, "CARE-TKT-0001", apitest.WeekdayMorning(time.Now(), 2),
		map[string]any{"test_clock_id": clock}))
	require.Equal(t, http.StatusCreated, r.Status, "%s", r.Body)
	served := r.JSON(t)["unit_id"].(string)
	r = env.Do(t, http.MethodGet, "/v1/units/"+served, test, nil)
	require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
	require.Equal(t, clock, r.JSON(t)["test_clock_id"], "the ticket's unit follows its clock")

	advanceClock(t, env, test, clock, now.Add(40*24*time.Hour))
	require.Empty(t, eventsIn(t, env, tctx, d.ID, "unit.care_due", unit), "day 50 on the clock")
	advanceClock(t, env, test, clock, now.Add(85*24*time.Hour))
	evs := eventsIn(t, env, tctx, d.ID, "unit.care_due", unit)
	require.Len(t, evs, 1, "day 95 on the clock: the advance emitted the reminder")
	require.Equal(t, shanghaiToday(80), evs[0]["due_on"], "the purchase day plus 90")
	require.Equal(t, "purchase_date", evs[0]["anchor"])
	var dues []any
	for _, ev := range eventsIn(t, env, tctx, d.ID, "unit.care_due", served) {
		dues = append(dues, ev["due_on"])
	}
	require.Equal(t, []any{shanghaiToday(-20), shanghaiToday(70)}, dues,
		"the ticket's unit: day 250 at the first advance (purchase + 180), day 285 at the second (+ 270)")
}

// A ticket on a test clock whose unit is identified only when its intake
// is completed (needs_info, then provideTicketInfo with the model and
// serial) takes that unit onto its clock, as an intake that names the
// unit does: the unit's care runs on the clock its service runs on.
func TestUnitIdentifiedLaterFollowsItsTicketsClock(t *testing.T) {
	t.Parallel()
	env := apitest.New(t)
	d := env.TestModeDemoBrand(t, "care-clock-info")
	test := d.AdminKey
	clock := createClock(t, env, test, time.Now().Truncate(time.Second))
	body := clockTicketBody(d, "CARE-INFO-0001", apitest.WeekdayMorning(time.Now(), 2), map[string]any{"test_clock_id": clock})
	body["unit"] = map[string]any{"model_id": d.Washer} // no serial yet: needs_info
	r := env.Do(t, http.MethodPost, "/v1/tickets", test, body)
	require.Equal(t, http.StatusCreated, r.Status, "%s", r.Body)
	tk := r.JSON(t)
	require.Equal(t, "needs_info", tk["state"])
	require.Nil(t, tk["unit_id"])

	r = env.Do(t, http.MethodPost, "/v1/tickets/"+tk["id"].(string)+"/info", test,
		map[string]any{"unit": map[string]any{"model_id": d.Washer, "serial": "CARE-INFO-0001", "purchase_date": shanghaiToday(-200)}},
		"If-Match: "+r.Header.Get("ETag"))
	require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
	unit, _ := r.JSON(t)["unit_id"].(string)
	require.NotEmpty(t, unit, "identified: %s", r.Body)
	r = env.Do(t, http.MethodGet, "/v1/units/"+unit, test, nil)
	require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
	require.Equal(t, clock, r.JSON(t)["test_clock_id"], "the unit identified later follows its ticket's clock")
}
