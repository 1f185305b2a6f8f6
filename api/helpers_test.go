package api_test

import (
	"net/http"
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
