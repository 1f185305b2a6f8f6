package api_test

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/servicenet/servicenet/internal/apitest"
	"github.com/servicenet/servicenet/tenants"
	"github.com/servicenet/servicenet/tenants/network"
)

var (
	validLicence   = map[string]any{"number": "LIC-VALID-1", "issued_on": "2024-01-01", "expires_on": "2099-12-31"}
	expiredLicence = map[string]any{"number": "LIC-OLD-1", "issued_on": "2019-01-01", "expires_on": "2021-01-01"}
)

// techBody is a valid new technician at node; extra are key, value pairs
// that replace or add fields.
func techBody(code, node string, extra ...any) map[string]any {
	b := map[string]any{"external_code": code, "node_id": node, "name": "Tech " + code, "phone": "+86 138 0532 0000",
		"skills": []map[string]any{{"category": "washer", "level": 3}}, "licence": validLicence,
		"shifts": []map[string]any{{"weekday": 1, "start": "08:00", "end": "18:00"}}}
	for i := 0; i+1 < len(extra); i += 2 {
		if extra[i+1] == nil {
			delete(b, extra[i].(string))
			continue
		}
		b[extra[i].(string)] = extra[i+1]
	}
	return b
}

func createTech(t *testing.T, env *apitest.Env, key string, body map[string]any) map[string]any {
	t.Helper()
	r := env.Do(t, http.MethodPost, "/v1/network/technicians", key, body)
	require.Equal(t, http.StatusCreated, r.Status, "%s", r.Body)
	return r.JSON(t)
}

// problemLocations checks the status and returns the problem's error locations.
func problemLocations(t *testing.T, r *apitest.Response, status int) []string {
	t.Helper()
	require.Equal(t, status, r.Status, "%s", r.Body)
	require.Equal(t, "application/problem+json", r.Header.Get("Content-Type"))
	var locs []string
	errs, _ := r.JSON(t)["errors"].([]any)
	for _, e := range errs {
		locs = append(locs, e.(map[string]any)["location"].(string))
	}
	return locs
}

// listTechIDs lists technicians with a query and returns their ids in order.
func listTechIDs(t *testing.T, env *apitest.Env, key, query string) []string {
	t.Helper()
	r := env.Do(t, http.MethodGet, "/v1/network/technicians"+query, key, nil)
	require.Equal(t, http.StatusOK, r.Status, "%s: %s", query, r.Body)
	ids := []string{}
	data, _ := r.JSON(t)["data"].([]any)
	for _, d := range data {
		ids = append(ids, d.(map[string]any)["id"].(string))
	}
	return ids
}

