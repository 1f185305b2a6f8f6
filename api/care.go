package api

import (
	"context"
	"net/http"

	"github.com/danielgtaylor/huma/v2"

	"github.com/servicenet/servicenet/authz"
	"github.com/servicenet/servicenet/tenants"
	"github.com/servicenet/servicenet/tenants/customers"
)

type carePolicyOutput struct {
	ETag string `header:"ETag" doc:"The policy's version; send it as If-Match to change it."`
	Body customers.CarePolicy
}

type setCarePolicyInput struct {
	IfMatch string `header:"If-Match" doc:"ETag of your last read; refused (412) if the policy changed since. \"v0\" while none is set. Required: without it the request is 428."`
	Body    customers.CarePolicy
}

func (o *carePolicyOutput) answer(pol customers.CarePolicy) { o.ETag, o.Body = etag(pol.Version), pol }

func (s *Server) registerCare() {
	tags := []string{"Units"}

	register(s, authz.CareRead, huma.Operation{
		OperationID: "getCarePolicy", Method: http.MethodGet, Path: "/v1/care-policy",
		Summary: "Get the care-reminder policy", Tags: tags,
		Description: "The tenant's care reminders (定期保养提醒): an overall interval in days and intervals per product category, " +
			"each counted from the unit's installation date, or its purchase date when it was never installed, or its last " +
			"maintenance when that is later (a unit just cleaned is not reminded). Every hour the " +
			"care_reminders job emits unit.care_due (event and webhook) once per unit and due date. In test mode a unit " +
			"attached to a test clock (attachTestClock) is judged on the clock's today, and advancing the clock emits the " +
			"reminders that fell due on the way. Version 0, disabled, until the tenant sets one.",
	}, func(ctx context.Context, _ *struct{}) (*carePolicyOutput, error) {
		p, _ := tenants.PrincipalFrom(ctx)
		return reply[carePolicyOutput](s.deps.Customers.CarePolicy(ctx, p))
	})

	register(s, authz.CareWrite, huma.Operation{
		OperationID: "setCarePolicy", Method: http.MethodPut, Path: "/v1/care-policy",
		Summary: "Set the care-reminder policy", Tags: tags,
		Description: "Replaces the care-reminder policy whole and bumps its version, with a care_policy.updated event. Due " +
			"dates already announced stay announced; the next run of the job follows the new intervals. An interval out of " +
			"1-3,650 days or an unknown or repeated category is 422 naming the field, and nothing changes. If-Match is " +
			"required (428 without it; \"v0\" while none is set; another version is 412).",
		Errors:       []int{http.StatusBadRequest, http.StatusPreconditionFailed, http.StatusPreconditionRequired, http.StatusUnprocessableEntity},
		MaxBodyBytes: 8 << 10,
	}, func(ctx context.Context, in *setCarePolicyInput) (*carePolicyOutput, error) {
		p, _ := tenants.PrincipalFrom(ctx)
		return reply[carePolicyOutput](withVersion(requiredIfMatch, in.IfMatch, func(v int) (customers.CarePolicy, error) {
			return s.deps.Customers.SetCarePolicy(ctx, p, in.Body, v)
		}))
	})
}
