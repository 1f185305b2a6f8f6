package tickets

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"fmt"
	"math/big"
	"slices"
	"time"

	"github.com/servicenet/servicenet/internal/i18n"
	"github.com/servicenet/servicenet/tenants"
	"github.com/servicenet/servicenet/tenants/catalog"
	"github.com/servicenet/servicenet/tenants/customers"
	"github.com/servicenet/servicenet/tenants/network"
	"github.com/servicenet/servicenet/tenants/notifications"
	"github.com/servicenet/servicenet/tenants/stock"
	"github.com/servicenet/servicenet/tenants/warranty"
	"github.com/servicenet/servicenet/tenants/warranty/entitlement"
)

// WorkInput is the job the technician proposes, priced by the price list.
type WorkInput struct {
	ServiceKind  string              `json:"service_kind" enum:"install,repair,maintenance,carry_in,remote" doc:"Kind of work: prices the labor line." example:"repair"`
	Parts        []catalog.QuotePart `json:"parts,omitempty" maxItems:"50" doc:"Parts the job needs; each must fit the unit's model."`
	IncludeVisit bool                `json:"include_visit,omitempty" doc:"Add the visit fee." example:"true"`
}

// DiagnoseInput is the diagnosis on site.
type DiagnoseInput struct {
	Diagnosis      Diagnosis `json:"diagnosis"`
	Work           WorkInput `json:"work"`
	PriceListShown bool      `json:"price_list_shown" doc:"The technician showed the customer the price list and the decision before any charge. Not shown: the service is free (rule 8)." example:"true"`
}

func (t *Ticket) decide(ctx context.Context, c *change, d Diagnosis) (warranty.Entitlement, error) {
	repairable := d.Repairable
	visit, err := c.visitReport(ctx)
	if err != nil {
		return warranty.Entitlement{}, err
	}
	carryLateWaivers(t.Completion, visit)
	if t.Service != nil && t.Service.Install != nil && t.Service.Install.RepeatVisitCause == "delivery_not_in_sync" && t.UnitID != nil {
		// Midea promise 2 (未送安同步而多次上门的,则本次服务给用户免单):
		// delivery not in sync is the network's doing when the brand's own
		// store sold the unit (限美的专卖店购买); elsewhere the seller
		// delivered, and the visit is charged. This is the only repeat
		// visit the promise frees.
		if visit.RepeatVisitByNetwork, err = customers.SoldAtBrandStoreTx(ctx, c.tx, *t.UnitID); err != nil {
			return warranty.Entitlement{}, err
		}
	}
	// The warranty card's charge caps a price-list charge (rule 2: the
	// lower of the two), at diagnosis and again at completion.
	req := warranty.DecideRequest{UnitID: deref(t.UnitID), QuoteID: deref(t.QuoteID), Visit: visit,
		Fault:      warranty.FaultReport{Cause: d.Cause, PartCategories: d.PartCategories, Repairable: &repairable},
		CardCharge: d.WarrantyCardCharge}
	reported, err := c.reportedAt(ctx)
	if err != nil {
		return warranty.Entitlement{}, err
	}
	// The decision is the brand's: decide with the tenant's whole view, on
	// the day the customer reported what this round serves.
	e, err := warranty.DecideReportedTx(ctx, c.tx, req, reported, c.now)
	if err != nil {
		// Problems with the fault and the card's charge are about the
		// diagnosis in this request; the decision's date is the ticket's day.
		err = tenants.Relocate(tenants.Relocate(err, "fault.", "diagnosis."), "warranty_card_charge", "diagnosis.warranty_card_charge")
		return e, servicedBeforePurchase(err, "date")
	}
	return e, nil
}

// reportedAt is when the customer reported what the ticket's current
// round serves: its intake or, once reopened, its last reopening (the
// fault came back, or the service was not done). A repair is decided on
// that day, at diagnosis and again at completion, so that what the
// customer was told at diagnosis does not change while the ticket waits
// for a visit or a part (seed 000: 若超保产品,则向用户讲明产品超保需收费,征得用户同意).
func (c *change) reportedAt(ctx context.Context) (time.Time, error) {
	t := c.T
	for _, s := range slices.Backward(c.steps) {
		if s.to == StateReopened {
			return c.now, nil
		}
	}
	if t.ReopenCount == 0 {
		return t.CreatedAt, nil
	}
	var at time.Time
	err := c.tx.QueryRow(ctx, `SELECT `+reportedAtSQL+` FROM tickets t WHERE t.tenant_id = $1 AND t.id = $2`, c.tx.TenantID, t.ID).Scan(&at)
	return at, err
}

