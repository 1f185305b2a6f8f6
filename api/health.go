package api

import (
	"context"
	"net/http"
	"time"

	"github.com/servicenet/servicenet/authz"
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
		Description: "Answers 200 when the database is reachable and both migration ledgers (ServiceNet's and River's) are current; 503 otherwise.",
		Errors:      []int{http.StatusServiceUnavailable},
	}, func(ctx context.Context, _ *struct{}) (*readyOutput, error) {
		if s.deps.DB == nil {
			return nil, tenants.Errorf(tenants.CodeUnavailable, "no database configured")
		}
		ctx, cancel := context.WithTimeout(ctx, 3*time.Second)
		defer cancel()
		st, err := pg.CheckSchema(ctx, s.deps.DB)
		if err != nil {
			s.log.WarnContext(ctx, "not ready", "error", err.Error())
			return nil, tenants.Errorf(tenants.CodeUnavailable, "database unreachable")
		}
		if !st.Current() {
			return nil, tenants.Errorf(tenants.CodeUnavailable, "database schema is not current; run servicenet migrate")
		}
		out := &readyOutput{}
		out.Body.Status, out.Body.SchemaVersion, out.Body.RiverSchemaVersion = "ready", st.Version, st.RiverVersion
		return out, nil
	})
}
