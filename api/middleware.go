package api

import (
	"bytes"
	"context"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"net"
	"net/http"
	"regexp"
	"runtime/debug"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/danielgtaylor/huma/v2"
	"github.com/go-chi/chi/v5"
	"github.com/go-chi/chi/v5/middleware"
	"github.com/prometheus/client_golang/prometheus"
	"golang.org/x/time/rate"

	"github.com/servicenet/servicenet/authz"
	"github.com/servicenet/servicenet/internal/i18n"
	"github.com/servicenet/servicenet/internal/logging"
	"github.com/servicenet/servicenet/internal/pg"
	"github.com/servicenet/servicenet/tenants"
	"github.com/servicenet/servicenet/tenants/identity"
	"github.com/servicenet/servicenet/tenants/webhooks"
)

var requestIDPattern = regexp.MustCompile(`^[A-Za-z0-9._:-]{1,64}$`)

// requestID takes the caller's X-Request-Id when it is sane, or makes one,
// returns it in the X-Request-Id response header and attaches it (with the
// method and path) to every log line of the request.
func (s *Server) requestID(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id := r.Header.Get("X-Request-Id")
		if !requestIDPattern.MatchString(id) {
			id = strings.TrimPrefix(tenants.NewID("req"), "req_")
		}
		w.Header().Set("X-Request-Id", id)
		ctx := logging.WithFields(r.Context(),
			slog.String("request_id", id), slog.String("method", r.Method), slog.String("path", r.URL.Path))
		next.ServeHTTP(w, r.WithContext(ctx))
	})
}

type httpMetrics struct {
	requests *prometheus.CounterVec
	duration *prometheus.HistogramVec
}

func newHTTPMetrics(reg *prometheus.Registry) *httpMetrics {
	m := &httpMetrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "servicenet_http_requests_total", Help: "HTTP requests by route pattern, method and status.",
		}, []string{"method", "route", "status"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "servicenet_http_request_duration_seconds", Help: "HTTP request latency by route pattern and method.",
			Buckets: []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5},
		}, []string{"method", "route"}),
	}
	// Registering twice (several servers in one test binary) reuses the first.
	for _, c := range []prometheus.Collector{m.requests, m.duration} {
		if err := reg.Register(c); err != nil {
			var are prometheus.AlreadyRegisteredError
			if errors.As(err, &are) {
				switch existing := are.ExistingCollector.(type) {
				case *prometheus.CounterVec:
					m.requests = existing
				case *prometheus.HistogramVec:
					m.duration = existing
				}
			}
		}
	}
	return m
}

// observe writes one access log line per request and records metrics by
// route pattern (never by raw path, which would explode cardinality).
func (s *Server) observe(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		ww := middleware.NewWrapResponseWriter(w, r.ProtoMajor)
		next.ServeHTTP(ww, r)
		route := "unmatched"
		if rc := chi.RouteContext(r.Context()); rc != nil && rc.RoutePattern() != "" {
			route = rc.RoutePattern()
		}
		status := ww.Status()
		if status == 0 {
			status = http.StatusOK
		}
		elapsed := time.Since(start)
		s.metrics.requests.WithLabelValues(r.Method, route, strconv.Itoa(status)).Inc()
		s.metrics.duration.WithLabelValues(r.Method, route).Observe(elapsed.Seconds())
		level := slog.LevelInfo
		if status >= 500 {
			level = slog.LevelError
		}
		s.log.Log(r.Context(), level, "request", "status", status, "route", route,
			"duration_ms", float64(elapsed.Microseconds())/1000, "bytes", ww.BytesWritten())
	})
}

// defaultBodyReadTimeout is Huma's allowance for reading a request body
// when the operation sets none.
const defaultBodyReadTimeout = 5 * time.Second

