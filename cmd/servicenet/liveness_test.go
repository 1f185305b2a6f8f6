package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/servicenet/servicenet/internal/pg"
	"github.com/servicenet/servicenet/internal/pgtest"
	"github.com/servicenet/servicenet/tenants/network"
)

// livenessOperator is the operator token of setupLiveness's servers.
const livenessOperator = "snop_liveness_test"

// livenessBundle is a child server over a fresh database, a brand with
// units under an extended warranty (for claims), and a webhook receiver.
type livenessBundle struct {
	t        *testing.T
	db       *pgtest.DB
	srv      *crashServer
	env      []string
	tenantID string
	admin    string
	units    []string
	part     string
	receiver string // the webhook receiver's URL

	mu       sync.Mutex
	received []string // webhook bodies
}

func setupLiveness(t *testing.T, units int) *livenessBundle {
	t.Helper()
	db := pgtest.NewDB(t)
	b := &livenessBundle{t: t, db: db}
	rcv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		b.mu.Lock()
		b.received = append(b.received, string(body))
		b.mu.Unlock()
	}))
	t.Cleanup(rcv.Close)
	b.receiver = rcv.URL
	b.srv = newCrashServer(t, db, livenessOperator, webhookHostEnv+"="+rcv.Listener.Addr().String())
	b.env = slices.Clip(b.srv.env) // each start appends its mode to a copy

	// The brand is set up by an API-only server: no job runs yet.
	b.start("api")
	m := b.create(livenessOperator, "/v1/platform/tenants", map[string]any{"name": "Liveness brand", "slug": "liveness"})
	b.tenantID = m["tenant"].(map[string]any)["id"].(string)
	b.admin = m["admin_key"].(map[string]any)["secret"].(string)
	model := b.create(b.admin, "/v1/catalog/models", map[string]any{"model_number": "XQG100", "category": "washer",
		"name": "滚筒洗衣机", "retail_price": cny(299900), "warranty_months": 12})["id"].(string)
	b.part = b.create(b.admin, "/v1/catalog/parts", map[string]any{"part_number": "XQG-CB-01", "name": "主控板",
		"category": "control_board", "price": cny(30000), "compatible_model_ids": []string{model}})["id"].(string)
	plan := b.create(b.admin, "/v1/coverage-plans", map[string]any{"code": "EXT-2Y", "name": "两年延保",
		"kind": "extended_warranty", "eligible_categories": []string{"washer"}, "duration_months": 24, "price": cny(19900)})["id"].(string)
	for i := range units {
		u := b.create(b.admin, "/v1/units", map[string]any{"model_id": model, "serial": fmt.Sprintf("LIVE%04d", i),
			"customer":      map[string]any{"name": "客户", "phones": []string{fmt.Sprintf("+86 139 0000 %04d", i)}},
			"purchase_date": day(-400), "purchase_price": cny(299900), "channel": "brand_store"})["id"].(string)
		b.create(b.admin, "/v1/contracts", map[string]any{"unit_id": u, "plan_id": plan, "sold_on": day(-390)})
		b.units = append(b.units, u)
	}
	b.create(b.admin, "/v1/webhooks", map[string]any{"url": rcv.URL, "event_types": []string{"claim.submitted"}})
	return b
}

func cny(fen int64) map[string]any { return map[string]any{"amount": fen, "currency": "CNY"} }

func day(days int) string {
	loc, _ := time.LoadLocation("Asia/Shanghai")
	return time.Now().In(loc).AddDate(0, 0, days).Format(time.DateOnly)
}

// start starts a child server in mode (all, api or worker).
func (b *livenessBundle) start(mode string) {
	b.t.Helper()
	b.srv.env = append(b.env, "SERVICENET_MODE="+mode)
	b.srv.start()
}

func (b *livenessBundle) create(secret, path string, body any) map[string]any {
	b.t.Helper()
	raw, err := json.Marshal(body)
	require.NoError(b.t, err)
	req, err := http.NewRequest(http.MethodPost, b.srv.base+path, bytes.NewReader(raw))
	require.NoError(b.t, err)
	req.Header.Set("Authorization", "Bearer "+secret)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	require.NoError(b.t, err)
	defer resp.Body.Close()
	var m map[string]any
	require.NoError(b.t, json.NewDecoder(resp.Body).Decode(&m))
	require.Equal(b.t, http.StatusCreated, resp.StatusCode, "%s: %v", path, m)
	return m
}

