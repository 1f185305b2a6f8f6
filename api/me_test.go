package api_test

import (
	"net/http"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/servicenet/servicenet/internal/apitest"
)

func TestMe(t *testing.T) {
	t.Parallel()
	env := apitest.Shared(t)
	ten := env.CreateTenant(t, "acme")

	t.Run("KeyTellsWhoItIs", func(t *testing.T) {
		r := env.Do(t, http.MethodGet, "/v1/me", ten.AdminKey, nil)
		require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
		m := r.JSON(t)
		require.Equal(t, ten.ID, m["tenant"].(map[string]any)["id"])
		require.Equal(t, ten.AdminID, m["key"].(map[string]any)["id"])
		require.Contains(t, m["permissions"], "api_keys.create")
		require.NotEmpty(t, r.Header.Get("X-Request-Id"))
	})
	t.Run("NoKeyIs401Problem", func(t *testing.T) {
		r := env.Do(t, http.MethodGet, "/v1/me", "", nil)
		require.Equal(t, http.StatusUnauthorized, r.Status)
		require.Equal(t, "application/problem+json", r.Header.Get("Content-Type"))
		m := r.JSON(t)
		require.Equal(t, "unauthenticated", m["code"])
		require.Equal(t, "header.Authorization", m["errors"].([]any)[0].(map[string]any)["location"])
		require.Equal(t, r.Header.Get("X-Request-Id"), m["request_id"])
	})
}
