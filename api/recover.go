package api

import (
	"net/http"
	"runtime/debug"
)

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
