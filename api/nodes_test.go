package api_test

import (
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/servicenet/servicenet/internal/apitest"
)

func nodeBody(code, tier, parent string, extra ...any) map[string]any {
	b := map[string]any{"external_code": code, "name": "Node " + code, "tier": tier, "status": "active",
		"coverage": []string{"370212"}, "categories": []string{"washer"}, "service_kinds": []string{"repair"}, "daily_capacity": 5}
	if parent != "" {
		b["parent_id"] = parent
	}
	for i := 0; i+1 < len(extra); i += 2 {
		b[extra[i].(string)] = extra[i+1]
	}
	return b
}

func create(t *testing.T, env *apitest.Env, key string, body map[string]any) map[string]any {
	t.Helper()
	r := env.Do(t, http.MethodPost, "/v1/network/nodes", key, body)
	require.Equal(t, http.StatusCreated, r.Status, "%s", r.Body)
	return r.JSON(t)
}

func problemAt(t *testing.T, r *apitest.Response, status int, location string) {
	t.Helper()
	require.Equal(t, status, r.Status, "%s", r.Body)
	require.Equal(t, "application/problem+json", r.Header.Get("Content-Type"))
	if location == "" {
		return
	}
	var locs []string
	for _, e := range asSlice(r.JSON(t)["errors"]) {
		locs = append(locs, e.(map[string]any)["location"].(string))
	}
	require.Contains(t, locs, location, "%s", r.Body)
}

func asSlice(v any) []any {
	s, _ := v.([]any)
	return s
}

func nodeCount(t *testing.T, env *apitest.Env, key string) int {
	t.Helper()
	r := env.Do(t, http.MethodGet, "/v1/network/nodes?limit=200", key, nil)
	require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
	return len(asSlice(r.JSON(t)["data"]))
}

