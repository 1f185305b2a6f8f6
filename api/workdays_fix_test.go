package api_test

import (
	"net/http"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/servicenet/servicenet/internal/apitest"
)

// A brand marks the 2026 National Day make-up working day (调休, Saturday
// 10 October) on its calendar, and a payout counted across 国庆 is due on
// the date its own calendar gives. From Tuesday 2026-09-29, five business
// days: Wed 30 Sep (1); 1-7 Oct holidays; Thu 8 (2), Fri 9 (3), Sat 10 (4,
// 调休), Mon 12 (5): due 2026-10-12. Without the working day (before: the
// calendar could not say so) Mon 12 (4), Tue 13 (5): 2026-10-13.
func TestWorkdaysFixMakeUpWorkingDay(t *testing.T) {
	t.Parallel()
	env := apitest.Shared(t)
	ten := env.CreateTenant(t, "workdays")
	admin := ten.AdminKey
	agent, _ := env.Key(t, admin, "agent")
	unit := contractUnit(t, env, ten.ID, "washer", 12, shanghaiToday(-60), "")
	for _, d := range []string{"01", "02", "03", "04", "05", "06", "07"} {
		r := env.Do(t, http.MethodPut, "/v1/tenant/holidays/2026-10-"+d, admin, map[string]any{"name": "国庆节"})
		require.Equal(t, http.StatusCreated, r.Status, "%s", r.Body)
		require.Equal(t, "holiday", r.JSON(t)["kind"], "no kind is a holiday")
	}
	payout := func() map[string]any {
		t.Helper()
		r := env.Do(t, http.MethodPost, "/v1/payouts", admin, map[string]any{"unit_id": unit, "amount": money(10000),
			"reason": "no-reason repair plan: satisfaction compensation", "from": "2026-09-29", "business_days": 5})
		require.Equal(t, http.StatusCreated, r.Status, "%s", r.Body)
		p := r.JSON(t)
		// Rule 7's 100.00 CNY; no contract named: the brand owes it to
		// the unit's customer. The calendar moves the date, not the money.
		require.Equal(t, money(float64(10000)), p["amount"])
		require.Equal(t, "brand", p["payer"])
		require.Equal(t, unit, p["unit_id"])
		require.Equal(t, "2026-09-29", p["counted_from"])
		return p
	}
	require.Equal(t, "2026-10-13", payout()["due_on"], "Saturday 10 October is a weekend")

	// A working day on a Wednesday: 422 at body.kind, nothing stored.
	r := env.Do(t, http.MethodPut, "/v1/tenant/holidays/2026-10-14", admin, map[string]any{"name": "调休", "kind": "working_day"})
	require.Equal(t, []string{"body.kind"}, problemLocations(t, r, http.StatusUnprocessableEntity))
	require.Contains(t, string(r.Body), "Saturday or a Sunday")
	require.Equal(t, []string{"body.kind"}, problemLocations(t,
		env.Do(t, http.MethodPut, "/v1/tenant/holidays/2026-10-10", admin, map[string]any{"name": "调休", "kind": "workday"}),
		http.StatusUnprocessableEntity))
	r = env.Do(t, http.MethodGet, "/v1/tenant/holidays?from=2026-10-08", agent, nil)
	require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
	require.Empty(t, r.JSON(t)["data"], "nothing stored")

	r = env.Do(t, http.MethodPut, "/v1/tenant/holidays/2026-10-10", admin, map[string]any{"name": "国庆节调休上班", "kind": "working_day"})
	require.Equal(t, http.StatusCreated, r.Status, "%s", r.Body)
	require.Equal(t, "working_day", r.JSON(t)["kind"])
	require.Equal(t, "2026-10-12", payout()["due_on"], "the make-up Saturday is worked")

	// The listing shows the kind and filters by it.
	r = env.Do(t, http.MethodGet, "/v1/tenant/holidays?kind=working_day", agent, nil)
	require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
	data := r.JSON(t)["data"].([]any)
	require.Len(t, data, 1)
	require.Equal(t, "2026-10-10", data[0].(map[string]any)["day"])
	require.Equal(t, "working_day", data[0].(map[string]any)["kind"])
	r = env.Do(t, http.MethodGet, "/v1/tenant/holidays?kind=holiday", agent, nil)
	require.Len(t, r.JSON(t)["data"], 7)
	require.Equal(t, []string{"query.kind"}, problemLocations(t,
		env.Do(t, http.MethodGet, "/v1/tenant/holidays?kind=weekend", agent, nil), http.StatusUnprocessableEntity))

	// Set again without a kind, the day is a holiday (200: it was on the
	// calendar); deleted, a weekend day.
	r = env.Do(t, http.MethodPut, "/v1/tenant/holidays/2026-10-10", admin, map[string]any{"name": "国庆节"})
	require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
	require.Equal(t, "holiday", r.JSON(t)["kind"])
	require.Equal(t, http.StatusNoContent, env.Do(t, http.MethodDelete, "/v1/tenant/holidays/2026-10-10", admin, nil).Status)
	require.Equal(t, "2026-10-13", payout()["due_on"])
}
