package api

import (
	"context"
	"net/http"

	"github.com/danielgtaylor/huma/v2"

	"github.com/servicenet/servicenet/authz"
	"github.com/servicenet/servicenet/tenants"
	"github.com/servicenet/servicenet/tenants/complaints"
)

// ComplaintIDParam is the complaint path parameter.
type ComplaintIDParam struct {
	ComplaintID string `path:"complaint_id" maxLength:"64" doc:"Complaint ID." example:"cmp_01jd3zq8w6v7t3y2k9x4n5m6pz"`
}

type complaintOutput struct {
	ETag string `header:"ETag" doc:"The complaint's version; send it in If-Match to act on it."`
	Body complaints.ComplaintDetail
}

type filedComplaintOutput struct {
	Location string `header:"Location"`
	ETag     string `header:"ETag"`
	Body     complaints.ComplaintDetail
}

func (o *filedComplaintOutput) answer(x complaints.ComplaintDetail) {
	o.Location, o.ETag, o.Body = "/v1/complaints/"+x.ID, etag(x.Version), x
}

type listComplaintsInput struct {
	PageParams
	State        string `query:"state" enum:"open,investigating,reopened,resolved,closed" doc:"Only complaints in this state."`
	Category     string `query:"category" enum:"late,attitude,fee,quality,repeat,other,licence,overcharge,conduct,property_damage,late_arrival" doc:"Only complaints of this category."`
	Severity     string `query:"severity" enum:"low,medium,high,critical" doc:"Only complaints of this severity."`
	TicketID     string `query:"ticket_id" maxLength:"64" doc:"Only complaints against this ticket."`
	NodeID       string `query:"node_id" maxLength:"64" doc:"Only complaints against this node."`
	TechnicianID string `query:"technician_id" maxLength:"64" doc:"Only complaints against this technician."`
	Overdue      bool   `query:"overdue" doc:"Only complaints still unresolved after their deadline."`
}

type complaintList struct {
	Data       []complaints.Complaint `json:"data"`
	NextCursor string                 `json:"next_cursor,omitempty" doc:"Cursor for the next page; absent on the last page."`
}

type listComplaintsOutput struct{ Body complaintList }

func (o *listComplaintsOutput) answerPage(xs []complaints.Complaint, next string) {
	o.Body.Data, o.Body.NextCursor = xs, next
}

// ComplaintActionParams is the complaint an action acts on and the
// version the caller read (every action's path and If-Match).
type ComplaintActionParams struct {
	ComplaintIDParam
	IfMatch string `header:"If-Match" doc:"ETag of your last read; refused (412) if the complaint changed since. Optional: without it the change applies to whatever version is current (last write wins). Strict: a weak or \"v0\" tag is 412, a malformed one 400."`
}

func (t ComplaintActionParams) target() ComplaintActionParams { return t }

// complaintOut answers a complaint with its version as the ETag.
func complaintOut(c complaints.ComplaintDetail, err error) (*complaintOutput, error) {
	if err != nil {
		return nil, err
	}
	return &complaintOutput{ETag: etag(c.Version), Body: c}, nil
}

// complaintAction is the handler of an action on a complaint: act runs
// with the principal and the version If-Match names (0 without one).
func complaintAction[I interface{ target() ComplaintActionParams }](
	act func(ctx context.Context, p tenants.Principal, in *I, v int) (complaints.ComplaintDetail, error)) func(context.Context, *I) (*complaintOutput, error) {
	return func(ctx context.Context, in *I) (*complaintOutput, error) {
		p, _ := tenants.PrincipalFrom(ctx)
		v, err := ifVersion((*in).target().IfMatch)
		if err != nil {
			return nil, err
		}
		return complaintOut(act(ctx, p, in, v))
	}
}

type complaintNoteInput struct {
	ComplaintActionParams
	Body *struct {
		Note string `json:"note,omitempty" maxLength:"1000" doc:"A note for the complaint's history." example:"已联系网点经理核实"`
	}
}

