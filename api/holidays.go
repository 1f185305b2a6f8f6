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
	From string `query:"from" maxLength:"10" doc:"Only days on or after this date (YYYY-MM-DD)."`
	To   string `query:"to" maxLength:"10" doc:"Only days on or before this date (YYYY-MM-DD)."`
	Kind string `query:"kind" enum:"holiday,working_day" doc:"Only days of this kind: holiday, or working_day (make-up working days)."`
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
		Kind string `json:"kind,omitempty" enum:"holiday,working_day" default:"holiday" doc:"holiday (the default): no business day falls on the date. working_day: a make-up working day (调休), a Saturday or Sunday that counts as a business day, as the official holiday arrangement moves working days around 国庆 and 春节; a working_day on Monday to Friday is 422." example:"holiday"`
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
		Summary: "List the tenant's holidays and make-up working days", Tags: tags,
		Description: "The tenant's calendar by date: its holidays and its make-up working days (调休). Business days " +
			"(payout deadlines, the compensation due date an entitlement decision shows) are Monday to Friday in the " +
			"tenant's time zone, less the holidays, plus the working days (a Saturday or Sunday that is worked).",
		Errors: []int{http.StatusUnprocessableEntity},
	}, func(ctx context.Context, in *listHolidaysInput) (*listHolidaysOutput, error) {
		p, _ := tenants.PrincipalFrom(ctx)
		return replyPage[listHolidaysOutput](s.deps.Payouts.ListHolidays(ctx, p, payouts.HolidayFilter{From: in.From, To: in.To, Kind: in.Kind, Limit: in.limit(), Cursor: in.Cursor}))
	})

	register(s, authz.TenantUpdate, huma.Operation{
		OperationID: "putHoliday", Method: http.MethodPut, Path: "/v1/tenant/holidays/{date}",
		Summary: "Set a holiday or a make-up working day", Tags: tags,
		Description: "Makes the date a holiday, or with kind working_day a make-up working day (调休: a Saturday or " +
			"Sunday that counts as a business day): 201 when the date was not on the calendar, 200 when it was (renamed, " +
			"or its kind changed; a request without kind makes it a holiday). Payouts already scheduled keep their due dates.",
		Errors: []int{http.StatusUnprocessableEntity}, MaxBodyBytes: 4 << 10,
	}, func(ctx context.Context, in *putHolidayInput) (*holidayOutput, error) {
		p, _ := tenants.PrincipalFrom(ctx)
		h, created, err := s.deps.Payouts.PutCalendarDay(ctx, p, in.Date, in.Body.Name, in.Body.Kind)
		if err != nil {
			return nil, err
		}
		return &holidayOutput{Status: createdStatus(created), Body: h}, nil
	})

	register(s, authz.TenantUpdate, huma.Operation{
		OperationID: "deleteHoliday", Method: http.MethodDelete, Path: "/v1/tenant/holidays/{date}",
		Summary: "Remove a holiday or a make-up working day", Tags: tags,
		Description:   "Removes the date from the calendar: it is a business day again if it falls on Monday to Friday, not otherwise. A date that is not on the calendar is 404.",
		DefaultStatus: http.StatusNoContent, Errors: []int{http.StatusNotFound, http.StatusUnprocessableEntity},
	}, func(ctx context.Context, in *HolidayDateParam) (*struct{}, error) {
		p, _ := tenants.PrincipalFrom(ctx)
		return nil, s.deps.Payouts.DeleteHoliday(ctx, p, in.Date)
	})
}
