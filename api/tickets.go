package api

import (
	"context"
	"net/http"

	"github.com/danielgtaylor/huma/v2"

	"github.com/servicenet/servicenet/authz"
	"github.com/servicenet/servicenet/tenants"
	"github.com/servicenet/servicenet/tenants/stock"
	"github.com/servicenet/servicenet/tenants/tickets"
)

// TicketIDParam is the ticket path parameter.
type TicketIDParam struct {
	TicketID string `path:"ticket_id" maxLength:"64" doc:"Ticket ID." example:"tkt_01jd3zq8w6v7t3y2k9x4n5m6pt"`
}

type ticketOutput struct {
	ETag string `header:"ETag" doc:"The ticket's version; send it in If-Match to act on it."`
	Body tickets.Ticket
}

type openedTicketOutput struct {
	Location string `header:"Location"`
	ETag     string `header:"ETag"`
	Body     tickets.Ticket
}

func (o *openedTicketOutput) answer(x tickets.Ticket) {
	o.Location, o.ETag, o.Body = "/v1/tickets/"+x.ID, etag(x.Version), x
}

type ticketActionInput[B any] struct {
	TicketIDParam
	IfMatch string `header:"If-Match" doc:"ETag of your last read (GET or the previous action's response); refused (412) if the ticket changed since. Required: without it the request is 428, so that two people acting on one ticket (two dispatchers) cannot overwrite each other's decision. Strict: a weak or \"v0\" tag is 412, a malformed one 400."`
	Body    B
}

type listTicketsInput struct {
	PageParams
	State              []string `query:"state,explode" maxItems:"16" enum:"new,needs_info,triaged,remote_guidance,resolved,dispatched,assigned,scheduled,on_site,awaiting_parts,carry_in,returned,completed,closed,reopened,cancelled" doc:"Only tickets in these states (repeat the parameter)." example:"scheduled"`
	NodeID             string   `query:"node_id" maxLength:"64" doc:"Only tickets dispatched to this node."`
	TechnicianID       string   `query:"technician_id" maxLength:"64" doc:"Only tickets of this technician."`
	CustomerID         string   `query:"customer_id" maxLength:"64" doc:"Only this customer's tickets."`
	UnitID             string   `query:"unit_id" maxLength:"64" doc:"Only this unit's tickets."`
	Unassigned         bool     `query:"unassigned" doc:"Only tickets no technician has accepted yet (new, needs_info, triaged, dispatched, reopened): the dispatcher's queue."`
	Day                string   `query:"day" format:"date" doc:"Only tickets with an appointment on this day (tenant's zone): a technician's jobs for the day."`
	DueWithinMinutes   int      `query:"due_within_minutes" minimum:"0" maximum:"10080" doc:"Only tickets with an SLA deadline within this many minutes (or already past): at-risk tickets."`
	Priority           []string `query:"priority,explode" maxItems:"4" enum:"urgent,high,normal,low" doc:"Only tickets of these priorities (repeat the parameter)." example:"urgent"`
	ExternalReference  string   `query:"external_reference" maxLength:"64" doc:"Only tickets opened under this reference of yours (a storefront's own reference; unique per storefront)." example:"TM-20261130-88812"`
	Number             string   `query:"number" maxLength:"32" doc:"Only the ticket with this number." example:"SN-20261130-00042"`
	InvoiceOutstanding bool     `query:"invoice_outstanding" doc:"Only tickets with an invoice (发票) the customer asked for and not yet issued: the open obligations (seed 000: 若现场未带发票,应与用户约定再送发票或寄发票), each ticket's invoice_outstanding_since saying since when. Record the issue with recordTicketInvoiceIssued."`
	Order              string   `query:"order" enum:"priority" doc:"priority: the dispatch order, urgent first, then high, normal and low, oldest first within each (with unassigned=true: the dispatcher's queue in the order to work it). Absent: oldest first."`
}

type ticketList struct {
	Data       []tickets.Ticket `json:"data"`
	NextCursor string           `json:"next_cursor,omitempty" doc:"Cursor for the next page; absent on the last page."`
}

type listTicketsOutput struct{ Body ticketList }

func (o *listTicketsOutput) answerPage(xs []tickets.Ticket, next string) {
	o.Body.Data, o.Body.NextCursor = xs, next
}

type timelineOutput struct {
	Body struct {
		Data []tickets.TimelineEntry `json:"data"`
	}
}

func (o *timelineOutput) answerList(xs []tickets.TimelineEntry) { o.Body.Data = xs }

