package api_test

import (
	"context"
	"net/http"
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
	for _, op := range []string{"getLevelPolicy", "listLevelProposals", "getLevelProposal", "listLevelHistory"} {
		wantMatrix[op] = readers
	}
	for _, op := range []string{"setLevelPolicy", "runLevelling", "decideLevelProposal", "decideLevelAppeal"} {
		wantMatrix[op] = managers
	}
	// A technician appeals its own level (and is refused a node's grade by scope: 404).
	appealers := []string{"network_manager", "node_manager", "technician", "tenant_admin"}
	wantMatrix["appealLevelProposal"] = appealers
	wantMatrix["listTechnicianCertifications"] = networkReaders
	wantMatrix["listNetworkCertifications"] = networkReaders
	wantMatrix["createTechnicianCertification"] = networkWriters
	wantMatrix["deleteTechnicianCertification"] = networkWriters
	dummyParams["level_proposal_id"] = "lvp_00000000000000000000000000"
	dummyParams["certification_id"] = "crt_00000000000000000000000000"
}

// levelJob takes a washer ticket in at t0 for tech at node, has the
// technician check in offset from the agreed two-hour window (before its
// start when negative, after its end when positive: late), repair it and
// get the customer's rating at sign-off.
func (s *qualityShop) levelJob(t *testing.T, t0 time.Time, slot int, serial, node, tech string, offset time.Duration, rating int) {
	t.Helper()
	s.clock.Set(t0)
	start := apitest.WeekdayMorning(t0, 2).Add(time.Duration(slot) * 3 * time.Hour)
	id := s.open(t, serial, "on_site", start)["id"].(string)
	key := s.route(t, id, node, tech)
	s.clock.Set(t0.Add(30 * time.Minute))
	ticketAct(t, s.env, key, id, "schedule", map[string]any{"window": window(start)}, http.StatusOK)
	arrived := start.Add(offset)
	if offset > 0 {
		arrived = start.Add(2*time.Hour + offset)
	}
	s.clock.Set(arrived)
	ticketAct(t, s.env, key, id, "check-in", nil, http.StatusOK)
	s.clock.Set(arrived.Add(40 * time.Minute))
	s.repair(t, key, id)
	ticketAct(t, s.env, key, id, "sign-off", map[string]any{"rating": rating}, http.StatusOK)
}

func skillLevel(t *testing.T, env *apitest.Env, key, tech string) float64 {
	t.Helper()
	r := env.Do(t, http.MethodGet, "/v1/network/technicians/"+tech, key, nil)
	require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
	for _, sk := range r.JSON(t)["skills"].([]any) {
		if sk := sk.(map[string]any); sk["category"] == "washer" {
			return sk["level"].(float64)
		}
	}
	return 0
}

