package api

import (
	"context"
	"net/http"

	"github.com/danielgtaylor/huma/v2"

	"github.com/servicenet/servicenet/authz"
	"github.com/servicenet/servicenet/tenants"
	"github.com/servicenet/servicenet/tenants/network"
	"github.com/servicenet/servicenet/tenants/quality"
)

// Technician levels and the training and certification records they rest
// on (issue 13, item 4).

type certificationInput struct {
	TechnicianID string `path:"technician_id" maxLength:"64" doc:"Technician ID." example:"tec_01jd3zq8w6v7t3y2k9x4n5m6pf"`
	Body         network.NewCertification
}

type certificationPathInput struct {
	TechnicianID    string `path:"technician_id" maxLength:"64" doc:"Technician ID." example:"tec_01jd3zq8w6v7t3y2k9x4n5m6pf"`
	CertificationID string `path:"certification_id" maxLength:"64" doc:"Training or certification record ID." example:"crt_01jd3zq8w6v7t3y2k9x4n5m6pn"`
}

type certificationOutput struct {
	Location string `header:"Location"`
	Body     network.Certification
}

type certificationList struct {
	Data []network.Certification `json:"data"`
}

type certificationListOutput struct{ Body certificationList }

func (o *certificationListOutput) answerList(xs []network.Certification) { o.Body.Data = xs }

type certificationPage struct {
	Data       []network.Certification `json:"data"`
	NextCursor string                  `json:"next_cursor,omitempty" doc:"Cursor for the next page; absent on the last page."`
}

type certificationPageOutput struct{ Body certificationPage }

func (o *certificationPageOutput) answerPage(xs []network.Certification, next string) {
	o.Body.Data, o.Body.NextCursor = xs, next
}

type listNetworkCertificationsInput struct {
	PageParams
	Course        string `query:"course" maxLength:"64" doc:"Only records of this course." example:"washer-advanced"`
	ExpiresBefore string `query:"expires_before" maxLength:"10" doc:"Only records expiring on or before this day (YYYY-MM-DD): who must re-certify soon." example:"2026-12-31"`
	ExpiresAfter  string `query:"expires_after" maxLength:"10" doc:"Only records expiring on or after this day (YYYY-MM-DD); not after expires_before." example:"2026-12-01"`
	TechnicianID  string `query:"technician_id" maxLength:"64" doc:"Only this technician's records."`
}

type levelRunOutput struct{ Body quality.LevelRun }

type listLevelProposalsInput struct {
	PageParams
	TechnicianID string `query:"technician_id" maxLength:"64" doc:"Only proposals for this technician."`
	RunID        string `query:"run_id" maxLength:"64" doc:"Only proposals of this levelling run."`
	Category     string `query:"category" enum:"washer,refrigerator,air_conditioner,tv,water_heater,kitchen,small_appliance,phone,laptop,camera,tablet" doc:"Only proposals for this product category."`
	State        string `query:"state" enum:"proposed,approved,rejected,appealed,upheld,overturned" doc:"Only proposals in this state."`
}

type levelProposalList struct {
	Data       []quality.LevelProposal `json:"data"`
	NextCursor string                  `json:"next_cursor,omitempty" doc:"Cursor for the next page; absent on the last page."`
}

type listLevelProposalsOutput struct{ Body levelProposalList }

func (o *listLevelProposalsOutput) answerPage(xs []quality.LevelProposal, next string) {
	o.Body.Data, o.Body.NextCursor = xs, next
}

// LevelProposalIDParam is the level proposal path parameter.
type LevelProposalIDParam struct {
	LevelProposalID string `path:"level_proposal_id" maxLength:"64" doc:"Level proposal ID." example:"lvp_01jd3zq8w6v7t3y2k9x4n5m6pn"`
}

func (p LevelProposalIDParam) proposal() string { return p.LevelProposalID }

