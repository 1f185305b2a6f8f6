package bench

import (
	"fmt"
	"io"
	"net/http"
	"os"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/servicenet/servicenet/api"
	"github.com/servicenet/servicenet/internal/apitest"
)

// BenchmarkNoisyNeighbour measures tenant B's latency at a steady 50
// requests/s (open loop, GET /v1/network/imports: authentication, the
// tenant's share, one tenant-scoped read) alone and while tenant A floods
// the same operation at twice its rate limit (the production default, 50/s
// with a burst of 100), so that it uses all of its budget, in alternating
// runs. Reported: B's p99 alone (alone-p99-ms) and under A's flood
// (flood-p99-ms), each over all the runs of its condition, their ratio
// (target ≤ 2) and A's admitted and refused rates.
func BenchmarkNoisyNeighbour(b *testing.B) {
	env := apitest.New(b, apitest.Options{RatePerSecond: 50, RateBurst: 100, TenantConcurrency: api.MinTenantConcurrency, ServePool: true}) // serve's defaults
	ta := env.CreateTenant(b, "noisy-a")
	tb := env.CreateTenant(b, "quiet-b")
	client := newClient(b)
	send := func(key string) (int, error) {
		req, err := http.NewRequest(http.MethodGet, env.Server.URL+"/v1/network/imports", nil)
		if err != nil {
			return 0, err
		}
		req.Header.Set("Authorization", "Bearer "+key)
		resp, err := client.Do(req)
		if err != nil {
			return 0, err
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		return resp.StatusCode, nil
	}
	quiet := func(int) error {
		status, err := send(tb.AdminKey)
		if err == nil && status != http.StatusOK {
			err = fmt.Errorf("tenant B got %d", status)
		}
		return err
	}
	// B's p99 moves with everything else on the two shared cores: one
	// pair of 250-request runs gave ratios from 0.4 to 2.5 on the same
	// commit. So the runs alternate, alone and under A's flood, in pairs,
	// and the p99 of each condition is taken over all its runs together.
	const n, rate, pairs = 250, 50, 4 // 5 s a run
	for range b.N {
		openLoop(50, rate, quiet) // warm up
		var alone, flood []time.Duration
		var errs int
		var firstErr error
		var aAdmitted, aRefused, floodTime float64
		keep := func(r openLoopResult, into *[]time.Duration) {
			*into = append(*into, r.latencies...)
			errs += r.errors
			if firstErr == nil {
				firstErr = r.firstErr
			}
		}
		for range pairs {
			keep(openLoop(n, rate, quiet), &alone)

			// A sends twice its rate limit, open loop: it uses its whole
			// budget and half its requests are refused. (16 closed-loop
			// clients refused as fast as they can, about 3,000 req/s,
			// saturate the two shared cores this runs on, server and load
			// generator together: B's p99 then rose 3.3x, CPU rather than
			// the database.)
			var stop atomic.Bool
			var admitted, refused atomic.Int64
			floodDone := make(chan struct{})
			go func() {
				defer close(floodDone)
				interval := time.Second / (2 * 50)
				var wg sync.WaitGroup
				for next := time.Now(); !stop.Load(); next = next.Add(interval) {
					time.Sleep(time.Until(next))
					wg.Go(func() {
						switch status, _ := send(ta.AdminKey); status {
						case http.StatusOK:
							admitted.Add(1)
						case http.StatusTooManyRequests:
							refused.Add(1)
						}
					})
				}
				wg.Wait()
			}()
			time.Sleep(3 * time.Second) // A's burst of 100 (refilled while it rested) is spent
			a0, r0, t0 := admitted.Load(), refused.Load(), time.Now()
			keep(openLoop(n, rate, quiet), &flood)
			aAdmitted += float64(admitted.Load() - a0)
			aRefused += float64(refused.Load() - r0)
			floodTime += time.Since(t0).Seconds()
			stop.Store(true)
			<-floodDone
		}
		if errs > 0 {
			b.Fatalf("tenant B failed: %v", firstErr)
		}
		p99 := func(l []time.Duration) float64 {
			return openLoopResult{sorted: slices.Sorted(slices.Values(l))}.pct(0.99)
		}
		aloneP99, floodP99 := p99(alone), p99(flood)
		ratio := floodP99 / aloneP99
		b.ReportMetric(aloneP99, "alone-p99-ms")
		b.ReportMetric(floodP99, "flood-p99-ms")
		b.ReportMetric(ratio, "p99-ratio")
		b.ReportMetric(aAdmitted/floodTime, "A-admitted/s")
		b.ReportMetric(aRefused/floodTime, "A-refused/s")
		fmt.Printf("noisy-neighbour: tenant B at %d req/s, %d runs of %d requests alone and %d while A floods, alternating: p99 %.2f ms alone, %.2f ms while A floods (%.0f admitted/s, %.0f refused/s); ratio %.2f (target ≤ 2)\n",
			rate, pairs, n, pairs, aloneP99, floodP99, aAdmitted/floodTime, aRefused/floodTime, ratio)
	}
}

// rssMB is the process's resident memory in MiB (Linux).
func rssMB(b *testing.B) float64 {
	raw, err := os.ReadFile("/proc/self/status")
	require.NoError(b, err)
	for line := range strings.SplitSeq(string(raw), "\n") {
		if v, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			kb, err := strconv.ParseFloat(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 64)
			require.NoError(b, err)
			return kb / 1024
		}
	}
	b.Fatal("no VmRSS")
	return 0
}

