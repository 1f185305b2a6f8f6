package tickets

import (
	"context"
	"slices"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/servicenet/servicenet/internal/i18n"
	"github.com/servicenet/servicenet/internal/pg"
	"github.com/servicenet/servicenet/tenants"
	"github.com/servicenet/servicenet/tenants/customers"
	"github.com/servicenet/servicenet/tenants/warranty"
	"github.com/servicenet/servicenet/tenants/warranty/entitlement"
)

// ActChargesWaived is the timeline action (and ticket.charges_waived
// event) of a service promise an upheld complaint established: applied
// at once to a completed ticket's charges, or recorded for the
// completion to apply. No endpoint takes it; the complaint's resolution
// does.
const ActChargesWaived Action = "charges_waived"

// PromiseLateArrival is the late-arrival promise (rule 8; Midea's
// promise 1, 按约上门、超时免单).
const PromiseLateArrival = "late_arrival"

// LateWaiver is a service promise (rule 8) found by someone other than
// the technician's own report: what a customer's complaint or an audit
// established, during the service or after it.
type LateWaiver struct {
	// Code is the promise: late_arrival, licence_not_shown,
	// charge_beyond_price_list or conduct_breach.
	Code string
	// Note says what was found, for the completion's waivers and trace.
	Note string
	// Source names what established it (a complaint id).
	Source string
}

// WaivedCharges is what applying a LateWaiver changed.
type WaivedCharges struct {
	// UnitID is the ticket's unit (the refund's unit); empty when the
	// ticket has none yet.
	UnitID string
	// TestClockID is the test clock the ticket lives on (the refund's).
	TestClockID *string
	// Refund is what the customer had been charged for the service and is
	// owed back (zero when nothing was charged, the service was already
	// free, or the ticket is not completed).
	Refund tenants.Money
	// Applied is false when the ticket already carried this promise.
	Applied bool
}

