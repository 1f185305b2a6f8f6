package api

import (
	"context"
	"net/http"

	"github.com/danielgtaylor/huma/v2"

	"github.com/servicenet/servicenet/authz"
	"github.com/servicenet/servicenet/tenants"
	"github.com/servicenet/servicenet/tenants/claims"
)

// ClaimIDParam is the claim path parameter.
type ClaimIDParam struct {
	ClaimID string `path:"claim_id" maxLength:"64" doc:"Claim ID." example:"clm_01jd3zq8w6v7t3y2k9x4n5m6pm"`
}

type claimOutput struct {
	ETag string `header:"ETag" doc:"The claim's revision; send it in If-Match to act on it."`
	Body claims.Claim
}

type submittedClaimOutput struct {
	Status   int
	Location string `header:"Location"`
	ETag     string `header:"ETag"`
	Body     claims.Claim
}

type listClaimsInput struct {
	PageParams
	State  string `query:"state" enum:"submitted,under_review,approved,rejected,needs_info,withdrawn,paid" doc:"Only claims in this state."`
	Kind   string `query:"kind" enum:"warranty,extended_warranty,accidental_damage,swap_for_repair,no_reason_repair,reimbursement" doc:"Only claims of this kind."`
	UnitID string `query:"unit_id" maxLength:"64" doc:"Only claims for this unit."`
	// Reference finds a claim by your own reference.
	Reference string `query:"reference" maxLength:"64" doc:"Only claims filed under this reference of yours (unique per submitter: a storefront key finds its one claim)." example:"TM-CLM-000123"`
	Overdue   bool   `query:"overdue" doc:"Only claims still open (submitted, under_review, needs_info) past a deadline they have not met: review_due_at with no response yet, or decision_due_at. A claim on a test clock is judged at its clock's time."`
}

type claimList struct {
	Data       []claims.Claim `json:"data"`
	NextCursor string         `json:"next_cursor,omitempty" doc:"Cursor for the next page; absent on the last page."`
}

type listClaimsOutput struct{ Body claimList }

func (o *listClaimsOutput) answerPage(xs []claims.Claim, next string) {
	o.Body.Data, o.Body.NextCursor = xs, next
}

type claimVersionsOutput struct {
	Body struct {
		Data []claims.ClaimVersion `json:"data"`
	}
}

func (o *claimVersionsOutput) answerList(xs []claims.ClaimVersion) { o.Body.Data = xs }

type claimTransitionsOutput struct {
	Body struct {
		Data []claims.ClaimTransition `json:"data"`
	}
}

func (o *claimTransitionsOutput) answerList(xs []claims.ClaimTransition) { o.Body.Data = xs }

// claimOut answers a claim with its revision as the ETag.
func claimOut(c claims.Claim, err error) (*claimOutput, error) {
	if err != nil {
		return nil, err
	}
	return &claimOutput{ETag: etag(c.Revision), Body: c}, nil
}

// ClaimActionParams is the claim an action acts on and the revision the caller
// read (every action's path and If-Match).
type ClaimActionParams struct {
	ClaimIDParam
	IfMatch string `header:"If-Match" doc:"ETag of your last read (GET or the previous action's response); refused (412) if the claim changed since. Required: without it the request is 428, so that no one acts on a version of the claim they have not seen. Strict: a weak or \"v0\" tag is 412, a malformed one 400."`
}

func (t ClaimActionParams) target() ClaimActionParams { return t }

// claimAction is the handler of an action on a claim: act runs with the
// principal and the revision If-Match requires (without it, a claim p
// cannot see is still 404 and one it can see 428).
func claimAction[I interface{ target() ClaimActionParams }](s *Server,
	act func(ctx context.Context, p tenants.Principal, in *I, v int) (claims.Claim, error)) func(context.Context, *I) (*claimOutput, error) {
	return func(ctx context.Context, in *I) (*claimOutput, error) {
		p, _ := tenants.PrincipalFrom(ctx)
		t := (*in).target()
		v, err := requireVersion(t.IfMatch, func() error {
			_, err := s.deps.Claims.GetClaim(ctx, p, t.ClaimID)
			return err
		})
		if err != nil {
			return nil, err
		}
		return claimOut(act(ctx, p, in, v))
	}
}

type claimReasonInput struct {
	ClaimActionParams
	Body struct {
		Reason string `json:"reason" minLength:"1" maxLength:"1000" doc:"Why; the submitter reads it." example:"请补充购买发票照片"`
	}
}

