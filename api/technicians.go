package api

import (
	"context"
	"net/http"

	"github.com/danielgtaylor/huma/v2"

	"github.com/servicenet/servicenet/authz"
	"github.com/servicenet/servicenet/tenants"
	"github.com/servicenet/servicenet/tenants/network"
)

// The path parameter is declared in each input struct: Huma skips fields of
// unexported embedded structs.
type technicianIDInput struct {
	TechnicianID string `path:"technician_id" maxLength:"64" doc:"Technician ID." example:"tec_01jd3zq8w6v7t3y2k9x4n5m6pf"`
}

type technicianOutput struct {
	ETag string `header:"ETag" doc:"The technician's version; send it in If-Match to update."`
	Body network.Technician
}

func (o *technicianOutput) answer(t network.Technician) { o.ETag, o.Body = etag(t.Version), t }

type createdTechnicianOutput struct {
	Location string `header:"Location"`
	ETag     string `header:"ETag"`
	Body     network.Technician
}

func (o *createdTechnicianOutput) answer(x network.Technician) {
	o.Location, o.ETag, o.Body = "/v1/network/technicians/"+x.ID, etag(x.Version), x
}

type listTechniciansInput struct {
	PageParams
	NodeID    string              `query:"node_id" maxLength:"64" doc:"Only technicians of this node (not of the nodes under it)."`
	SubtreeOf string              `query:"subtree_of" maxLength:"64" doc:"Only technicians of this node and every node under it."`
	Category  string              `query:"category" enum:"washer,refrigerator,air_conditioner,tv,water_heater,kitchen,small_appliance,phone,laptop,camera,tablet" doc:"Only technicians skilled in this product category."`
	MinLevel  int                 `query:"min_level" minimum:"1" maximum:"5" doc:"With category: only technicians at this level or above in it (default 1)."`
	Licence   string              `query:"licence" enum:"valid,expired,missing" doc:"Only technicians whose licence is in this state on the tenant's current date."`
	Status    string              `query:"status" enum:"active,on_leave,suspended,left" doc:"Only technicians in this status."`
	Eligible  OptionalParam[bool] `query:"eligible" doc:"Only technicians who are (true) or are not (false) eligible for dispatch: active with a valid licence."`
}

type technicianList struct {
	Data       []network.Technician `json:"data"`
	NextCursor string               `json:"next_cursor,omitempty" doc:"Cursor for the next page; absent on the last page."`
}

type listTechniciansOutput struct{ Body technicianList }

func (o *listTechniciansOutput) answerPage(xs []network.Technician, next string) {
	o.Body.Data, o.Body.NextCursor = xs, next
}

type updateTechnicianInput struct {
	TechnicianID string `path:"technician_id" maxLength:"64" doc:"Technician ID." example:"tec_01jd3zq8w6v7t3y2k9x4n5m6pf"`
	IfMatch      string `header:"If-Match" doc:"ETag of your last read; the update is refused (412) if the technician changed since. Optional: without it the change applies to whatever version is current (last write wins). Strict: a weak or \"v0\" tag is 412, a malformed one 400."`
	Body         network.TechnicianUpdate
}

type renewLicenceInput struct {
	TechnicianID string `path:"technician_id" maxLength:"64" doc:"Technician ID." example:"tec_01jd3zq8w6v7t3y2k9x4n5m6pf"`
	IfMatch      string `header:"If-Match" doc:"ETag of your last read; refused (412) if the technician changed since. Optional: without it the change applies to whatever version is current (last write wins). Strict: a weak or \"v0\" tag is 412, a malformed one 400."`
	Body         network.LicenceInput
}

