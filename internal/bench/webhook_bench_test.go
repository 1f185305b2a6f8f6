package bench

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/servicenet/servicenet/internal/pg"
	"github.com/servicenet/servicenet/tenants/events"
)

// webhookRate is the event rate of BenchmarkWebhookDelivery (events/s).
const webhookRate = 100

// BenchmarkWebhookDelivery appends events to a tenant's feed at 100 events/s
// (open loop) with one endpoint subscribed to them on a local receiver, and
// reports the p50 and p99 of enqueue → delivery: the receiver's clock when
// the signed POST arrives minus the event's occurred_at (the payload
// timestamp). The path measured is the real one: the periodic dispatch job
// (every second) turns the feed into deliveries and their River jobs, and
// the delivery workers POST them. b.N is the number of events.
func BenchmarkWebhookDelivery(b *testing.B) {
	env := newEnv(b)
	ten := env.CreateTenant(b, "webhook-bench")
	ctx := context.Background()

	var (
		mu        sync.Mutex
		latencies []time.Duration
	)
	rcv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		at := time.Now()
		body, _ := io.ReadAll(r.Body)
		var p struct {
			Type      string    `json:"type"`
			Timestamp time.Time `json:"timestamp"`
		}
		if json.Unmarshal(body, &p) == nil && p.Type == "unit.registered" {
			mu.Lock()
			latencies = append(latencies, at.Sub(p.Timestamp))
			mu.Unlock()
		}
		w.WriteHeader(http.StatusNoContent)
	}))
	b.Cleanup(rcv.Close)
	env.Webhooks.AllowHost(rcv.Listener.Addr().String())
	r := env.Do(b, http.MethodPost, "/v1/webhooks", ten.AdminKey, map[string]any{"url": rcv.URL + "/hooks", "event_types": []string{"unit.*"}})
	require.Equal(b, http.StatusCreated, r.Status, "%s", r.Body)

	received := func() int {
		mu.Lock()
		defer mu.Unlock()
		return len(latencies)
	}
	// openLoop appends n events at webhookRate and waits for their deliveries.
	openLoop := func(n int) time.Duration {
		before := received()
		start := time.Now()
		var wg sync.WaitGroup
		for i := range n {
			time.Sleep(time.Until(start.Add(time.Duration(i) * time.Second / webhookRate)))
			wg.Go(func() {
				err := pg.InTenantTx(ctx, env.DB.App, ten.ID, func(tx pg.TenantTx) error {
					return events.Append(ctx, tx, events.New{Type: "unit.registered", SubjectID: "bench", Actor: "bench",
						Data: map[string]any{"serial": strconv.Itoa(i)}})
				})
				if err != nil {
					b.Error(err)
				}
			})
		}
		wg.Wait()
		elapsed := time.Since(start)
		deadline := time.Now().Add(time.Minute)
		for received() < before+n {
			require.True(b, time.Now().Before(deadline), "delivered %d of %d", received()-before, n)
			time.Sleep(10 * time.Millisecond)
		}
		return elapsed
	}
	// A second at the rate first: River's start-up jobs and cold caches are
	// not what is measured.
	openLoop(webhookRate)
	mu.Lock()
	latencies = latencies[:0]
	mu.Unlock()

	b.ResetTimer()
	elapsed := openLoop(b.N)
	b.StopTimer()
	mu.Lock()
	ls := slices.Clone(latencies)
	mu.Unlock()
	slices.Sort(ls)
	pct := func(q float64) float64 {
		return float64(ls[min(len(ls)-1, int(float64(len(ls))*q))].Microseconds()) / 1000
	}
	b.ReportMetric(pct(0.50), "p50-ms")
	b.ReportMetric(pct(0.99), "p99-ms")
	b.ReportMetric(float64(b.N)/elapsed.Seconds(), "events/s")
	if b.N >= 100 {
		b.Logf("webhooks at %d events/s: %d delivered, p50 %.0f ms, p99 %.0f ms (target p99 ≤ 2000 ms)", webhookRate, len(ls), pct(0.5), pct(0.99))
	}
}
