package api

import (
	"context"
	"net/http"

	"github.com/danielgtaylor/huma/v2"

	"github.com/servicenet/servicenet/authz"
	"github.com/servicenet/servicenet/tenants"
	"github.com/servicenet/servicenet/tenants/warranty"
)

// PlanIDParam is the coverage plan path parameter (exported: Huma fills only
// exported embedded structs).
type PlanIDParam struct {
	PlanID string `path:"plan_id" maxLength:"64" doc:"Coverage plan ID." example:"pln_01jd3zq8w6v7t3y2k9x4n5m6pa"`
}

// ContractIDParam is the contract path parameter.
type ContractIDParam struct {
	ContractID string `path:"contract_id" maxLength:"64" doc:"Contract ID." example:"ctr_01jd3zq8w6v7t3y2k9x4n5m6pb"`
}

type planOutput struct {
	ETag string `header:"ETag" doc:"The plan's version; send it in If-Match to update."`
	Body warranty.Plan
}

type createdPlanOutput struct {
	Location string `header:"Location"`
	ETag     string `header:"ETag"`
	Body     warranty.Plan
}

func (o *createdPlanOutput) answer(x warranty.Plan) {
	o.Location, o.ETag, o.Body = "/v1/coverage-plans/"+x.ID, etag(x.Version), x
}

type listPlansInput struct {
	PageParams
	Kind     string `query:"kind" enum:"extended_warranty,accidental_damage,swap_for_repair,no_reason_repair" doc:"Only plans of this kind."`
	Category string `query:"category" enum:"washer,refrigerator,air_conditioner,tv,water_heater,kitchen,small_appliance,phone,laptop,camera,tablet" doc:"Only plans sold for this product category."`
	Status   string `query:"status" enum:"active,retired" doc:"Only plans in this status."`
}

type planList struct {
	Data       []warranty.Plan `json:"data"`
	NextCursor string          `json:"next_cursor,omitempty" doc:"Cursor for the next page; absent on the last page."`
}

type listPlansOutput struct{ Body planList }

func (o *listPlansOutput) answerPage(xs []warranty.Plan, next string) {
	o.Body.Data, o.Body.NextCursor = xs, next
}

type updatePlanInput struct {
	PlanIDParam
	IfMatch string `header:"If-Match" doc:"ETag of your last read; the update is refused (412) if the plan changed since. Optional: without it the change applies to whatever version is current (last write wins). Strict: a weak or \"v0\" tag is 412, a malformed one 400."`
	Body    warranty.PlanUpdate
}

type contractOutput struct {
	ETag string `header:"ETag" doc:"The contract's version; send it in If-Match to cancel."`
	Body warranty.Contract
}

type createdContractOutput struct {
	Location string `header:"Location"`
	ETag     string `header:"ETag"`
	Body     warranty.Contract
}

func (o *createdContractOutput) answer(x warranty.Contract) {
	o.Location, o.ETag, o.Body = "/v1/contracts/"+x.ID, etag(x.Version), x
}

type listContractsInput struct {
	PageParams
	UnitID string `query:"unit_id" maxLength:"64" doc:"Only contracts of this unit."`
	PlanID string `query:"plan_id" maxLength:"64" doc:"Only contracts of this plan."`
	State  string `query:"state" enum:"pending,active,expired,cancelled,consumed" doc:"Only contracts in this state."`
}

type contractList struct {
	Data       []warranty.Contract `json:"data"`
	NextCursor string              `json:"next_cursor,omitempty" doc:"Cursor for the next page; absent on the last page."`
}

type listContractsOutput struct{ Body contractList }

func (o *listContractsOutput) answerPage(xs []warranty.Contract, next string) {
	o.Body.Data, o.Body.NextCursor = xs, next
}

type cancelContractInput struct {
	ContractIDParam
	IfMatch string `header:"If-Match" doc:"ETag of your last read; refused (412) if the contract changed since. Optional: without it the change applies to whatever version is current (last write wins). Strict: a weak or \"v0\" tag is 412, a malformed one 400."`
	Body    struct {
		Reason string `json:"reason" minLength:"1" maxLength:"500" doc:"Why the contract is cancelled; kept in its history." example:"customer returned the plan within 7 days"`
	}
}

type contractHistoryOutput struct {
	Body struct {
		Data []warranty.StateChange `json:"data"`
	}
}

func (o *contractHistoryOutput) answerList(xs []warranty.StateChange) { o.Body.Data = xs }

