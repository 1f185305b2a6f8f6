package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/servicenet/servicenet/internal/pgtest"
)

// TestDatabaseOutageChild runs a child server process, with River, whose
// database sits behind a pgtest.Proxy in the test process: stopped
// (connections refused, open ones cut) and frozen (nothing answers). Every
// request that needs the database is answered within the request deadline
// as 503 database_unavailable with Retry-After, /readyz is 503, and the
// same process answers 2xx within a second of the proxy resuming. Each bound
// allows the same slack for a loaded machine.
func TestDatabaseOutageChild(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a server process")
	}
	t.Parallel()
	const deadline = 1500 * time.Millisecond
	const slack = time.Second // a loaded two-core machine and a process boundary
	db := pgtest.NewDB(t)
	proxy := pgtest.NewProxy(t, db.OwnerURL)
	const operator = "snop_outage_test"
	srv := newCrashServer(t, db, operator, "DATABASE_URL="+proxy.URL(db.OwnerURL),
		fmt.Sprintf("SERVICENET_REQUEST_TIMEOUT_SECONDS=%g", deadline.Seconds()))
	t.Cleanup(proxy.Thaw) // runs first: the child is killed unfrozen, then the proxy closes
	srv.start()
	pid := srv.cmd.Process.Pid

	client := &http.Client{Timeout: 3 * deadline}
	type answer struct {
		status int
		header http.Header
		body   map[string]any
		took   time.Duration
	}
	do := func(method, path, secret string, body any, headers ...string) answer {
		t.Helper()
		var rd io.Reader
		if body != nil {
			raw, err := json.Marshal(body)
			require.NoError(t, err)
			rd = bytes.NewReader(raw)
		}
		req, err := http.NewRequest(method, srv.base+path, rd)
		require.NoError(t, err)
		if secret != "" {
			req.Header.Set("Authorization", "Bearer "+secret)
		}
		if body != nil {
			req.Header.Set("Content-Type", "application/json")
		}
		for _, h := range headers {
			k, v, _ := strings.Cut(h, ": ")
			req.Header.Set(k, v)
		}
		start := time.Now()
		resp, err := client.Do(req)
		require.NoError(t, err, "%s %s", method, path)
		defer resp.Body.Close()
		raw, err := io.ReadAll(resp.Body)
		require.NoError(t, err)
		a := answer{status: resp.StatusCode, header: resp.Header, took: time.Since(start)}
		_ = json.Unmarshal(raw, &a.body)
		return a
	}
	created := func(a answer) map[string]any {
		t.Helper()
		require.Equal(t, http.StatusCreated, a.status, "%v", a.body)
		return a.body
	}

	m := created(do(http.MethodPost, "/v1/platform/tenants", operator, map[string]any{"name": "Outage brand", "slug": "outage"}))
	admin := m["admin_key"].(map[string]any)["secret"].(string)
	customer := "/v1/customers/" + created(do(http.MethodPost, "/v1/customers", admin,
		map[string]any{"name": "王丽", "phones": []string{"13800138000"}}))["id"].(string)

	requireUnavailable := func(t *testing.T, what string, a answer, within time.Duration) {
		t.Helper()
		require.Equal(t, http.StatusServiceUnavailable, a.status, "%s: %v", what, a.body)
		require.Equal(t, "application/problem+json", a.header.Get("Content-Type"), what)
		require.Equal(t, "2", a.header.Get("Retry-After"), what)
		require.Equal(t, "database_unavailable", a.body["code"], what)
		require.Less(t, a.took, within, "%s took %s", what, a.took)
		t.Logf("%s: 503 in %s", what, a.took.Round(time.Millisecond))
	}
	// sameProcess fails unless the child started first is still the one
	// running: it was not restarted and did not exit.
	sameProcess := func(t *testing.T) {
		t.Helper()
		require.Equal(t, pid, srv.cmd.Process.Pid)
		stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
		require.NoError(t, err, "the child server exited")
		_, after, _ := strings.Cut(string(stat), ") ")
		require.NotEqual(t, "Z", after[:1], "the child server exited")
	}

	for _, o := range []struct {
		name        string
		fail, mend  func()
		name2, tel2 string
	}{
		{"Stopped", proxy.Stop, proxy.Start, "李雷", "13900139000"},
		{"Frozen", proxy.Freeze, proxy.Thaw, "韩梅梅", "13700137000"},
	} {
		t.Run(o.name, func(t *testing.T) {
			fresh := created(do(http.MethodPost, "/v1/api-keys", admin,
				map[string]any{"name": "outage " + o.name, "roles": []string{"agent"}}))["secret"].(string)
			o.fail()
			requireUnavailable(t, "list", do(http.MethodGet, "/v1/customers", admin, nil), deadline+slack)
			requireUnavailable(t, "get", do(http.MethodGet, customer, admin, nil), deadline+slack)
			body := map[string]any{"name": o.name2, "phones": []string{o.tel2}}
			idem := "Idempotency-Key: outage-child-" + o.name
			requireUnavailable(t, "idempotent create", do(http.MethodPost, "/v1/customers", admin, body, idem), deadline+slack)
			requireUnavailable(t, "unseen key", do(http.MethodGet, "/v1/customers", fresh, nil), deadline+slack)
			requireUnavailable(t, "readyz", do(http.MethodGet, "/readyz", "", nil), time.Second+slack)
			sameProcess(t)

			// Recovery counts from the proxy resuming to the first 2xx.
			o.mend()
			back := time.Now()
			tries := 0
			for {
				tries++
				a := do(http.MethodGet, customer, admin, nil)
				if a.status == http.StatusOK {
					break
				}
				require.Equal(t, http.StatusServiceUnavailable, a.status, "%v", a.body)
				require.Less(t, time.Since(back), time.Second+slack, "not recovered within a second: %v", a.body)
				time.Sleep(20 * time.Millisecond)
			}
			recovered := time.Since(back)
			require.Less(t, recovered, time.Second+slack, "the first 2xx came %s after the proxy resumed", recovered)
			t.Logf("recovered: first 2xx %s after the proxy resumed (%d tries), pid %d", recovered.Round(time.Millisecond), tries, pid)
			sameProcess(t)
			// Readiness comes back with the requests (its own checks have a
			// 500 ms budget, which a loaded machine can miss once while the
			// pool replaces the connections the outage broke).
			for ready := do(http.MethodGet, "/readyz", "", nil); ready.status != http.StatusOK; ready = do(http.MethodGet, "/readyz", "", nil) {
				require.Equal(t, http.StatusServiceUnavailable, ready.status, "%v", ready.body)
				require.Less(t, time.Since(back), 2*(time.Second+slack), "readiness not back with the requests: %v", ready.body)
				time.Sleep(20 * time.Millisecond)
			}
			// The refused create kept no key: its retry runs it.
			created(do(http.MethodPost, "/v1/customers", admin, body, idem))
		})
	}
}
