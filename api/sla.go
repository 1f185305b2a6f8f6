package api

import (
	"context"
	"net/http"
	"time"

	"github.com/danielgtaylor/huma/v2"

	"github.com/servicenet/servicenet/authz"
	"github.com/servicenet/servicenet/internal/i18n"
	"github.com/servicenet/servicenet/tenants"
	"github.com/servicenet/servicenet/tenants/tickets"
)

type slaPolicyOutput struct {
	ETag string `header:"ETag" doc:"The policy's version (v0 while the defaults apply); send it in If-Match to replace it."`
	Body tickets.SLAPolicy
}

func (o *slaPolicyOutput) answer(pol tickets.SLAPolicy) { o.ETag, o.Body = etag(pol.Version), pol }

type setSLAPolicyInput struct {
	IfMatch string `header:"If-Match" doc:"ETag of your last read; refused (412) if the policy changed since. \"v0\" requires that the defaults still apply. Required: without it the request is 428."`
	Body    tickets.SLAPolicy
}

// slaName is tickets.SLA in the documents (apiConfig registers it as the
// type's alias; the domain does not import Huma): a string, one of
// tickets.SLAs in its order. Every field of type tickets.SLA (Breach.sla,
// BreachCount.clock, listSLABreaches' sla filter) takes its enum from the
// one list, so a new SLA is documented and accepted without a second edit.
type slaName string

// Schema is a string, one of tickets.SLAs.
func (slaName) Schema(huma.Registry) *huma.Schema {
	s := &huma.Schema{Type: huma.TypeString, Enum: make([]any, len(tickets.SLAs))}
	for i, sla := range tickets.SLAs {
		s.Enum[i] = string(sla)
	}
	return s
}

type listSLABreachesInput struct {
	PageParams
	SLA   tickets.SLA `query:"sla" doc:"Only breaches of this SLA."`
	Level int         `query:"level" minimum:"0" maximum:"3" doc:"Only breaches at this escalation level (1 dispatcher, 2 node manager, 3 brand); 0 for all."`
	Since string      `query:"since" format:"date-time" doc:"Only breaches recorded at or after this time (RFC 3339)."`
}

type slaBreachList struct {
	Data       []tickets.Breach `json:"data"`
	NextCursor string           `json:"next_cursor,omitempty" doc:"Cursor for the next page; absent on the last page."`
}

type listSLABreachesOutput struct{ Body slaBreachList }

func (o *listSLABreachesOutput) answerPage(xs []tickets.Breach, next string) {
	o.Body.Data, o.Body.NextCursor = xs, next
}

type listFindingsInput struct {
	PageParams
	Day     string `query:"day" format:"date" doc:"Only findings of this day (YYYY-MM-DD, tenant's time zone)."`
	Problem string `query:"problem" enum:"no_signoff,rating_not_confirmed,invoice_overdue" doc:"Only findings of this problem."`
	NodeID  string `query:"node_id" maxLength:"64" doc:"Only findings of tickets this node worked on."`
}

type findingList struct {
	Data       []tickets.Finding `json:"data"`
	NextCursor string            `json:"next_cursor,omitempty" doc:"Cursor for the next page; absent on the last page."`
}

type listFindingsOutput struct{ Body findingList }

func (o *listFindingsOutput) answerPage(xs []tickets.Finding, next string) {
	o.Body.Data, o.Body.NextCursor = xs, next
}

type runReconciliationInput struct {
	Body struct {
		Day string `json:"day" format:"date" doc:"The day to reconcile (YYYY-MM-DD in the tenant's time zone); not in the future." example:"2026-11-29"`
	}
}

// ReconciliationRun is the result of reconciling a day.
type ReconciliationRun struct {
	Day      string `json:"day" format:"date" doc:"The day reconciled." example:"2026-11-29"`
	Findings int    `json:"findings" doc:"How many findings the day has (recorded now or by an earlier run)." example:"3"`
}

type runReconciliationOutput struct{ Body ReconciliationRun }

