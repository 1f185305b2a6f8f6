package api

import "github.com/servicenet/servicenet/authz"

// registerTicketKinds registers the flows of the service kinds other than
// repair: installation, maintenance, and returns and exchanges. Each action
// belongs to its ticket type (the transition table's types); on another
// type it is 409 naming the type.
func (s *Server) registerTicketKinds() {
	registerTicketAction(s, authz.TicketsWork, "reportTicketInstallation", "installation-report", "Record the installation",
		"Install tickets only. Records the position agreed with the customer (position_agreed and customer_instructed must "+
			"be true, the test run passed), the accessories used, and prices the installation by the price list (installation "+
			"labor for the category, accessories at the part price) with the entitlement engine's decision (cause no_fault: "+
			"never the warranty), shown before any charge. A further visit caused by delivery not in sync is free (Midea "+
			"promise 2). Complete the ticket next: that sets the unit's installed_on, "+
			"from which rule 3 counts (software tuning free within a month of installation, charged after three: seed 000 ties "+
			"it to the installation); the statutory windows, the warranty and the no-reason return keep counting from the "+
			"purchase date (the national three guarantees and the storefront's sale).",
		s.deps.Tickets.InstallationReport)
	registerTicketAction(s, authz.TicketsWork, "reportTicketService", "service-report", "Record the maintenance checklist",
		"Maintenance tickets only. Records the service checklist and prices it by the price list (maintenance labor for the "+
			"category, parts), never by the warranty; an active plan that covers maintenance pays it. Complete the ticket next: "+
			"it joins the unit's history as maintenance, not a repair.",
		s.deps.Tickets.MaintenanceReport)
	registerTicketAction(s, authz.TicketsWork, "pickUpTicketUnit", "pickup", "Pick the unit up",
		"Return and exchange tickets only, on site at the pickup scheduled like a visit: the unit is collected and taken "+
			"to the node (carry_in).",
		s.deps.Tickets.PickUp)
	registerTicketAction(s, authz.TicketsWork, "inspectTicketUnit", "inspection", "Inspect the picked-up unit",
		"Return and exchange tickets only, after the pickup (409 before). Records whether the unit can be resold and "+
			"whether the fault is confirmed (and its cause), then checks the remedy with the entitlement engine on the "+
			"ticket's date: the stored decision lists the remedies allowed, the freight payer and the trace.",
		s.deps.Tickets.Inspect)
	registerTicketAction(s, authz.TicketsWork, "recordTicketOutcome", "outcome", "Record the return's or exchange's outcome",
		"refund: a payout to the customer of the price paid, in full (a statutory or seven-day no-reason return takes no "+
			"deduction: any other amount is 422 on body.refund.amount; a unit whose purchase_price_source is "+
			"model_retail_price, registered by the intake without the invoice's price, has no price paid to refund: 409 "+
			"naming purchase_price until the brand sets it with updateUnit); the unit's "+
			"plans end and the return joins its history. exchange: a swap is requested (statutory exchange); its fulfilment "+
			"registers the replacement and ends the plans. refusal: only when the engine allows neither; the refusing rules "+
			"are recorded. Freight goes to whoever the engine names: with a refund or an exchange, the customer's freight (what "+
			"they paid to ship the unit back) is reimbursed as a second payout when the engine names the seller, owed by the "+
			"seller: the storefront that sold the unit (payer storefront), else the brand, whoever owes the refund "+
			"(a statutory return of a storefront's sale: the brand refunds, the storefront pays the freight); a change of "+
			"mind's freight is the buyer's, and a freight then is 422 on body.freight. The ticket completes.",
		s.deps.Tickets.RecordOutcome)
}