// deadline bounds every operation: its context ends RequestTimeout after it
// began, so waiting for a pooled connection, a frozen database or a lock
// ends there, and the request is answered (503 database_unavailable, see
// toProblem) instead of hanging. An operation that allows a slow upload
// (a BodyReadTimeout above Huma's default: the network import) gets that
// allowance on top, and register narrows its handler's context to
// RequestTimeout once the body is read.
func (s *Server) deadline(ctx huma.Context, next func(huma.Context)) {
	budget := handlerBudget(s.cfg.RequestTimeout, ctx.Operation())
	if bt := ctx.Operation().BodyReadTimeout; bt > defaultBodyReadTimeout {
		budget += bt
	}
	c, cancel := context.WithTimeout(ctx.Context(), budget)
	defer cancel()
	next(huma.WithContext(ctx, c))
}

// deadlineHTTP is deadline for a plain handler (the job dashboard).
func (s *Server) deadlineHTTP(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx, cancel := context.WithTimeout(r.Context(), s.cfg.RequestTimeout)
		defer cancel()
		next.ServeHTTP(w, r.WithContext(ctx))
	})
}

// recoverer turns a panic into a logged stack trace and a bare 500 problem.
func (s *Server) recoverer(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer func() {
			if v := recover(); v != nil {
				if v == http.ErrAbortHandler {
					panic(v)
				}
				s.log.ErrorContext(r.Context(), "panic", "panic", v, "stack", string(debug.Stack()))
				writeProblemHTTP(w, r, newProblem(http.StatusInternalServerError, "", "").withMsg("problem.internal"))
			}
		}()
		next.ServeHTTP(w, r)
	})
}

func writeProblemHTTP(w http.ResponseWriter, r *http.Request, p *Problem) {
	p.RequestID = logging.Get(r.Context(), "request_id")
	p.Instance = r.URL.Path
	lang := i18n.Negotiate(r.Header.Get("Accept-Language"), "")
	p.Localize(lang)
	w.Header().Set("Content-Language", lang)
	for name, values := range p.headers {
		w.Header()[name] = values
	}
	w.Header().Set("Content-Type", "application/problem+json")
	w.WriteHeader(p.Status)
	_ = json.NewEncoder(w).Encode(p)
}

func writeProblem(ctx huma.Context, p *Problem) {
	p.RequestID = logging.Get(ctx.Context(), "request_id")
	p.Instance = ctx.URL().Path
	lang := languageOf(ctx)
	p.Localize(lang)
	ctx.SetHeader("Content-Language", lang)
	for name, values := range p.headers {
		for _, v := range values {
			ctx.SetHeader(name, v)
		}
	}
	ctx.SetHeader("Content-Type", "application/problem+json")
	ctx.SetStatus(p.Status)
	_ = json.NewEncoder(ctx.BodyWriter()).Encode(p)
}

// unauthenticated is the 401 problem whose detail is the catalog message code.
func unauthenticated(code string) *Problem {
	p := newProblem(http.StatusUnauthorized, tenants.CodeUnauthenticated, "").withMsg(code)
	p.Errors = []*FieldDetail{{Location: "header.Authorization", Message: p.Detail, Msg: p.DetailMessage}}
	return p
}

func bearer(h string) (string, bool) {
	scheme, token, ok := strings.Cut(h, " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") || strings.TrimSpace(token) == "" {
		return "", false
	}
	return strings.TrimSpace(token), true
}

func (s *Server) isOperator(token string) bool {
	return s.cfg.OperatorToken != "" &&
		subtle.ConstantTimeCompare([]byte(token), []byte(s.cfg.OperatorToken)) == 1
}

// operatorOnly guards a plain handler (the job dashboard) with the operator
// token, as a bearer token or as the password of HTTP basic auth (so a
// browser can prompt for it).
func (s *Server) operatorOnly(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		token, ok := bearer(r.Header.Get("Authorization"))
		if !ok {
			_, token, ok = r.BasicAuth()
		}
		if !ok || !s.isOperator(token) {
			w.Header().Set("WWW-Authenticate", `Basic realm="ServiceNet jobs", charset="UTF-8"`)
			writeProblemHTTP(w, r, unauthenticated("auth.dashboard_needs_operator"))
			return
		}
		next.ServeHTTP(w, r)
	})
}

