package api

import (
	"context"
	"net/http"
	"reflect"
	"strings"

	"github.com/danielgtaylor/huma/v2"

	"github.com/servicenet/servicenet/authz"
	"github.com/servicenet/servicenet/tenants"
	"github.com/servicenet/servicenet/tenants/quality"
)

// PeriodParams choose a scorecard's period.
type PeriodParams struct {
	Period string `query:"period" enum:"day,week,month,range" default:"month" doc:"day, the ISO week (Monday to Sunday) or the calendar month containing date, or range from..to (inclusive). Days are the tenant's time zone."`
	Date   string `query:"date" maxLength:"10" doc:"A day of the period (YYYY-MM-DD; default today); not in the future." example:"2026-11-15"`
	From   string `query:"from" maxLength:"10" doc:"First day of a range (period=range)." example:"2026-11-01"`
	To     string `query:"to" maxLength:"10" doc:"Last day of a range (period=range): on or after from, not in the future, at most the grading policy's max_range_days (366 without a policy) after from." example:"2026-11-30"`
}

func (p PeriodParams) query() quality.PeriodQuery {
	return quality.PeriodQuery{Period: p.Period, Date: p.Date, From: p.From, To: p.To}
}

type getScorecardInput struct {
	PeriodParams
	DownloadParams
	Scope   string `query:"scope" enum:"node,technician,region,category,tenant" default:"node" doc:"What the scorecard is about."`
	ID      string `query:"id" maxLength:"64" doc:"The node or technician ID, the region code or prefix (GB/T 2260: 2, 4 or 6 digits), or the category; none for scope=tenant." example:"nod_01jd3zq8w6v7t3y2k9x4n5m6pn"`
	Subtree bool   `query:"subtree" doc:"scope=node: include the node's whole subtree."`
}

type getRankingInput struct {
	PeriodParams
	DownloadParams
	Region     string `query:"region" maxLength:"6" doc:"A GB/T 2260 region code or prefix (2, 4 or 6 digits); none: the whole network in the caller's scope." example:"3702"`
	KPI        string `query:"kpi" maxLength:"64" default:"first_time_fix_rate" doc:"The indicator to rank by (a scorecard KPI name)." example:"first_time_fix_rate"`
	MinTickets int64  `query:"min_tickets" minimum:"0" doc:"Nodes with fewer tickets are listed last, unranked."`
}

type runGradingInput struct {
	Body struct {
		Period string `json:"period" enum:"day,week,month,range" default:"month" doc:"As the scorecard's period."`
		Date   string `json:"date,omitempty" maxLength:"10" doc:"A day of the period (default today)." example:"2026-11-15"`
		From   string `json:"from,omitempty" maxLength:"10" example:"2026-11-01"`
		To     string `json:"to,omitempty" maxLength:"10" example:"2026-11-30"`
	}
}

type gradingRunOutput struct{ Body quality.GradingRun }

type listProposalsInput struct {
	PageParams
	NodeID string `query:"node_id" maxLength:"64" doc:"Only proposals for this node."`
	RunID  string `query:"run_id" maxLength:"64" doc:"Only proposals of this grading run."`
	State  string `query:"state" enum:"proposed,approved,rejected,appealed,upheld,overturned" doc:"Only proposals in this state."`
}

type proposalList struct {
	Data       []quality.Proposal `json:"data"`
	NextCursor string             `json:"next_cursor,omitempty" doc:"Cursor for the next page; absent on the last page."`
}

type listProposalsOutput struct{ Body proposalList }

func (o *listProposalsOutput) answerPage(xs []quality.Proposal, next string) {
	o.Body.Data, o.Body.NextCursor = xs, next
}

// ProposalIDParam is the grade proposal path parameter.
type ProposalIDParam struct {
	ProposalID string `path:"proposal_id" maxLength:"64" doc:"Grade proposal ID." example:"grp_01jd3zq8w6v7t3y2k9x4n5m6pn"`
}

func (p ProposalIDParam) proposal() string { return p.ProposalID }

type decideProposalInput struct {
	ProposalIDParam
	IfMatch string `header:"If-Match" doc:"ETag of your last read; refused (412) if the proposal changed since. Optional."`
	Body    struct {
		Decision string `json:"decision" enum:"approve,reject" doc:"approve sets the node's grade (with a history entry) and opens the appeal window; reject leaves the grade." example:"approve"`
		Reason   string `json:"reason,omitempty" maxLength:"1000" doc:"Why; required to reject." example:"连续两月一次修复率达标"`
	}
}

