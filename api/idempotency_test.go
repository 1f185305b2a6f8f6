package api_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/servicenet/servicenet/internal/apitest"
	"github.com/servicenet/servicenet/internal/pg"
)

// feedEvent is an entry of GET /v1/events.
type feedEvent struct {
	ID        string `json:"id"`
	Type      string `json:"type"`
	SubjectID string `json:"subject_id"`
}

// readFeed reads the tenant's whole event feed through the API.
func readFeed(t testing.TB, env *apitest.Env, key string) []feedEvent {
	t.Helper()
	var all []feedEvent
	cursor := ""
	for {
		r := env.Do(t, http.MethodGet, "/v1/events?limit=200&cursor="+url.QueryEscape(cursor), key, nil)
		require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
		var page struct {
			Data       []feedEvent `json:"data"`
			NextCursor string      `json:"next_cursor"`
		}
		require.NoError(t, json.Unmarshal(r.Body, &page))
		if len(page.Data) == 0 {
			return all
		}
		all = append(all, page.Data...)
		cursor = page.NextCursor
	}
}

// feedAfterMarker issues a marker key, waits until its api_key.created event
// is readable (the feed hides events of transactions older than the oldest
// running one, so everything committed before the marker is then visible
// too) and returns the whole feed and the marker's key ID.
func feedAfterMarker(t testing.TB, env *apitest.Env, adminKey string) ([]feedEvent, string) {
	t.Helper()
	r := env.Do(t, http.MethodPost, "/v1/api-keys", adminKey, map[string]any{"name": "marker", "roles": []string{"auditor"}})
	require.Equal(t, http.StatusCreated, r.Status, "marker: %s", r.Body)
	marker := r.JSON(t)["id"].(string)
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		events := readFeed(t, env, adminKey)
		for _, e := range events {
			if e.SubjectID == marker {
				return events, marker
			}
		}
	}
	t.Fatal("the marker's event never showed in the feed")
	return nil, ""
}

func countType(events []feedEvent, typ string) int {
	n := 0
	for _, e := range events {
		if e.Type == typ {
			n++
		}
	}
	return n
}

// apiKey is an entry of GET /v1/api-keys.
type apiKey struct {
	ID     string `json:"id"`
	Name   string `json:"name"`
	Status string `json:"status"`
}

// listKeys lists all of the tenant's API keys through the API.
func listKeys(t testing.TB, env *apitest.Env, adminKey string) []apiKey {
	t.Helper()
	var all []apiKey
	cursor := ""
	for {
		r := env.Do(t, http.MethodGet, "/v1/api-keys?limit=200&cursor="+url.QueryEscape(cursor), adminKey, nil)
		require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
		var page struct {
			Data       []apiKey `json:"data"`
			NextCursor string   `json:"next_cursor"`
		}
		require.NoError(t, json.Unmarshal(r.Body, &page))
		all = append(all, page.Data...)
		if page.NextCursor == "" {
			return all
		}
		cursor = page.NextCursor
	}
}

func keysNamed(ks []apiKey, name string) []apiKey {
	var out []apiKey
	for _, k := range ks {
		if k.Name == name {
			out = append(out, k)
		}
	}
	return out
}

// sqlKeysNamed counts the tenant's api_keys rows with name, reading the table
// as the owner inside a tenant-scoped transaction (RLS is forced even for
// the owner).
func sqlKeysNamed(t testing.TB, env *apitest.Env, tenantID, name string) int {
	t.Helper()
	ctx := context.Background()
	var n int
	require.NoError(t, pg.InTenantTx(ctx, env.DB.Owner, tenantID, func(tx pg.TenantTx) error {
		return tx.QueryRow(ctx, `SELECT count(*) FROM api_keys WHERE tenant_id = $1 AND name = $2`, tx.TenantID, name).Scan(&n)
	}))
	return n
}

// fire sends n copies of one request at once (released together) and
// returns every response. It does not use require: it runs off the test
// goroutine.
func fire(t *testing.T, env *apitest.Env, n int, method, path, credential string, body string, headers ...string) []*apitest.Response {
	t.Helper()
	out := make([]*apitest.Response, n)
	errs := make([]error, n)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			out[i], errs[i] = sendRequest(env, method, path, credential, body, headers...)
		}()
	}
	close(start)
	wg.Wait()
	for _, err := range errs {
		require.NoError(t, err)
	}
	return out
}

