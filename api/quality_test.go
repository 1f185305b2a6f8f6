package api_test

import (
	"bytes"
	"context"
	"encoding/csv"
	"fmt"
	"net/http"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/servicenet/servicenet/internal/apitest"
	"github.com/servicenet/servicenet/internal/pg"
	"github.com/servicenet/servicenet/tenants"
)

func init() {
	readers := []string{"agent", "auditor", "dispatcher", "integrator", "network_manager", "node_manager", "technician", "tenant_admin"}
	managers := []string{"network_manager", "tenant_admin"}
	for _, op := range []string{"getScorecard", "getRanking", "getGradingPolicy", "listGradeProposals", "getGradeProposal", "listGradeHistory"} {
		wantMatrix[op] = readers
	}
	for _, op := range []string{"setGradingPolicy", "runGrading", "decideGradeProposal", "decideGradeAppeal"} {
		wantMatrix[op] = managers
	}
	// A technician key holds quality.appeal for its own level; a node's grade is out of its scope (404).
	wantMatrix["appealGradeProposal"] = []string{"network_manager", "node_manager", "technician", "tenant_admin"}
	dummyParams["proposal_id"] = "grp_00000000000000000000000000"
}

// qualityShop is a demo brand with two repair points covering the demo
// region (A and B) and three technicians of our own: T1 and T2 at A, T3
// at B; a settable clock for the tickets service and a sign-off code sink.
type qualityShop struct {
	env               *apitest.Env
	d                 apitest.DemoBrand
	clock             *testClock
	codes             *codeSink
	agent, dispatcher string
	nodeA, nodeB      string
	t1, t2, t3        string
}

func newQualityShop(t *testing.T, slug string) *qualityShop {
	codes := &codeSink{}
	env := apitest.New(t, apitest.Options{Codes: codes})
	clock := &testClock{}
	env.Tickets.Now = clock.Now
	d := env.DemoBrand(t, slug)
	agent, _ := env.Key(t, d.AdminKey, "agent")
	dispatcher, _ := env.Key(t, d.AdminKey, "dispatcher")
	s := &qualityShop{env: env, d: d, clock: clock, codes: codes, agent: agent, dispatcher: dispatcher}
	r := env.Do(t, http.MethodGet, "/v1/network/coverage?region_code="+d.Region+"&category=washer&service_kind=repair&limit=10", d.AdminKey, nil)
	require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
	var nodes []string
	for _, n := range r.JSON(t)["data"].([]any) {
		nodes = append(nodes, n.(map[string]any)["id"].(string))
	}
	require.GreaterOrEqual(t, len(nodes), 2, "the demo region needs two covering nodes")
	s.nodeA, s.nodeB = nodes[0], nodes[1]
	var shifts []map[string]any
	for wd := 1; wd <= 7; wd++ {
		shifts = append(shifts, map[string]any{"weekday": wd, "start": "07:00", "end": "21:00"})
	}
	tech := func(i int, node string) string {
		return createdID(t, env, d.AdminKey, "/v1/network/technicians", map[string]any{
			"external_code": fmt.Sprintf("Q-TECH-%d", i), "node_id": node, "name": fmt.Sprintf("质量师傅%d", i),
			"phone": fmt.Sprintf("+86 136 1111 %04d", i), "skills": []map[string]any{{"category": "washer", "level": 5}},
			"licence": map[string]any{"number": fmt.Sprintf("LIC-Q-%d", i), "issued_on": "2024-01-01", "expires_on": "2099-12-31"},
			"shifts":  shifts, "daily_job_limit": 30})
	}
	s.t1, s.t2, s.t3 = tech(1, s.nodeA), tech(2, s.nodeA), tech(3, s.nodeB)
	return s
}

// open takes a washer ticket in at the clock's time and triages it.
func (s *qualityShop) open(t *testing.T, serial, mode string, pref time.Time) map[string]any {
	t.Helper()
	r := s.env.Do(t, http.MethodPost, "/v1/tickets", s.agent, map[string]any{
		"channel": "hotline", "type": "repair",
		"contact":          map[string]any{"name": "孙八", "phone": "+86 139 5555 0202"},
		"address":          map[string]any{"region_code": s.d.Region, "line": "人民路 10 号"},
		"unit":             map[string]any{"model_id": s.d.Washer, "serial": serial, "purchase_date": shanghaiToday(-4 * 365)},
		"fault":            map[string]any{"symptom": "洗衣机不脱水"},
		"preferred_window": window(pref),
	})
	require.Equal(t, http.StatusCreated, r.Status, "%s", r.Body)
	id := r.JSON(t)["id"].(string)
	body := map[string]any{"mode": mode}
	if mode == "remote" {
		body["instructions"] = "请断电重启并清理排水泵过滤器"
	}
	return ticketAct(t, s.env, s.agent, id, "triage", body, http.StatusOK)
}

// route sends a dispatched ticket to node and tech (an override) and has
// the technician accept it; it returns the technician's key.
func (s *qualityShop) route(t *testing.T, id, node, tech string) string {
	t.Helper()
	tk := ticketAct(t, s.env, s.dispatcher, id, "dispatch", map[string]any{"node_id": node, "technician_id": tech, "reason": "质量测试指定"}, http.StatusOK)
	require.Equal(t, "dispatched", tk["state"], "%v", tk["state_reason"])
	require.Equal(t, tech, tk["technician_id"])
	key := technicianKey(t, s.env, s.d.AdminKey, tech)
	ticketAct(t, s.env, key, id, "accept", nil, http.StatusOK)
	return key
}

