package api_test

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/servicenet/servicenet/internal/apitest"
	"github.com/servicenet/servicenet/internal/pg"
)

// TestComplaintOnATestClockLivesOnTheClock: a complaint about a ticket on a
// test clock takes the ticket's clock. Filed, reopened and resolved at the
// clock's time, its resolution deadline (high: 24 hours) runs on the
// clock: the wall clock never escalates it, the clock's advance past the
// deadline does (level 1 at the deadline, the next level the escalation
// interval, 60 minutes, after it; one advance past several deadlines
// catches the levels up), and a complaint about a ticket on no clock stays
// on the wall clock.
func TestComplaintOnATestClockLivesOnTheClock(t *testing.T) {
	t.Parallel()
	env := apitest.New(t)
	d := env.TestModeDemoBrand(t, "complaint-clocks")
	test := d.AdminKey
	tctx := pg.WithLivemode(context.Background(), false)
	agent, _ := env.Key(t, test, "agent")
	at := time.Now().Add(-72 * time.Hour).Truncate(time.Second) // the clock stands three days back
	clock := createClock(t, env, test, at)
	window0 := apitest.WeekdayMorning(time.Now(), 2)

	r := env.Do(t, http.MethodPost, "/v1/tickets", test, clockTicketBody(d, "CMC-0001", window0, map[string]any{"test_clock_id": clock}))
	require.Equal(t, http.StatusCreated, r.Status, "%s", r.Body)
	ticket := r.JSON(t)["id"].(string)

	get := func(id string) map[string]any {
		t.Helper()
		r := env.Do(t, http.MethodGet, "/v1/complaints/"+id, agent, nil)
		require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
		return r.JSON(t)
	}
	cmp := fileComplaint(t, env, agent, ticket, "late") // severity high: 24 hours
	c := get(cmp)
	require.Equal(t, clock, c["test_clock_id"], "the ticket's clock")
	require.Equal(t, clock, clockOfRow(t, env, tctx, d.ID, "complaints", cmp))
	require.Equal(t, at.UTC(), mustTime(t, c["created_at"]).UTC(), "filed at the clock's time")
	due := at.Add(24 * time.Hour)
	require.Equal(t, due.UTC(), mustTime(t, c["sla_due_at"]).UTC(), "due 24 hours after the clock's time, not the wall clock's")
	require.Equal(t, false, c["overdue"], "on the clock nothing is overdue yet (the wall clock is 48 hours past the deadline)")
	require.Equal(t, at.UTC(), mustTime(t, c["history"].([]any)[0].(map[string]any)["at"]).UTC())

	level := func() float64 { return get(cmp)["escalation_level"].(float64) }
	require.Never(t, func() bool { return level() != 0 }, time.Second, 100*time.Millisecond, "the wall clock does not escalate it")
	advanceClock(t, env, test, clock, due.Add(-time.Hour))
	require.EqualValues(t, 0, level(), "an hour before the deadline on the clock")

	advanceClock(t, env, test, clock, due.Add(30*time.Minute))
	require.Eventually(t, func() bool { return level() == 1 }, 30*time.Second, 50*time.Millisecond,
		"the clock's advance past the deadline escalated the complaint")
	c = get(cmp)
	require.Equal(t, "dispatcher", c["escalated_to"])
	require.Equal(t, due.UTC(), mustTime(t, c["sla_breached_at"]).UTC(), "breached at the deadline, on the clock")
	require.Equal(t, due.Add(time.Hour).UTC(), mustTime(t, c["sla_due_at"]).UTC(), "the next level an hour after the deadline")
	require.Equal(t, false, c["overdue"])
	h := c["history"].([]any)
	last := h[len(h)-1].(map[string]any)
	require.Equal(t, "sla_breached", last["action"])
	require.Equal(t, due.Add(30*time.Minute).UTC(), mustTime(t, last["at"]).UTC(), "recorded at the clock's time")

	advanceClock(t, env, test, clock, due.Add(90*time.Minute))
	require.Eventually(t, func() bool { return level() == 2 }, 30*time.Second, 50*time.Millisecond,
		"the next level's timer runs on the clock too")

	// The actions take the clock's time: resolved, rated low (reopened
	// under a new 24-hour deadline from the clock's time).
	now := due.Add(90 * time.Minute)
	r = resolveComplaint(t, env, agent, cmp, map[string]any{"resolution": "已致电客户说明"})
	require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
	require.Equal(t, now.UTC(), mustTime(t, r.JSON(t)["resolved_at"]).UTC(), "resolved at the clock's time")
	r = env.Do(t, http.MethodPost, "/v1/complaints/"+cmp+"/rate", agent, map[string]any{"rating": 1}, env.IfMatch(t, "/v1/complaints/"+cmp, agent)...)
	require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
	c = r.JSON(t)
	require.Equal(t, "reopened", c["state"])
	require.Equal(t, now.UTC(), mustTime(t, c["rated_at"]).UTC())
	require.Equal(t, now.Add(24*time.Hour).UTC(), mustTime(t, c["sla_due_at"]).UTC(), "reopened: 24 hours from the clock's time")
	advanceClock(t, env, test, clock, now.Add(25*time.Hour))
	require.Eventually(t, func() bool { return level() == 3 }, 30*time.Second, 50*time.Millisecond,
		"the reopened complaint's deadline passes on the clock")
	r = env.Do(t, http.MethodGet, "/v1/complaints?overdue=true&ticket_id="+ticket, agent, nil)
	require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
	require.Len(t, r.JSON(t)["data"], 1, "at the brand's level, overdue on the clock")

	// One advance far past a deadline catches the levels up, each at its
	// own deadline: the dispatcher at it, the node manager an hour after,
	// the brand two hours after.
	now = now.Add(25 * time.Hour)
	far := fileComplaint(t, env, agent, ticket, "late")
	due = now.Add(24 * time.Hour)
	require.Equal(t, due.UTC(), mustTime(t, get(far)["sla_due_at"]).UTC())
	advanceClock(t, env, test, clock, due.Add(150*time.Minute))
	require.Eventually(t, func() bool { return get(far)["escalation_level"].(float64) == 3 }, 30*time.Second, 50*time.Millisecond,
		"one advance past three deadlines escalates to the brand")
	c = get(far)
	require.Equal(t, due.UTC(), mustTime(t, c["sla_breached_at"]).UTC())
	require.Equal(t, due.Add(2*time.Hour).UTC(), mustTime(t, c["sla_due_at"]).UTC())

	// A live key does not see the test complaint.
	r = env.Do(t, http.MethodGet, "/v1/complaints/"+cmp, d.LiveAdminKey, nil)
	require.Equal(t, http.StatusNotFound, r.Status, "%s", r.Body)

	// A complaint about a ticket on no clock is on the wall clock.
	r = env.Do(t, http.MethodPost, "/v1/tickets", test, clockTicketBody(d, "CMC-0002", window0, nil))
	require.Equal(t, http.StatusCreated, r.Status, "%s", r.Body)
	before := time.Now()
	wall := get(fileComplaint(t, env, agent, r.JSON(t)["id"].(string), "late"))
	require.Nil(t, wall["test_clock_id"])
	wallDue := mustTime(t, wall["sla_due_at"])
	require.WithinRange(t, wallDue, before.Add(24*time.Hour-time.Second), time.Now().Add(24*time.Hour+time.Second))
}