// WaiveChargesTx records on a ticket a service promise an upheld
// complaint established, in the caller's transaction: rule 8 makes the
// service free. The ticket keeps the promise (upheld_promises) as a fact
// of its service, like the visit checklist's findings: every later
// entitlement decision of the ticket (a diagnosis, the completion, the
// completion of the ticket reopened) applies it, so its charges are the
// brand's. On a completed ticket (its completion settled) it also applies
// at once: every line the customer paid moves to the brand (not a plan's
// swap fee, which no promise waives), the promise joins the completion's
// waivers (a late arrival's with the apology it owes, or the node
// manager's visit when the customer refused the apology), and Refund is
// what the customer paid. On one not yet completed
// nothing was charged: the completion applies it; on a cancelled one
// there are no charges to waive. The timeline and event feed record it
// (ticket.charges_waived). It is idempotent per promise: a ticket that
// already carries w.Code changes nothing and owes nothing. late_arrival
// needs a window agreed with the customer: on a ticket that never had one
// it is a conflict. A late_arrival promise also owes the customer an
// apology: unless the ticket has an apology task already (the sweep's or
// a late check-in's, open, made or refused), it opens one for the
// technician, as the sweep does, for the window the network missed (the
// ticket's, else the last one agreed), in the same transaction; refused,
// CompleteTask sends the node manager. A ticket that does not exist is
// not found.
func WaiveChargesTx(ctx context.Context, tx pg.TenantTx, actor, ticketID string, w LateWaiver, now time.Time) (WaivedCharges, error) {
	t, err := getTicket(ctx, tx, scope{}, ticketID, "FOR UPDATE OF t")
	if err != nil {
		return WaivedCharges{}, err
	}
	// late_arrival: the window the network missed (the ticket's, else the
	// last one agreed) and the apology tasks the ticket has
	var window *time.Time
	var apologies apologyTasks
	if w.Code == PromiseLateArrival {
		if err := tx.QueryRow(ctx, `SELECT `+visitWindowSQL+`,
			EXISTS (SELECT 1 FROM ticket_tasks WHERE tenant_id = $1 AND ticket_id = $2 AND kind = 'apologise'),
			EXISTS (SELECT 1 FROM ticket_tasks WHERE tenant_id = $1 AND ticket_id = $2 AND kind = 'apologise' AND state = 'refused')`,
			tx.TenantID, t.ID, t.Appointment.Start).Scan(&window, &apologies.any, &apologies.refused); err != nil {
			return WaivedCharges{}, err
		}
		if window == nil {
			return WaivedCharges{}, tenants.ErrorMsg(tenants.CodeConflict, i18n.M("tickets.late_arrival_no_window", "Ticket", t.Number))
		}
	}
	comp := t.Completion
	out := WaivedCharges{UnitID: deref(t.UnitID), TestClockID: t.TestClockID}
	if comp != nil {
		out.Refund.Currency = comp.Totals.Customer.Currency
	}
	recorded := slices.Contains(t.UpheldPromises, w.Code)
	settled := comp != nil && slices.ContainsFunc(comp.Waivers, func(p entitlement.Promise) bool { return p.Code == w.Code })
	if settled || (recorded && comp == nil) {
		// a completion that carries it keeps it (carryLateWaivers; a late
		// arrival the visits or the upheld promises establish again)
		return out, nil
	}
	out.Applied = true
	b := &pgx.Batch{}
	if !recorded {
		b.Queue(`UPDATE tickets SET upheld_promises = array_append(upheld_promises, $3) WHERE tenant_id = $1 AND id = $2`,
			tx.TenantID, t.ID, w.Code)
		t.UpheldPromises = append(t.UpheldPromises, w.Code)
	}
	detail := map[string]any{"waiver": w.Code, "source": w.Source}
	data := ticketEventData(&t, t.State, t.State)
	data["waiver"], data["source"] = w.Code, w.Source
	reason := w.Note
	switch {
	case comp != nil:
		out.Refund.Amount = comp.waiveCustomerLines()
		action := "none"
		if w.Code == PromiseLateArrival {
			// how late is not known: what is owed is the apology, or,
			// when the customer refused it, the node manager's visit
			// (seed 000: 若道歉不接受,再由售后经理上门道歉), as the
			// engine says at a completion (VisitReport.CustomerRefused)
			action = "apology"
			if apologies.refused {
				action = "manager_visit"
			}
		}
		comp.Waivers = append(comp.Waivers, entitlement.Promise{Code: w.Code, Waives: true, Action: action, Note: w.Note})
		reason += ": this service is free"
		if out.Refund.Amount > 0 {
			reason += "; the customer's " + strconv.FormatInt(out.Refund.Amount, 10) + " (minor units) is refunded, the brand pays it"
		}
		comp.Trace = append(comp.Trace, entitlement.TraceEntry{Rule: "R8.after_completion", Applied: true, Reason: reason})
		total := comp.Totals.Customer
		t.CustomerTotal = &total
		if out.Refund.Amount > 0 {
			// the unit's history: a repair refunded in full is no paid repair
			if err := customers.SettleServiceTx(ctx, tx, *t.UnitID, t.Number, total); err != nil {
				return WaivedCharges{}, err
			}
		}
		detail["refund"], detail["totals"] = out.Refund, comp.Totals
		data["refund"], data["customer_total"] = out.Refund, total
	case t.State == StateCancelled:
		reason += ": the ticket was cancelled, there are no charges to waive"
		detail["applies_at"], data["applies_at"] = "none", "none"
	default:
		reason += ": this service will be free, its completion waives the charges"
		detail["applies_at"], data["applies_at"] = "completion", "completion"
	}
	if w.Code == PromiseLateArrival && !apologies.any {
		// The apology the late promise owes (seed 000: 迟到…首先向用户道歉;
		// 若道歉不接受,再由售后经理上门道歉) is asked of the technician, as
		// the sweep asks it when a window closes without them, unless an
		// apology was asked for already (open, made or refused).
		queueTask(b, tx.TenantID, &t, TaskApologise, window.Truncate(time.Microsecond),
			w.Note+": apologise to the customer for not coming within the agreed window (traffic, never \"too many customers\"); if the apology is refused the node manager visits", now)
		detail["tasks"], data["tasks"] = []string{TaskApologise}, []string{TaskApologise}
		reason += "; the technician is asked to apologise"
	}
	queueSave(b, tx.TenantID, &t, false)
	if err := queueTrail(b, tx, t.ID, []step{{action: ActChargesWaived, from: t.State, to: t.State, reason: reason,
		detail: detail}}, actor, now, data); err != nil {
		return WaivedCharges{}, err
	}
	return out, tx.SendBatch(ctx, b).Close()
}