func TestTechnicians(t *testing.T) {
	t.Parallel()
	env := apitest.Shared(t)
	ten := env.CreateTenant(t, "technicians")
	net := env.CreateNetwork(t, ten.AdminKey, "n")

	r := env.Do(t, http.MethodPost, "/v1/network/technicians", ten.AdminKey, techBody("T1", net.Point,
		"skills", []map[string]any{{"category": "washer", "level": 4}, {"category": "refrigerator", "level": 2}},
		"shifts", []map[string]any{{"weekday": 3, "start": "13:00", "end": "18:00"}, {"weekday": 1, "start": "08:00", "end": "12:00"}},
		"home", map[string]any{"region_code": "370212", "location": map[string]any{"latitude": 36.1, "longitude": 120.47}}))
	require.Equal(t, http.StatusCreated, r.Status, "%s", r.Body)
	t1 := r.JSON(t)
	id1 := t1["id"].(string)
	require.Regexp(t, `^tec_[0-9a-z]{26}$`, id1)
	require.Equal(t, "/v1/network/technicians/"+id1, r.Header.Get("Location"))
	require.Equal(t, `"v1"`, r.Header.Get("ETag"))
	require.Equal(t, "active", t1["status"])
	require.Equal(t, true, t1["eligible"])
	require.Equal(t, float64(8), t1["daily_job_limit"], "default daily job limit")
	require.Equal(t, map[string]any{"number": "LIC-VALID-1", "issued_on": "2024-01-01", "expires_on": "2099-12-31", "status": "valid"}, t1["licence"])
	require.Equal(t, []any{
		map[string]any{"category": "refrigerator", "level": float64(2)},
		map[string]any{"category": "washer", "level": float64(4)},
	}, t1["skills"], "skills by category")
	require.Equal(t, []any{
		map[string]any{"weekday": float64(1), "start": "08:00", "end": "12:00"},
		map[string]any{"weekday": float64(3), "start": "13:00", "end": "18:00"},
	}, t1["shifts"], "shifts by weekday")
	require.Equal(t, "370212", t1["home"].(map[string]any)["region_code"])

	t2 := createTech(t, env, ten.AdminKey, techBody("T2", net.Depot, "licence", expiredLicence,
		"skills", []map[string]any{{"category": "washer", "level": 2}}))
	id2 := t2["id"].(string)
	require.Equal(t, false, t2["eligible"], "an expired licence makes a technician ineligible")
	require.Equal(t, "expired", t2["licence"].(map[string]any)["status"])

	t3 := createTech(t, env, ten.AdminKey, techBody("T3", net.Center, "licence", nil, "status", "on_leave",
		"skills", []map[string]any{{"category": "tv", "level": 5}}, "daily_job_limit", 0))
	id3 := t3["id"].(string)
	require.Equal(t, map[string]any{"status": "missing"}, t3["licence"])
	require.Equal(t, false, t3["eligible"])
	require.Equal(t, float64(0), t3["daily_job_limit"])

	t.Run("Get", func(t *testing.T) {
		r := env.Do(t, http.MethodGet, "/v1/network/technicians/"+id1, ten.AdminKey, nil)
		require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
		require.Equal(t, `"v1"`, r.Header.Get("ETag"))
		require.Equal(t, t1, r.JSON(t))
		for _, bad := range []string{"tec_00000000000000000000000000", "nonsense", net.Point} {
			r = env.Do(t, http.MethodGet, "/v1/network/technicians/"+bad, ten.AdminKey, nil)
			require.Equal(t, http.StatusNotFound, r.Status, "%s: %s", bad, r.Body)
		}
	})

	t.Run("ListFilters", func(t *testing.T) {
		all := []string{id1, id2, id3}
		cases := []struct {
			query string
			want  []string
		}{
			{"", all},
			{"?category=washer", []string{id1, id2}},
			{"?category=washer&min_level=3", []string{id1}},
			{"?category=washer&min_level=5", []string{}},
			{"?category=tv&min_level=5", []string{id3}},
			{"?licence=valid", []string{id1}},
			{"?licence=expired", []string{id2}},
			{"?licence=missing", []string{id3}},
			{"?eligible=true", []string{id1}},
			{"?eligible=false", []string{id2, id3}},
			{"?status=on_leave", []string{id3}},
			{"?node_id=" + net.Depot, []string{id2}},
			{"?subtree_of=" + net.Depot, []string{id1, id2}},
			{"?subtree_of=" + net.Root, all},
			{"?subtree_of=" + net.Depot + "&category=washer&min_level=3&eligible=true", []string{id1}},
		}
		for _, c := range cases {
			require.Equal(t, c.want, listTechIDs(t, env, ten.AdminKey, c.query), "query %q", c.query)
		}
		locs := problemLocations(t, env.Do(t, http.MethodGet, "/v1/network/technicians?min_level=3", ten.AdminKey, nil), http.StatusUnprocessableEntity)
		require.Contains(t, locs, "query.min_level")
		locs = problemLocations(t, env.Do(t, http.MethodGet, "/v1/network/technicians?licence=lapsed", ten.AdminKey, nil), http.StatusUnprocessableEntity)
		require.Contains(t, locs, "query.licence")

		// Paging with limit=1 walks all three in id order.
		var got []string
		cursor := ""
		for range 5 {
			q := "/v1/network/technicians?limit=1"
			if cursor != "" {
				q += "&cursor=" + cursor
			}
			r := env.Do(t, http.MethodGet, q, ten.AdminKey, nil)
			require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
			m := r.JSON(t)
			for _, d := range m["data"].([]any) {
				got = append(got, d.(map[string]any)["id"].(string))
			}
			next, _ := m["next_cursor"].(string)
			if next == "" {
				break
			}
			cursor = next
		}
		require.Equal(t, all, got)
	})

	t.Run("Update", func(t *testing.T) {
		r := env.Do(t, http.MethodPatch, "/v1/network/technicians/"+id3, ten.AdminKey,
			map[string]any{"status": "active", "node_id": net.Point, "daily_job_limit": 12,
				"skills": []map[string]any{{"category": "washer", "level": 5}}}, `If-Match: "v1"`)
		require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
		require.Equal(t, `"v2"`, r.Header.Get("ETag"))
		m := r.JSON(t)
		require.Equal(t, net.Point, m["node_id"], "moved to the repair point")
		require.Equal(t, "active", m["status"])
		require.Equal(t, float64(12), m["daily_job_limit"])
		require.Equal(t, false, m["eligible"], "active but still no licence")
		require.Equal(t, "Tech T3", m["name"], "absent fields stay")
		require.Equal(t, []string{id1, id3}, listTechIDs(t, env, ten.AdminKey, "?node_id="+net.Point))

		// A stale ETag is refused and changes nothing.
		r = env.Do(t, http.MethodPatch, "/v1/network/technicians/"+id3, ten.AdminKey, map[string]any{"name": "late"}, `If-Match: "v1"`)
		require.Equal(t, http.StatusPreconditionFailed, r.Status, "%s", r.Body)
		// Bad moves and clashes name the field.
		r = env.Do(t, http.MethodPatch, "/v1/network/technicians/"+id3, ten.AdminKey, map[string]any{"node_id": "nod_00000000000000000000000000"})
		require.Contains(t, problemLocations(t, r, http.StatusUnprocessableEntity), "body.node_id")
		r = env.Do(t, http.MethodPatch, "/v1/network/technicians/"+id3, ten.AdminKey, map[string]any{"external_code": "T1"})
		require.Contains(t, problemLocations(t, r, http.StatusConflict), "body.external_code")
		r = env.Do(t, http.MethodPatch, "/v1/network/technicians/"+id3, ten.AdminKey,
			map[string]any{"shifts": []map[string]any{{"weekday": 2, "start": "08:00", "end": "12:00"}, {"weekday": 2, "start": "11:00", "end": "15:00"}}})
		require.Contains(t, problemLocations(t, r, http.StatusUnprocessableEntity), "body.shifts[1]")
		r = env.Do(t, http.MethodGet, "/v1/network/technicians/"+id3, ten.AdminKey, nil)
		require.Equal(t, `"v2"`, r.Header.Get("ETag"), "refused updates change nothing")

		// An empty home clears it.
		r = env.Do(t, http.MethodPatch, "/v1/network/technicians/"+id1, ten.AdminKey, map[string]any{"home": map[string]any{}})
		require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
		require.NotContains(t, r.JSON(t), "home")
	})

	t.Run("LicenceRenewal", func(t *testing.T) {
		path := "/v1/network/technicians/" + id2 + "/licence-renewals"
		r := env.Do(t, http.MethodPost, path, ten.AdminKey, map[string]any{"number": "LIC-NEW-2", "issued_on": "2026-01-01", "expires_on": "2025-12-31"})
		require.Contains(t, problemLocations(t, r, http.StatusUnprocessableEntity), "body.expires_on")
		r = env.Do(t, http.MethodPost, path, ten.AdminKey, map[string]any{"number": "LIC-NEW-2", "issued_on": "2020-01-01", "expires_on": "2022-12-31"})
		require.Contains(t, problemLocations(t, r, http.StatusUnprocessableEntity), "body.expires_on", "a renewal must be valid today")
		future := time.Now().AddDate(0, 0, 3).Format(time.DateOnly)
		r = env.Do(t, http.MethodPost, path, ten.AdminKey, map[string]any{"number": "LIC-NEW-2", "issued_on": future, "expires_on": "2099-01-01"})
		require.Contains(t, problemLocations(t, r, http.StatusUnprocessableEntity), "body.issued_on")

		r = env.Do(t, http.MethodPost, path, ten.AdminKey, map[string]any{"number": "LIC-NEW-2", "issued_on": "2026-01-01", "expires_on": "2031-01-01"}, `If-Match: "v1"`)
		require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
		m := r.JSON(t)
		require.Equal(t, map[string]any{"number": "LIC-NEW-2", "issued_on": "2026-01-01", "expires_on": "2031-01-01", "status": "valid"}, m["licence"])
		require.Equal(t, true, m["eligible"])
		require.Equal(t, `"v2"`, r.Header.Get("ETag"))
		require.Contains(t, listTechIDs(t, env, ten.AdminKey, "?eligible=true"), id2)

		r = env.Do(t, http.MethodPost, "/v1/network/technicians/tec_00000000000000000000000000/licence-renewals", ten.AdminKey,
			map[string]any{"number": "X", "issued_on": "2026-01-01", "expires_on": "2031-01-01"})
		require.Equal(t, http.StatusNotFound, r.Status, "%s", r.Body)
	})

	t.Run("Events", func(t *testing.T) {
		want := map[string]int{"technician.created": 3, "technician.updated": 2, "technician.licence_renewed": 1}
		require.EventuallyWithT(t, func(c *assert.CollectT) {
			r := env.Do(t, http.MethodGet, "/v1/events?type=technician.*&limit=100", ten.AdminKey, nil)
			if !assert.Equal(c, http.StatusOK, r.Status, "%s", r.Body) {
				return
			}
			got := map[string]int{}
			for _, e := range r.JSON(t)["data"].([]any) {
				got[e.(map[string]any)["type"].(string)]++
			}
			assert.Equal(c, want, got)
		}, 5*time.Second, 50*time.Millisecond)
	})
}

