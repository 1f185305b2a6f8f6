package api

import (
	"fmt"
	"math"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/danielgtaylor/huma/v2"
	"golang.org/x/time/rate"

	"github.com/servicenet/servicenet/tenants"
)

// rateLimiter is a token bucket per credential (or address). Each replica
// holds 1/n of the rate and burst, n being the replicas sharing the
// database (Config.Replicas, renewed every second): behind a load balancer
// that spreads a client's requests, the replicas together hold it to the
// configured rate without a database write per request.
type rateLimiter struct {
	perSecond float64
	burst     int
	replicas  func() int
	mu        sync.Mutex
	n         int // the replica count the buckets are sized for
	buckets   map[string]*rate.Limiter
	policy    string // the RateLimit-Policy header: fixed by rate and burst
}

func newRateLimiter(perSecond float64, burst int, replicas func() int) *rateLimiter {
	return &rateLimiter{perSecond: perSecond, burst: burst, replicas: replicas, n: 1, buckets: map[string]*rate.Limiter{},
		policy: fmt.Sprintf(`"credential";q=%d;w=%d`, burst, secondsUp(float64(burst)/perSecond))}
}

// share is this replica's rate and burst when n replicas share the limit.
func (l *rateLimiter) share(n int) (rate.Limit, int) {
	return rate.Limit(l.perSecond / float64(n)), max(1, l.burst/n)
}

// get returns key's bucket and the replica count it is sized for.
func (l *rateLimiter) get(key string) (*rate.Limiter, int) {
	n := max(1, l.replicas())
	l.mu.Lock()
	defer l.mu.Unlock()
	if n != l.n { // a replica came or went: resize every bucket
		l.n = n
		r, b := l.share(n)
		now := time.Now()
		for _, bk := range l.buckets {
			bk.SetLimitAt(now, r)
			bk.SetBurstAt(now, b)
		}
	}
	b, ok := l.buckets[key]
	if !ok {
		if len(l.buckets) > 100_000 { // bound memory: idle buckets are full anyway
			clear(l.buckets)
		}
		b = rate.NewLimiter(l.share(n))
		l.buckets[key] = b
	}
	return b, n
}

// rateLimit answers 429 with Retry-After when a credential exceeds its rate.
func (s *Server) rateLimit(ctx huma.Context, next func(huma.Context)) {
	p, ok := tenants.PrincipalFrom(ctx.Context())
	if !ok {
		next(ctx)
		return
	}
	key := p.KeyID
	if p.Operator {
		key = "operator"
	}
	l := s.limiter
	b, n := l.get(key)
	perSecond := l.perSecond / float64(n)
	// IETF RateLimit headers (draft-ietf-httpapi-ratelimit-headers): the
	// policy is the credential's bucket across the replicas (q requests,
	// refilled over w seconds); the state is what is left of it (r, this
	// replica's share scaled to all of them) and the seconds until it is
	// full again (t).
	ctx.SetHeader("RateLimit-Policy", l.policy)
	if r := b.Reserve(); r.Delay() > 0 {
		wait := r.Delay()
		r.Cancel()
		ctx.SetHeader("RateLimit", fmt.Sprintf(`"credential";r=0;t=%d`, secondsUp(wait.Seconds())))
		ctx.SetHeader("Retry-After", strconv.Itoa(max(1, secondsUp(wait.Seconds()))))
		writeProblem(ctx, newProblem(http.StatusTooManyRequests, tenants.CodeRateLimited, "").withMsg("problem.rate_limited"))
		return
	}
	left := math.Max(0, b.Tokens())
	remaining := min(l.burst, int(left*float64(n)))
	ctx.SetHeader("RateLimit", `"credential";r=`+strconv.Itoa(remaining)+";t="+strconv.Itoa(secondsUp((float64(b.Burst())-left)/perSecond)))
	next(ctx)
}

// tenantShare bounds the requests of one tenant running at once on this
// replica to Config.TenantConcurrency, so that one tenant's flood puts at
// most that many requests ahead of another tenant's in the queue for the
// pool's connections. A request over the share waits up to
// tenantShareWait for a slot, then is answered 429 with Retry-After. The
// operator and public operations are not counted.
func (s *Server) tenantShare(ctx huma.Context, next func(huma.Context)) {
	p, ok := tenants.PrincipalFrom(ctx.Context())
	if !ok || p.TenantID == "" {
		next(ctx)
		return
	}
	slots := s.tenantSlots(p.TenantID)
	select {
	case slots <- struct{}{}:
	default:
		t := time.NewTimer(tenantShareWait)
		defer t.Stop()
		select {
		case slots <- struct{}{}:
		case <-t.C:
			ctx.SetHeader("Retry-After", "1")
			writeProblem(ctx, newProblem(http.StatusTooManyRequests, tenants.CodeRateLimited, "").
				withMsg("api.tenant_busy", "Running", cap(slots)))
			return
		case <-ctx.Context().Done():
			writeProblem(ctx, toProblem(ctx.Context(), s.log, ctx.URL().Path, ctx.Context().Err()))
			return
		}
	}
	defer func() { <-slots }()
	next(ctx)
}

// MinTenantConcurrency is the least share a tenant gets by default. A slot
// is held for a request's whole life, its body's upload included, not only
// while it holds a connection: with a pool sized to the cores (5 on two,
// config.DefaultDBMaxConns), half the pool would let two slow uploads of
// one tenant shut its other requests out of the replica. Requests over the
// pool wait in the pool's queue with every other tenant's, behind at most
// this many of the flooding tenant's transactions.
const MinTenantConcurrency = 10

// defaultTenantConcurrency is a tenant's share of a replica whose pool has
// conns connections: half of them, at least MinTenantConcurrency.
func defaultTenantConcurrency(conns int32) int {
	return max(MinTenantConcurrency, int(conns)/2)
}

// tenantShareWait is how long a request over its tenant's share waits.
const tenantShareWait = 500 * time.Millisecond

// tenantSlots is the tenant's semaphore.
func (s *Server) tenantSlots(tenantID string) chan struct{} {
	s.sharesMu.Lock()
	defer s.sharesMu.Unlock()
	c, ok := s.shares[tenantID]
	if !ok {
		c = make(chan struct{}, s.cfg.TenantConcurrency)
		s.shares[tenantID] = c
	}
	return c
}

// secondsUp is s rounded up to whole seconds, at least 0.
func secondsUp(s float64) int {
	if s <= 0 || math.IsInf(s, 0) || math.IsNaN(s) {
		return 0
	}
	return int(math.Ceil(s))
}
