package api_test

import (
	"net/http"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/servicenet/servicenet/internal/apitest"
)

func init() {
	readers := []string{"tenant_admin", "network_manager", "node_manager", "dispatcher", "technician", "auditor"}
	writers := []string{"tenant_admin", "network_manager", "node_manager"}
	for _, op := range []string{"listNodeStock", "listStockMoves", "listLoaners", "getLoaner"} {
		wantMatrix[op] = readers
	}
	for _, op := range []string{"receiveNodeStock", "adjustNodeStock", "createLoaner"} {
		wantMatrix[op] = writers
	}
	dummyParams["loaner_id"] = "lnr_00000000000000000000000000"
}

// scopedKey issues a key with role bound to node.
func scopedKey(t *testing.T, env *apitest.Env, adminKey, role, node string) string {
	t.Helper()
	r := env.Do(t, http.MethodPost, "/v1/api-keys", adminKey, map[string]any{"name": role + " " + node, "roles": []string{role}, "node_id": node})
	require.Equal(t, http.StatusCreated, r.Status, "%s", r.Body)
	return r.JSON(t)["secret"].(string)
}

// TestStockAPI is the stock operations' contract: node-scoped keys,
// Idempotency-Key replays, pagination, the fields validation names, the
// Location of a new loaner, and isolation. The stock rules (requisitions,
// stocktakes, loans, overdue loaners, events) are tested in rolled-back
// transactions in tenants/stock.
func TestStockAPI(t *testing.T) {
	t.Parallel()
	env := apitest.Shared(t)
	ten := env.CreateTenant(t, "stock-api")
	admin := ten.AdminKey
	nw := env.CreateNetwork(t, admin, "A")
	// A second service center with its own repair point: another subtree.
	other := createdID(t, env, admin, "/v1/network/nodes", map[string]any{"external_code": "B-SC", "name": "B SC",
		"tier": "service_center", "parent_id": nw.Root, "status": "active"})
	otherPoint := createdID(t, env, admin, "/v1/network/nodes", map[string]any{"external_code": "B-RP", "name": "B RP",
		"tier": "repair_point", "parent_id": other, "status": "active"})

	washer := createdID(t, env, admin, "/v1/catalog/models", modelBody("EG100", "washer", 399900))
	motor := createdID(t, env, admin, "/v1/catalog/parts", map[string]any{"part_number": "MTR-1", "name": "Motor", "category": "motor",
		"price": cnyBody(68000), "compatible_model_ids": []string{washer}})
	seal := createdID(t, env, admin, "/v1/catalog/parts", map[string]any{"part_number": "SEAL-1", "name": "Seal", "category": "seal",
		"price": cnyBody(1200), "compatible_model_ids": []string{washer}})

	manager := scopedKey(t, env, admin, "node_manager", nw.Depot)
	otherManager := scopedKey(t, env, admin, "node_manager", other)
	base := "/v1/network/nodes/" + nw.Point + "/stock"

	// Receive through the node manager of the point's depot; a retry with the same key is not counted twice.
	receipt := map[string]any{"note": "DN-1", "lines": []map[string]any{{"part_id": motor, "quantity": 3}, {"part_id": seal, "quantity": 10}}}
	r := env.Do(t, http.MethodPost, base+"/receipts", manager, receipt, "Idempotency-Key: rcv-1")
	require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
	r = env.Do(t, http.MethodPost, base+"/receipts", manager, receipt, "Idempotency-Key: rcv-1")
	require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
	require.Equal(t, "true", r.Header.Get("Idempotent-Replayed"))

	r = env.Do(t, http.MethodGet, base, manager, nil)
	require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
	data := r.JSON(t)["data"].([]any)
	require.Len(t, data, 2)
	byPart := map[string]map[string]any{}
	for _, d := range data {
		m := d.(map[string]any)
		byPart[m["part_id"].(string)] = m
	}
	require.EqualValues(t, 3, byPart[motor]["on_hand"])
	require.EqualValues(t, 3, byPart[motor]["available"])
	require.Equal(t, "MTR-1", byPart[motor]["part_number"])

	// Pagination by part.
	r = env.Do(t, http.MethodGet, base+"?limit=1", admin, nil)
	require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
	next := r.JSON(t)["next_cursor"].(string)
	r = env.Do(t, http.MethodGet, base+"?limit=1&cursor="+next, admin, nil)
	require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
	require.Len(t, r.JSON(t)["data"].([]any), 1)
	_, more := r.JSON(t)["next_cursor"]
	require.False(t, more)

	t.Run("OtherSubtreeIsNotFound", func(t *testing.T) {
		for _, c := range []struct{ method, path string }{
			{http.MethodGet, base}, {http.MethodGet, base + "/moves"},
		} {
			r := env.Do(t, c.method, c.path, otherManager, nil)
			require.Equal(t, http.StatusNotFound, r.Status, "%s %s: %s", c.method, c.path, r.Body)
		}
		r := env.Do(t, http.MethodPost, base+"/receipts", otherManager, receipt)
		require.Equal(t, http.StatusNotFound, r.Status, "%s", r.Body)
		r = env.Do(t, http.MethodPost, base+"/adjustments", otherManager, map[string]any{"reason": "count",
			"lines": []map[string]any{{"part_id": motor, "on_hand": 0}}})
		require.Equal(t, http.StatusNotFound, r.Status, "%s", r.Body)
		r = env.Do(t, http.MethodGet, "/v1/network/nodes/"+otherPoint+"/stock", manager, nil)
		require.Equal(t, http.StatusNotFound, r.Status, "%s", r.Body)
	})

	t.Run("ValidationNamesFields", func(t *testing.T) {
		r := env.Do(t, http.MethodPost, base+"/receipts", admin, map[string]any{"lines": []map[string]any{
			{"part_id": motor, "quantity": 0}, {"part_id": "prt_00000000000000000000000000", "quantity": 1}, {"part_id": motor, "quantity": 1}}})
		require.ElementsMatch(t, []string{"body.lines[0].quantity"}, problemLocations(t, r, http.StatusUnprocessableEntity))
		r = env.Do(t, http.MethodPost, base+"/receipts", admin, map[string]any{"lines": []map[string]any{
			{"part_id": "prt_00000000000000000000000000", "quantity": 1}, {"part_id": motor, "quantity": 1}, {"part_id": motor, "quantity": 2}}})
		require.ElementsMatch(t, []string{"body.lines[0].part_id", "body.lines[2].part_id"}, problemLocations(t, r, http.StatusUnprocessableEntity))
		r = env.Do(t, http.MethodPost, base+"/adjustments", admin, map[string]any{"reason": "count", "lines": []map[string]any{{"part_id": motor}}})
		require.Equal(t, []string{"body.lines[0]"}, problemLocations(t, r, http.StatusUnprocessableEntity))
		r = env.Do(t, http.MethodPost, "/v1/loaners", admin, map[string]any{"node_id": nw.Point, "category": "toaster", "serial": "X"})
		require.Equal(t, []string{"body.category"}, problemLocations(t, r, http.StatusUnprocessableEntity))
		r = env.Do(t, http.MethodGet, "/v1/loaners?status=lost", admin, nil)
		require.Equal(t, []string{"query.status"}, problemLocations(t, r, http.StatusUnprocessableEntity))
	})

	// Adjust: a stocktake found 2 motors.
	r = env.Do(t, http.MethodPost, base+"/adjustments", manager, map[string]any{"reason": "月度盘点",
		"lines": []map[string]any{{"part_id": motor, "on_hand": 2}}})
	require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
	require.EqualValues(t, 2, r.JSON(t)["data"].([]any)[0].(map[string]any)["on_hand"])

	r = env.Do(t, http.MethodGet, base+"/moves?part_id="+motor, manager, nil)
	require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
	moves := r.JSON(t)["data"].([]any)
	require.Len(t, moves, 2, "the replayed receipt moved nothing")
	require.Equal(t, "adjust", moves[1].(map[string]any)["kind"])

	// Loaners.
	r = env.Do(t, http.MethodPost, "/v1/loaners", manager, map[string]any{"node_id": nw.Point, "category": "washer", "model_id": washer, "serial": "LN-1"})
	require.Equal(t, http.StatusCreated, r.Status, "%s", r.Body)
	loaner := r.JSON(t)["id"].(string)
	require.Equal(t, "/v1/loaners/"+loaner, r.Header.Get("Location"))
	r = env.Do(t, http.MethodPost, "/v1/loaners", admin, map[string]any{"node_id": otherPoint, "category": "washer", "serial": "LN-1"})
	require.Equal(t, []string{"body.serial"}, problemLocations(t, r, http.StatusConflict))
	r = env.Do(t, http.MethodPost, "/v1/loaners", manager, map[string]any{"node_id": otherPoint, "category": "washer", "serial": "LN-2"})
	require.Equal(t, []string{"body.node_id"}, problemLocations(t, r, http.StatusUnprocessableEntity))
	r = env.Do(t, http.MethodGet, "/v1/loaners/"+loaner, otherManager, nil)
	require.Equal(t, http.StatusNotFound, r.Status, "%s", r.Body)
	require.Empty(t, listIDs(t, env, otherManager, "/v1/loaners"))

	t.Run("AnotherTenantSeesNothing", func(t *testing.T) {
		b := env.CreateTenant(t, "stock-api-b")
		bNet := env.CreateNetwork(t, b.AdminKey, "B")
		objects, bodies, leaks := crossTenantStock(t, env, b.AdminKey, bNet.Point)
		bBase := "/v1/network/nodes/" + bNet.Point + "/stock"
		for _, c := range []struct {
			method, path string
			body         any
		}{
			{http.MethodGet, "/v1/loaners/" + objects["loaner_id"], nil},
			{http.MethodGet, bBase, nil},
			{http.MethodGet, bBase + "/moves", nil},
			{http.MethodPost, bBase + "/receipts", bodies["receiveNodeStock"]},
			{http.MethodPost, bBase + "/adjustments", bodies["adjustNodeStock"]},
		} {
			r := env.Do(t, c.method, c.path, admin, c.body)
			require.Equal(t, http.StatusNotFound, r.Status, "%s %s: %s", c.method, c.path, r.Body)
		}
		r := env.Do(t, http.MethodGet, "/v1/loaners", admin, nil)
		require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
		for _, l := range leaks {
			require.NotContains(t, withoutRequestID(t, r), l)
		}
	})
}