// reportedAtSQL is, for the ticket t, when the customer reported what its
// current round serves: its last reopening, else its intake.
const reportedAtSQL = `coalesce((SELECT max(l.at) FROM ticket_timeline l
	WHERE l.tenant_id = t.tenant_id AND l.ticket_id = t.id AND l.to_state = 'reopened'), t.created_at)`

// Diagnose records the diagnosis, prices the work with the price list in
// effect (a stored quote) and stores the entitlement decision: both are
// shown to the customer before any charge. A diagnosis that finds the
// fault hard, or needing a higher skill level, raises the triage; beyond
// the ticket's node or technician the ticket goes up a tier (escalationFor,
// goUp). A required level out of 1-5 is invalid at
// diagnosis.required_level. Work on the storage or system of a unit that
// holds the customer's data needs the customer's signed acknowledgement
// that the data may be lost (acknowledgeDataLoss: invalid at
// diagnosis.data_loss.customer_agreed and .data_backup without it, nothing
// written); it is kept with the diagnosis and in its timeline entry.
func (s *Service) Diagnose(ctx context.Context, p tenants.Principal, id string, in DiagnoseInput, ifVersion int) (Ticket, error) {
	v := &tenants.Validation{}
	if l := in.Diagnosis.RequiredLevel; l < 0 || l > network.MaxSkillLevel {
		v.AddMsg("diagnosis.required_level", i18n.M("common.range", "Min", 1, "Max", network.MaxSkillLevel), l)
	}
	if ack := in.Diagnosis.DataLoss; ack != nil {
		checkDataBackup(v, "diagnosis.data_loss.data_backup", ack.DataBackup)
	}
	if err := v.Err(); err != nil {
		return Ticket{}, err
	}
	return s.act(ctx, p, id, ifVersion, ActDiagnose, func(c *change) error {
		t := c.T
		up, err := c.escalationFor(ctx, in.Diagnosis)
		if err != nil {
			return err
		}
		if t.UnitID == nil || t.ModelID == nil {
			return tenants.ErrorMsg(tenants.CodeConflict, i18n.M("tickets.unit_not_identified_diagnose"))
		}
		_, today, err := c.tx.Today(ctx, c.now)
		if err != nil {
			return err
		}
		if up != nil {
			// what holds the ticket at the node is refused before anything is written
			if err := c.partsLeave(ctx, t.NodeID, func(parts string) i18n.Message {
				return i18n.M("tickets.escalation_parts_held", "Need", up.need, "Parts", parts)
			}); err != nil {
				return err
			}
		}
		q, err := catalog.PriceQuote(ctx, c.tx, catalog.NewQuote{ModelID: *t.ModelID, ServiceKind: in.Work.ServiceKind,
			Parts: in.Work.Parts, IncludeVisit: in.Work.IncludeVisit}, today)
		if err != nil {
			return tenants.Relocate(err, "", "work.")
		}
		d := in.Diagnosis
		if err := c.acknowledgeDataLoss(&d, q); err != nil {
			return err
		}
		t.QuoteID = &q.ID
		// Whether this quote was shown is this diagnosis's to say: an
		// earlier diagnosis's showing does not cover a new quote (parts
		// added after it were never shown: 如果使用备件要给用户出示备件费用),
		// so one not shown leaves the service without a price list shown
		// (rule 8: free).
		t.PriceShownAt = nil
		if in.PriceListShown {
			now := c.now
			t.PriceShownAt = &now
		}
		e, err := t.decide(ctx, c, d)
		if err != nil {
			return err
		}
		t.Diagnosis, t.Entitlement = &d, &e
		t.uncertainFix = d.Uncertain
		if d.Uncertain {
			c.data["uncertain"] = true
		}
		c.data["cause"], c.data["basis"], c.data["quote_id"] = d.Cause, e.Decision.Basis, q.ID
		c.data["customer_pays"] = e.Decision.Totals.Customer
		detail := map[string]any{"cause": d.Cause, "codes": d.Codes, "basis": e.Decision.Basis, "quote_id": q.ID,
			"totals": e.Decision.Totals, "price_list_shown": in.PriceListShown}
		if d.DataLoss != nil {
			detail["data_loss"] = d.DataLoss
		}
		if up == nil {
			c.note("", detail)
			return nil
		}
		detail["escalation"] = up.detail
		c.note("", detail)
		return c.goUp(ctx, *up)
	})
}

