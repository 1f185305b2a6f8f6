package api_test

import (
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/servicenet/servicenet/internal/apitest"
)

// An approved no-reason-repair claim owes the plan's 100 CNY within 5
// business days of the repair: the payout is scheduled in the approval's
// transaction, counting past the weekend and the tenant's holiday.
func TestNoReasonClaimSchedulesPayout(t *testing.T) {
	t.Parallel()
	env := apitest.New(t)
	w := newWasherShop(t, env, "claims-payout")
	plan := createdID(t, env, w.admin, "/v1/coverage-plans", planBodies()["nrr"])
	contract := createdID(t, env, w.admin, "/v1/contracts", map[string]any{"unit_id": w.newUnit, "plan_id": plan, "sold_on": shanghaiToday(-30)})

	// The repair: the Friday 7 to 13 days ago (inside the plan, which started the day after purchase).
	day := func(s string) time.Time { d, _ := time.Parse(time.DateOnly, s); return d }
	friday := day(shanghaiToday(-7))
	for friday.Weekday() != time.Friday {
		friday = friday.AddDate(0, 0, -1)
	}
	holiday := friday.AddDate(0, 0, 4) // the Tuesday after
	r := env.Do(t, http.MethodPut, "/v1/tenant/holidays/"+holiday.Format(time.DateOnly), w.admin, map[string]any{"name": "厂庆"})
	require.Equal(t, http.StatusCreated, r.Status, "%s", r.Body)

	body := w.claim("no_reason_repair", w.newUnit, "NRR-PAY-1", "unstable_voltage", labor(10000), w.boardLine(30000))
	body["occurred_on"] = friday.Format(time.DateOnly)
	r = env.Do(t, http.MethodPost, "/v1/claims", w.admin, body)
	require.Equal(t, http.StatusCreated, r.Status, "%s", r.Body)
	claim := r.JSON(t)["id"].(string)

	var payout map[string]any
	require.Eventually(t, func() bool {
		r := env.Do(t, http.MethodGet, "/v1/payouts?claim_id="+claim, w.admin, nil)
		data, _ := r.JSON(t)["data"].([]any)
		if len(data) == 1 {
			payout = data[0].(map[string]any)
		}
		return payout != nil
	}, 20*time.Second, 100*time.Millisecond, "the approved claim schedules its payout")
	// Rule 7: 100.00 satisfaction compensation, owed by the plan of the
	// unit's contract, to the unit's customer.
	require.Equal(t, int64(10000), amountOf(payout["amount"]))
	require.Equal(t, "CNY", payout["amount"].(map[string]any)["currency"])
	require.Equal(t, "plan", payout["payer"])
	require.Equal(t, contract, payout["contract_id"])
	require.Equal(t, w.newUnit, payout["unit_id"])
	require.Equal(t, claim, payout["claim_id"])
	require.Equal(t, friday.Format(time.DateOnly), payout["counted_from"])
	require.Equal(t, float64(5), payout["business_days"])
	// Mon, (Tue holiday), Wed, Thu, Fri, Mon: 10 days after the Friday.
	require.Equal(t, friday.AddDate(0, 0, 10).Format(time.DateOnly), payout["due_on"], "%v", payout)
	r = env.Do(t, http.MethodGet, "/v1/claims/"+claim, w.admin, nil)
	require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
	m := r.JSON(t)
	require.Equal(t, "approved", m["state"], "%s", r.Body)
	// Rule 7: unstable voltage is an environmental fault, repaired free
	// under the plan: labour 100.00 + the board 300.00 = 400.00 approved.
	require.Equal(t, int64(40000), amountOf(m["total_approved"]))
}
