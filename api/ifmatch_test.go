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
	env := apitest.New(t)
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
