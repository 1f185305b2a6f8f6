package api

import (
	"context"
	"net/http"
	"time"

	"github.com/danielgtaylor/huma/v2"
)

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
