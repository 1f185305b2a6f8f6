package api

import (
	"context"
	"net/http"
	"time"

	"github.com/danielgtaylor/huma/v2"

	"github.com/servicenet/servicenet/authz"
	"github.com/servicenet/servicenet/tenants"
	"github.com/servicenet/servicenet/tenants/identity"
)

// APIKey is a credential as listed: never its secret.
type APIKey struct {
	ID           string     `json:"id" example:"key_01jd3zq8w6v7t3y2k9x4n5m6pb"`
	Name         string     `json:"name" example:"Dispatch console"`
	Prefix       string     `json:"prefix" doc:"First characters of the secret, to recognise the key." example:"sn_live_k3m9qa"`
	Environment  string     `json:"environment" enum:"live,test" example:"live"`
	Roles        []string   `json:"roles" example:"[\"dispatcher\"]"`
	NodeID       *string    `json:"node_id,omitempty" doc:"Network node whose subtree the key is limited to." example:"nod_01jd3zq8w6v7t3y2k9x4n5m6pc"`
	StorefrontID *string    `json:"storefront_id,omitempty" doc:"Storefront the key acts for." example:"sfr_01jd3zq8w6v7t3y2k9x4n5m6pd"`
	TechnicianID *string    `json:"technician_id,omitempty" doc:"Technician the key acts as: it sees only the tickets assigned to them." example:"tec_01jd3zq8w6v7t3y2k9x4n5m6pe"`
	Status       string     `json:"status" enum:"active,expired,revoked" example:"active"`
	ExpiresAt    *time.Time `json:"expires_at,omitempty" example:"2027-11-01T00:00:00+08:00"`
	RevokedAt    *time.Time `json:"revoked_at,omitempty" example:"2026-12-01T10:00:00+08:00"`
	LastUsedAt   *time.Time `json:"last_used_at,omitempty" doc:"Last successful authentication, to the minute." example:"2026-11-20T14:02:00+08:00"`
	CreatedBy    string     `json:"created_by" doc:"Key ID (or \"operator\") that issued this key." example:"key_01jd3zq8w6v7t3y2k9x4n5m6pa"`
	CreatedAt    time.Time  `json:"created_at" example:"2026-11-01T09:30:00+08:00"`
}

// CreatedAPIKey is a new key, with its secret.
type CreatedAPIKey struct {
	APIKey
	Secret string `json:"secret,omitempty" doc:"The key itself. Shown once: store it now; only its hash is kept. Absent when the response is an idempotent replay (Idempotent-Replayed: true): the secret is never stored." example:"sn_live_k3m9qa7dz2wq4n6r8t0v2x4z6b8d0f2h4j6l8n0p2r4t6v8x0z2b4d"`
}

func keyOf(k identity.APIKey) APIKey {
	env := "live"
	if !k.Live {
		env = "test"
	}
	return APIKey{ID: k.ID, Name: k.Name, Prefix: k.Prefix, Environment: env, Roles: k.Roles, NodeID: k.NodeID,
		StorefrontID: k.StorefrontID, TechnicianID: k.TechnicianID, Status: k.Status(time.Now()), ExpiresAt: k.ExpiresAt, RevokedAt: k.RevokedAt,
		LastUsedAt: k.LastUsedAt, CreatedBy: k.CreatedBy, CreatedAt: k.CreatedAt}
}

func createdKeyOf(k identity.CreatedKey) CreatedAPIKey {
	return CreatedAPIKey{APIKey: keyOf(k.APIKey), Secret: k.Secret}
}

type createAPIKeyInput struct {
	Body struct {
		Name         string     `json:"name" minLength:"1" maxLength:"200" doc:"What the key is for." example:"Dispatch console"`
		Roles        []string   `json:"roles" minItems:"1" maxItems:"9" uniqueItems:"true" enum:"tenant_admin,network_manager,dispatcher,agent,node_manager,technician,storefront,integrator,auditor" doc:"Roles the key carries. A storefront key carries only storefront." example:"[\"dispatcher\"]"`
		Environment  string     `json:"environment,omitempty" enum:"live,test" doc:"live keys start sn_live_ and act on live data; test keys start sn_test_ and see and make test data only. Default: the calling key's own mode. A test key issues test keys only." example:"live"`
		NodeID       string     `json:"node_id,omitempty" pattern:"^nod_[0-9a-z]{26}$" doc:"Required for node_manager and technician keys: limits the key to this node's subtree." example:"nod_01jd3zq8w6v7t3y2k9x4n5m6pc"`
		StorefrontID string     `json:"storefront_id,omitempty" pattern:"^sfr_[0-9a-z]{26}$" doc:"Required for (and only for) storefront keys." example:"sfr_01jd3zq8w6v7t3y2k9x4n5m6pd"`
		TechnicianID string     `json:"technician_id,omitempty" pattern:"^tec_[0-9a-z]{26}$" doc:"For technician keys: the technician the key acts as (its node defaults to theirs). A technician key sees only the tickets assigned to its technician; without one it sees none." example:"tec_01jd3zq8w6v7t3y2k9x4n5m6pe"`
		ExpiresAt    *time.Time `json:"expires_at,omitempty" doc:"When the key stops working; never when absent." example:"2027-11-01T00:00:00+08:00"`
	}
}