func TestNodeTreeRules(t *testing.T) {
	t.Parallel()
	env := apitest.Shared(t)
	ten := env.CreateTenant(t, "tree-rules")
	net := env.CreateNetwork(t, ten.AdminKey, "t")
	before := nodeCount(t, env, ten.AdminKey)

	t.Run("one root", func(t *testing.T) {
		r := env.Do(t, http.MethodPost, "/v1/network/nodes", ten.AdminKey, nodeBody("ROOT2", "manufacturer", ""))
		problemAt(t, r, http.StatusConflict, "body.tier")
	})
	t.Run("bad input names the field and writes nothing", func(t *testing.T) {
		cases := []struct {
			name string
			body map[string]any
			loc  string
		}{
			{"unknown tier", nodeBody("X1", "kiosk", net.Root), "body.tier"},
			{"parent of equal tier", nodeBody("X2", "service_center", net.Center), "body.parent_id"},
			{"parent of lower tier", nodeBody("X3", "specialist_depot", net.Point), "body.parent_id"},
			{"missing parent", nodeBody("X4", "repair_point", ""), "body.parent_id"},
			{"unknown parent", nodeBody("X5", "repair_point", "nod_00000000000000000000000000"), "body.parent_id"},
			{"root with parent", nodeBody("X6", "manufacturer", net.Root), "body.parent_id"},
			{"unknown region", nodeBody("X7", "repair_point", net.Depot, "coverage", []string{"379999"}), "body.coverage[0]"},
			{"malformed region", nodeBody("X8", "repair_point", net.Depot, "coverage", []string{"37021"}), "body.coverage[0]"},
			{"negative capacity", nodeBody("X9", "repair_point", net.Depot, "daily_capacity", -1), "body.daily_capacity"},
			{"unknown category", nodeBody("X10", "repair_point", net.Depot, "categories", []string{"spaceship"}), "body.categories[0]"},
			{"duplicate external code", nodeBody("t-RP", "repair_point", net.Depot), "body.external_code"},
			{"unknown field", nodeBody("X11", "repair_point", net.Depot, "colour", "red"), "body.colour"},
		}
		for _, c := range cases {
			t.Run(c.name, func(t *testing.T) {
				r := env.Do(t, http.MethodPost, "/v1/network/nodes", ten.AdminKey, c.body)
				require.Less(t, r.Status, 500)
				require.GreaterOrEqual(t, r.Status, 400, "%s", r.Body)
				assert.Contains(t, string(r.Body), c.loc, "%s", r.Body)
			})
		}
		require.Equal(t, before, nodeCount(t, env, ten.AdminKey))
	})

	t.Run("moves keep the tree consistent and refuse cycles", func(t *testing.T) {
		center2 := create(t, env, ten.AdminKey, nodeBody("SC2", "service_center", net.Root))["id"].(string)
		// Depot (with its repair point) moves under the second center.
		r := env.Do(t, http.MethodPost, "/v1/network/nodes/"+net.Depot+"/move", ten.AdminKey, map[string]any{"parent_id": center2})
		require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
		r = env.Do(t, http.MethodGet, "/v1/network/nodes/"+net.Point, ten.AdminKey, nil)
		require.Equal(t, http.StatusOK, r.Status)
		path := asSlice(r.JSON(t)["path"])
		require.Equal(t, []any{net.Root, center2, net.Depot, net.Point}, path, "the repair point moved with its depot")

		// Under its own descendant: a cycle.
		r = env.Do(t, http.MethodPost, "/v1/network/nodes/"+center2+"/move", ten.AdminKey, map[string]any{"parent_id": net.Depot})
		problemAt(t, r, http.StatusUnprocessableEntity, "body.parent_id")
		// Under a node of the same tier.
		r = env.Do(t, http.MethodPost, "/v1/network/nodes/"+net.Depot+"/move", ten.AdminKey, map[string]any{"parent_id": net.Point})
		problemAt(t, r, http.StatusUnprocessableEntity, "body.parent_id")
		// The root does not move.
		r = env.Do(t, http.MethodPost, "/v1/network/nodes/"+net.Root+"/move", ten.AdminKey, map[string]any{"parent_id": center2})
		problemAt(t, r, http.StatusUnprocessableEntity, "path.id")

		// Subtree of the second center lists depot and point in tree order.
		r = env.Do(t, http.MethodGet, "/v1/network/nodes/"+center2+"/subtree", ten.AdminKey, nil)
		require.Equal(t, http.StatusOK, r.Status)
		var ids []string
		var depths []float64
		for _, n := range asSlice(r.JSON(t)["data"]) {
			ids = append(ids, n.(map[string]any)["id"].(string))
			depths = append(depths, n.(map[string]any)["depth"].(float64))
		}
		require.Equal(t, []string{center2, net.Depot, net.Point}, ids)
		require.Equal(t, []float64{0, 1, 2}, depths)
	})

	t.Run("status rules", func(t *testing.T) {
		r := env.Do(t, http.MethodPost, "/v1/network/nodes/"+net.Depot+"/status", ten.AdminKey, map[string]any{"status": "terminated", "reason": "contract ended"})
		require.Equal(t, http.StatusConflict, r.Status, "a depot with an active repair point cannot be terminated: %s", r.Body)
		r = env.Do(t, http.MethodPost, "/v1/network/nodes/"+net.Point+"/status", ten.AdminKey, map[string]any{"status": "suspended", "reason": "complaints over threshold"})
		require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
		r = env.Do(t, http.MethodPost, "/v1/network/nodes/"+net.Point+"/status", ten.AdminKey, map[string]any{"status": "terminated", "reason": "eliminated in the annual review"})
		require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
		r = env.Do(t, http.MethodPost, "/v1/network/nodes/"+net.Point+"/status", ten.AdminKey, map[string]any{"status": "active", "reason": "try again"})
		require.Equal(t, http.StatusConflict, r.Status, "terminated is final: %s", r.Body)
		r = env.Do(t, http.MethodPost, "/v1/network/nodes/"+net.Depot+"/status", ten.AdminKey, map[string]any{"status": "terminated", "reason": "contract ended"})
		require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
		r = env.Do(t, http.MethodGet, "/v1/network/nodes/"+net.Point+"/status-history", ten.AdminKey, nil)
		require.Equal(t, http.StatusOK, r.Status)
		var tos []string
		for _, c := range asSlice(r.JSON(t)["data"]) {
			tos = append(tos, c.(map[string]any)["to"].(string))
		}
		require.Equal(t, []string{"active", "suspended", "terminated"}, tos)
		r = env.Do(t, http.MethodPost, "/v1/network/nodes", ten.AdminKey, nodeBody("UNDER-DEAD", "repair_point", net.Depot))
		problemAt(t, r, http.StatusUnprocessableEntity, "body.parent_id")
	})

	t.Run("optimistic concurrency", func(t *testing.T) {
		r := env.Do(t, http.MethodGet, "/v1/network/nodes/"+net.Center, ten.AdminKey, nil)
		tag := r.Header.Get("ETag")
		require.NotEmpty(t, tag)
		r = env.Do(t, http.MethodPatch, "/v1/network/nodes/"+net.Center, ten.AdminKey, map[string]any{"daily_capacity": 80}, "If-Match: "+tag)
		require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
		require.Equal(t, float64(80), r.JSON(t)["daily_capacity"])
		r = env.Do(t, http.MethodPatch, "/v1/network/nodes/"+net.Center, ten.AdminKey, map[string]any{"daily_capacity": 90}, "If-Match: "+tag)
		require.Equal(t, http.StatusPreconditionFailed, r.Status, "%s", r.Body)
	})
}

