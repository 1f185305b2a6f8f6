package api_test

import (
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/servicenet/servicenet/internal/apitest"
)

// Seed 001 (电话沟通注意事项 (2)): 如未联系上用户(包括占线、电话无人接听等)仍需要
// 按照承诺到达客户处. The contract of a failed call before the visit and of
// the visit booked without the customer's agreement after it: an unknown
// outcome is 422 at body.outcome, another tenant's ticket 404, a schedule
// as unreachable without a failed attempt 422 at body.customer_unreachable
// with the ticket unchanged; after a no_answer it is booked, shown as the
// network's promise.
func TestContactAttemptContract(t *testing.T) {
	t.Parallel()
	f := newVisitFlow(t, "contact-attempt")
	tk := f.open(t, "CONTACT-0001", "on_site")
	id := tk["id"].(string)
	start := f.inShift(t, tk, apitest.WeekdayMorning(time.Now(), 2))
	require.Equal(t, "dispatched", tk["state"], "%v", tk["state_reason"])
	key := technicianKey(t, f.env, f.d.AdminKey, tk["technician_id"].(string))
	tk = ticketAct(t, f.env, key, id, "accept", nil, http.StatusOK)
	version := tk["version"]

	r := f.env.Do(t, http.MethodPost, "/v1/tickets/"+id+"/contact-attempt", key, map[string]any{"outcome": "reached"},
		f.env.IfMatch(t, "/v1/tickets/"+id, key)...)
	require.Equal(t, []string{"body.outcome"}, problemLocations(t, r, http.StatusUnprocessableEntity))

	other := f.env.DemoBrand(t, "contact-attempt-other")
	r = f.env.Do(t, http.MethodPost, "/v1/tickets/"+id+"/contact-attempt", other.AdminKey, map[string]any{"outcome": "no_answer"},
		"If-Match: \"v1\"")
	require.Equal(t, http.StatusNotFound, r.Status, "%s", r.Body)

	r = f.env.Do(t, http.MethodPost, "/v1/tickets/"+id+"/schedule", key,
		map[string]any{"window": window(start), "customer_unreachable": true}, f.env.IfMatch(t, "/v1/tickets/"+id, key)...)
	require.Equal(t, []string{"body.customer_unreachable"}, problemLocations(t, r, http.StatusUnprocessableEntity))
	r = f.env.Do(t, http.MethodGet, "/v1/tickets/"+id, key, nil)
	require.Equal(t, http.StatusOK, r.Status)
	require.Equal(t, version, r.JSON(t)["version"], "nothing changed")

	tk = ticketAct(t, f.env, key, id, "contact-attempt", map[string]any{"outcome": "no_answer", "note": "无人接听"}, http.StatusOK)
	attempts := tk["contact_attempts"].(map[string]any)
	require.Equal(t, float64(1), attempts["count"])
	require.Equal(t, float64(1), attempts["since_agreed"])
	require.Equal(t, "no_answer", attempts["last_outcome"])
	require.Equal(t, "assigned", tk["state"])

	tk = ticketAct(t, f.env, key, id, "schedule", map[string]any{"window": window(start), "customer_unreachable": true}, http.StatusOK)
	require.Equal(t, "scheduled", tk["state"])
	require.Equal(t, true, tk["appointment"].(map[string]any)["customer_unreachable"])
	require.NotNil(t, tk["sla"].(map[string]any)["first_contact_due_at"], "not agreed: no first contact")
	require.Contains(t, timelineActions(t, f.env, f.agent, id), "contact_attempted:assigned")
}