type createdAPIKeyOutput struct {
	Location string `header:"Location"`
	Body     CreatedAPIKey
}

type apiKeyOutput struct {
	Body APIKey
}

type apiKeyIDInput struct {
	KeyID string `path:"key_id" maxLength:"64" doc:"API key ID." example:"key_01jd3zq8w6v7t3y2k9x4n5m6pb"`
}

type listAPIKeysInput struct {
	PageParams
	Status string `query:"status" enum:"active,expired,revoked" doc:"Only keys in this status."`
	Role   string `query:"role" enum:"tenant_admin,network_manager,dispatcher,agent,node_manager,technician,storefront,integrator,auditor" doc:"Only keys carrying this role."`
}

type listAPIKeysOutput struct {
	Body struct {
		Data       []APIKey `json:"data"`
		NextCursor string   `json:"next_cursor,omitempty" doc:"Cursor for the next page; absent on the last page."`
	}
}

func (o *listAPIKeysOutput) answerPage(ks []identity.APIKey, next string) {
	o.Body.Data, o.Body.NextCursor = mapped(ks, keyOf), next
}

func (s *Server) registerAPIKeys() {
	register(s, authz.APIKeysCreate, huma.Operation{
		OperationID: "createApiKey", Method: http.MethodPost, Path: "/v1/api-keys",
		Summary: "Issue an API key", Tags: []string{"API keys"},
		Description:   "Issues a key in the caller's tenant. The response is the only time the secret is shown; only its SHA-256 is stored. Roles and scope are fixed for the key's life: to change them, issue a new key and revoke the old one.",
		DefaultStatus: http.StatusCreated, Errors: []int{http.StatusUnprocessableEntity},
		MaxBodyBytes: 16 << 10,
	}, func(ctx context.Context, in *createAPIKeyInput) (*createdAPIKeyOutput, error) {
		p, _ := tenants.PrincipalFrom(ctx)
		k, err := s.deps.Identity.CreateAPIKey(ctx, p, identity.NewAPIKey{Name: in.Body.Name, Roles: in.Body.Roles,
			Test: in.Body.Environment == "test" || (in.Body.Environment == "" && !p.Live), NodeID: in.Body.NodeID, StorefrontID: in.Body.StorefrontID, TechnicianID: in.Body.TechnicianID, ExpiresAt: in.Body.ExpiresAt})
		if err != nil {
			return nil, err
		}
		return &createdAPIKeyOutput{Location: "/v1/api-keys/" + k.ID, Body: createdKeyOf(k)}, nil
	})

	register(s, authz.APIKeysList, huma.Operation{
		OperationID: "listApiKeys", Method: http.MethodGet, Path: "/v1/api-keys",
		Summary: "List API keys", Tags: []string{"API keys"},
		Description: "The tenant's keys, oldest first. Secrets are never listed.",
		Errors:      []int{http.StatusUnprocessableEntity},
	}, func(ctx context.Context, in *listAPIKeysInput) (*listAPIKeysOutput, error) {
		p, _ := tenants.PrincipalFrom(ctx)
		return replyPage[listAPIKeysOutput](s.deps.Identity.ListAPIKeys(ctx, p, identity.KeyFilter{Status: in.Status, Role: in.Role,
			Limit: in.limit(), Cursor: in.Cursor}))
	})

	register(s, authz.APIKeysRead, huma.Operation{
		OperationID: "getApiKey", Method: http.MethodGet, Path: "/v1/api-keys/{key_id}",
		Summary: "Get an API key", Tags: []string{"API keys"}, Errors: []int{http.StatusNotFound},
	}, func(ctx context.Context, in *apiKeyIDInput) (*apiKeyOutput, error) {
		p, _ := tenants.PrincipalFrom(ctx)
		k, err := s.deps.Identity.GetAPIKey(ctx, p, in.KeyID)
		if err != nil {
			return nil, err
		}
		return &apiKeyOutput{Body: keyOf(k)}, nil
	})

	register(s, authz.APIKeysRevoke, huma.Operation{
		OperationID: "revokeApiKey", Method: http.MethodPost, Path: "/v1/api-keys/{key_id}/revoke",
		Summary: "Revoke an API key", Tags: []string{"API keys"},
		Description: "The key stops working at once. Revoking a revoked key returns it unchanged. A key cannot revoke itself.",
		Errors:      []int{http.StatusNotFound, http.StatusConflict},
	}, func(ctx context.Context, in *apiKeyIDInput) (*apiKeyOutput, error) {
		p, _ := tenants.PrincipalFrom(ctx)
		k, err := s.deps.Identity.RevokeAPIKey(ctx, p, in.KeyID)
		if err != nil {
			return nil, err
		}
		if err := s.deps.Authz.ForgetKey(k.ID); err != nil {
			s.log.WarnContext(ctx, "authz: forget revoked key", "error", err.Error())
		}
		return &apiKeyOutput{Body: keyOf(k)}, nil
	})
}