type appointmentsOutput struct {
	Body struct {
		Data []tickets.AppointmentEntry `json:"data"`
	}
}

func (o *appointmentsOutput) answerList(xs []tickets.AppointmentEntry) { o.Body.Data = xs }

type transitionsOutput struct {
	Body struct {
		State tickets.State        `json:"state" doc:"The ticket's state now."`
		Data  []tickets.Transition `json:"data" doc:"The actions allowed now."`
	}
}

type transitionTableOutput struct {
	Body struct {
		States []tickets.State      `json:"states" doc:"Every ticket state."`
		Data   []tickets.Transition `json:"data" doc:"Every action with the states it may be taken from and leads to."`
	}
}

func (o *ticketOutput) answer(t tickets.Ticket) { o.ETag, o.Body = etag(t.Version), t }

// registerTicketAction registers POST /v1/tickets/{ticket_id}/<path>: call is
// the tickets.Service method that takes the action (s.deps.Tickets.Triage), run
// with the version If-Match requires.
func registerTicketAction[B any](s *Server, perm authz.Permission, id, path, summary, desc string,
	call func(ctx context.Context, p tenants.Principal, ticketID string, body B, ifVersion int) (tickets.Ticket, error)) {
	register(s, perm, huma.Operation{
		OperationID: id, Method: http.MethodPost, Path: "/v1/tickets/{ticket_id}/" + path,
		Summary: summary, Tags: []string{"Tickets"},
		Description: desc + " An action the ticket's state does not allow is 409 naming the state and the allowed actions " +
			"(GET .../transitions). " + ticketIfMatchRule,
		Errors: ticketActionErrors,
	}, func(ctx context.Context, in *ticketActionInput[B]) (*ticketOutput, error) {
		p, _ := tenants.PrincipalFrom(ctx)
		v, err := s.ticketVersion(ctx, p, in.TicketID, in.IfMatch)
		if err != nil {
			return nil, err
		}
		return reply[ticketOutput](call(ctx, p, in.TicketID, in.Body, v))
	})
}

// ticketIfMatchRule ends the description of every operation that changes a
// ticket.
const ticketIfMatchRule = "If-Match is required (428 without it): two people acting on one ticket must not " +
	"overwrite each other's decision; an If-Match other than the ticket's ETag is 412."

var ticketActionErrors = []int{http.StatusNotFound, http.StatusPreconditionFailed, http.StatusPreconditionRequired}

// ticketVersion is the version an action on a ticket requires (If-Match):
// without it, a ticket p cannot see is still 404 and one it can see 428.
func (s *Server) ticketVersion(ctx context.Context, p tenants.Principal, id, ifMatch string) (int, error) {
	return requireVersion(ifMatch, func() error {
		_, err := s.deps.Tickets.Get(ctx, p, id)
		return err
	})
}