func TestTechnicianBadInput(t *testing.T) {
	t.Parallel()
	env := apitest.Shared(t)
	ten := env.CreateTenant(t, "tech-bad-input")
	net := env.CreateNetwork(t, ten.AdminKey, "b")
	createTech(t, env, ten.AdminKey, techBody("TAKEN", net.Point))
	future := time.Now().AddDate(0, 0, 3).Format(time.DateOnly)

	cases := []struct {
		name   string
		body   map[string]any
		status int
		loc    string
	}{
		{"LicenceExpiresBeforeIssued", techBody("X1", net.Point, "licence", map[string]any{"number": "L", "issued_on": "2025-06-01", "expires_on": "2025-05-31"}), 422, "body.licence.expires_on"},
		{"LicenceIssuedInTheFuture", techBody("X2", net.Point, "licence", map[string]any{"number": "L", "issued_on": future, "expires_on": "2099-01-01"}), 422, "body.licence.issued_on"},
		{"LicenceBadDate", techBody("X3", net.Point, "licence", map[string]any{"number": "L", "issued_on": "2025-02-30", "expires_on": "2099-01-01"}), 422, "body.licence.issued_on"},
		{"UnknownCategory", techBody("X4", net.Point, "skills", []map[string]any{{"category": "spaceship", "level": 3}}), 422, "body.skills[0].category"},
		{"LevelSix", techBody("X5", net.Point, "skills", []map[string]any{{"category": "washer", "level": 6}}), 422, "body.skills[0].level"},
		{"DuplicateCategory", techBody("X6", net.Point, "skills", []map[string]any{{"category": "washer", "level": 2}, {"category": "washer", "level": 3}}), 422, "body.skills[1].category"},
		{"BadShiftTime", techBody("X7", net.Point, "shifts", []map[string]any{{"weekday": 1, "start": "25:00", "end": "26:00"}}), 422, "body.shifts[0].start"},
		{"ShiftEndsBeforeStart", techBody("X8", net.Point, "shifts", []map[string]any{{"weekday": 1, "start": "18:00", "end": "08:00"}}), 422, "body.shifts[0].end"},
		{"BadWeekday", techBody("X9", net.Point, "shifts", []map[string]any{{"weekday": 8, "start": "08:00", "end": "18:00"}}), 422, "body.shifts[0].weekday"},
		{"UnknownRegion", techBody("X10", net.Point, "home", map[string]any{"region_code": "379999"}), 422, "body.home.region_code"},
		{"UnknownNode", techBody("X11", "nod_00000000000000000000000000"), 422, "body.node_id"},
		{"DailyLimitTooHigh", techBody("X12", net.Point, "daily_job_limit", 101), 422, "body.daily_job_limit"},
		{"NewTechnicianWhoLeft", techBody("X13", net.Point, "status", "left"), 422, "body.status"},
		{"DuplicateExternalCode", techBody("TAKEN", net.Point), 409, "body.external_code"},
		{"BadPhone", techBody("X14", net.Point, "phone", "call me"), 422, "body.phone"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := env.Do(t, http.MethodPost, "/v1/network/technicians", ten.AdminKey, c.body)
			require.Contains(t, problemLocations(t, r, c.status), c.loc)
		})
	}
	require.Len(t, listTechIDs(t, env, ten.AdminKey, ""), 1, "nothing was created")

	t.Run("TerminatedNode", func(t *testing.T) {
		ctx := context.Background()
		admin := tenants.Principal{TenantID: ten.ID, KeyID: ten.AdminID, Roles: []string{tenants.RoleTenantAdmin}}
		_, err := env.Network.ChangeNodeStatus(ctx, admin, net.Point, network.StatusTerminated, "contract ended", 0)
		require.Equal(t, tenants.CodeConflict, tenants.ErrorCode(err), "a node with a technician who has not left: %v", err)
		id := listTechIDs(t, env, ten.AdminKey, "")[0]
		r := env.Do(t, http.MethodPatch, "/v1/network/technicians/"+id, ten.AdminKey, map[string]any{"status": "left"})
		require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
		_, err = env.Network.ChangeNodeStatus(ctx, admin, net.Point, network.StatusTerminated, "contract ended", 0)
		require.NoError(t, err)

		r = env.Do(t, http.MethodPost, "/v1/network/technicians", ten.AdminKey, techBody("X20", net.Point))
		require.Contains(t, problemLocations(t, r, http.StatusUnprocessableEntity), "body.node_id")
		r = env.Do(t, http.MethodPatch, "/v1/network/technicians/"+id, ten.AdminKey, map[string]any{"node_id": net.Depot})
		require.Equal(t, http.StatusOK, r.Status, "a technician moves off a terminated node: %s", r.Body)
		r = env.Do(t, http.MethodPatch, "/v1/network/technicians/"+id, ten.AdminKey, map[string]any{"node_id": net.Point})
		require.Contains(t, problemLocations(t, r, http.StatusUnprocessableEntity), "body.node_id", "nor back onto it")
	})
}

