package api_test

import (
	"net/http"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/servicenet/servicenet/internal/apitest"
)

// listIDs GETs a list and returns the ids of its data, in order.
func listIDs(t *testing.T, env *apitest.Env, key, path string) []string {
	t.Helper()
	r := env.Do(t, http.MethodGet, path, key, nil)
	require.Equal(t, http.StatusOK, r.Status, "%s: %s", path, r.Body)
	ids := []string{}
	for _, d := range r.JSON(t)["data"].([]any) {
		ids = append(ids, d.(map[string]any)["id"].(string))
	}
	return ids
}

// objectID matches an object's id (prefix_ULID, tenants.NewID).
var objectID = regexp.MustCompile(`\b[a-z]+_[0-9a-z]{26}\b`)

// requireNoInternals fails when a response shows SQL, driver errors or stack
// traces. The request id and object ids are random base32 and may spell
// anything ("whk_…74pgxpvek…"), so they are left out.
func requireNoInternals(t *testing.T, r *apitest.Response) {
	t.Helper()
	shown := withoutRequestID(t, r)
	shown = objectID.ReplaceAllString(shown, "")
	for _, s := range leakMarkers {
		require.NotContains(t, shown, s, "the response shows internals")
	}
}

// withoutRequestID is r's body without its request id (the X-Request-Id
// header, echoed as a problem's request_id): random base32 that may spell
// anything a leak check looks for ("…8dk8bnetg").
func withoutRequestID(t *testing.T, r *apitest.Response) string {
	t.Helper()
	shown := string(r.Body)
	if id := r.Header.Get("X-Request-Id"); id != "" {
		shown = strings.ReplaceAll(shown, id, "")
	}
	return shown
}
