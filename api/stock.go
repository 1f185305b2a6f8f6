package api

import (
	"context"
	"net/http"

	"github.com/danielgtaylor/huma/v2"

	"github.com/servicenet/servicenet/authz"
	"github.com/servicenet/servicenet/tenants"
	"github.com/servicenet/servicenet/tenants/stock"
)

// LoanerIDParam is the {loaner_id} path parameter.
type LoanerIDParam struct {
	LoanerID string `path:"loaner_id" maxLength:"64" doc:"Loaner ID." example:"lnr_01jd3zq8w6v7t3y2k9x4n5m6pl"`
}

type listNodeStockInput struct {
	NodeIDParam
	PageParams
}

type stockLevels struct {
	Data       []stock.Level `json:"data"`
	NextCursor string        `json:"next_cursor,omitempty" doc:"Cursor for the next page; absent on the last page."`
}

type stockLevelsOutput struct{ Body stockLevels }

func (o *stockLevelsOutput) answerPage(xs []stock.Level, next string) {
	o.Body.Data, o.Body.NextCursor = xs, next
}

type receiveNodeStockInput struct {
	NodeIDParam
	Body stock.Receipt
}

type adjustNodeStockInput struct {
	NodeIDParam
	Body stock.Adjustment
}

type listStockMovesInput struct {
	NodeIDParam
	PageParams
	PartID   string `query:"part_id" maxLength:"64" doc:"Only movements of this part."`
	TicketID string `query:"ticket_id" maxLength:"64" doc:"Only movements for this ticket."`
}

type stockMovesOutput struct {
	Body struct {
		Data       []stock.Move `json:"data"`
		NextCursor string       `json:"next_cursor,omitempty" doc:"Cursor for the next page; absent on the last page."`
	}
}

func (o *stockMovesOutput) answerPage(xs []stock.Move, next string) {
	o.Body.Data, o.Body.NextCursor = xs, next
}

type loanerOutput struct {
	ETag string `header:"ETag" doc:"The loaner's version."`
	Body stock.Loaner
}

type createdLoanerOutput struct {
	Location string `header:"Location"`
	ETag     string `header:"ETag"`
	Body     stock.Loaner
}

func (o *createdLoanerOutput) answer(x stock.Loaner) {
	o.Location, o.ETag, o.Body = "/v1/loaners/"+x.ID, etag(x.Version), x
}

type listLoanersInput struct {
	PageParams
	NodeID   string `query:"node_id" maxLength:"64" doc:"Only loaners kept at this node."`
	Status   string `query:"status" enum:"available,lent,retired" doc:"Only loaners in this status."`
	Category string `query:"category" enum:"washer,refrigerator,air_conditioner,tv,water_heater,kitchen,small_appliance,phone,laptop,camera,tablet" doc:"Only loaners of this product category."`
	Overdue  bool   `query:"overdue" doc:"Only loaners lent and due before today in the tenant's time zone."`
}

type listLoanersOutput struct {
	Body struct {
		Data       []stock.Loaner `json:"data"`
		NextCursor string         `json:"next_cursor,omitempty" doc:"Cursor for the next page; absent on the last page."`
	}
}

func (o *listLoanersOutput) answerPage(xs []stock.Loaner, next string) {
	o.Body.Data, o.Body.NextCursor = xs, next
}