// escalation is what a diagnosis found the fault needs beyond the
// ticket's node or technician: the triage raised to it, the need for
// people, and the timeline's record of where the ticket came from.
type escalation struct {
	triage Triage
	need   i18n.Message
	detail map[string]any
}

// escalationFor raises the ticket's triage to what diagnosis d found: a
// hard fault (DESIGN: hard faults go up a tier, depot then service
// center; a repair point takes none, and it needs level 3 at least) or a
// skill level. When the ticket's node and technician meet the raised
// triage, the triage is raised and nil returned: the ticket stays. When
// they do not, the escalation is returned (goUp sends the ticket up), and
// the triage is left for goUp to raise. A unit carried in to the node does
// not go with the ticket: a conflict naming what the fault needs.
func (c *change) escalationFor(ctx context.Context, d Diagnosis) (*escalation, error) {
	t := c.T
	if !d.HardFault && d.RequiredLevel == 0 {
		return nil, nil
	}
	tr := Triage{RequiredLevel: 1}
	if t.Triage != nil {
		tr = *t.Triage
	}
	if d.HardFault {
		tr.HardFault, tr.RequiredLevel = true, max(tr.RequiredLevel, 3)
	}
	tr.RequiredLevel = max(tr.RequiredLevel, d.RequiredLevel)
	if t.Triage != nil && tr == *t.Triage {
		return nil, nil // nothing the triage did not ask for: dispatch placed it accordingly
	}
	_, today, err := c.tx.Today(ctx, c.now)
	if err != nil {
		return nil, err
	}
	category := deref(t.Category)
	var st network.TechnicianStanding
	found := false
	if t.TechnicianID != nil {
		if st, found, err = network.TechnicianAtNodeTx(ctx, c.tx, *t.TechnicianID, deref(t.NodeID), today, category); err != nil {
			return nil, err
		}
	}
	if found && !(tr.HardFault && st.NodeTier == network.TierRepairPoint) && st.Level >= tr.RequiredLevel {
		t.Triage = &tr
		c.data["triage"] = tr
		return nil, nil
	}
	need, loc := i18n.M("tickets.need_level", "Level", tr.RequiredLevel, "Category", category), "diagnosis.required_level"
	if tr.HardFault {
		need, loc = i18n.M("tickets.need_hard_fault", "Level", tr.RequiredLevel), "diagnosis.hard_fault"
	}
	if t.State == StateCarryIn {
		m := i18n.M("tickets.escalation_carried_in", "Need", need)
		return nil, tenants.ErrorMsg(tenants.CodeConflict, m).With(tenants.FieldMsg(loc, m, true))
	}
	return &escalation{triage: tr, need: need, detail: map[string]any{"from_node_id": t.NodeID,
		"from_technician_id": t.TechnicianID, "hard_fault": tr.HardFault, "required_level": tr.RequiredLevel}}, nil
}

// partsLeave readies the ticket's requisition for the ticket to leave
// nodeID, its node: parts of the node's stock fitted to the unit (beyond what an
// earlier completion billed) or issued and not returned hold the ticket
// there (a conflict, held's message naming them: return them first);
// parts only reserved go back to the node's shelf (releaseParts).
func (c *change) partsLeave(ctx context.Context, nodeID *string, held func(parts string) i18n.Message) error {
	parts, err := stock.TicketParts(ctx, c.tx, c.T.ID)
	if err != nil {
		return err
	}
	settled := c.T.settledParts()
	var out []string
	for _, p := range parts {
		if p.Used > settled[p.PartID].Used || p.Issued > p.Used+p.Returned {
			out = append(out, p.PartNumber)
		}
	}
	if len(out) > 0 {
		return tenants.ErrorMsg(tenants.CodeConflict, held(joinComma(out)))
	}
	return c.releaseParts(ctx, nodeID, parts)
}