func (in decideProposalInput) decision() (bool, string, string) {
	return in.Body.Decision == "approve", in.Body.Reason, in.IfMatch
}

type appealProposalInput struct {
	ProposalIDParam
	Body struct {
		Reason string `json:"reason" minLength:"1" maxLength:"2000" doc:"Why the node contests the grade." example:"11月有两单为用户原因延误，不应计入"`
	}
}

func (in appealProposalInput) appealReason() string { return in.Body.Reason }

type decideAppealInput struct {
	ProposalIDParam
	Body struct {
		Decision string `json:"decision" enum:"upheld,overturned" doc:"upheld keeps the approved grade; overturned restores the grade the node had before." example:"upheld"`
		Note     string `json:"note" minLength:"1" maxLength:"2000" doc:"The reasoning, recorded with the decision." example:"延误记录核实为网点原因"`
	}
}

func (in decideAppealInput) verdict() (bool, string) {
	return in.Body.Decision == "overturned", in.Body.Note
}

type gradeHistoryInput struct {
	NodeIDParam
}

type gradeHistoryList struct {
	Data []quality.HistoryEntry `json:"data"`
}

type gradeHistoryOutput struct{ Body gradeHistoryList }

func (o *gradeHistoryOutput) answerList(xs []quality.HistoryEntry) { o.Body.Data = xs }

// kpiDefinitions is the documented meaning of every indicator.
func kpiDefinitions() string {
	var b strings.Builder
	b.WriteString("Indicators (each with its numerator and denominator; value = numerator × scale / denominator, null when the denominator is 0: " +
		"no data in the period, not a zero; grading and levelling leave such an indicator out):\n\n")
	for _, d := range quality.KPIs {
		b.WriteString("- `" + d.Name + "` (" + d.Unit + ", " + d.Better + " is better): " + d.Definition + " Numerator `" + d.Numerator + "`, denominator `" + d.Denominator + "`.\n")
	}
	b.WriteString("\nHow tickets count: a ticket counts in the day it was taken in (tenant's time zone), with its current node, technician, " +
		"product category and address region; cancelled tickets count only in `cancelled` (and their complaints; a repair " +
		"reopened before it was cancelled also in first_time_fix_rate, not fixed). Complaints count with their ticket, or, " +
		"naming no ticket, on the day filed with the node or technician they name. SLA breaches " +
		"count once per ticket, clock and deadline (first level; escalations of the same breach are not counted again). " +
		"Customer-caused delays: visits that do not count against the network (customer not home, entry refused, product " +
		"elsewhere, power cut) are left out of the arrival and first-time-fix figures, and a window moved at the customer's " +
		"request is the window in force. Figures are folded from the event feed by the `quality_fold` job every minute, " +
		"so the newest events may not be in them yet.")
	return b.String()
}

