package bench

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"os"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/servicenet/servicenet/tenants"
	"github.com/servicenet/servicenet/tenants/customers"
	"github.com/servicenet/servicenet/tenants/warranty"
)

// decideRate is the open-loop arrival rate of BenchmarkEntitlementDecide.
const decideRate = 200

// BenchmarkEntitlementDecide sends POST /v1/entitlements/decide at a fixed
// 200 requests per second (open loop: a request is sent when it is due,
// whether or not earlier ones have answered, and its latency counts from
// when it was due) against the demo brand's units, contracts and price
// list, and reports p50 and p99 latency. b.N is the number of requests.
func BenchmarkEntitlementDecide(b *testing.B) {
	ctx := context.Background()
	env := newEnv(b)
	ten := env.CreateTenant(b, "bench-decide-"+runID)
	p := tenants.Principal{TenantID: ten.ID, KeyID: "bench"}
	_, err := warranty.SeedDemoSales(ctx, p, env.Catalog, env.Customers, env.Warranty)
	require.NoError(b, err)
	units, _, err := env.Customers.ListUnits(ctx, p, customers.UnitFilter{Limit: tenants.MaxPageLimit})
	require.NoError(b, err)

	// One question per unit and fault cause, with work the demo price list prices.
	causes := []string{"performance", "power_surge", "accidental_damage", "human_damage", "software_tuning"}
	var bodies [][]byte
	for _, u := range units {
		kind := "repair"
		switch u.Category {
		case "phone", "laptop", "camera", "tablet", "small_appliance":
			kind = "carry_in"
		}
		for _, c := range causes {
			body, err := json.Marshal(map[string]any{"unit_id": u.ID, "fault": map[string]any{"cause": c},
				"work": map[string]any{"service_kind": kind}})
			require.NoError(b, err)
			bodies = append(bodies, body)
		}
	}
	client := newClient(b)
	url := env.Server.URL + "/v1/entitlements/decide"
	send := func(body []byte) error {
		req, err := http.NewRequest(http.MethodPost, url, bytes.NewReader(body))
		if err != nil {
			return err
		}
		req.Header.Set("Authorization", "Bearer "+ten.AdminKey)
		req.Header.Set("Content-Type", "application/json")
		return expect(client, req, http.StatusOK)
	}
	for _, body := range bodies { // every question answers 200, and the pools are warm
		require.NoError(b, send(body))
	}

	run := func(n int) openLoopResult {
		r := openLoop(n, decideRate, func(i int) error { return send(bodies[i%len(bodies)]) })
		if r.errors > 0 {
			b.Fatal(r.firstErr)
		}
		return r
	}
	// Two seconds at the rate first: the server's start-up jobs (River's
	// periodic jobs run on start) and cold caches are not what is measured.
	run(2 * decideRate)

	b.ResetTimer()
	r := run(b.N)
	b.StopTimer()
	b.ReportMetric(r.pct(0.50), "p50-ms")
	b.ReportMetric(r.pct(0.99), "p99-ms")
	b.ReportMetric(float64(b.N)/r.elapsed.Seconds(), "req/s")
	if os.Getenv("BENCH_TRACE") != "" {
		for i, d := range r.latencies {
			if d > 50*time.Millisecond {
				b.Logf("slow #%d at %.2fs: %s", i, float64(i)/decideRate, d)
			}
		}
	}
	if b.N >= 100 {
		b.Logf("decide at %d req/s open loop: %d requests, p50 %.2f ms, p99 %.2f ms", decideRate, b.N, r.pct(0.5), r.pct(0.99))
	}
}