// goUp sends the ticket up a tier for escalation e: its triage raised, it
// is dispatched again by the rules over the whole network (whoever
// diagnosed, a repair point has no subtree to look in), which excludes the
// repair points for a hard fault and the technicians below the level. The
// node's appointment ends with the visit (the visit stays on record, a
// late arrival's promise with it); the deadlines keep running (the
// completion is due when it was). No node able: triaged with the reason.
func (c *change) goUp(ctx context.Context, e escalation) error {
	t := c.T
	t.Triage = &e.triage
	t.Appointment = Appointment{}
	c.data["escalation"] = e.detail
	return c.dispatch(ctx, dispatchOrder{wholeNetwork: true, reason: "the diagnosis found the fault beyond the node: up a tier"})
}

// TestRun is the test run after the repair: passed, or, completing a
// ticket, skipped because the technician had no time for it (seed 000,
// 试机通检: 若服务工程师没有时间试机,则两小时后跟踪回访), never both.
type TestRun struct {
	Passed  bool   `json:"passed" doc:"The appliance works: a failed test run cannot complete the ticket." example:"true"`
	Skipped bool   `json:"skipped,omitempty" doc:"Completing a ticket: the technician had no time for a test run (passed is then false). The ticket completes and the callback is due the policy's untested_callback_minutes (120) after the completion instead of 72 hours, to make sure the unit works again. Passed and skipped together are refused; an installation report needs a test run that passed." example:"false"`
	Notes   string `json:"notes,omitempty" maxLength:"1000" doc:"What was tested." example:"脱水测试正常，无异响"`
}

// Completion is what completing the service settled: the test run and the
// charges per line, with the service promises that waived the customer's
// share.
type Completion struct {
	TestRun     TestRun               `json:"test_run"`
	Basis       string                `json:"basis" doc:"The entitlement basis the charges rest on." example:"out_of_warranty"`
	Lines       []entitlement.Charge  `json:"lines" doc:"Charges per line with who pays: customer, brand, plan."`
	Totals      entitlement.Totals    `json:"totals"`
	Waivers     []entitlement.Promise `json:"waivers" doc:"Service promises that waived the customer's charges: late arrival, repeat visit, repeat fault, price list not shown."`
	Uncertain   bool                  `json:"uncertain" doc:"The technician was not sure of the fix: the callback came sooner." example:"false"`
	QuoteID     string                `json:"quote_id,omitempty" doc:"The quote that priced the charges: the diagnosis quote, plus the parts used beyond it." example:"quo_01jd3zq8w6v7t3y2k9x4n5m6pg"`
	PartsBilled []BilledPart          `json:"parts_billed,omitempty" doc:"Parts billed in another quantity than the diagnosis quote listed: a part that went through the ticket's requisition is billed as many times as it was fitted (used), parts returned to the shelf unused are not billed (a quoted part never issued through the requisition is billed as quoted). Parts fitted beyond the quote are billed to the brand or plan that covers them, or waived by a service promise; parts the customer would pay for are not billed here: their charges were never shown, so completing is 409 until a new diagnosis lists them (price_list_shown says whether the customer saw the new price list)."`
	// PartsSettled is the ticket's requisition as this completion
	// settled it: what a later round (the ticket reopened) bills beyond.
	PartsSettled []SettledPart `json:"parts_settled,omitempty" doc:"The ticket's requisition lines at this completion: how many of each part had been issued and fitted, all billed by this completion or an earlier one. A reopened ticket's next completion bills only the parts issued and fitted after them (a part fitted and billed in the first round is not billed again)."`
	// The compensation payout the plan owes for this repair, scheduled once however often the ticket completes.
	Compensation *CompensationPayout `json:"compensation,omitempty"`
	// Reductions are the centre's reductions this completion's charges carry.
	Reductions  []ChargeReduction        `json:"reductions,omitempty" doc:"The centre's reductions of the customer's charges (seed 000: 根据中心批示处理) this completion applied, approved before it (at the completion) or after it (at once, refunded), each with what it took off, who approved it and why: the customer's share went down and the brand's up by the same amount (a goodwill reduction the brand bears)."`
	Trace       []entitlement.TraceEntry `json:"trace" doc:"Every rule the engine considered for the charges."`
	CompletedAt time.Time                `json:"completed_at" doc:"When." example:"2026-12-01T10:30:00+08:00"`
}

