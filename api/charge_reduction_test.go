package api_test

import (
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/servicenet/servicenet/internal/apitest"
)

// TestCentreReducesCharges: seed 000 (五.收费 4.其他) sends a customer who
// insists on a reduction back to the centre (报回中心,根据中心批示处理). The
// out-of-warranty washer repair charged the customer labor 120.00 + visit
// 50.00 = 170.00 (the demo price list, rule 2); the centre waives the visit
// fee: the customer pays 120.00, the brand 50.00, and the 50.00 paid comes
// back as one refund owed by the brand, once per request (Idempotency-Key).
// A technician's key may not grant it (403); more than the customer paid
// is 422 naming the field. A fee complaint upheld with the same 50.00 moves
// the same money.
func TestCentreReducesCharges(t *testing.T) {
	t.Parallel()
	env := apitest.New(t)
	clock := &testClock{}
	env.Tickets.Now = clock.Now
	d := env.DemoBrand(t, "charge-reductions")
	agent, _ := env.Key(t, d.AdminKey, "agent")
	tech, _ := env.Key(t, d.AdminKey, "technician")
	start := apitest.WeekdayMorning(time.Now(), 2)

	id, unit := chargedRepair(t, env, clock, d, agent, "CRD-0001", start)
	path := "/v1/tickets/" + id + "/reduce-charges"
	visitFee := map[string]any{"lines": []any{"visit"}, "reason": "中心批示：客户坚持，减免上门费"}

	r := env.Do(t, http.MethodPost, path, tech, visitFee, env.IfMatch(t, "/v1/tickets/"+id, agent)...)
	require.Equal(t, http.StatusForbidden, r.Status, "%s", r.Body)

	r = env.Do(t, http.MethodPost, path, agent, map[string]any{"amount": map[string]any{"amount": 17001, "currency": "CNY"},
		"reason": "超额"}, env.IfMatch(t, "/v1/tickets/"+id, agent)...)
	assert.Equal(t, []string{"body.amount.amount"}, problemLocations(t, r, http.StatusUnprocessableEntity))
	assert.Empty(t, unitPayouts(t, env, d.AdminKey, unit), "nothing changed")

	r = env.Do(t, http.MethodPost, path, agent, visitFee)
	require.Equal(t, http.StatusPreconditionRequired, r.Status, "If-Match like every ticket action: %s", r.Body)

	headers := append(env.IfMatch(t, "/v1/tickets/"+id, agent), "Idempotency-Key: reduce-visit-fee-1")
	first := env.Do(t, http.MethodPost, path, agent, visitFee, headers...)
	require.Equal(t, http.StatusOK, first.Status, "%s", first.Body)
	tk := first.JSON(t)
	totals := tk["completion"].(map[string]any)["totals"].(map[string]any)
	assert.EqualValues(t, 12000, totals["customer"].(map[string]any)["amount"], "the customer pays the labor 120.00")
	assert.EqualValues(t, 5000, totals["brand"].(map[string]any)["amount"], "the brand bears the visit fee 50.00")
	assert.EqualValues(t, 12000, tk["customer_total"].(map[string]any)["amount"])
	reductions := tk["completion"].(map[string]any)["reductions"].([]any)
	require.Len(t, reductions, 1)
	assert.NotEmpty(t, reductions[0].(map[string]any)["approved_by"])

	again := env.Do(t, http.MethodPost, path, agent, visitFee, headers...)
	require.Equal(t, http.StatusOK, again.Status, "%s", again.Body)
	ps := unitPayouts(t, env, d.AdminKey, unit)
	require.Len(t, ps, 1, "one refund, however often the request is retried")
	assert.EqualValues(t, 5000, ps[0]["amount"].(map[string]any)["amount"])
	assert.Equal(t, "brand", ps[0]["payer"])
	assert.Equal(t, ps[0]["id"], reductions[0].(map[string]any)["refund_payout_id"])

	assert.Contains(t, timelineActions(t, env, agent, id), "charges_reduced:completed")

	// The same decision carried by an upheld fee complaint moves the same money.
	id, unit = chargedRepair(t, env, clock, d, agent, "CRD-0002", start)
	cmp := fileComplaint(t, env, agent, id, "fee")
	r = resolveComplaint(t, env, agent, cmp, map[string]any{"resolution": "中心批示：减免上门费 50 元", "upheld": true,
		"reduction": map[string]any{"amount": map[string]any{"amount": 5000, "currency": "CNY"}}})
	require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
	c := r.JSON(t)
	assert.EqualValues(t, 5000, c["reduction"].(map[string]any)["amount"].(map[string]any)["amount"])
	r = env.Do(t, http.MethodGet, "/v1/tickets/"+id, agent, nil)
	tk = r.JSON(t)
	totals = tk["completion"].(map[string]any)["totals"].(map[string]any)
	assert.EqualValues(t, 12000, totals["customer"].(map[string]any)["amount"])
	assert.EqualValues(t, 5000, totals["brand"].(map[string]any)["amount"])
	ps = unitPayouts(t, env, d.AdminKey, unit)
	require.Len(t, ps, 1)
	assert.EqualValues(t, 5000, ps[0]["amount"].(map[string]any)["amount"])
	assert.Equal(t, "brand", ps[0]["payer"])
	assert.Equal(t, ps[0]["id"], c["refund_payout_id"])
}
