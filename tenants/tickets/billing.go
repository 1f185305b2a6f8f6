package tickets

import (
	"context"
	"errors"
	"slices"
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

// SettledPart is a part of the ticket's requisition as a completion
// settled it: cumulative counts, all billed by then.
type SettledPart struct {
	PartID string `json:"part_id" example:"prt_01jd3zq8w6v7t3y2k9x4n5m6pd"`
	Issued int    `json:"issued" doc:"Issued for the ticket by the completion." example:"1"`
	Used   int    `json:"used" doc:"Fitted to the unit by the completion, and billed." example:"1"`
}

// settledNow is the ticket's requisition lines, parts, as a completion
// settles them: those issued or fitted.
func settledNow(parts []stock.TicketPart) []SettledPart {
	var out []SettledPart
	for _, p := range parts {
		if p.Issued > 0 || p.Used > 0 {
			out = append(out, SettledPart{PartID: p.PartID, Issued: p.Issued, Used: p.Used})
		}
	}
	return out
}

// settledParts is what the ticket's last completion (a reopened ticket's)
// settled of its requisition, by part: what its lines had issued and
// fitted then, billed by that completion or one before it (PartsSettled).
// Empty when the ticket was never completed.
func (t *Ticket) settledParts() map[string]SettledPart {
	settled := map[string]SettledPart{}
	if t.Completion != nil {
		for _, p := range t.Completion.PartsSettled {
			settled[p.PartID] = p
		}
	}
	return settled
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
// is billed as quoted nothing changes. A reopened ticket's round bills
// what it issued and fitted beyond what an earlier completion settled
// (settled): a part fitted and billed in the first round is not billed
// again by the next.
func billUsedParts(ctx context.Context, c *change, used []stock.TicketPart, settled map[string]SettledPart, today string) ([]BilledPart, error) {
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
		before := settled[u.PartID]
		issued, fitted := u.Issued-before.Issued, max(u.Used-before.Used, 0) // this round's
		if (issued <= 0 && fitted == 0) || fitted == quoted[u.PartID] {
			continue // nothing went through the requisition this round, or fitted as quoted
		}
		billed = append(billed, BilledPart{PartID: u.PartID, PartNumber: u.PartNumber, Quoted: quoted[u.PartID], Used: fitted})
		if i, ok := at[u.PartID]; ok {
			parts[i].Quantity = fitted
		} else {
			at[u.PartID] = len(parts)
			parts = append(parts, catalog.QuotePart{PartID: u.PartID, Quantity: fitted})
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

// refundPayer is who owes the refund of unit u's return allowed on
// basis: a seven-day no-reason return is the storefront's promise for its
// own sale (rule 9; seeds, 天猫特色服务: 七天无理由退换货 — the seller takes
// the unit back and refunds it, the buyer bearing only the freight of a
// change of mind), so its seller pays it, as it does for the wrong goods
// it sold (wrongGoods: its error, not the product's); a return for a fault
// (statutory return) stays the brand's.
func refundPayer(basis entitlement.Basis, wrongGoods bool, u customers.Unit) string {
	if basis == entitlement.BasisNoReasonReturn || wrongGoods {
		return sellerPayer(u)
	}
	return ""
}

// sellerPayer is who owes what the seller of unit u owes (rule 9; seed 002,
// 运费承担: 谁有错谁负责 … 卖家承担): the storefront that sold it
// (payouts.PayerStorefront), else the brand, whose own store sold it or
// that recorded no storefront ("", the brand).
func sellerPayer(u customers.Unit) string {
	if u.StorefrontID != nil {
		return payouts.PayerStorefront
	}
	return ""
}
