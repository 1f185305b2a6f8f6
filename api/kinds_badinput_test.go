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
	// timeline's length, the unit's installation date and its payouts. The
	// SLA sweep's breach entries are left out of the timeline's length: a
	// case whose server clock is put back has deadlines in the past, which
	// the sweep (every 5 s, on the wall clock) may breach at any moment.
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
		entries := 0
		for _, e := range tl.JSON(t)["data"].([]any) {
			if e.(map[string]any)["action"] != "sla_breached" {
				entries++
			}
		}
		return []any{r.Header.Get("ETag"), tk["state"], entries, u.JSON(t)["installed_on"], len(po.JSON(t)["data"].([]any))}
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

	t.Run("ServiceBeforeThePurchaseDateIs409NamingTheDate", func(t *testing.T) {
		// A ticket action's service date is the ticket's day, not a field
		// of the request: a report or a completion on a day the brand has
		// no price list, or before the unit's purchase date, is the
		// brand's state (409 with the date), never a 422 naming a field
		// the request does not have (body.on, body.date, installed_on).
		f := newKindsFlow(t, "kinds-bad-installed")
		unit := f.unit(t, "KIND-BAD-0004", shanghaiToday(-20), "")
		shanghai, err := time.LoadLocation("Asia/Shanghai")
		require.NoError(t, err)
		// The server's clock is put back ten days: the install is taken
		// in, visited and reported then.
		base := time.Now().AddDate(0, 0, -10)
		f.clock.Set(base)
		tk := f.openFor(t, f.agent, "install", unit, nil)
		id := tk["id"].(string)
		tk = ticketAct(t, f.env, f.agent, id, "triage", map[string]any{"mode": "on_site"}, http.StatusOK)
		start := f.inShift(t, tk, apitest.WeekdayMorning(base, 2))
		key := f.accept(t, tk, start)
		f.clock.Set(start.Add(-7 * time.Minute))
		ticketAct(t, f.env, key, id, "check-in", nil, http.StatusOK)
		f.clock.Set(start.Add(20 * time.Minute))
		visitDay := start.In(shanghai).Format(time.DateOnly)
		conflict := func(t *testing.T, action string, body map[string]any, says ...string) {
			t.Helper()
			before := snapshot(t, f, id, key, unit)
			r := f.env.Do(t, http.MethodPost, "/v1/tickets/"+id+"/"+action, key, body, f.env.IfMatch(t, "/v1/tickets/"+id, key)...)
			m := requireProblem(t, r, http.StatusConflict, "conflict", "")
			assert.Nil(t, m["errors"], "no field named")
			for _, s := range says {
				assert.Contains(t, m["detail"], s)
			}
			assert.Equal(t, before, snapshot(t, f, id, key, unit), "nothing changed")
			assert.Nil(t, before[3], "the unit is not installed")
		}

		t.Run("NoPriceListInEffectThatDay", func(t *testing.T) {
			// The demo's price list takes effect today.
			conflict(t, "installation-report", installReport(), "price list", visitDay)
		})
		ownerUpdate(t, f.env, f.d.ID, `UPDATE price_lists SET effective_from = effective_from - 30`)
		correct := func(t *testing.T, purchase string) {
			t.Helper()
			r := f.env.Do(t, http.MethodPatch, "/v1/units/"+unit, f.d.AdminKey, map[string]any{"purchase_date": purchase},
				f.env.IfMatch(t, "/v1/units/"+unit, f.d.AdminKey)...)
			require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
		}
		t.Run("ReportBeforeThePurchase", func(t *testing.T) {
			correct(t, shanghaiToday(0))
			conflict(t, "installation-report", installReport(), visitDay, "purchase date")
		})
		t.Run("CompletionBeforeThePurchase", func(t *testing.T) {
			// Reported while the purchase date was before the visit, then
			// the purchase date is corrected to today: the completion
			// would install the unit before its purchase.
			correct(t, shanghaiToday(-20))
			ticketAct(t, f.env, key, id, "installation-report", installReport(), http.StatusOK)
			correct(t, shanghaiToday(0))
			conflict(t, "complete", map[string]any{"test_run": map[string]any{"passed": true}}, visitDay, "purchase date")
		})
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
