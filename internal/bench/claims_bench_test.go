package bench

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/servicenet/servicenet/internal/apitest"
	"github.com/servicenet/servicenet/internal/pg"
)

// claimFixture is a tenant with a washer model, a part that fits it, an
// extended warranty and units whose warranty has run into the extended one.
type claimFixture struct {
	tenant apitest.Tenant
	part   string
	units  []string
}

func benchToday(days int) string {
	loc, _ := time.LoadLocation("Asia/Shanghai")
	n := time.Now().In(loc)
	return time.Date(n.Year(), n.Month(), n.Day(), 0, 0, 0, 0, time.UTC).AddDate(0, 0, days).Format(time.DateOnly)
}

func benchCreate(b *testing.B, env *apitest.Env, key, path string, body any) string {
	b.Helper()
	r := env.Do(b, http.MethodPost, path, key, body)
	require.Equal(b, http.StatusCreated, r.Status, "%s: %s", path, r.Body)
	return r.JSON(b)["id"].(string)
}

func newClaimFixture(b *testing.B, env *apitest.Env, slug string, units int) claimFixture {
	b.Helper()
	cny := func(fen int64) map[string]any { return map[string]any{"amount": fen, "currency": "CNY"} }
	f := claimFixture{tenant: env.CreateTenant(b, slug)}
	key := f.tenant.AdminKey
	model := benchCreate(b, env, key, "/v1/catalog/models", map[string]any{"model_number": "XQG100", "category": "washer",
		"name": "滚筒洗衣机", "retail_price": cny(299900), "warranty_months": 12})
	f.part = benchCreate(b, env, key, "/v1/catalog/parts", map[string]any{"part_number": "XQG-CB-01", "name": "主控板",
		"category": "control_board", "price": cny(30000), "compatible_model_ids": []string{model}})
	plan := benchCreate(b, env, key, "/v1/coverage-plans", map[string]any{"code": "EXT-2Y", "name": "两年延保",
		"kind": "extended_warranty", "eligible_categories": []string{"washer"}, "duration_months": 24, "price": cny(19900)})
	for i := range units {
		u := benchCreate(b, env, key, "/v1/units", map[string]any{"model_id": model, "serial": fmt.Sprintf("WSH%06d", i),
			"customer":      map[string]any{"name": "客户", "phones": []string{fmt.Sprintf("+86 139 %04d %04d", i/10000, i%10000)}},
			"purchase_date": benchToday(-400), "purchase_price": cny(299900), "channel": "brand_store"})
		benchCreate(b, env, key, "/v1/contracts", map[string]any{"unit_id": u, "plan_id": plan, "sold_on": benchToday(-390)})
		f.units = append(f.units, u)
	}
	return f
}

func (f claimFixture) body(seq uint64) []byte {
	cny := func(fen int64) map[string]any { return map[string]any{"amount": fen, "currency": "CNY"} }
	b, _ := json.Marshal(map[string]any{"kind": "extended_warranty", "unit_id": f.units[int(seq)%len(f.units)],
		"reference": "B-" + runID + "-" + strconv.FormatUint(seq, 10), "occurred_on": benchToday(0),
		"fault": map[string]any{"cause": "power_surge", "part_categories": []string{"control_board"}},
		"lines": []map[string]any{{"kind": "labor", "requested": cny(10000)},
			{"kind": "part", "part_id": f.part, "quantity": 1, "requested": cny(30000)}},
		"total": cny(40000)})
	return b
}

func (f claimFixture) submit(client *http.Client, url string, seq uint64) error {
	req, err := http.NewRequest(http.MethodPost, url, bytes.NewReader(f.body(seq)))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+f.tenant.AdminKey)
	req.Header.Set("Idempotency-Key", "bench-clm-"+runID+"-"+strconv.FormatUint(seq, 10))
	return expect(client, req, http.StatusCreated)
}

// BenchmarkClaims measures claim submission (POST /v1/claims: validation
// against the unit, parts and contracts, the claim, its version, state
// change and event, and the adjudication job's InsertTx) as a ratio to raw
// single-row pgx inserts in the same run, and adjudication throughput: claims
// submitted and adjudicated per second with the River workers running (the
// clock stops when no claim is left in submitted). Claims cycle over 64
// units, so most are flagged as duplicates: the whole adjudication still
// runs for each.
func BenchmarkClaims(b *testing.B) {
	ctx := context.Background()
	env := newEnv(b)
	f := newClaimFixture(b, env, "bench-claims-"+runID, 64)

	_, err := env.DB.Owner.Exec(ctx, benchTable)
	require.NoError(b, err)
	raw, err := pg.Connect(ctx, env.DB.AppURL, pg.PoolOptions{Name: "bench-raw", MaxConns: clients})
	require.NoError(b, err)
	b.Cleanup(raw.Close)
	warmPool(b, raw)
	client := newClient(b)
	warmHTTP(b, client, env.Server.URL+"/v1/me", f.tenant.AdminKey)
	url := env.Server.URL + "/v1/claims"

	pending := func() int {
		var n int
		require.NoError(b, pg.InTenantTx(ctx, env.DB.Owner, f.tenant.ID, func(tx pg.TenantTx) error {
			return tx.QueryRow(ctx, `SELECT count(*) FROM claims WHERE tenant_id = $1 AND state = 'submitted'`, tx.TenantID).Scan(&n)
		}))
		return n
	}
	drain := func() {
		for pending() > 0 {
			time.Sleep(20 * time.Millisecond)
		}
	}

	var rawRate, submitRate float64
	b.Run("raw_pgx_insert", func(b *testing.B) {
		const hash = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"
		roles := []string{"dispatcher"}
		rate := runClients(b, func(_ int, seq uint64) error {
			tx, err := raw.Begin(ctx)
			if err != nil {
				return err
			}
			defer tx.Rollback(ctx) //nolint:errcheck // no-op after Commit
			id := "clm_" + runID + strconv.FormatUint(seq, 10)
			if _, err := tx.Exec(ctx, `INSERT INTO bench_writes (tenant_id, id, name, prefix, secret_hash, live, roles, created_by)
				VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
				f.tenant.ID, id, "bench claim", "sn_live_Ab3dE9", hash, true, roles, f.tenant.AdminID); err != nil {
				return err
			}
			return tx.Commit(ctx)
		})
		b.ReportMetric(rate, "tx/s")
		rawRate = rate
	})

	b.Run("submit_claim", func(b *testing.B) {
		drain()
		rate := runClients(b, func(_ int, seq uint64) error { return f.submit(client, url, seq) })
		b.ReportMetric(rate, "claims/s")
		submitRate = rate
	})

	b.Run("adjudication", func(b *testing.B) {
		drain()
		start := time.Now()
		runClients(b, func(_ int, seq uint64) error { return f.submit(client, url, seq) })
		drain()
		rate := float64(b.N) / time.Since(start).Seconds()
		b.ReportMetric(rate, "claims/s")
		fmt.Printf("claims: adjudicated=%.0f claims/s (submitted and adjudicated, workers running, %d clients)\n", rate, clients)
	})

	if rawRate == 0 || submitRate == 0 {
		return
	}
	ratio := submitRate / rawRate
	b.Run("ratio", func(b *testing.B) {
		b.ReportMetric(0, "ns/op")
		b.ReportMetric(ratio, "submit/raw")
	})
	fmt.Printf("claims: raw_pgx=%.0f tx/s submit=%.0f claims/s ratio=%.3f (%d clients)\n", rawRate, submitRate, ratio, clients)
}
