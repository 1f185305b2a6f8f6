package api_test

import (
	"context"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/servicenet/servicenet/internal/apitest"
	"github.com/servicenet/servicenet/internal/pg"
)

// leakMarkers are fragments of SQL, driver errors and stack traces that no
// client-facing problem may contain.
var leakMarkers = []string{"SELECT ", "INSERT INTO", "UPDATE ", "DELETE FROM", "SQLSTATE", "pgx", "pgconn",
	"goroutine ", ".go:", "runtime.", "panic"}

// tenantCount is the number of tenants the operator can list.
func tenantCount(t testing.TB, env *apitest.Env) int {
	t.Helper()
	r := env.Do(t, http.MethodGet, "/v1/platform/tenants?limit=200", apitest.OperatorToken, nil)
	require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
	m := r.JSON(t)
	require.Empty(t, m["next_cursor"], "more than one page of tenants")
	return len(m["data"].([]any))
}

// TestBadInput sends requests that are wrong in one way each and checks that
// every one is a 4xx problem with a stable code that names what is wrong,
// shows nothing of the server's internals and changes nothing.
func TestBadInput(t *testing.T) {
	t.Parallel()
	env := apitest.New(t)
	ten := env.CreateTenant(t, "bad-input")
	admin := ten.AdminKey
	dispatcher, _ := env.Key(t, admin, "dispatcher")

	revoked, revokedID := env.Key(t, admin, "dispatcher")
	r := env.Do(t, http.MethodPost, "/v1/api-keys/"+revokedID+"/revoke", admin, nil)
	require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)

	// An expiring key, then expired behind the API's back (the API refuses a
	// past expires_at). RLS is forced even for the owner: scope the update.
	r = env.Do(t, http.MethodPost, "/v1/api-keys", admin, map[string]any{"name": "expiring", "roles": []string{"dispatcher"},
		"expires_at": time.Now().Add(time.Hour).Format(time.RFC3339)})
	require.Equal(t, http.StatusCreated, r.Status, "%s", r.Body)
	expired, expiredID := r.JSON(t)["secret"].(string), r.JSON(t)["id"].(string)
	require.Equal(t, http.StatusOK, env.Do(t, http.MethodGet, "/v1/me", expired, nil).Status, "works before it expires")
	ctx := context.Background()
	require.NoError(t, pg.InTenantTx(ctx, env.DB.Owner, ten.ID, func(tx pg.TenantTx) error {
		tag, err := tx.Exec(ctx, `UPDATE api_keys SET expires_at = now() - interval '1 minute' WHERE tenant_id = $1 AND id = $2`, tx.TenantID, expiredID)
		if err == nil && tag.RowsAffected() != 1 {
			t.Fatalf("expired %d keys", tag.RowsAffected())
		}
		return err
	}))

	// A stale ETag: read, then someone else updates.
	r = env.Do(t, http.MethodGet, "/v1/tenant", admin, nil)
	require.Equal(t, http.StatusOK, r.Status)
	staleETag := r.Header.Get("ETag")
	r = env.Do(t, http.MethodPatch, "/v1/tenant", admin, map[string]any{"name": "Brand bad input, renamed"}, "If-Match: "+staleETag)
	require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
	require.NotEqual(t, staleETag, r.Header.Get("ETag"))

	validKey := `{"name":"never created","roles":["agent"]}`
	oversize := `{"name":"never created","roles":["agent"],"node_id":"` + strings.Repeat("x", 17<<10) + `"}`
	cases := []struct {
		name         string
		method, path string
		credential   string
		body         any
		headers      []string
		status       int
		code         string
		// where names the offending input: an errors[].location, or, for
		// problems without field details, a fragment of the detail. Huma
		// reports a missing required property at "body" and names it in the
		// message: "message:<fragment>" matches an errors[].message.
		where string
	}{
		// Bodies.
		{"MalformedJSON", "POST", "/v1/api-keys", admin, `{"name": "x", "roles": [`, nil, 400, "malformed_request", "body"},
		{"NotAnObject", "POST", "/v1/api-keys", admin, `["agent"]`, nil, 422, "invalid", "body"},
		{"EmptyBody", "POST", "/v1/api-keys", admin, ``, nil, 400, "malformed_request", "body"},
		{"UnknownField", "POST", "/v1/api-keys", admin, `{"name":"x","roles":["agent"],"role":"admin"}`, nil, 422, "invalid", "body.role"},
		{"WrongTypeString", "POST", "/v1/api-keys", admin, `{"name":5,"roles":["agent"]}`, nil, 422, "invalid", "body.name"},
		{"WrongTypeArray", "POST", "/v1/api-keys", admin, `{"name":"x","roles":"agent"}`, nil, 422, "invalid", "body.roles"},
		{"BadTimestamp", "POST", "/v1/api-keys", admin, `{"name":"x","roles":["agent"],"expires_at":"tomorrow"}`, nil, 422, "invalid", "body.expires_at"},
		{"PastExpiry", "POST", "/v1/api-keys", admin, `{"name":"x","roles":["agent"],"expires_at":"2001-01-01T00:00:00Z"}`, nil, 422, "invalid", "body.expires_at"},
		{"MissingRoles", "POST", "/v1/api-keys", admin, `{"name":"x"}`, nil, 422, "invalid", "message:property roles"},
		{"UnknownRole", "POST", "/v1/api-keys", admin, `{"name":"x","roles":["agent","wizard"]}`, nil, 422, "invalid", "body.roles[1]"},
		{"BadNodeID", "POST", "/v1/api-keys", admin, `{"name":"x","roles":["node_manager"],"node_id":"node-1"}`, nil, 422, "invalid", "body.node_id"},
		{"OversizeBody", "POST", "/v1/api-keys", admin, oversize, nil, 413, "body_too_large", "request body is too large"},
		{"OversizeBodyIdempotent", "POST", "/v1/api-keys", admin, oversize, []string{"Idempotency-Key: big"}, 413, "body_too_large", "request body is too large"},
		{"NotJSON", "POST", "/v1/api-keys", admin, validKey, []string{"Content-Type: text/plain"}, 415, "unsupported_media_type", "body"},
		{"EmptyTenantName", "PATCH", "/v1/tenant", admin, `{"name":""}`, nil, 422, "invalid", "body.name"},
		{"UnknownTimeZone", "PATCH", "/v1/tenant", admin, `{"time_zone":"Mars/Olympus_Mons"}`, nil, 422, "invalid", "body.time_zone"},

		// Query parameters.
		{"BadCursor", "GET", "/v1/api-keys?cursor=not-a-cursor", admin, nil, nil, 422, "invalid", "query.cursor"},
		{"OtherListsCursor", "GET", "/v1/api-keys?cursor=" + "ZXZlbnRzOjE", admin, nil, nil, 422, "invalid", "query.cursor"},
		{"BadEventCursor", "GET", "/v1/events?cursor=bm90LWEtY3Vyc29y", admin, nil, nil, 422, "invalid", "query.cursor"},
		{"LongCursor", "GET", "/v1/events?cursor=" + strings.Repeat("A", 600), admin, nil, nil, 422, "invalid", "query.cursor"},
		{"LimitZero", "GET", "/v1/api-keys?limit=0", admin, nil, nil, 422, "invalid", "query.limit"},
		{"LimitHuge", "GET", "/v1/events?limit=100000", admin, nil, nil, 422, "invalid", "query.limit"},
		{"LimitNegative", "GET", "/v1/events?limit=-1", admin, nil, nil, 422, "invalid", "query.limit"},
		{"LimitNotANumber", "GET", "/v1/api-keys?limit=abc", admin, nil, nil, 422, "invalid", "query.limit"},
		{"LimitOverflow", "GET", "/v1/api-keys?limit=99999999999999999999999", admin, nil, nil, 422, "invalid", "query.limit"},
		{"UnknownQueryParameter", "GET", "/v1/api-keys?tenant_id=" + ten.ID, admin, nil, nil, 422, "invalid", "query.tenant_id"},
		{"UnknownEnumValue", "GET", "/v1/api-keys?status=deleted", admin, nil, nil, 422, "invalid", "query.status"},

		// Credentials.
		{"NoAuthorization", "GET", "/v1/api-keys", "", nil, nil, 401, "unauthenticated", "header.Authorization"},
		{"BasicScheme", "GET", "/v1/api-keys", "", nil, []string{"Authorization: Basic " + "YWRtaW46YWRtaW4="}, 401, "unauthenticated", "header.Authorization"},
		{"RawKeyWithoutScheme", "GET", "/v1/api-keys", "", nil, []string{"Authorization: " + admin}, 401, "unauthenticated", "header.Authorization"},
		{"EmptyBearer", "POST", "/v1/api-keys", "", validKey, []string{"Authorization: Bearer "}, 401, "unauthenticated", "header.Authorization"},
		{"NotAnAPIKey", "GET", "/v1/api-keys", "definitely-not-a-key", nil, nil, 401, "unauthenticated", "header.Authorization"},
		{"UnknownKey", "POST", "/v1/api-keys", "sn_live_" + strings.Repeat("a", 52), validKey, nil, 401, "unauthenticated", "header.Authorization"},
		{"RevokedKey", "GET", "/v1/me", revoked, nil, nil, 401, "unauthenticated", "header.Authorization"},
		{"ExpiredKey", "POST", "/v1/api-keys", expired, validKey, nil, 401, "unauthenticated", "header.Authorization"},
		{"OperatorTokenOnTenantOperation", "GET", "/v1/api-keys", apitest.OperatorToken, nil, nil, 401, "unauthenticated", "header.Authorization"},
		{"OperatorTokenCreatingKey", "POST", "/v1/api-keys", apitest.OperatorToken, validKey, nil, 401, "unauthenticated", "header.Authorization"},
		{"TenantKeyOnPlatformList", "GET", "/v1/platform/tenants", admin, nil, nil, 401, "unauthenticated", "header.Authorization"},
		{"TenantKeyCreatingTenant", "POST", "/v1/platform/tenants", admin, `{"name":"Sneaky","slug":"sneaky"}`, nil, 401, "unauthenticated", "header.Authorization"},
		{"TenantKeyReadingTenant", "GET", "/v1/platform/tenants/" + ten.ID, admin, nil, nil, 401, "unauthenticated", "header.Authorization"},
		{"RoleWithoutPermission", "POST", "/v1/api-keys", dispatcher, validKey, nil, 403, "forbidden", "api_keys.create"},

		// Preconditions.
		{"MalformedIfMatch", "PATCH", "/v1/tenant", admin, `{"name":"Not applied"}`, []string{"If-Match: yesterday's"}, 400, "malformed_request", "header.If-Match"},
		{"OverflowingIfMatch", "PATCH", "/v1/tenant", admin, `{"name":"Not applied"}`, []string{`If-Match: "v99999999999999999999"`}, 400, "malformed_request", "header.If-Match"},
		{"StaleIfMatch", "PATCH", "/v1/tenant", admin, `{"name":"Not applied"}`, []string{"If-Match: " + staleETag}, 412, "precondition_failed", "If-Match"},
		{"FutureIfMatch", "PATCH", "/v1/tenant", admin, `{"name":"Not applied"}`, []string{`If-Match: "v999"`}, 412, "precondition_failed", "If-Match"},

		// Path parameters.
		{"BadKeyID", "GET", "/v1/api-keys/not-an-id", admin, nil, nil, 404, "not_found", "api key not found"},
		{"KeyIDOfWrongKind", "GET", "/v1/api-keys/" + ten.ID, admin, nil, nil, 404, "not_found", "api key not found"},
		{"OverlongKeyID", "GET", "/v1/api-keys/key_" + strings.Repeat("0", 100), admin, nil, nil, 422, "invalid", "path.key_id"},
		{"SQLishKeyID", "GET", "/v1/api-keys/key_'%20OR%201=1--", admin, nil, nil, 404, "not_found", "api key not found"},
		{"NULByteKeyID", "GET", "/v1/api-keys/key_%00", admin, nil, nil, 422, "invalid", "path.key_id"},
		{"InvalidUTF8KeyID", "GET", "/v1/api-keys/key_%FF", admin, nil, nil, 422, "invalid", "path.key_id"},
		{"RevokeBadKeyID", "POST", "/v1/api-keys/not-an-id/revoke", admin, nil, nil, 404, "not_found", "api key not found"},
		{"BadTenantID", "GET", "/v1/platform/tenants/not-an-id", apitest.OperatorToken, nil, nil, 404, "not_found", "tenant not found"},

		// Routing.
		{"UnknownPath", "GET", "/v1/api-key", admin, nil, nil, 404, "not_found", "no such endpoint"},
		{"WrongMethod", "DELETE", "/v1/api-keys", admin, nil, nil, 405, "method_not_allowed", "method not allowed"},
	}

	type state struct {
		events, keys, tenants int
		etag                  string
	}
	snapshot := func(t *testing.T) state {
		events, _ := feedAfterMarker(t, env, admin)
		r := env.Do(t, http.MethodGet, "/v1/tenant", admin, nil)
		require.Equal(t, http.StatusOK, r.Status)
		return state{events: len(events), keys: len(listKeys(t, env, admin)), tenants: tenantCount(t, env), etag: r.Header.Get("ETag")}
	}

	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			before := snapshot(t)
			r := env.Do(t, c.method, c.path, c.credential, c.body, c.headers...)

			require.Equal(t, c.status, r.Status, "%s", r.Body)
			require.Equal(t, "application/problem+json", r.Header.Get("Content-Type"))
			m := r.JSON(t)
			require.Equal(t, c.code, m["code"], "%s", r.Body)
			require.Equal(t, "urn:servicenet:problem:"+c.code, m["type"])
			require.EqualValues(t, c.status, m["status"])
			require.Equal(t, r.Header.Get("X-Request-Id"), m["request_id"])
			var locations, messages []string
			errs, _ := m["errors"].([]any)
			for _, e := range errs {
				locations = append(locations, e.(map[string]any)["location"].(string))
				messages = append(messages, e.(map[string]any)["message"].(string))
			}
			detail, _ := m["detail"].(string)
			if fragment, ok := strings.CutPrefix(c.where, "message:"); ok {
				require.True(t, slices.ContainsFunc(messages, func(m string) bool { return strings.Contains(m, fragment) }),
					"no error message names %q: %s", fragment, r.Body)
			} else {
				require.True(t, strings.Contains(detail, c.where) || slices.Contains(locations, c.where),
					"problem names neither location %q nor has it in its detail: %s", c.where, r.Body)
			}
			requireNoInternals(t, r)
			if c.status == http.StatusUnauthorized {
				// instance echoes the request path, which may name the tenant.
				rest := strings.ReplaceAll(string(r.Body), m["instance"].(string), "")
				require.NotContains(t, rest, ten.ID, "a refused credential learns nothing of the tenant")
			}

			// Nothing changed: the second snapshot's marker is the only new
			// event and key.
			after := snapshot(t)
			require.Equal(t, before.events+1, after.events, "events were recorded")
			require.Equal(t, before.keys+1, after.keys, "keys were created")
			require.Equal(t, before.tenants, after.tenants, "tenants were created")
			require.Equal(t, before.etag, after.etag, "the tenant was updated")
		})
	}

	// The refused credentials still do not work, and the expired key lists
	// as expired.
	for _, k := range listKeys(t, env, admin) {
		switch k.ID {
		case revokedID:
			require.Equal(t, "revoked", k.Status)
		case expiredID:
			require.Equal(t, "expired", k.Status)
		}
	}
	require.Empty(t, keysNamed(listKeys(t, env, admin), "never created"))
	logs := env.Logs.String()
	require.NotContains(t, logs, `"msg":"request failed"`, "no bad input is a server error")
	require.NotContains(t, logs, `"msg":"panic"`, "no bad input is a server error")
	require.NotContains(t, logs, `"status":5`, "no bad input is a server error")
}
