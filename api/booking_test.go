package api_test

import (
	"context"
	"fmt"
	"net/http"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/servicenet/servicenet/internal/apitest"
)

// dispatchedTo opens a ready repair ticket and dispatches it to technician
// techID (a dispatcher's override); it returns the ticket id.
func dispatchedTo(t *testing.T, env *apitest.Env, d apitest.DemoBrand, agent, dispatcher, serial, techID string, start time.Time) string {
	t.Helper()
	id, _ := openReady(t, env, d, agent, serial, 30, start)
	tk := ticketAct(t, env, agent, id, "triage", map[string]any{"mode": "on_site"}, http.StatusOK)
	require.Equal(t, "dispatched", tk["state"], "%v", tk["state_reason"])
	if techID != "" && tk["technician_id"] != techID {
		tk = ticketAct(t, env, dispatcher, id, "dispatch", map[string]any{"technician_id": techID,
			"reason": "the customer asked for this technician"}, http.StatusOK)
		require.Equal(t, techID, tk["technician_id"])
	}
	return id
}

// TestAppointmentIsACommitment: issue 12 item 12. A technician is never
// booked for overlapping windows, a window must fit the technician's shift,
// and nothing changes when either is refused.
func TestAppointmentIsACommitment(t *testing.T) {
	t.Parallel()
	env := apitest.Shared(t)
	d := env.DemoBrand(t, "booking-commit")
	agent, _ := env.Key(t, d.AdminKey, "agent")
	dispatcher, _ := env.Key(t, d.AdminKey, "dispatcher")
	start := apitest.WeekdayMorning(time.Now(), 3) // 10:00 Shanghai, inside the 07:00-21:00 shifts

	first := dispatchedTo(t, env, d, agent, dispatcher, "BOOK-0001", "", start)
	r := env.Do(t, http.MethodGet, "/v1/tickets/"+first, agent, nil)
	tech := r.JSON(t)["technician_id"].(string)
	techKey := technicianKey(t, env, d.AdminKey, tech)
	ticketAct(t, env, techKey, first, "accept", nil, http.StatusOK)
	ticketAct(t, env, techKey, first, "schedule", map[string]any{"window": window(start)}, http.StatusOK)

	// Dispatch does not propose, nor let a dispatcher choose, a technician
	// booked for another customer in the window the customer asked for.
	third, _ := openReady(t, env, d, agent, "BOOK-0003", 30, start)
	tk := ticketAct(t, env, agent, third, "triage", map[string]any{"mode": "on_site"}, http.StatusOK)
	require.NotEqual(t, tech, tk["technician_id"], "booked 10:00-12:00 for %s", first)
	r = env.Do(t, http.MethodPost, "/v1/tickets/"+third+"/dispatch", dispatcher, map[string]any{"technician_id": tech,
		"reason": "the customer asked for this technician"}, env.IfMatch(t, "/v1/tickets/"+third, dispatcher)...)
	require.Contains(t, problemLocations(t, r, http.StatusUnprocessableEntity), "body.technician_id")
	assert.Contains(t, string(r.Body), "booked_in_window")

	// Asked for 12:00-14:00, back to back with the first: the technician is free.
	second := dispatchedTo(t, env, d, agent, dispatcher, "BOOK-0002", tech, start.Add(2*time.Hour))
	ticketAct(t, env, techKey, second, "accept", nil, http.StatusOK)

	t.Run("OverlappingWindowIs409NamingTheTicket", func(t *testing.T) {
		before := env.Do(t, http.MethodGet, "/v1/tickets/"+second, techKey, nil).JSON(t)
		overlap := start.Add(time.Hour) // 11:00-13:00 overlaps 10:00-12:00
		r := env.Do(t, http.MethodPost, "/v1/tickets/"+second+"/schedule", techKey, map[string]any{"window": window(overlap)},
			env.IfMatch(t, "/v1/tickets/"+second, techKey)...)
		require.Contains(t, problemLocations(t, r, http.StatusConflict), "body.window")
		assert.Contains(t, string(r.Body), first, "the conflicting ticket is named")
		after := env.Do(t, http.MethodGet, "/v1/tickets/"+second, techKey, nil).JSON(t)
		assert.Equal(t, before["version"], after["version"], "nothing changed")
		assert.Equal(t, "assigned", after["state"])
		r = env.Do(t, http.MethodGet, "/v1/tickets/"+second+"/appointments", techKey, nil)
		assert.Empty(t, r.JSON(t)["data"], "no appointment recorded")
	})

	t.Run("WindowOutsideTheShiftIs422", func(t *testing.T) {
		evening := time.Date(start.Year(), start.Month(), start.Day(), 20, 0, 0, 0, start.Location()) // 20:00-22:00, shift ends 21:00
		r := env.Do(t, http.MethodPost, "/v1/tickets/"+second+"/schedule", techKey, map[string]any{"window": window(evening)},
			env.IfMatch(t, "/v1/tickets/"+second, techKey)...)
		require.Contains(t, problemLocations(t, r, http.StatusUnprocessableEntity), "body.window")
		assert.Contains(t, string(r.Body), "outside the shifts of technician")
		assert.Equal(t, "assigned", env.Do(t, http.MethodGet, "/v1/tickets/"+second, techKey, nil).JSON(t)["state"])
	})

	t.Run("BackToBackWindowsAreFine", func(t *testing.T) {
		tk := ticketAct(t, env, techKey, second, "schedule", map[string]any{"window": window(start.Add(2 * time.Hour))}, http.StatusOK)
		assert.Equal(t, "scheduled", tk["state"])
	})

	t.Run("RescheduleOntoAnotherBookingIs409", func(t *testing.T) {
		r := env.Do(t, http.MethodPost, "/v1/tickets/"+first+"/reschedule", techKey, map[string]any{
			"window": window(start.Add(90 * time.Minute)), "reason": "customer_request"}, env.IfMatch(t, "/v1/tickets/"+first, techKey)...)
		require.Contains(t, problemLocations(t, r, http.StatusConflict), "body.window")
		assert.Contains(t, string(r.Body), second)
		// Moving onto its own current window is no conflict with itself.
		ticketAct(t, env, techKey, first, "reschedule", map[string]any{"window": window(start.Add(-time.Hour)),
			"reason": "customer_request"}, http.StatusOK)
	})

	t.Run("TheDatabaseRefusesAnOverlapTheServiceMissed", func(t *testing.T) {
		// The exclusion constraint backs the locked check: a direct write of
		// an overlapping booking fails.
		ctx := context.Background()
		tx, err := env.DB.Owner.Begin(ctx)
		require.NoError(t, err)
		defer func() { _ = tx.Rollback(ctx) }()
		_, err = tx.Exec(ctx, `SELECT set_config('app.tenant_id', $1, true), set_config('app.livemode', 'true', true)`, d.ID)
		require.NoError(t, err)
		_, err = tx.Exec(ctx, `UPDATE tickets SET window_start = $2, window_end = $3
			WHERE id = $1`, second, start.Add(-30*time.Minute), start.Add(30*time.Minute))
		require.ErrorContains(t, err, "tickets_technician_booking_excl")
	})
}