// CompleteInput completes the service.
type CompleteInput struct {
	TestRun   TestRun `json:"test_run"`
	Uncertain bool    `json:"uncertain,omitempty" doc:"The technician is not sure the fix holds: the callback comes after 3 hours instead of 72." example:"false"`
	// Invoice is the customer's request for an invoice on the
	// completion's receipt, when made on site.
	Invoice *InvoiceRequest `json:"invoice,omitempty" doc:"The customer asks for an invoice (发票) on this completion's receipt (seed 000: 如用户要求开发票,则必须给用户开发票), as requestTicketInvoice records it after the completion: invalid fields are 422 at invoice.<field> (a company's taxpayer_id must be a unified social credit code) and nothing is completed; a completion that charges the customer nothing issues no receipt, and an invoice asked for on it is 409 (tickets.invoice_nothing_charged)."`
}

// Complete records the test run and settles the charges: the entitlement
// engine decides them again with how the visit went, so the service
// promises' waivers apply automatically (late arrival, an installation
// visited again because delivery was not in sync with it for a unit bought
// at the brand's own store, a fault again within a year (two for washers)
// of a paid repair, the price list not shown). A reopened ticket completed
// again is decided afresh: what its earlier completion charged stays paid
// (a promise a complaint upholds refunds it then, WaiveChargesTx); its new
// round needs a decision of its own (a diagnosis, a report or the visit's
// checklist): without one it is a conflict (diagnose first), since the
// quote it has was shown for, and settled by, the earlier completion. Parts
// that went through the ticket's requisition are billed as many times as
// they were fitted (billUsedParts): fewer than quoted when some went back
// to the shelf; beyond the diagnosis quote when the brand or a plan pays
// them or a promise waives them; the customer is never charged for a part whose
// charge no diagnosis showed: that completion is a conflict until the
// technician diagnoses again with the parts, saying whether the new price
// list was shown (chargesShown). Parts still reserved for the ticket and
// never issued go back to the node's stock, as at a cancellation
// (releaseParts). A plan compensation the decision owes (rule 7) is
// scheduled as a payout once per repair. The repair joins the unit's
// service history, and the callback clock starts: the policy's
// callback_minutes after the completion, sooner when the fix is uncertain
// (uncertain_callback_minutes) or the test run was skipped
// (untested_callback_minutes; the sooner of the two when both). A repair
// completed in the visit more than on_site_repair_minutes after its
// check-in records an on_site_repair breach (onSiteRepairLate). The test
// run either passed or was skipped: neither (a failed test run) is
// invalid at test_run.passed, both at test_run.skipped. A completion
// that charges the customer issues a receipt (issueReceipt); an invoice
// asked for with it (in.Invoice) is recorded on that receipt, invalid
// fields at invoice.<field> before anything is read, and a conflict when
// the completion charges nothing.
func (s *Service) Complete(ctx context.Context, p tenants.Principal, id string, in CompleteInput, ifVersion int) (Ticket, error) {
	if in.TestRun.Passed && in.TestRun.Skipped {
		return Ticket{}, tenants.InvalidMsg("test_run.skipped", i18n.M("tickets.test_run_passed_and_skipped"), true)
	}
	if !in.TestRun.Passed && !in.TestRun.Skipped {
		return Ticket{}, tenants.InvalidMsg("test_run.passed", i18n.M("tickets.failed_test_not_completable"), false)
	}
	if in.Invoice != nil {
		v := &tenants.Validation{}
		in.Invoice.validate(v, "invoice.")
		if err := v.Err(); err != nil {
			return Ticket{}, err
		}
	}
	return s.act(ctx, p, id, ifVersion, ActComplete, func(c *change) error {
		t := c.T
		if t.Diagnosis == nil || t.UnitID == nil {
			return tenants.ErrorMsg(tenants.CodeConflict, i18n.M("tickets.diagnose_first"))
		}
		// A reopened round whose decision is still the one the last
		// completion settled (no diagnosis, report or checklist of its
		// own) was shown no charges: completing it would bill the settled
		// quote again, its parts with it (seed 000: 征得用户同意并出示收费标准).
		if settled, err := c.decisionSettled(ctx); err != nil {
			return err
		} else if settled && t.Completion != nil {
			return tenants.ErrorMsg(tenants.CodeConflict, i18n.M("tickets.diagnose_first"))
		}
		_, today, err := c.tx.Today(ctx, c.now)
		if err != nil {
			return err
		}
		parts, err := stock.TicketParts(ctx, c.tx, t.ID)
		if err != nil {
			return err
		}
		billed, err := billUsedParts(ctx, c, parts, t.settledParts(), today)
		if err != nil {
			return err
		}
		e, err := t.decide(ctx, c, *t.Diagnosis)
		if err != nil {
			return err
		}
		d := e.Decision
		if err := chargesShown(d, billed); err != nil {
			return err
		}
		if err := c.chargesAgreedOnSite(d.Totals.Customer.Amount); err != nil {
			return err
		}
		// Reserved and never issued, the parts go back to the node.
		if err := c.releaseParts(ctx, c.T.NodeID, parts); err != nil {
			return err
		}
		comp := &Completion{TestRun: in.TestRun, Basis: string(d.Basis), Lines: d.Lines, Totals: d.Totals,
			Waivers: d.Promises, Uncertain: in.Uncertain, QuoteID: deref(t.QuoteID), PartsBilled: billed, PartsSettled: settledNow(parts), Trace: d.Trace, CompletedAt: c.now}
		// the centre's reductions approved before the completion
		t.applyReductions(comp, c.now)
		if comp.Compensation, err = s.scheduleCompensation(ctx, c, d, today); err != nil {
			return err
		}
		now := c.now
		t.Completion, t.CompletedAt = comp, &now
		total := comp.Totals.Customer
		t.CustomerTotal = &total
		t.uncertainFix = t.uncertainFix || in.Uncertain
		fixed := true
		amount := comp.Totals.Customer
		if _, err := customers.RecordService(ctx, c.tx, *t.UnitID, customers.NewServiceRecord{Kind: serviceRecordKind(t.Type), OccurredOn: today,
			Basis: string(d.Basis), FaultCause: t.Diagnosis.Cause, PartCategories: t.Diagnosis.PartCategories,
			Paid: total.Amount > 0, Fixed: &fixed, Amount: &amount, Reference: customers.TicketReference(t.Number, t.Visits),
			Note: in.TestRun.Notes}, c.p.Subject(), c.now); err != nil {
			return err
		}
		if err := c.afterCompletion(ctx, today); err != nil {
			return err
		}
		// the lines the customer pays once the reductions moved their share
		receipt := c.issueReceipt(comp.Lines, total)
		if in.Invoice != nil {
			if receipt == nil {
				return tenants.ErrorMsg(tenants.CodeConflict, i18n.M("tickets.invoice_nothing_charged"))
			}
			if err := c.requestInvoice(receipt, *in.Invoice, today, "invoice."); err != nil {
				return err
			}
		}
		var codes []string
		for _, w := range d.Promises {
			codes = append(codes, w.Code)
		}
		c.data["customer_total"], c.data["waivers"], c.data["basis"] = total, codes, d.Basis
		if len(billed) > 0 {
			c.data["parts_billed"] = billed
		}
		if comp.Compensation != nil {
			c.data["compensation_payout_id"] = comp.Compensation.PayoutID
		}
		if reduced := comp.reducedInAll(); reduced != nil {
			c.data["reduction"] = *reduced
		}
		c.meetSLA(SLACompletion, SLAResponse, SLAFirstContact)
		if err := s.onSiteRepairLate(ctx, c); err != nil {
			return err
		}
		after := c.policy.CallbackMinutes
		if t.uncertainFix {
			after = c.policy.UncertainCallbackMinutes
		}
		if in.TestRun.Skipped {
			// Not tested: the seed's two hours (the sooner when the fix
			// is uncertain too).
			if !t.uncertainFix || c.policy.UntestedCallbackMinutes < after {
				after = c.policy.UntestedCallbackMinutes
			}
			c.data["test_run_skipped"] = true
		}
		detail := map[string]any{"customer_total": total, "waivers": codes, "test_run": in.TestRun}
		if receipt != nil {
			detail["receipt_number"] = receipt.Number
			if receipt.Invoice != nil {
				detail["invoice_delivery"] = receipt.Invoice.Delivery
			}
		}
		c.moveTo(StateCompleted, "", detail)
		c.startSLA(SLACallback, minutes(after))
		return nil
	})
}

