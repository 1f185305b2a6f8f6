package tickets_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/servicenet/servicenet/tenants"
	"github.com/servicenet/servicenet/tenants/payouts"
	"github.com/servicenet/servicenet/tenants/tickets"
)

// Rule 9: a storefront sale returned for a change of mind on day 5, the
// unit resaleable, is refunded its purchase price (2,999.00) by the
// storefront that sold it (the seller's seven-day no-reason return); the
// buyer pays the freight. The payout, its event and the storefront's view
// all say so.
func TestRolledBackNoReasonReturnIsRefundedByTheStorefront(t *testing.T) {
	e := newMoneyEnv(t)
	unit := e.unit(t, 4, true)
	tk := e.onSite(t, "return", unit, -6)
	_, err := e.Tickets.PickUp(e.Ctx, e.Admin, tk.ID, tickets.PickupInput{Note: "原包装完好"}, 0)
	require.NoError(t, err)
	tk, err = e.Tickets.Inspect(e.Ctx, e.Admin, tk.ID, tickets.InspectionInput{Resellable: true, FaultConfirmed: false}, 0)
	require.NoError(t, err)
	require.Equal(t, "no_reason_return", string(tk.Entitlement.Decision.Basis))
	tk, err = e.Tickets.RecordOutcome(e.Ctx, e.Admin, tk.ID, tickets.OutcomeInput{Outcome: "refund"}, 0)
	require.NoError(t, err)
	out := tk.Service.Outcome
	require.Equal(t, int64(299900), out.Refund.Amount, "the purchase price")
	require.Equal(t, "buyer", out.Freight.Payer, "a change of mind: the buyer pays the freight")
	require.Zero(t, tk.CustomerTotal.Amount)

	p, err := e.Payouts.GetPayout(e.Ctx, e.Admin, *out.PayoutID)
	require.NoError(t, err)
	require.Equal(t, payouts.PayerStorefront, p.Payer, "the seller refunds its no-reason return")
	require.Equal(t, int64(299900), p.Amount.Amount)
	require.NotNil(t, p.StorefrontID)
	require.Equal(t, e.storefront, *p.StorefrontID)
	require.Nil(t, p.ContractID)
	require.Equal(t, 1, e.Count(t, `SELECT count(*) FROM events WHERE tenant_id = $1 AND type = 'payout.scheduled'
		AND subject_id = $2 AND data->>'payer' = 'storefront'`, p.ID), "the event names the storefront as payer")

	sf := e.As(tenants.Principal{StorefrontID: e.storefront}, tenants.RoleStorefront)
	mine, err := e.Payouts.GetPayout(e.Ctx, sf, p.ID)
	require.NoError(t, err, "the storefront sees what it owes")
	require.Equal(t, payouts.PayerStorefront, mine.Payer)
	paid, err := e.Payouts.MarkPaid(e.Ctx, e.Admin, p.ID, "ALIPAY-RET-1", 0)
	require.NoError(t, err)
	require.Equal(t, payouts.StatePaid, paid.State)
	require.Equal(t, payouts.PayerStorefront, paid.Payer)
}

// Rule 1 (statutory return): a performance fault on day 5 is returned too,
// but the fault is the product's: the brand refunds it, not the seller.
func TestRolledBackStatutoryReturnIsRefundedByTheBrand(t *testing.T) {
	e := newMoneyEnv(t)
	tk := e.onSite(t, "return", e.unit(t, 4, true), -6)
	_, err := e.Tickets.PickUp(e.Ctx, e.Admin, tk.ID, tickets.PickupInput{}, 0)
	require.NoError(t, err)
	tk, err = e.Tickets.Inspect(e.Ctx, e.Admin, tk.ID, tickets.InspectionInput{Resellable: true, FaultConfirmed: true, Cause: "performance"}, 0)
	require.NoError(t, err)
	require.Equal(t, "statutory_return", string(tk.Entitlement.Decision.Basis))
	tk, err = e.Tickets.RecordOutcome(e.Ctx, e.Admin, tk.ID, tickets.OutcomeInput{Outcome: "refund"}, 0)
	require.NoError(t, err)
	p, err := e.Payouts.GetPayout(e.Ctx, e.Admin, *tk.Service.Outcome.PayoutID)
	require.NoError(t, err)
	require.Equal(t, payouts.PayerBrand, p.Payer)
	require.Equal(t, int64(299900), p.Amount.Amount)
	require.Equal(t, "seller", tk.Service.Outcome.Freight.Payer, "a fault: the seller pays the freight")
}

// Rule 9 (seed: 商品描述不符 … 卖家承担): wrong goods, in good condition, are
// the seller's error, not the buyer's change of mind. Returned on day 5,
// the storefront that sold them refunds the purchase price (2,999.00) and
// the seller pays the freight; recorded as no fault they would have been
// a change of mind at the buyer's freight.
func TestRolledBackWrongGoodsReturnedAtTheSellersCost(t *testing.T) {
	e := newMoneyEnv(t)
	tk := e.onSite(t, "return", e.unit(t, 4, true), -6)
	_, err := e.Tickets.PickUp(e.Ctx, e.Admin, tk.ID, tickets.PickupInput{Note: "颜色与订单不符"}, 0)
	require.NoError(t, err)
	tk, err = e.Tickets.Inspect(e.Ctx, e.Admin, tk.ID, tickets.InspectionInput{Resellable: true, WrongGoods: true}, 0)
	require.NoError(t, err)
	require.True(t, tk.Service.Inspection.WrongGoods)
	require.Equal(t, "seller", tk.Entitlement.Decision.Freight.Payer, "%+v", tk.Entitlement.Decision.Freight)
	tk, err = e.Tickets.RecordOutcome(e.Ctx, e.Admin, tk.ID, tickets.OutcomeInput{Outcome: "refund"}, 0)
	require.NoError(t, err)
	out := tk.Service.Outcome
	require.Equal(t, int64(299900), out.Refund.Amount, "the purchase price")
	require.Equal(t, "seller", out.Freight.Payer, "wrong goods: the seller pays the freight")
	p, err := e.Payouts.GetPayout(e.Ctx, e.Admin, *out.PayoutID)
	require.NoError(t, err)
	require.Equal(t, payouts.PayerStorefront, p.Payer, "the seller's error: the storefront refunds")
	require.Equal(t, int64(299900), p.Amount.Amount)
	require.Equal(t, e.storefront, *p.StorefrontID)
}
