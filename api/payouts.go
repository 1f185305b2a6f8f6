package api

import (
	"context"
	"net/http"

	"github.com/danielgtaylor/huma/v2"

	"github.com/servicenet/servicenet/authz"
	"github.com/servicenet/servicenet/tenants"
	"github.com/servicenet/servicenet/tenants/payouts"
)

// PayoutIDParam is the payout path parameter.
type PayoutIDParam struct {
	PayoutID string `path:"payout_id" maxLength:"64" doc:"Payout ID." example:"pay_01jd3zq8w6v7t3y2k9x4n5m6pb"`
}

type payoutOutput struct {
	ETag string `header:"ETag" doc:"The payout's version; send it in If-Match to mark it paid."`
	Body payouts.Payout
}

type createdPayoutOutput struct {
	Location string `header:"Location"`
	ETag     string `header:"ETag"`
	Body     payouts.Payout
}

func (o *createdPayoutOutput) answer(x payouts.Payout) {
	o.Location, o.ETag, o.Body = "/v1/payouts/"+x.ID, etag(x.Version), x
}

type listPayoutsInput struct {
	PageParams
	State   string `query:"state" enum:"scheduled,paid,missed" doc:"Only payouts in this state."`
	UnitID  string `query:"unit_id" maxLength:"64" doc:"Only payouts for this unit."`
	ClaimID string `query:"claim_id" maxLength:"64" doc:"Only payouts owed by this claim."`
}

type payoutList struct {
	Data       []payouts.Payout `json:"data"`
	NextCursor string           `json:"next_cursor,omitempty" doc:"Cursor for the next page; absent on the last page."`
}

type listPayoutsOutput struct{ Body payoutList }

func (o *listPayoutsOutput) answerPage(xs []payouts.Payout, next string) {
	o.Body.Data, o.Body.NextCursor = xs, next
}

type markPayoutPaidInput struct {
	PayoutIDParam
	IfMatch string `header:"If-Match" doc:"ETag of your last read; refused (412) if the payout changed since. Optional: without it the change applies to whatever version is current (last write wins). Strict: a weak or \"v0\" tag is 412, a malformed one 400."`
	Body    struct {
		Reference string `json:"reference" minLength:"1" maxLength:"100" doc:"The payment's reference (bank or wallet transaction)." example:"ALIPAY-2026100212345"`
	}
}

func (s *Server) registerPayouts() {
	s.registerHolidays()
	tags := []string{"Payouts"}

	register(s, authz.PayoutsWrite, huma.Operation{
		OperationID: "createPayout", Method: http.MethodPost, Path: "/v1/payouts",
		Summary: "Schedule a compensation payout", Tags: tags,
		Description: "Schedules money owed to a unit's owner (e.g. the no-reason repair plan's satisfaction " +
			"compensation for a repair outside a claim). due_on is business_days (default 5) business days after " +
			"from (the repair or approval date, default today, not in the future): Monday to Friday in the tenant's " +
			"time zone, skipping the tenant's holidays. When the due day ends unpaid, the payout becomes missed " +
			"(event payout.missed) and stays payable. An unknown unit, or a contract not the unit's, is 422.",
		DefaultStatus: http.StatusCreated, Errors: []int{http.StatusNotFound, http.StatusUnprocessableEntity},
		MaxBodyBytes: 8 << 10,
	}, func(ctx context.Context, in *struct{ Body payouts.NewPayout }) (*createdPayoutOutput, error) {
		p, _ := tenants.PrincipalFrom(ctx)
		return reply[createdPayoutOutput](s.deps.Payouts.CreatePayout(ctx, p, in.Body))
	})

	register(s, authz.PayoutsRead, huma.Operation{
		OperationID: "listPayouts", Method: http.MethodGet, Path: "/v1/payouts",
		Summary: "List payouts", Tags: tags,
		Description: "Payouts oldest first, filtered by state, unit and claim.",
		Errors:      []int{http.StatusUnprocessableEntity},
	}, func(ctx context.Context, in *listPayoutsInput) (*listPayoutsOutput, error) {
		p, _ := tenants.PrincipalFrom(ctx)
		return replyPage[listPayoutsOutput](s.deps.Payouts.ListPayouts(ctx, p, payouts.Filter{State: in.State, UnitID: in.UnitID,
			ClaimID: in.ClaimID, Limit: in.limit(), Cursor: in.Cursor}))
	})

	register(s, authz.PayoutsRead, huma.Operation{
		OperationID: "getPayout", Method: http.MethodGet, Path: "/v1/payouts/{payout_id}",
		Summary: "Get a payout", Tags: tags,
		Description: "A payout with its deadline and state.",
		Errors:      []int{http.StatusNotFound},
	}, func(ctx context.Context, in *PayoutIDParam) (*payoutOutput, error) {
		p, _ := tenants.PrincipalFrom(ctx)
		o, err := s.deps.Payouts.GetPayout(ctx, p, in.PayoutID)
		if err != nil {
			return nil, err
		}
		return &payoutOutput{ETag: etag(o.Version), Body: o}, nil
	})

	register(s, authz.PayoutsWrite, huma.Operation{
		OperationID: "markPayoutPaid", Method: http.MethodPost, Path: "/v1/payouts/{payout_id}/mark-paid",
		Summary: "Record a payout's payment", Tags: tags,
		Description: "Records that a scheduled or missed payout was paid, with the payment's reference (event " +
			"payout.paid; late when it had been missed). A paid payout is 409. Send the ETag of your last read in If-Match.",
		Errors:       []int{http.StatusNotFound, http.StatusConflict, http.StatusPreconditionFailed, http.StatusUnprocessableEntity},
		MaxBodyBytes: 4 << 10,
	}, func(ctx context.Context, in *markPayoutPaidInput) (*payoutOutput, error) {
		p, _ := tenants.PrincipalFrom(ctx)
		v, err := ifVersion(in.IfMatch)
		if err != nil {
			return nil, err
		}
		o, err := s.deps.Payouts.MarkPaid(ctx, p, in.PayoutID, in.Body.Reference, v)
		if err != nil {
			return nil, err
		}
		return &payoutOutput{ETag: etag(o.Version), Body: o}, nil
	})
}