func TestNodeScopedKeys(t *testing.T) {
	t.Parallel()
	env := apitest.Shared(t)
	ten := env.CreateTenant(t, "scoped")
	net := env.CreateNetwork(t, ten.AdminKey, "s")
	sibling := create(t, env, ten.AdminKey, nodeBody("SD2", "specialist_depot", net.Center))["id"].(string)
	siblingPoint := create(t, env, ten.AdminKey, nodeBody("RP2", "repair_point", sibling))["id"].(string)

	r := env.Do(t, http.MethodPost, "/v1/api-keys", ten.AdminKey, map[string]any{"name": "depot manager", "roles": []string{"node_manager"}, "node_id": net.Depot})
	require.Equal(t, http.StatusCreated, r.Status, "%s", r.Body)
	manager := r.JSON(t)["secret"].(string)

	// Sees its own subtree.
	for _, id := range []string{net.Depot, net.Point} {
		r := env.Do(t, http.MethodGet, "/v1/network/nodes/"+id, manager, nil)
		require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
	}
	// Not the sibling's, the parent or the root.
	for _, id := range []string{sibling, siblingPoint, net.Center, net.Root} {
		r := env.Do(t, http.MethodGet, "/v1/network/nodes/"+id, manager, nil)
		require.Equal(t, http.StatusNotFound, r.Status, "%s", r.Body)
		r = env.Do(t, http.MethodGet, "/v1/network/nodes/"+id+"/subtree", manager, nil)
		require.Equal(t, http.StatusNotFound, r.Status)
		r = env.Do(t, http.MethodPatch, "/v1/network/nodes/"+id, manager, map[string]any{"name": "hijacked"})
		require.Equal(t, http.StatusNotFound, r.Status)
	}
	// Lists and the candidate query only show the subtree.
	r = env.Do(t, http.MethodGet, "/v1/network/nodes", manager, nil)
	require.Equal(t, http.StatusOK, r.Status)
	require.Len(t, asSlice(r.JSON(t)["data"]), 2)
	r = env.Do(t, http.MethodGet, "/v1/network/coverage?region_code=370212&category=washer&service_kind=repair", manager, nil)
	require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
	covering := asSlice(r.JSON(t)["data"])
	require.NotEmpty(t, covering, "the manager's subtree covers the district: %s", r.Body)
	for _, c := range covering {
		require.Contains(t, []string{net.Depot, net.Point}, c.(map[string]any)["id"])
	}
	// It may add a repair point under its depot, not under the sibling, and
	// may not move or change the status of its own node.
	create(t, env, manager, nodeBody("RP-MINE", "repair_point", net.Depot))
	r = env.Do(t, http.MethodPost, "/v1/network/nodes", manager, nodeBody("RP-THEIRS", "repair_point", sibling))
	problemAt(t, r, http.StatusUnprocessableEntity, "body.parent_id")
	r = env.Do(t, http.MethodPost, "/v1/network/nodes/"+net.Depot+"/status", manager, map[string]any{"status": "suspended", "reason": "self"})
	require.Equal(t, http.StatusForbidden, r.Status, "%s", r.Body)
	r = env.Do(t, http.MethodPost, "/v1/network/nodes/"+net.Point+"/move", manager, map[string]any{"parent_id": sibling})
	problemAt(t, r, http.StatusUnprocessableEntity, "body.parent_id")

	// The whole-tenant network manager sees everything.
	nm, _ := env.Key(t, ten.AdminKey, "network_manager")
	r = env.Do(t, http.MethodGet, "/v1/network/nodes/"+siblingPoint, nm, nil)
	require.Equal(t, http.StatusOK, r.Status)
}

