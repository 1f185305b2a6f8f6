package api

import (
	"context"
	"net/http"

	"github.com/danielgtaylor/huma/v2"

	"github.com/servicenet/servicenet/authz"
	"github.com/servicenet/servicenet/tenants"
	"github.com/servicenet/servicenet/tenants/customers"
)

// UnitIDParam is the {unit_id} path parameter (exported: Huma fills only
// exported embedded structs).
type UnitIDParam struct {
	UnitID string `path:"unit_id" maxLength:"64" doc:"Unit ID." example:"unt_01jd3zq8w6v7t3y2k9x4n5m6ph"`
}

type unitOutput struct {
	ETag string `header:"ETag" doc:"The unit's version; send it in If-Match to update."`
	Body customers.Unit
}

type createdUnitOutput struct {
	Location string `header:"Location"`
	ETag     string `header:"ETag"`
	Body     customers.Unit
}

func (o *createdUnitOutput) answer(x customers.Unit) {
	o.Location, o.ETag, o.Body = "/v1/units/"+x.ID, etag(x.Version), x
}

type listUnitsInput struct {
	PageParams
	CustomerID   string `query:"customer_id" maxLength:"64" doc:"Only units of this owner." example:"cus_01jd3zq8w6v7t3y2k9x4n5m6pe"`
	Serial       string `query:"serial" maxLength:"64" doc:"Only units with this serial (any model; case-insensitive)." example:"BH0Y3E1D2000123"`
	ModelID      string `query:"model_id" maxLength:"64" doc:"Only units of this product model." example:"mdl_01jd3zq8w6v7t3y2k9x4n5m6pg"`
	StorefrontID string `query:"storefront_id" maxLength:"64" doc:"Only units sold through this storefront." example:"sfr_01jd3zq8w6v7t3y2k9x4n5m6pd"`
}

type unitList struct {
	Data       []customers.Unit `json:"data"`
	NextCursor string           `json:"next_cursor,omitempty" doc:"Cursor for the next page; absent on the last page."`
}

type listUnitsOutput struct{ Body unitList }

func (o *listUnitsOutput) answerPage(xs []customers.Unit, next string) {
	o.Body.Data, o.Body.NextCursor = xs, next
}

type updateUnitInput struct {
	UnitIDParam
	IfMatch string `header:"If-Match" doc:"ETag of your last read; the update is refused (412) if the unit changed since. Optional: without it the change applies to whatever version is current (last write wins). Strict: a weak or \"v0\" tag is 412, a malformed one 400."`
	Body    customers.UnitUpdate
}

type recordServiceInput struct {
	UnitIDParam
	Body customers.NewServiceRecord
}

type serviceRecordOutput struct {
	Body customers.ServiceRecord
}

type historyInput struct {
	UnitIDParam
	PageParams
}

type historyList struct {
	Data       []customers.ServiceRecord `json:"data"`
	NextCursor string                    `json:"next_cursor,omitempty" doc:"Cursor for the next (older) page; absent on the last page."`
}

type historyOutput struct{ Body historyList }

func (o *historyOutput) answerPage(xs []customers.ServiceRecord, next string) {
	o.Body.Data, o.Body.NextCursor = xs, next
}