// TestPriorityChangesSomething: issue 12 item 12, the contract: the list's
// priority filter and order take their query parameters, and an unknown
// priority is refused naming the parameter. What priority changes (SLA
// deadlines by the policy's percentages, the dispatch order, the filter)
// is tested in a rolled-back transaction: tenants/tickets/priority_test.go.
func TestPriorityChangesSomething(t *testing.T) {
	t.Parallel()
	env := apitest.Shared(t)
	ten := env.CreateTenant(t, "booking-priority")
	agent, _ := env.Key(t, ten.AdminKey, "agent")
	r := env.Do(t, http.MethodGet, "/v1/tickets?unassigned=true&order=priority&priority=high&priority=low&limit=2", agent, nil)
	require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
	r = env.Do(t, http.MethodGet, "/v1/tickets?priority=asap", agent, nil)
	assert.Equal(t, []string{"query.priority[0]"}, problemLocations(t, r, http.StatusUnprocessableEntity))
}

// TestIntakeNumbersAndVerification: issue 12 item 15. A failed intake does
// not consume a ticket number; an address without a district code or a
// missing or wrong phone goes to needs_info with a verification item and
// its own clock, which breaches.
func TestIntakeNumbersAndVerification(t *testing.T) {
	t.Parallel()
	env := apitest.Shared(t)
	d := env.DemoBrand(t, "booking-intake")
	agent, _ := env.Key(t, d.AdminKey, "agent")
	shop := env.StorefrontKey(t, d.AdminKey, env.Storefront(t, d.AdminKey, "INTAKE-SHOP"))
	body := func(serial, ref string) map[string]any {
		return map[string]any{"channel": "storefront", "type": "repair", "external_reference": ref,
			"contact": map[string]any{"name": "客户", "phone": "+86 138 " + serial[len(serial)-4:] + " 0000"},
			"address": map[string]any{"region_code": d.Region, "line": "建设路 1 号"},
			"unit":    map[string]any{"model_id": d.Washer, "serial": serial, "purchase_date": shanghaiToday(-30)},
			"fault":   map[string]any{"symptom": "不排水"}}
	}
	seq := func(number string) int {
		n, err := strconv.Atoi(number[len(number)-5:])
		require.NoError(t, err)
		return n
	}

	// Numbers come from the tenant's sequence without a lock (migration
	// 029): they increase and never repeat; a refused intake leaves the
	// number it took unused, as Ticket.number documents.
	t.Run("ARefusedIntakeLeavesItsNumberUnused", func(t *testing.T) {
		r := env.Do(t, http.MethodPost, "/v1/tickets", shop, body("NUM-0001", "REF-1"))
		require.Equal(t, http.StatusCreated, r.Status, "%s", r.Body)
		first := r.JSON(t)["number"].(string)
		// The same reference again: refused when the ticket row is written,
		// after the number was taken.
		r = env.Do(t, http.MethodPost, "/v1/tickets", shop, body("NUM-0002", "REF-1"))
		require.Contains(t, problemLocations(t, r, http.StatusConflict), "body.external_reference")
		r = env.Do(t, http.MethodPost, "/v1/tickets", shop, body("NUM-0003", "REF-2"))
		require.Equal(t, http.StatusCreated, r.Status, "%s", r.Body)
		next := r.JSON(t)["number"].(string)
		require.Equal(t, first[:12], next[:12], "same day")
		assert.Equal(t, seq(first)+2, seq(next), "%s then %s: the refused intake's number is skipped, not reused", first, next)
	})

	t.Run("ConcurrentIntakesGetDistinctNumbers", func(t *testing.T) {
		const n = 8
		numbers := make([]string, n)
		var wg sync.WaitGroup
		for i := range n {
			wg.Go(func() {
				r := env.Do(t, http.MethodPost, "/v1/tickets", shop, body(fmt.Sprintf("NUM-1%03d", i), fmt.Sprintf("REF-C%d", i)))
				if assert.Equal(t, http.StatusCreated, r.Status, "%s", r.Body) {
					numbers[i] = r.JSON(t)["number"].(string)
				}
			})
		}
		wg.Wait()
		seen := map[string]bool{}
		for _, num := range numbers {
			require.NotEmpty(t, num)
			require.False(t, seen[num], "%s given twice", num)
			seen[num] = true
		}
	})

	t.Run("NoDistrictAndAWrongPhoneWaitForVerification", func(t *testing.T) {
		r := env.Do(t, http.MethodPost, "/v1/tickets", agent, map[string]any{
			"channel": "hotline", "type": "repair",
			"contact": map[string]any{"name": "钱八", "phone": "12"},
			"address": map[string]any{"line": "崂山区某小区"},
			"unit":    map[string]any{"model_id": d.Washer, "serial": "VER-0001", "purchase_date": shanghaiToday(-30)},
			"fault":   map[string]any{"symptom": "不加热"}})
		require.Equal(t, http.StatusCreated, r.Status, "%s", r.Body)
		tk := r.JSON(t)
		id := tk["id"].(string)
		require.Equal(t, "needs_info", tk["state"])
		var fields []string
		for _, v := range tk["verification"].([]any) {
			fields = append(fields, v.(map[string]any)["field"].(string))
		}
		assert.ElementsMatch(t, []string{"contact.phone", "address.region_code"}, fields)
		assert.Nil(t, tk["customer_id"], "no customer until the phone is verified")
		assert.Nil(t, tk["unit_id"], "the unit is registered with its verified owner")
		sla := tk["sla"].(map[string]any)
		assert.Nil(t, sla["route_due_at"], "the intake clocks wait for a workable ticket")
		created, _ := time.Parse(time.RFC3339Nano, tk["created_at"].(string))
		verifyBy, err := time.Parse(time.RFC3339Nano, sla["verification_due_at"].(string))
		require.NoError(t, err)
		assert.Equal(t, 2*time.Hour, verifyBy.Sub(created).Round(time.Second), "the policy's verification_minutes")

		// Its own breach when nobody verifies in time.
		fireTimer(t, env, d.ID, id, "verification")
		breaches := eventually(t, func() *apitest.Response {
			return env.Do(t, http.MethodGet, "/v1/sla-breaches?sla=verification", d.AdminKey, nil)
		}, func(m map[string]any) bool { return len(m["data"].([]any)) > 0 })
		b := breaches["data"].([]any)[0].(map[string]any)
		assert.Equal(t, id, b["ticket_id"])
		assert.Equal(t, "verification", b["sla"])

		// Verified: new, the verification clock stops, the customer and unit exist.
		tk = ticketAct(t, env, agent, id, "info", map[string]any{
			"contact": map[string]any{"name": "钱八", "phone": "+86 139 8888 0001"},
			"address": map[string]any{"region_code": d.Region, "line": "崂山区某小区 3 号楼"},
			"note":    "信息员核实电话与区县"}, http.StatusOK)
		require.Equal(t, "new", tk["state"], "%v", tk["verification"])
		assert.NotEmpty(t, tk["customer_id"])
		assert.NotEmpty(t, tk["unit_id"])
		assert.Nil(t, tk["sla"].(map[string]any)["verification_due_at"])
		assert.NotNil(t, tk["sla"].(map[string]any)["route_due_at"])
	})

	t.Run("AnInvalidPhoneIsVerifiedNotRefused", func(t *testing.T) {
		// Parsed by libphonenumber but not valid: a landline without its area
		// code, a mobile a digit short. The ticket waits in needs_info.
		for i, phone := range []string{"8888 6666", "138 0013 800", "电话稍后提供"} {
			r := env.Do(t, http.MethodPost, "/v1/tickets", agent, map[string]any{
				"channel": "hotline", "type": "repair",
				"contact": map[string]any{"name": "孙九", "phone": phone},
				"address": map[string]any{"region_code": d.Region, "line": "建设路 9 号"},
				"unit":    map[string]any{"model_id": d.Washer, "serial": fmt.Sprintf("VER-10%02d", i), "purchase_date": shanghaiToday(-30)},
				"fault":   map[string]any{"symptom": "不加热"}})
			require.Equal(t, http.StatusCreated, r.Status, "%s", r.Body)
			tk := r.JSON(t)
			require.Equal(t, "needs_info", tk["state"], phone)
			require.Len(t, tk["verification"], 1)
			assert.Equal(t, "contact.phone", tk["verification"].([]any)[0].(map[string]any)["field"])
			assert.Empty(t, tk["customer_id"], "no customer for a number that is not one")
		}
	})

	t.Run("AValidPhoneIsStoredInE164WithItsDisplayForm", func(t *testing.T) {
		r := env.Do(t, http.MethodPost, "/v1/tickets", agent, map[string]any{
			"channel": "hotline", "type": "repair",
			"contact": map[string]any{"name": "孙九", "phone": "(0532) 8888-6666"},
			"address": map[string]any{"region_code": d.Region, "line": "建设路 9 号"},
			"unit":    map[string]any{"model_id": d.Washer, "serial": "VER-1100", "purchase_date": shanghaiToday(-30)},
			"fault":   map[string]any{"symptom": "不加热"}})
		require.Equal(t, http.StatusCreated, r.Status, "%s", r.Body)
		c := r.JSON(t)["contact"].(map[string]any)
		assert.Equal(t, "+8653288886666", c["phone"])
		assert.Equal(t, "0532 8888 6666", c["phone_display"])
	})

	t.Run("AMissingPhoneIsVerifiedToo", func(t *testing.T) {
		r := env.Do(t, http.MethodPost, "/v1/tickets", agent, map[string]any{
			"channel": "hotline", "type": "repair",
			"contact": map[string]any{"name": "孙九"},
			"address": map[string]any{"region_code": d.Region, "line": "建设路 9 号"},
			"unit":    map[string]any{"model_id": d.Washer, "serial": "VER-0002", "purchase_date": shanghaiToday(-30)},
			"fault":   map[string]any{"symptom": "不加热"}})
		require.Equal(t, http.StatusCreated, r.Status, "%s", r.Body)
		tk := r.JSON(t)
		require.Equal(t, "needs_info", tk["state"])
		require.Len(t, tk["verification"], 1)
		assert.Equal(t, "contact.phone", tk["verification"].([]any)[0].(map[string]any)["field"])
	})
}
