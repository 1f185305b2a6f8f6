package api

import (
	"context"
	"net/http"
	"time"

	"github.com/danielgtaylor/huma/v2"

	"github.com/servicenet/servicenet/authz"
	"github.com/servicenet/servicenet/tenants"
	"github.com/servicenet/servicenet/tenants/testclocks"
)

// TestClockIDParam is the test clock path parameter.
type TestClockIDParam struct {
	TestClockID string `path:"test_clock_id" maxLength:"64" doc:"Test clock ID." example:"clk_01jd3zq8w6v7t3y2k9x4n5m6pq"`
}

type testClockOutput struct{ Body testclocks.Clock }

type createdTestClockOutput struct {
	Location string `header:"Location"`
	Body     testclocks.Clock
}

type testClockList struct {
	Data       []testclocks.Clock `json:"data"`
	NextCursor string             `json:"next_cursor,omitempty" doc:"Cursor for the next page; absent on the last page."`
}

type listTestClocksOutput struct{ Body testClockList }

func (o *listTestClocksOutput) answerPage(xs []testclocks.Clock, next string) {
	o.Body.Data, o.Body.NextCursor = xs, next
}

type createTestClockInput struct {
	Body struct {
		Name       *string    `json:"name,omitempty" minLength:"1" maxLength:"200" doc:"A name for the clock." example:"plan starts on day 31"`
		FrozenTime *time.Time `json:"frozen_time,omitempty" doc:"The clock's first time; default: now." example:"2026-12-01T10:00:00+08:00"`
	}
}

type advanceTestClockInput struct {
	TestClockIDParam
	Body struct {
		FrozenTime time.Time `json:"frozen_time" doc:"The clock's new time: later than its current time (a clock never goes back, 422), at most two years later." example:"2027-01-01T10:00:00+08:00"`
	}
}

type attachTestClockInput struct {
	TestClockIDParam
	Body struct {
		ObjectID string `json:"object_id" minLength:"1" maxLength:"64" doc:"The test object to attach: a ticket (tkt_), a contract (ctr_), a payout (pay_), a claim (clm_) or a unit (unt_)." example:"tkt_01jd3zq8w6v7t3y2k9x4n5m6pq"`
	}
}