func TestTechnicianNodeScopedKey(t *testing.T) {
	t.Parallel()
	env := apitest.Shared(t)
	ten := env.CreateTenant(t, "tech-scoped")
	net := env.CreateNetwork(t, ten.AdminKey, "s")
	r := env.Do(t, http.MethodPost, "/v1/network/nodes", ten.AdminKey, map[string]any{"external_code": "s-SD2", "name": "sibling depot",
		"tier": "specialist_depot", "parent_id": net.Center, "status": "active"})
	require.Equal(t, http.StatusCreated, r.Status, "%s", r.Body)
	sibling := r.JSON(t)["id"].(string)

	atDepot := createTech(t, env, ten.AdminKey, techBody("D1", net.Depot))["id"].(string)
	atPoint := createTech(t, env, ten.AdminKey, techBody("P1", net.Point))["id"].(string)
	atSibling := createTech(t, env, ten.AdminKey, techBody("S1", sibling))["id"].(string)
	atCenter := createTech(t, env, ten.AdminKey, techBody("C1", net.Center))["id"].(string)

	r = env.Do(t, http.MethodPost, "/v1/api-keys", ten.AdminKey, map[string]any{"name": "depot manager", "roles": []string{"node_manager"}, "node_id": net.Depot})
	require.Equal(t, http.StatusCreated, r.Status, "%s", r.Body)
	manager := r.JSON(t)["secret"].(string)

	require.Equal(t, []string{atDepot, atPoint}, listTechIDs(t, env, manager, ""))
	require.Equal(t, []string{}, listTechIDs(t, env, manager, "?node_id="+sibling))
	require.Equal(t, []string{atDepot, atPoint}, listTechIDs(t, env, manager, "?subtree_of="+net.Root), "subtree_of never widens the scope")
	require.Equal(t, []string{atPoint}, listTechIDs(t, env, manager, "?subtree_of="+net.Point))
	for _, id := range []string{atDepot, atPoint} {
		r := env.Do(t, http.MethodGet, "/v1/network/technicians/"+id, manager, nil)
		require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
	}
	for _, id := range []string{atSibling, atCenter} {
		r := env.Do(t, http.MethodGet, "/v1/network/technicians/"+id, manager, nil)
		require.Equal(t, http.StatusNotFound, r.Status, "%s", r.Body)
		r = env.Do(t, http.MethodPatch, "/v1/network/technicians/"+id, manager, map[string]any{"name": "hijacked"})
		require.Equal(t, http.StatusNotFound, r.Status, "%s", r.Body)
		r = env.Do(t, http.MethodPost, "/v1/network/technicians/"+id+"/licence-renewals", manager,
			map[string]any{"number": "X", "issued_on": "2026-01-01", "expires_on": "2031-01-01"})
		require.Equal(t, http.StatusNotFound, r.Status, "%s", r.Body)
	}

	// It creates and moves technicians only inside its subtree.
	r = env.Do(t, http.MethodPost, "/v1/network/technicians", manager, techBody("M1", sibling))
	require.Contains(t, problemLocations(t, r, http.StatusUnprocessableEntity), "body.node_id")
	r = env.Do(t, http.MethodPatch, "/v1/network/technicians/"+atPoint, manager, map[string]any{"node_id": sibling})
	require.Contains(t, problemLocations(t, r, http.StatusUnprocessableEntity), "body.node_id")
	r = env.Do(t, http.MethodPost, "/v1/network/technicians", manager, techBody("M2", net.Point))
	require.Equal(t, http.StatusForbidden, r.Status, "level 3: the brand's levelling raises levels, %s", r.Body)
	created := createTech(t, env, manager, techBody("M2", net.Point, "skills", []map[string]any{{"category": "washer", "level": 1}}))
	r = env.Do(t, http.MethodPatch, "/v1/network/technicians/"+atPoint, manager, map[string]any{"node_id": net.Depot})
	require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
	require.Equal(t, []string{atDepot, atPoint}, listTechIDs(t, env, manager, "?node_id="+net.Depot))
	require.Len(t, listTechIDs(t, env, ten.AdminKey, ""), 5)
	require.Equal(t, net.Point, created["node_id"])

	// The admin's sibling technician is untouched.
	r = env.Do(t, http.MethodGet, "/v1/network/technicians/"+atSibling, ten.AdminKey, nil)
	require.Equal(t, http.StatusOK, r.Status)
	require.Equal(t, "Tech S1", r.JSON(t)["name"])
	require.Equal(t, float64(1), r.JSON(t)["version"])
}