// crossTenantStock gives the cross-tenant walk tenant B's stock objects
// (a loaner at bNode, stock received there), bodies for the stock writes
// that pass validation, and what must never show in A's responses. The walk
// (api/crosstenant_test.go) merges them:
//
//	sObjects, sBodies, sLeaks := crossTenantStock(t, env, b.AdminKey, bNet.Point)
//	maps.Copy(bObjects, sObjects); maps.Copy(validBodies, sBodies); leaks = append(leaks, sLeaks...)
func crossTenantStock(t *testing.T, env *apitest.Env, bKey, bNode string) (objects map[string]string, bodies map[string]any, leaks []string) {
	t.Helper()
	r := env.Do(t, http.MethodPost, "/v1/loaners", bKey, map[string]any{"node_id": bNode, "category": "washer", "serial": "b-private-loaner"})
	require.Equal(t, http.StatusCreated, r.Status, "%s", r.Body)
	loaner := r.JSON(t)["id"].(string)
	line := map[string]any{"part_id": "prt_00000000000000000000000000", "quantity": 1}
	bodies = map[string]any{
		"receiveNodeStock": map[string]any{"lines": []any{line}},
		"adjustNodeStock":  map[string]any{"reason": "cross-tenant probe", "lines": []any{map[string]any{"part_id": line["part_id"], "on_hand": 0}}},
	}
	return map[string]string{"loaner_id": loaner}, bodies, []string{"b-private-loaner", loaner[4:]}
}
