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
// the key is admitted its burst and its rate over the second, however the
// refusals interleave.
func TestRateLimiterConcurrentRefusalsSpendNothing(t *testing.T) {
	t.Parallel()
	const rate, burst = 20.0, 20
	l := newRateLimiter(rate, burst, func() int { return 1 })
	var admitted, refused atomic.Int64
	start := time.Now()
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for time.Since(start) < time.Second {
				if v := l.take("key"); v.ok {
					admitted.Add(1)
				} else {
					refused.Add(1)
				}
			}
		})
	}
	wg.Wait()
	want := float64(burst) + rate*time.Since(start).Seconds()
	t.Logf("admitted %d, refused %d; the rate allows %.1f", admitted.Load(), refused.Load(), want)
	require.InDelta(t, want, float64(admitted.Load()), 2, "the key's burst and rate, less nothing for the refusals")
}
