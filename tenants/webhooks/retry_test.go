package webhooks_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/servicenet/servicenet/tenants/webhooks"
)

// answering is a receiver whose status code and Retry-After header the test
// sets before each attempt.
type answering struct {
	mu         sync.Mutex
	code       int
	retryAfter string
	srv        *httptest.Server
}

func newAnswering(t *testing.T, b *bundle) *answering {
	t.Helper()
	a := &answering{code: http.StatusNoContent}
	a.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		a.mu.Lock()
		defer a.mu.Unlock()
		if a.retryAfter != "" {
			w.Header().Set("Retry-After", a.retryAfter)
		}
		w.WriteHeader(a.code)
	}))
	t.Cleanup(a.srv.Close)
	b.svc.AllowHost(a.srv.Listener.Addr().String())
	return a
}

func (a *answering) set(code int, retryAfter string) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.code, a.retryAfter = code, retryAfter
}

// attempt emits an event, dispatches it and makes its delivery's first
// attempt (the last one when final), answered with code and retryAfter; it
// returns the delivery as the log shows it and Deliver's error.
func (b *bundle) attempt(t *testing.T, a *answering, endpointID string, code int, retryAfter string, final bool) (webhooks.Delivery, error) {
	t.Helper()
	ctx := context.Background()
	a.set(code, retryAfter)
	b.emit(t, "unit.registered", nil)
	n, err := b.svc.Dispatch(ctx, b.p.TenantID)
	require.NoError(t, err)
	require.Equal(t, 1, n)
	id := b.enq[len(b.enq)-1]
	deliverErr := b.svc.Deliver(ctx, b.p.TenantID, id, final)
	ds, _, err := b.svc.ListDeliveries(ctx, b.p, endpointID, webhooks.DeliveryFilter{})
	require.NoError(t, err)
	for _, d := range ds {
		if d.ID == id {
			return d, deliverErr
		}
	}
	t.Fatalf("delivery %s is not in the log", id)
	return webhooks.Delivery{}, nil
}

// A receiver that answers 429 Too Many Requests or 503 Service Unavailable
// with a Retry-After (delta-seconds or an HTTP-date) gets its next attempt
// no sooner than it asks, spread upward only and capped at MaxRetryAfter;
// a Retry-After that is malformed, zero or in the past, or one on another
// status, leaves the (jittered) schedule in charge. The delivery log's
// next_attempt_at is the time Deliver hands to the job (RetryError.At).
func TestDeliverHonoursRetryAfter(t *testing.T) {
	t.Parallel()
	b := setup(t, "whk-retry-after")
	ctx := context.Background()
	now := time.Now().UTC().Truncate(time.Second) // HTTP-dates name whole seconds
	u := 0.0
	b.svc.Now = func() time.Time { return now }
	b.svc.Rand = func() float64 { return u }
	a := newAnswering(t, b)
	ep, err := b.svc.CreateEndpoint(ctx, b.p, webhooks.NewEndpoint{URL: a.srv.URL, EventTypes: []string{"*"}})
	require.NoError(t, err)
	date := func(d time.Duration) string { return now.Add(d).Format(http.TimeFormat) }
	schedule := 4 * time.Second // the first wait, 5 s, spread by -20 % (u = 0)

	for _, c := range []struct {
		name       string
		code       int
		retryAfter string
		u          float64
		want       time.Duration
	}{
		{"TooManyRequestsDeltaSeconds", http.StatusTooManyRequests, "120", 0, 120 * time.Second},
		{"UnavailableDeltaSeconds", http.StatusServiceUnavailable, "120", 0, 120 * time.Second},
		{"SpreadUpwardOnly", http.StatusTooManyRequests, "120", 0.5, 132 * time.Second},
		{"TooManyRequestsHTTPDate", http.StatusTooManyRequests, date(10 * time.Minute), 0, 10 * time.Minute},
		{"UnavailableHTTPDate", http.StatusServiceUnavailable, date(7 * time.Minute), 0, 7 * time.Minute},
		{"CappedAtMaxRetryAfter", http.StatusTooManyRequests, "86400", 0, webhooks.MaxRetryAfter},
		{"CappedWhenSpread", http.StatusTooManyRequests, "3500", 0.999, webhooks.MaxRetryAfter},
		{"OverflowingDeltaCapped", http.StatusServiceUnavailable, "99999999999999999999999", 0, webhooks.MaxRetryAfter},
		{"MalformedFallsBack", http.StatusTooManyRequests, "in a while", 0, schedule},
		{"FractionFallsBack", http.StatusTooManyRequests, "1.5", 0, schedule},
		{"NegativeFallsBack", http.StatusServiceUnavailable, "-120", 0, schedule},
		{"PastDateFallsBack", http.StatusServiceUnavailable, date(-time.Minute), 0, schedule},
		{"ZeroFallsBack", http.StatusTooManyRequests, "0", 0, schedule},
		{"AbsentFallsBack", http.StatusServiceUnavailable, "", 0, schedule},
		{"ShorterThanTheScheduleKeepsIt", http.StatusTooManyRequests, "2", 0, schedule},
		{"OtherStatusIgnoresIt", http.StatusInternalServerError, "120", 0, schedule},
		{"ScheduleSpreadUpward", http.StatusBadGateway, "", 0.999, 5*time.Second + 999*time.Millisecond},
	} {
		t.Run(c.name, func(t *testing.T) {
			u = c.u
			d, err := b.attempt(t, a, ep.ID, c.code, c.retryAfter, false)
			require.ErrorIs(t, err, webhooks.ErrAttemptFailed)
			var retry *webhooks.RetryError
			require.ErrorAs(t, err, &retry)
			require.Equal(t, webhooks.DeliveryRetrying, d.Status)
			require.Equal(t, c.code, *d.LastStatusCode)
			require.NotNil(t, d.NextAttemptAt)
			require.WithinDuration(t, now.Add(c.want), *d.NextAttemptAt, time.Millisecond)
			require.WithinDuration(t, retry.At, *d.NextAttemptAt, time.Microsecond, "the job is scheduled when the log says")
		})
	}

	t.Run("LastAttemptFailsWhateverItAsks", func(t *testing.T) {
		d, err := b.attempt(t, a, ep.ID, http.StatusTooManyRequests, "120", true)
		require.ErrorIs(t, err, webhooks.ErrAttemptFailed)
		var retry *webhooks.RetryError
		require.False(t, errors.As(err, &retry), "no next attempt")
		require.Equal(t, webhooks.DeliveryFailed, d.Status)
		require.Nil(t, d.NextAttemptAt)
	})

	t.Run("GoneUnchanged", func(t *testing.T) {
		d, err := b.attempt(t, a, ep.ID, http.StatusGone, "120", false)
		require.ErrorIs(t, err, webhooks.ErrEndpointGone)
		var retry *webhooks.RetryError
		require.False(t, errors.As(err, &retry), "a 410 is not retried, whatever Retry-After says")
		require.Equal(t, webhooks.DeliveryFailed, d.Status)
		require.Nil(t, d.NextAttemptAt)
		got, err := b.svc.GetEndpoint(ctx, b.p, ep.ID)
		require.NoError(t, err)
		require.False(t, got.Enabled)
	})
}