// language negotiates the response's language once the tenant is known:
// the best supported language of Accept-Language, else the tenant's
// default_language, else English. It records it in the context for the
// transformer (localize) and says it in Content-Language.
func (s *Server) language(ctx huma.Context, next func(huma.Context)) {
	p, _ := tenants.PrincipalFrom(ctx.Context())
	lang := i18n.Negotiate(ctx.Header("Accept-Language"), p.Language)
	ctx.SetHeader("Content-Language", lang)
	next(huma.WithContext(ctx, i18n.WithLanguage(ctx.Context(), lang)))
}

// languageOf is the language negotiated for ctx, or, before negotiation
// (a failed authentication), Accept-Language's best else English.
func languageOf(ctx huma.Context) string {
	if l := i18n.Language(ctx.Context()); l != "" {
		return l
	}
	return i18n.Negotiate(ctx.Header("Accept-Language"), "")
}

// localize is the transformer that renders every message-carrying text of a
// response (problems, dispatch reasons, trace lines) in the negotiated
// language.
func localize(ctx huma.Context, _ string, v any) (any, error) {
	lang := languageOf(ctx)
	ctx.SetHeader("Content-Language", lang)
	return i18n.LocalizeAll(v, lang), nil
}

// authenticate resolves the credential into a Principal and checks the
// operation's permission, before the body is read. A missing or bad
// credential is 401; a role without the permission is 403.
func (s *Server) authenticate(ctx huma.Context, next func(huma.Context)) {
	perm, _ := ctx.Operation().Metadata[permissionKey].(authz.Permission)
	logging.Add(ctx.Context(), slog.String("operation", ctx.Operation().OperationID))
	if perm == authz.Public {
		next(ctx)
		return
	}
	header := ctx.Header("Authorization")
	token, ok := bearer(header)
	addr := clientAddr(ctx.RemoteAddr())
	if !ok {
		msg := "auth.missing_credential"
		if header != "" {
			msg = "auth.malformed_authorization"
		}
		s.authFailed(ctx, addr, unauthenticated(msg))
		return
	}
	var p tenants.Principal
	if perm == authz.Operator {
		if !s.isOperator(token) {
			s.authFailed(ctx, addr, unauthenticated("auth.operator_token_required"))
			return
		}
		p = tenants.Principal{Operator: true}
	} else {
		// A key the cache holds as valid always passes; anything else from
		// an address that keeps failing is refused before any lookup.
		if !s.deps.Identity.Known(token) && s.refuseFailing(ctx, addr) {
			return
		}
		var err error
		p, err = s.deps.Identity.Authenticate(ctx.Context(), token)
		if err != nil {
			p := toProblem(ctx.Context(), s.log, ctx.URL().Path, authLocator.wire(err))
			if p.Code == tenants.CodeUnauthenticated {
				s.authFailed(ctx, addr, p)
				return
			}
			writeProblem(ctx, p)
			return
		}
		logging.Add(ctx.Context(), slog.String("tenant_id", p.TenantID), slog.String("key_id", p.KeyID))
	}
	// The tenant is known: a 403 below speaks its language too.
	ctx = huma.WithContext(ctx, i18n.WithLanguage(ctx.Context(), i18n.Negotiate(ctx.Header("Accept-Language"), p.Language)))
	allowed, err := s.deps.Authz.Allowed(p, perm)
	if err != nil {
		writeProblem(ctx, toProblem(ctx.Context(), s.log, ctx.URL().Path, err))
		return
	}
	if !allowed {
		writeProblem(ctx, newProblem(http.StatusForbidden, tenants.CodeForbidden, "").
			withMsg("problem.forbidden", "Permission", string(perm)))
		return
	}
	// The key's mode is the mode of every transaction the request runs:
	// an sn_test_ key sees and makes test data only (RLS on app.livemode).
	next(huma.WithContext(ctx, pg.WithLivemode(tenants.WithPrincipal(ctx.Context(), p), p.Live || p.Operator)))
}