func (s *Server) registerTestClocks() {
	tags := []string{"Test clocks"}
	const testOnly = " Test mode only: with a live key every test clock operation is 404. A clock created with a storefront " +
		"key is that storefront's: other storefronts' keys do not see it (404); the brand's keys see every clock."

	register(s, authz.TestClocksWrite, huma.Operation{
		OperationID: "createTestClock", Method: http.MethodPost, Path: "/v1/test_clocks",
		Summary: "Create a test clock", Tags: tags,
		Description: "Creates a clock frozen at frozen_time (default now). Test objects attached to it (attachTestClock) " +
			"live on its time instead of the wall clock: their actions are stamped with it, and their SLA and callback " +
			"timers, contract windows and claim deadlines wait for the clock. Advance it to see them fire through the real jobs." + testOnly,
		DefaultStatus: http.StatusCreated, Errors: []int{http.StatusNotFound, http.StatusUnprocessableEntity},
		MaxBodyBytes: 4 << 10,
	}, func(ctx context.Context, in *createTestClockInput) (*createdTestClockOutput, error) {
		p, _ := tenants.PrincipalFrom(ctx)
		c, err := s.deps.TestClocks.Create(ctx, p, testclocks.NewClock{Name: in.Body.Name, FrozenTime: in.Body.FrozenTime})
		if err != nil {
			return nil, err
		}
		return &createdTestClockOutput{Location: "/v1/test_clocks/" + c.ID, Body: c}, nil
	})

	register(s, authz.TestClocksRead, huma.Operation{
		OperationID: "listTestClocks", Method: http.MethodGet, Path: "/v1/test_clocks",
		Summary: "List test clocks", Tags: tags,
		Description: "The tenant's test clocks, newest first." + testOnly,
		Errors:      []int{http.StatusNotFound, http.StatusUnprocessableEntity},
	}, func(ctx context.Context, in *PageParams) (*listTestClocksOutput, error) {
		p, _ := tenants.PrincipalFrom(ctx)
		return replyPage[listTestClocksOutput](s.deps.TestClocks.List(ctx, p, in.limit(), in.Cursor))
	})

	register(s, authz.TestClocksRead, huma.Operation{
		OperationID: "getTestClock", Method: http.MethodGet, Path: "/v1/test_clocks/{test_clock_id}",
		Summary: "Get a test clock", Tags: tags,
		Description: "A test clock with its time and status (advancing until what fell due on the way has been fired)." + testOnly,
		Errors:      []int{http.StatusNotFound},
	}, func(ctx context.Context, in *TestClockIDParam) (*testClockOutput, error) {
		p, _ := tenants.PrincipalFrom(ctx)
		c, err := s.deps.TestClocks.Get(ctx, p, in.TestClockID)
		if err != nil {
			return nil, err
		}
		return &testClockOutput{Body: c}, nil
	})

	register(s, authz.TestClocksWrite, huma.Operation{
		OperationID: "advanceTestClock", Method: http.MethodPost, Path: "/v1/test_clocks/{test_clock_id}/advance",
		Summary: "Advance a test clock", Tags: tags,
		Description: "Moves the clock forward to frozen_time. The clock is advancing while a job fires what fell due " +
			"for its objects on the way, as if that time had passed: contract windows (pending → active → expired, " +
			"events contract.activated and contract.expired), the tickets' SLA and callback timers (breaches, " +
			"event ticket.sla_breached) and payout deadlines (event payout.missed); then it is ready again (event test_clock.ready). A time not later than the " +
			"clock's is 422 on body.frozen_time: a clock never goes back. A clock moves one step at a time: while it is advancing, " +
			"another advance is 409 and changes nothing; advance it again once it is ready." + testOnly,
		Errors:       []int{http.StatusNotFound, http.StatusConflict, http.StatusUnprocessableEntity},
		MaxBodyBytes: 4 << 10,
	}, func(ctx context.Context, in *advanceTestClockInput) (*testClockOutput, error) {
		p, _ := tenants.PrincipalFrom(ctx)
		c, err := s.deps.TestClocks.Advance(ctx, p, in.TestClockID, in.Body.FrozenTime)
		if err != nil {
			return nil, err
		}
		return &testClockOutput{Body: c}, nil
	})

	register(s, authz.TestClocksWrite, huma.Operation{
		OperationID: "attachTestClock", Method: http.MethodPost, Path: "/v1/test_clocks/{test_clock_id}/attach",
		Summary: "Attach a test object to a test clock", Tags: tags,
		Description: "Attaches a test ticket, contract, payout, claim or unit to the clock: from then on its actions take the clock's time " +
			"and its SLA deadlines (those already running included), window, payment deadline and claim review and decision " +
			"deadlines wait for the clock, checked on its time when it advances; a unit's care reminders (getCarePolicy) are " +
			"judged on the clock's today and those due are emitted when it advances, and a ticket takes its unit onto the " +
			"clock with it when the unit is on none (or name test_clock_id when creating a ticket, " +
			"selling a contract or filing a claim, for an object on the clock from its first instant). An object that does not " +
			"exist in test mode is 422 on body.object_id; one attached to another clock is 409; attaching again to the " +
			"same clock changes nothing. A storefront key attaches only its own tickets, claims and units and the contracts it sold: any " +
			"other object (another storefront's, a payout) is 404." + testOnly,
		Errors:       []int{http.StatusNotFound, http.StatusConflict, http.StatusUnprocessableEntity},
		MaxBodyBytes: 4 << 10,
	}, func(ctx context.Context, in *attachTestClockInput) (*testClockOutput, error) {
		p, _ := tenants.PrincipalFrom(ctx)
		c, err := s.deps.TestClocks.Attach(ctx, p, in.TestClockID, in.Body.ObjectID)
		if err != nil {
			return nil, err
		}
		return &testClockOutput{Body: c}, nil
	})
}
