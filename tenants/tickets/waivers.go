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
// event) of a service promise applied after completion: an upheld
// complaint. No endpoint takes it; the complaint's resolution does.
const ActChargesWaived Action = "charges_waived"

// LateWaiver is a service promise (rule 8) found after the service: what
// a customer's complaint or an audit established.
type LateWaiver struct {
	// Code is the promise: licence_not_shown, charge_beyond_price_list or
	// conduct_breach.
	Code string
	// Note says what was found, for the completion's waivers and trace.
	Note string
	// Source names what established it (a complaint id).
	Source string
}

// WaivedCharges is what applying a LateWaiver changed.
type WaivedCharges struct {
	// UnitID is the ticket's unit (the refund's unit).
	UnitID string
	// Refund is what the customer had been charged for the service and is
	// owed back (zero when nothing was charged or the service was already
	// free).
	Refund tenants.Money
	// Applied is false when the ticket already carried this promise.
	Applied bool
}

// WaiveChargesTx applies a service promise found after completion to a
// ticket's settled charges, in the caller's transaction: rule 8 makes the
// service free, so every line the customer paid moves to the brand (not a
// plan's swap fee, which no promise waives), the
// promise joins the completion's waivers, and the ticket's timeline and
// event feed record it (ticket.charges_waived). It is idempotent per
// promise: a ticket that already carries w.Code changes nothing and owes
// nothing. A ticket never completed is a conflict (the visit report
// records what is found before completion); one that does not exist is not
// found.
func WaiveChargesTx(ctx context.Context, tx pg.TenantTx, actor, ticketID string, w LateWaiver, now time.Time) (WaivedCharges, error) {
	t, err := getTicket(ctx, tx, scope{}, ticketID, "FOR UPDATE OF t")
	if err != nil {
		return WaivedCharges{}, err
	}
	comp := t.Completion
	if comp == nil || t.UnitID == nil {
		return WaivedCharges{}, tenants.ErrorMsg(tenants.CodeConflict, i18n.M("tickets.not_completed_no_charges", "Ticket", t.Number))
	}
	out := WaivedCharges{UnitID: *t.UnitID, Refund: tenants.Money{Amount: 0, Currency: comp.Totals.Customer.Currency}}
	if slices.ContainsFunc(comp.Waivers, func(p entitlement.Promise) bool { return p.Code == w.Code }) {
		return out, nil
	}
	out.Applied = true
	out.Refund.Amount = comp.waiveCustomerLines()
	comp.Waivers = append(comp.Waivers, entitlement.Promise{Code: w.Code, Waives: true, Action: "none", Note: w.Note})
	reason := w.Note + ": this service is free"
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

	b := &pgx.Batch{}
	queueSave(b, tx.TenantID, &t, false)
	detail := map[string]any{"waiver": w.Code, "source": w.Source, "refund": out.Refund, "totals": comp.Totals}
	data := map[string]any{"ticket_id": t.ID, "number": t.Number, "from_state": t.State, "state": t.State,
		"storefront_id": t.StorefrontID, "node_id": t.NodeID, "technician_id": t.TechnicianID, "waiver": w.Code,
		"source": w.Source, "refund": out.Refund, "customer_total": total}
	if err := queueTrail(b, tx, t.ID, []step{{action: ActChargesWaived, from: t.State, to: t.State, reason: w.Note,
		detail: detail}}, actor, now, data); err != nil {
		return WaivedCharges{}, err
	}
	return out, tx.SendBatch(ctx, b).Close()
}

// waiveCustomerLines makes a settled completion's service free (rule 8):
// what the customer paid on each line moves to the brand, and the totals
// with it. A plan's swap fee stays the customer's: it is not a charge of
// the service, and the promises waive repairs (免单: 维修及备件费用), as the
// engine does when the visit report records the same finding. It returns
// what moved: what the customer is owed back.
func (comp *Completion) waiveCustomerLines() int64 {
	var moved int64
	for i := range comp.Lines {
		l := &comp.Lines[i]
		if l.Kind == entitlement.LineFee {
			continue
		}
		moved += l.CustomerPays.Amount
		l.BrandPays.Amount += l.CustomerPays.Amount
		l.CustomerPays.Amount = 0
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
		if !w.Waives {
			continue
		}
		switch w.Code {
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
