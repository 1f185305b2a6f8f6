package api_test

import (
	"net/http"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/servicenet/servicenet/internal/apitest"
)

// A reviewer approves a line above its calculated amount only as an
// override that says why, shown on the claim with who made it. The
// washer's board asks 400.00 under the extended warranty; the markup cap
// allows 360.00 (300.00 + 20%), calculated 360.00. Approving 380.00 was
// 200 (the plan paid 20.00 no rule owed): now 422 problem+json at
// body.lines[0].approved.amount, the claim unchanged; above the 400.00
// asked it is refused even as an override; with override_reason 380.00 is
// approved and the line carries override {calculated 360.00, reason, by}.
func TestClaimApprovalAboveTheCalculationIsAnOverride(t *testing.T) {
	t.Parallel()
	env := apitest.Shared(t)
	w := newWasherShop(t, env, "claims-override")
	r := env.Do(t, http.MethodPost, "/v1/claims", w.admin, w.claim("extended_warranty", w.unit, "OVR-1", "power_surge", w.boardLine(40000)))
	require.Equal(t, http.StatusCreated, r.Status, "%s", r.Body)
	id := r.JSON(t)["id"].(string)
	m := waitClaim(t, env, w.admin, id, "submitted")
	require.Equal(t, "under_review", m["state"], "%v", m)
	require.Equal(t, []string{"markup_above_cap"}, flagCodes(m))
	require.Equal(t, int64(36000), amountOf(claimLines(m)[0]["calculated"]))

	approve := func(line map[string]any) *apitest.Response {
		return env.Do(t, http.MethodPost, "/v1/claims/"+id+"/approve", w.admin, map[string]any{"lines": []map[string]any{line}},
			env.IfMatch(t, "/v1/claims/"+id, w.admin)...)
	}
	before := env.Do(t, http.MethodGet, "/v1/claims/"+id, w.admin, nil).Header.Get("ETag")
	requireProblem(t, approve(map[string]any{"line": 0, "approved": cnyBody(38000), "reason": "checked"}),
		http.StatusUnprocessableEntity, "invalid", "body.lines[0].approved.amount")
	requireProblem(t, approve(map[string]any{"line": 0, "approved": cnyBody(40100), "override_reason": "more"}),
		http.StatusUnprocessableEntity, "invalid", "body.lines[0].approved.amount")
	requireProblem(t, approve(map[string]any{"line": 0, "approved": cnyBody(36000), "override_reason": "as calculated"}),
		http.StatusUnprocessableEntity, "invalid", "body.lines[0].override_reason")
	r = env.Do(t, http.MethodGet, "/v1/claims/"+id, w.admin, nil)
	require.Equal(t, before, r.Header.Get("ETag"), "refused approvals change nothing")
	require.Equal(t, "under_review", r.JSON(t)["state"])

	r = approve(map[string]any{"line": 0, "approved": cnyBody(38000), "override_reason": "board bought at the depot's price"})
	require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
	m = r.JSON(t)
	require.Equal(t, "approved", m["state"])
	require.Equal(t, int64(38000), amountOf(m["total_approved"]), "the plan pays 380.00")
	require.Equal(t, w.contract, m["decision"].(map[string]any)["contract_id"])
	o := claimLines(m)[0]["override"].(map[string]any)
	require.Equal(t, int64(36000), amountOf(o["calculated"]))
	require.Equal(t, "board bought at the depot's price", o["reason"])
	require.Regexp(t, `^key_`, o["by"], "the reviewer's key")
}