func TestCoverageCandidates(t *testing.T) {
	t.Parallel()
	env := apitest.Shared(t)
	ten := env.CreateTenant(t, "coverage")
	net := env.CreateNetwork(t, ten.AdminKey, "c")
	// A province-wide depot (Shandong) and a city-wide repair point (Qingdao),
	// a suspended point and one without capacity, one for another category.
	provDepot := create(t, env, ten.AdminKey, nodeBody("PROV", "specialist_depot", net.Center, "coverage", []string{"370000"}, "grade", "B"))["id"].(string)
	cityPoint := create(t, env, ten.AdminKey, nodeBody("CITY", "repair_point", net.Depot, "coverage", []string{"370200"}, "grade", "A"))["id"].(string)
	suspended := create(t, env, ten.AdminKey, nodeBody("SUSP", "repair_point", net.Depot))["id"].(string)
	r := env.Do(t, http.MethodPost, "/v1/network/nodes/"+suspended+"/status", ten.AdminKey, map[string]any{"status": "suspended", "reason": "audit"})
	require.Equal(t, http.StatusOK, r.Status)
	create(t, env, ten.AdminKey, nodeBody("NOCAP", "repair_point", net.Depot, "daily_capacity", 0))
	create(t, env, ten.AdminKey, nodeBody("TV", "repair_point", net.Depot, "categories", []string{"tv"}))
	create(t, env, ten.AdminKey, nodeBody("ELSEWHERE", "repair_point", net.Depot, "coverage", []string{"440606"}))

	r = env.Do(t, http.MethodGet, "/v1/network/coverage?region_code=370212&category=washer&service_kind=repair", ten.AdminKey, nil)
	require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
	var got []string
	matched := map[string]string{}
	for _, c := range asSlice(r.JSON(t)["data"]) {
		m := c.(map[string]any)
		got = append(got, m["id"].(string))
		matched[m["id"].(string)] = m["matched_region"].(string)
	}
	// Repair points first (grade A before ungraded), then depots, the center, the root.
	require.Equal(t, []string{cityPoint, net.Point, provDepot, net.Depot, net.Center, net.Root}, got)
	require.Equal(t, "370200", matched[cityPoint])
	require.Equal(t, "370000", matched[provDepot])
	require.Equal(t, "370212", matched[net.Point])

	r = env.Do(t, http.MethodGet, "/v1/network/coverage?region_code=370212&category=washer&service_kind=repair&tier=specialist_depot", ten.AdminKey, nil)
	require.Equal(t, http.StatusOK, r.Status)
	require.Len(t, asSlice(r.JSON(t)["data"]), 2)

	for q, loc := range map[string]string{
		"region_code=379999&category=washer&service_kind=repair":         "query.region_code",
		"region_code=37021&category=washer&service_kind=repair":          "query.region_code",
		"region_code=370212&category=rocket&service_kind=repair":         "query.category",
		"region_code=370212&category=washer":                             "query.service_kind",
		"region_code=370212&category=washer&service_kind=repair&limit=0": "query.limit",
	} {
		r := env.Do(t, http.MethodGet, "/v1/network/coverage?"+q, ten.AdminKey, nil)
		problemAt(t, r, http.StatusUnprocessableEntity, loc)
	}

	// Listing filters agree with the candidate query.
	r = env.Do(t, http.MethodGet, "/v1/network/nodes?region_code=370212&category=washer&status=active&tier=repair_point", ten.AdminKey, nil)
	require.Equal(t, http.StatusOK, r.Status)
	require.Len(t, asSlice(r.JSON(t)["data"]), 3, "%s", r.Body) // city point, the test point, no-capacity point
}

func TestNodeListPagination(t *testing.T) {
	t.Parallel()
	env := apitest.Shared(t)
	ten := env.CreateTenant(t, "paging")
	net := env.CreateNetwork(t, ten.AdminKey, "p")
	for i := range 7 {
		create(t, env, ten.AdminKey, nodeBody(fmt.Sprintf("RP%d", i), "repair_point", net.Depot))
	}
	seen := map[string]bool{}
	cursor := ""
	pages := 0
	for {
		path := "/v1/network/nodes?tier=repair_point&limit=3"
		if cursor != "" {
			path += "&cursor=" + cursor
		}
		r := env.Do(t, http.MethodGet, path, ten.AdminKey, nil)
		require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
		m := r.JSON(t)
		for _, n := range asSlice(m["data"]) {
			id := n.(map[string]any)["id"].(string)
			require.False(t, seen[id], "repeated %s", id)
			seen[id] = true
		}
		pages++
		next, _ := m["next_cursor"].(string)
		if next == "" {
			break
		}
		cursor = next
	}
	require.Len(t, seen, 8)
	require.Equal(t, 3, pages)
	r := env.Do(t, http.MethodGet, "/v1/network/nodes?cursor=bm9wZQ", ten.AdminKey, nil)
	problemAt(t, r, http.StatusUnprocessableEntity, "query.cursor")
	require.False(t, strings.Contains(string(r.Body), "SELECT"))
}
