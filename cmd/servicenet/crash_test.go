package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/exec"
	"os/signal"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/servicenet/servicenet/internal/app"
	"github.com/servicenet/servicenet/internal/config"
	"github.com/servicenet/servicenet/internal/logging"
	"github.com/servicenet/servicenet/internal/pg"
	"github.com/servicenet/servicenet/internal/pgtest"
	"github.com/servicenet/servicenet/tenants/network"
)

// crashChildEnv marks the test binary re-executed as a server for
// TestIdempotencyAcrossCrash.
const crashChildEnv = "SERVICENET_CRASH_CHILD"

// webhookHostEnv, in a child server's environment, is a host:port its
// webhook endpoints may use over plain http (a test's receiver).
const webhookHostEnv = "SERVICENET_TEST_WEBHOOK_HOST"

// TestCrashChild is the child server of TestIdempotencyAcrossCrash: it
// serves until it is killed. It is skipped in a normal test run.
func TestCrashChild(t *testing.T) {
	if os.Getenv(crashChildEnv) == "" {
		t.Skip("runs only as TestIdempotencyAcrossCrash's child server")
	}
	cfg, err := config.Load(os.Getenv)
	require.NoError(t, err)
	if host := os.Getenv(webhookHostEnv); host != "" {
		onAppForTests = func(a *app.App) { a.Webhooks.AllowHost(host) }
	}
	// SIGTERM stops it as in production (a deploy); SIGKILL is a crash.
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM)
	defer stop()
	require.NoError(t, serve(ctx, cfg, logging.New(os.Stderr, slog.LevelWarn), io.Discard, nil))
}

// crashServer is a child server process on one database and port.
type crashServer struct {
	t    *testing.T
	base string
	env  []string
	cmd  *exec.Cmd
	logs *syncBuffer
}

// newCrashServer is a child server (not yet started) on a free port of
// 127.0.0.1 over db, with the operator token, the rate limit out of the way
// and quiet logs; extra settings (NAME=value) go on top. When the test ends
// it is killed if still running, and its log is printed if the test failed.
func newCrashServer(t *testing.T, db *pgtest.DB, operator string, extra ...string) *crashServer {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := ln.Addr().String()
	require.NoError(t, ln.Close())
	env := append(os.Environ(), crashChildEnv+"=1", "DATABASE_URL="+db.OwnerURL, "SERVICENET_ADDR="+addr,
		"SERVICENET_OPERATOR_TOKEN="+operator, "SERVICENET_RATE_PER_SECOND=100000", "SERVICENET_RATE_BURST=100000",
		"SERVICENET_LOG_LEVEL=warn")
	s := &crashServer{t: t, base: "http://" + addr, logs: &syncBuffer{}, env: append(env, extra...)}
	t.Cleanup(func() {
		if s.cmd != nil && s.cmd.ProcessState == nil {
			s.kill()
		}
		if t.Failed() {
			t.Logf("child server %s log:\n%s", s.base, s.logs.String())
		}
	})
	return s
}

// json sends one request to the child and decodes its JSON answer, which
// must be a 2xx.
func (s *crashServer) json(method, path, secret, contentType string, body []byte) map[string]any {
	s.t.Helper()
	req, err := http.NewRequest(method, s.base+path, bytes.NewReader(body))
	require.NoError(s.t, err)
	req.Header.Set("Authorization", "Bearer "+secret)
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	resp, err := http.DefaultClient.Do(req)
	require.NoError(s.t, err)
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	require.NoError(s.t, err)
	require.Less(s.t, resp.StatusCode, 300, "%s %s: %s", method, path, raw)
	var m map[string]any
	require.NoError(s.t, json.Unmarshal(raw, &m))
	return m
}

// queuedImport is a network import waiting for a job process: an API-only
// child server (which runs no job) creates a tenant and takes the upload of
// nodes and technicians, and is killed. env is the child's settings without
// a mode: the caller starts srv with env and its own SERVICENET_MODE.
type queuedImport struct {
	srv                       *crashServer
	env                       []string
	admin, tenantID, importID string
}

