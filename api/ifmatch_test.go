package api_test

import (
	"net/http"
	"strconv"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/servicenet/servicenet/internal/apitest"
)

// TestIfMatchIsStrict: only the current strong ETag, exactly as the API
// writes it, lets an update through; a tag that names no version, a weak tag
// or a non-canonical spelling no longer skips the lost-update check.
func TestIfMatchIsStrict(t *testing.T) {
	t.Parallel()
	env := apitest.Shared(t)
	admin := env.CreateTenant(t, "if-match-strict").AdminKey

	// Bring the tenant to a version > 1.
	etag := ""
	for i := range 3 {
		r := env.Do(t, http.MethodPatch, "/v1/tenant", admin, map[string]any{"name": "Brand strict " + strconv.Itoa(i)})
		require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
		etag = r.Header.Get("ETag")
	}
	current := etag[2 : len(etag)-1] // "v4" → 4
	require.NotEqual(t, "1", current)
	name := func() string {
		r := env.Do(t, http.MethodGet, "/v1/tenant", admin, nil)
		require.Equal(t, http.StatusOK, r.Status)
		require.Equal(t, etag, r.Header.Get("ETag"), "nothing changed")
		return r.JSON(t)["name"].(string)
	}
	before := name()

	for _, c := range []struct {
		name, ifMatch string
		status        int
		code          string
	}{
		{"VersionZero", `"v0"`, http.StatusPreconditionFailed, "precondition_failed"},
		{"WeakCurrent", `W/` + etag, http.StatusPreconditionFailed, "precondition_failed"},
		{"WeakZero", `W/"v0"`, http.StatusPreconditionFailed, "precondition_failed"},
		{"Stale", `"v1"`, http.StatusPreconditionFailed, "precondition_failed"},
		{"DoubleZero", `"v00"`, http.StatusBadRequest, "malformed_request"},
		{"LeadingZero", `"v0` + current + `"`, http.StatusBadRequest, "malformed_request"},
		{"Unquoted", `v` + current, http.StatusBadRequest, "malformed_request"},
		{"Star", `*`, http.StatusBadRequest, "malformed_request"},
		{"List", etag + `, "v1"`, http.StatusBadRequest, "malformed_request"},
		{"Negative", `"v-` + current + `"`, http.StatusBadRequest, "malformed_request"},
		{"Garbage", `garbage`, http.StatusBadRequest, "malformed_request"},
		{"Huge", `"v99999999999999999999999"`, http.StatusBadRequest, "malformed_request"},
	} {
		t.Run(c.name, func(t *testing.T) {
			r := env.Do(t, http.MethodPatch, "/v1/tenant", admin, map[string]any{"name": "Brand overwritten"}, "If-Match: "+c.ifMatch)
			requireProblem(t, r, c.status, c.code, "header.If-Match")
			require.Equal(t, before, name())
		})
	}

	r := env.Do(t, http.MethodPatch, "/v1/tenant", admin, map[string]any{"name": "Brand strict, current"}, "If-Match: "+etag)
	require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
	require.Equal(t, "Brand strict, current", r.JSON(t)["name"])
}