func (s *Server) registerContracts() {
	s.registerPlans()
	tags := []string{"Contracts"}

	register(s, authz.ContractsWrite, huma.Operation{
		OperationID: "createContract", Method: http.MethodPost, Path: "/v1/contracts",
		Summary: "Sell a coverage plan for a unit", Tags: tags,
		Description: "Attaches an active coverage plan to a unit whose model's category the plan covers (else 422 on " +
			"plan_id). The coverage window is computed from the unit's purchase date: day N counts the purchase date as " +
			"day 1, a term of M months from D runs through the day before D's day of the month M months later, or " +
			"through that month's last day when it has no such day (one month from 31 January ends on 28 or 29 " +
			"February), and an extended warranty " +
			"starts the day after the manufacturer warranty (the model's warranty_months from the purchase) ends. " +
			"sold_on (default today in the tenant's time zone) may not be in the future, before the purchase or after " +
			"the plan's sale window: protection plans within sale_window_days of the purchase (default 30), extended " +
			"warranties no later than the last day of the manufacturer warranty. The contract is pending before its " +
			"window and active within it. Coverage never starts before the sale: starts_on is the later of the " +
			"window's start and sold_on, so a plan bought after a fault does not cover it. A sale today whose " +
			"coverage already ended is refused; a past sale (sold_on before today: history recorded when a seller " +
			"starts using ServiceNet) is recorded with its state from the dates — pending, active or expired — and a " +
			"contract.backfilled event besides contract.created; an expired one competes with no live contract. " +
			"price defaults to the plan's " +
			"price and is in the tenant's currency. A storefront key sells only for units its storefront sold (any " +
			"other unit is 404) and always as its storefront; other keys sell as the brand, or for a storefront named in " +
			"storefront_id. A reference the seller already used, or a pending or active contract of the same plan " +
			"kind on the unit, is a 409. Refunds are out of scope.",
		DefaultStatus: http.StatusCreated, Errors: []int{http.StatusNotFound, http.StatusConflict, http.StatusUnprocessableEntity},
		MaxBodyBytes: 8 << 10,
	}, func(ctx context.Context, in *struct{ Body warranty.NewContract }) (*createdContractOutput, error) {
		p, _ := tenants.PrincipalFrom(ctx)
		return reply[createdContractOutput](s.deps.Warranty.CreateContract(ctx, p, in.Body))
	})

	register(s, authz.ContractsRead, huma.Operation{
		OperationID: "listContracts", Method: http.MethodGet, Path: "/v1/contracts",
		Summary: "List contracts", Tags: tags,
		Description: "Contracts oldest first, each with its plan, filtered by unit, plan and state. A storefront key " +
			"sees only the contracts its storefront sold.",
		Errors: []int{http.StatusUnprocessableEntity},
	}, func(ctx context.Context, in *listContractsInput) (*listContractsOutput, error) {
		p, _ := tenants.PrincipalFrom(ctx)
		return replyPage[listContractsOutput](s.deps.Warranty.ListContracts(ctx, p, warranty.ContractFilter{UnitID: in.UnitID, PlanID: in.PlanID,
			State: in.State, Limit: in.limit(), Cursor: in.Cursor}))
	})

	register(s, authz.ContractsRead, huma.Operation{
		OperationID: "getContract", Method: http.MethodGet, Path: "/v1/contracts/{contract_id}",
		Summary: "Get a contract", Tags: tags,
		Description: "A contract with its window, state and the plan's terms. A storefront key sees only its " +
			"storefront's contracts; any other is not found.",
		Errors: []int{http.StatusNotFound},
	}, func(ctx context.Context, in *ContractIDParam) (*contractOutput, error) {
		p, _ := tenants.PrincipalFrom(ctx)
		c, err := s.deps.Warranty.GetContract(ctx, p, in.ContractID)
		if err != nil {
			return nil, err
		}
		return &contractOutput{ETag: etag(c.Version), Body: c}, nil
	})

	register(s, authz.ContractsRead, huma.Operation{
		OperationID: "listContractStateChanges", Method: http.MethodGet, Path: "/v1/contracts/{contract_id}/state-changes",
		Summary: "List a contract's state changes", Tags: tags,
		Description: "The contract's state history, oldest first: the sale, activation and expiry by the lifecycle " +
			"job (actor system), cancellation and consumption, each with its reason.",
		Errors: []int{http.StatusNotFound},
	}, func(ctx context.Context, in *ContractIDParam) (*contractHistoryOutput, error) {
		p, _ := tenants.PrincipalFrom(ctx)
		return replyList[contractHistoryOutput](s.deps.Warranty.ContractHistory(ctx, p, in.ContractID))
	})

	register(s, authz.ContractsWrite, huma.Operation{
		OperationID: "cancelContract", Method: http.MethodPost, Path: "/v1/contracts/{contract_id}/cancel",
		Summary: "Cancel a contract", Tags: tags,
		Description: "Cancels a pending or active contract (409 otherwise) with a reason kept in its history. The " +
			"cancellation ends the coverage from that day: a claim for a repair done before it is still the plan's. Refunds " +
			"are out of scope: the seller settles them outside ServiceNet. Send the ETag of your last read in If-Match.",
		Errors:       []int{http.StatusNotFound, http.StatusConflict, http.StatusPreconditionFailed, http.StatusUnprocessableEntity},
		MaxBodyBytes: 4 << 10,
	}, func(ctx context.Context, in *cancelContractInput) (*contractOutput, error) {
		p, _ := tenants.PrincipalFrom(ctx)
		v, err := ifVersion(in.IfMatch)
		if err != nil {
			return nil, err
		}
		c, err := s.deps.Warranty.CancelContract(ctx, p, in.ContractID, in.Body.Reason, v)
		if err != nil {
			return nil, err
		}
		return &contractOutput{ETag: etag(c.Version), Body: c}, nil
	})
}