func (s *Server) registerSLA() {
	tags := []string{"Service levels"}

	register(s, authz.SLARead, huma.Operation{
		OperationID: "getSLAPolicy", Method: http.MethodGet, Path: "/v1/sla-policy",
		Summary: "Get the SLA policy", Tags: tags,
		Description: "The tenant's service-level deadlines in minutes: route a new ticket within 5, first contact within 120, " +
			"respond within 1,440, complete within 4,320, call back within 4,320 of completion (120 after remote guidance, " +
			"30 after an \"observe\" instruction, 180 after an uncertain fix), and escalate a breach one level further after " +
			"60. These defaults apply (version 0) until the tenant sets its own.",
	}, func(ctx context.Context, _ *struct{}) (*slaPolicyOutput, error) {
		p, _ := tenants.PrincipalFrom(ctx)
		return reply[slaPolicyOutput](s.deps.Tickets.GetSLAPolicy(ctx, p))
	})

	register(s, authz.SLAWrite, huma.Operation{
		OperationID: "setSLAPolicy", Method: http.MethodPut, Path: "/v1/sla-policy",
		Summary: "Set the SLA policy", Tags: tags,
		Description: "Replaces the tenant's SLA policy (every field) and bumps its version, with an sla_policy.updated event. " +
			"Deadlines already running keep their due times; SLAs started from then on follow the new policy. A value out " +
			"of range is 422 naming the field; If-Match is required (428 without it): a policy is replaced whole, so a blind write would silently undo " +
			"someone else's change; \"v0\" replaces the defaults. If-Match with another version is 412.",
		Errors: []int{http.StatusBadRequest, http.StatusPreconditionFailed, http.StatusPreconditionRequired, http.StatusUnprocessableEntity}, MaxBodyBytes: 4 << 10,
	}, func(ctx context.Context, in *setSLAPolicyInput) (*slaPolicyOutput, error) {
		p, _ := tenants.PrincipalFrom(ctx)
		return reply[slaPolicyOutput](withVersion(requiredIfMatch, in.IfMatch, func(v int) (tickets.SLAPolicy, error) {
			return s.deps.Tickets.SetSLAPolicy(ctx, p, in.Body, &v)
		}))
	})

	register(s, authz.SLARead, huma.Operation{
		OperationID: "listSLABreaches", Method: http.MethodGet, Path: "/v1/sla-breaches",
		Summary: "List SLA breaches", Tags: tags,
		Description: "Deadlines tickets missed, newest first: one entry per ticket, SLA, deadline and escalation level (a " +
			"breach still open after the policy's escalation minutes is recorded again one level up: dispatcher, node " +
			"manager, brand). A node-scoped key sees the breaches of tickets that were with a node of its subtree.",
		Errors: []int{http.StatusUnprocessableEntity},
	}, func(ctx context.Context, in *listSLABreachesInput) (*listSLABreachesOutput, error) {
		p, _ := tenants.PrincipalFrom(ctx)
		var since time.Time
		if in.Since != "" {
			t, err := time.Parse(time.RFC3339, in.Since)
			if err != nil {
				return nil, tenants.InvalidMsg("query.since", i18n.M("api.rfc3339_time"), in.Since)
			}
			since = t
		}
		return replyPage[listSLABreachesOutput](s.deps.Tickets.ListBreaches(ctx, p, tickets.BreachFilter{SLA: string(in.SLA), Level: in.Level, Since: since,
			Limit: in.limit(), Cursor: in.Cursor}))
	})

	register(s, authz.SLARead, huma.Operation{
		OperationID: "listReconciliationFindings", Method: http.MethodGet, Path: "/v1/reconciliation/findings",
		Summary: "List reconciliation findings", Tags: tags,
		Description: "What the daily reconciliation found, newest day first: tickets completed that day whose customer " +
			"sign-off was not in by the end of the day (no_signoff; a sign-off the customer declined, signoff.declined, is " +
			"in: it is counted per node and technician by the quality scorecards' signoff_declined_rate), or whose rating " +
			"the customer did not confirm with " +
			"the one-time code (rating_not_confirmed); and tickets with an invoice (发票) the customer was promised by " +
			"that day (the invoice's promised_on: agreed for delivery later or by mail, the day of the request on site; " +
			"seed 000: 若现场未带发票,应与用户约定再送发票或寄发票) not recorded as issued by the day's end, whether still " +
			"outstanding or issued after (invoice_overdue, one per ticket and day; found once the day has ended). The " +
			"reconciliation runs hourly for each tenant's yesterday (in " +
			"the tenant's time zone). A node-scoped key sees the findings of its subtree's nodes. In test mode, the tickets " +
			"attached to a test clock are reconciled on the clock's time when it is advanced past their completion day " +
			"or their invoices' promised day (found_at is the clock's time), not by the hourly run nor by runReconciliation.",
		Errors: []int{http.StatusUnprocessableEntity},
	}, func(ctx context.Context, in *listFindingsInput) (*listFindingsOutput, error) {
		p, _ := tenants.PrincipalFrom(ctx)
		return replyPage[listFindingsOutput](s.deps.Tickets.ListFindings(ctx, p, tickets.FindingFilter{Day: in.Day, Problem: in.Problem,
			NodeID: in.NodeID, Limit: in.limit(), Cursor: in.Cursor}))
	})

	register(s, authz.SLAWrite, huma.Operation{
		OperationID: "runReconciliation", Method: http.MethodPost, Path: "/v1/reconciliation/runs",
		Summary: "Reconcile a day now", Tags: tags,
		Description: "Runs the daily reconciliation of a day (today included, so far: invoice_overdue is found only once " +
			"the day has ended) at once instead of waiting for the hourly job, and answers how many findings the day has. " +
			"Findings are recorded once, so running a day again only adds what is new. A day in the future is 422 on body.day.",
		Errors: []int{http.StatusUnprocessableEntity}, MaxBodyBytes: 1 << 10,
	}, func(ctx context.Context, in *runReconciliationInput) (*runReconciliationOutput, error) {
		p, _ := tenants.PrincipalFrom(ctx)
		n, err := s.deps.Tickets.RunReconciliation(ctx, p, in.Body.Day)
		if err != nil {
			return nil, err
		}
		return &runReconciliationOutput{Body: ReconciliationRun{Day: in.Body.Day, Findings: n}}, nil
	})
}