// TestTechnicianLevels drives washer tickets through the API for three
// technicians, records their training and certifications, defines a level
// policy and levels them: the scores, levels and skipped technician are
// computed by hand below. Approval changes the level (which dispatch's
// technician filter then sees) with history; an appeal is decided.
func TestTechnicianLevels(t *testing.T) {
	t.Parallel()
	s := newQualityShop(t, "quality-levels")
	env, admin := s.env, s.d.AdminKey
	sh, err := time.LoadLocation("Asia/Shanghai")
	require.NoError(t, err)
	t0 := time.Now().Truncate(time.Minute)
	day := t0.In(sh).Format(time.DateOnly)
	today := func(days int) string { return t0.In(sh).AddDate(0, 0, days).Format(time.DateOnly) }

	// Current washer levels: T1 3, T2 4, T3 2.
	for tech, level := range map[string]int{s.t1: 3, s.t2: 4, s.t3: 2} {
		r := env.Do(t, http.MethodPatch, "/v1/network/technicians/"+tech, admin, map[string]any{
			"skills": []map[string]any{{"category": "washer", "level": level}}})
		require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
	}

	// T1: three jobs, 7 and 8 minutes early and 2 minutes early (on time),
	// rated 5, 5, 4. T2: two jobs, 7 minutes early and 20 minutes late,
	// rated 4 and 2. T3: one job (below every level's volume).
	s.levelJob(t, t0, 0, "LV-1", s.nodeA, s.t1, -7*time.Minute, 5)
	s.levelJob(t, t0, 1, "LV-2", s.nodeA, s.t1, -8*time.Minute, 5)
	s.levelJob(t, t0, 2, "LV-3", s.nodeA, s.t1, -2*time.Minute, 4)
	s.levelJob(t, t0, 0, "LV-4", s.nodeA, s.t2, -7*time.Minute, 4)
	s.levelJob(t, t0, 1, "LV-5", s.nodeA, s.t2, 20*time.Minute, 2)
	s.levelJob(t, t0, 0, "LV-6", s.nodeB, s.t3, -7*time.Minute, 5)
	s.fold(t)

	// Training and certification records. T1 failed the master's
	// examination and holds a valid advanced certificate (and an expired
	// one of another course).
	certs := "/v1/network/technicians/" + s.t1 + "/certifications"
	for loc, body := range map[string]map[string]any{
		"body.completed_on": {"course": "washer-master", "completed_on": today(3), "result": "passed"},
		"body.expires_on":   {"course": "washer-master", "completed_on": today(-10), "expires_on": today(-20), "result": "passed"},
	} {
		r := env.Do(t, http.MethodPost, certs, admin, body)
		assert.Contains(t, problemLocations(t, r, http.StatusUnprocessableEntity), loc)
	}
	master := createdID(t, env, admin, certs, map[string]any{"course": "washer-master", "category": "washer",
		"completed_on": today(-30), "result": "failed", "score": 52})
	createdID(t, env, admin, certs, map[string]any{"course": "washer-advanced", "category": "washer",
		"completed_on": today(-200), "expires_on": today(165), "result": "passed", "score": 88, "issuer": "品牌服务学院"})
	createdID(t, env, admin, certs, map[string]any{"course": "safety", "kind": "training",
		"completed_on": today(-800), "expires_on": today(-70), "result": "passed"})
	r := env.Do(t, http.MethodGet, certs, admin, nil)
	require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
	listed := r.JSON(t)["data"].([]any)
	require.Len(t, listed, 3)
	valid := map[string]bool{}
	for _, c := range listed {
		c := c.(map[string]any)
		valid[c["course"].(string)] = c["valid"].(bool)
	}
	assert.Equal(t, map[string]bool{"washer-master": false, "washer-advanced": true, "safety": false}, valid)
	// Who expires before a date, network-wide: the expired safety training.
	r = env.Do(t, http.MethodGet, "/v1/network/certifications?expires_before="+today(0), admin, nil)
	require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
	require.Len(t, r.JSON(t)["data"].([]any), 1)
	r = env.Do(t, http.MethodGet, "/v1/network/certifications?expires_before=2026-01-01&expires_after=2026-02-01", admin, nil)
	assert.Contains(t, problemLocations(t, r, http.StatusUnprocessableEntity), "query.expires_before")
	// Scope: B's manager sees none of T1's records; T1 its own, not T2's.
	r = env.Do(t, http.MethodPost, "/v1/api-keys", admin, map[string]any{"name": "manager B", "roles": []string{"node_manager"}, "node_id": s.nodeB})
	require.Equal(t, http.StatusCreated, r.Status, "%s", r.Body)
	mgrB := r.JSON(t)["secret"].(string)
	r = env.Do(t, http.MethodGet, certs, mgrB, nil)
	require.Equal(t, http.StatusNotFound, r.Status, "%s", r.Body)
	r = env.Do(t, http.MethodPost, certs, mgrB, map[string]any{"course": "x", "completed_on": today(-1), "result": "passed"})
	require.Equal(t, http.StatusNotFound, r.Status, "%s", r.Body)
	r = env.Do(t, http.MethodGet, "/v1/network/certifications", mgrB, nil)
	require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
	assert.Empty(t, r.JSON(t)["data"])
	key1, key2 := technicianKey(t, env, admin, s.t1), technicianKey(t, env, admin, s.t2)
	r = env.Do(t, http.MethodGet, certs, key1, nil)
	require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
	r = env.Do(t, http.MethodGet, "/v1/network/technicians/"+s.t2+"/certifications", key1, nil)
	require.Equal(t, http.StatusNotFound, r.Status, "%s", r.Body)
	r = env.Do(t, http.MethodGet, "/v1/network/certifications", key2, nil)
	require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
	assert.Empty(t, r.JSON(t)["data"], "T2 has no records and sees no one else's")

	// The level policy: bad input is 4xx naming the field, nothing stored.
	policy := map[string]any{"total_weight": 100, "appeal_days": 7,
		"indicators": []any{
			map[string]any{"kpi": "on_time_arrival_rate", "weight": 60, "best": 1, "worst": 0},
			map[string]any{"kpi": "average_rating", "weight": 40, "best": 5, "worst": 1},
		},
		"levels": []any{
			map[string]any{"level": 5, "min_score": 90, "min_tickets": 3, "certifications": []string{"washer-master"}},
			map[string]any{"level": 4, "min_score": 80, "min_tickets": 3, "certifications": []string{"washer-advanced"}},
			map[string]any{"level": 3, "min_score": 60, "min_tickets": 2},
			map[string]any{"level": 2, "min_score": 40, "min_tickets": 2, "thresholds": []any{map[string]any{"kpi": "average_rating", "value": 2.5}}},
			map[string]any{"level": 1, "min_score": 0, "min_tickets": 2},
		}}
	r = env.Do(t, http.MethodPut, "/v1/quality/level-policy", admin, policy)
	assert.Contains(t, problemLocations(t, r, http.StatusPreconditionRequired), "header.If-Match")
	bad := map[string]any{}
	for k, v := range policy {
		bad[k] = v
	}
	bad["indicators"] = []any{map[string]any{"kpi": "speed", "weight": 60, "best": 1, "worst": 0},
		map[string]any{"kpi": "average_rating", "weight": 30, "best": 5, "worst": 1}}
	bad["levels"] = []any{map[string]any{"level": 3, "min_score": 60, "min_tickets": 2, "thresholds": []any{map[string]any{"kpi": "speed", "value": 1}}},
		map[string]any{"level": 3, "min_score": 0, "min_tickets": 1, "certifications": []string{"Bad Course"}}}
	r = env.Do(t, http.MethodPut, "/v1/quality/level-policy", admin, bad, `If-Match: "v0"`)
	locs := problemLocations(t, r, http.StatusUnprocessableEntity)
	for _, loc := range []string{"body.indicators[0].kpi", "body.indicators", "body.levels[0].thresholds[0].kpi", "body.levels[1].level", "body.levels[1].certifications[0]"} {
		assert.Contains(t, locs, loc)
	}
	r = env.Do(t, http.MethodGet, "/v1/quality/level-policy", admin, nil)
	require.Equal(t, http.StatusNotFound, r.Status, "nothing was stored")
	r = env.Do(t, http.MethodPut, "/v1/quality/level-policy", admin, policy, `If-Match: "v0"`)
	require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
	assert.Equal(t, `"v1"`, r.Header.Get("ETag"))
	r = env.Do(t, http.MethodPut, "/v1/quality/level-policy", admin, policy, `If-Match: "v0"`)
	require.Equal(t, http.StatusPreconditionFailed, r.Status, "%s", r.Body)

	// A reversed range is 422 naming it.
	r = env.Do(t, http.MethodPost, "/v1/quality/level-runs", admin, map[string]any{"period": "range", "from": today(0), "to": today(-3)})
	assert.Contains(t, problemLocations(t, r, http.StatusUnprocessableEntity), "body.to")

	// By hand (scores: 60 × on-time rate + 40 × (average rating − 1) / 4):
	//   T1: on time 3/3 → 60; rating 14/3 = 4.6667 → 40 × 0.916675 = 36.667;
	//       score 96.667 with 3 tickets: level 5 needs washer-master (failed),
	//       level 4 holds (washer-advanced valid): 3 → 4, a promotion.
	//   T2: on time 1/2 → 30; rating 6/2 = 3 → 20; score 50 with 2 tickets:
	//       levels 5 and 4 need 3 tickets, 3 needs 60, 2 holds (rating 3 ≥
	//       2.5): 4 → 2, a demotion.
	//   T3: 1 ticket, below every level's 2: not levelled.
	r = env.Do(t, http.MethodPost, "/v1/quality/level-runs", admin, map[string]any{"period": "day", "date": day})
	require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
	run := r.JSON(t)
	assert.EqualValues(t, 2, run["levelled"])
	assert.EqualValues(t, 1, run["skipped"])
	props := map[string]map[string]any{}
	for _, p := range run["proposals"].([]any) {
		p := p.(map[string]any)
		props[p["technician_id"].(string)] = p
	}
	require.Len(t, props, 2)
	require.NotContains(t, props, s.t3)
	p1, p2 := props[s.t1], props[s.t2]
	assert.InDelta(t, 96.667, p1["score"], 1e-9)
	assert.EqualValues(t, 3, p1["tickets"])
	assert.EqualValues(t, 3, p1["current_level"])
	assert.EqualValues(t, 4, p1["proposed_level"])
	assert.Equal(t, "promotion", p1["consequence"])
	assert.Equal(t, "washer", p1["category"])
	assert.EqualValues(t, 1, p1["policy_version"])
	assert.Equal(t, []any{"washer-advanced"}, p1["certifications"])
	assert.Equal(t, []any{"level 5: needs certification washer-master"}, p1["notes"])
	inds := p1["indicators"].([]any)
	require.Len(t, inds, 2)
	assert.Equal(t, map[string]any{"kpi": "on_time_arrival_rate", "weight": 60.0, "value": 1.0, "numerator": 3.0, "denominator": 3.0, "points": 60.0}, inds[0])
	assert.Equal(t, map[string]any{"kpi": "average_rating", "weight": 40.0, "value": 4.6667, "numerator": 14.0, "denominator": 3.0, "points": 36.667}, inds[1])
	assert.InDelta(t, 50, p2["score"], 1e-9)
	assert.EqualValues(t, 4, p2["current_level"])
	assert.EqualValues(t, 2, p2["proposed_level"])
	assert.Equal(t, "demotion", p2["consequence"])
	assert.Equal(t, []any{"level 5: 2 tickets, needs 3", "level 4: 2 tickets, needs 3", "level 3: score 50, needs 60"}, p2["notes"])
	inds = p2["indicators"].([]any)
	assert.EqualValues(t, 30, inds[0].(map[string]any)["points"])
	assert.EqualValues(t, 20, inds[1].(map[string]any)["points"])
	// A second run for the period is the same run; nothing changed yet.
	r = env.Do(t, http.MethodPost, "/v1/quality/level-runs", admin, map[string]any{"period": "day", "date": day})
	require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
	assert.Equal(t, run["id"], r.JSON(t)["id"])
	assert.EqualValues(t, 3, skillLevel(t, env, admin, s.t1))

	// Scope: each technician sees its own proposals; B's manager none of A's.
	r = env.Do(t, http.MethodGet, "/v1/quality/level-proposals", key1, nil)
	require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
	mine := r.JSON(t)["data"].([]any)
	require.Len(t, mine, 1)
	assert.Equal(t, p1["id"], mine[0].(map[string]any)["id"])
	r = env.Do(t, http.MethodGet, "/v1/quality/level-proposals/"+p2["id"].(string), key1, nil)
	require.Equal(t, http.StatusNotFound, r.Status, "%s", r.Body)
	r = env.Do(t, http.MethodGet, "/v1/quality/level-proposals", mgrB, nil)
	require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
	assert.Empty(t, r.JSON(t)["data"])

	// Approval of T1's promotion sets the level; dispatch's filter sees it.
	r = env.Do(t, http.MethodPost, "/v1/quality/level-proposals/"+p1["id"].(string)+"/decide", admin, map[string]any{"decision": "reject"})
	assert.Contains(t, problemLocations(t, r, http.StatusUnprocessableEntity), "body.reason")
	r = env.Do(t, http.MethodPost, "/v1/quality/level-proposals/"+p1["id"].(string)+"/decide", admin, map[string]any{"decision": "approve", "reason": "11月考核达标"})
	require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
	assert.Equal(t, "approved", r.JSON(t)["state"])
	assert.NotEmpty(t, r.JSON(t)["appeal_until"])
	assert.EqualValues(t, 4, skillLevel(t, env, admin, s.t1))
	r = env.Do(t, http.MethodGet, "/v1/network/technicians?category=washer&min_level=4&subtree_of="+s.nodeA, admin, nil)
	require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
	var level4 []string
	for _, tc := range r.JSON(t)["data"].([]any) {
		level4 = append(level4, tc.(map[string]any)["id"].(string))
	}
	assert.Contains(t, level4, s.t1)
	r = env.Do(t, http.MethodPost, "/v1/quality/level-proposals/"+p1["id"].(string)+"/decide", admin, map[string]any{"decision": "approve"})
	require.Equal(t, http.StatusConflict, r.Status, "%s", r.Body)
	r = env.Do(t, http.MethodGet, "/v1/network/technicians/"+s.t1+"/level-history", key1, nil)
	require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
	hist := r.JSON(t)["data"].([]any)
	require.Len(t, hist, 1)
	h := hist[0].(map[string]any)
	assert.Equal(t, "washer", h["category"])
	assert.EqualValues(t, 3, h["old_level"])
	assert.EqualValues(t, 4, h["new_level"])
	assert.Equal(t, "11月考核达标", h["reason"])
	assert.Equal(t, p1["id"], h["proposal_id"])
	assert.NotEmpty(t, h["actor"])

	// T2's demotion is approved; T2 appeals with its own key (T1 may not);
	// the appeal is overturned: level 4 again, with history.
	p2id := p2["id"].(string)
	r = env.Do(t, http.MethodPost, "/v1/quality/level-proposals/"+p2id+"/appeal", key2, map[string]any{"reason": "not yet"})
	require.Equal(t, http.StatusConflict, r.Status, "only an approved level can be appealed: %s", r.Body)
	r = env.Do(t, http.MethodPost, "/v1/quality/level-proposals/"+p2id+"/decide", admin, map[string]any{"decision": "approve"})
	require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
	assert.EqualValues(t, 2, skillLevel(t, env, admin, s.t2))
	r = env.Do(t, http.MethodPost, "/v1/quality/level-proposals/"+p2id+"/appeal", key1, map[string]any{"reason": "替同事申诉"})
	require.Equal(t, http.StatusNotFound, r.Status, "%s", r.Body)
	r = env.Do(t, http.MethodPost, "/v1/quality/level-proposals/"+p2id+"/appeal", key2, map[string]any{"reason": "迟到一单为客户改约所致"})
	require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
	assert.Equal(t, "appealed", r.JSON(t)["state"])
	r = env.Do(t, http.MethodPost, "/v1/quality/level-proposals/"+p2id+"/appeal-decision", key2, map[string]any{"decision": "overturned", "note": "自己裁决"})
	require.Equal(t, http.StatusForbidden, r.Status, "%s", r.Body)
	r = env.Do(t, http.MethodPost, "/v1/quality/level-proposals/"+p2id+"/appeal-decision", admin, map[string]any{"decision": "overturned", "note": "改约记录核实属实"})
	require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
	pr := r.JSON(t)
	assert.Equal(t, "overturned", pr["state"])
	ap := pr["appeal"].(map[string]any)
	assert.Equal(t, "overturned", ap["decision"])
	assert.Equal(t, "迟到一单为客户改约所致", ap["reason"])
	assert.Equal(t, "改约记录核实属实", ap["decision_note"])
	assert.EqualValues(t, 4, skillLevel(t, env, admin, s.t2))
	r = env.Do(t, http.MethodGet, "/v1/network/technicians/"+s.t2+"/level-history", admin, nil)
	require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
	hist = r.JSON(t)["data"].([]any)
	require.Len(t, hist, 2)
	assert.EqualValues(t, 4, hist[0].(map[string]any)["old_level"])
	assert.EqualValues(t, 2, hist[0].(map[string]any)["new_level"])
	assert.EqualValues(t, 2, hist[1].(map[string]any)["old_level"])
	assert.EqualValues(t, 4, hist[1].(map[string]any)["new_level"])
	assert.Equal(t, "appeal overturned: 改约记录核实属实", hist[1].(map[string]any)["reason"])
	r = env.Do(t, http.MethodGet, "/v1/network/technicians/"+s.t2+"/level-history", key1, nil)
	require.Equal(t, http.StatusNotFound, r.Status, "%s", r.Body)

	// A technician may not appeal its node's grade (its own level only).
	r = env.Do(t, http.MethodPost, "/v1/quality/grade-proposals/grp_00000000000000000000000000/appeal", key1, map[string]any{"reason": "x"})
	require.Equal(t, http.StatusNotFound, r.Status, "%s", r.Body)

	// A record entered in error is removed.
	r = env.Do(t, http.MethodDelete, certs+"/"+master, admin, nil)
	require.Equal(t, http.StatusNoContent, r.Status, "%s", r.Body)
	r = env.Do(t, http.MethodDelete, certs+"/"+master, admin, nil)
	require.Equal(t, http.StatusNotFound, r.Status, "%s", r.Body)

	// The events of it all.
	for typ, n := range map[string]int{"level.proposed": 2, "level.approved": 2, "level.appealed": 1, "level.appeal_decided": 1,
		"level_policy.updated": 1, "technician.certification_recorded": 3, "technician.certification_removed": 1} {
		r = env.Do(t, http.MethodGet, "/v1/events?type="+typ, admin, nil)
		require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
		assert.Len(t, r.JSON(t)["data"].([]any), n, typ)
	}
}