// technicianFile generates a JSON Lines import of whole lines, at least
// left bytes, on the fly (a manufacturer, then technicians), never holding it.
type technicianFile struct {
	left int64
	n    int
	buf  []byte
}

func (f *technicianFile) Read(p []byte) (int, error) {
	for len(f.buf) < len(p) && f.left > 0 {
		before := len(f.buf)
		if f.n == 0 {
			f.buf = append(f.buf, `{"type":"node","external_code":"MFR","name":"示例家电","tier":"manufacturer","status":"active","coverage":["370000"],"categories":["washer"],"service_kinds":["repair"],"daily_capacity":0}`+"\n"...)
		}
		f.n++
		f.buf = fmt.Appendf(f.buf, `{"type":"technician","external_code":"T-%08d","node_code":"MFR","name":"李师傅","phone":"+86 138 0532 %04d","skills":[{"category":"washer","level":4}],"licence":{"number":"SD-2025-%06d","issued_on":"2025-02-01","expires_on":"2028-01-31"},"shifts":[{"weekday":1,"start":"08:00","end":"18:00"}],"daily_job_limit":8,"home":{"region_code":"370212"}}`+"\n",
			f.n, f.n%10000, f.n%1000000)
		f.left -= int64(len(f.buf) - before)
	}
	if len(f.buf) == 0 {
		return 0, io.EOF
	}
	k := copy(p, f.buf)
	f.buf = f.buf[:copy(f.buf, f.buf[k:])]
	return k, nil
}

// BenchmarkImportUploadMemory uploads a 200 MB network import (JSON Lines,
// generated as it is sent, in chunked encoding) to an API server (the job
// is queued, not run) and samples the process's resident memory every
// 20 ms: reported is its peak above the idle figure measured just before
// (target < 150 MB), and the upload rate. Server and client share the
// process, so the figure bounds the server's.
func BenchmarkImportUploadMemory(b *testing.B) {
	const size = 200 << 20
	env := apitest.New(b, apitest.Options{APIOnly: true, MaxImportBytes: 256 << 20})
	ten := env.CreateTenant(b, "upload-memory")
	for range b.N {
		runtime.GC()
		idle := rssMB(b)
		var peak atomic.Uint64
		peak.Store(uint64(idle))
		done := make(chan struct{})
		go func() {
			t := time.NewTicker(20 * time.Millisecond)
			defer t.Stop()
			for {
				select {
				case <-done:
					return
				case <-t.C:
					if m := uint64(rssMB(b)); m > peak.Load() {
						peak.Store(m)
					}
				}
			}
		}()
		req, err := http.NewRequest(http.MethodPost, env.Server.URL+"/v1/network/imports", io.NopCloser(&technicianFile{left: size}))
		require.NoError(b, err)
		req.Header.Set("Authorization", "Bearer "+ten.AdminKey)
		req.Header.Set("Content-Type", "application/x-ndjson")
		start := time.Now()
		resp, err := http.DefaultClient.Do(req)
		require.NoError(b, err)
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		elapsed := time.Since(start)
		close(done)
		require.Equal(b, http.StatusAccepted, resp.StatusCode, "%s", body)
		above := float64(peak.Load()) - idle
		b.ReportMetric(above, "rss-above-idle-MB")
		b.ReportMetric(float64(size)/(1<<20)/elapsed.Seconds(), "MB/s")
		fmt.Printf("import-upload-memory: 200 MB uploaded in %.1f s; resident memory %.0f MB idle, peak %.0f MB above it (target < 150)\n",
			elapsed.Seconds(), idle, above)
	}
}
