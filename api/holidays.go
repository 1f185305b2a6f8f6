package api

import (
	"context"
	"net/http"

	"github.com/danielgtaylor/huma/v2"

	"github.com/servicenet/servicenet/authz"
	"github.com/servicenet/servicenet/tenants"
	"github.com/servicenet/servicenet/tenants/payouts"
)

// HolidayDateParam is the holiday path parameter.
type HolidayDateParam struct {
	Date string `path:"date" maxLength:"10" doc:"The date, YYYY-MM-DD, in the tenant's time zone." example:"2026-10-01"`
}

type listHolidaysInput struct {
	PageParams
	From string `query:"from" maxLength:"10" doc:"Only holidays on or after this date (YYYY-MM-DD)."`
	To   string `query:"to" maxLength:"10" doc:"Only holidays on or before this date (YYYY-MM-DD)."`
}

type holidayList struct {
	Data       []payouts.Holiday `json:"data"`
	NextCursor string            `json:"next_cursor,omitempty" doc:"Cursor for the next page; absent on the last page."`
}

type listHolidaysOutput struct{ Body holidayList }

func (o *listHolidaysOutput) answerPage(xs []payouts.Holiday, next string) {
	o.Body.Data, o.Body.NextCursor = xs, next
}

type putHolidayInput struct {
	HolidayDateParam
	Body struct {
		Name string `json:"name" minLength:"1" maxLength:"100" doc:"What the day is." example:"国庆节"`
	}
}

type holidayOutput struct {
	Status int
	Body   payouts.Holiday
}

func (s *Server) registerHolidays() {
	tags := []string{"Holidays"}

	register(s, authz.TenantRead, huma.Operation{
		OperationID: "listHolidays", Method: http.MethodGet, Path: "/v1/tenant/holidays",
		Summary: "List the tenant's holidays", Tags: tags,
		Description: "The tenant's holiday calendar by date. Business days (payout deadlines) are Monday to Friday " +
			"in the tenant's time zone, less these days.",
		Errors: []int{http.StatusUnprocessableEntity},
	}, func(ctx context.Context, in *listHolidaysInput) (*listHolidaysOutput, error) {
		p, _ := tenants.PrincipalFrom(ctx)
		return replyPage[listHolidaysOutput](s.deps.Payouts.ListHolidays(ctx, p, payouts.HolidayFilter{From: in.From, To: in.To, Limit: in.limit(), Cursor: in.Cursor}))
	})

	register(s, authz.TenantUpdate, huma.Operation{
		OperationID: "putHoliday", Method: http.MethodPut, Path: "/v1/tenant/holidays/{date}",
		Summary: "Set a holiday", Tags: tags,
		Description: "Makes the date a holiday (201) or renames it (200). Payouts already scheduled keep their due dates.",
		Errors:      []int{http.StatusUnprocessableEntity}, MaxBodyBytes: 4 << 10,
	}, func(ctx context.Context, in *putHolidayInput) (*holidayOutput, error) {
		p, _ := tenants.PrincipalFrom(ctx)
		h, created, err := s.deps.Payouts.PutHoliday(ctx, p, in.Date, in.Body.Name)
		if err != nil {
			return nil, err
		}
		return &holidayOutput{Status: createdStatus(created), Body: h}, nil
	})

	register(s, authz.TenantUpdate, huma.Operation{
		OperationID: "deleteHoliday", Method: http.MethodDelete, Path: "/v1/tenant/holidays/{date}",
		Summary: "Remove a holiday", Tags: tags,
		Description:   "Removes the date from the holiday calendar; a date that is not a holiday is 404.",
		DefaultStatus: http.StatusNoContent, Errors: []int{http.StatusNotFound, http.StatusUnprocessableEntity},
	}, func(ctx context.Context, in *HolidayDateParam) (*struct{}, error) {
		p, _ := tenants.PrincipalFrom(ctx)
		return nil, s.deps.Payouts.DeleteHoliday(ctx, p, in.Date)
	})
}
