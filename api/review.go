package api

import (
	"context"
	"net/http"

	"github.com/danielgtaylor/huma/v2"

	"github.com/servicenet/servicenet/authz"
	"github.com/servicenet/servicenet/tenants"
)

// Grading (nodes) and levelling (technicians) are reviewed alike: a versioned
// policy replaced whole under If-Match, and proposals a run writes that a
// person approves or rejects, the subject may appeal within the policy's
// window, and a person then upholds or overturns. registerReview registers
// those operations once for both; a review says what differs: the paths, the
// texts and the service calls.

// review is one kind of reviewed proposal. Pol is its policy, Prop its
// proposal; G, D, A and V are the inputs of get, decide, appeal and
// decide-appeal, kept apart per kind because their documentation differs.
type review[Pol, Prop any, G proposalRef, D decisionInput, A appealInput, V verdictInput] struct {
	tags                                  []string
	policyPath, proposalPath              string // proposalPath ends in the proposal's path parameter
	getPolicy, setPolicy                  huma.Operation
	getProp, decide, appeal, decideAppeal huma.Operation
	policyVersion                         func(Pol) int
	propVersion                           func(Prop) int
	calls                                 reviewCalls[Pol, Prop]
}

// reviewCalls are the service methods behind a review's operations.
type reviewCalls[Pol, Prop any] struct {
	Policy       func(ctx context.Context, p tenants.Principal) (Pol, error)
	SetPolicy    func(ctx context.Context, p tenants.Principal, pol Pol, ifVersion int) (Pol, error)
	Get          func(ctx context.Context, p tenants.Principal, id string) (Prop, error)
	Decide       func(ctx context.Context, p tenants.Principal, id string, approve bool, reason string, ifVersion int) (Prop, error)
	Appeal       func(ctx context.Context, p tenants.Principal, id, reason string) (Prop, error)
	DecideAppeal func(ctx context.Context, p tenants.Principal, id string, overturn bool, note string) (Prop, error)
}

// proposalRef is an input that names a proposal in its path.
type proposalRef interface{ proposal() string }

// decisionInput is a person's decision on a proposal, with the If-Match it
// was taken under ("" when absent).
type decisionInput interface {
	proposalRef
	decision() (approve bool, reason, ifMatch string)
}

// appealInput is the subject's appeal of a proposal.
type appealInput interface {
	proposalRef
	appealReason() string
}

// verdictInput is a person's decision on an appeal.
type verdictInput interface {
	proposalRef
	verdict() (overturn bool, note string)
}

type reviewPolicyOutput[Pol any] struct {
	ETag string `header:"ETag" doc:"The policy's version; send it in If-Match to replace it."`
	Body Pol
}

type setReviewPolicyInput[Pol any] struct {
	IfMatch string `header:"If-Match" doc:"ETag of your last read (\"v0\" when the tenant has no policy yet). Required: without it the request is 428; another version is 412."`
	Body    Pol
}

type reviewedProposalOutput[Prop any] struct {
	ETag string `header:"ETag" doc:"The proposal's version."`
	Body Prop
}

// registerReview registers the policy's GET and PUT and a proposal's GET,
// decide, appeal and appeal-decision; r's operations carry the ID, summary
// and description, registerReview the method, path, errors and body limit.
func registerReview[Pol, Prop any, G proposalRef, D decisionInput, A appealInput, V verdictInput](s *Server, r review[Pol, Prop, G, D, A, V]) {
	policyOut := func(pol Pol, err error) (*reviewPolicyOutput[Pol], error) {
		if err != nil {
			return nil, err
		}
		return &reviewPolicyOutput[Pol]{ETag: etag(r.policyVersion(pol)), Body: pol}, nil
	}
	propOut := func(pr Prop, err error) (*reviewedProposalOutput[Prop], error) {
		if err != nil {
			return nil, err
		}
		return &reviewedProposalOutput[Prop]{ETag: etag(r.propVersion(pr)), Body: pr}, nil
	}
	op := func(o huma.Operation, method, path string, errs ...int) huma.Operation {
		o.Method, o.Path, o.Tags, o.Errors = method, path, r.tags, errs
		return o
	}

	getPolicy := op(r.getPolicy, http.MethodGet, r.policyPath, http.StatusNotFound)
	register(s, authz.QualityRead, getPolicy, func(ctx context.Context, _ *struct{}) (*reviewPolicyOutput[Pol], error) {
		p, _ := tenants.PrincipalFrom(ctx)
		return policyOut(r.calls.Policy(ctx, p))
	})

	setPolicy := op(r.setPolicy, http.MethodPut, r.policyPath,
		http.StatusBadRequest, http.StatusPreconditionFailed, http.StatusPreconditionRequired, http.StatusUnprocessableEntity)
	setPolicy.MaxBodyBytes = 16 << 10
	register(s, authz.QualityPolicy, setPolicy, func(ctx context.Context, in *setReviewPolicyInput[Pol]) (*reviewPolicyOutput[Pol], error) {
		p, _ := tenants.PrincipalFrom(ctx)
		return policyOut(withVersion(requiredIfMatch, in.IfMatch, func(v int) (Pol, error) { return r.calls.SetPolicy(ctx, p, in.Body, v) }))
	})

	register(s, authz.QualityRead, op(r.getProp, http.MethodGet, r.proposalPath, http.StatusNotFound),
		func(ctx context.Context, in *G) (*reviewedProposalOutput[Prop], error) {
			p, _ := tenants.PrincipalFrom(ctx)
			return propOut(r.calls.Get(ctx, p, (*in).proposal()))
		})

	register(s, authz.QualityDecide, op(r.decide, http.MethodPost, r.proposalPath+"/decide",
		http.StatusNotFound, http.StatusConflict, http.StatusPreconditionFailed, http.StatusUnprocessableEntity),
		func(ctx context.Context, in *D) (*reviewedProposalOutput[Prop], error) {
			p, _ := tenants.PrincipalFrom(ctx)
			approve, reason, ifMatch := (*in).decision()
			v, err := parseIfMatch(ifMatch)
			if err != nil {
				return nil, err
			}
			iv := 0 // If-Match is optional here: without it the decision is taken on the current version
			if v != nil {
				iv = *v
			}
			return propOut(r.calls.Decide(ctx, p, (*in).proposal(), approve, reason, iv))
		})

	register(s, authz.QualityAppeal, op(r.appeal, http.MethodPost, r.proposalPath+"/appeal",
		http.StatusNotFound, http.StatusConflict, http.StatusUnprocessableEntity),
		func(ctx context.Context, in *A) (*reviewedProposalOutput[Prop], error) {
			p, _ := tenants.PrincipalFrom(ctx)
			return propOut(r.calls.Appeal(ctx, p, (*in).proposal(), (*in).appealReason()))
		})

	register(s, authz.QualityDecide, op(r.decideAppeal, http.MethodPost, r.proposalPath+"/appeal-decision",
		http.StatusNotFound, http.StatusConflict, http.StatusUnprocessableEntity),
		func(ctx context.Context, in *V) (*reviewedProposalOutput[Prop], error) {
			p, _ := tenants.PrincipalFrom(ctx)
			overturn, note := (*in).verdict()
			return propOut(r.calls.DecideAppeal(ctx, p, (*in).proposal(), overturn, note))
		})
}

// requiredIfMatch is the version a whole-document replacement names in
// If-Match: required (428 without it), "v0" while there is none yet.
func requiredIfMatch(h string) (int, error) {
	v, err := parseIfMatch(h)
	if err != nil {
		return 0, err
	}
	if v == nil {
		return 0, ifMatchRequired()
	}
	return *v, nil
}
