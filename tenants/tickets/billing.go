package tickets

import (
	"context"
	"errors"
	"slices"
	"strconv"
	"strings"

	"github.com/servicenet/servicenet/internal/i18n"
	"github.com/servicenet/servicenet/tenants"
	"github.com/servicenet/servicenet/tenants/catalog"
	"github.com/servicenet/servicenet/tenants/customers"
	"github.com/servicenet/servicenet/tenants/payouts"
	"github.com/servicenet/servicenet/tenants/stock"
	"github.com/servicenet/servicenet/tenants/warranty/entitlement"
)

// BilledPart is a part the completion bills in another quantity than the
// diagnosis quote listed: fitted through the ticket's requisition (/parts)
// more or fewer times than quoted, or not quoted at all.
type BilledPart struct {
	PartID     string `json:"part_id" example:"prt_01jd3zq8w6v7t3y2k9x4n5m6pd"`
	PartNumber string `json:"part_number" example:"0021800078A"`
	Quoted     int    `json:"quoted" doc:"How many the diagnosis quote listed." example:"0"`
	Used       int    `json:"used" doc:"How many were fitted through the requisition: the quantity billed (0: none, the part is not billed)." example:"1"`
}

// CompensationPayout is the payout a plan owes for the completed repair
// (rule 7: the no-reason plan's satisfaction compensation).
type CompensationPayout struct {
	PayoutID string        `json:"payout_id" example:"pay_01jd3zq8w6v7t3y2k9x4n5m6pb"`
	Amount   tenants.Money `json:"amount"`
	DueOn    string        `json:"due_on" format:"date" doc:"Pay by the end of this day: business days after the repair in the tenant's zone and holiday calendar." example:"2026-12-08"`
	Payer    string        `json:"payer" enum:"plan,brand" doc:"Who owes it." example:"plan"`
	// Existing: the repair's compensation was already owed (an earlier
	// completion of this ticket, or a claim for the same repair).
	Existing bool `json:"existing" doc:"The payout already existed for this repair (an earlier completion of the ticket or a claim for it): nothing new was scheduled." example:"false"`
}

// billUsedParts makes the ticket's quote bill the parts fitted, used being
// the ticket's requisition lines (seed 000: 严格按收费标准进行收费; seed
// 001: 未按照标准乱收费…免单). A part that went
// through the ticket's requisition (issued to the technician) is billed in
// the quantity fitted (used), more or fewer than the diagnosis quote lists:
// one returned to the shelf unused is not billed. A quoted part that never
// went through the requisition stays as quoted (the node may fit its own
// stock outside the system; the customer agreed to it). The quantities go,
// at the diagnosis quote's price list version, into a new stored quote
// that becomes the ticket's quote (catalog.Requote): a quoted part keeps
// the unit price the diagnosis showed, though the catalog's price changed
// since; a part beyond the quote is priced now. It returns the parts
// billed in another quantity than quoted. Billing fewer than shown needs
// no new consent; billing more is guarded by chargesShown. When every part
// is billed as quoted nothing changes.
func billUsedParts(ctx context.Context, c *change, used []stock.TicketPart, today string) ([]BilledPart, error) {
	t := c.T
	if t.QuoteID == nil || len(used) == 0 {
		return nil, nil
	}
	q, err := catalog.LoadQuote(ctx, c.tx, *t.QuoteID)
	if err != nil {
		return nil, err
	}
	quoted := map[string]int{}
	var parts []catalog.QuotePart
	at := map[string]int{}
	for _, l := range q.Lines {
		if l.Kind != catalog.LinePart {
			continue
		}
		if i, ok := at[l.PartID]; ok {
			parts[i].Quantity += l.Quantity
		} else {
			at[l.PartID] = len(parts)
			parts = append(parts, catalog.QuotePart{PartID: l.PartID, Quantity: l.Quantity})
		}
		quoted[l.PartID] += l.Quantity
	}
	var billed []BilledPart
	for _, u := range used {
		if u.Issued == 0 || u.Used == quoted[u.PartID] {
			continue // never left the shelf for the ticket, or fitted as quoted
		}
		billed = append(billed, BilledPart{PartID: u.PartID, PartNumber: u.PartNumber, Quoted: quoted[u.PartID], Used: u.Used})
		if i, ok := at[u.PartID]; ok {
			parts[i].Quantity = u.Used
		} else {
			at[u.PartID] = len(parts)
			parts = append(parts, catalog.QuotePart{PartID: u.PartID, Quantity: u.Used})
		}
	}
	if len(billed) == 0 {
		return nil, nil
	}
	parts = slices.DeleteFunc(parts, func(p catalog.QuotePart) bool { return p.Quantity == 0 })
	nq, err := catalog.Requote(ctx, c.tx, q, parts, today)
	if err != nil {
		var te *tenants.Error
		if errors.As(err, &te) && te.Code == tenants.CodeInvalid {
			var why any = te.Message
			if te.Msg != nil {
				why = *te.Msg
			}
			return nil, tenants.ErrorMsg(tenants.CodeConflict, i18n.M("tickets.parts_not_priced", "Reason", why))
		}
		return nil, err
	}
	t.QuoteID = &nq.ID
	return billed, nil
}

