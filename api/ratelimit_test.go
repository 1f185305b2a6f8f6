package api

import (
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// TestRateLimiterConcurrentRefusalsSpendNothing has eight clients take one
// key's tokens at once for a second: a refused request spends nothing, so
// the key is admitted its burst and its rate over the time between its
// bucket's first take and the last take, however the refusals interleave.
// The window is measured from the takes themselves: on a loaded machine
// (make test under -race) the clients started up to 0.6 s after the test's
// clock and Wait returned as late after the last take, which read as
// tokens lost (34 admitted against 52).
func TestRateLimiterConcurrentRefusalsSpendNothing(t *testing.T) {
	t.Parallel()
	const rate, burst = 20.0, 20
	l := newRateLimiter(rate, burst, func() int { return 1 })
	var admitted, refused atomic.Int64
	require.True(t, l.take("key").ok, "the bucket starts full")
	admitted.Add(1)
	start := time.Now() // just after the bucket was made, full, by the first take
	var mu sync.Mutex
	var before, after time.Time // the last take was between them
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			var b, a time.Time
			for time.Since(start) < time.Second {
				b = time.Now()
				v := l.take("key")
				a = time.Now()
				if v.ok {
					admitted.Add(1)
				} else {
					refused.Add(1)
				}
			}
			mu.Lock()
			if a.After(after) {
				before, after = b, a
			}
			mu.Unlock()
		})
	}
	wg.Wait()
	least := float64(burst) + rate*before.Sub(start).Seconds()
	most := float64(burst) + rate*after.Sub(start).Seconds()
	t.Logf("admitted %d, refused %d; the rate allows %.1f to %.1f over %s", admitted.Load(), refused.Load(), least, most, after.Sub(start))
	require.GreaterOrEqual(t, float64(admitted.Load()), least-2, "the key's burst and rate, less nothing for the refusals")
	require.LessOrEqual(t, float64(admitted.Load()), most+2, "no more than the key's burst and rate")
}
