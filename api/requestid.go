package api

import (
	"log/slog"
	"net/http"
	"regexp"
	"strings"

	"github.com/servicenet/servicenet/internal/logging"
	"github.com/servicenet/servicenet/tenants"
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
