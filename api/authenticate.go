package api

import (
	"crypto/subtle"
	"log/slog"
	"math"
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/danielgtaylor/huma/v2"

	"github.com/servicenet/servicenet/authz"
	"github.com/servicenet/servicenet/internal/i18n"
	"github.com/servicenet/servicenet/internal/logging"
	"github.com/servicenet/servicenet/internal/pg"
	"github.com/servicenet/servicenet/tenants"
)

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
	left, n := s.failures.tokens(addr)
	if left >= 1 {
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
	s.failures.take(addr)
	writeProblem(ctx, p)
}