// crossTenantLevels gives the victim of the isolation walks a level
// policy, a run, a proposal and a certification for tech (written
// directly), with bodies that pass validation.
func crossTenantLevels(t *testing.T, env *apitest.Env, ctx context.Context, tenantID, node, tech string) (map[string]string, map[string]any, []string) {
	t.Helper()
	run, prop, cert := tenants.NewID("lvr"), tenants.NewID("lvp"), tenants.NewID("crt")
	require.NoError(t, pg.InTenantTx(ctx, env.DB.Owner, tenantID, func(tx pg.TenantTx) error {
		if _, err := tx.Exec(ctx, `INSERT INTO level_policies (tenant_id, version, policy, actor) VALUES ($1, 1, '{"total_weight": 100}', 'test')`, tenantID); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `INSERT INTO level_runs (tenant_id, id, period_from, period_to, policy_version, actor)
			VALUES ($1, $2, '2026-11-01', '2026-11-30', 1, 'test')`, tenantID, run); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `INSERT INTO level_proposals (tenant_id, id, run_id, technician_id, node_id, category, period_from,
			period_to, policy_version, score, indicators, tickets, current_level, proposed_level, consequence, reason)
			VALUES ($1, $2, $3, $4, $5, 'washer', '2026-11-01', '2026-11-30', 1, 77.5, '[]', 40, 3, 4, 'promotion', 'b-private-level')`,
			tenantID, prop, run, tech, node); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, `INSERT INTO technician_certifications (tenant_id, id, technician_id, course, kind, completed_on, result, issuer, created_by)
			VALUES ($1, $2, $3, 'b-course', 'certification', '2026-01-01', 'passed', 'b-private-issuer', 'test')`, tenantID, cert, tech)
		return err
	}))
	return map[string]string{"level_proposal_id": prop, "certification_id": cert},
		map[string]any{
			"decideLevelProposal":           map[string]any{"decision": "approve"},
			"appealLevelProposal":           map[string]any{"reason": "cross-tenant probe"},
			"decideLevelAppeal":             map[string]any{"decision": "upheld", "note": "cross-tenant probe"},
			"createTechnicianCertification": map[string]any{"course": "probe", "completed_on": "2026-01-01", "result": "passed"},
		},
		[]string{"b-private-level", "b-private-issuer", prop[4:], cert[4:], "b-course"}
}