// TestActionsRequireIfMatch: an action on a ticket or a claim is never taken
// blind. Without If-Match it is 428 naming header.If-Match and changes
// nothing, but only for a caller who can see the object: another tenant's
// or an out-of-scope object is 404 first, with or without If-Match. A stale
// ETag is 412; the current one acts.
func TestActionsRequireIfMatch(t *testing.T) {
	t.Parallel()
	env := apitest.Shared(t)
	w := newWasherShop(t, env, "if-match-required")
	other := env.CreateTenant(t, "if-match-required-other").AdminKey
	storefront, _ := env.Key(t, w.admin, "storefront") // sees only its storefront's tickets and claims

	// read returns an object's state and ETag.
	read := func(t *testing.T, path string) (state, etag string) {
		t.Helper()
		r := env.Do(t, http.MethodGet, path, w.admin, nil)
		require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
		return r.JSON(t)["state"].(string), r.Header.Get("ETag")
	}
	// refusals checks the refusals of action on path, whose ETag was stale
	// and is now current, then takes it with current and returns the result.
	// The storefront key is out of scope of the object: it tries its own
	// action on it (a storefront cannot review a claim).
	refusals := func(t *testing.T, path, action string, body any, stale, current, sfAction string, sfBody any) map[string]any {
		t.Helper()
		state, etag := read(t, path)
		require.Equal(t, current, etag)
		require.NotEqual(t, stale, current)
		unchanged := func(t *testing.T) {
			t.Helper()
			s, e := read(t, path)
			require.Equal(t, state, s)
			require.Equal(t, current, e, "nothing changed")
		}
		t.Run("AbsentIs428", func(t *testing.T) {
			r := env.Do(t, http.MethodPost, path+"/"+action, w.admin, body)
			requireProblem(t, r, http.StatusPreconditionRequired, "precondition_required", "header.If-Match")
			unchanged(t)
		})
		t.Run("StaleIs412", func(t *testing.T) {
			r := env.Do(t, http.MethodPost, path+"/"+action, w.admin, body, "If-Match: "+stale)
			requireProblem(t, r, http.StatusPreconditionFailed, "precondition_failed", "header.If-Match")
			unchanged(t)
		})
		t.Run("AnotherTenantsIs404", func(t *testing.T) {
			for _, h := range [][]string{nil, {"If-Match: " + current}} {
				r := env.Do(t, http.MethodPost, path+"/"+action, other, body, h...)
				requireProblem(t, r, http.StatusNotFound, "not_found", "")
			}
			unchanged(t)
		})
		t.Run("OutOfScopeIs404", func(t *testing.T) {
			for _, h := range [][]string{nil, {"If-Match: " + current}} {
				r := env.Do(t, http.MethodPost, path+"/"+sfAction, storefront, sfBody, h...)
				requireProblem(t, r, http.StatusNotFound, "not_found", "")
			}
			unchanged(t)
		})
		r := env.Do(t, http.MethodPost, path+"/"+action, w.admin, body, "If-Match: "+current)
		require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
		require.NotEqual(t, current, r.Header.Get("ETag"))
		return r.JSON(t)
	}

	t.Run("Ticket", func(t *testing.T) {
		r := env.Do(t, http.MethodPost, "/v1/tickets", w.admin, map[string]any{"channel": "hotline", "type": "repair",
			"contact": map[string]any{"name": "钱七", "phone": "+86 139 0000 0001"},
			"address": map[string]any{"region_code": "370212", "line": "海尔路 1 号"},
			"unit":    map[string]any{"unit_id": w.unit}, "fault": map[string]any{"symptom": "不脱水"}})
		require.Equal(t, http.StatusCreated, r.Status, "%s", r.Body)
		path := "/v1/tickets/" + r.JSON(t)["id"].(string)
		first := r.Header.Get("ETag")
		r = env.Do(t, http.MethodPost, path+"/info", w.admin, map[string]any{"fault": map[string]any{"symptom": "不脱水，有异响"}},
			"If-Match: "+first)
		require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)

		cancel := map[string]any{"reason": "客户撤销"}
		tk := refusals(t, path, "cancel", cancel, first, r.Header.Get("ETag"), "cancel", cancel)
		require.Equal(t, "cancelled", tk["state"])
	})

	t.Run("Claim", func(t *testing.T) {
		r := env.Do(t, http.MethodPost, "/v1/claims", w.admin, w.claim("extended_warranty", w.unit, "IFM-1", "power_surge",
			labor(10000), w.boardLine(30000)))
		require.Equal(t, http.StatusCreated, r.Status, "%s", r.Body)
		id := r.JSON(t)["id"].(string)
		first := r.Header.Get("ETag")
		m := waitClaim(t, env, w.admin, id, "submitted")
		if m["state"] == "under_review" { // the job moves it on in the same transaction
			m = waitClaim(t, env, w.admin, id, "under_review")
		}
		require.Equal(t, "approved", m["state"], "%v", m)
		_, current := read(t, "/v1/claims/"+id)

		c := refusals(t, "/v1/claims/"+id, "mark-paid", map[string]any{"payment_reference": "PAY-IFM-1"}, first, current,
			"withdraw", map[string]any{"reason": "probe"})
		require.Equal(t, "paid", c["state"])
	})
}