// chargesShown refuses a completion whose decision d would charge the
// customer for parts fitted beyond the diagnosis quote (billed parts used
// more often than quoted; fewer than quoted needs no new consent): the
// customer was shown the price list for that quote only, and the seeds
// charge only what was shown (seed 000: 征得用户同意并出示收费标准; 如果使用备件
// 要给用户出示备件费用). The technician diagnoses again with the parts, and
// that diagnosis's price_list_shown decides, as rule 8 does for every
// quote: shown, the customer pays them; not shown, the service is free
// (price_list_not_shown). Parts the brand or a plan pays, or a promise
// already waived (late arrival, the price list never shown), complete as
// before. It is a conflict naming the parts and the diagnosis's fields.
func chargesShown(d entitlement.Decision, billed []BilledPart) error {
	if len(billed) == 0 {
		return nil
	}
	unshown := map[string]bool{}
	for _, b := range billed {
		if b.Used > b.Quoted {
			unshown[b.PartNumber] = true
		}
	}
	var parts []string
	for _, l := range d.Lines {
		if l.Kind == entitlement.LinePart && unshown[l.Code] && l.CustomerPays.Amount > 0 && !slices.Contains(parts, l.Code) {
			parts = append(parts, l.Code)
		}
	}
	if len(parts) == 0 {
		return nil
	}
	return tenants.ErrorMsg(tenants.CodeConflict, i18n.M("tickets.parts_charge_not_shown", "Parts", strings.Join(parts, ", ")))
}

// scheduleCompensation schedules the compensation decision d owes for the
// ticket's repair on today, once per repair (see
// payouts.Service.ScheduleCompensation); nil when it owes none.
func (s *Service) scheduleCompensation(ctx context.Context, c *change, d entitlement.Decision, today string) (*CompensationPayout, error) {
	if d.Compensation == nil || d.ContractID == "" || c.T.UnitID == nil {
		return nil, nil
	}
	po, created, err := s.payouts.ScheduleCompensation(ctx, c.tx, c.p.Subject(), payouts.Compensation{UnitID: *c.T.UnitID,
		ContractID: d.ContractID, TicketID: c.T.ID, Amount: d.Compensation.Amount, Reason: d.Compensation.Reason, RepairedOn: today,
		TestClockID: c.T.TestClockID})
	if err != nil {
		return nil, err
	}
	return &CompensationPayout{PayoutID: po.ID, Amount: po.Amount, DueOn: po.DueOn, Payer: d.Compensation.Payer, Existing: !created}, nil
}

// refundEarlierCharge schedules, in the completion's transaction, the
// refund of what an earlier completion of the same ticket charged the
// customer beyond what this completion d charges: a service reopened and
// completed again may have become free (rule 8: a repeat visit caused by
// the network makes the whole service free), and the customer had paid the
// first settlement. The brand pays it (payouts.RefundWaivedCharge). It
// returns the payout's id, or "" when nothing is owed back: no earlier
// completion, or it charged no more (a waiver after a complaint already set
// its customer total to zero when it refunded it).
func (s *Service) refundEarlierCharge(ctx context.Context, c *change, prev *Completion, d entitlement.Decision) (string, error) {
	if prev == nil || c.T.UnitID == nil {
		return "", nil
	}
	owed := prev.Totals.Customer.Amount - d.Totals.Customer.Amount
	if owed <= 0 {
		return "", nil
	}
	var codes []string
	for _, p := range d.Promises {
		if p.Waives {
			codes = append(codes, p.Code)
		}
	}
	reason := "refund of charges paid at an earlier completion of ticket " + c.T.Number
	if len(codes) > 0 {
		reason += ": the service is free (" + strings.Join(codes, ", ") + ")"
	}
	po, err := s.payouts.RefundWaivedCharge(ctx, c.tx, *c.T.UnitID, c.T.TestClockID,
		tenants.Money{Amount: owed, Currency: prev.Totals.Customer.Currency}, reason, c.p.Subject())
	if err != nil {
		return "", err
	}
	// The unit's history: what the customer pays for the service is now
	// the new completion's record; the earlier one was not a paid repair
	// (rule 8's repeat-repair promise counts from a paid one).
	return po.ID, customers.SettleServiceTx(ctx, c.tx, *c.T.UnitID, c.T.Number,
		tenants.Money{Amount: 0, Currency: prev.Totals.Customer.Currency})
}