type decideLevelInput struct {
	LevelProposalIDParam
	IfMatch string `header:"If-Match" doc:"ETag of your last read; refused (412) if the proposal changed since. Optional."`
	Body    struct {
		Decision string `json:"decision" enum:"approve,reject" doc:"approve sets the technician's level in the category (with a history entry) and opens the appeal window; reject leaves the level." example:"approve"`
		Reason   string `json:"reason,omitempty" maxLength:"1000" doc:"Why; required to reject." example:"11月考核达标，高级认证有效"`
	}
}

func (in decideLevelInput) decision() (bool, string, string) {
	return in.Body.Decision == "approve", in.Body.Reason, in.IfMatch
}

type appealLevelInput struct {
	LevelProposalIDParam
	Body struct {
		Reason string `json:"reason" minLength:"1" maxLength:"2000" doc:"Why the technician contests the level." example:"两单迟到为客户改约所致"`
	}
}

func (in appealLevelInput) appealReason() string { return in.Body.Reason }

type decideLevelAppealInput struct {
	LevelProposalIDParam
	Body struct {
		Decision string `json:"decision" enum:"upheld,overturned" doc:"upheld keeps the approved level; overturned restores the level the technician had before." example:"overturned"`
		Note     string `json:"note" minLength:"1" maxLength:"2000" doc:"The reasoning, recorded with the decision." example:"改约记录核实属实"`
	}
}

func (in decideLevelAppealInput) verdict() (bool, string) {
	return in.Body.Decision == "overturned", in.Body.Note
}

type levelHistoryInput struct {
	TechnicianID string `path:"technician_id" maxLength:"64" doc:"Technician ID." example:"tec_01jd3zq8w6v7t3y2k9x4n5m6pf"`
}

type levelHistoryList struct {
	Data []quality.LevelHistoryEntry `json:"data"`
}

type levelHistoryOutput struct{ Body levelHistoryList }

func (o *levelHistoryOutput) answerList(xs []quality.LevelHistoryEntry) { o.Body.Data = xs }