// SignoffCodeTTL is how long a sign-off code stays valid.
const SignoffCodeTTL = 15 * time.Minute

// PurposeSignoffCode names the sign-off code's notification (an essential
// message: sent even to customers who opted out).
const PurposeSignoffCode = notifications.PurposeSignoffCode

func codeHash(ticketID, code string) string {
	h := sha256.Sum256([]byte(ticketID + ":" + code))
	return hex.EncodeToString(h[:])
}

// SendSignoffCode sends the customer a fresh one-time code (six digits,
// valid 15 minutes, five attempts); only its hash is stored on the ticket.
// The code goes out as a notification requested in the same transaction
// (notifications.Service.RequestTx): through the tenant's SMS gateway, or,
// without one, through the notification.requested event. The ticket's
// signoff.delivery shows how it is going.
func (s *Service) SendSignoffCode(ctx context.Context, p tenants.Principal, id string, ifVersion int) (Ticket, error) {
	return s.act(ctx, p, id, ifVersion, ActSendCode, func(c *change) error {
		t := c.T
		if t.Signoff.SignedOffAt != nil {
			return tenants.ErrorMsg(tenants.CodeConflict, i18n.M("tickets.already_signed_off"))
		}
		n, err := rand.Int(rand.Reader, big.NewInt(1_000_000))
		if err != nil {
			return err
		}
		code := fmt.Sprintf("%06d", n.Int64())
		h := codeHash(t.ID, code)
		now, exp := c.now, c.now.Add(SignoffCodeTTL)
		t.signoffHash, t.signoffAttempts = &h, 0
		t.Signoff.CodeSentAt, t.Signoff.CodeExpiresAt = &now, &exp
		detail := map[string]any{"expires_at": exp}
		d, err := s.notify.NotifyTx(ctx, c.tx, c.p.Subject(), notifications.Notice{Purpose: PurposeSignoffCode,
			SubjectID: t.ID, To: t.Contact.Phone,
			Params: map[string]any{"ticket_id": t.ID, "ticket_number": t.Number, "expires_at": exp,
				"minutes": int(SignoffCodeTTL / time.Minute)},
			Secret: map[string]any{"code": code}, ExpiresAt: &exp, TestClockID: c.clock})
		if err != nil {
			return err
		}
		t.Signoff.Delivery = d
		if err := c.notified(ctx, PurposeSignoffCode, d); err != nil {
			return err
		}
		detail["notification_id"], detail["via"], detail["delivery_status"] = d.NotificationID, d.Via, d.Status
		c.data["notification_id"], c.data["via"] = d.NotificationID, d.Via
		c.note("code sent to the customer's phone", detail)
		if s.codes != nil {
			return s.codes.SendSignoffCode(ctx, c.tx.TenantID, t.ID, t.Contact.Phone, code)
		}
		return nil
	})
}