func queueImport(t *testing.T, db *pgtest.DB, operator, slug string, nodes, technicians int, extra ...string) queuedImport {
	t.Helper()
	q := queuedImport{srv: newCrashServer(t, db, operator, extra...)}
	q.env = slices.Clip(q.srv.env) // each mode appends its own copy
	q.srv.env = append(q.env, "SERVICENET_MODE=api")
	q.srv.start()
	body, _ := json.Marshal(map[string]any{"name": slug + " brand", "slug": slug})
	m := q.srv.json(http.MethodPost, "/v1/platform/tenants", operator, "application/json", body)
	q.admin = m["admin_key"].(map[string]any)["secret"].(string)
	q.tenantID = m["tenant"].(map[string]any)["id"].(string)
	im := q.srv.json(http.MethodPost, "/v1/network/imports", q.admin, "application/x-ndjson", network.LargeNetwork(1, nodes, technicians))
	q.importID = im["id"].(string)
	q.srv.kill()
	return q
}

func (s *crashServer) start() {
	s.t.Helper()
	s.cmd = exec.Command(os.Args[0], "-test.run=^TestCrashChild$", "-test.count=1")
	s.cmd.Env = s.env
	s.cmd.Stderr = s.logs
	require.NoError(s.t, s.cmd.Start())
	require.Eventually(s.t, func() bool {
		resp, err := http.Get(s.base + "/readyz") //nolint:noctx
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusOK
	}, 60*time.Second, 50*time.Millisecond, "the child server did not become ready")
}

func (s *crashServer) kill() {
	_ = s.cmd.Process.Signal(syscall.SIGKILL)
	_ = s.cmd.Wait()
}

// attempt is one idempotent POST and what its client saw.
type attempt struct {
	kind, path, key string
	body            []byte
	status          int // 0: no answer
	id              string
}

