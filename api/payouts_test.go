package api_test

import (
	"context"
	"encoding/json"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/servicenet/servicenet/internal/apitest"
	"github.com/servicenet/servicenet/internal/pg"
)

func init() {
	wantMatrix["listHolidays"] = allRoles
	wantMatrix["putHoliday"] = []string{"tenant_admin"}
	wantMatrix["deleteHoliday"] = []string{"tenant_admin"}
	payoutReaders := []string{"tenant_admin", "integrator", "agent", "auditor"}
	payoutWriters := []string{"tenant_admin", "integrator"}
	wantMatrix["createPayout"] = payoutWriters
	wantMatrix["listPayouts"] = payoutReaders
	wantMatrix["getPayout"] = payoutReaders
	wantMatrix["markPayoutPaid"] = payoutWriters
	dummyParams["payout_id"] = "pay_00000000000000000000000000"
	dummyParams["date"] = "2026-10-01"
}

// eventsOf returns the data of the tenant's live events of type typ about subject, oldest first.
func eventsOf(t *testing.T, env *apitest.Env, tenantID, typ, subject string) []map[string]any {
	t.Helper()
	return eventsIn(t, env, context.Background(), tenantID, typ, subject)
}

// eventsIn is eventsOf in ctx's mode (pg.WithLivemode).
func eventsIn(t *testing.T, env *apitest.Env, ctx context.Context, tenantID, typ, subject string) []map[string]any {
	t.Helper()
	var out []map[string]any
	require.NoError(t, pg.InTenantTx(ctx, env.DB.Owner, tenantID, func(tx pg.TenantTx) error {
		rows, err := tx.Query(ctx, `SELECT data FROM events WHERE tenant_id = $1 AND type = $2 AND subject_id = $3 ORDER BY id`,
			tx.TenantID, typ, subject)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var raw []byte
			if err := rows.Scan(&raw); err != nil {
				return err
			}
			var m map[string]any
			if err := json.Unmarshal(raw, &m); err != nil {
				return err
			}
			out = append(out, m)
		}
		return rows.Err()
	}))
	return out
}