// submitClaim submits a claim for unit i and returns its id.
func (b *livenessBundle) submitClaim(i int, ref string) string {
	b.t.Helper()
	return b.create(b.admin, "/v1/claims", map[string]any{"kind": "extended_warranty", "unit_id": b.units[i%len(b.units)],
		"reference": ref, "occurred_on": day(0),
		"fault": map[string]any{"cause": "power_surge", "part_categories": []string{"control_board"}},
		"lines": []map[string]any{{"kind": "labor", "requested": cny(10000)},
			{"kind": "part", "part_id": b.part, "quantity": 1, "requested": cny(30000)}},
		"total": cny(40000)})["id"].(string)
}

// sql runs one statement as the owner (River's tables and every tenant's rows).
func (b *livenessBundle) sql(q string, args ...any) {
	b.t.Helper()
	owner, err := pg.Connect(context.Background(), b.db.OwnerURL, pg.PoolOptions{Name: "liveness-test", MaxConns: 1})
	require.NoError(b.t, err)
	defer owner.Close()
	_, err = owner.Exec(context.Background(), q, args...)
	require.NoError(b.t, err)
}

func (b *livenessBundle) count(q string, args ...any) int {
	b.t.Helper()
	var n int
	require.NoError(b.t, pg.InTenantTx(context.Background(), b.db.App, b.tenantID, func(tx pg.TenantTx) error {
		return tx.QueryRow(context.Background(), q, append([]any{tx.TenantID}, args...)...).Scan(&n)
	}))
	return n
}

// delivered reports whether a webhook body that contains s was received.
func (b *livenessBundle) delivered(s string) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	for _, body := range b.received {
		if strings.Contains(body, s) {
			return true
		}
	}
	return false
}

// upload queues a network import (JSON Lines) and returns its id.
func (b *livenessBundle) upload(file []byte) string {
	b.t.Helper()
	req, err := http.NewRequest(http.MethodPost, b.srv.base+"/v1/network/imports", bytes.NewReader(file))
	require.NoError(b.t, err)
	req.Header.Set("Authorization", "Bearer "+b.admin)
	req.Header.Set("Content-Type", "application/x-ndjson")
	resp, err := http.DefaultClient.Do(req)
	require.NoError(b.t, err)
	defer resp.Body.Close()
	var m map[string]any
	require.NoError(b.t, json.NewDecoder(resp.Body).Decode(&m))
	require.Equal(b.t, http.StatusAccepted, resp.StatusCode, "%v", m)
	return m["id"].(string)
}

// importProgress is an import's state and processed rows.
func (b *livenessBundle) importProgress(id string) (state string, done int) {
	b.t.Helper()
	require.NoError(b.t, pg.InTenantTx(context.Background(), b.db.App, b.tenantID, func(tx pg.TenantTx) error {
		return tx.QueryRow(context.Background(), `SELECT state, processed_rows FROM network_imports WHERE tenant_id = $1 AND id = $2`,
			tx.TenantID, id).Scan(&state, &done)
	}))
	return state, done
}