// TestIdempotencyAcrossCrash kills a server with SIGKILL during concurrent
// intakes and claim submissions, restarts it, and retries every request
// with its key. Each request was answered 2xx before the crash, or its retry
// replays it or runs it once; the database then holds exactly one ticket or
// claim per key, with its next SLA check (the earliest deadline); and every
// claim is adjudicated once after the restart (a claim awaiting
// adjudication is its own durable request: the sweep takes it).
func TestIdempotencyAcrossCrash(t *testing.T) {
	if testing.Short() {
		t.Skip("starts server processes")
	}
	t.Parallel()
	ctx := context.Background()
	db := pgtest.NewDB(t)
	const operator = "snop_crash_test"
	srv := newCrashServer(t, db, operator)
	srv.start()

	client := &http.Client{Timeout: 10 * time.Second}
	post := func(secret, path, key string, body []byte) (int, map[string]any, http.Header, error) {
		req, err := http.NewRequest(http.MethodPost, srv.base+path, bytes.NewReader(body))
		if err != nil {
			return 0, nil, nil, err
		}
		req.Header.Set("Authorization", "Bearer "+secret)
		req.Header.Set("Content-Type", "application/json")
		if key != "" {
			req.Header.Set("Idempotency-Key", key)
		}
		resp, err := client.Do(req)
		if err != nil {
			return 0, nil, nil, err
		}
		defer resp.Body.Close()
		raw, err := io.ReadAll(resp.Body)
		if err != nil {
			return 0, nil, nil, err
		}
		var m map[string]any
		_ = json.Unmarshal(raw, &m)
		return resp.StatusCode, m, resp.Header, nil
	}
	create := func(secret, path string, body any) map[string]any {
		t.Helper()
		raw, err := json.Marshal(body)
		require.NoError(t, err)
		status, m, _, err := post(secret, path, "", raw)
		require.NoError(t, err)
		require.Equal(t, http.StatusCreated, status, "%s: %v", path, m)
		return m
	}

	// A brand with a washer model, a part, an extended-warranty plan, and
	// units sold under it (for claims).
	m := create(operator, "/v1/platform/tenants", map[string]any{"name": "Crash brand", "slug": "crash"})
	tenantID := m["tenant"].(map[string]any)["id"].(string)
	admin := m["admin_key"].(map[string]any)["secret"].(string)
	cny := func(fen int64) map[string]any { return map[string]any{"amount": fen, "currency": "CNY"} }
	loc, err := time.LoadLocation("Asia/Shanghai")
	require.NoError(t, err)
	day := func(days int) string { return time.Now().In(loc).AddDate(0, 0, days).Format(time.DateOnly) }
	model := create(admin, "/v1/catalog/models", map[string]any{"model_number": "XQG100", "category": "washer",
		"name": "滚筒洗衣机", "retail_price": cny(299900), "warranty_months": 12})["id"].(string)
	part := create(admin, "/v1/catalog/parts", map[string]any{"part_number": "XQG-CB-01", "name": "主控板",
		"category": "control_board", "price": cny(30000), "compatible_model_ids": []string{model}})["id"].(string)
	plan := create(admin, "/v1/coverage-plans", map[string]any{"code": "EXT-2Y", "name": "两年延保",
		"kind": "extended_warranty", "eligible_categories": []string{"washer"}, "duration_months": 24, "price": cny(19900)})["id"].(string)
	var units []string
	for i := range 4 {
		u := create(admin, "/v1/units", map[string]any{"model_id": model, "serial": fmt.Sprintf("CRASH%04d", i),
			"customer":      map[string]any{"name": "客户", "phones": []string{fmt.Sprintf("+86 139 0000 %04d", i)}},
			"purchase_date": day(-400), "purchase_price": cny(299900), "channel": "brand_store"})["id"].(string)
		create(admin, "/v1/contracts", map[string]any{"unit_id": u, "plan_id": plan, "sold_on": day(-390)})
		units = append(units, u)
	}

	newAttempt := func(seq int) *attempt {
		key := "crash-" + strconv.Itoa(seq)
		if seq%2 == 0 {
			body, _ := json.Marshal(map[string]any{"channel": "hotline", "type": "repair",
				"contact": map[string]any{"name": "客户", "phone": fmt.Sprintf("1370%07d", seq)},
				"address": map[string]any{"region_code": "370212", "line": "人民路 8 号"},
				"unit":    map[string]any{"model_id": model, "serial": fmt.Sprintf("CR%08d", seq), "purchase_date": day(-30)},
				"fault":   map[string]any{"symptom": "洗衣机不脱水"}})
			return &attempt{kind: "ticket", path: "/v1/tickets", key: key, body: body}
		}
		body, _ := json.Marshal(map[string]any{"kind": "extended_warranty", "unit_id": units[seq%len(units)],
			"reference": "CRASH-" + strconv.Itoa(seq), "occurred_on": day(0),
			"fault": map[string]any{"cause": "power_surge", "part_categories": []string{"control_board"}},
			"lines": []map[string]any{{"kind": "labor", "requested": cny(10000)},
				{"kind": "part", "part_id": part, "quantity": 1, "requested": cny(30000)}},
			"total": cny(40000)})
		return &attempt{kind: "claim", path: "/v1/claims", key: key, body: body}
	}

	// Load from 8 clients; the server is killed while they run.
	var (
		mu       sync.Mutex
		attempts []*attempt
		seq      atomic.Int64
		killed   atomic.Bool
		wg       sync.WaitGroup
	)
	for range 8 {
		wg.Go(func() {
			for !killed.Load() {
				a := newAttempt(int(seq.Add(1)))
				mu.Lock()
				attempts = append(attempts, a)
				mu.Unlock()
				status, m, _, err := post(admin, a.path, a.key, a.body)
				if err != nil {
					continue // no answer: the retry after the restart decides
				}
				a.status = status
				if id, ok := m["id"].(string); ok {
					a.id = id
				}
			}
		})
	}
	time.Sleep(1500 * time.Millisecond)
	killed.Store(true)
	srv.kill()
	wg.Wait()

	answered, unanswered := 0, 0
	for _, a := range attempts {
		if a.status == 0 {
			unanswered++
			continue
		}
		require.True(t, a.status == http.StatusCreated || a.status == http.StatusOK, "%s %s answered %d", a.kind, a.key, a.status)
		answered++
	}
	t.Logf("before the crash: %d answered, %d unanswered", answered, unanswered)
	require.Positive(t, answered)
	require.Positive(t, unanswered, "the crash left no request unanswered; kill earlier")

	srv.start()
	defer srv.kill()
	for _, a := range attempts {
		status, m, h, err := post(admin, a.path, a.key, a.body)
		require.NoError(t, err)
		require.Contains(t, []int{http.StatusCreated, http.StatusOK}, status, "%s %s: %v", a.kind, a.key, m)
		id, _ := m["id"].(string)
		require.NotEmpty(t, id)
		if a.status != 0 {
			require.Equal(t, "true", h.Get("Idempotent-Replayed"), "an answered request is replayed: %s", a.key)
			require.Equal(t, a.status, status)
			require.Equal(t, a.id, id, "the replay names the same %s", a.kind)
		}
		a.id = id
	}

	// Exactly one ticket or claim per key, none twice, each with its jobs.
	ids := map[string]map[string]bool{"ticket": {}, "claim": {}}
	for _, a := range attempts {
		require.False(t, ids[a.kind][a.id], "two keys answered with one %s", a.kind)
		ids[a.kind][a.id] = true
	}
	var tickets, claims int
	require.NoError(t, pg.InTenantTx(ctx, db.App, tenantID, func(tx pg.TenantTx) error {
		if err := tx.QueryRow(ctx, `SELECT count(*) FROM tickets WHERE tenant_id = $1`, tx.TenantID).Scan(&tickets); err != nil {
			return err
		}
		return tx.QueryRow(ctx, `SELECT count(*) FROM claims WHERE tenant_id = $1`, tx.TenantID).Scan(&claims)
	}))
	require.Equal(t, len(ids["ticket"]), tickets, "one ticket per intake key")
	require.Equal(t, len(ids["claim"]), claims, "one claim per submission key")
	// A ticket's SLA deadlines are checked by the sweep from its row: each
	// has its next check at its earliest deadline (migration 049).
	var unchecked int
	require.NoError(t, pg.InTenantTx(ctx, db.App, tenantID, func(tx pg.TenantTx) error {
		return tx.QueryRow(ctx, `SELECT count(*) FROM tickets WHERE tenant_id = $1 AND id = ANY ($2)
			AND (sla_check_at IS NULL OR sla_check_at IS DISTINCT FROM least(route_due_at, first_contact_due_at, response_due_at, completion_due_at,
				callback_due_at, verification_due_at))`, tx.TenantID, keysOf(ids["ticket"])).Scan(&unchecked)
	}))
	require.Zero(t, unchecked, "every ticket's next SLA check is its earliest deadline")
	t.Logf("after the restart: %d tickets, %d claims, every key answered once", tickets, claims)
	// Claims awaiting adjudication when the server died (it sweeps every
	// second) are adjudicated by the restarted one, once it leads (the dead
	// leader's lease runs out first), and none twice.
	count := func(query string) (n int) {
		require.NoError(t, pg.InTenantTx(ctx, db.App, tenantID, func(tx pg.TenantTx) error {
			return tx.QueryRow(ctx, query, tx.TenantID, keysOf(ids["claim"])).Scan(&n)
		}))
		return n
	}
	const awaiting = `SELECT count(*) FROM claims WHERE tenant_id = $1 AND id = ANY ($2) AND state = 'submitted'`
	t.Logf("%d claims awaiting adjudication after the restart", count(awaiting))
	require.Eventually(t, func() bool { return count(awaiting) == 0 }, 60*time.Second, 100*time.Millisecond,
		"every claim is adjudicated after the restart")
	require.Equal(t, len(ids["claim"]), count(`SELECT count(*) FROM claim_state_changes WHERE tenant_id = $1 AND claim_id = ANY ($2) AND to_state = 'under_review'`),
		"every claim is adjudicated once")
}

func keysOf(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	return out
}