// A Retry-After never moves the next attempt past the end of the
// delivery's schedule (its creation plus every wait), where the schedule
// would have ended it anyway; the schedule's own wait still applies.
func TestDeliverRetryAfterStaysWithinTheSchedule(t *testing.T) {
	t.Parallel()
	b := setup(t, "whk-retry-window")
	ctx := context.Background()
	now := time.Now().UTC()
	b.svc.Now = func() time.Time { return now }
	b.svc.Rand = func() float64 { return 0 }
	b.svc.SetPolicy(webhooks.Policy{RetrySchedule: []time.Duration{5 * time.Second, 30 * time.Second}})
	a := newAnswering(t, b)
	ep, err := b.svc.CreateEndpoint(ctx, b.p, webhooks.NewEndpoint{URL: a.srv.URL, EventTypes: []string{"*"}})
	require.NoError(t, err)

	d, err := b.attempt(t, a, ep.ID, http.StatusTooManyRequests, "120", false)
	var retry *webhooks.RetryError
	require.ErrorAs(t, err, &retry)
	require.WithinDuration(t, d.CreatedAt.Add(35*time.Second), *d.NextAttemptAt, time.Millisecond,
		"120 s asked, but the schedule ends 35 s after the delivery was made")
	require.WithinDuration(t, retry.At, *d.NextAttemptAt, time.Microsecond)
}

// RetryDelay spreads each wait of the schedule by up to ±RetryJitter, from
// the injected random source; the last wait repeats.
func TestDeliveryRetryDelayJitter(t *testing.T) {
	t.Parallel()
	steps := webhooks.DefaultRetrySchedule
	for _, u := range []float64{0, 0.25, 0.5, 0.75, 0.999999} {
		s := &webhooks.Service{Rand: func() float64 { return u }}
		for n := 1; n <= len(steps)+2; n++ {
			step := steps[min(n, len(steps))-1]
			want := time.Duration(float64(step) * (1 + webhooks.RetryJitter*(2*u-1)))
			require.InDelta(t, float64(want), float64(s.RetryDelay(n)), float64(time.Millisecond), "attempt %d, u %v", n, u)
		}
	}

	// The default source: within the bounds, and spread.
	s := &webhooks.Service{}
	seen := map[time.Duration]bool{}
	for range 200 {
		d := s.RetryDelay(1)
		require.GreaterOrEqual(t, d, 4*time.Second)
		require.LessOrEqual(t, d, 6*time.Second)
		seen[d] = true
	}
	require.Greater(t, len(seen), 100, "the waits are spread, not in lock-step")
}
