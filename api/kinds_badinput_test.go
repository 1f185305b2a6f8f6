package api_test

import (
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/servicenet/servicenet/internal/apitest"
)

// TestKindsBadInput: issue 17's bad input. An installation report on a
// repair ticket and an inspection before the pickup are 409 naming the
// type or the state, a refund larger than the purchase price is 422 naming
// the field; each leaves the ticket (version, state, timeline), the unit
// and the payouts as they were.
func TestKindsBadInput(t *testing.T) {
	t.Parallel()
	// Each case has its own brand (a flow books its technician's day);
	// they run one after the other, to keep the demo imports light.
	// snapshot is what must not change: the ticket's ETag and state, its
	// timeline's length, the unit's installation date and its payouts.
	snapshot := func(t *testing.T, f *kindsFlow, id, key, unit string) []any {
		t.Helper()
		r := f.env.Do(t, http.MethodGet, "/v1/tickets/"+id, key, nil)
		require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
		tk := r.JSON(t)
		tl := f.env.Do(t, http.MethodGet, "/v1/tickets/"+id+"/timeline", f.agent, nil)
		require.Equal(t, http.StatusOK, tl.Status, "%s", tl.Body)
		u := f.env.Do(t, http.MethodGet, "/v1/units/"+unit, f.d.AdminKey, nil)
		require.Equal(t, http.StatusOK, u.Status, "%s", u.Body)
		po := f.env.Do(t, http.MethodGet, "/v1/payouts?unit_id="+unit, f.d.AdminKey, nil)
		require.Equal(t, http.StatusOK, po.Status, "%s", po.Body)
		return []any{r.Header.Get("ETag"), tk["state"], len(tl.JSON(t)["data"].([]any)), u.JSON(t)["installed_on"],
			len(po.JSON(t)["data"].([]any))}
	}

	t.Run("InstallationReportOnARepairTicketIs409NamingTheType", func(t *testing.T) {
		f := newKindsFlow(t, "kinds-bad-install")
		unit := f.unit(t, "KIND-BAD-0001", shanghaiToday(-40), "")
		tk := f.openFor(t, f.agent, "repair", unit, inTheMorning())
		id := tk["id"].(string)
		key := f.onSite(t, tk)
		before := snapshot(t, f, id, key, unit)
		r := f.env.Do(t, http.MethodPost, "/v1/tickets/"+id+"/installation-report", key, installReport(), f.env.IfMatch(t, "/v1/tickets/"+id, key)...)
		requireProblem(t, r, http.StatusConflict, "conflict", "")
		assert.Contains(t, r.JSON(t)["detail"], "type repair")
		assert.Equal(t, before, snapshot(t, f, id, key, unit), "nothing changed")
		assert.Nil(t, before[3], "the repair ticket set no installation date")
	})

	t.Run("InspectionBeforePickupIs409NamingTheState", func(t *testing.T) {
		f := newKindsFlow(t, "kinds-bad-inspect")
		unit := f.unit(t, "KIND-BAD-0002", shanghaiToday(-4), "")
		tk := f.openFor(t, f.shop, "return", unit, inTheMorning())
		id := tk["id"].(string)
		key := f.onSite(t, tk)
		before := snapshot(t, f, id, key, unit)
		r := f.env.Do(t, http.MethodPost, "/v1/tickets/"+id+"/inspection", key, map[string]any{"resellable": true, "fault_confirmed": false},
			f.env.IfMatch(t, "/v1/tickets/"+id, key)...)
		requireProblem(t, r, http.StatusConflict, "conflict", "")
		assert.Contains(t, r.JSON(t)["detail"], "on_site")
		assert.Equal(t, before, snapshot(t, f, id, key, unit), "nothing changed")
	})

	t.Run("RefundLargerThanThePurchasePriceIs422NamingTheField", func(t *testing.T) {
		f := newKindsFlow(t, "kinds-bad-refund")
		unit := f.unit(t, "KIND-BAD-0003", shanghaiToday(-4), "")
		id, key := f.pickedUp(t, "return", unit)
		ticketAct(t, f.env, key, id, "inspection", map[string]any{"resellable": true, "fault_confirmed": false}, http.StatusOK)
		before := snapshot(t, f, id, key, unit)
		// The purchase price is 3,000.00 CNY (f.unit): one fen more is refused.
		r := f.env.Do(t, http.MethodPost, "/v1/tickets/"+id+"/outcome", key, map[string]any{"outcome": "refund", "refund": cnyBody(300001)},
			f.env.IfMatch(t, "/v1/tickets/"+id, key)...)
		requireProblem(t, r, http.StatusUnprocessableEntity, "invalid", "body.refund.amount")
		assert.Equal(t, before, snapshot(t, f, id, key, unit), "nothing changed: no refund payout")
	})
}

// inTheMorning asks for the window onSite agrees, so that dispatch picks a
// technician whose shift holds it.
func inTheMorning() map[string]any {
	return map[string]any{"preferred_window": window(apitest.WeekdayMorning(time.Now(), 2))}
}