func (s *qualityShop) repair(t *testing.T, key, id string) map[string]any {
	t.Helper()
	ticketAct(t, s.env, key, id, "diagnose", map[string]any{
		"diagnosis": map[string]any{"cause": "performance", "repairable": true},
		"work":      map[string]any{"service_kind": "repair", "include_visit": true}, "price_list_shown": true}, http.StatusOK)
	return ticketAct(t, s.env, key, id, "complete", map[string]any{"test_run": map[string]any{"passed": true}}, http.StatusOK)
}

func (s *qualityShop) fold(t *testing.T) {
	t.Helper()
	_, err := s.env.App.Quality.Fold(context.Background(), s.d.ID, 0)
	require.NoError(t, err)
}

func (s *qualityShop) scorecard(t *testing.T, key, query string, want int) map[string]any {
	t.Helper()
	r := s.env.Do(t, http.MethodGet, "/v1/quality/scorecard?"+query, key, nil)
	require.Equal(t, want, r.Status, "%s: %s", query, r.Body)
	return r.JSON(t)
}

// csvRows checks a CSV download's media type and byte-order mark and
// parses its rows.
func csvRows(t *testing.T, r *apitest.Response) [][]string {
	t.Helper()
	require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
	assert.Equal(t, "text/csv; charset=utf-8", r.Header.Get("Content-Type"))
	assert.Contains(t, r.Header.Get("Content-Disposition"), "attachment")
	require.True(t, bytes.HasPrefix(r.Body, []byte("\xef\xbb\xbf")), "UTF-8 byte-order mark")
	rows, err := csv.NewReader(bytes.NewReader(r.Body[3:])).ReadAll()
	require.NoError(t, err)
	return rows
}

// kpis indexes a scorecard's KPIs by name as [numerator, denominator].
func kpis(t *testing.T, sc map[string]any) map[string][2]int64 {
	t.Helper()
	out := map[string][2]int64{}
	for _, k := range sc["kpis"].([]any) {
		k := k.(map[string]any)
		out[k["name"].(string)] = [2]int64{int64(k["numerator"].(float64)), int64(k["denominator"].(float64))}
	}
	return out
}

func breachesOf(sc map[string]any) map[string]int64 {
	out := map[string]int64{}
	for _, b := range sc["breaches"].([]any) {
		b := b.(map[string]any)
		out[b["clock"].(string)] = int64(b["count"].(float64))
	}
	return out
}

func complaintsOf(sc map[string]any) map[string]int64 {
	out := map[string]int64{}
	for _, c := range sc["complaints"].([]any) {
		c := c.(map[string]any)
		out[c["category"].(string)+"."+c["severity"].(string)] = int64(c["count"].(float64))
	}
	return out
}

func parseRFC(t *testing.T, v any) time.Time {
	t.Helper()
	ts, err := time.Parse(time.RFC3339Nano, v.(string))
	require.NoError(t, err)
	return ts
}

// TestQualityFoldsAnUntriagedTicket: a ticket taken in and not yet
// triaged has no mode; its facts are still folded (the fold once failed on
// it, "cannot scan NULL into *bool", and retried without end, so the
// tenant's scorecards stopped).
func TestQualityFoldsAnUntriagedTicket(t *testing.T) {
	t.Parallel()
	s := newQualityShop(t, "quality-untriaged")
	r := s.env.Do(t, http.MethodPost, "/v1/tickets", s.agent, map[string]any{
		"channel": "hotline", "type": "repair",
		"contact": map[string]any{"name": "孙八", "phone": "+86 139 5555 0203"},
		"address": map[string]any{"region_code": s.d.Region, "line": "人民路 12 号"},
		"unit":    map[string]any{"model_id": s.d.Washer, "serial": "Q-UNTRIAGED", "purchase_date": shanghaiToday(-365)},
		"fault":   map[string]any{"symptom": "洗衣机不脱水"},
	})
	require.Equal(t, http.StatusCreated, r.Status, "%s", r.Body)
	require.Nil(t, r.JSON(t)["mode"])
	s.fold(t)
}

