package api_test

import (
	"net/http"
	"net/url"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/servicenet/servicenet/internal/apitest"
	"github.com/servicenet/servicenet/tenants"
)

// TestCursorWithUnstorableKeyIs422 sends each list a cursor of its own kind
// whose sort key PostgreSQL text cannot hold (invalid UTF-8, a NUL): a
// damaged or forged cursor is the client's mistake, 422 on query.cursor,
// never a 500 from the driver.
func TestCursorWithUnstorableKeyIs422(t *testing.T) {
	t.Parallel()
	env := apitest.New(t)
	admin := env.CreateTenant(t, "cursor-bytes").AdminKey
	lists := map[string]string{"/v1/api-keys": "api_keys", "/v1/webhooks": "webhook_endpoints", "/v1/customers": "customers",
		"/v1/tickets": "tickets", "/v1/network/nodes": "nodes", "/v1/claims": "claims", "/v1/units": "units",
		"/v1/quality/grade-proposals": "grade_proposals", "/v1/quality/level-proposals": "level_proposals",
		"/v1/network/certifications": "network_certifications"}
	for path, kind := range lists {
		for _, key := range []string{"\xff\xfe", "a\x00b", "2026-01-01T00:00:00Z|\xff"} {
			r := env.Do(t, http.MethodGet, path+"?cursor="+url.QueryEscape(tenants.EncodeCursor(kind, key)), admin, nil)
			require.Equal(t, http.StatusUnprocessableEntity, r.Status, "%s %q: %s", path, key, r.Body)
			m := r.JSON(t)
			require.Equal(t, "invalid", m["code"], "%s", r.Body)
			require.Equal(t, "query.cursor", m["errors"].([]any)[0].(map[string]any)["location"], "%s", r.Body)
		}
	}
}