func (s *Server) registerPlans() {
	tags := []string{"Coverage plans"}

	register(s, authz.CatalogWrite, huma.Operation{
		OperationID: "createCoveragePlan", Method: http.MethodPost, Path: "/v1/coverage-plans",
		Summary: "Create a coverage plan", Tags: tags,
		Description: "Adds a plan of one of four kinds with the seed's terms, checked per kind: extended_warranty " +
			"(any category but water heaters; starts the day after the manufacturer warranty ends; 12, 24 or 36 months; " +
			"environmental faults free, no visit fee for large appliances), accidental_damage (phone, laptop, camera; " +
			"discount_percent at least 50; from day 31 at the earliest), swap_for_repair (kitchen and small_appliance " +
			"with a flat_fee from day 31, or tablet with depreciation_cap_percent at most 39 from the next day) and " +
			"no_reason_repair (refrigerator, air_conditioner, washer, tv; discount_percent at least 80; compensation " +
			"and payout_business_days; from the next day). Protection plans run 12 months and are sold within " +
			"sale_window_days (default 30) of the purchase; extended warranties within the manufacturer warranty. " +
			"human_damage and force_majeure are always excluded. Amounts are minor units in the tenant's currency. " +
			"Codes are unique per tenant (409).",
		DefaultStatus: http.StatusCreated, Errors: []int{http.StatusConflict, http.StatusUnprocessableEntity}, MaxBodyBytes: 16 << 10,
	}, func(ctx context.Context, in *struct{ Body warranty.NewPlan }) (*createdPlanOutput, error) {
		p, _ := tenants.PrincipalFrom(ctx)
		return reply[createdPlanOutput](s.deps.Warranty.CreatePlan(ctx, p, in.Body))
	})

	register(s, authz.CatalogRead, huma.Operation{
		OperationID: "listCoveragePlans", Method: http.MethodGet, Path: "/v1/coverage-plans",
		Summary: "List coverage plans", Tags: tags,
		Description: "Coverage plans oldest first, filtered by kind, eligible category and status.",
		Errors:      []int{http.StatusUnprocessableEntity},
	}, func(ctx context.Context, in *listPlansInput) (*listPlansOutput, error) {
		p, _ := tenants.PrincipalFrom(ctx)
		return replyPage[listPlansOutput](s.deps.Warranty.ListPlans(ctx, p, warranty.PlanFilter{Kind: in.Kind, Category: in.Category,
			Status: in.Status, Limit: in.limit(), Cursor: in.Cursor}))
	})

	register(s, authz.CatalogRead, huma.Operation{
		OperationID: "getCoveragePlan", Method: http.MethodGet, Path: "/v1/coverage-plans/{plan_id}",
		Summary: "Get a coverage plan", Tags: tags,
		Description: "A coverage plan with its terms.",
		Errors:      []int{http.StatusNotFound},
	}, func(ctx context.Context, in *PlanIDParam) (*planOutput, error) {
		p, _ := tenants.PrincipalFrom(ctx)
		pl, err := s.deps.Warranty.GetPlan(ctx, p, in.PlanID)
		if err != nil {
			return nil, err
		}
		return &planOutput{ETag: etag(pl.Version), Body: pl}, nil
	})

	register(s, authz.CatalogWrite, huma.Operation{
		OperationID: "updateCoveragePlan", Method: http.MethodPatch, Path: "/v1/coverage-plans/{plan_id}",
		Summary: "Update a coverage plan", Tags: tags,
		Description: "Changes a plan's name, price, sale window or status (retired stops sales; existing contracts " +
			"run on); absent fields stay. Terms (categories, start, duration, discounts, fees, compensation, " +
			"exclusions) may change only while no contract for the plan exists (409 after): retire the plan and create " +
			"another instead. The kind and code never change. Send the ETag of your last read in If-Match.",
		Errors:       []int{http.StatusNotFound, http.StatusConflict, http.StatusPreconditionFailed, http.StatusUnprocessableEntity},
		MaxBodyBytes: 16 << 10,
	}, func(ctx context.Context, in *updatePlanInput) (*planOutput, error) {
		p, _ := tenants.PrincipalFrom(ctx)
		v, err := ifVersion(in.IfMatch)
		if err != nil {
			return nil, err
		}
		pl, err := s.deps.Warranty.UpdatePlan(ctx, p, in.PlanID, in.Body, v)
		if err != nil {
			return nil, err
		}
		return &planOutput{ETag: etag(pl.Version), Body: pl}, nil
	})
}