func (s *Server) registerStock() {
	tags := []string{"Stock"}
	levelsOut := func(ls []stock.Level, err error) (*stockLevelsOutput, error) {
		if err != nil {
			return nil, err
		}
		return &stockLevelsOutput{Body: stockLevels{Data: ls}}, nil
	}

	register(s, authz.StockRead, huma.Operation{
		OperationID: "listNodeStock", Method: http.MethodGet, Path: "/v1/network/nodes/{node_id}/stock",
		Summary: "List a node's parts stock", Tags: tags,
		Description: "The node's stock of every part it has held, in part id order: on hand (reserved included), " +
			"reserved for tickets, available, and defective parts held for the brand. Nodes outside the caller's scope are not found.",
		Errors: []int{http.StatusNotFound, http.StatusUnprocessableEntity},
	}, func(ctx context.Context, in *listNodeStockInput) (*stockLevelsOutput, error) {
		p, _ := tenants.PrincipalFrom(ctx)
		return replyPage[stockLevelsOutput](s.deps.Stock.ListStock(ctx, p, in.NodeID, stock.StockFilter{Limit: in.limit(), Cursor: in.Cursor}))
	})

	register(s, authz.StockWrite, huma.Operation{
		OperationID: "receiveNodeStock", Method: http.MethodPost, Path: "/v1/network/nodes/{node_id}/stock/receipts",
		Summary: "Receive parts at a node", Tags: tags,
		Description: "Adds the parts that arrived to the node's stock on hand, one receive movement per line, and " +
			"answers the node's stock of those parts. Each part must exist and be listed once (422 on " +
			"body.lines[i].part_id). Send an Idempotency-Key: a retried receipt is not counted twice.",
		Errors: []int{http.StatusNotFound, http.StatusUnprocessableEntity}, MaxBodyBytes: 64 << 10,
	}, func(ctx context.Context, in *receiveNodeStockInput) (*stockLevelsOutput, error) {
		p, _ := tenants.PrincipalFrom(ctx)
		return levelsOut(s.deps.Stock.Receive(ctx, p, in.NodeID, in.Body))
	})

	register(s, authz.StockWrite, huma.Operation{
		OperationID: "adjustNodeStock", Method: http.MethodPost, Path: "/v1/network/nodes/{node_id}/stock/adjustments",
		Summary: "Correct a node's stock counts", Tags: tags,
		Description: "Sets the counted on-hand quantity of parts after a stocktake, or the defective count when " +
			"defective parts leave for the brand, with the reason. On hand cannot fall below what tickets have reserved " +
			"(422 on body.lines[i].on_hand). Each change is an adjust or adjust_defective movement with the signed difference.",
		Errors: []int{http.StatusNotFound, http.StatusUnprocessableEntity}, MaxBodyBytes: 64 << 10,
	}, func(ctx context.Context, in *adjustNodeStockInput) (*stockLevelsOutput, error) {
		p, _ := tenants.PrincipalFrom(ctx)
		return levelsOut(s.deps.Stock.Adjust(ctx, p, in.NodeID, in.Body))
	})

	register(s, authz.StockRead, huma.Operation{
		OperationID: "listStockMoves", Method: http.MethodGet, Path: "/v1/network/nodes/{node_id}/stock/moves",
		Summary: "List a node's stock movements", Tags: tags,
		Description: "The node's movement log, oldest first: receipts, adjustments and tickets' reservations, issues, " +
			"uses and returns, optionally of one part or one ticket.",
		Errors: []int{http.StatusNotFound, http.StatusUnprocessableEntity},
	}, func(ctx context.Context, in *listStockMovesInput) (*stockMovesOutput, error) {
		p, _ := tenants.PrincipalFrom(ctx)
		return replyPage[stockMovesOutput](s.deps.Stock.ListMoves(ctx, p, in.NodeID, stock.MoveFilter{PartID: in.PartID, TicketID: in.TicketID,
			Limit: in.limit(), Cursor: in.Cursor}))
	})

	register(s, authz.StockWrite, huma.Operation{
		OperationID: "createLoaner", Method: http.MethodPost, Path: "/v1/loaners",
		Summary: "Register a loaner unit", Tags: tags,
		Description: "Registers a unit a node lends to customers while their own is carried in. The node must be in " +
			"the caller's scope (422 on body.node_id); model_id, when given, must be a model of the same category " +
			"(422 on body.model_id); serials are unique per tenant (409 on body.serial). Tickets lend and take back loaners.",
		DefaultStatus: http.StatusCreated, Errors: []int{http.StatusConflict, http.StatusUnprocessableEntity}, MaxBodyBytes: 8 << 10,
	}, func(ctx context.Context, in *struct{ Body stock.NewLoaner }) (*createdLoanerOutput, error) {
		p, _ := tenants.PrincipalFrom(ctx)
		return reply[createdLoanerOutput](s.deps.Stock.CreateLoaner(ctx, p, in.Body))
	})

	register(s, authz.StockRead, huma.Operation{
		OperationID: "listLoaners", Method: http.MethodGet, Path: "/v1/loaners",
		Summary: "List loaner units", Tags: tags,
		Description: "Loaners of the caller's scope, oldest first, filtered by node, status, category, and overdue " +
			"(lent and due before today in the tenant's time zone).",
		Errors: []int{http.StatusUnprocessableEntity},
	}, func(ctx context.Context, in *listLoanersInput) (*listLoanersOutput, error) {
		p, _ := tenants.PrincipalFrom(ctx)
		return replyPage[listLoanersOutput](s.deps.Stock.ListLoaners(ctx, p, stock.LoanerFilter{NodeID: in.NodeID, Status: in.Status,
			Category: in.Category, Overdue: in.Overdue, Limit: in.limit(), Cursor: in.Cursor}))
	})

	register(s, authz.StockRead, huma.Operation{
		OperationID: "getLoaner", Method: http.MethodGet, Path: "/v1/loaners/{loaner_id}",
		Summary: "Get a loaner unit", Tags: tags,
		Description: "A loaner with its current loan and its loan history, newest first. Loaners of nodes outside the caller's scope are not found.",
		Errors:      []int{http.StatusNotFound},
	}, func(ctx context.Context, in *LoanerIDParam) (*loanerOutput, error) {
		p, _ := tenants.PrincipalFrom(ctx)
		l, err := s.deps.Stock.GetLoaner(ctx, p, in.LoanerID)
		if err != nil {
			return nil, err
		}
		return &loanerOutput{ETag: etag(l.Version), Body: l}, nil
	})
}
