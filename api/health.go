package api

import (
	"context"
	"net/http"
	"time"

	"github.com/servicenet/servicenet/authz"
	"github.com/servicenet/servicenet/internal/i18n"
	"github.com/servicenet/servicenet/internal/pg"
	"github.com/servicenet/servicenet/tenants"

	"github.com/danielgtaylor/huma/v2"
)

type healthOutput struct {
	Body struct {
		Status string `json:"status" enum:"ok" doc:"Always ok: the process is serving." example:"ok"`
	}
}

type readyOutput struct {
	Body struct {
		Status             string `json:"status" enum:"ready" example:"ready"`
		SchemaVersion      int32  `json:"schema_version" doc:"Applied ServiceNet migration." example:"1"`
		RiverSchemaVersion int    `json:"river_schema_version" doc:"Applied River migration." example:"6"`
	}
}

// readyTimeout bounds the readiness check: a database that does not answer
// two short reads in this time is not ready (a frozen server never answers).
const readyTimeout = 500 * time.Millisecond

func (s *Server) registerHealth() {
	register(s, authz.Public, huma.Operation{
		OperationID: "getHealth", Method: http.MethodGet, Path: "/healthz",
		Summary: "Liveness probe", Tags: []string{"Health"},
		Description: "Answers 200 while the process serves HTTP. Does not touch the database.",
	}, func(ctx context.Context, _ *struct{}) (*healthOutput, error) {
		out := &healthOutput{}
		out.Body.Status = "ok"
		return out, nil
	})

	register(s, authz.Public, huma.Operation{
		OperationID: "getReadiness", Method: http.MethodGet, Path: "/readyz",
		Summary: "Readiness probe", Tags: []string{"Health"},
		Description: "Answers 200 when the database is reachable, both migration ledgers (ServiceNet's and River's) are current and the authentication cache listens for key changes; 503 otherwise (`database_unavailable` when the database does not answer within half a second, `unavailable` when its schema is behind or the cache's listener is not connected within that half second, as at start or after its connection dropped). Each call asks the database afresh: it turns 503 within a second of an outage and 200 within a second of recovery.",
		Errors:      []int{http.StatusServiceUnavailable},
	}, func(ctx context.Context, _ *struct{}) (*readyOutput, error) {
		if s.deps.DB == nil {
			return nil, tenants.ErrorMsg(tenants.CodeUnavailable, i18n.M("api.health.no_database"))
		}
		ctx, cancel := context.WithTimeout(ctx, readyTimeout)
		defer cancel()
		st, err := pg.CheckSchema(ctx, s.deps.DB)
		if err != nil {
			// Whatever the failure, not ready; toProblem logs the cause.
			return nil, dbUnreachable(err)
		}
		if !st.Current() {
			return nil, tenants.ErrorMsg(tenants.CodeUnavailable, i18n.M("api.health.schema_behind"))
		}
		// Until the cache listens, every request's key costs a database
		// lookup: the replica is ready once its listener is connected (one
		// that dropped is nudged to reconnect at once).
		if s.cfg.AwaitAuthCache && s.deps.Identity != nil {
			if err := s.deps.Identity.AwaitCache(ctx); err != nil {
				return nil, tenants.ErrorMsg(tenants.CodeUnavailable, i18n.M("api.health.auth_cache"))
			}
		}
		out := &readyOutput{}
		out.Body.Status, out.Body.SchemaVersion, out.Body.RiverSchemaVersion = "ready", st.Version, st.RiverVersion
		return out, nil
	})
}

// dbUnreachable is the readiness probe's 503 when the database does not
// answer; toProblem logs err.
func dbUnreachable(err error) *tenants.Error {
	e := tenants.ErrorMsg(tenants.CodeDatabaseUnavailable, i18n.M("api.health.unreachable"))
	e.Cause = err
	return e
}