// refundCancelledRepeat settles, in the cancellation's transaction, the
// charges of a reopened ticket cancelled after the network came again: a
// network visit (one that got to work, or an attempt the technician was
// late for) in the reopened round, after one in an earlier round. The
// service then took several visits, and Midea's promise 2 (一次就好、多次免单:
// 多次上门的,则本次服务给用户免单; 免单: 本次服务产生的维修及备件费用全部减免)
// makes the whole service free, as a completion after such a visit does
// (refundEarlierCharge): what the customer paid at the earlier completion
// moves to the brand, which refunds it (payouts.RefundWaivedCharge), the
// completion records the repeat_visit promise, and the unit's repair is no
// longer a paid one. Cancelled before the network came again, the service
// had one visit: the first repair was done and paid and stays so (the
// promise for a fault that comes back is a free repeat repair, 多次维修予以
// 免单, not a refund). It returns the refund's payout id, or "" when
// nothing is owed back (no completion, no repeat visit, or nothing the
// customer paid that a promise waives).
func (s *Service) refundCancelledRepeat(ctx context.Context, c *change) (string, error) {
	t := c.T
	comp := t.Completion
	if comp == nil || t.UnitID == nil || t.ReopenCount == 0 {
		return "", nil
	}
	visits, err := loadVisits(ctx, c.tx, t.ID)
	if err != nil {
		return "", err
	}
	var earlier, again bool
	for _, v := range visits {
		earlier = earlier || (v.NetworkVisit && v.Round < t.ReopenCount)
		again = again || (v.NetworkVisit && v.Round == t.ReopenCount)
	}
	if !earlier || !again {
		return "", nil
	}
	refund := tenants.Money{Amount: comp.waiveCustomerLines(), Currency: comp.Totals.Customer.Currency}
	if refund.Amount <= 0 {
		return "", nil
	}
	note := i18n.M("entitlement.repeat_visit")
	comp.Waivers = append(comp.Waivers, entitlement.Promise{Code: "repeat_visit", Waives: true, Action: "none",
		Note: note.Render(i18n.English), NoteI18n: &note})
	comp.Trace = append(comp.Trace, entitlement.TraceEntry{Rule: "R8.repeat_visit", Applied: true,
		Reason: "the network came again and the ticket was cancelled: the service is free; the customer's " +
			strconv.FormatInt(refund.Amount, 10) + " (minor units) is refunded, the brand pays it"})
	total := comp.Totals.Customer
	t.CustomerTotal = &total
	po, err := s.payouts.RefundWaivedCharge(ctx, c.tx, *t.UnitID, t.TestClockID, refund,
		"refund of charges paid at an earlier completion of ticket "+t.Number+
			": the network came again and the ticket was cancelled, the service is free (repeat_visit)", c.p.Subject())
	if err != nil {
		return "", err
	}
	c.data["refund"], c.data["refund_payout_id"] = refund, po.ID
	return po.ID, customers.SettleServiceTx(ctx, c.tx, *t.UnitID, t.Number, total)
}

// refundPayer is who owes the refund of a return allowed on basis: a
// seven-day no-reason return is the storefront's promise for its own sale
// (rule 9; seeds, 天猫特色服务: 七天无理由退换货 — the seller takes the unit back
// and refunds it, the buyer bearing only the freight of a change of mind),
// so the storefront that sold the unit pays it, as it does for the wrong
// goods it sold (sellersError: its error, not the product's); a return for
// a fault (statutory return) stays the brand's.
func refundPayer(basis entitlement.Basis, sellersError bool) string {
	if basis == entitlement.BasisNoReasonReturn || sellersError {
		return payouts.PayerStorefront
	}
	return ""
}