// TestQualityScorecards drives tickets, visits, callbacks, complaints and
// breaches through the API for two nodes and three technicians, folds the
// feed, and checks every KPI's numerator and denominator against values
// computed by hand from what happened; then grades the nodes under a
// policy the test defines, approves, appeals and decides the appeal.
func TestQualityScorecards(t *testing.T) {
	t.Parallel()
	s := newQualityShop(t, "quality-cards")
	env := s.env
	sh, err := time.LoadLocation("Asia/Shanghai")
	require.NoError(t, err)
	t0 := time.Now().Truncate(time.Minute)
	day := t0.In(sh).Format(time.DateOnly)
	// The washer out of warranty: labour 120.00 + visit 50.00.
	const service = washerRepairAndVisit

	// K1 at A by T1: contact after 30 min, 7 min early, fixed at once,
	// signed off with the code (rating 5), callback satisfied. Customer pays.
	s.clock.Set(t0)
	s1 := apitest.WeekdayMorning(t0, 2)
	k1 := s.open(t, "Q-K1", "on_site", s1)["id"].(string)
	key1 := s.route(t, k1, s.nodeA, s.t1)
	s.clock.Set(t0.Add(30 * time.Minute))
	ticketAct(t, env, key1, k1, "schedule", map[string]any{"window": window(s1)}, http.StatusOK)
	s.clock.Set(s1.Add(-7 * time.Minute))
	tk := ticketAct(t, env, key1, k1, "check-in", nil, http.StatusOK)
	require.Equal(t, "early", tk["appointment"].(map[string]any)["arrival"])
	s.clock.Set(s1.Add(40 * time.Minute))
	tk = s.repair(t, key1, k1)
	c, b, _ := totals(tk)
	require.EqualValues(t, service, c)
	require.EqualValues(t, 0, b)
	k1Completed := parseRFC(t, tk["completed_at"])
	ticketAct(t, env, key1, k1, "sign-off/code", nil, http.StatusOK)
	ticketAct(t, env, key1, k1, "sign-off", map[string]any{"code": s.codes.code(k1), "rating": 5}, http.StatusOK)
	tk = ticketAct(t, env, s.agent, k1, "callback", map[string]any{"outcome": "satisfied"}, http.StatusOK)
	require.Equal(t, "closed", tk["state"])

	// K2 at A by T2: contact after 60 min, 20 min after its two-hour window
	// closed (an arrival breach;
	// the late promise waives the service: the brand pays), signed off
	// without the code (rating 3); the callback deadline is missed (a
	// callback breach) and the customer is unreachable.
	s.clock.Set(t0)
	s2 := apitest.WeekdayMorning(t0, 2)
	k2 := s.open(t, "Q-K2", "on_site", s2)["id"].(string)
	key2 := s.route(t, k2, s.nodeA, s.t2)
	s.clock.Set(t0.Add(60 * time.Minute))
	ticketAct(t, env, key2, k2, "schedule", map[string]any{"window": window(s2)}, http.StatusOK)
	s.clock.Set(s2.Add(2*time.Hour + 20*time.Minute))
	tk = ticketAct(t, env, key2, k2, "check-in", nil, http.StatusOK)
	require.Equal(t, "very_late", tk["appointment"].(map[string]any)["arrival"])
	s.clock.Set(s2.Add(2*time.Hour + 60*time.Minute))
	tk = s.repair(t, key2, k2)
	c, b, _ = totals(tk)
	require.EqualValues(t, 0, c)
	require.EqualValues(t, service, b)
	ticketAct(t, env, key2, k2, "sign-off", map[string]any{"rating": 3}, http.StatusOK)
	fireTimer(t, env, s.d.ID, k2, "callback")
	require.Eventually(t, func() bool {
		r := env.Do(t, http.MethodGet, "/v1/sla-breaches?sla=callback", s.agent, nil)
		return r.Status == http.StatusOK && len(r.JSON(t)["data"].([]any)) > 0
	}, 20*time.Second, 100*time.Millisecond, "the callback timer recorded no breach")
	ticketAct(t, env, s.agent, k2, "callback", map[string]any{"outcome": "unreachable"}, http.StatusOK)

	// K3: remote guidance resolves it; no node ever; callback satisfied.
	s.clock.Set(t0)
	tk = s.open(t, "Q-K3", "remote", apitest.WeekdayMorning(t0, 2))
	require.Equal(t, "remote_guidance", tk["state"])
	k3 := tk["id"].(string)
	ticketAct(t, env, s.agent, k3, "guidance", map[string]any{"outcome": "resolved", "notes": "清理过滤器后恢复"}, http.StatusOK)
	ticketAct(t, env, s.agent, k3, "callback", map[string]any{"outcome": "satisfied"}, http.StatusOK)

	// K4 at B by T3: contact after 45 min, 2 min early (on time, not the
	// standard); the fix does not hold (callback unsatisfied: reopened); a
	// second visit 8 min early is free (a repeat visit: the brand pays);
	// signed off with the code (rating 4); callback satisfied. A complaint
	// (quality, high) is filed against it.
	s.clock.Set(t0)
	s4 := apitest.WeekdayMorning(t0, 2)
	k4 := s.open(t, "Q-K4", "on_site", s4)["id"].(string)
	key3 := s.route(t, k4, s.nodeB, s.t3)
	s.clock.Set(t0.Add(45 * time.Minute))
	ticketAct(t, env, key3, k4, "schedule", map[string]any{"window": window(s4)}, http.StatusOK)
	s.clock.Set(s4.Add(-2 * time.Minute))
	tk = ticketAct(t, env, key3, k4, "check-in", nil, http.StatusOK)
	require.Equal(t, "on_time", tk["appointment"].(map[string]any)["arrival"])
	s.clock.Set(s4.Add(50 * time.Minute))
	s.repair(t, key3, k4)
	s.clock.Set(s4.Add(3 * time.Hour))
	tk = ticketAct(t, env, s.agent, k4, "callback", map[string]any{"outcome": "unsatisfied", "note": "又坏了"}, http.StatusOK)
	require.EqualValues(t, 1, tk["reopen_count"])
	s4b := apitest.WeekdayMorning(s.clock.Now(), 1)
	if tk["state"] != "dispatched" || tk["technician_id"] != s.t3 {
		key3 = s.route(t, k4, s.nodeB, s.t3)
	} else {
		ticketAct(t, env, key3, k4, "accept", nil, http.StatusOK)
	}
	ticketAct(t, env, key3, k4, "schedule", map[string]any{"window": window(s4b)}, http.StatusOK)
	s.clock.Set(s4b.Add(-8 * time.Minute))
	ticketAct(t, env, key3, k4, "check-in", nil, http.StatusOK)
	tk = s.repair(t, key3, k4)
	c, b, _ = totals(tk)
	require.EqualValues(t, 0, c)
	require.EqualValues(t, service, b)
	ticketAct(t, env, key3, k4, "sign-off/code", nil, http.StatusOK)
	ticketAct(t, env, key3, k4, "sign-off", map[string]any{"code": s.codes.code(k4), "rating": 4}, http.StatusOK)
	ticketAct(t, env, s.agent, k4, "callback", map[string]any{"outcome": "satisfied"}, http.StatusOK)
	r := env.Do(t, http.MethodPost, "/v1/complaints", s.agent, map[string]any{"ticket_id": k4, "category": "quality",
		"severity": "high", "description": "修了两次"})
	require.Equal(t, http.StatusCreated, r.Status, "%s", r.Body)

	// K5 at A by T1, cancelled: counts only as cancelled.
	s.clock.Set(t0)
	s5 := apitest.WeekdayMorning(t0, 3)
	k5 := s.open(t, "Q-K5", "on_site", s5)["id"].(string)
	s.route(t, k5, s.nodeA, s.t1)
	ticketAct(t, env, s.agent, k5, "cancel", map[string]any{"reason": "客户取消"}, http.StatusOK)

	// A complaint about T2 at A that names no ticket (attitude, low).
	r = env.Do(t, http.MethodPost, "/v1/complaints", s.agent, map[string]any{"node_id": s.nodeA, "technician_id": s.t2,
		"category": "attitude", "severity": "low", "description": "电话里态度差"})
	require.Equal(t, http.StatusCreated, r.Status, "%s", r.Body)

	// K6: the same unit as K1 again, 5 days after K1's repair: K1 is a
	// repeat repair within 30 days (counted at K1, in K1's bucket).
	s.clock.Set(k1Completed.Add(5 * 24 * time.Hour))
	k6 := s.open(t, "Q-K1", "on_site", apitest.WeekdayMorning(s.clock.Now(), 2))
	require.NotEqual(t, k1, k6["id"])

	s.fold(t)
	s.fold(t) // a second fold finds nothing new and changes nothing

	// Intake → arrival, per ticket, from the clock's times.
	arr1 := int64(s1.Add(-7 * time.Minute).Sub(t0).Seconds())
	arr2 := int64(s2.Add(2*time.Hour + 20*time.Minute).Sub(t0).Seconds())
	arr4 := int64(s4.Add(-2 * time.Minute).Sub(t0).Seconds())

	// Node A: K1, K2 (K5 cancelled) and the loose complaint.
	a := s.scorecard(t, s.d.AdminKey, "scope=node&id="+s.nodeA+"&period=day&date="+day, http.StatusOK)
	assert.EqualValues(t, 2, a["tickets"])
	assert.EqualValues(t, 1, a["cancelled"])
	wantA := map[string][2]int64{
		"first_contact_seconds":      {1800 + 3600, 2},
		"arrival_seconds":            {arr1 + arr2, 2},
		"on_time_arrival_rate":       {1, 2}, // K1 early; K2 very late
		"early_arrival_rate":         {1, 2},
		"first_time_fix_rate":        {2, 2},
		"repeat_repair_rate_30":      {1, 2}, // K1 (K6 came 5 days later)
		"repeat_repair_rate_90":      {1, 2},
		"average_rating":             {5 + 3, 2},
		"callback_satisfied_rate":    {1, 2},
		"callback_unsatisfied_rate":  {0, 2},
		"callback_unreachable_rate":  {1, 2},
		"callback_on_time_rate":      {1, 2}, // K2's deadline breached
		"complaints_per_100_tickets": {1, 2},
		"remote_resolution_rate":     {0, 0},
		"signoff_code_rate":          {1, 2},
		"signoff_declined_rate":      {0, 2},
		"cost_customer_per_ticket":   {service, 2},
		"cost_brand_per_ticket":      {service, 2},
		"cost_plan_per_ticket":       {0, 2},
		"parts_per_ticket":           {0, 2},
		"waived_ticket_rate":         {1, 2},
		"cancellation_rate":          {1, 3},
	}
	assert.Equal(t, wantA, kpis(t, a))
	// K1 and K2 were checked in on the morning two days after the call:
	// past the 24 hours the response promises (seed 002: 接到您的请求后的
	// 24 小时内, 安排技术人员到达), so each met its response deadline late,
	// a response breach the check-in records (live, the sweep would have
	// recorded it at the deadline); K2's arrival and callback besides.
	assert.Equal(t, map[string]int64{"arrival": 1, "callback": 1, "response": 2}, breachesOf(a))
	assert.Equal(t, map[string]int64{"attitude.low": 1}, complaintsOf(a))

	// Node B: K4.
	bc := s.scorecard(t, s.d.AdminKey, "scope=node&id="+s.nodeB+"&period=day&date="+day, http.StatusOK)
	assert.EqualValues(t, 1, bc["tickets"])
	wantB := map[string][2]int64{
		"first_contact_seconds":      {2700, 1},
		"arrival_seconds":            {arr4, 1},
		"on_time_arrival_rate":       {2, 2}, // 2 min early (on time), then 8 min early
		"early_arrival_rate":         {1, 2},
		"first_time_fix_rate":        {0, 1}, // reopened
		"repeat_repair_rate_30":      {0, 1},
		"repeat_repair_rate_90":      {0, 1},
		"average_rating":             {4, 1},
		"callback_satisfied_rate":    {1, 2},
		"callback_unsatisfied_rate":  {1, 2},
		"callback_unreachable_rate":  {0, 2},
		"callback_on_time_rate":      {1, 1},
		"complaints_per_100_tickets": {1, 1},
		"remote_resolution_rate":     {0, 0},
		"signoff_code_rate":          {1, 1},
		"signoff_declined_rate":      {0, 1},
		"cost_customer_per_ticket":   {0, 1},
		"cost_brand_per_ticket":      {service, 1},
		"cost_plan_per_ticket":       {0, 1},
		"parts_per_ticket":           {0, 1},
		"waived_ticket_rate":         {1, 1},
		"cancellation_rate":          {0, 1},
	}
	assert.Equal(t, wantB, kpis(t, bc))
	// K4's first check-in, two days after the call, met the 24-hour
	// response late (its second visit, after the reopening, runs no
	// response clock).
	assert.Equal(t, map[string]int64{"response": 1}, breachesOf(bc))
	assert.Equal(t, map[string]int64{"quality.high": 1}, complaintsOf(bc))

	// The technicians.
	t1 := kpis(t, s.scorecard(t, s.d.AdminKey, "scope=technician&id="+s.t1+"&period=day&date="+day, http.StatusOK))
	assert.Equal(t, [2]int64{1800, 1}, t1["first_contact_seconds"])
	assert.Equal(t, [2]int64{1, 1}, t1["first_time_fix_rate"])
	assert.Equal(t, [2]int64{1, 2}, t1["cancellation_rate"])
	assert.Equal(t, [2]int64{1, 1}, t1["repeat_repair_rate_30"])
	t2 := s.scorecard(t, s.d.AdminKey, "scope=technician&id="+s.t2+"&period=day&date="+day, http.StatusOK)
	assert.Equal(t, [2]int64{1, 1}, kpis(t, t2)["complaints_per_100_tickets"])
	assert.Equal(t, [2]int64{3, 1}, kpis(t, t2)["average_rating"])
	assert.Equal(t, [2]int64{0, 1}, kpis(t, t2)["on_time_arrival_rate"])
	assert.Equal(t, map[string]int64{"arrival": 1, "callback": 1, "response": 1}, breachesOf(t2)) // K2, as node A's
	t3 := kpis(t, s.scorecard(t, s.d.AdminKey, "scope=technician&id="+s.t3+"&period=day&date="+day, http.StatusOK))
	assert.Equal(t, wantB, t3, "T3 worked only K4 that day")

	// The region (every ticket has the demo region's address; the loose
	// complaint has no address): K1-K4, K5 cancelled; K3's remote resolution.
	reg := s.scorecard(t, s.d.AdminKey, "scope=region&id="+s.d.Region[:4]+"&period=week&date="+day, http.StatusOK)
	rk := kpis(t, reg)
	assert.EqualValues(t, 4, reg["tickets"])
	assert.Equal(t, [2]int64{1, 1}, rk["remote_resolution_rate"])
	assert.Equal(t, [2]int64{3, 5}, rk["callback_satisfied_rate"]) // K1, K3, K4 satisfied; K4 unsatisfied; K2 unreachable
	assert.Equal(t, [2]int64{3, 4}, rk["callback_on_time_rate"])
	assert.Equal(t, [2]int64{1, 4}, rk["complaints_per_100_tickets"])
	assert.Equal(t, [2]int64{1, 5}, rk["cancellation_rate"])
	// The whole network adds the loose complaint.
	// (for the month, from the monthly rollups: K6 too if it was taken in the same month)
	all := kpis(t, s.scorecard(t, s.d.AdminKey, "scope=tenant&period=month&date="+day, http.StatusOK))
	monthTickets := int64(4)
	if k1Completed.Add(5*24*time.Hour).In(sh).Month() == t0.In(sh).Month() {
		monthTickets = 5
	}
	assert.Equal(t, [2]int64{2, monthTickets}, all["complaints_per_100_tickets"])
	all = kpis(t, s.scorecard(t, s.d.AdminKey, "scope=tenant&period=range&from="+day+"&to="+day, http.StatusOK))
	assert.Equal(t, [2]int64{2, 4}, all["complaints_per_100_tickets"])

	// The ranking of the region's nodes by first-time fix: A, then B.
	r = env.Do(t, http.MethodGet, "/v1/quality/ranking?region="+s.d.Region+"&period=day&date="+day+"&kpi=first_time_fix_rate", s.d.AdminKey, nil)
	require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
	entries := r.JSON(t)["entries"].([]any)
	require.Len(t, entries, 2)
	assert.Equal(t, s.nodeA, entries[0].(map[string]any)["node_id"])
	assert.EqualValues(t, 1, entries[0].(map[string]any)["rank"])
	assert.Equal(t, s.nodeB, entries[1].(map[string]any)["node_id"])
	assert.NotEmpty(t, entries[0].(map[string]any)["node_name"])

	// The same ranking as a CSV download (format=csv): BOM, header, a row per node.
	rows := csvRows(t, env.Do(t, http.MethodGet, "/v1/quality/ranking?region="+s.d.Region+"&period=day&date="+day+"&kpi=first_time_fix_rate&format=csv", s.d.AdminKey, nil))
	require.Len(t, rows, 3, "header and two nodes")
	assert.Equal(t, []string{"rank", "node_id", "node_name", "tickets", "kpi", "value", "numerator", "denominator", "unit", "region", "period_from", "period_to"}, rows[0])
	for i, e := range entries {
		e := e.(map[string]any)
		k := e["kpi"].(map[string]any)
		value := ""
		if k["value"] != nil {
			value = strconv.FormatFloat(k["value"].(float64), 'f', -1, 64)
		}
		assert.Equal(t, []string{fmt.Sprint(e["rank"]), e["node_id"].(string), e["node_name"].(string), fmt.Sprint(e["tickets"]),
			"first_time_fix_rate", value, fmt.Sprint(k["numerator"]), fmt.Sprint(k["denominator"]), k["unit"].(string), s.d.Region, day, day}, rows[i+1])
	}
	// A technician's scorecard by Accept: text/csv; the same figures as its JSON.
	r = env.Do(t, http.MethodGet, "/v1/quality/scorecard?scope=technician&id="+s.t2+"&period=day&date="+day, s.d.AdminKey, nil, "Accept: text/csv")
	rows = csvRows(t, r)
	assert.Contains(t, r.Header.Get("Content-Disposition"), `filename="scorecard-technician-`+s.t2+"-"+day+`.csv"`)
	assert.Equal(t, []string{"scope", "id", "period_from", "period_to", "kind", "name", "value", "numerator", "denominator", "unit"}, rows[0])
	assert.Equal(t, []string{"technician", s.t2, day, day, "count", "tickets", fmt.Sprint(t2["tickets"]), "", "", "count"}, rows[1])
	got := map[string][2]string{}
	breaches := map[string]string{}
	for _, row := range rows[1:] {
		switch row[4] {
		case "kpi":
			got[row[5]] = [2]string{row[7], row[8]}
		case "breach":
			breaches[row[5]] = row[6]
		}
	}
	want := map[string][2]string{}
	for name, nd := range kpis(t, t2) {
		want[name] = [2]string{strconv.FormatInt(nd[0], 10), strconv.FormatInt(nd[1], 10)}
	}
	assert.Equal(t, want, got, "every KPI row with its numerator and denominator")
	assert.Equal(t, [2]string{"1", "1"}, got["complaints_per_100_tickets"])
	assert.Equal(t, map[string]string{"arrival": "1", "callback": "1", "response": "1"}, breaches)
	// JSON when the caller prefers it, or asks for it by format.
	for _, h := range []string{"Accept: text/csv;q=0.5, application/json", "Accept: application/json"} {
		r = env.Do(t, http.MethodGet, "/v1/quality/scorecard?scope=technician&id="+s.t2+"&period=day&date="+day, s.d.AdminKey, nil, h)
		require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
		assert.Equal(t, "application/json", r.Header.Get("Content-Type"), h)
	}
	r = env.Do(t, http.MethodGet, "/v1/quality/scorecard?scope=technician&id="+s.t2+"&period=day&date="+day+"&format=json", s.d.AdminKey, nil, "Accept: text/csv")
	assert.Equal(t, "application/json", r.Header.Get("Content-Type"))
	// Errors stay problem+json, CSV asked or not.
	r = env.Do(t, http.MethodGet, "/v1/quality/scorecard?scope=node&id="+s.nodeB+"&period=day&date="+day+"&format=csv", key1, nil)
	require.Equal(t, http.StatusNotFound, r.Status, "%s", r.Body)
	assert.Equal(t, "application/problem+json", r.Header.Get("Content-Type"))

	// Scope: A's manager sees A, not B; a technician only itself.
	r = env.Do(t, http.MethodPost, "/v1/api-keys", s.d.AdminKey, map[string]any{"name": "manager A", "roles": []string{"node_manager"}, "node_id": s.nodeA})
	require.Equal(t, http.StatusCreated, r.Status, "%s", r.Body)
	mgrA := r.JSON(t)["secret"].(string)
	s.scorecard(t, mgrA, "scope=node&id="+s.nodeA+"&period=day&date="+day, http.StatusOK)
	s.scorecard(t, mgrA, "scope=node&id="+s.nodeB+"&period=day&date="+day, http.StatusNotFound)
	s.scorecard(t, mgrA, "scope=technician&id="+s.t3+"&period=day&date="+day, http.StatusNotFound)
	mine := s.scorecard(t, mgrA, "scope=region&id="+s.d.Region+"&period=day&date="+day, http.StatusOK)
	assert.EqualValues(t, 2, mine["tickets"], "A's manager sees the region through A's subtree only")
	s.scorecard(t, key1, "scope=technician&id="+s.t1+"&period=day&date="+day, http.StatusOK)
	s.scorecard(t, key1, "scope=technician&id="+s.t2+"&period=day&date="+day, http.StatusNotFound)
	s.scorecard(t, key1, "scope=node&id="+s.nodeA+"&period=day&date="+day, http.StatusNotFound)

	// Bad periods: 422 naming the parameter.
	tomorrow := time.Now().In(sh).AddDate(0, 0, 2).Format(time.DateOnly)
	for q, loc := range map[string]string{
		"period=day&date=" + tomorrow:                  "query.date",
		"period=range&from=2026-11-10&to=2026-11-01":   "query.to",
		"period=range&from=2024-01-01&to=2026-01-01":   "query.to",
		"period=range&from=" + day + "&to=" + tomorrow: "query.to",
		"scope=region&id=3x&period=day":                "query.id",
	} {
		r = env.Do(t, http.MethodGet, "/v1/quality/scorecard?"+q, s.d.AdminKey, nil)
		assert.Contains(t, problemLocations(t, r, http.StatusUnprocessableEntity), loc, q)
	}
	r = env.Do(t, http.MethodGet, "/v1/quality/ranking?kpi=speed", s.d.AdminKey, nil)
	assert.Contains(t, problemLocations(t, r, http.StatusUnprocessableEntity), "query.kpi")

	// Grading. A policy without If-Match is 428; bad weights and unknown
	// indicators are 422 naming the field.
	policy := map[string]any{"total_weight": 100, "min_tickets": 2, "appeal_days": 7, "max_range_days": 400,
		"indicators": []any{
			map[string]any{"kpi": "first_time_fix_rate", "weight": 60, "best": 1, "worst": 0},
			map[string]any{"kpi": "on_time_arrival_rate", "weight": 40, "best": 1, "worst": 0},
		},
		"grades": []any{map[string]any{"grade": "A", "min_score": 80}, map[string]any{"grade": "C", "min_score": 40},
			map[string]any{"grade": "E", "min_score": 0}},
		"consequences": map[string]any{"E": "suspension"}}
	r = env.Do(t, http.MethodPut, "/v1/quality/grading-policy", s.d.AdminKey, policy)
	assert.Contains(t, problemLocations(t, r, http.StatusPreconditionRequired), "header.If-Match")
	bad := map[string]any{}
	for k, v := range policy {
		bad[k] = v
	}
	bad["indicators"] = []any{map[string]any{"kpi": "speed", "weight": 60, "best": 1, "worst": 0},
		map[string]any{"kpi": "on_time_arrival_rate", "weight": 30, "best": 1, "worst": 0}}
	r = env.Do(t, http.MethodPut, "/v1/quality/grading-policy", s.d.AdminKey, bad, `If-Match: "v0"`)
	locs := problemLocations(t, r, http.StatusUnprocessableEntity)
	assert.Contains(t, locs, "body.indicators[0].kpi")
	assert.Contains(t, locs, "body.indicators")
	r = env.Do(t, http.MethodGet, "/v1/quality/grading-policy", s.d.AdminKey, nil)
	require.Equal(t, http.StatusNotFound, r.Status, "nothing was stored")
	r = env.Do(t, http.MethodPut, "/v1/quality/grading-policy", s.d.AdminKey, policy, `If-Match: "v0"`)
	require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
	assert.Equal(t, `"v1"`, r.Header.Get("ETag"))

	r = env.Do(t, http.MethodGet, "/v1/network/nodes/"+s.nodeA, s.d.AdminKey, nil)
	require.Equal(t, http.StatusOK, r.Status)
	before, _ := r.JSON(t)["grade"].(string)

	// A scores 60 × 2/2 + 40 × 1/2 = 80: grade A. B has 1 ticket < 2: not graded.
	r = env.Do(t, http.MethodPost, "/v1/quality/grading-runs", s.d.AdminKey, map[string]any{"period": "day", "date": day})
	require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
	run := r.JSON(t)
	assert.EqualValues(t, 1, run["graded"])
	props := run["proposals"].([]any)
	require.Len(t, props, 1)
	pa := props[0].(map[string]any)
	assert.Equal(t, s.nodeA, pa["node_id"])
	assert.EqualValues(t, 80, pa["score"])
	assert.Equal(t, "A", pa["proposed_grade"])
	assert.EqualValues(t, 1, pa["policy_version"])
	inds := pa["indicators"].([]any)
	require.Len(t, inds, 2)
	assert.EqualValues(t, 60, inds[0].(map[string]any)["points"])
	assert.EqualValues(t, 20, inds[1].(map[string]any)["points"])
	assert.EqualValues(t, 2, inds[1].(map[string]any)["denominator"])
	wantConsequence := "promotion"
	if before == "A" {
		wantConsequence = "none"
	}
	assert.Equal(t, wantConsequence, pa["consequence"])
	// A second run for the period is the same run.
	r = env.Do(t, http.MethodPost, "/v1/quality/grading-runs", s.d.AdminKey, map[string]any{"period": "day", "date": day})
	require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
	assert.Equal(t, run["id"], r.JSON(t)["id"])

	pid := pa["id"].(string)
	// A's manager may not decide; approval by a manager sets the grade.
	r = env.Do(t, http.MethodPost, "/v1/quality/grade-proposals/"+pid+"/decide", mgrA, map[string]any{"decision": "approve"})
	require.Equal(t, http.StatusForbidden, r.Status, "%s", r.Body)
	r = env.Do(t, http.MethodPost, "/v1/quality/grade-proposals/"+pid+"/decide", s.d.AdminKey, map[string]any{"decision": "approve", "reason": "11月考核"})
	require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
	assert.Equal(t, "approved", r.JSON(t)["state"])
	r = env.Do(t, http.MethodGet, "/v1/network/nodes/"+s.nodeA, s.d.AdminKey, nil)
	assert.Equal(t, "A", r.JSON(t)["grade"])
	// The node appeals; the appeal is overturned: the old grade comes back.
	r = env.Do(t, http.MethodPost, "/v1/quality/grade-proposals/"+pid+"/appeal", mgrA, map[string]any{"reason": "K2 迟到为客户原因"})
	require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
	assert.Equal(t, "appealed", r.JSON(t)["state"])
	r = env.Do(t, http.MethodPost, "/v1/quality/grade-proposals/"+pid+"/appeal", mgrA, map[string]any{"reason": "again"})
	require.Equal(t, http.StatusConflict, r.Status, "%s", r.Body)
	decision := "upheld"
	if before != "" {
		decision = "overturned"
	}
	r = env.Do(t, http.MethodPost, "/v1/quality/grade-proposals/"+pid+"/appeal-decision", s.d.AdminKey, map[string]any{"decision": decision, "note": "核实"})
	require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
	pr := r.JSON(t)
	assert.Equal(t, decision, pr["state"])
	assert.Equal(t, decision, pr["appeal"].(map[string]any)["decision"])
	r = env.Do(t, http.MethodGet, "/v1/network/nodes/"+s.nodeA+"/grade-history", mgrA, nil)
	require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
	hist := r.JSON(t)["data"].([]any)
	h0 := hist[0].(map[string]any)
	assert.Equal(t, "A", h0["new_grade"])
	assert.Equal(t, "11月考核", h0["reason"])
	if before != "" {
		require.Len(t, hist, 2)
		assert.Equal(t, before, h0["old_grade"])
		h1 := hist[1].(map[string]any)
		assert.Equal(t, "A", h1["old_grade"])
		assert.Equal(t, before, h1["new_grade"])
		r = env.Do(t, http.MethodGet, "/v1/network/nodes/"+s.nodeA, s.d.AdminKey, nil)
		assert.Equal(t, before, r.JSON(t)["grade"])
	} else {
		require.Len(t, hist, 1)
	}

	// The monthly close (the quality_monthly job's work): the month before
	// the tickets has no rollups and is not closed; the tickets' month,
	// closed from the next month, emits scorecard.ready once, with the
	// month's grading run (the tenant has a policy by now).
	ctx := context.Background()
	closed, err := env.App.Quality.MonthlyClose(ctx, s.d.ID, t0)
	require.NoError(t, err)
	assert.False(t, closed, "a month without rollups is not closed")
	local := t0.In(sh)
	month := time.Date(local.Year(), local.Month(), 1, 0, 0, 0, 0, sh)
	nextMonth := month.AddDate(0, 1, 0).Add(time.Hour)
	for i, want := range []bool{true, false} {
		closed, err = env.App.Quality.MonthlyClose(ctx, s.d.ID, nextMonth)
		require.NoError(t, err)
		assert.Equal(t, want, closed, "close %d", i+1)
	}
	r = env.Do(t, http.MethodGet, "/v1/events?type=scorecard.ready", s.d.AdminKey, nil)
	require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
	ready := r.JSON(t)["data"].([]any)
	require.Len(t, ready, 1, "scorecard.ready once per month")
	data := ready[0].(map[string]any)["data"].(map[string]any)
	assert.Equal(t, month.Format(time.DateOnly), data["month"])
	assert.Equal(t, month.Format(time.DateOnly), data["from"])
	assert.Equal(t, month.AddDate(0, 1, -1).Format(time.DateOnly), data["to"])
	assert.Greater(t, data["position"].(float64), float64(0))
	require.NotEmpty(t, data["grading_run_id"])
	r = env.Do(t, http.MethodGet, "/v1/quality/grade-proposals?run_id="+data["grading_run_id"].(string), s.d.AdminKey, nil)
	require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
	assert.NotEmpty(t, r.JSON(t)["data"], "the month's close graded the network")
}