// clientAddr is the host of a request's remote address.
func clientAddr(remote string) string {
	if host, _, err := net.SplitHostPort(remote); err == nil {
		return host
	}
	return remote
}

// refuseFailing answers 429 when addr has used up its budget of failed
// authentications (the same rate as a credential's): floods of missing or
// unknown keys from one address then cost neither a lookup nor a log of
// their secrets. It reports whether it answered.
func (s *Server) refuseFailing(ctx huma.Context, addr string) bool {
	b, n := s.failures.get(addr)
	if b.Tokens() >= 1 {
		return false
	}
	wait := time.Duration(float64(time.Second) * float64(n) / math.Max(s.failures.perSecond, 1e-9))
	ctx.SetHeader("Retry-After", strconv.Itoa(max(1, int(math.Ceil(wait.Seconds())))))
	p := newProblem(http.StatusTooManyRequests, tenants.CodeRateLimited, "").withMsg("api.auth.too_many_failures")
	p.Errors = []*FieldDetail{fieldMsg("header.Authorization", "api.auth.too_many_failures_field")}
	writeProblem(ctx, p)
	return true
}

// authFailed answers a failed authentication from addr: p (401), spending
// one of the address's budget, or 429 once that budget is used up.
func (s *Server) authFailed(ctx huma.Context, addr string, p *Problem) {
	if s.refuseFailing(ctx, addr) {
		return
	}
	b, _ := s.failures.get(addr)
	b.Allow()
	writeProblem(ctx, p)
}

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
}

func newRateLimiter(perSecond float64, burst int, replicas func() int) *rateLimiter {
	return &rateLimiter{perSecond: perSecond, burst: burst, replicas: replicas, n: 1, buckets: map[string]*rate.Limiter{}}
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
	ctx.SetHeader("RateLimit-Policy", fmt.Sprintf(`"credential";q=%d;w=%d`, l.burst, secondsUp(float64(l.burst)/l.perSecond)))
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
	ctx.SetHeader("RateLimit", fmt.Sprintf(`"credential";r=%d;t=%d`, remaining, secondsUp((float64(b.Burst())-left)/perSecond)))
	next(ctx)
}

// tenantShare bounds the requests of one tenant running at once on this
// replica to Config.TenantConcurrency, its share of the database pool, so
// that one tenant's flood cannot hold every connection. A request over the
// share waits up to tenantShareWait for a slot, then is answered 429 with
// Retry-After. The operator and public operations are not counted.
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

// hasHeader reports whether the request carries the header, even empty.
func hasHeader(ctx huma.Context, name string) bool {
	found := false
	ctx.EachHeader(func(n, _ string) {
		if strings.EqualFold(n, name) {
			found = true
		}
	})
	return found
}

// withoutSecrets removes credential secrets ("secret" fields holding an API
// key) from a response before it is stored for replay: a secret is shown
// once and only its hash is ever stored, so a replay of createApiKey or
// createTenant answers the same object without its secret.
func withoutSecrets(body []byte) []byte {
	if !bytes.Contains(body, []byte(identity.LivePrefix)) && !bytes.Contains(body, []byte(identity.TestPrefix)) &&
		!bytes.Contains(body, []byte(webhooks.SecretPrefix)) {
		return body
	}
	var v any
	if err := json.Unmarshal(body, &v); err != nil {
		return body
	}
	removed := false
	var strip func(any)
	strip = func(v any) {
		switch t := v.(type) {
		case map[string]any:
			if s, ok := t["secret"].(string); ok && (strings.HasPrefix(s, identity.LivePrefix) || strings.HasPrefix(s, identity.TestPrefix) ||
				strings.HasPrefix(s, webhooks.SecretPrefix)) {
				delete(t, "secret")
				removed = true
			}
			for _, x := range t {
				strip(x)
			}
		case []any:
			for _, x := range t {
				strip(x)
			}
		}
	}
	strip(v)
	if !removed {
		return body
	}
	out, err := json.Marshal(v)
	if err != nil {
		return body
	}
	return out
}