type escalateComplaintInput struct {
	ComplaintActionParams
	Body struct {
		Reason string `json:"reason" minLength:"1" maxLength:"1000" doc:"Why it goes up a level." example:"客户情绪激动，要求网点经理处理"`
	}
}

type resolveComplaintInput struct {
	ComplaintActionParams
	Body complaints.ResolveInput
}

type rateComplaintInput struct {
	ComplaintActionParams
	Body struct {
		Rating  int    `json:"rating" minimum:"1" maximum:"5" doc:"The customer's rating of the resolution, 1 (very dissatisfied) to 5 (very satisfied); 1-2 reopens the complaint." example:"4"`
		Comment string `json:"comment,omitempty" maxLength:"1000" doc:"The customer's comment." example:"处理及时，态度很好"`
	}
}

func (s *Server) registerComplaints() {
	tags := []string{"Complaints"}
	register(s, authz.ComplaintsFile, huma.Operation{
		OperationID: "fileComplaint", Method: http.MethodPost, Path: "/v1/complaints",
		Summary: "File a complaint", Tags: tags,
		Description: "Files a customer's complaint against a ticket, a node or a technician (at least one; 422 on body.ticket_id " +
			"otherwise). Node, technician, storefront and customer default from the ticket, the node from the technician. " +
			"The resolution deadline (sla_due_at) follows the severity: critical 4 h, high 24 h, medium (default) 48 h, " +
			"low 72 h; missed, the complaint escalates to the dispatcher, then the node manager, then the brand, one level " +
			"per escalation interval (the SLA policy's escalation_minutes). A storefront key files only against its " +
			"storefront's tickets: another's ticket, like an unknown one, is 422 on body.ticket_id; a node-bound key files only " +
			"against its subtree's tickets and technicians (422 on body.ticket_id or body.technician_id otherwise, whatever " +
			"node_id it names). A property_damage complaint " +
			"names its ticket (422 on body.ticket_id) and may carry the customer's claimed_amount (only it may). A " +
			"late_arrival complaint (the technician did not come within the window agreed) names its ticket too. In test " +
			"mode a complaint about a ticket on a test clock lives on the ticket's clock (test_clock_id): it is filed, " +
			"resolved, rated and closed at the clock's time, its deadline and overdue flag are on the clock, and it escalates " +
			"when the clock is advanced past the deadline (advanceTestClock).",
		DefaultStatus: http.StatusCreated, Errors: []int{http.StatusUnprocessableEntity}, MaxBodyBytes: 16 << 10,
	}, func(ctx context.Context, in *struct{ Body complaints.NewComplaint }) (*filedComplaintOutput, error) {
		p, _ := tenants.PrincipalFrom(ctx)
		return reply[filedComplaintOutput](s.deps.Complaints.FileComplaint(ctx, p, in.Body))
	})

	register(s, authz.ComplaintsRead, huma.Operation{
		OperationID: "listComplaints", Method: http.MethodGet, Path: "/v1/complaints",
		Summary: "List complaints", Tags: tags,
		Description: "Complaints oldest first, filtered by state, category, severity, ticket, node, technician, or overdue " +
			"(unresolved after their deadline). A storefront key sees only its storefront's complaints; a node-scoped key " +
			"only those against its subtree's nodes.",
		Errors: []int{http.StatusUnprocessableEntity},
	}, func(ctx context.Context, in *listComplaintsInput) (*listComplaintsOutput, error) {
		p, _ := tenants.PrincipalFrom(ctx)
		return replyPage[listComplaintsOutput](s.deps.Complaints.ListComplaints(ctx, p, complaints.ComplaintFilter{State: in.State, Category: in.Category,
			Severity: in.Severity, TicketID: in.TicketID, NodeID: in.NodeID, TechnicianID: in.TechnicianID, Overdue: in.Overdue,
			Limit: in.limit(), Cursor: in.Cursor}))
	})

	register(s, authz.ComplaintsRead, huma.Operation{
		OperationID: "getComplaint", Method: http.MethodGet, Path: "/v1/complaints/{complaint_id}",
		Summary: "Get a complaint", Tags: tags,
		Description: "A complaint with its deadline, escalation level, resolution, rating, the allowed actions and its " +
			"history (filing, transitions, escalations by people and by the SLA timer, ratings).",
		Errors: []int{http.StatusNotFound},
	}, func(ctx context.Context, in *ComplaintIDParam) (*complaintOutput, error) {
		p, _ := tenants.PrincipalFrom(ctx)
		return complaintOut(s.deps.Complaints.GetComplaint(ctx, p, in.ComplaintID))
	})

	actionErrors := []int{http.StatusNotFound, http.StatusConflict, http.StatusPreconditionFailed, http.StatusUnprocessableEntity}

	register(s, authz.ComplaintsResolve, huma.Operation{
		OperationID: "investigateComplaint", Method: http.MethodPost, Path: "/v1/complaints/{complaint_id}/investigate",
		Summary: "Start investigating a complaint", Tags: tags,
		Description: "open or reopened → investigating; the deadline keeps running. Any other state is 409 naming the state " +
			"and the allowed actions.",
		Errors: actionErrors, MaxBodyBytes: 4 << 10,
	}, complaintAction(func(ctx context.Context, p tenants.Principal, in *complaintNoteInput, v int) (complaints.ComplaintDetail, error) {
		return s.deps.Complaints.Investigate(ctx, p, in.ComplaintID, optional(in.Body).Note, v)
	}))

	register(s, authz.ComplaintsResolve, huma.Operation{
		OperationID: "escalateComplaint", Method: http.MethodPost, Path: "/v1/complaints/{complaint_id}/escalate",
		Summary: "Escalate a complaint", Tags: tags,
		Description: "Raises an unresolved complaint one level (1 dispatcher, 2 node manager, 3 brand) with the reason; the " +
			"new level has the escalation interval before the SLA timer escalates again. Resolved or closed complaints, " +
			"and complaints already at the brand, are 409.",
		Errors: actionErrors, MaxBodyBytes: 4 << 10,
	}, complaintAction(func(ctx context.Context, p tenants.Principal, in *escalateComplaintInput, v int) (complaints.ComplaintDetail, error) {
		return s.deps.Complaints.Escalate(ctx, p, in.ComplaintID, in.Body.Reason, v)
	}))

	register(s, authz.ComplaintsResolve, huma.Operation{
		OperationID: "resolveComplaint", Method: http.MethodPost, Path: "/v1/complaints/{complaint_id}/resolve",
		Summary: "Resolve a complaint", Tags: tags,
		Description: "open, investigating or reopened → resolved with how it was resolved; the SLA timer stops. The customer " +
			"then rates the resolution (rateComplaint), or it is closed without a rating (closeComplaint). Upholding " +
			"(upheld: true) a late_arrival, attitude, licence, overcharge or conduct complaint against a ticket applies the " +
			"matching service promise (rule 8; Midea promise 1 for late_arrival: late_arrival; promise 3, attitude and " +
			"conduct: conduct_breach) in the same transaction, exactly once per ticket and promise (ticket.charges_waived). " +
			"On a completed ticket its charges are waived at once (the brand pays) and what the customer had paid is " +
			"refunded as a payout to the customer owed by the brand, due in 5 business days (refund_payout_id); a reopened " +
			"ticket's next completion stays free. On a ticket not yet completed the promise is recorded on the ticket and " +
			"its diagnosis and completion apply it (the customer pays nothing; no refund: nothing was paid); a cancelled " +
			"ticket has no charges to waive. An upheld late_arrival complaint also asks the ticket's technician for the " +
			"apology it owes (an apologise task, as the SLA sweep opens; refused, the node manager visits), unless the ticket " +
			"has an apology task already. A late_arrival complaint on a ticket that never had an appointment window is " +
			"409. A late complaint (slowness in general) waives nothing. " +
			"A fee complaint (seed 000: 要求减免费用 … 报回中心,根据中心批示处理) upheld with a reduction (named lines, such as " +
			"the visit fee, or an amount) applies the centre's reduction to the ticket exactly as reduceTicketCharges does, " +
			"the brand bearing it (ticket.charges_reduced): the completion applies it, or on settled charges the customer's " +
			"share moves to the brand at once and what they paid is refunded (refund_payout_id); beyond what the customer pays " +
			"is 422 on body.reduction.amount.amount, nothing changed; a reduction on any other resolution is 422 on " +
			"body.reduction. Upheld without a reduction a fee complaint changes no money (a reduction written only in the " +
			"resolution text does nothing); rejected, nothing. " +
			"An upheld conduct complaint names the breach (422 on body.breach). Upholding a property_damage complaint " +
			"names assessed_amount, the value the center assessed (422 on body.assessed_amount when missing, not > 0 or " +
			"not in the tenant's currency; refused on any other resolution): the customer is paid exactly that as one " +
			"payout owed by the brand and naming the ticket (compensation_payout_id), in the same transaction, once per " +
			"complaint; the ticket's charges are not waived. The damage is also apologised for (seed 000: 照价赔偿,并表示歉意): " +
			"each compensation opens an apologise_damage task for the ticket's technician naming the complaint (ticket." +
			"damage_apology_requested; refused, the node manager visits), so other damage compensated later is apologised " +
			"for too, and a complaint resolved again asks nothing more. Damage by the service presupposes the network in the home or " +
			"holding the customer's goods: on a ticket never visited (no technician ever checked in, and no carry-in or " +
			"pickup) upholding it is 409 on body.upheld, nothing paid (reject it instead). One damage is paid once: when another complaint already " +
			"compensated the same ticket's damage, the compensation is 409 on body.damaged_item naming that complaint, its " +
			"payout and amount, unless damaged_item names an item other than every earlier compensation's (one that named " +
			"none covered the visit's damage); nothing changes. damaged_item is recorded on the complaint, its event and the " +
			"payout's reason. Rejected, nothing is paid. A complaint whose upholding applied a " +
			"promise or paid a compensation stays upheld: resolved again after a reopening without upheld: true it is 409 " +
			"(its ticket stays free and its payouts stand).",
		Errors: actionErrors, MaxBodyBytes: 8 << 10,
	}, complaintAction(func(ctx context.Context, p tenants.Principal, in *resolveComplaintInput, v int) (complaints.ComplaintDetail, error) {
		return s.deps.Complaints.ResolveWith(ctx, p, in.ComplaintID, in.Body, v)
	}))

	register(s, authz.ComplaintsFile, huma.Operation{
		OperationID: "rateComplaint", Method: http.MethodPost, Path: "/v1/complaints/{complaint_id}/rate",
		Summary: "Record the customer's rating of the resolution", Tags: tags,
		Description: "The customer's rating (1-5, 422 on body.rating otherwise) of a resolved complaint's resolution, through " +
			"the channel that filed it. 3-5 closes the complaint; 1-2 reopens it (reopened) with a new deadline by its " +
			"severity, at its current escalation level. Any state but resolved is 409.",
		Errors: actionErrors, MaxBodyBytes: 4 << 10,
	}, complaintAction(func(ctx context.Context, p tenants.Principal, in *rateComplaintInput, v int) (complaints.ComplaintDetail, error) {
		return s.deps.Complaints.Rate(ctx, p, in.ComplaintID, in.Body.Rating, in.Body.Comment, v)
	}))

	register(s, authz.ComplaintsResolve, huma.Operation{
		OperationID: "closeComplaint", Method: http.MethodPost, Path: "/v1/complaints/{complaint_id}/close",
		Summary: "Close a resolved complaint without a rating", Tags: tags,
		Description: "resolved → closed when the customer cannot be reached or declines to rate. Any other state is 409.",
		Errors:      actionErrors, MaxBodyBytes: 4 << 10,
	}, complaintAction(func(ctx context.Context, p tenants.Principal, in *complaintNoteInput, v int) (complaints.ComplaintDetail, error) {
		return s.deps.Complaints.Close(ctx, p, in.ComplaintID, optional(in.Body).Note, v)
	}))
}