func sendRequest(env *apitest.Env, method, path, credential, body string, headers ...string) (*apitest.Response, error) {
	req, err := http.NewRequest(method, env.Server.URL+path, strings.NewReader(body))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+credential)
	for _, h := range headers {
		k, v, _ := strings.Cut(h, ":")
		req.Header.Set(strings.TrimSpace(k), strings.TrimSpace(v))
	}
	resp, err := env.Server.Client().Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return &apitest.Response{Status: resp.StatusCode, Header: resp.Header, Body: b}, err
}

// retryWhileBusy repeats a request while it answers 409
// idempotency_key_in_use: the first request's response is stored just after
// it is sent, so an immediate retry may still find the key in progress.
func retryWhileBusy(t *testing.T, env *apitest.Env, method, path, credential string, body any, headers ...string) *apitest.Response {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		r := env.Do(t, method, path, credential, body, headers...)
		if r.Status != http.StatusConflict || time.Now().After(deadline) {
			return r
		}
		require.Equal(t, "idempotency_key_in_use", r.JSON(t)["code"], "%s", r.Body)
		time.Sleep(10 * time.Millisecond)
	}
}

// requireProblem asserts r is a problem+json with status and code, one of
// whose errors is at location, and returns it.
func requireProblem(t testing.TB, r *apitest.Response, status int, code, location string) map[string]any {
	t.Helper()
	require.Equal(t, status, r.Status, "%s", r.Body)
	require.Equal(t, "application/problem+json", r.Header.Get("Content-Type"))
	m := r.JSON(t)
	require.Equal(t, code, m["code"], "%s", r.Body)
	require.Equal(t, r.Header.Get("X-Request-Id"), m["request_id"])
	if location != "" {
		var locs []string
		errs, _ := m["errors"].([]any)
		for _, e := range errs {
			locs = append(locs, e.(map[string]any)["location"].(string))
		}
		require.Contains(t, locs, location, "%s", r.Body)
	}
	return m
}

// splitResponses checks that a burst of one idempotent request produced one
// first response and only replays of it or 409 idempotency_key_in_use, and
// returns the first response.
func splitResponses(t *testing.T, rs []*apitest.Response) *apitest.Response {
	t.Helper()
	var first *apitest.Response
	var replays, busy int
	for _, r := range rs {
		switch r.Status {
		case http.StatusCreated:
			if r.Header.Get("Idempotent-Replayed") == "true" {
				replays++
				continue
			}
			if first != nil {
				t.Fatalf("two requests with one Idempotency-Key both ran:\n%s\n%s", first.Body, r.Body)
			}
			first = r
		case http.StatusConflict:
			busy++
			requireProblem(t, r, http.StatusConflict, "idempotency_key_in_use", "header.Idempotency-Key")
			require.NotEmpty(t, r.Header.Get("Retry-After"))
		default:
			t.Fatalf("unexpected %d: %s", r.Status, r.Body)
		}
	}
	require.NotNil(t, first, "no request ran")
	for _, r := range rs {
		if r.Status == http.StatusCreated {
			requireReplayOf(t, first, r)
			require.Equal(t, first.Header.Get("Location"), r.Header.Get("Location"))
		}
	}
	t.Logf("%d requests: 1 ran, %d replayed, %d told to retry", len(rs), replays, busy)
	return first
}