// SignOffInput is the customer's sign-off: a rating, or the customer's
// refusal to sign (Declined), exactly one; a comment goes with a rating.
type SignOffInput struct {
	Code     string `json:"code,omitempty" pattern:"^[0-9]{6}$" doc:"The one-time code the customer received. Without it a rating is recorded unconfirmed (the daily reconciliation flags it); a declined sign-off has none (422 at code)." example:"482913"`
	Rating   int    `json:"rating,omitempty" minimum:"1" maximum:"5" doc:"The customer's rating, 1-5; required unless declined (422 at rating without either, at declined with both). 1 or 2 is a customer not satisfied: the callback is brought forward to the policy's uncertain_callback_minutes after the sign-off." example:"5"`
	Declined bool   `json:"declined,omitempty" doc:"The customer declined to sign and rate (seed 000: 如果用户不填意见和签名,不要强迫用户签名): recorded as the sign-off with no rating, no code and no comment (422 at code, at comment), by the key that records it, once the sign-off code was sent to the customer (the customer asked in their own channel; before, 409 at declined). The ticket goes on (the callback as the completion set it), the daily reconciliation does not flag it as no_signoff, and the quality scorecards count it per node and technician (signoff_declined_rate)." example:"false"`
	Comment  string `json:"comment,omitempty" maxLength:"1000" doc:"The customer's comment, with a rating; a declined sign-off has none (422 at comment: a customer who declines gives neither opinion nor signature)." example:"师傅很专业"`
}

// UnsatisfiedRating is the highest sign-off rating of a customer not
// satisfied: 1 or 2.
const UnsatisfiedRating = 2

