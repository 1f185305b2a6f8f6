package api

import (
	"context"
	"net/http"

	"github.com/danielgtaylor/huma/v2"

	"github.com/servicenet/servicenet/authz"
	"github.com/servicenet/servicenet/tenants"
	"github.com/servicenet/servicenet/tenants/swaps"
)

// SwapIDParam is the swap path parameter.
type SwapIDParam struct {
	SwapID string `path:"swap_id" maxLength:"64" doc:"Swap ID." example:"swp_01jd3zq8w6v7t3y2k9x4n5m6pb"`
}

type swapOutput struct {
	ETag string `header:"ETag" doc:"The swap's version; send it in If-Match to act on it."`
	Body swaps.Swap
}

type createdSwapOutput struct {
	Location string `header:"Location"`
	ETag     string `header:"ETag"`
	Body     swaps.Swap
}

func (o *createdSwapOutput) answer(x swaps.Swap) {
	o.Location, o.ETag, o.Body = "/v1/swaps/"+x.ID, etag(x.Version), x
}

type listSwapsInput struct {
	PageParams
	State  string `query:"state" enum:"requested,pending_node_manager,pending_brand,approved,fulfilled,rejected" doc:"Only swaps in this state."`
	UnitID string `query:"unit_id" maxLength:"64" doc:"Only swaps of this unit."`
}

type swapList struct {
	Data       []swaps.Swap `json:"data"`
	NextCursor string       `json:"next_cursor,omitempty" doc:"Cursor for the next page; absent on the last page."`
}

type listSwapsOutput struct{ Body swapList }

func (o *listSwapsOutput) answerPage(xs []swaps.Swap, next string) {
	o.Body.Data, o.Body.NextCursor = xs, next
}

type approveSwapInput struct {
	SwapIDParam
	IfMatch string `header:"If-Match" doc:"ETag of your last read; refused (412) if the swap changed since. Optional: without it the change applies to whatever version is current (last write wins). Strict: a weak or \"v0\" tag is 412, a malformed one 400."`
	Body    swaps.Approval
}

type rejectSwapInput struct {
	SwapIDParam
	IfMatch string `header:"If-Match" doc:"ETag of your last read; refused (412) if the swap changed since. Optional: without it the change applies to whatever version is current (last write wins). Strict: a weak or \"v0\" tag is 412, a malformed one 400."`
	Body    struct {
		Reason string `json:"reason" minLength:"1" maxLength:"500" doc:"Why; kept in the swap's steps." example:"the damage is not covered"`
	}
}

type fulfilSwapInput struct {
	SwapIDParam
	IfMatch string `header:"If-Match" doc:"ETag of your last read; refused (412) if the swap changed since. Optional: without it the change applies to whatever version is current (last write wins). Strict: a weak or \"v0\" tag is 412, a malformed one 400."`
	Body    swaps.Fulfilment
}