// crossTenantQuality gives the victim of the isolation walks a grading
// policy, a run and a proposal for node (written directly: grading needs
// folded tickets), with bodies that pass validation.
func crossTenantQuality(t *testing.T, env *apitest.Env, ctx context.Context, tenantID, node string) (map[string]string, map[string]any, []string) {
	t.Helper()
	run, prop := tenants.NewID("grr"), tenants.NewID("grp")
	require.NoError(t, pg.InTenantTx(ctx, env.DB.Owner, tenantID, func(tx pg.TenantTx) error {
		if _, err := tx.Exec(ctx, `INSERT INTO grading_policies (tenant_id, version, policy, actor) VALUES ($1, 1, '{"total_weight": 100}', 'test')`, tenantID); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `INSERT INTO grading_runs (tenant_id, id, period_from, period_to, policy_version, actor)
			VALUES ($1, $2, '2026-11-01', '2026-11-30', 1, 'test')`, tenantID, run); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, `INSERT INTO grade_proposals (tenant_id, id, run_id, node_id, period_from, period_to, policy_version,
			score, indicators, tickets, proposed_grade, consequence, reason)
			VALUES ($1, $2, $3, $4, '2026-11-01', '2026-11-30', 1, 77.5, '[]', 40, 'B', 'none', 'b-private-proposal')`, tenantID, prop, run, node)
		return err
	}))
	return map[string]string{"proposal_id": prop},
		map[string]any{
			"decideGradeProposal": map[string]any{"decision": "approve"},
			"appealGradeProposal": map[string]any{"reason": "cross-tenant probe"},
			"decideGradeAppeal":   map[string]any{"decision": "upheld", "note": "cross-tenant probe"},
		},
		[]string{"b-private-proposal", prop[4:]}
}
