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

// bucket returns key's bucket at now and the replica count it is sized
// for. l.mu must be held.
func (l *rateLimiter) bucket(key string, now time.Time) (*rate.Limiter, int) {
	n := max(1, l.replicas())
	if n != l.n { // a replica came or went: resize every bucket
		l.n = n
		r, b := l.share(n)
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

// tokens is what is left of key's bucket on this replica, and the replica
// count it is sized for.
func (l *rateLimiter) tokens(key string) (float64, int) {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := time.Now()
	b, n := l.bucket(key, now)
	return b.TokensAt(now), n
}

// verdict is what take decided for one request.
type verdict struct {
	ok bool
	// wait, when refused, is how long until the key has a token.
	wait time.Duration
	// remaining, when admitted, is what is left of the key's bucket (this
	// replica's share scaled to all of them); full is how long until the
	// bucket is full again.
	remaining int
	full      time.Duration
}

// take spends one of key's tokens if it has one; a refusal spends nothing.
// Buckets change only under l.mu and at a time read under it:
// x/time/rate takes the caller's time, and one read before another
// caller's (by a request that then waited for the bucket's lock) sets the
// bucket's clock back, so the refill since is counted twice. With a
// reservation cancelled on refusal, as before, eight concurrent clients of
// one key were admitted anywhere from 20 to 86 in a second that allows 40
// (TestRateLimiterConcurrentRefusalsSpendNothing).
func (l *rateLimiter) take(key string) verdict {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := time.Now()
	b, n := l.bucket(key, now)
	if !b.AllowN(now, 1) {
		return verdict{wait: untilTokens(1-b.TokensAt(now), b.Limit())}
	}
	left := math.Max(0, b.TokensAt(now))
	return verdict{ok: true, remaining: min(l.burst, int(left*float64(n))), full: untilTokens(float64(b.Burst())-left, b.Limit())}
}

// untilTokens is how long a bucket refilled at limit takes to gain tokens.
func untilTokens(tokens float64, limit rate.Limit) time.Duration {
	if tokens <= 0 {
		return 0
	}
	if limit <= 0 {
		return rate.InfDuration
	}
	return time.Duration(tokens / float64(limit) * float64(time.Second))
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
	// IETF RateLimit headers (draft-ietf-httpapi-ratelimit-headers): the
	// policy is the credential's bucket across the replicas (q requests,
	// refilled over w seconds); the state is what is left of it (r, this
	// replica's share scaled to all of them) and the seconds until it is
	// full again (t).
	ctx.SetHeader("RateLimit-Policy", l.policy)
	v := l.take(key)
	if !v.ok {
		ctx.SetHeader("RateLimit", fmt.Sprintf(`"credential";r=0;t=%d`, secondsUp(v.wait.Seconds())))
		ctx.SetHeader("Retry-After", strconv.Itoa(max(1, secondsUp(v.wait.Seconds()))))
		writeProblem(ctx, newProblem(http.StatusTooManyRequests, tenants.CodeRateLimited, "").withMsg("problem.rate_limited"))
		return
	}
	ctx.SetHeader("RateLimit", `"credential";r=`+strconv.Itoa(v.remaining)+";t="+strconv.Itoa(secondsUp(v.full.Seconds())))
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
