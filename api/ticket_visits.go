package api

import (
	"context"
	"net/http"

	"github.com/danielgtaylor/huma/v2"

	"github.com/servicenet/servicenet/authz"
	"github.com/servicenet/servicenet/tenants"
	"github.com/servicenet/servicenet/tenants/tickets"
)

type visitsOutput struct {
	Body struct {
		Data []tickets.VisitEntry `json:"data"`
	}
}

func (o *visitsOutput) answerList(xs []tickets.VisitEntry) { o.Body.Data = xs }

type tasksOutput struct {
	Body struct {
		Data []tickets.Task `json:"data"`
	}
}

func (o *tasksOutput) answerList(xs []tickets.Task) { o.Body.Data = xs }

type completeTaskInput struct {
	TicketIDParam
	TaskID  string `path:"task_id" maxLength:"64" doc:"Task ID." example:"tsk_01jd3zq8w6v7t3y2k9x4n5m6pt"`
	IfMatch string `header:"If-Match" doc:"ETag of your last read of the ticket (GET or the previous action's response); refused (412) if the ticket changed since. Required: without it the request is 428. Strict: a weak or \"v0\" tag is 412, a malformed one 400."`
	Body    tickets.CompleteTaskInput
}

type taskOutput struct {
	ETag string `header:"ETag" doc:"The ticket's version after the change."`
	Body tickets.TaskResult
}