func (s *Server) registerQualityLevels() {
	certTags := []string{"Technicians"}
	register(s, authz.NetworkRead, huma.Operation{
		OperationID: "listTechnicianCertifications", Method: http.MethodGet, Path: "/v1/network/technicians/{technician_id}/certifications",
		Summary: "List a technician's training and certifications", Tags: certTags,
		Description: "The technician's training and certification records, newest first, each with whether it is valid on the " +
			"tenant's current date (passed and not expired). A node-bound key sees its subtree's technicians; a technician " +
			"key only its own records.",
		Errors: []int{http.StatusNotFound},
	}, func(ctx context.Context, in *technicianIDInput) (*certificationListOutput, error) {
		p, _ := tenants.PrincipalFrom(ctx)
		return replyList[certificationListOutput](s.deps.Network.ListCertifications(ctx, p, in.TechnicianID))
	})

	register(s, authz.NetworkWrite, huma.Operation{
		OperationID: "createTechnicianCertification", Method: http.MethodPost, Path: "/v1/network/technicians/{technician_id}/certifications",
		Summary: "Record a training or certification", Tags: certTags,
		Description: "Records a course the technician completed: the course code (as the level policy names it), the product " +
			"category it is for (absent: every category), the date, the result and the expiry. Passed records valid on the " +
			"period's last day count towards the levels that require them. A completion date in the future or an expiry not " +
			"after it is 422 naming the field.",
		DefaultStatus: http.StatusCreated, Errors: []int{http.StatusNotFound, http.StatusUnprocessableEntity}, MaxBodyBytes: 8 << 10,
	}, func(ctx context.Context, in *certificationInput) (*certificationOutput, error) {
		p, _ := tenants.PrincipalFrom(ctx)
		c, err := s.deps.Network.RecordCertification(ctx, p, in.TechnicianID, in.Body)
		if err != nil {
			return nil, err
		}
		return &certificationOutput{Location: "/v1/network/technicians/" + in.TechnicianID + "/certifications/" + c.ID, Body: c}, nil
	})

	register(s, authz.NetworkWrite, huma.Operation{
		OperationID: "deleteTechnicianCertification", Method: http.MethodDelete, Path: "/v1/network/technicians/{technician_id}/certifications/{certification_id}",
		Summary: "Remove a training or certification record", Tags: certTags,
		Description:   "Removes a record entered in error (the audit log keeps what it was), with a technician.certification_removed event.",
		DefaultStatus: http.StatusNoContent, Errors: []int{http.StatusNotFound},
	}, func(ctx context.Context, in *certificationPathInput) (*struct{}, error) {
		p, _ := tenants.PrincipalFrom(ctx)
		return nil, s.deps.Network.RemoveCertification(ctx, p, in.TechnicianID, in.CertificationID)
	})

	register(s, authz.NetworkRead, huma.Operation{
		OperationID: "listNetworkCertifications", Method: http.MethodGet, Path: "/v1/network/certifications",
		Summary: "List training and certifications across the network", Tags: certTags,
		Description: "The records of every technician in the caller's scope (a technician key: its own), soonest expiry first " +
			"(records that do not expire last), a page at a time (follow next_cursor): who must re-certify before a date. " +
			"A malformed date or cursor, or expires_before earlier than expires_after, is 422 naming the parameter.",
		Errors: []int{http.StatusUnprocessableEntity},
	}, func(ctx context.Context, in *listNetworkCertificationsInput) (*certificationPageOutput, error) {
		p, _ := tenants.PrincipalFrom(ctx)
		return replyPage[certificationPageOutput](s.deps.Network.ListNetworkCertifications(ctx, p, network.CertificationFilter{
			Course: in.Course, ExpiresBefore: in.ExpiresBefore, ExpiresAfter: in.ExpiresAfter, TechnicianID: in.TechnicianID,
			Limit: in.limit(), Cursor: in.Cursor}))
	})

	tags := []string{"Quality"}
	register(s, authz.QualityPolicy, huma.Operation{
		OperationID: "runLevelling", Method: http.MethodPost, Path: "/v1/quality/level-runs",
		Summary: "Level the technicians for a period", Tags: tags,
		Description: "Scores every technician (who has not left) per product category from its own KPIs in the category over " +
			"the period under the current level policy, and writes a proposal per technician and category: the score, every " +
			"indicator with its weight, value, numerator and denominator, the certifications that counted, why each higher " +
			"level was not reached, the policy version, the proposed level and whether it is a promotion or a demotion. An " +
			"indicator with no data in the period (value null) is left out, not scored 0: the score is re-weighted over the " +
			"indicators with data. A technician with fewer tickets in a category than every level's min_tickets, or with no " +
			"data in it for any indicator, is not levelled in it; one without a " +
			"valid service licence is not promoted (and, with no level yet, not levelled). Nothing changes until a person " +
			"approves a proposal. The monthly job (quality_monthly) does the same for each month that ends; a second run for " +
			"the same period and policy version returns the first. 409 without a policy; periods as for the scorecard.",
		Errors: []int{http.StatusConflict, http.StatusUnprocessableEntity},
	}, func(ctx context.Context, in *runGradingInput) (*levelRunOutput, error) {
		p, _ := tenants.PrincipalFrom(ctx)
		run, err := s.deps.Quality.RunLevelling(ctx, p, quality.PeriodQuery{Period: in.Body.Period, Date: in.Body.Date, From: in.Body.From, To: in.Body.To})
		if err != nil {
			return nil, err
		}
		return &levelRunOutput{Body: run}, nil
	})

	register(s, authz.QualityRead, huma.Operation{
		OperationID: "listLevelProposals", Method: http.MethodGet, Path: "/v1/quality/level-proposals",
		Summary: "List technician level proposals", Tags: tags,
		Description: "Level proposals written by levelling runs, newest first, a page at a time (follow next_cursor). A " +
			"node-bound key sees its subtree's technicians'; a technician key its own.",
		Errors: []int{http.StatusUnprocessableEntity},
	}, func(ctx context.Context, in *listLevelProposalsInput) (*listLevelProposalsOutput, error) {
		p, _ := tenants.PrincipalFrom(ctx)
		return replyPage[listLevelProposalsOutput](s.deps.Quality.ListLevelProposals(ctx, p, quality.LevelProposalFilter{
			TechnicianID: in.TechnicianID, RunID: in.RunID, Category: in.Category, State: in.State, Limit: in.limit(), Cursor: in.Cursor}))
	})

	registerReview(s, review[quality.LevelPolicy, quality.LevelProposal, LevelProposalIDParam, decideLevelInput, appealLevelInput, decideLevelAppealInput]{
		tags: tags, policyPath: "/v1/quality/level-policy", proposalPath: "/v1/quality/level-proposals/{level_proposal_id}",
		getPolicy: huma.Operation{
			OperationID: "getLevelPolicy", Summary: "Get the technician level policy",
			Description: "The tenant's current technician level policy: weighted indicators, and per level the lowest score, the " +
				"fewest tickets in the category, KPI thresholds and the certifications required; the appeal window. 404 until " +
				"the tenant sets one.",
		},
		setPolicy: huma.Operation{
			OperationID: "setLevelPolicy", Summary: "Set the technician level policy",
			Description: "Stores a new version of the technician level policy (earlier versions stay; proposals name the version " +
				"they were scored under), with a level_policy.updated event. If-Match is required (428 without it; \"v0\" when " +
				"there is none yet; another version is 412). An unknown indicator (in indicators or a level's thresholds), " +
				"weights that do not sum to total_weight, a level listed twice or a malformed course code is 422 naming the field.",
		},
		getProp: huma.Operation{OperationID: "getLevelProposal", Summary: "Get a technician level proposal"},
		decide: huma.Operation{
			OperationID: "decideLevelProposal", Summary: "Approve or reject a technician level proposal",
			Description: "A person decides a proposal. Approval sets the technician's level in the category (dispatch uses it from " +
				"then on; an expired licence still keeps the technician from dispatch), records the level history (old and new " +
				"level, who, why) and opens the policy's appeal window; rejection needs a reason and changes nothing. Only a " +
				"proposed proposal can be decided (409 otherwise).",
		},
		appeal: huma.Operation{
			OperationID: "appealLevelProposal", Summary: "Appeal an approved technician level",
			Description: "The technician (its own key), its node's manager or the network's managers contest an approved level " +
				"within the policy's appeal window. Once per proposal; after the window, or for a proposal not approved, 409.",
		},
		decideAppeal: huma.Operation{
			OperationID: "decideLevelAppeal", Summary: "Decide a technician level appeal",
			Description: "A person decides an appeal, recorded with the proposal: upheld keeps the level; overturned restores the " +
				"level the technician had before, with a history entry. Only an appealed proposal (409 otherwise).",
		},
		policyVersion: func(pol quality.LevelPolicy) int { return pol.Version },
		propVersion:   func(pr quality.LevelProposal) int { return pr.Version },
		calls: reviewCalls[quality.LevelPolicy, quality.LevelProposal]{
			Policy: s.deps.Quality.LevelPolicy, SetPolicy: s.deps.Quality.SetLevelPolicy, Get: s.deps.Quality.GetLevelProposal,
			Decide: s.deps.Quality.DecideLevel, Appeal: s.deps.Quality.AppealLevel, DecideAppeal: s.deps.Quality.DecideLevelAppeal,
		},
	})

	register(s, authz.QualityRead, huma.Operation{
		OperationID: "listLevelHistory", Method: http.MethodGet, Path: "/v1/network/technicians/{technician_id}/level-history",
		Summary: "List a technician's level history", Tags: tags,
		Description: "Every level change decided through levelling (approvals and overturned appeals), oldest first: the " +
			"category, old and new level, who and why. A technician key sees only its own.",
		Errors: []int{http.StatusNotFound},
	}, func(ctx context.Context, in *levelHistoryInput) (*levelHistoryOutput, error) {
		p, _ := tenants.PrincipalFrom(ctx)
		return replyList[levelHistoryOutput](s.deps.Quality.LevelHistory(ctx, p, in.TechnicianID))
	})
}