// eventually polls get until done holds for its response (River runs jobs
// asynchronously), failing after 15 seconds.
func eventually(t *testing.T, get func() *apitest.Response, done func(m map[string]any) bool) map[string]any {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for {
		r := get()
		require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
		m := r.JSON(t)
		if done(m) {
			return m
		}
		if time.Now().After(deadline) {
			require.FailNow(t, "timed out waiting", "last: %s", r.Body)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func TestHolidays(t *testing.T) {
	t.Parallel()
	env := apitest.Shared(t)
	ten := env.CreateTenant(t, "holidays")
	admin := ten.AdminKey
	agent, _ := env.Key(t, admin, "agent")

	r := env.Do(t, http.MethodPut, "/v1/tenant/holidays/2026-10-01", admin, map[string]any{"name": "国庆节"})
	require.Equal(t, http.StatusCreated, r.Status, "%s", r.Body)
	require.Equal(t, "2026-10-01", r.JSON(t)["day"])
	r = env.Do(t, http.MethodPut, "/v1/tenant/holidays/2026-10-01", admin, map[string]any{"name": "National Day"})
	require.Equal(t, http.StatusOK, r.Status, "renamed: %s", r.Body)
	require.Equal(t, "National Day", r.JSON(t)["name"])
	require.Equal(t, http.StatusCreated, env.Do(t, http.MethodPut, "/v1/tenant/holidays/2026-01-01", admin, map[string]any{"name": "元旦"}).Status)

	r = env.Do(t, http.MethodGet, "/v1/tenant/holidays?limit=1", agent, nil)
	require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
	page := r.JSON(t)
	require.Equal(t, "2026-01-01", page["data"].([]any)[0].(map[string]any)["day"], "by date")
	r = env.Do(t, http.MethodGet, "/v1/tenant/holidays?limit=1&cursor="+page["next_cursor"].(string), agent, nil)
	require.Equal(t, "2026-10-01", r.JSON(t)["data"].([]any)[0].(map[string]any)["day"])
	r = env.Do(t, http.MethodGet, "/v1/tenant/holidays?from=2026-06-01", agent, nil)
	require.Len(t, r.JSON(t)["data"], 1)

	require.Equal(t, []string{"path.date"}, problemLocations(t,
		env.Do(t, http.MethodPut, "/v1/tenant/holidays/2026-13-01", admin, map[string]any{"name": "x"}), http.StatusUnprocessableEntity))
	require.Equal(t, http.StatusForbidden, env.Do(t, http.MethodPut, "/v1/tenant/holidays/2026-10-02", agent, map[string]any{"name": "x"}).Status)

	require.Equal(t, http.StatusNoContent, env.Do(t, http.MethodDelete, "/v1/tenant/holidays/2026-01-01", admin, nil).Status)
	require.Equal(t, http.StatusNotFound, env.Do(t, http.MethodDelete, "/v1/tenant/holidays/2026-01-01", admin, nil).Status)

	other := env.CreateTenant(t, "holidays-other")
	r = env.Do(t, http.MethodGet, "/v1/tenant/holidays", other.AdminKey, nil)
	require.Empty(t, r.JSON(t)["data"], "another tenant's calendar is its own")
	require.Equal(t, http.StatusNotFound, env.Do(t, http.MethodDelete, "/v1/tenant/holidays/2026-10-01", other.AdminKey, nil).Status)
}

func TestPayouts(t *testing.T) {
	t.Parallel()
	env := apitest.Shared(t)
	ten := env.CreateTenant(t, "payouts")
	admin := ten.AdminKey
	unit := contractUnit(t, env, ten.ID, "washer", 12, shanghaiToday(-60), "")
	require.Equal(t, http.StatusCreated, env.Do(t, http.MethodPut, "/v1/tenant/holidays/2026-10-01", admin,
		map[string]any{"name": "国庆节"}).Status)

	// Friday 2026-09-25 + 5 business days: Mon 28, Tue 29, Wed 30, (Thu Oct 1
	// holiday), Fri Oct 2, (weekend), Mon Oct 5.
	var late map[string]any
	t.Run("NoReasonRepairCompensationIsDueFiveBusinessDaysLaterSkippingWeekendAndHoliday", func(t *testing.T) {
		r := env.Do(t, http.MethodPost, "/v1/payouts", admin, map[string]any{"unit_id": unit, "amount": money(10000),
			"reason": "no-reason repair plan: satisfaction compensation", "from": "2026-09-25", "business_days": 5})
		require.Equal(t, http.StatusCreated, r.Status, "%s", r.Body)
		late = r.JSON(t)
		require.Regexp(t, `^pay_[0-9a-z]{26}$`, late["id"])
		require.Equal(t, "/v1/payouts/"+late["id"].(string), r.Header.Get("Location"))
		require.Equal(t, "2026-10-05", late["due_on"])
		require.Equal(t, "2026-09-25", late["counted_from"])
		// No contract: the brand owes the 100.00 to the unit's customer.
		require.Equal(t, money(float64(10000)), late["amount"])
		require.Equal(t, "brand", late["payer"])
		require.Nil(t, late["contract_id"])
		require.Equal(t, unit, late["unit_id"])
	})

	t.Run("AMissedDeadlineRaisesAnEvent", func(t *testing.T) {
		// The due day ended long ago: the deadline job runs at once.
		id := late["id"].(string)
		m := eventually(t, func() *apitest.Response { return env.Do(t, http.MethodGet, "/v1/payouts/"+id, admin, nil) },
			func(m map[string]any) bool { return m["state"] != "scheduled" })
		require.Equal(t, "missed", m["state"])
		require.NotNil(t, m["missed_at"])
		evs := eventsOf(t, env, ten.ID, "payout.missed", id)
		require.Len(t, evs, 1)
		require.Equal(t, unit, evs[0]["unit_id"])
		require.Equal(t, "2026-10-05", evs[0]["due_on"])

		// Still payable, once.
		r := env.Do(t, http.MethodPost, "/v1/payouts/"+id+"/mark-paid", admin, map[string]any{"reference": "ALIPAY-1"})
		require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
		require.Equal(t, "paid", r.JSON(t)["state"])
		paid := eventsOf(t, env, ten.ID, "payout.paid", id)
		require.Len(t, paid, 1)
		require.Equal(t, true, paid[0]["late"])
		r = env.Do(t, http.MethodPost, "/v1/payouts/"+id+"/mark-paid", admin, map[string]any{"reference": "ALIPAY-1"})
		require.Equal(t, http.StatusConflict, r.Status, "%s", r.Body)
		require.Contains(t, r.JSON(t)["detail"], "already paid")
	})

	t.Run("PaidInTimeIsNotMissed", func(t *testing.T) {
		r := env.Do(t, http.MethodPost, "/v1/payouts", admin, map[string]any{"unit_id": unit, "amount": money(10000),
			"reason": "compensation"})
		require.Equal(t, http.StatusCreated, r.Status, "%s", r.Body)
		p := r.JSON(t)
		require.Equal(t, "scheduled", p["state"])
		require.Equal(t, float64(5), p["business_days"])
		// Counted from today (Shanghai), 5 business days past weekends and
		// the tenant's holiday.
		require.Equal(t, shanghaiToday(0), p["counted_from"])
		nationalDay := time.Date(2026, 10, 1, 0, 0, 0, 0, time.UTC)
		require.Equal(t, businessDaysAfter(civilDay(time.Now()), 5, nationalDay).Format(time.DateOnly), p["due_on"])
		require.Equal(t, money(float64(10000)), p["amount"])
		require.Equal(t, "brand", p["payer"])
		id := p["id"].(string)
		r = env.Do(t, http.MethodPost, "/v1/payouts/"+id+"/mark-paid", admin, map[string]any{"reference": "WX-2"}, `If-Match: "v7"`)
		require.Equal(t, http.StatusPreconditionFailed, r.Status, "%s", r.Body)
		r = env.Do(t, http.MethodPost, "/v1/payouts/"+id+"/mark-paid", admin, map[string]any{"reference": "WX-2"}, `If-Match: "v1"`)
		require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
		require.Equal(t, "WX-2", r.JSON(t)["reference"])
		require.Len(t, ids(t, env.Do(t, http.MethodGet, "/v1/payouts?state=paid&unit_id="+unit, admin, nil)), 2)
		require.Len(t, ids(t, env.Do(t, http.MethodGet, "/v1/payouts?state=missed", admin, nil)), 0)
	})

	t.Run("BadInput", func(t *testing.T) {
		r := env.Do(t, http.MethodPost, "/v1/payouts", admin, map[string]any{"unit_id": "unt_00000000000000000000000000",
			"amount": money(0), "reason": "x", "from": shanghaiToday(2)})
		require.ElementsMatch(t, []string{"body.unit_id", "body.amount.amount", "body.from"},
			problemLocations(t, r, http.StatusUnprocessableEntity))
		r = env.Do(t, http.MethodPost, "/v1/payouts", admin, map[string]any{"unit_id": unit, "amount": money(100),
			"reason": "x", "contract_id": "ctr_00000000000000000000000000"})
		require.Equal(t, []string{"body.contract_id"}, problemLocations(t, r, http.StatusUnprocessableEntity))
		require.Equal(t, http.StatusNotFound, env.Do(t, http.MethodGet, "/v1/payouts/pay_00000000000000000000000000", admin, nil).Status)
	})

	t.Run("AnotherTenantSeesNothing", func(t *testing.T) {
		other := env.CreateTenant(t, "payouts-other")
		id := late["id"].(string)
		require.Equal(t, http.StatusNotFound, env.Do(t, http.MethodGet, "/v1/payouts/"+id, other.AdminKey, nil).Status)
		require.Equal(t, http.StatusNotFound, env.Do(t, http.MethodPost, "/v1/payouts/"+id+"/mark-paid", other.AdminKey,
			map[string]any{"reference": "X"}).Status)
		require.Empty(t, ids(t, env.Do(t, http.MethodGet, "/v1/payouts", other.AdminKey, nil)))
		r := env.Do(t, http.MethodPost, "/v1/payouts", other.AdminKey, map[string]any{"unit_id": unit, "amount": money(100), "reason": "x"})
		require.Equal(t, []string{"body.unit_id"}, problemLocations(t, r, http.StatusUnprocessableEntity))
	})
}