type claimOptionalReasonInput struct {
	ClaimActionParams
	Body *struct {
		Reason string `json:"reason,omitempty" maxLength:"1000" doc:"Why." example:"customer repaired it elsewhere"`
	}
}

type approveClaimInput struct {
	ClaimActionParams
	Body *struct {
		Reason string                   `json:"reason,omitempty" maxLength:"1000" doc:"Why; kept in the claim's history." example:"checked the invoice"`
		Lines  []claims.ClaimLineAmount `json:"lines,omitempty" maxItems:"50" doc:"Approved amounts of some lines, each line at most once; the others are approved as calculated (else as requested)."`
	}
}

type markPaidInput struct {
	ClaimActionParams
	Body *struct {
		PaymentReference string `json:"payment_reference,omitempty" maxLength:"1000" doc:"The payment's reference." example:"PAY-20261125-0001"`
	}
}

type resubmitClaimInput struct {
	ClaimActionParams
	Body claims.ClaimSubmission
}

type policyOutput struct{ Body claims.ClaimPolicy }

// claimIfMatchRule ends the description of every action on a claim.
const claimIfMatchRule = "If-Match is required (428 without it): every action is taken on the version of the " +
	"claim its maker read, never blind; an If-Match other than the claim's ETag is 412."

func (s *Server) registerClaims() {
	tags := []string{"Claims"}
	register(s, authz.ClaimsSubmit, huma.Operation{
		OperationID: "submitClaim", Method: http.MethodPost, Path: "/v1/claims",
		Summary: "File a claim", Tags: tags,
		Description: "Files a warranty, plan or reimbursement claim for a unit, with its lines (labor, parts, visit, other) " +
			"and the requested amounts; total, when given, must equal the sum of the lines (422 on body.total). Part lines " +
			"name parts that fit the unit's model (422 on body.lines[i].part_id). A storefront key files for units its " +
			"storefront sold (404 otherwise), never reimbursement; a node-scoped key (a repair point) files reimbursement " +
			"claims only, which need ticket_id or the service_record_id of the repair (422 on body.ticket_id otherwise); a " +
			"reimbursement's ticket is a completed repair served by the claim's node (another node's is unknown: 422). A " +
			"service_record_id that a ticket's completion recorded names that ticket's repair: the claim takes the ticket " +
			"(ticket_id) and its rules, at body.service_record_id; a reimbursement for a repair no ticket recorded is " +
			"flagged repair_not_verified for a reviewer. " +
			"reference is yours and unique per submitter: filing the same body again answers 200 with the claim, another " +
			"body under it is 409 on body.reference. The claim is answered submitted; adjudication takes it up within " +
			"about a second (claim.under_review), runs the entitlement engine and the checks, and approves, rejects or " +
			"leaves the claim for a reviewer (claim.approved, claim.rejected, or claim.flagged with the reasons).",
		DefaultStatus: http.StatusCreated, Errors: []int{http.StatusNotFound, http.StatusConflict, http.StatusUnprocessableEntity},
		MaxBodyBytes: 64 << 10,
	}, func(ctx context.Context, in *struct{ Body claims.NewClaim }) (*submittedClaimOutput, error) {
		p, _ := tenants.PrincipalFrom(ctx)
		c, created, err := s.deps.Claims.SubmitClaim(ctx, p, in.Body)
		if err != nil {
			return nil, err
		}
		return &submittedClaimOutput{Status: createdStatus(created), Location: "/v1/claims/" + c.ID, ETag: etag(c.Revision), Body: c}, nil
	})

	register(s, authz.ClaimsRead, huma.Operation{
		OperationID: "listClaims", Method: http.MethodGet, Path: "/v1/claims",
		Summary: "List claims", Tags: tags,
		Description: "Claims oldest first with their current version, filtered by state, kind and unit, and with " +
			"overdue=true the open claims past their review or decision deadline. A storefront key " +
			"sees only its storefront's claims; a node-scoped key only its subtree's reimbursement claims.",
		Errors: []int{http.StatusUnprocessableEntity},
	}, func(ctx context.Context, in *listClaimsInput) (*listClaimsOutput, error) {
		p, _ := tenants.PrincipalFrom(ctx)
		return replyPage[listClaimsOutput](s.deps.Claims.ListClaims(ctx, p, claims.ClaimFilter{State: in.State, Kind: in.Kind, UnitID: in.UnitID,
			Reference: in.Reference, Overdue: in.Overdue, Limit: in.limit(), Cursor: in.Cursor}))
	})

	register(s, authz.ClaimsReview, huma.Operation{
		OperationID: "getClaimPolicy", Method: http.MethodGet, Path: "/v1/claims/policy",
		Summary: "Get the claim adjudication policy", Tags: tags,
		Description: "The tenant's thresholds for adjudication: the auto-approval limit (default 2,000.00), the " +
			"duplicate window (default 30 days) and the parts markup cap (default 20%); and a claim's deadlines: " +
			"a person responds within review_hours of its filing (default 24) and decides within decision_days " +
			"(default 30), seed 002: 在报修之时起24小时之内得到响应, 在接受报修之日起30天内向消费者反馈相应售后信息. " +
			"A deadline missed is recorded once with a claim.deadline_missed event.",
	}, func(ctx context.Context, _ *struct{}) (*policyOutput, error) {
		p, _ := tenants.PrincipalFrom(ctx)
		pol, err := s.deps.Claims.GetPolicy(ctx, p)
		if err != nil {
			return nil, err
		}
		return &policyOutput{Body: pol}, nil
	})

	register(s, authz.ClaimsReview, huma.Operation{
		OperationID: "setClaimPolicy", Method: http.MethodPut, Path: "/v1/claims/policy",
		Summary: "Set the claim adjudication policy", Tags: tags,
		Description: "Replaces the tenant's thresholds; claims adjudicated from then on follow them.",
		Errors:      []int{http.StatusUnprocessableEntity}, MaxBodyBytes: 4 << 10,
	}, func(ctx context.Context, in *struct{ Body claims.ClaimPolicy }) (*policyOutput, error) {
		p, _ := tenants.PrincipalFrom(ctx)
		pol, err := s.deps.Claims.SetPolicy(ctx, p, in.Body)
		if err != nil {
			return nil, err
		}
		return &policyOutput{Body: pol}, nil
	})

	register(s, authz.ClaimsRead, huma.Operation{
		OperationID: "getClaim", Method: http.MethodGet, Path: "/v1/claims/{claim_id}",
		Summary: "Get a claim", Tags: tags,
		Description: "A claim with its current version: lines with requested, calculated and approved amounts and each " +
			"line's decision, the adjudication's flags and reasons, the engine's decision and the allowed actions.",
		Errors: []int{http.StatusNotFound},
	}, func(ctx context.Context, in *ClaimIDParam) (*claimOutput, error) {
		p, _ := tenants.PrincipalFrom(ctx)
		return claimOut(s.deps.Claims.GetClaim(ctx, p, in.ClaimID))
	})

	register(s, authz.ClaimsRead, huma.Operation{
		OperationID: "listClaimVersions", Method: http.MethodGet, Path: "/v1/claims/{claim_id}/versions",
		Summary: "List a claim's versions", Tags: tags,
		Description: "Every submission of the claim, oldest first, as filed (with its lines as adjudicated).",
		Errors:      []int{http.StatusNotFound},
	}, func(ctx context.Context, in *ClaimIDParam) (*claimVersionsOutput, error) {
		p, _ := tenants.PrincipalFrom(ctx)
		return replyList[claimVersionsOutput](s.deps.Claims.ListVersions(ctx, p, in.ClaimID))
	})

	register(s, authz.ClaimsRead, huma.Operation{
		OperationID: "listClaimTransitions", Method: http.MethodGet, Path: "/v1/claims/{claim_id}/transitions",
		Summary: "List a claim's state changes", Tags: tags,
		Description: "The claim's state history, oldest first, each with the version then current, the reason and the actor " +
			"(system for adjudication).",
		Errors: []int{http.StatusNotFound},
	}, func(ctx context.Context, in *ClaimIDParam) (*claimTransitionsOutput, error) {
		p, _ := tenants.PrincipalFrom(ctx)
		return replyList[claimTransitionsOutput](s.deps.Claims.ListTransitions(ctx, p, in.ClaimID))
	})

	actionErrors := []int{http.StatusNotFound, http.StatusConflict, http.StatusPreconditionFailed,
		http.StatusPreconditionRequired, http.StatusUnprocessableEntity}

	register(s, authz.ClaimsReview, huma.Operation{
		OperationID: "requestClaimInfo", Method: http.MethodPost, Path: "/v1/claims/{claim_id}/request-info",
		Summary: "Ask the submitter for information", Tags: tags,
		Description: "under_review → needs_info with the reason; the submitter answers with resubmitClaim. Any other state " +
			"is 409 naming the state and the allowed actions. " + claimIfMatchRule,
		Errors: actionErrors, MaxBodyBytes: 4 << 10,
	}, claimAction(s, func(ctx context.Context, p tenants.Principal, in *claimReasonInput, v int) (claims.Claim, error) {
		return s.deps.Claims.RequestInfo(ctx, p, in.ClaimID, in.Body.Reason, v)
	}))

	register(s, authz.ClaimsSubmit, huma.Operation{
		OperationID: "resubmitClaim", Method: http.MethodPost, Path: "/v1/claims/{claim_id}/resubmit",
		Summary: "Resubmit a claim with the information asked for", Tags: tags,
		Description: "needs_info → submitted with a new version (the earlier ones stay readable in listClaimVersions), " +
			"checked as a new claim's submission is, and adjudicated again. Any other state is 409 naming the state. " + claimIfMatchRule,
		Errors: actionErrors, MaxBodyBytes: 64 << 10,
	}, claimAction(s, func(ctx context.Context, p tenants.Principal, in *resubmitClaimInput, v int) (claims.Claim, error) {
		return s.deps.Claims.ResubmitClaim(ctx, p, in.ClaimID, in.Body, v)
	}))

	register(s, authz.ClaimsReview, huma.Operation{
		OperationID: "approveClaim", Method: http.MethodPost, Path: "/v1/claims/{claim_id}/approve",
		Summary: "Approve a claim", Tags: tags,
		Description: "under_review → approved. Lines are approved as calculated by the adjudication (else as requested) " +
			"unless lines gives a line's approved amount: at most its requested amount, and at most its calculated amount " +
			"unless override_reason says why (an override: the line then carries override, with the calculated amount, " +
			"the reason and the key that approved it). Otherwise, and for an override_reason on a line not above its " +
			"calculation or a line given twice, 422 at body.lines[i] and nothing changes. " + claimIfMatchRule,
		Errors: actionErrors, MaxBodyBytes: 16 << 10,
	}, claimAction(s, func(ctx context.Context, p tenants.Principal, in *approveClaimInput, v int) (claims.Claim, error) {
		body := optional(in.Body)
		return s.deps.Claims.ApproveClaim(ctx, p, in.ClaimID, body.Reason, body.Lines, v)
	}))

	register(s, authz.ClaimsReview, huma.Operation{
		OperationID: "rejectClaim", Method: http.MethodPost, Path: "/v1/claims/{claim_id}/reject",
		Summary: "Reject a claim", Tags: tags,
		Description: "under_review → rejected with the reason; every line's approved amount is zero. " + claimIfMatchRule,
		Errors:      actionErrors, MaxBodyBytes: 4 << 10,
	}, claimAction(s, func(ctx context.Context, p tenants.Principal, in *claimReasonInput, v int) (claims.Claim, error) {
		return s.deps.Claims.RejectClaim(ctx, p, in.ClaimID, in.Body.Reason, v)
	}))

	register(s, authz.ClaimsSubmit, huma.Operation{
		OperationID: "withdrawClaim", Method: http.MethodPost, Path: "/v1/claims/{claim_id}/withdraw",
		Summary: "Withdraw a claim", Tags: tags,
		Description: "submitted or needs_info → withdrawn. " + claimIfMatchRule,
		Errors:      actionErrors, MaxBodyBytes: 4 << 10,
	}, claimAction(s, func(ctx context.Context, p tenants.Principal, in *claimOptionalReasonInput, v int) (claims.Claim, error) {
		return s.deps.Claims.WithdrawClaim(ctx, p, in.ClaimID, optional(in.Body).Reason, v)
	}))

	register(s, authz.ClaimsReview, huma.Operation{
		OperationID: "markClaimPaid", Method: http.MethodPost, Path: "/v1/claims/{claim_id}/mark-paid",
		Summary: "Mark a claim paid", Tags: tags,
		Description: "approved → paid, with the payment's reference. " + claimIfMatchRule,
		Errors:      actionErrors, MaxBodyBytes: 4 << 10,
	}, claimAction(s, func(ctx context.Context, p tenants.Principal, in *markPaidInput, v int) (claims.Claim, error) {
		return s.deps.Claims.MarkPaid(ctx, p, in.ClaimID, optional(in.Body).PaymentReference, v)
	}))
}