func (s *Server) registerSwaps() {
	tags := []string{"Swaps"}

	register(s, authz.SwapsRequest, huma.Operation{
		OperationID: "requestSwap", Method: http.MethodPost, Path: "/v1/swaps",
		Summary: "Request a unit swap", Tags: tags,
		Description: "Asks for an active unit's exchange (reason unrepairable, repair_cost_above_retail, " +
			"statutory_exchange or plan_swap), optionally under one of its active contracts (not a statutory " +
			"exchange: the three guarantees' exchange uses no plan and carries no fee), whose plan covers the " +
			"fault_cause when one is given (a plan never swaps for a cause it does not cover, nor for human damage " +
			"or force majeure: 422 naming contract_id). A statutory_exchange or " +
			"no_reason_exchange the entitlement engine does not owe today (rule 1: within 15 days of the purchase, or " +
			"repaired twice within the warranty and still faulty; the seven-day exchange of a storefront sale) is 422 " +
			"naming reason. The swap is requested " +
			"and an evaluation job runs next: the depreciation fee by the plan's terms (flat fee for kitchen and small " +
			"appliances, a capped percentage of the purchase price for tablets, the plan's depreciation otherwise; none " +
			"without a plan), the replacement (the same model, else a similar model priced no higher than the " +
			"original's purchase price; none leaves the choice to the brand) and the route by amount (the " +
			"replacement's retail price less the fee): under no plan in force, only when the three guarantees or the " +
			"manufacturer warranty owe a free exchange that day (else the brand decides, whatever the amount), " +
			"up to 1,000.00 approved at once, up to 5,000.00 a node " +
			"manager approves, above a node manager and then the brand. A storefront key requests only for its " +
			"storefront's units (any other is 404); an unknown unit is 422; a unit with an open swap is 409, and so is " +
			"a swap other than a statutory or no-reason exchange of a unit whose purchase_price_source is " +
			"model_retail_price (its price only assumed at a ticket's intake), naming purchase_price, until the brand " +
			"sets it with updateUnit.",
		DefaultStatus: http.StatusCreated, Errors: []int{http.StatusNotFound, http.StatusConflict, http.StatusUnprocessableEntity},
		MaxBodyBytes: 8 << 10,
	}, func(ctx context.Context, in *struct{ Body swaps.NewSwap }) (*createdSwapOutput, error) {
		p, _ := tenants.PrincipalFrom(ctx)
		return reply[createdSwapOutput](s.deps.Swaps.RequestSwap(ctx, p, in.Body))
	})

	register(s, authz.SwapsRead, huma.Operation{
		OperationID: "listSwaps", Method: http.MethodGet, Path: "/v1/swaps",
		Summary: "List swaps", Tags: tags,
		Description: "Swaps oldest first, filtered by state and unit. A storefront key sees only its storefront's.",
		Errors:      []int{http.StatusUnprocessableEntity},
	}, func(ctx context.Context, in *listSwapsInput) (*listSwapsOutput, error) {
		p, _ := tenants.PrincipalFrom(ctx)
		return replyPage[listSwapsOutput](s.deps.Swaps.ListSwaps(ctx, p, swaps.Filter{State: in.State, UnitID: in.UnitID, Limit: in.limit(), Cursor: in.Cursor}))
	})

	register(s, authz.SwapsRead, huma.Operation{
		OperationID: "getSwap", Method: http.MethodGet, Path: "/v1/swaps/{swap_id}",
		Summary: "Get a swap", Tags: tags,
		Description: "A swap with its fee, replacement, approval route and steps. A storefront key sees only its storefront's.",
		Errors:      []int{http.StatusNotFound},
	}, func(ctx context.Context, in *SwapIDParam) (*swapOutput, error) {
		p, _ := tenants.PrincipalFrom(ctx)
		w, err := s.deps.Swaps.GetSwap(ctx, p, in.SwapID)
		if err != nil {
			return nil, err
		}
		return &swapOutput{ETag: etag(w.Version), Body: w}, nil
	})

	register(s, authz.SwapsApprove, huma.Operation{
		OperationID: "approveSwap", Method: http.MethodPost, Path: "/v1/swaps/{swap_id}/approve",
		Summary: "Approve a swap's current step", Tags: tags,
		Description: "pending_node_manager is approved by a node manager's key (then pending_brand when the amount " +
			"needs the brand, else approved); pending_brand by a tenant_admin key (then approved). Another role at a " +
			"step is 403 naming the step; a swap in another state is 409 naming it. replacement_model_id chooses the " +
			"replacement (same category, not discontinued, priced no higher than the original). At the brand's step, " +
			"customer_fee charges the customer a fee on a swap no rule prices (brand_sets_fee: nothing owes it free and no " +
			"plan fixes its fee): it becomes the swap's fee (fee_set_by brand) and the rest of the replacement its amount, " +
			"borne by the brand (borne_by); a fee on any other swap or step, negative, above the replacement's retail price " +
			"or in another currency is 422 naming customer_fee. A swap under a contract that is no longer in force on the " +
			"swap's day (cancelled, consumed or expired since the request) is not approved: it is evaluated again as naming " +
			"no contract (its plan neither prices nor bears it) and returned at its new step (200; see state and state_reason).",
		Errors:       []int{http.StatusNotFound, http.StatusConflict, http.StatusPreconditionFailed, http.StatusUnprocessableEntity},
		MaxBodyBytes: 4 << 10,
	}, func(ctx context.Context, in *approveSwapInput) (*swapOutput, error) {
		p, _ := tenants.PrincipalFrom(ctx)
		v, err := ifVersion(in.IfMatch)
		if err != nil {
			return nil, err
		}
		w, err := s.deps.Swaps.Approve(ctx, p, in.SwapID, in.Body, v)
		if err != nil {
			return nil, err
		}
		return &swapOutput{ETag: etag(w.Version), Body: w}, nil
	})

	register(s, authz.SwapsApprove, huma.Operation{
		OperationID: "rejectSwap", Method: http.MethodPost, Path: "/v1/swaps/{swap_id}/reject",
		Summary: "Reject a swap", Tags: tags,
		Description: "Rejects a swap waiting for approval (a node manager only at its own step; the brand at any " +
			"step, and an approved swap before fulfilment). Other states are 409 naming the state.",
		Errors:       []int{http.StatusNotFound, http.StatusConflict, http.StatusPreconditionFailed, http.StatusUnprocessableEntity},
		MaxBodyBytes: 4 << 10,
	}, func(ctx context.Context, in *rejectSwapInput) (*swapOutput, error) {
		p, _ := tenants.PrincipalFrom(ctx)
		v, err := ifVersion(in.IfMatch)
		if err != nil {
			return nil, err
		}
		w, err := s.deps.Swaps.Reject(ctx, p, in.SwapID, in.Body.Reason, v)
		if err != nil {
			return nil, err
		}
		return &swapOutput{ETag: etag(w.Version), Body: w}, nil
	})

	register(s, authz.SwapsApprove, huma.Operation{
		OperationID: "fulfilSwap", Method: http.MethodPost, Path: "/v1/swaps/{swap_id}/fulfil",
		Summary: "Record a swap's hand-over", Tags: tags,
		Description: "For an approved swap (409 otherwise, naming the state): registers the replacement unit with " +
			"the given serial (same owner, channel and storefront, the replacement model, purchased today), marks the " +
			"old unit replaced by it, and consumes the old unit's active contracts: the replacement keeps the normal " +
			"warranty but not the plan.",
		Errors:       []int{http.StatusNotFound, http.StatusConflict, http.StatusPreconditionFailed, http.StatusUnprocessableEntity},
		MaxBodyBytes: 4 << 10,
	}, func(ctx context.Context, in *fulfilSwapInput) (*swapOutput, error) {
		p, _ := tenants.PrincipalFrom(ctx)
		v, err := ifVersion(in.IfMatch)
		if err != nil {
			return nil, err
		}
		w, err := s.deps.Swaps.Fulfil(ctx, p, in.SwapID, in.Body, v)
		if err != nil {
			return nil, err
		}
		return &swapOutput{ETag: etag(w.Version), Body: w}, nil
	})
}