func (s *Server) registerTickets() {
	tags := []string{"Tickets"}

	register(s, authz.TicketsCreate, huma.Operation{
		OperationID: "openTicket", Method: http.MethodPost, Path: "/v1/tickets",
		Summary: "Open a service ticket", Tags: tags,
		Description: "Takes in a fault report or service request from the hotline, web, app, a storefront or a device " +
			"alarm. The customer is found by phone (or created), the unit by unit_id or by model and serial (registered " +
			"with its purchase date when unknown); a storefront key finds only the customers and units in its scope (a phone " +
			"known only outside it makes a customer of its own; a serial of a unit it did not sell waits in `needs_info` " +
			"for the brand to confirm). A complete intake is `new` and its SLA clocks start (route, first " +
			"contact, response, completion); missing or inconsistent information (no model, an unknown region code, a " +
			"purchase date after today, a serial registered to another model, no symptom) sends it to `needs_info` with " +
			"the verification to do, never a rejection. Malformed input (a bad phone, a window in the past or inverted) " +
			"is 422 naming the field. Every ticket gets a human-readable number.",
		DefaultStatus: http.StatusCreated, Errors: []int{http.StatusNotFound},
		MaxBodyBytes: 64 << 10,
	}, func(ctx context.Context, in *struct{ Body tickets.NewTicket }) (*openedTicketOutput, error) {
		p, _ := tenants.PrincipalFrom(ctx)
		return reply[openedTicketOutput](s.deps.Tickets.Open(ctx, p, in.Body))
	})

	register(s, authz.TicketsRead, huma.Operation{
		OperationID: "listTickets", Method: http.MethodGet, Path: "/v1/tickets",
		Summary: "List tickets", Tags: tags,
		Description: "Tickets oldest first, filtered; each role's view is a filter. A technician key sees only its own " +
			"jobs (add day for the day's jobs); a node-scoped key its subtree's queue; storefront keys their own tickets; " +
			"dispatchers use unassigned=true and due_within_minutes for unassigned and at-risk tickets.",
		Errors: []int{http.StatusUnprocessableEntity},
	}, func(ctx context.Context, in *listTicketsInput) (*listTicketsOutput, error) {
		p, _ := tenants.PrincipalFrom(ctx)
		return replyPage[listTicketsOutput](s.deps.Tickets.List(ctx, p, tickets.Filter{State: in.State, NodeID: in.NodeID, TechnicianID: in.TechnicianID,
			CustomerID: in.CustomerID, UnitID: in.UnitID, Unassigned: in.Unassigned, Day: in.Day,
			DueWithinMinutes: in.DueWithinMinutes, Priority: in.Priority, Order: in.Order, Limit: in.limit(), Cursor: in.Cursor,
			ExternalReference: in.ExternalReference, Number: in.Number, InvoiceOutstanding: in.InvoiceOutstanding}))
	})

	register(s, authz.TicketsRead, huma.Operation{
		OperationID: "getTicketTransitionTable", Method: http.MethodGet, Path: "/v1/tickets/transitions",
		Summary: "The ticket state machine", Tags: tags,
		Description: "The published transition table: every action, the states it may be taken from and lead to, and " +
			"the permission it needs. Every action endpoint enforces it.",
	}, func(ctx context.Context, _ *struct{}) (*transitionTableOutput, error) {
		out := &transitionTableOutput{}
		out.Body.States, out.Body.Data = tickets.States, tickets.Transitions
		return out, nil
	})

	register(s, authz.TicketsRead, huma.Operation{
		OperationID: "getTicket", Method: http.MethodGet, Path: "/v1/tickets/{ticket_id}",
		Summary: "Get a ticket", Tags: tags,
		Description: "A ticket with its triage, dispatch decision, appointment, diagnosis, entitlement decision, charges, " +
			"sign-off, follow-up and running SLA deadlines. Tickets outside the key's scope are 404.",
		Errors: []int{http.StatusNotFound},
	}, func(ctx context.Context, in *TicketIDParam) (*ticketOutput, error) {
		p, _ := tenants.PrincipalFrom(ctx)
		return reply[ticketOutput](s.deps.Tickets.Get(ctx, p, in.TicketID))
	})

	register(s, authz.TicketsRead, huma.Operation{
		OperationID: "getTicketTimeline", Method: http.MethodGet, Path: "/v1/tickets/{ticket_id}/timeline",
		Summary: "A ticket's timeline", Tags: tags,
		Description: "Everything that happened to the ticket, oldest first: who, when, what (state changes, decisions, " +
			"SLA breaches).",
		Errors: []int{http.StatusNotFound},
	}, func(ctx context.Context, in *TicketIDParam) (*timelineOutput, error) {
		p, _ := tenants.PrincipalFrom(ctx)
		return replyList[timelineOutput](s.deps.Tickets.Timeline(ctx, p, in.TicketID))
	})

	register(s, authz.TicketsRead, huma.Operation{
		OperationID: "listTicketAppointments", Method: http.MethodGet, Path: "/v1/tickets/{ticket_id}/appointments",
		Summary: "A ticket's appointment history", Tags: tags,
		Description: "Every window agreed with the customer, oldest first, with the reason each reschedule happened.",
		Errors:      []int{http.StatusNotFound},
	}, func(ctx context.Context, in *TicketIDParam) (*appointmentsOutput, error) {
		p, _ := tenants.PrincipalFrom(ctx)
		return replyList[appointmentsOutput](s.deps.Tickets.Appointments(ctx, p, in.TicketID))
	})

	register(s, authz.TicketsRead, huma.Operation{
		OperationID: "listTicketTransitions", Method: http.MethodGet, Path: "/v1/tickets/{ticket_id}/transitions",
		Summary: "What a ticket allows now", Tags: tags,
		Description: "The actions the ticket's current state allows, with their endpoints and permissions.",
		Errors:      []int{http.StatusNotFound},
	}, func(ctx context.Context, in *TicketIDParam) (*transitionsOutput, error) {
		p, _ := tenants.PrincipalFrom(ctx)
		t, trs, err := s.deps.Tickets.AllowedNow(ctx, p, in.TicketID)
		if err != nil {
			return nil, err
		}
		out := &transitionsOutput{}
		out.Body.State = t.State
		out.Body.Data = trs
		if out.Body.Data == nil {
			out.Body.Data = []tickets.Transition{}
		}
		return out, nil
	})

	registerTicketAction(s, authz.TicketsTriage, "provideTicketInfo", "info", "Complete or correct the intake",
		"Replaces the given intake fields (contact, address, unit, fault, preferred window) and identifies the ticket "+
			"again: it becomes new (SLA clocks start) when nothing is left to verify, else stays needs_info with what is left. "+
			"On a ticket on a test clock, the unit identified goes on the clock with it (unless on a clock already), as at intake.",
		s.deps.Tickets.ProvideInfo)
	registerTicketAction(s, authz.TicketsTriage, "triageTicket", "triage", "Triage a ticket",
		"Decides remote guidance, on-site or carry-in. Remote goes to remote_guidance (instructions required). On-site and "+
			"carry-in are dispatched at once: the decision lists every node and technician considered with its score "+
			"breakdown or the rule that excluded it; when nobody can take it the ticket stays triaged with the reason.",
		s.deps.Tickets.Triage)
	registerTicketAction(s, authz.TicketsTriage, "recordTicketGuidance", "guidance", "Record remote guidance's outcome",
		"resolved: the ticket is resolved and the callback is due in 2 hours; observe: the callback is due in 30 minutes; "+
			"failed: the ticket is dispatched for a visit.",
		s.deps.Tickets.RecordGuidance)
	registerTicketAction(s, authz.TicketsDispatch, "dispatchTicket", "dispatch", "Dispatch a ticket",
		"Dispatches (again) by the scoring rules, or to the node and technician you name (an override: reason required, "+
			"recorded with who made it). A node or technician the rules exclude is 422 naming the rule. A scheduled ticket "+
			"dispatched again (改派 to another node) gives up its window, which was its technician's: the new technician "+
			"agrees one (schedule); 409 while parts of the node's stock are fitted or issued for it (the job stays with the "+
			"node: assign another of its technicians), parts only reserved go back to the node's shelf. To keep the window "+
			"within the node, assign another technician.",
		s.deps.Tickets.Dispatch)
	registerTicketAction(s, authz.TicketsDispatch, "assignTicket", "assign", "Assign a technician",
		"The node (or a dispatcher) gives the job to one of the node's technicians, active with a valid licence. "+
			"A job not yet taken goes only to an active node: a node suspended or terminated since the dispatch is 409 "+
			"(tickets.node_not_active): dispatch the ticket again. A scheduled job is reassigned (改派) to another of the "+
			"node's technicians with the window agreed with the customer kept: the window is booked for the new "+
			"technician as a schedule books it (409 at window when they are booked then, off shift or at their daily "+
			"limit), recorded in the appointment history (reason technician_conflict), and the ticket stays scheduled.",
		s.deps.Tickets.Assign)
	registerTicketAction(s, authz.TicketsWork, "acceptTicket", "accept", "Accept a job",
		"The proposed technician accepts (a technician key accepts for itself), or the node accepts for one of its technicians. "+
			"A node suspended or terminated since the dispatch takes no new work: 409 (tickets.node_not_active).",
		s.deps.Tickets.Accept)
	registerTicketAction(s, authz.TicketsWork, "rejectTicket", "reject", "Reject a job",
		"A technician (or the node) rejects the job with a reason code; the ticket is re-dispatched at once without them.",
		s.deps.Tickets.Reject)
	registerTicketAction(s, authz.TicketsWork, "scheduleTicket", "schedule", "Agree an appointment",
		"Records the window agreed with the customer (the first contact). A window in the past or inverted is 422. "+
			"A technician whose daily job limit is taken on the window's day (as dispatch counts it) is 409 at window. "+
			"Charges are confirmed with the customer again on the call (seed 001: 如涉及收费问题,需与用户再次确认。如果客户有什么异议,"+
			"引导客户拨打统一热线电话): when the ticket's entitlement decision of the round being served puts charges on the "+
			"customer (entitlement.decision.totals.customer above zero, as on a ticket diagnosed and then sent up a tier or "+
			"back for another visit), charges_confirmed: true is required, 422 at charges_confirmed without it (its detail, read to the customer, "+
			"naming what the customer pays and the brand's service hotline, with its number when the tenant set one: "+
			"service_hotline; tickets.charges_not_confirmed) and nothing is booked; a customer who objects is directed to "+
			"the hotline. The decision is stored at the diagnosis: a ticket not yet diagnosed (the usual "+
			"first appointment) has none, and a reopened ticket's last decision was settled at its completion until its new "+
			"round decides it again (a diagnosis, or the visit checklist, which decides the diagnosed ticket again at once: "+
			"then that decision is the round's), and a return's or exchange's inspection is settled by its outcome, "+
			"which charges the customer nothing (a refund in full, an exchange with no fee or a refusal), so none of them "+
			"needs the confirmation; "+
			"its charges are shown with the price list on site before any charge. A confirmation "+
			"is recorded in the schedule's timeline entry (detail.charges_confirmed: basis, on, customer, the customer's "+
			"lines with their payer and shares, confirmed_at). A customer the network could not reach (seed 001: 如未联系上用户…"+
			"仍需要按照承诺到达客户处) is visited as promised with customer_unreachable: true, only after a failed contact attempt "+
			"since the last agreed window (recordTicketContactAttempt; 422 at customer_unreachable otherwise, nothing booked): "+
			"the window, ending by the response deadline while one runs or the intake's preferred window when that ends later (422 at window.end), is the network's promise "+
			"(appointment.customer_unreachable, reason customer_unreachable), no first contact, held to the late-arrival "+
			"promise like an agreed one; charges cannot be confirmed with it (charges_confirmed 422) and are confirmed on site "+
			"(detail.charges_to_confirm; a completion charging the customer is 409 until the price list is shown after the "+
			"check-in).",
		s.deps.Tickets.Schedule)
	registerTicketAction(s, authz.TicketsWork, "rescheduleTicket", "reschedule", "Move the appointment",
		"Moves the appointment with the reason (the customer asked, a technician conflict, parts); the history is kept. "+
			"A move for the network's reasons (technician_conflict, parts, other) needs the customer's agreement to the new "+
			"window (customer_agreed: true; 422 at customer_agreed without it, and nothing moves): a customer who does not "+
			"agree, or cannot be reached, keeps the agreed window, which the technician keeps or another technician keeps "+
			"(assign, 改派). A move once the window has begun is a late arrival all the same unless the customer asked for it. "+
			"A day on which the technician's daily job limit is taken is 409 at window. Booking the return visit of a ticket "+
			"awaiting parts is an appointment call like a schedule: when the ticket's entitlement decision puts charges on "+
			"the customer, charges_confirmed: true is required (seed 001: 如涉及收费问题,需与用户再次确认; 422 at "+
			"charges_confirmed without it, tickets.charges_not_confirmed, and nothing moves; a customer who objects is "+
			"directed to the brand's service hotline, named with its number when the tenant set one), recorded in the move's timeline entry (detail.charges_confirmed) as "+
			"scheduleTicket records it.",
		s.deps.Tickets.Reschedule)
	registerTicketAction(s, authz.TicketsWork, "reportTicketEnRoute", "en-route", "Report the technician on the way",
		"Records that the technician set off for the scheduled visit, expecting to arrive at eta, and tells the customer: "+
			"on the way (on_the_way), or running late with the new time (running_late) when eta is after the agreed window's end. "+
			"An eta in the past is 422.",
		s.deps.Tickets.ReportEnRoute)
	registerTicketAction(s, authz.TicketsWork, "checkInTicket", "check-in", "Check in on site",
		"Records the arrival and classifies it against the window agreed with the customer: early (5 or more minutes "+
			"before it opens, the standard), on_time (inside it), late (up to 15 minutes after it closed) or very_late. "+
			"Any late arrival waives the service's charges at completion (超时免单).",
		s.deps.Tickets.CheckIn)
	registerTicketAction(s, authz.TicketsWork, "diagnoseTicket", "diagnose", "Record the diagnosis",
		"Records the fault cause and codes, prices the work with the price list in effect (a stored quote) and stores the "+
			"entitlement engine's decision: both are shown to the customer before any charge. A hard fault "+
			"(diagnosis.hard_fault) or a skill level (diagnosis.required_level) beyond the ticket's node or technician "+
			"sends the ticket up a tier: it is dispatched again by the rules (a depot, then a service center; triaged "+
			"when no node can take it), the diagnosis kept, the deadlines running on. 409 while the unit is carried in "+
			"to the node, or while parts of the node's stock are fitted or issued for the ticket. For a unit that holds "+
			"the customer's data (phone, laptop, camera, tablet), work on its storage or system (cause software_tuning, "+
			"or the part categories storage or mainboard in diagnosis.part_categories or among the quoted parts) needs "+
			"the customer's signed acknowledgement that the data may be lost (diagnosis.data_loss: customer_agreed true "+
			"and data_backup), else 422 at each and nothing is recorded; a unit carried in has it on its receipt. It is "+
			"kept with the diagnosis and in the timeline.",
		s.deps.Tickets.Diagnose)
	registerTicketAction(s, authz.TicketsWork, "carryInTicket", "carry-in", "Take the unit to the node",
		"The unit goes to the node with a receipt (its condition and accessories); a loaner of the node's loaner stock is "+
			"lent until a due date when asked for (409 when none is available). Only with the customer's agreement and "+
			"signature on the receipt (customer_agreed: true, else 422); a unit that holds the customer's data (phone, "+
			"laptop, camera, tablet) also needs its configuration and what was agreed about its data (data_backup) on the "+
			"receipt, 422 at each when missing.",
		s.deps.Tickets.CarryIn)
	registerTicketAction(s, authz.TicketsWork, "returnTicketUnit", "return", "Return the unit to the customer",
		"Hands the repaired unit back and takes the loaner back with its condition (a damaged loaner is retired).",
		s.deps.Tickets.ReturnUnit)
	registerTicketAction(s, authz.TicketsWork, "requestTicketSwap", "swap", "Request a unit swap",
		"The repair is impossible: requests a swap of the ticket's unit; the swap evaluation job prices the fee, picks the "+
			"replacement model and routes the approval by amount. A unit whose purchase_price_source is model_retail_price "+
			"(registered by the intake without the invoice's price) is 409 naming purchase_price until the brand sets it with "+
			"updateUnit: a plan's fee is a share of the price paid.",
		s.deps.Tickets.RequestSwap)
	registerTicketAction(s, authz.TicketsWork, "completeTicket", "complete", "Complete the service",
		"Records the passed test run and settles the charges per line with the engine, applying the service promises' "+
			"waivers (late arrival, an installation visited again because delivery was not in sync with it for a unit bought "+
			"at the brand's own store, repeat fault within a year or two for washers, price list not shown). A reopened "+
			"ticket completed again is decided afresh; what its earlier completion charged stays paid. A completion that "+
			"charges the customer (customer_total above zero) issues a receipt (收据, seed 003: 收费后为用户开示记录), "+
			"numbered, with the lines and total the customer pays, on the ticket's receipts; one that charges nothing "+
			"issues none. The customer may ask for an invoice on it at once (invoice: as requestTicketInvoice takes it, "+
			"422 at body.invoice.<field>; 409 when nothing is charged) or later. The "+
			"repair joins the unit's history; the callback is due in 72 hours (3 hours after an uncertain fix).",
		s.deps.Tickets.Complete)
	registerTicketAction(s, authz.TicketsWork, "requestTicketInvoice", "invoice", "Ask for an invoice",
		"Records the customer's request for an invoice (发票) on one of the ticket's receipts (receipt_number; absent, the "+
			"last), on site or after the completion (seed 000: 如用户要求开发票,则必须给用户开发票): the title, personal (a "+
			"person's name) or company (with the company's unified social credit code, 18 characters with its check "+
			"character, in taxpayer_id: 422 at body.taxpayer_id otherwise, and a personal title takes none), and how it "+
			"reaches the customer: on_site, later (现场未带发票,约定再送) or mail (to body.address, by default the ticket's "+
			"service address). For later and mail, promised_on is the day (the tenant's calendar) the customer was "+
			"promised the invoice by (与用户约定再送发票或寄发票): required (422 at body.promised_on when missing), not before "+
			"the day of the request (422); on_site takes none (422 at body.promised_on), its invoice being promised for the "+
			"day of the request. The invoice shows its promised_on; one not recorded as issued by the end of that day is a "+
			"reconciliation finding (invoice_overdue, listReconciliationFindings). Invalid input changes nothing. A ticket with no receipt (its completion charged the "+
			"customer nothing, or it is not completed) is 409 tickets.invoice_nothing_charged; a receipt with an invoice "+
			"already asked for is 409. The invoice is outstanding (the ticket's invoice_outstanding_since; listTickets "+
			"invoice_outstanding=true) until recordTicketInvoiceIssued. The title of a person and the mailing address are "+
			"personal data, masked as the contact and the service address are.",
		s.deps.Tickets.RequestInvoice)
	registerTicketAction(s, authz.TicketsWork, "recordTicketInvoiceIssued", "invoice/issued", "Record an invoice as issued",
		"Records that the invoice asked for on a receipt (receipt_number; absent, the ticket's oldest outstanding) was "+
			"issued, with its number and date: the obligation is closed (handed over on site, delivered or mailed). "+
			"A mailed invoice may carry the mailing's tracking_number, shown on the invoice; one given for an invoice "+
			"handed over on site or delivered later is 422 at body.tracking_number, nothing changed. "+
			"No invoice outstanding on the receipt is 409 tickets.invoice_none_outstanding; a receipt number not the "+
			"ticket's is 422 at body.receipt_number.",
		s.deps.Tickets.RecordInvoiceIssued)
	registerTicketAction(s, authz.TicketsWork, "signOffTicket", "sign-off", "Customer sign-off",
		"The customer signs off with the one-time code and rates the service 1-5. A wrong code uses up an attempt (422 on "+
			"body.code; five allowed), an expired code needs a new one. Without a code the sign-off is recorded unconfirmed. "+
			"A customer who will not sign is not made to (seed 000: 如果用户不填意见和签名,不要强迫用户签名): declined: true "+
			"records the refusal as the sign-off (signoff.declined, signed_off_at, recorded_by; no rating, no code, no "+
			"comment), once the sign-off code was sent to the customer (asked in their own channel, so the technician "+
			"cannot stand in for them: before, 409 at body.declined), which "+
			"the daily reconciliation does not flag as no_signoff and the quality scorecards count per node and technician "+
			"(signoff_declined_rate). A rating and declined together are 422 at body.declined, neither is 422 at body.rating, "+
			"a code or a comment with declined is 422 at body.code or body.comment; nothing changes. A rating of 1 or 2 (the customer not satisfied) is "+
			"followed up until satisfied (用户不满意则跟踪服务直至用户满意为止) by the callback: it is brought forward to the "+
			"policy's uncertain_callback_minutes after the sign-off when that is sooner (the timeline entry and the event "+
			"give callback_due_at); satisfied there closes the ticket, unsatisfied reopens and re-dispatches it.",
		s.deps.Tickets.SignOff)
	registerTicketAction(s, authz.TicketsTriage, "recordTicketCallback", "callback", "Record a follow-up callback",
		"satisfied closes the ticket; unsatisfied reopens and re-dispatches it; unreachable waits for another try, and the "+
			"tenant's rule closes it after enough unreachable tries.",
		s.deps.Tickets.RecordCallback)
	registerTicketAction(s, authz.TicketsTriage, "reopenTicket", "reopen", "Reopen a ticket",
		"Reopens a completed, resolved or closed ticket to serve it again (a complaint, a repeat fault); dispatch it next.",
		s.deps.Tickets.Reopen)
	registerTicketAction(s, authz.TicketsCancel, "cancelTicket", "cancel", "Cancel a ticket",
		"Cancels an open ticket with a reason; its SLA clocks stop, and parts still reserved for it go back to the node's stock. "+
			"Parts fitted to the unit (since an earlier completion) are 409 tickets.cancel_parts_fitted: complete the ticket "+
			"instead, so they are billed or claimed; parts issued and neither fitted nor returned are 409 "+
			"tickets.cancel_parts_issued: return them first. A storefront key cancels only its own tickets.",
		s.deps.Tickets.Cancel)
	registerTicketAction(s, authz.TicketsReduce, "reduceTicketCharges", "reduce-charges", "Reduce the customer's charges",
		"The centre's decision on a customer's fee dispute (seed 000, 五.4: 如果用户一再坚持则将信息处理结果报回中心,根据中心批示处理): "+
			"named lines (lines: [\"visit\"], 减免上门费) or an amount come off what the customer pays for the service, with a reason. "+
			"The brand bears it: a goodwill reduction decided for the brand, never charged to the node. Only the centre decides it "+
			"(tickets.reduce: the call centre's agents, the dispatchers and the tenant admin; a technician, node manager, storefront or "+
			"integration key is 403). Before the completion it waits on the ticket (charge_reductions, applied_at absent) and the "+
			"completion applies it: the customer's share goes down and the brand's up by the same amount, and the completion's "+
			"reductions name it with who approved it. On a ticket whose charges were settled (completed or closed, or reopened or "+
			"cancelled after a completion) it applies to that completion at once and what the customer had paid is refunded as one "+
			"payout owed by the brand (refund_payout_id), as an upheld complaint's waiver is. A reopened ticket's next round is decided "+
			"afresh. More than the customer pays for the service (after waivers and earlier reductions) is 422 at amount.amount, a "+
			"line the customer does not pay 422 at lines[i], amount and lines together 422 at lines, neither 422 at amount; a ticket "+
			"with no charges known yet (never diagnosed, or cancelled before a completion) is 409; nothing changes then. "+
			"Timeline and event ticket.charges_reduced. A retry with the same Idempotency-Key reduces once.",
		s.deps.Tickets.ReduceCharges)

	register(s, authz.TicketsWork, huma.Operation{
		OperationID: "sendTicketSignoffCode", Method: http.MethodPost, Path: "/v1/tickets/{ticket_id}/sign-off/code",
		Summary: "Send the sign-off code", Tags: tags,
		Description: "Sends the customer a fresh six-digit one-time code (valid 15 minutes, five attempts) to the ticket's " +
			"phone; only its hash is stored and the code is never returned. " + ticketIfMatchRule,
		Errors: ticketActionErrors,
	}, func(ctx context.Context, in *struct {
		TicketIDParam
		IfMatch string `header:"If-Match" doc:"ETag of your last read (GET or the previous action's response); refused (412) if the ticket changed since. Required: without it the request is 428, so that two people acting on one ticket (two dispatchers) cannot overwrite each other's decision. Strict: a weak or \"v0\" tag is 412, a malformed one 400."`
	}) (*ticketOutput, error) {
		p, _ := tenants.PrincipalFrom(ctx)
		v, err := s.ticketVersion(ctx, p, in.TicketID, in.IfMatch)
		if err != nil {
			return nil, err
		}
		return reply[ticketOutput](s.deps.Tickets.SendSignoffCode(ctx, p, in.TicketID, v))
	})

	register(s, authz.TicketsWork, huma.Operation{
		OperationID: "moveTicketParts", Method: http.MethodPost, Path: "/v1/tickets/{ticket_id}/parts",
		Summary: "Move parts for a ticket", Tags: tags,
		Description: "Reserves, releases, issues, uses or returns parts of the ticket's node's stock, or takes the replaced " +
			"(defective) part back. Parts must fit the unit's model (422 on body.lines[i].part_id); quantities beyond what " +
			"the step allows are 422 on body.lines[i].quantity. A reservation the stock cannot cover reserves nothing of " +
			"that line and makes an on-site ticket wait for parts (awaiting_parts). Once the ticket is completed or closed " +
			"its parts are settled (billed or claimed as fitted): only returns move them then, the parts issued and not " +
			"fitted back on the shelf and the replaced parts taken back for the brand (another op: 409 " +
			"tickets.parts_after_completion). " + ticketIfMatchRule,
		Errors: ticketActionErrors,
	}, func(ctx context.Context, in *ticketActionInput[tickets.PartsInput]) (*partsOutput, error) {
		p, _ := tenants.PrincipalFrom(ctx)
		v, err := s.ticketVersion(ctx, p, in.TicketID, in.IfMatch)
		if err != nil {
			return nil, err
		}
		res, err := s.deps.Tickets.MoveParts(ctx, p, in.TicketID, in.Body, v)
		if err != nil {
			return nil, err
		}
		return &partsOutput{ETag: etag(res.Ticket.Version), Body: res}, nil
	})

	register(s, authz.TicketsRead, huma.Operation{
		OperationID: "listTicketParts", Method: http.MethodGet, Path: "/v1/tickets/{ticket_id}/parts",
		Summary: "A ticket's parts", Tags: tags,
		Description: "The ticket's requisition lines: reserved, issued, used, returned and defective parts taken back.",
		Errors:      []int{http.StatusNotFound},
	}, func(ctx context.Context, in *TicketIDParam) (*ticketPartsOutput, error) {
		p, _ := tenants.PrincipalFrom(ctx)
		return replyList[ticketPartsOutput](s.deps.Tickets.Parts(ctx, p, in.TicketID))
	})
}

type partsOutput struct {
	ETag string `header:"ETag" doc:"The ticket's version."`
	Body tickets.PartsResult
}

type ticketPartsOutput struct {
	Body struct {
		Data []stock.TicketPart `json:"data"`
	}
}

func (o *ticketPartsOutput) answerList(xs []stock.TicketPart) { o.Body.Data = xs }
