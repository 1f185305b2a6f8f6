package api

import (
	"context"
	"net/http"

	"github.com/danielgtaylor/huma/v2"

	"github.com/servicenet/servicenet/authz"
	"github.com/servicenet/servicenet/tenants"
	"github.com/servicenet/servicenet/tenants/customers"
)

// StorefrontIDParam is the {storefront_id} path parameter (exported: Huma
// fills only exported embedded structs).
type StorefrontIDParam struct {
	StorefrontID string `path:"storefront_id" maxLength:"64" doc:"Storefront ID." example:"sfr_01jd3zq8w6v7t3y2k9x4n5m6pd"`
}

type storefrontOutput struct {
	ETag string `header:"ETag" doc:"The storefront's version; send it in If-Match to update."`
	Body customers.Storefront
}

type createdStorefrontOutput struct {
	Location string `header:"Location"`
	ETag     string `header:"ETag"`
	Body     customers.Storefront
}

func (o *createdStorefrontOutput) answer(x customers.Storefront) {
	o.Location, o.ETag, o.Body = "/v1/storefronts/"+x.ID, etag(x.Version), x
}

type listStorefrontsInput struct {
	PageParams
	Status   string `query:"status" enum:"active,suspended" doc:"Only storefronts in this status."`
	Platform string `query:"platform" enum:"tmall,jd,pinduoduo,douyin,suning,brand_store,offline,other" doc:"Only storefronts on this platform."`
}

type storefrontList struct {
	Data       []customers.Storefront `json:"data"`
	NextCursor string                 `json:"next_cursor,omitempty" doc:"Cursor for the next page; absent on the last page."`
}

type listStorefrontsOutput struct{ Body storefrontList }

func (o *listStorefrontsOutput) answerPage(xs []customers.Storefront, next string) {
	o.Body.Data, o.Body.NextCursor = xs, next
}

type updateStorefrontInput struct {
	StorefrontIDParam
	IfMatch string `header:"If-Match" doc:"ETag of your last read; the update is refused (412) if the storefront changed since. Optional: without it the change applies to whatever version is current (last write wins). Strict: a weak or \"v0\" tag is 412, a malformed one 400."`
	Body    customers.StorefrontUpdate
}

func (s *Server) registerStorefronts() {
	tags := []string{"Storefronts"}
	register(s, authz.StorefrontsWrite, huma.Operation{
		OperationID: "createStorefront", Method: http.MethodPost, Path: "/v1/storefronts",
		Summary: "Add a storefront", Tags: tags,
		Description: "Adds a retail partner, active. Codes are unique per tenant (409 on body.code). Issue the " +
			"storefront's keys with createApiKey, roles [\"storefront\"] and its storefront_id; those keys register " +
			"units and sell contracts for it and see only its own units, contracts, claims and webhooks. " +
			"contact is an optional {name, phone, email}.",
		DefaultStatus: http.StatusCreated, Errors: []int{http.StatusUnprocessableEntity}, MaxBodyBytes: 16 << 10,
	}, func(ctx context.Context, in *struct{ Body customers.NewStorefront }) (*createdStorefrontOutput, error) {
		p, _ := tenants.PrincipalFrom(ctx)
		return reply[createdStorefrontOutput](s.deps.Customers.CreateStorefront(ctx, p, in.Body))
	})

	register(s, authz.StorefrontsRead, huma.Operation{
		OperationID: "listStorefronts", Method: http.MethodGet, Path: "/v1/storefronts",
		Summary: "List storefronts", Tags: tags,
		Description: "The tenant's storefronts, oldest first, filtered by status and platform.",
		Errors:      []int{http.StatusUnprocessableEntity},
	}, func(ctx context.Context, in *listStorefrontsInput) (*listStorefrontsOutput, error) {
		p, _ := tenants.PrincipalFrom(ctx)
		return replyPage[listStorefrontsOutput](s.deps.Customers.ListStorefronts(ctx, p, customers.StorefrontFilter{Status: in.Status,
			Platform: in.Platform, Limit: in.limit(), Cursor: in.Cursor}))
	})

	register(s, authz.StorefrontsRead, huma.Operation{
		OperationID: "getStorefront", Method: http.MethodGet, Path: "/v1/storefronts/{storefront_id}",
		Summary: "Get a storefront", Tags: tags,
		Description: "A storefront with its platform, status and contact. Storefront keys do not read storefronts " +
			"(their own storefront id is in getMe's key).",
		Errors: []int{http.StatusNotFound},
	}, func(ctx context.Context, in *StorefrontIDParam) (*storefrontOutput, error) {
		p, _ := tenants.PrincipalFrom(ctx)
		sf, err := s.deps.Customers.GetStorefront(ctx, p, in.StorefrontID)
		if err != nil {
			return nil, err
		}
		return &storefrontOutput{ETag: etag(sf.Version), Body: sf}, nil
	})

	register(s, authz.StorefrontsWrite, huma.Operation{
		OperationID: "updateStorefront", Method: http.MethodPatch, Path: "/v1/storefronts/{storefront_id}",
		Summary: "Update or suspend a storefront", Tags: tags,
		Description: "Changes a storefront's code, name, platform, contact or status; absent fields stay as they " +
			"are and contact is replaced whole. Suspending a storefront takes effect at once: its keys keep " +
			"reading their units and history, but can no longer register units or sell contracts (422 on " +
			"storefront_id), and no unit can be registered as sold through it; status active resumes. " +
			"Send the ETag of your last read in If-Match.",
		Errors:       []int{http.StatusNotFound, http.StatusConflict, http.StatusPreconditionFailed, http.StatusUnprocessableEntity},
		MaxBodyBytes: 16 << 10,
	}, func(ctx context.Context, in *updateStorefrontInput) (*storefrontOutput, error) {
		p, _ := tenants.PrincipalFrom(ctx)
		v, err := ifVersion(in.IfMatch)
		if err != nil {
			return nil, err
		}
		sf, err := s.deps.Customers.UpdateStorefront(ctx, p, in.StorefrontID, in.Body, v)
		if err != nil {
			return nil, err
		}
		return &storefrontOutput{ETag: etag(sf.Version), Body: sf}, nil
	})
}
