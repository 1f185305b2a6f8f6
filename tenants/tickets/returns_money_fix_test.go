package tickets_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/servicenet/servicenet/tenants"
	"github.com/servicenet/servicenet/tenants/payouts"
	"github.com/servicenet/servicenet/tenants/tickets"
)

// inspectedReturn takes a return ticket for a washer bought 4 days ago
// for 2,999.00 from the demo storefront through pickup and inspection:
// a performance fault (statutory return, rule 1) when fault, else a
// change of mind (seven-day no-reason return, rule 9).
func (e *moneyEnv) inspectedReturn(t *testing.T, fault bool) tickets.Ticket {
	t.Helper()
	return e.inspected(t, "return", fault, true)
}

// inspected is inspectedReturn for a ticket of typ (return or exchange)
// and a washer sold by the demo storefront when storefront, else by the
// brand's own store.
func (e *moneyEnv) inspected(t *testing.T, typ string, fault, storefront bool) tickets.Ticket {
	t.Helper()
	tk := e.onSite(t, typ, e.unit(t, 4, storefront), -6)
	_, err := e.Tickets.PickUp(e.Ctx, e.Admin, tk.ID, tickets.PickupInput{Note: "原包装完好"}, 0)
	require.NoError(t, err)
	in := tickets.InspectionInput{Resellable: true}
	if fault {
		in.FaultConfirmed, in.Cause = true, "performance"
	}
	tk, err = e.Tickets.Inspect(e.Ctx, e.Admin, tk.ID, in, 0)
	require.NoError(t, err)
	return tk
}

// fieldError is err's one invalid field.
func fieldError(t *testing.T, err error) tenants.FieldError {
	t.Helper()
	require.Equal(t, tenants.CodeInvalid, tenants.ErrorCode(err), "%v", err)
	var te *tenants.Error
	require.ErrorAs(t, err, &te)
	require.Len(t, te.Fields, 1, "%v", err)
	return te.Fields[0]
}

// requireUnchanged asserts a refused outcome left the inspected ticket as
// it was: still carry_in at its version, no payout for its unit.
func (e *moneyEnv) requireUnchanged(t *testing.T, before tickets.Ticket) {
	t.Helper()
	tk, err := e.Tickets.Get(e.Ctx, e.Admin, before.ID)
	require.NoError(t, err)
	require.Equal(t, tickets.StateCarryIn, tk.State)
	require.Equal(t, before.Version, tk.Version)
	require.Nil(t, tk.Service.Outcome)
	require.Zero(t, e.Count(t, `SELECT count(*) FROM payouts WHERE tenant_id = $1 AND unit_id = $2`, *before.UnitID))
}

// Seed 000 (符合退机或换机条件的…应按用户要求给予退机) and rule 1: a unit
// with a performance fault on day 5 is returned for the price paid. A
// refund of 2,500.00 for the 2,999.00 paid is refused at refund.amount
// naming 299900, and nothing changes; without an amount the brand (the
// product's fault) refunds 2,999.00.
func TestReturnsMoneyFixStatutoryReturnRefundsThePricePaid(t *testing.T) {
	e := newMoneyEnv(t)
	tk := e.inspectedReturn(t, true)
	require.Equal(t, "statutory_return", string(tk.Entitlement.Decision.Basis))

	short := tenants.Money{Amount: 250000, Currency: "CNY"}
	_, err := e.Tickets.RecordOutcome(e.Ctx, e.Admin, tk.ID, tickets.OutcomeInput{Outcome: "refund", Refund: &short, Note: "包装破损"}, 0)
	f := fieldError(t, err)
	require.Equal(t, "refund.amount", f.Location)
	require.Contains(t, f.Message, "299900", "the message names the full amount")
	e.requireUnchanged(t, tk)

	tk, err = e.Tickets.RecordOutcome(e.Ctx, e.Admin, tk.ID, tickets.OutcomeInput{Outcome: "refund"}, 0)
	require.NoError(t, err)
	out := tk.Service.Outcome
	require.Equal(t, int64(299900), out.Refund.Amount)
	p, err := e.Payouts.GetPayout(e.Ctx, e.Admin, *out.PayoutID)
	require.NoError(t, err)
	require.Equal(t, payouts.PayerBrand, p.Payer, "a statutory return: the brand refunds")
	require.Equal(t, tenants.Money{Amount: 299900, Currency: "CNY"}, p.Amount)
	require.Nil(t, p.ContractID)
	require.Equal(t, 1, e.Count(t, `SELECT count(*) FROM payouts WHERE tenant_id = $1 AND unit_id = $2`, *tk.UnitID))
}

// Seed 002 (七天无理由退换货, 关于二次销售): the seven-day no-reason return
// takes back a unit fit for resale and names no deduction (the engine
// refuses one that is not resaleable; the buyer bears only the freight).
// A refund of 2,000.00 for the 2,999.00 paid is refused at refund.amount,
// nothing changes; the full 299900 named is refunded by the storefront.
func TestReturnsMoneyFixNoReasonReturnRefundsThePricePaid(t *testing.T) {
	e := newMoneyEnv(t)
	tk := e.inspectedReturn(t, false)
	require.Equal(t, "no_reason_return", string(tk.Entitlement.Decision.Basis))

	short := tenants.Money{Amount: 200000, Currency: "CNY"}
	_, err := e.Tickets.RecordOutcome(e.Ctx, e.Admin, tk.ID, tickets.OutcomeInput{Outcome: "refund", Refund: &short}, 0)
	f := fieldError(t, err)
	require.Equal(t, "refund.amount", f.Location)
	require.Contains(t, f.Message, "299900")
	e.requireUnchanged(t, tk)

	full := tenants.Money{Amount: 299900, Currency: "CNY"}
	tk, err = e.Tickets.RecordOutcome(e.Ctx, e.Admin, tk.ID, tickets.OutcomeInput{Outcome: "refund", Refund: &full}, 0)
	require.NoError(t, err)
	p, err := e.Payouts.GetPayout(e.Ctx, e.Admin, *tk.Service.Outcome.PayoutID)
	require.NoError(t, err)
	require.Equal(t, payouts.PayerStorefront, p.Payer, "the seller's seven-day promise: the storefront refunds")
	require.Equal(t, full, p.Amount)
	require.Equal(t, e.storefront, *p.StorefrontID)
}