func TestIdempotencyKey(t *testing.T) {
	t.Parallel()
	env := apitest.New(t)
	ten := env.CreateTenant(t, "idem")

	t.Run("ConcurrentRetriesCreateOneKey", func(t *testing.T) {
		before, _ := feedAfterMarker(t, env, ten.AdminKey)
		const name = "concurrent key"
		body := `{"name":"concurrent key","roles":["dispatcher"]}`
		rs := fire(t, env, 50, http.MethodPost, "/v1/api-keys", ten.AdminKey, body, "Idempotency-Key: burst-1")
		first := splitResponses(t, rs)
		id := first.JSON(t)["id"].(string)
		require.Equal(t, "/v1/api-keys/"+id, first.Header.Get("Location"))

		// A later retry, even with the JSON reformatted, is a replay.
		r := retryWhileBusy(t, env, http.MethodPost, "/v1/api-keys", ten.AdminKey,
			"{\n  \"roles\": [\"dispatcher\"],  \"name\": \"concurrent key\"\n}", "Idempotency-Key: burst-1")
		require.Equal(t, http.StatusCreated, r.Status, "%s", r.Body)
		require.Equal(t, "true", r.Header.Get("Idempotent-Replayed"))
		requireReplayOf(t, first, r)

		after, marker := feedAfterMarker(t, env, ten.AdminKey)
		require.Len(t, keysNamed(listKeys(t, env, ten.AdminKey), name), 1)
		require.Equal(t, 1, sqlKeysNamed(t, env, ten.ID, name))
		// One created key plus the marker.
		require.Equal(t, countType(before, "api_key.created")+2, countType(after, "api_key.created"))
		var subjects []string
		for _, e := range after[len(before):] {
			subjects = append(subjects, e.SubjectID)
		}
		require.ElementsMatch(t, []string{id, marker}, subjects)
		require.NotContains(t, env.Logs.String(), `"status":500`)
	})

	t.Run("SameKeyDifferentBodyIsRefused", func(t *testing.T) {
		r := env.Do(t, http.MethodPost, "/v1/api-keys", ten.AdminKey, map[string]any{"name": "reused a", "roles": []string{"agent"}},
			"Idempotency-Key: reuse-1")
		require.Equal(t, http.StatusCreated, r.Status, "%s", r.Body)
		before, _ := feedAfterMarker(t, env, ten.AdminKey)

		for _, c := range []struct {
			name, path string
			body       any
		}{
			{"OtherName", "/v1/api-keys", map[string]any{"name": "reused b", "roles": []string{"agent"}}},
			{"OtherRoles", "/v1/api-keys", map[string]any{"name": "reused a", "roles": []string{"auditor"}}},
			{"OtherOperation", "/v1/api-keys/" + r.JSON(t)["id"].(string) + "/revoke", nil},
		} {
			t.Run(c.name, func(t *testing.T) {
				r := retryWhileBusy(t, env, http.MethodPost, c.path, ten.AdminKey, c.body, "Idempotency-Key: reuse-1")
				m := requireProblem(t, r, http.StatusUnprocessableEntity, "idempotency_key_reused", "header.Idempotency-Key")
				require.Equal(t, "urn:servicenet:problem:idempotency_key_reused", m["type"])
			})
		}

		after, _ := feedAfterMarker(t, env, ten.AdminKey)
		require.Len(t, after, len(before)+1, "only the marker was added")
		ks := listKeys(t, env, ten.AdminKey)
		require.Empty(t, keysNamed(ks, "reused b"))
		require.Len(t, keysNamed(ks, "reused a"), 1)
		for _, k := range keysNamed(ks, "reused a") {
			require.Equal(t, "active", k.Status, "the revoke with a reused key did not run")
		}
	})

	// The claim rides the handler's first statement; a handler that refuses
	// before it has not checked the key, and the middleware does: a retry
	// gets the key's first outcome, never a refusal of its own.
	t.Run("RefusalBeforeTheFirstStatementChecksTheKey", func(t *testing.T) {
		intake := func(reference string) map[string]any {
			b := map[string]any{"channel": "hotline", "type": "repair",
				"contact": map[string]any{"name": "赵六", "phone": "+86 139 1234 5678"},
				"address": map[string]any{"region_code": "370202", "line": "人民路 8 号"},
				"unit":    map[string]any{}, "fault": map[string]any{"symptom": "不脱水"}}
			if reference != "" {
				b["external_reference"] = reference // a storefront's only: refused before any statement
			}
			return b
		}
		count := func() int {
			r := env.Do(t, http.MethodGet, "/v1/tickets?limit=100", ten.AdminKey, nil)
			require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
			return len(r.JSON(t)["data"].([]any))
		}
		r := env.Do(t, http.MethodPost, "/v1/tickets", ten.AdminKey, intake(""), "Idempotency-Key: refused-1")
		require.Equal(t, http.StatusCreated, r.Status, "%s", r.Body)
		first := r.JSON(t)["id"]
		n := count()

		// Another body under the used key: the key's refusal, not the handler's.
		r = retryWhileBusy(t, env, http.MethodPost, "/v1/tickets", ten.AdminKey, intake("REF-1"), "Idempotency-Key: refused-1")
		requireProblem(t, r, http.StatusUnprocessableEntity, "idempotency_key_reused", "header.Idempotency-Key")
		// The same body: the first outcome, replayed.
		r = retryWhileBusy(t, env, http.MethodPost, "/v1/tickets", ten.AdminKey, intake(""), "Idempotency-Key: refused-1")
		require.Equal(t, http.StatusCreated, r.Status, "%s", r.Body)
		require.Equal(t, "true", r.Header.Get("Idempotent-Replayed"))
		require.Equal(t, first, r.JSON(t)["id"])

		// A refusal under a new key is the handler's, and does not use the key.
		r = env.Do(t, http.MethodPost, "/v1/tickets", ten.AdminKey, intake("REF-2"), "Idempotency-Key: refused-2")
		requireProblem(t, r, http.StatusUnprocessableEntity, "invalid", "body.external_reference")
		r = env.Do(t, http.MethodPost, "/v1/tickets", ten.AdminKey, intake(""), "Idempotency-Key: refused-2")
		require.Equal(t, http.StatusCreated, r.Status, "%s", r.Body)
		require.Empty(t, r.Header.Get("Idempotent-Replayed"))
		require.NotEqual(t, first, r.JSON(t)["id"])
		require.Equal(t, n+1, count(), "one ticket per key that succeeded")
	})

	t.Run("KeysAreScopedToTheCredential", func(t *testing.T) {
		otherAdmin, _ := env.Key(t, ten.AdminKey, "tenant_admin")
		other := env.CreateTenant(t, "idem-other")
		body := map[string]any{"name": "scoped key", "roles": []string{"agent"}}
		ids := map[string]bool{}
		for _, cred := range []string{ten.AdminKey, otherAdmin, other.AdminKey} {
			r := env.Do(t, http.MethodPost, "/v1/api-keys", cred, body, "Idempotency-Key: shared-key")
			require.Equal(t, http.StatusCreated, r.Status, "%s", r.Body)
			require.Empty(t, r.Header.Get("Idempotent-Replayed"), "another credential's key must not be replayed")
			ids[r.JSON(t)["id"].(string)] = true
		}
		require.Len(t, ids, 3)
		require.Len(t, keysNamed(listKeys(t, env, ten.AdminKey), "scoped key"), 2)
		require.Len(t, keysNamed(listKeys(t, env, other.AdminKey), "scoped key"), 1)

		// Each credential's own retry replays its own response.
		for _, cred := range []string{ten.AdminKey, otherAdmin, other.AdminKey} {
			r := retryWhileBusy(t, env, http.MethodPost, "/v1/api-keys", cred, body, "Idempotency-Key: shared-key")
			require.Equal(t, http.StatusCreated, r.Status, "%s", r.Body)
			require.Equal(t, "true", r.Header.Get("Idempotent-Replayed"))
			require.True(t, ids[r.JSON(t)["id"].(string)])
		}
		require.Len(t, keysNamed(listKeys(t, env, ten.AdminKey), "scoped key"), 2)
		require.Len(t, keysNamed(listKeys(t, env, other.AdminKey), "scoped key"), 1)
	})

	t.Run("OperatorRetriesCreateOneTenant", func(t *testing.T) {
		body := `{"name":"Brand retried","slug":"retried"}`
		rs := fire(t, env, 10, http.MethodPost, "/v1/platform/tenants", apitest.OperatorToken, body, "Idempotency-Key: tenant-1")
		first := splitResponses(t, rs)
		m := first.JSON(t)
		tenantID := m["tenant"].(map[string]any)["id"].(string)
		r := retryWhileBusy(t, env, http.MethodPost, "/v1/platform/tenants", apitest.OperatorToken, body, "Idempotency-Key: tenant-1")
		require.Equal(t, http.StatusCreated, r.Status, "%s", r.Body)
		require.Equal(t, "true", r.Header.Get("Idempotent-Replayed"))
		requireReplayOf(t, first, r) // the same tenant and admin key, without the key's secret

		var found []string
		cursor := ""
		for {
			r := env.Do(t, http.MethodGet, "/v1/platform/tenants?limit=200&cursor="+url.QueryEscape(cursor), apitest.OperatorToken, nil)
			require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
			page := r.JSON(t)
			for _, tn := range page["data"].([]any) {
				if tn.(map[string]any)["slug"] == "retried" {
					found = append(found, tn.(map[string]any)["id"].(string))
				}
			}
			next, _ := page["next_cursor"].(string)
			if next == "" {
				break
			}
			cursor = next
		}
		require.Equal(t, []string{tenantID}, found)

		// The new tenant has exactly one key: the admin key in the response.
		admin := m["admin_key"].(map[string]any)["secret"].(string)
		ks := listKeys(t, env, admin)
		require.Len(t, ks, 1)
		require.Equal(t, m["admin_key"].(map[string]any)["id"], ks[0].ID)
	})

	t.Run("InvalidKeyIsRefused", func(t *testing.T) {
		before, _ := feedAfterMarker(t, env, ten.AdminKey)
		body := map[string]any{"name": "badly keyed", "roles": []string{"agent"}}
		for name, key := range map[string]string{
			// Present but empty: refused rather than silently not idempotent.
			"Empty":   "",
			"TooLong": strings.Repeat("k", 256),
			// A control character HTTP allows in a header value (Go's client
			// refuses to send the others).
			"Tab":      "a\tb",
			"Space":    "a b",
			"NonASCII": "clé",
		} {
			t.Run(name, func(t *testing.T) {
				r := env.Do(t, http.MethodPost, "/v1/api-keys", ten.AdminKey, body, "Idempotency-Key: "+key)
				requireProblem(t, r, http.StatusUnprocessableEntity, "invalid", "header.Idempotency-Key")
				require.NotContains(t, string(r.Body), "SELECT")
			})
		}
		after, _ := feedAfterMarker(t, env, ten.AdminKey)
		require.Len(t, after, len(before)+1, "only the marker was added")
		require.Empty(t, keysNamed(listKeys(t, env, ten.AdminKey), "badly keyed"))

		// The longest valid key works.
		r := env.Do(t, http.MethodPost, "/v1/api-keys", ten.AdminKey, body, "Idempotency-Key: "+strings.Repeat("~", 255))
		require.Equal(t, http.StatusCreated, r.Status, "%s", r.Body)
	})

	t.Run("BodylessPostAcceptsAnEmptyObject", func(t *testing.T) {
		// Many clients send {} with every POST; an operation without a
		// request body must not refuse it because of the Idempotency-Key.
		_, id := env.Key(t, ten.AdminKey, "agent")
		path := "/v1/api-keys/" + id + "/revoke"
		r := env.Do(t, http.MethodPost, path, ten.AdminKey, `{}`, "Idempotency-Key: revoke-1")
		require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
		require.Equal(t, "revoked", r.JSON(t)["status"])
		replay := retryWhileBusy(t, env, http.MethodPost, path, ten.AdminKey, `{}`, "Idempotency-Key: revoke-1")
		require.Equal(t, http.StatusOK, replay.Status, "%s", replay.Body)
		require.Equal(t, "true", replay.Header.Get("Idempotent-Replayed"))
		require.Equal(t, string(r.Body), string(replay.Body))
		require.True(t, bytes.Contains(r.Body, []byte(id)))
	})
}

// requireReplayOf checks that replay answers the same as first, except that
// a replay never shows a credential secret again (secrets are not stored).
func requireReplayOf(t *testing.T, first, replay *apitest.Response) {
	t.Helper()
	if replay.Header.Get("Idempotent-Replayed") != "true" {
		require.Equal(t, string(first.Body), string(replay.Body), "the same request ran twice")
		return
	}
	for _, secret := range regexp.MustCompile(`"secret":"([^"]+)"`).FindAllStringSubmatch(string(first.Body), -1) {
		require.NotContains(t, string(replay.Body), secret[1], "a replay shows a secret")
	}
	var strip func(any) any
	strip = func(v any) any {
		switch x := v.(type) {
		case map[string]any:
			delete(x, "secret")
			for k, e := range x {
				x[k] = strip(e)
			}
		case []any:
			for i, e := range x {
				x[i] = strip(e)
			}
		}
		return v
	}
	require.Equal(t, strip(first.JSON(t)), strip(replay.JSON(t)), "a replay differs from the first response")
}
