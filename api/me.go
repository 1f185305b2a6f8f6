package api

import (
	"context"
	"net/http"

	"github.com/danielgtaylor/huma/v2"

	"github.com/servicenet/servicenet/authz"
	"github.com/servicenet/servicenet/tenants"
)

type meOutput struct {
	Body struct {
		Tenant      Tenant   `json:"tenant"`
		Key         APIKey   `json:"key"`
		Permissions []string `json:"permissions" doc:"Every permission the credential's roles grant." example:"[\"me.read\",\"tenant.read\"]"`
	}
}

func (s *Server) registerMe() {
	register(s, authz.MeRead, huma.Operation{
		OperationID: "getMe", Method: http.MethodGet, Path: "/v1/me",
		Summary: "Who am I", Tags: []string{"Identity"},
		Description: "The caller's tenant, the key it authenticated with (roles, scope, expiry) and the permissions those roles grant.",
	}, func(ctx context.Context, _ *struct{}) (*meOutput, error) {
		p, _ := tenants.PrincipalFrom(ctx)
		t, k, err := s.deps.Identity.Me(ctx, p)
		if err != nil {
			return nil, err
		}
		perms, err := s.deps.Authz.PermissionsOf(p)
		if err != nil {
			return nil, err
		}
		out := &meOutput{}
		out.Body.Tenant, out.Body.Key, out.Body.Permissions = tenantOf(t), keyOf(k), perms
		return out, nil
	})
}