// Rule 9 (seed 002, 运费承担: 谁有错谁负责; 商品质量问题 … 卖家承担 运费):
// the customer who paid 12.00 to send back a unit with a performance fault
// on day 5 is reimbursed it by the seller, in the same outcome: a payout
// of 12.00 to the customer owed by the storefront that sold the unit, or
// by the brand when its own store sold it. Who refunds is unchanged: a
// statutory return is the brand's (rule 1), whoever sold the unit; a
// statutory exchange is a swap, so the freight is the only payout. The
// freight payout's id is on the outcome and in the event.
func TestReturnsMoneyFixSellerFreightIsReimbursed(t *testing.T) {
	for _, c := range []struct {
		name, typ, outcome string
		storefront         bool
		payer              string
	}{
		{"RefundOfAStorefrontSaleFreightFromTheStorefront", "return", "refund", true, payouts.PayerStorefront},
		{"RefundOfABrandStoreSaleFreightFromTheBrand", "return", "refund", false, payouts.PayerBrand},
		{"ExchangeOfAStorefrontSaleFreightFromTheStorefront", "exchange", "exchange", true, payouts.PayerStorefront},
		{"ExchangeOfABrandStoreSaleFreightFromTheBrand", "exchange", "exchange", false, payouts.PayerBrand},
	} {
		t.Run(c.name, func(t *testing.T) {
			e := newMoneyEnv(t)
			tk := e.inspected(t, c.typ, true, c.storefront)
			require.Equal(t, "seller", tk.Entitlement.Decision.Freight.Payer)

			freight := tenants.Money{Amount: 1200, Currency: "CNY"}
			tk, err := e.Tickets.RecordOutcome(e.Ctx, e.Admin, tk.ID, tickets.OutcomeInput{Outcome: c.outcome, Freight: &freight}, 0)
			require.NoError(t, err)
			out := tk.Service.Outcome
			require.NotNil(t, out.FreightPayoutID, "the freight's payout")
			require.Equal(t, freight, *out.FreightAmount)
			fp, err := e.Payouts.GetPayout(e.Ctx, e.Admin, *out.FreightPayoutID)
			require.NoError(t, err)
			require.Equal(t, freight, fp.Amount, "the customer's 12.00 shipping")
			require.Equal(t, c.payer, fp.Payer, "a quality fault: the seller pays the freight")
			require.Equal(t, *tk.UnitID, fp.UnitID)
			require.Nil(t, fp.ContractID)
			if c.storefront {
				require.NotNil(t, fp.StorefrontID)
				require.Equal(t, e.storefront, *fp.StorefrontID, "the storefront that sold the unit")
			} else {
				require.Nil(t, fp.StorefrontID)
			}
			payouts := 1
			if c.outcome == "refund" {
				require.Equal(t, "statutory_return", out.Basis)
				e.requireStatutoryRefund(t, tk, tenants.Money{Amount: 299900, Currency: "CNY"})
				payouts = 2
			} else {
				require.Equal(t, "statutory_exchange", out.Basis)
				require.NotNil(t, out.SwapID)
			}
			require.Equal(t, payouts, e.Count(t, `SELECT count(*) FROM payouts WHERE tenant_id = $1 AND unit_id = $2`, *tk.UnitID),
				"the refund, if any, and the freight")
			require.Equal(t, 1, e.Count(t, `SELECT count(*) FROM events WHERE tenant_id = $1 AND subject_id = $2
				AND data->>'freight_payout_id' = $3 AND data->'freight_amount'->>'amount' = '1200'`, tk.ID, fp.ID),
				"the outcome's event names the freight payout and its 12.00")
		})
	}
}

// Rule 9 (seed 002: 因买家自身的原因导致的退换货 … 买家承担): a change of
// mind's freight is the buyer's. A freight of 25.00 on the seven-day
// no-reason return is refused at freight (nothing to reimburse), and
// nothing changes; the same outcome without it refunds 2,999.00 and no
// freight.
func TestReturnsMoneyFixBuyerFreightIsRefused(t *testing.T) {
	e := newMoneyEnv(t)
	tk := e.inspectedReturn(t, false)
	require.Equal(t, "buyer", tk.Entitlement.Decision.Freight.Payer)

	freight := tenants.Money{Amount: 2500, Currency: "CNY"}
	_, err := e.Tickets.RecordOutcome(e.Ctx, e.Admin, tk.ID, tickets.OutcomeInput{Outcome: "refund", Freight: &freight}, 0)
	f := fieldError(t, err)
	require.Equal(t, "freight", f.Location)
	require.Contains(t, f.Message, "buyer")
	e.requireUnchanged(t, tk)

	tk, err = e.Tickets.RecordOutcome(e.Ctx, e.Admin, tk.ID, tickets.OutcomeInput{Outcome: "refund"}, 0)
	require.NoError(t, err)
	require.Nil(t, tk.Service.Outcome.FreightPayoutID)
	require.Equal(t, 1, e.Count(t, `SELECT count(*) FROM payouts WHERE tenant_id = $1 AND unit_id = $2`, *tk.UnitID))
}