func (s *Server) registerUnits() {
	tags := []string{"Units"}
	register(s, authz.UnitsWrite, huma.Operation{
		OperationID: "registerUnit", Method: http.MethodPost, Path: "/v1/units",
		Summary: "Register a sold unit", Tags: tags,
		Description: "Registers a unit of a catalog model (model_id) with its serial (upper-cased; unique per model: " +
			"the same serial and model twice is 409 on body.serial, the same serial under another model is " +
			"another unit). The owner is customer_id, or customer {name, phones, addresses} found by phone or " +
			"created (as createCustomer: a storefront key finds only customers in its scope). purchase_date must not be in the future and installed_on neither, nor " +
			"before the purchase (tenant's time zone). purchase_price is {amount, currency}: integer minor " +
			"units, not negative, in the tenant's currency. channel storefront goes with a storefront_id (an " +
			"active storefront); a storefront key always registers for its own storefront (naming another is " +
			"422 on body.storefront_id), and a suspended storefront's keys register nothing (403). Appends " +
			"unit.registered to the event feed. Every problem is a 422 naming the field, and nothing is written.",
		DefaultStatus: http.StatusCreated, Errors: []int{http.StatusConflict, http.StatusUnprocessableEntity}, MaxBodyBytes: 32 << 10,
	}, func(ctx context.Context, in *struct{ Body customers.NewUnit }) (*createdUnitOutput, error) {
		p, _ := tenants.PrincipalFrom(ctx)
		return reply[createdUnitOutput](s.deps.Customers.RegisterUnit(ctx, p, in.Body))
	})

	register(s, authz.UnitsRead, huma.Operation{
		OperationID: "listUnits", Method: http.MethodGet, Path: "/v1/units",
		Summary: "List registered units", Tags: tags,
		Description: "Units in the caller's scope, oldest first, filtered by owner, serial, model and storefront. " +
			"A storefront key lists only the units it sold, whatever the filters say.",
		Errors: []int{http.StatusUnprocessableEntity},
	}, func(ctx context.Context, in *listUnitsInput) (*listUnitsOutput, error) {
		p, _ := tenants.PrincipalFrom(ctx)
		return replyPage[listUnitsOutput](s.deps.Customers.ListUnits(ctx, p, customers.UnitFilter{CustomerID: in.CustomerID, Serial: in.Serial,
			ModelID: in.ModelID, StorefrontID: in.StorefrontID, Limit: in.limit(), Cursor: in.Cursor}))
	})

	register(s, authz.UnitsRead, huma.Operation{
		OperationID: "getUnit", Method: http.MethodGet, Path: "/v1/units/{unit_id}",
		Summary: "Get a registered unit", Tags: tags,
		Description: "A unit with its model summary (model {id, model_number, category, name}), owner, dates, " +
			"channel, storefront, invoice and purchase price ({amount, currency}). Units of another storefront " +
			"are not found for a storefront key.",
		Errors: []int{http.StatusNotFound},
	}, func(ctx context.Context, in *UnitIDParam) (*unitOutput, error) {
		p, _ := tenants.PrincipalFrom(ctx)
		u, err := s.deps.Customers.GetUnit(ctx, p, in.UnitID)
		if err != nil {
			return nil, err
		}
		return &unitOutput{ETag: etag(u.Version), Body: u}, nil
	})

	register(s, authz.UnitsWrite, huma.Operation{
		OperationID: "updateUnit", Method: http.MethodPatch, Path: "/v1/units/{unit_id}",
		Summary: "Update a registered unit", Tags: tags,
		Description: "Changes a unit's owner (customer_id, a customer in the caller's scope), purchase date, " +
			"installation date, invoice number or purchase price ({amount, currency}: the invoice's, which makes " +
			"purchase_price_source invoice, even unchanged); absent fields stay. The " +
			"date and money rules of registerUnit apply. Model, serial and channel do not change. Send the ETag " +
			"of your last read in If-Match.",
		Errors:       []int{http.StatusNotFound, http.StatusConflict, http.StatusPreconditionFailed, http.StatusUnprocessableEntity},
		MaxBodyBytes: 8 << 10,
	}, func(ctx context.Context, in *updateUnitInput) (*unitOutput, error) {
		p, _ := tenants.PrincipalFrom(ctx)
		v, err := ifVersion(in.IfMatch)
		if err != nil {
			return nil, err
		}
		u, err := s.deps.Customers.UpdateUnit(ctx, p, in.UnitID, in.Body, v)
		if err != nil {
			return nil, err
		}
		return &unitOutput{ETag: etag(u.Version), Body: u}, nil
	})

	register(s, authz.UnitsWrite, huma.Operation{
		OperationID: "recordServiceEvent", Method: http.MethodPost, Path: "/v1/units/{unit_id}/service-records",
		Summary: "Record a service event in a unit's history", Tags: tags,
		Description: "Adds a repair, claim, swap, return or maintenance to the unit's history: when (not before " +
			"the purchase, not in the future), on what basis, the fault cause, part categories replaced, whether " +
			"the customer paid and the fault was fixed, the amount ({amount, currency}, tenant's currency) and a " +
			"reference (ticket, claim or legacy id; the same kind and reference twice for a unit is 409). Used " +
			"to migrate history from legacy systems; tickets and claims record theirs. Appends " +
			"unit.service_recorded.",
		DefaultStatus: http.StatusCreated, Errors: []int{http.StatusNotFound, http.StatusConflict, http.StatusUnprocessableEntity},
		MaxBodyBytes: 16 << 10,
	}, func(ctx context.Context, in *recordServiceInput) (*serviceRecordOutput, error) {
		p, _ := tenants.PrincipalFrom(ctx)
		r, err := s.deps.Customers.RecordServiceEvent(ctx, p, in.UnitID, in.Body)
		if err != nil {
			return nil, err
		}
		return &serviceRecordOutput{Body: r}, nil
	})

	register(s, authz.UnitsRead, huma.Operation{
		OperationID: "listUnitServiceHistory", Method: http.MethodGet, Path: "/v1/units/{unit_id}/history",
		Summary: "Read a unit's service history", Tags: tags,
		Description: "The unit's repairs, claims, swaps, returns and maintenance, newest first (by occurred_on).",
		Errors:      []int{http.StatusNotFound, http.StatusUnprocessableEntity},
	}, func(ctx context.Context, in *historyInput) (*historyOutput, error) {
		p, _ := tenants.PrincipalFrom(ctx)
		return replyPage[historyOutput](s.deps.Customers.ListHistory(ctx, p, in.UnitID, in.limit(), in.Cursor))
	})
}