// apologyTasks is whether a ticket has an apology task (any: in any
// state) and whether the customer refused one.
type apologyTasks struct{ any, refused bool }

// promiseWaives is whether a service promise (rule 8) makes charge line l
// free: the promises waive repairs (免单: 维修及备件费用), as the engine does
// when the visit report records the finding; a plan's swap fee is not a
// charge of the service and stays the customer's.
func promiseWaives(l entitlement.Charge) bool { return l.Kind != entitlement.LineFee }

// waiveCustomerLines makes a settled completion's service free (rule 8):
// what the customer paid on each line the promises waive (promiseWaives)
// moves to the brand, and the totals with it. It returns what moved: what
// the customer is owed back.
func (comp *Completion) waiveCustomerLines() int64 {
	return comp.moveToBrand(func(l entitlement.Charge) int64 { return l.CustomerPays.Amount })
}

// moveToBrand moves what take says of each service line's customer share
// (promiseWaives: not a plan's swap fee; no more than the customer pays on
// it) to the brand, each line's payer and the totals with it, and returns
// what moved: a promise's waiver, the centre's reduction.
func (comp *Completion) moveToBrand(take func(l entitlement.Charge) int64) int64 {
	var moved int64
	for i := range comp.Lines {
		l := &comp.Lines[i]
		if !promiseWaives(*l) {
			continue
		}
		n := take(*l)
		moved += n
		l.BrandPays.Amount += n
		l.CustomerPays.Amount -= n
		l.Payer = payerOf(l)
	}
	comp.Totals.Brand.Amount += moved
	comp.Totals.Customer.Amount -= moved
	return moved
}

// carryLateWaivers adds to v the service promises an earlier completion
// of the ticket carried that only the visit's facts establish and no later
// visit can undo: the licence not shown, charges beyond the price list, a
// serious conduct breach, whether the visit checklist recorded them or a
// complaint upheld them after completion (WaiveChargesTx), and the price
// list not shown before that completion's charges (a later diagnosis that
// shows one does not make the service it was not shown for chargeable). Rule 8 makes
// "that service" free; a ticket reopened and completed again is the same
// service (served again until the customer is satisfied), so its new
// charges are waived too. prev nil (never completed) adds nothing.
func carryLateWaivers(prev *Completion, v *warranty.VisitReport) {
	if prev == nil || v == nil {
		return
	}
	for _, w := range prev.Waivers {
		// late_arrival: the visits' arrivals and the ticket's upheld
		// promises establish it again (visitReport)
		if w.Waives && w.Code != PromiseLateArrival {
			establish(v, w.Code)
		}
	}
}

// establish records on v the finding that earns promise code: licence not
// shown, charges beyond the price list, a conduct breach, the price list
// not shown, a late arrival upheld. Other codes (the repeat promises,
// which the ticket's history decides afresh) change nothing.
func establish(v *warranty.VisitReport, code string) {
	switch code {
	case PromiseLateArrival:
		v.LateArrivalUpheld = true
	case "licence_not_shown":
		v.LicenceNotShown = true
	case "charge_beyond_price_list":
		v.ChargedBeyondPriceList = true
	case "conduct_breach":
		v.ConductBreach = true
	case "price_list_not_shown":
		v.PriceListNotShown = true
	}
}

// payerOf names who pays a line from its amounts.
func payerOf(l *entitlement.Charge) string {
	var payers []string
	if l.CustomerPays.Amount > 0 {
		payers = append(payers, entitlement.PayerCustomer)
	}
	if l.BrandPays.Amount > 0 {
		payers = append(payers, entitlement.PayerBrand)
	}
	if l.PlanPays.Amount > 0 {
		payers = append(payers, entitlement.PayerPlan)
	}
	switch len(payers) {
	case 0:
		return entitlement.PayerNone
	case 1:
		return payers[0]
	}
	return entitlement.PayerShared
}