// TestJobsRecoverAfterKill leaves a claim adjudication sweep and a webhook
// dispatch running under a dead worker, and a leader killed with SIGKILL in
// the middle of a network import, then restarts the server: within 60 s
// the import finishes with every node and technician created once, and a
// claim submitted after the restart is adjudicated and reaches the webhook
// receiver (issue 18: it took an hour, and webhooks stopped); every claim
// is adjudicated exactly once.
func TestJobsRecoverAfterKill(t *testing.T) {
	if testing.Short() {
		t.Skip("starts server processes")
	}
	t.Parallel()
	const claims = 6
	b := setupLiveness(t, claims)
	var ids []string
	for i := range claims {
		ids = append(ids, b.submitClaim(i, fmt.Sprintf("LIVE-%d", i)))
	}
	const nodes, technicians = 1000, 5000
	importID := b.upload(network.LargeNetwork(1, nodes, technicians))
	// Another tenant, with its own webhook endpoint.
	m := b.create(livenessOperator, "/v1/platform/tenants", map[string]any{"name": "Liveness brand 2", "slug": "liveness-2"})
	other := m["admin_key"].(map[string]any)["secret"].(string)
	b.create(other, "/v1/webhooks", map[string]any{"url": b.receiver, "event_types": []string{"customer.created"}})
	b.srv.kill()

	// A server that runs jobs and is elected leader, killed while it
	// imports: its lease stays in river_leader until it expires, and the
	// import's job stays running.
	b.start("all")
	require.Eventually(t, func() bool {
		_, done := b.importProgress(importID)
		return done >= 1000 && b.count(`SELECT count(*) FROM claims WHERE tenant_id = $1 AND state <> 'submitted'`) == claims
	},
		60*time.Second, 10*time.Millisecond, "the first server adjudicates and imports")
	b.srv.kill()
	state, done := b.importProgress(importID)
	require.Equal(t, string(network.ImportRunning), state, "the import was cut short")
	t.Logf("killed with %d of the import's %d rows processed", done, nodes+technicians)
	require.Equal(t, claims, b.count(`SELECT count(*) FROM events WHERE tenant_id = $1 AND type = 'claim.under_review'`))
	// A claim adjudication sweep and a webhook dispatch as if it had died
	// in them. (After the kill: a live server's completer would finish
	// what it still held.)
	b.sql(`INSERT INTO river_job (args, kind, max_attempts, queue, state, attempt, attempted_at, attempted_by, priority, scheduled_at)
		VALUES ('{"session_seconds": 20}', 'claim_adjudication_sweep', 1, 'claims', 'running', 1, now(), '{dead-worker}', 1, now()),
			('{}', 'webhook_dispatch', 1, 'webhooks', 'running', 1, now(), '{dead-worker}', 1, now())`)

	restart := time.Now()
	b.start("all")
	t.Logf("restarted and ready in %v", time.Since(restart).Round(time.Millisecond))

	// Webhooks flow again, for every tenant.
	fresh := b.submitClaim(0, "LIVE-AFTER")
	b.create(other, "/v1/customers", map[string]any{"name": "王丽", "phones": []string{"13800138000"}})
	require.Eventually(t, func() bool { return b.delivered(fresh) }, 60*time.Second-time.Since(restart), 100*time.Millisecond,
		"a claim submitted after the restart reaches the webhook receiver")
	// (Only the other tenant subscribes to customer.created, whose data
	// carries no id.)
	require.Eventually(t, func() bool { return b.delivered(`"type":"customer.created"`) }, 60*time.Second-time.Since(restart), 100*time.Millisecond,
		"the other tenant's customer created after the restart reaches the webhook receiver")
	t.Logf("webhooks delivered %v after the restart", time.Since(restart).Round(time.Millisecond))

	// The claim submitted after the restart is adjudicated; every claim
	// once.
	owner, err := pg.Connect(context.Background(), b.db.OwnerURL, pg.PoolOptions{Name: "liveness-test", MaxConns: 1})
	require.NoError(t, err)
	defer owner.Close()
	require.Eventually(t, func() bool {
		return b.count(`SELECT count(*) FROM claims WHERE tenant_id = $1 AND state = 'submitted'`) == 0
	}, 60*time.Second-time.Since(restart), 200*time.Millisecond, "the claim submitted after the restart is adjudicated within 60 s of it")
	t.Logf("every claim adjudicated %v after the restart", time.Since(restart).Round(time.Millisecond))
	for _, id := range append(ids, fresh) {
		require.Equal(t, 1, b.count(`SELECT count(*) FROM events WHERE tenant_id = $1 AND type = 'claim.under_review' AND subject_id = $2`, id),
			"claim %s is adjudicated once", id)
	}

	// The import resumes and finishes; each row's effect exists once.
	require.Eventually(t, func() bool {
		state, _ := b.importProgress(importID)
		return state == string(network.ImportSucceeded)
	}, 60*time.Second-time.Since(restart), 100*time.Millisecond, "the import finishes within 60 s of the restart")
	t.Logf("the import finished %v after the restart", time.Since(restart).Round(time.Millisecond))
	require.Equal(t, nodes, b.count(`SELECT count(*) FROM nodes WHERE tenant_id = $1`))
	require.Equal(t, technicians, b.count(`SELECT count(*) FROM technicians WHERE tenant_id = $1`))
	require.Equal(t, nodes, b.count(`SELECT count(*) FROM events WHERE tenant_id = $1 AND type = 'node.created'`))
	require.Equal(t, technicians, b.count(`SELECT count(*) FROM events WHERE tenant_id = $1 AND type = 'technician.created'`))
	require.Equal(t, technicians, b.count(`SELECT count(DISTINCT subject_id) FROM events WHERE tenant_id = $1 AND type = 'technician.created'`))
	require.Equal(t, nodes, b.count(`SELECT count(*) FROM node_status_changes WHERE tenant_id = $1`))
	// And the import job the dead process left running is finished. (Its
	// sweep and dispatch sessions wait for the rescuer, after their
	// timeout: they hold nothing back meanwhile, as the adjudications and
	// deliveries above show.)
	require.Eventually(t, func() bool {
		var left int
		err := owner.QueryRow(context.Background(), `SELECT count(*) FROM river_job
			WHERE kind = 'network_import' AND state = 'running'`).Scan(&left)
		return err == nil && left == 0
	}, 60*time.Second-time.Since(restart), 200*time.Millisecond, "no job is left running 60 s after the restart")
	t.Logf("no job left running %v after the restart", time.Since(restart).Round(time.Millisecond))
}
