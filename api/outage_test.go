package api_test

import (
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/servicenet/servicenet/internal/apitest"
)

// TestDatabaseOutage runs a real server whose database sits behind a proxy
// the test stops (a stopped Postgres: connections refused, open ones cut)
// and freezes (a SIGSTOPped one: nothing answers). Every request that needs
// the database is answered within the request deadline as 503
// database_unavailable with Retry-After, /readyz is 503, and within a second
// of the database's return everything answers again, with no restart.
func TestDatabaseOutage(t *testing.T) {
	t.Parallel()
	const deadline = 1500 * time.Millisecond
	const slack = 700 * time.Millisecond // a loaded two-core machine
	env := apitest.New(t, apitest.Options{Proxied: true, RequestTimeout: deadline})
	t.Cleanup(env.Proxy.Thaw) // before the server stops: its pool must be able to close
	ten := env.CreateTenant(t, "outage")
	r := env.Do(t, http.MethodPost, "/v1/customers", ten.AdminKey, map[string]any{"name": "王丽", "phones": []string{"13800138000"}})
	require.Equal(t, http.StatusCreated, r.Status, "%s", r.Body)
	customer := "/v1/customers/" + r.JSON(t)["id"].(string)

	timed := func(method, path, key string, body any, headers ...string) (*apitest.Response, time.Duration) {
		start := time.Now()
		r := env.Do(t, method, path, key, body, headers...)
		return r, time.Since(start)
	}
	requireUnavailable := func(t *testing.T, what string, r *apitest.Response, took, within time.Duration) {
		t.Helper()
		require.Equal(t, http.StatusServiceUnavailable, r.Status, "%s: %s", what, r.Body)
		require.Equal(t, "application/problem+json", r.Header.Get("Content-Type"), what)
		require.Equal(t, "2", r.Header.Get("Retry-After"), what)
		require.Equal(t, "database_unavailable", r.JSON(t)["code"], what)
		require.Less(t, took, within, "%s took %s", what, took)
		requireNoInternals(t, r)
		t.Logf("%s: 503 in %s", what, took.Round(time.Millisecond))
	}
	// recovers waits for the database's return to show, then repeats the
	// idempotent create that was refused: its key was not kept.
	recovers := func(t *testing.T, body map[string]any) {
		t.Helper()
		back := time.Now()
		for {
			r := env.Do(t, http.MethodGet, customer, ten.AdminKey, nil)
			if r.Status == http.StatusOK {
				break
			}
			require.Equal(t, http.StatusServiceUnavailable, r.Status, "%s", r.Body)
			require.Less(t, time.Since(back), time.Second, "not recovered within a second: %s", r.Body)
			time.Sleep(20 * time.Millisecond)
		}
		t.Logf("recovered in %s", time.Since(back).Round(time.Millisecond))
		r := env.Do(t, http.MethodGet, "/readyz", "", nil)
		require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
		r = env.Do(t, http.MethodPost, "/v1/customers", ten.AdminKey, body, "Idempotency-Key: outage-"+t.Name())
		require.Equal(t, http.StatusCreated, r.Status, "the key of the refused request is free: %s", r.Body)
	}

	t.Run("SlowUploadKeepsItsAllowance", func(t *testing.T) {
		// The import allows a two-minute upload: the request deadline
		// counts from the end of its body, not from its first byte.
		pr, pw := io.Pipe()
		go func() {
			_, _ = io.WriteString(pw, `{"type":"node","external_code":"MFR","name":"示例家电","tier":"manufacturer","status":"active",`)
			time.Sleep(deadline + 300*time.Millisecond)
			_, _ = io.WriteString(pw, `"coverage":["370000"],"categories":["washer"],"service_kinds":["repair"],"daily_capacity":0}`+"\n")
			_ = pw.Close()
		}()
		req, err := http.NewRequest(http.MethodPost, env.Server.URL+"/v1/network/imports", pr)
		require.NoError(t, err)
		req.Header.Set("Content-Type", "application/jsonl")
		req.Header.Set("Authorization", "Bearer "+ten.AdminKey)
		resp, err := env.Server.Client().Do(req)
		require.NoError(t, err)
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		require.Equal(t, http.StatusAccepted, resp.StatusCode, "%s", b)
	})

	for _, o := range []struct {
		name          string
		fail, mend    func()
		customer      string
		customerPhone string
	}{
		{"Stopped", env.Proxy.Stop, env.Proxy.Start, "李雷", "13900139000"},
		{"Frozen", env.Proxy.Freeze, env.Proxy.Thaw, "韩梅梅", "13700137000"},
	} {
		t.Run(o.name, func(t *testing.T) {
			fresh, _ := env.Key(t, ten.AdminKey, "agent")
			o.fail()
			r, took := timed(http.MethodGet, "/v1/customers", ten.AdminKey, nil)
			requireUnavailable(t, "list", r, took, deadline+slack)
			r, took = timed(http.MethodGet, customer, ten.AdminKey, nil)
			requireUnavailable(t, "get", r, took, deadline+slack)
			body := map[string]any{"name": o.customer, "phones": []string{o.customerPhone}}
			r, took = timed(http.MethodPost, "/v1/customers", ten.AdminKey, body, "Idempotency-Key: outage-"+t.Name())
			requireUnavailable(t, "idempotent create", r, took, deadline+slack)
			r, took = timed(http.MethodGet, "/v1/customers", fresh, nil)
			requireUnavailable(t, "unseen key", r, took, deadline+slack)
			r, took = timed(http.MethodGet, "/readyz", "", nil)
			requireUnavailable(t, "readyz", r, took, time.Second)
			o.mend()
			recovers(t, body)
		})
	}

	logs := env.Logs.String()
	require.Contains(t, logs, "request failed: database_unavailable")
	seen := map[string]bool{}
	for _, line := range strings.Split(logs, "\n") {
		if strings.Contains(line, "request failed: database_unavailable") {
			require.Contains(t, line, "WARN", "an outage is logged as a warning: %s", line)
			if op := between(line, `"operation":"`, `"`) + between(line, `"error":"`, `"`); !seen[op] {
				seen[op] = true
				t.Logf("logged: %s", line)
			}
		}
	}
}

// between is the text of s after the first from, up to the next to.
func between(s, from, to string) string {
	_, after, _ := strings.Cut(s, from)
	v, _, _ := strings.Cut(after, to)
	return v
}