func (s *Server) registerTechnicians() {
	tags := []string{"Technicians"}
	register(s, authz.NetworkWrite, huma.Operation{
		OperationID: "createTechnician", Method: http.MethodPost, Path: "/v1/network/technicians",
		Summary: "Add a technician to a node", Tags: tags,
		Description: "Adds a technician to a node in the caller's scope that is not terminated, with skills per " +
			"category (levels 1-5), a service licence, weekly shifts in the tenant's time zone and a daily job limit. " +
			"Only active technicians with a valid licence are eligible for dispatch; a technician may be recorded " +
			"with an expired or no licence, and is then not eligible. External codes are unique per tenant (409). " +
			"A node-bound key onboards a technician at level 1 in each category (403 otherwise): levels move by the " +
			"tenant's levelling (level runs).",
		DefaultStatus: http.StatusCreated, Errors: []int{http.StatusUnprocessableEntity}, MaxBodyBytes: 64 << 10,
	}, func(ctx context.Context, in *struct{ Body network.NewTechnician }) (*createdTechnicianOutput, error) {
		p, _ := tenants.PrincipalFrom(ctx)
		return reply[createdTechnicianOutput](s.deps.Network.CreateTechnician(ctx, p, in.Body))
	})

	register(s, authz.NetworkRead, huma.Operation{
		OperationID: "listTechnicians", Method: http.MethodGet, Path: "/v1/network/technicians",
		Summary: "List technicians", Tags: tags,
		Description: "Technicians of the nodes in the caller's scope, oldest first, filtered by node or subtree, " +
			"skill (category and minimum level), licence state, status and dispatch eligibility. Licence state " +
			"and eligibility are judged on the tenant's current date.",
		Errors: []int{http.StatusUnprocessableEntity},
	}, func(ctx context.Context, in *listTechniciansInput) (*listTechniciansOutput, error) {
		p, _ := tenants.PrincipalFrom(ctx)
		f := network.TechnicianFilter{NodeID: in.NodeID, SubtreeOf: in.SubtreeOf, Category: in.Category,
			MinLevel: in.MinLevel, Licence: in.Licence, Status: in.Status, Limit: in.limit(), Cursor: in.Cursor}
		f.Eligible = in.Eligible.Ptr()
		return replyPage[listTechniciansOutput](s.deps.Network.ListTechnicians(ctx, p, f))
	})

	register(s, authz.NetworkRead, huma.Operation{
		OperationID: "getTechnician", Method: http.MethodGet, Path: "/v1/network/technicians/{technician_id}",
		Summary: "Get a technician", Tags: tags,
		Description: "A technician with skills, licence state, shifts and dispatch eligibility. Technicians of " +
			"nodes outside the caller's scope are not found.",
		Errors: []int{http.StatusNotFound},
	}, func(ctx context.Context, in *technicianIDInput) (*technicianOutput, error) {
		p, _ := tenants.PrincipalFrom(ctx)
		return reply[technicianOutput](s.deps.Network.GetTechnician(ctx, p, in.TechnicianID))
	})

	register(s, authz.NetworkWrite, huma.Operation{
		OperationID: "updateTechnician", Method: http.MethodPatch, Path: "/v1/network/technicians/{technician_id}",
		Summary: "Update a technician", Tags: tags,
		Description: "Changes a technician's attributes; absent fields stay as they are, and skills, shifts and " +
			"home are replaced whole (an empty home {} clears it). A new node_id moves the technician to that node (in the caller's scope, not " +
			"terminated). The licence changes through renewTechnicianLicence. A node-bound key may lower a level but not raise " +
			"one, nor give a new category above level 1 (403): levels move by the tenant's levelling (level runs). Send the " +
			"ETag of your last read in If-Match.",
		Errors:       []int{http.StatusNotFound, http.StatusConflict, http.StatusPreconditionFailed, http.StatusUnprocessableEntity},
		MaxBodyBytes: 64 << 10,
	}, func(ctx context.Context, in *updateTechnicianInput) (*technicianOutput, error) {
		p, _ := tenants.PrincipalFrom(ctx)
		return reply[technicianOutput](withIfVersion(in.IfMatch, func(v int) (network.Technician, error) {
			return s.deps.Network.UpdateTechnician(ctx, p, in.TechnicianID, in.Body, v)
		}))
	})

	register(s, authz.NetworkWrite, huma.Operation{
		OperationID: "renewTechnicianLicence", Method: http.MethodPost, Path: "/v1/network/technicians/{technician_id}/licence-renewals",
		Summary: "Renew a technician's licence", Tags: tags,
		Description: "Replaces the technician's service licence with a new one that is valid today in the tenant's " +
			"time zone: issued no later than today and expiring no earlier. The technician becomes eligible again " +
			"if active. Answers the updated technician.",
		Errors: []int{http.StatusNotFound, http.StatusPreconditionFailed, http.StatusUnprocessableEntity}, MaxBodyBytes: 4 << 10,
	}, func(ctx context.Context, in *renewLicenceInput) (*technicianOutput, error) {
		p, _ := tenants.PrincipalFrom(ctx)
		return reply[technicianOutput](withIfVersion(in.IfMatch, func(v int) (network.Technician, error) {
			return s.deps.Network.RenewLicence(ctx, p, in.TechnicianID, in.Body, v)
		}))
	})
}