func (s *Server) registerQuality() {
	tags := []string{"Quality"}
	s.registerQualityLevels()

	register(s, authz.QualityRead, huma.Operation{
		OperationID: "getScorecard", Method: http.MethodGet, Path: "/v1/quality/scorecard",
		Summary: "Get a scorecard", Tags: tags,
		Description: "The KPIs of a node (or its subtree), a technician, a region (GB/T 2260 code prefix), a product category " +
			"or the whole network for a day, week, month or range, read from the rollups. A node-bound key sees only its " +
			"subtree (technicians, regions, categories and the network restricted to its subtree's nodes: a technician who " +
			"moved in counts only the tickets served for the subtree); a technician key only its own " +
			"scorecard; anything else is 404. A date or range end in the future, a reversed range or one longer than the " +
			"grading policy allows is 422 naming the parameter. In test mode a ticket on a test clock counts on the days it " +
			"lived on the clock (taken in, visited, completed at the clock's times); periods are on the wall clock (the " +
			"default day is the wall clock's today) but may end on the today of the tenant's furthest test clock.\n\n" +
			"**CSV download**: `format=csv`, or `Accept: text/csv` (preferred to application/json), answers the scorecard as " +
			"`text/csv; charset=utf-8` with a byte-order mark (so spreadsheet programs show Chinese text), written row by row: " +
			"a header row, then a row per count (`tickets`, `cancelled`), per KPI (value, numerator, denominator, unit), per " +
			"complaint category/severity and per breached clock.\n\n" + kpiDefinitions(),
		Errors: []int{http.StatusNotFound, http.StatusUnprocessableEntity},
		Responses: s.downloadResponses(reflect.TypeFor[quality.Scorecard](), "scorecard", scorecardColumns,
			scorecardColumns+"\nnode,nod_01jd3zq8w6v7t3y2k9x4n5m6pn,2026-11-01,2026-11-30,count,tickets,120,,,count\n"+
				"node,nod_01jd3zq8w6v7t3y2k9x4n5m6pn,2026-11-01,2026-11-30,kpi,first_time_fix_rate,0.75,90,120,ratio\n"),
	}, func(ctx context.Context, in *getScorecardInput) (*downloadOutput, error) {
		p, _ := tenants.PrincipalFrom(ctx)
		sc, err := s.deps.Quality.Scorecard(ctx, p, quality.ScorecardQuery{PeriodQuery: in.query(), Scope: in.Scope, ID: in.ID, Subtree: in.Subtree})
		if err != nil {
			return nil, err
		}
		return download(sc, in.csv(), csvName("scorecard", sc.Scope, sc.ID, sc.Period.From), writeScorecardCSV(sc)), nil
	})

	register(s, authz.QualityRead, huma.Operation{
		OperationID: "getRanking", Method: http.MethodGet, Path: "/v1/quality/ranking",
		Summary: "Rank the nodes of a region", Tags: tags,
		Description: "The nodes with tickets in a region (or the caller's whole scope) over a period, ranked by one indicator " +
			"in its better direction, each with the indicator's numerator and denominator. An unknown indicator is 422 " +
			"naming `query.kpi`. Periods as for the scorecard.\n\n" +
			"**CSV download**: `format=csv`, or `Accept: text/csv` (preferred to application/json), answers the ranking as " +
			"`text/csv; charset=utf-8` with a byte-order mark (so spreadsheet programs show Chinese node names), written row " +
			"by row: a header row, then one row per node in ranking order (rank empty for unranked nodes).",
		Errors: []int{http.StatusUnprocessableEntity},
		Responses: s.downloadResponses(reflect.TypeFor[quality.Ranking](), "ranking", rankingColumns,
			rankingColumns+"\n1,nod_01jd3zq8w6v7t3y2k9x4n5m6pn,青岛市南区服务中心,120,first_time_fix_rate,0.75,90,120,ratio,3702,2026-11-01,2026-11-30\n"),
	}, func(ctx context.Context, in *getRankingInput) (*downloadOutput, error) {
		p, _ := tenants.PrincipalFrom(ctx)
		r, err := s.deps.Quality.Ranking(ctx, p, quality.RankingQuery{PeriodQuery: in.query(), Region: in.Region, KPI: in.KPI, MinTickets: in.MinTickets})
		if err != nil {
			return nil, err
		}
		return download(r, in.csv(), csvName("ranking", r.KPI, r.Region, r.Period.From), writeRankingCSV(r)), nil
	})

	register(s, authz.QualityPolicy, huma.Operation{
		OperationID: "runGrading", Method: http.MethodPost, Path: "/v1/quality/grading-runs",
		Summary: "Grade the network for a period", Tags: tags,
		Description: "Grades every node (but the root and terminated nodes) from its own KPIs over the period under the current " +
			"policy and writes a proposal per node: the score, every indicator with its weight, value, numerator and " +
			"denominator, the policy version, the proposed grade and its consequence. An indicator with no data in the period " +
			"(value null: no ticket in its denominator, e.g. no repair for first_time_fix_rate) is left out, not scored 0: the " +
			"score is re-weighted over the indicators with data. Nodes with fewer tickets than the policy's min_tickets, or " +
			"with no data for any indicator, are not graded. Nothing changes until a person approves a proposal. The monthly job " +
			"(quality_monthly) does the same for each month that ends; a second run for the same period and policy version " +
			"returns the first. 409 without a policy.",
		Errors: []int{http.StatusConflict, http.StatusUnprocessableEntity},
	}, func(ctx context.Context, in *runGradingInput) (*gradingRunOutput, error) {
		p, _ := tenants.PrincipalFrom(ctx)
		run, err := s.deps.Quality.RunGrading(ctx, p, quality.PeriodQuery{Period: in.Body.Period, Date: in.Body.Date, From: in.Body.From, To: in.Body.To})
		if err != nil {
			return nil, err
		}
		return &gradingRunOutput{Body: run}, nil
	})

	register(s, authz.QualityRead, huma.Operation{
		OperationID: "listGradeProposals", Method: http.MethodGet, Path: "/v1/quality/grade-proposals",
		Summary: "List grade proposals", Tags: tags,
		Description: "Grade proposals written by grading runs, newest first, a page at a time (follow next_cursor). A node-bound key sees its subtree's.",
		Errors:      []int{http.StatusUnprocessableEntity},
	}, func(ctx context.Context, in *listProposalsInput) (*listProposalsOutput, error) {
		p, _ := tenants.PrincipalFrom(ctx)
		return replyPage[listProposalsOutput](s.deps.Quality.ListProposals(ctx, p, quality.ProposalFilter{NodeID: in.NodeID, RunID: in.RunID,
			State: in.State, Limit: in.limit(), Cursor: in.Cursor}))
	})

	registerReview(s, review[quality.GradingPolicy, quality.Proposal, ProposalIDParam, decideProposalInput, appealProposalInput, decideAppealInput]{
		tags: tags, policyPath: "/v1/quality/grading-policy", proposalPath: "/v1/quality/grade-proposals/{proposal_id}",
		getPolicy: huma.Operation{
			OperationID: "getGradingPolicy", Summary: "Get the grading policy",
			Description: "The tenant's current node grading policy: weighted indicators (each normalised between its worst and best " +
				"value), grade thresholds, the minimum ticket volume, consequences, the appeal window and the longest range a " +
				"scorecard may cover. 404 until the tenant sets one.",
		},
		setPolicy: huma.Operation{
			OperationID: "setGradingPolicy", Summary: "Set the grading policy",
			Description: "Stores a new version of the grading policy (earlier versions stay, and proposals name the version they " +
				"were scored under), with a grading_policy.updated event. If-Match is required (428 without it; \"v0\" when " +
				"there is none yet; another version is 412). An unknown indicator, weights that do not sum to total_weight or " +
				"an unknown grade is 422 naming the field.",
		},
		getProp: huma.Operation{OperationID: "getGradeProposal", Summary: "Get a grade proposal"},
		decide: huma.Operation{
			OperationID: "decideGradeProposal", Summary: "Approve or reject a grade proposal",
			Description: "A person decides a proposal. Approval sets the node's grade (dispatch uses it from then on), records the " +
				"grade history (old and new grade, who, why) and opens the policy's appeal window; rejection needs a reason and " +
				"changes nothing. Only a proposed proposal can be decided (409 otherwise). Consequences beyond the grade " +
				"(probation, suspension, termination) are for the person to carry out through the node's status.",
		},
		appeal: huma.Operation{
			OperationID: "appealGradeProposal", Summary: "Appeal an approved grade",
			Description: "The node (a key of its subtree, or the network's managers) contests an approved grade within the policy's " +
				"appeal window. Once per proposal; after the window, or for a proposal not approved, 409.",
		},
		decideAppeal: huma.Operation{
			OperationID: "decideGradeAppeal", Summary: "Decide a grade appeal",
			Description: "A person decides an appeal, recorded with the proposal: upheld keeps the grade; overturned restores the " +
				"grade the node had before, with a history entry. Only an appealed proposal (409 otherwise).",
		},
		policyVersion: func(pol quality.GradingPolicy) int { return pol.Version },
		propVersion:   func(pr quality.Proposal) int { return pr.Version },
		calls: reviewCalls[quality.GradingPolicy, quality.Proposal]{
			Policy: s.deps.Quality.GradingPolicy, SetPolicy: s.deps.Quality.SetGradingPolicy, Get: s.deps.Quality.GetProposal,
			Decide: s.deps.Quality.Decide, Appeal: s.deps.Quality.AppealProposal, DecideAppeal: s.deps.Quality.DecideAppeal,
		},
	})

	register(s, authz.QualityRead, huma.Operation{
		OperationID: "listGradeHistory", Method: http.MethodGet, Path: "/v1/network/nodes/{node_id}/grade-history",
		Summary: "List a node's grade history", Tags: tags,
		Description: "Every grade change decided through grading (approvals and overturned appeals), oldest first: old and new grade, who and why.",
		Errors:      []int{http.StatusNotFound},
	}, func(ctx context.Context, in *gradeHistoryInput) (*gradeHistoryOutput, error) {
		p, _ := tenants.PrincipalFrom(ctx)
		return replyList[gradeHistoryOutput](s.deps.Quality.GradeHistory(ctx, p, in.NodeID))
	})
}
