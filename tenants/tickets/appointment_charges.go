package tickets

import (
	"context"
	"strings"
	"time"

	"github.com/servicenet/servicenet/internal/i18n"
	"github.com/servicenet/servicenet/tenants"
	"github.com/servicenet/servicenet/tenants/identity"
	"github.com/servicenet/servicenet/tenants/warranty/entitlement"
)

// ChargesConfirmation is what the customer re-confirmed on the appointment
// call about what the service costs them (seed 001 电话沟通注意事项 (1):
// 如涉及收费问题,需与用户再次确认。如果客户有什么异议,引导客户拨打统一热线电话),
// kept in the timeline entry of the action that booked the visit (a
// schedule, a return visit for parts, a visit exception with a new window;
// detail.charges_confirmed): the
// ticket's decision as it was then (its basis and date, what the customer
// pays and the lines they pay some of, each with its payer and shares),
// or none when it had none.
type ChargesConfirmation struct {
	Basis       entitlement.Basis    `json:"basis,omitempty"`
	On          string               `json:"on,omitempty"`
	Customer    *tenants.Money       `json:"customer,omitempty"`
	Lines       []entitlement.Charge `json:"lines,omitempty"`
	ConfirmedAt time.Time            `json:"confirmed_at"`
}

// customerCharges is what the ticket's entitlement decision of the round
// being served charges the customer: the decision, the lines the customer
// pays some of and their total. The decision is stored at a diagnosis (or
// a service report) with the quote that priced it (quote_id), made again
// by the technician's visit checklist (RecordChecklist) with the same
// quote, and settled by a completion, which names the quote it settled: a
// ticket not diagnosed has none, and a reopened one keeps its last
// completion's, settled then, until its new round decides it again
// (decisionSettled): a diagnosis prices a new quote, and a checklist of
// the round's visit decides on the day the round was reported; that
// decision is the round's, whatever the earlier completion settled. A
// return's or exchange's inspection is settled by its outcome. A service
// promise upheld by a complaint (upheld_promises) makes the service free
// but for the lines no promise waives (promiseWaives: a swap's fee). d is
// nil when there is no decision.
func (c *change) customerCharges(ctx context.Context) (d *entitlement.Decision, lines []entitlement.Charge, total tenants.Money, err error) {
	t := c.T
	if t.Entitlement == nil {
		return nil, nil, total, nil
	}
	if settled, err := c.decisionSettled(ctx); err != nil || settled {
		return nil, nil, total, err
	}
	d = &t.Entitlement.Decision
	total = tenants.Money{Currency: d.Totals.Customer.Currency}
	for _, l := range d.Lines {
		if l.CustomerPays.Amount > 0 && (len(t.UpheldPromises) == 0 || !promiseWaives(l)) {
			lines = append(lines, l)
			total.Amount += l.CustomerPays.Amount
		}
	}
	return d, lines, total, nil
}

// decisionSettled is whether the ticket's stored decision is the one its
// last completion settled: the completion's quote is the ticket's (a
// diagnosis or service report since, in a reopened round, priced a new
// one) and no visit of the round being served (a reopened one's) has a
// checklist, which decided the ticket again (RecordChecklist). A return's
// or exchange's decision (its inspection's) is settled by its outcome,
// which charges the customer nothing (RecordOutcome: a refund in full, a
// swap with no plan's fee, or a refusal); a reopened round is booked
// before its unit is picked up and inspected again. A ticket never
// completed has nothing settled.
func (c *change) decisionSettled(ctx context.Context) (bool, error) {
	t := c.T
	if t.Service != nil && t.Service.Outcome != nil {
		return true, nil
	}
	if t.Completion == nil || t.Completion.QuoteID != deref(t.QuoteID) {
		return false, nil
	}
	var decidedAgain bool
	err := c.tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM ticket_visits
		WHERE tenant_id = $1 AND ticket_id = $2 AND round = $3 AND checklist IS NOT NULL)`,
		c.tx.TenantID, t.ID, t.ReopenCount).Scan(&decidedAgain)
	return !decidedAgain, err
}

// confirmCharges requires, when the ticket's decision charges the customer
// (customerCharges), that the appointment call re-confirmed the charges
// with the customer (confirmed: invalid at charges_confirmed otherwise,
// the problem's detail as well as the field's message naming what the
// customer pays and, for a customer who objects, the brand's service
// hotline, with its number when the tenant set one) and records the
// confirmation in detail (charges_confirmed) with the decision's basis and
// date, the customer's total and lines. A confirmation given where nothing
// is known to be charged is recorded as given, with the decision the
// ticket has, if any.
func (c *change) confirmCharges(ctx context.Context, confirmed bool, detail map[string]any) error {
	d, lines, total, err := c.customerCharges(ctx)
	if err != nil {
		return err
	}
	if !confirmed {
		if total.Amount == 0 {
			return nil
		}
		var charges []string
		for _, l := range lines {
			charges = append(charges, l.Kind+" "+l.CustomerPays.Text())
		}
		hotline, err := identity.ServiceHotlineTx(ctx, c.tx)
		if err != nil {
			return err
		}
		m := i18n.M("tickets.charges_not_confirmed", "Amount", total.Text(), "Basis", string(d.Basis),
			"Lines", strings.Join(charges, ", "), "Hotline", hotline)
		return tenants.ErrorMsg(tenants.CodeInvalid, m).With(tenants.FieldMsg("charges_confirmed", m, confirmed))
	}
	rec := ChargesConfirmation{ConfirmedAt: c.now}
	if d != nil {
		rec.Basis, rec.On, rec.Customer, rec.Lines = d.Basis, c.T.Entitlement.On, &total, lines
	}
	detail["charges_confirmed"] = rec
	return nil
}