// SignOff records the customer's sign-off and rating, confirmed by the
// one-time code, or that the customer declined to sign (seed 000: 不要强迫
// 用户签名): no rating, no code, no comment (不填意见和签名), and only once
// the sign-off code was sent to the customer (SendSignoffCode), so the
// customer was asked in their own channel and a technician cannot stand
// in for them (七.2: 满意非用户所签): a conflict at declined before. A
// rating and declined together, or neither, or declined with a code or a
// comment, are invalid (declined, rating, code, comment) before anything
// is read. A wrong code uses up an attempt (and is refused); five wrong
// codes or an expired code need a new code. A customer not satisfied (a rating up to
// UnsatisfiedRating) is followed up until satisfied (seed 000: 用户不满意
// 则跟踪服务直至用户满意为止) by the callback, whose outcome closes or
// reopens the ticket: it is brought forward to the policy's
// uncertain_callback_minutes after the sign-off when that is sooner.
func (s *Service) SignOff(ctx context.Context, p tenants.Principal, id string, in SignOffInput, ifVersion int) (Ticket, error) {
	switch {
	case in.Declined && in.Rating != 0:
		return Ticket{}, tenants.InvalidMsg("declined", i18n.M("tickets.signoff_rating_or_declined"), in.Declined)
	case in.Declined && in.Code != "":
		return Ticket{}, tenants.InvalidMsg("code", i18n.M("tickets.signoff_declined_no_code"), nil)
	case in.Declined && in.Comment != "":
		return Ticket{}, tenants.InvalidMsg("comment", i18n.M("tickets.signoff_declined_no_comment"), in.Comment)
	case !in.Declined && in.Rating == 0:
		return Ticket{}, tenants.InvalidMsg("rating", i18n.M("tickets.signoff_rating_or_declined"), nil)
	}
	return s.act(ctx, p, id, ifVersion, ActSignOff, func(c *change) error {
		t := c.T
		if t.Signoff.SignedOffAt != nil {
			return tenants.ErrorMsg(tenants.CodeConflict, i18n.M("tickets.already_signed_off"))
		}
		now, by := c.now, c.p.Subject()
		if in.Declined {
			if t.Signoff.CodeSentAt == nil {
				m := i18n.M("tickets.signoff_declined_not_asked")
				return tenants.ErrorMsg(tenants.CodeConflict, m).With(tenants.FieldMsg("declined", m, true))
			}
			t.Signoff.SignedOffAt, t.Signoff.Declined, t.Signoff.RecordedBy = &now, true, &by
			t.signoffHash = nil
			c.data["declined"] = true
			c.note("the customer declined to sign", map[string]any{"declined": true})
			return nil
		}
		if in.Code != "" {
			switch {
			case t.signoffHash == nil:
				return tenants.InvalidMsg("code", i18n.M("tickets.no_code_sent"), nil)
			case t.signoffAttempts >= MaxSignoffAttempts:
				return tenants.InvalidMsg("code", i18n.M("tickets.too_many_wrong_codes"), nil)
			case !c.now.Before(*t.Signoff.CodeExpiresAt):
				return tenants.InvalidMsg("code", i18n.M("tickets.code_expired"), nil)
			case subtle.ConstantTimeCompare([]byte(codeHash(t.ID, in.Code)), []byte(*t.signoffHash)) != 1:
				t.signoffAttempts++
				c.note("wrong sign-off code", map[string]any{"attempts_left": MaxSignoffAttempts - t.signoffAttempts})
				c.fail = tenants.InvalidMsg("code", i18n.M("tickets.wrong_code", "Left", MaxSignoffAttempts-t.signoffAttempts), nil)
				return nil
			}
		}
		rating := in.Rating
		t.Signoff.SignedOffAt, t.Signoff.ConfirmedByCode, t.Signoff.Rating = &now, in.Code != "", &rating
		t.Signoff.RecordedBy = &by
		if in.Comment != "" {
			t.Signoff.Comment = &in.Comment
		}
		t.signoffHash = nil
		c.data["rating"], c.data["confirmed_by_code"] = rating, in.Code != ""
		detail := map[string]any{"rating": rating, "confirmed_by_code": in.Code != ""}
		if rating > UnsatisfiedRating {
			c.note("", detail)
			return nil
		}
		if due := t.SLA.CallbackDueAt; due == nil || now.Add(minutes(c.policy.UncertainCallbackMinutes)).Before(*due) {
			c.startSLA(SLACallback, minutes(c.policy.UncertainCallbackMinutes))
		}
		c.data["callback_due_at"], detail["callback_due_at"] = *t.SLA.CallbackDueAt, *t.SLA.CallbackDueAt
		c.note("customer not satisfied (rating "+itoa(rating)+"): followed up by the callback until satisfied", detail)
		return nil
	})
}