// registerTicketVisits registers the visit as it really happens: visit
// exceptions, the technician's checklist, the visit history and the
// follow-up tasks.
func (s *Server) registerTicketVisits() {
	tags := []string{"Tickets"}
	registerTicketAction(s, authz.TicketsWork, "recordTicketVisitException", "visit-exception", "Record a visit exception",
		"Records an attempted visit that could not be done, with the seed's reason: customer_not_home (the knock protocol "+
			"is required: knocked at least 5 minutes, phoned the customer, left a message slip; a task to reach the customer "+
			"opens), entry_refused or credentials_doubted (whether the licence was shown is required; the node manager's "+
			"visit opens as a task), product_elsewhere (where it is), power_cut. From scheduled it is the technician's "+
			"arrival: classified against the window, a late one breaching the arrival SLA and earning the late promise "+
			"(the service becomes free). From on_site it ends the checked-in visit. With a new window the ticket is "+
			"scheduled again; without, it goes back to assigned. An attempt the customer's side ended does not count as a "+
			"network visit (the repeat-visit promise) unless the technician was late for it. Agreeing the new window is an "+
			"appointment call like a schedule: when the ticket's entitlement decision of the round being served puts charges "+
			"on the customer (a ticket diagnosed on site, say), charges_confirmed: true is required with the window (seed 001: "+
			"如涉及收费问题,需与用户再次确认; 422 at charges_confirmed without it, tickets.charges_not_confirmed, and nothing is "+
			"recorded; a customer who objects is directed to the brand's service hotline, named with its number when the "+
			"tenant set one), recorded in the exception's "+
			"timeline entry (detail.charges_confirmed) as scheduleTicket records it.",
		s.deps.Tickets.RecordVisitException)
	registerTicketAction(s, authz.TicketsWork, "recordTicketContactAttempt", "contact-attempt", "Record a failed call to the customer",
		"Records a call to the customer before the visit that did not reach them (seed 001: 如未联系上用户(包括占线、电话无人接听等)…; "+
			"如果用户电话无人接听,服务工程师应稍后继续拨打): outcome no_answer, busy, unobtainable or wrong_number (another "+
			"value is 422 at body.outcome), by the caller's key, at the ticket's time. It is counted on the ticket "+
			"(contact_attempts: count, since_agreed, last_at, last_outcome), on the timeline and as ticket.contact_attempted. "+
			"A wrong or unobtainable number opens a task to reach the customer (reach_customer: verify the phone with the "+
			"dispatcher or information officer, else reach the customer another way), unless one is open already: the "+
			"event's tasks lists it only when opened. An attempt is no first contact (an "+
			"agreed appointment): first_contact_due_at keeps running and its breach records the attempts made "+
			"(contact_attempts); a call that reached the customer is the schedule it agreed. After one, scheduleTicket may "+
			"book the promised visit without the customer's agreement (customer_unreachable). From assigned, scheduled or "+
			"awaiting_parts.",
		s.deps.Tickets.RecordContactAttempt)
	registerTicketAction(s, authz.TicketsWork, "recordTicketChecklist", "checklist", "Record the visit checklist",
		"Records the technician's statements about the current visit, as confirmed by the customer or found by an audit: "+
			"licence shown and matching the technician, charges within the price list, conduct breaches (drinking, smoking, "+
			"eating at the customer's, accepting a gift, refusing to see the ticket through). A failed item makes the "+
			"service free (rule 8, Midea promise 3: licence_not_shown, charge_beyond_price_list, conduct_breach); a "+
			"diagnosed ticket's decision is made again at once and completion settles by it. 409 before any visit.",
		func(ctx context.Context, p tenants.Principal, id string, b tickets.VisitChecklist, v int) (tickets.Ticket, error) {
			return s.deps.Tickets.RecordChecklist(ctx, p, id, b, v)
		})

	register(s, authz.TicketsRead, huma.Operation{
		OperationID: "listTicketVisits", Method: http.MethodGet, Path: "/v1/tickets/{ticket_id}/visits",
		Summary: "A ticket's visits", Tags: tags,
		Description: "Every visit and attempted visit, oldest first: the window, the arrival (each visit keeps its own), " +
			"the outcome (on_site or the visit exception), whether it counts against the network, and the checklist.",
		Errors: []int{http.StatusNotFound},
	}, func(ctx context.Context, in *TicketIDParam) (*visitsOutput, error) {
		p, _ := tenants.PrincipalFrom(ctx)
		return replyList[visitsOutput](s.deps.Tickets.Visits(ctx, p, in.TicketID))
	})

	register(s, authz.TicketsRead, huma.Operation{
		OperationID: "listTicketTasks", Method: http.MethodGet, Path: "/v1/tickets/{ticket_id}/tasks",
		Summary: "A ticket's follow-up tasks", Tags: tags,
		Description: "The follow-ups the seeds prescribe, oldest first, with their state and who completed them: call the " +
			"customer when the agreed window closes without the technician, apologise for a late arrival (also opened by an " +
			"upheld late_arrival complaint when no apology was asked for yet), a gift when more " +
			"than 15 minutes late, apologise for the customer's property the service damaged (apologise_damage, opened by each " +
			"upheld property_damage complaint that pays a compensation, naming it in complaint_id), the node manager's visit " +
			"when an apology or entry was refused, reaching a customer who was not home.",
		Errors: []int{http.StatusNotFound},
	}, func(ctx context.Context, in *TicketIDParam) (*tasksOutput, error) {
		p, _ := tenants.PrincipalFrom(ctx)
		return replyList[tasksOutput](s.deps.Tickets.Tasks(ctx, p, in.TicketID))
	})

	register(s, authz.TicketsWork, huma.Operation{
		OperationID: "completeTicketTask", Method: http.MethodPost, Path: "/v1/tickets/{ticket_id}/tasks/{task_id}/complete",
		Summary: "Complete a follow-up task", Tags: tags,
		Description: "Records that an open task was done, or that the customer refused it (an apology or a gift), with who " +
			"did it, on the ticket's timeline and as a ticket.task_completed event. A refused apology opens the node " +
			"manager's visit, and the late promise's action becomes manager_visit; a refused apology for damage " +
			"(apologise_damage) opens the node manager's visit for its complaint and leaves the late promise alone. A task " +
			"no longer open is 409; an " +
			"unknown task is 404. " + ticketIfMatchRule,
		Errors: ticketActionErrors,
	}, func(ctx context.Context, in *completeTaskInput) (*taskOutput, error) {
		p, _ := tenants.PrincipalFrom(ctx)
		v, err := s.ticketVersion(ctx, p, in.TicketID, in.IfMatch)
		if err != nil {
			return nil, err
		}
		res, err := s.deps.Tickets.CompleteTask(ctx, p, in.TicketID, in.TaskID, in.Body, v)
		if err != nil {
			return nil, err
		}
		return &taskOutput{ETag: etag(res.Version), Body: res}, nil
	})
}
