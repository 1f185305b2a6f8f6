package tickets_test

import (
	"slices"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/servicenet/servicenet/internal/domaintest"
	"github.com/servicenet/servicenet/tenants"
	"github.com/servicenet/servicenet/tenants/complaints"
	"github.com/servicenet/servicenet/tenants/payouts"
	"github.com/servicenet/servicenet/tenants/tickets"
)

// Seed 000 (五.收费 4.其他): 如果保收费用户不交,或要求减免费用再修 … 如果用户
// 一再坚持则将信息处理结果报回中心,根据中心批示处理. The centre's decision on
// the customer's fee dispute reduces the customer's charges and the brand
// bears it (a goodwill reduction decided for the brand).
//
// A washer bought 1,500 days ago is out of warranty: rule 2 charges the
// customer the demo price list's labour 120.00 + visit fee 50.00 = 170.00
// and the brand nothing. The centre waives the visit fee (减免上门费):
// before the completion, the completion charges the customer 120.00 and
// the brand 50.00; after a completion the customer paid, 50.00 moves to
// the brand and comes back to the customer as one refund owed by the
// brand.
const (
	outOfWarrantyRepair = int64(washerLabour + washerVisit) // 170.00, the customer's
	reducedRepair       = int64(washerLabour)               // 120.00 once the visit fee is waived
)

// visitFeeWaived is the centre's 减免上门费.
var visitFeeWaived = tickets.ReduceChargesInput{Reduction: tickets.Reduction{Lines: []string{"visit"}}, Reason: "中心批示：客户坚持，减免上门费"}

// fiftyOff is the centre's reduction of 50.00.
func fiftyOff() tickets.ReduceChargesInput {
	amount := domaintest.CNY(washerVisit)
	return tickets.ReduceChargesInput{Reduction: tickets.Reduction{Amount: &amount}, Reason: "中心批示：减免 50 元"}
}

// upholdWithReduction resolves complaint id as justified with the centre's
// reduction red, and returns what ResolveWith returns.
func (e *moneyEnv) upholdWithReduction(id, resolution string, red tickets.Reduction) (complaints.ComplaintDetail, error) {
	return e.Complaints.ResolveWith(e.Ctx, e.Admin, id, complaints.ResolveInput{Resolution: resolution, Upheld: true, Reduction: &red}, 0)
}

// diagnosedOutOfWarranty is an out-of-warranty washer (1,500 days) visited
// on time and diagnosed (labour and the visit quoted), not completed.
func (e *moneyEnv) diagnosedOutOfWarranty(t *testing.T) tickets.Ticket {
	t.Helper()
	tk := e.onSite(t, "repair", e.unit(t, 1500, false), -6)
	tk = e.diagnoseWork(t, tk.ID)
	require.Nil(t, tk.Completion)
	return tk
}

// paidOutOfWarrantyRepair is that washer repaired and completed, the
// customer charged the 170.00.
func (e *moneyEnv) paidOutOfWarrantyRepair(t *testing.T) tickets.Ticket {
	t.Helper()
	tk := e.repairOnTime(t, e.unit(t, 1500, false))
	customer, brand, _ := totals(t, tk)
	require.Equal(t, outOfWarrantyRepair, customer)
	require.Zero(t, brand)
	return tk
}

// requireVisitFeeOnTheBrand asserts tk's completion charges the customer
// 120.00 and the brand 50.00, the completion naming the centre's one
// reduction and who approved it.
func requireVisitFeeOnTheBrand(t *testing.T, tk tickets.Ticket, approvedBy string) {
	t.Helper()
	customer, brand, plan := totals(t, tk)
	require.Equal(t, reducedRepair, customer, "the customer pays the labour 120.00")
	require.Equal(t, int64(washerVisit), brand, "the brand bears the visit fee 50.00")
	require.Zero(t, plan)
	require.Len(t, tk.Completion.Reductions, 1)
	r := tk.Completion.Reductions[0]
	if len(r.Lines) > 0 {
		// named, the visit line itself is the brand's (an amount is
		// taken from the lines in their order)
		for _, l := range tk.Completion.Lines {
			if l.Kind == "visit" {
				require.Zero(t, l.CustomerPays.Amount, "%+v", l)
				require.Equal(t, int64(washerVisit), l.BrandPays.Amount, "%+v", l)
				require.Equal(t, "brand", l.Payer)
			}
		}
	}
	require.Equal(t, domaintest.CNY(washerVisit), r.Amount)
	require.Equal(t, approvedBy, r.ApprovedBy)
	require.NotNil(t, r.AppliedAt)
	require.Len(t, tk.ChargeReductions, 1)
	require.NotNil(t, tk.ChargeReductions[0].AppliedAt)
}

// requireBrandRefund asserts the one payout of tk's unit: the 50.00
// refunded to the customer, owed by the brand.
func (e *moneyEnv) requireBrandRefund(t *testing.T, tk tickets.Ticket) payouts.Payout {
	t.Helper()
	ps := e.payoutsOf(t, tk)
	require.Len(t, ps, 1, "one refund")
	require.Equal(t, domaintest.CNY(washerVisit), ps[0].Amount)
	require.Equal(t, payouts.PayerBrand, ps[0].Payer)
	return ps[0]
}

func TestRolledBackCentreReducesCharges(t *testing.T) {
	t.Run("VisitFeeWaivedBeforeCompletion", func(t *testing.T) {
		e := newMoneyEnv(t)
		tk := e.diagnosedOutOfWarranty(t)
		tk, err := e.Tickets.ReduceCharges(e.Ctx, e.Admin, tk.ID, visitFeeWaived, 0)
		require.NoError(t, err)
		require.Len(t, tk.ChargeReductions, 1)
		require.Nil(t, tk.ChargeReductions[0].AppliedAt, "it waits for the completion")
		require.Equal(t, domaintest.CNY(washerVisit), tk.ChargeReductions[0].Amount)
		require.Nil(t, tk.Completion)

		tk = e.complete(t, tk.ID)
		requireVisitFeeOnTheBrand(t, tk, e.Admin.Subject())
		require.Empty(t, e.payoutsOf(t, tk), "nothing was paid: nothing is refunded")
		tl, err := e.Tickets.Timeline(e.Ctx, e.Admin, tk.ID)
		require.NoError(t, err)
		require.True(t, slices.ContainsFunc(tl, func(e tickets.TimelineEntry) bool { return e.Action == "charges_reduced" }))
	})

	t.Run("AfterAPaidCompletionTheBrandRefunds", func(t *testing.T) {
		e := newMoneyEnv(t)
		tk := e.paidOutOfWarrantyRepair(t)
		tk, err := e.Tickets.ReduceCharges(e.Ctx, e.Admin, tk.ID, fiftyOff(), 0)
		require.NoError(t, err)
		requireVisitFeeOnTheBrand(t, tk, e.Admin.Subject())
		refund := e.requireBrandRefund(t, tk)
		require.Equal(t, refund.ID, *tk.ChargeReductions[0].RefundPayoutID)
		history, _, err := e.Customers.ListHistory(e.Ctx, e.Admin, *tk.UnitID, 10, "")
		require.NoError(t, err)
		require.Len(t, history, 1)
		require.Equal(t, domaintest.CNY(reducedRepair), *history[0].Amount, "the repair's history keeps what the customer finally paid")
	})

	t.Run("BeyondWhatTheCustomerPaysIs422NothingChanged", func(t *testing.T) {
		e := newMoneyEnv(t)
		over := domaintest.CNY(outOfWarrantyRepair + 1)
		in := tickets.ReduceChargesInput{Reduction: tickets.Reduction{Amount: &over}, Reason: "超额"}
		for _, before := range []tickets.Ticket{e.diagnosedOutOfWarranty(t), e.paidOutOfWarrantyRepair(t)} {
			_, err := e.Tickets.ReduceCharges(e.Ctx, e.Admin, before.ID, in, 0)
			var te *tenants.Error
			require.ErrorAs(t, err, &te)
			require.Equal(t, tenants.CodeInvalid, te.Code)
			require.Equal(t, []string{"amount.amount"}, domaintest.Fields(t, err))
			after, err := e.Tickets.Get(e.Ctx, e.Admin, before.ID)
			require.NoError(t, err)
			require.Equal(t, before.Version, after.Version, "nothing changed")
			require.Empty(t, after.ChargeReductions)
			require.Empty(t, e.payoutsOf(t, after))
		}
		// the whole 170.00 is the most it may take
		whole := domaintest.CNY(outOfWarrantyRepair)
		tk, err := e.Tickets.ReduceCharges(e.Ctx, e.Admin, e.paidOutOfWarrantyRepair(t).ID,
			tickets.ReduceChargesInput{Reduction: tickets.Reduction{Amount: &whole}, Reason: "全免"}, 0)
		require.NoError(t, err)
		customer, brand, _ := totals(t, tk)
		require.Zero(t, customer)
		require.Equal(t, outOfWarrantyRepair, brand)
	})

	t.Run("ALineTheCustomerNoLongerPaysIs422", func(t *testing.T) {
		e := newMoneyEnv(t)
		tk := e.diagnosedOutOfWarranty(t)
		_, err := e.Tickets.ReduceCharges(e.Ctx, e.Admin, tk.ID, visitFeeWaived, 0)
		require.NoError(t, err)
		_, err = e.Tickets.ReduceCharges(e.Ctx, e.Admin, tk.ID, visitFeeWaived, 0)
		require.Equal(t, []string{"lines[0]"}, domaintest.Fields(t, err), "the visit fee is waived already")
		tk = e.complete(t, tk.ID)
		requireVisitFeeOnTheBrand(t, tk, e.Admin.Subject())
	})
}

// A fee complaint (seed 000: 要求减免费用) upheld with the centre's 50.00
// reduction moves the same money as the reduce-charges action; upheld
// without one, or rejected, it changes no money.
func TestRolledBackUpheldFeeComplaintReducesCharges(t *testing.T) {
	t.Run("AfterAPaidCompletionTheBrandRefunds", func(t *testing.T) {
		e := newMoneyEnv(t)
		tk := e.paidOutOfWarrantyRepair(t)
		c, err := e.upholdWithReduction(e.fileComplaint(t, tk, "fee", "客户认为上门费不合理，要求减免").ID, "中心批示：减免上门费 50 元", fiftyOff().Reduction)
		require.NoError(t, err)
		tk, err = e.Tickets.Get(e.Ctx, e.Admin, tk.ID)
		require.NoError(t, err)
		requireVisitFeeOnTheBrand(t, tk, e.Admin.Subject())
		require.Equal(t, c.ID, tk.ChargeReductions[0].Source)
		refund := e.requireBrandRefund(t, tk)
		require.NotNil(t, c.RefundPayoutID)
		require.Equal(t, refund.ID, *c.RefundPayoutID)
		require.NotNil(t, c.Reduction)
		require.Equal(t, domaintest.CNY(washerVisit), c.Reduction.Amount)
	})

	t.Run("BeforeCompletionTheCompletionApplies", func(t *testing.T) {
		e := newMoneyEnv(t)
		tk := e.diagnosedOutOfWarranty(t)
		_, err := e.upholdWithReduction(e.fileComplaint(t, tk, "fee", "客户要求减免上门费再修").ID, "中心批示：减免 50 元", fiftyOff().Reduction)
		require.NoError(t, err)
		tk = e.complete(t, tk.ID)
		requireVisitFeeOnTheBrand(t, tk, e.Admin.Subject())
		require.Empty(t, e.payoutsOf(t, tk))
	})

	t.Run("BeyondWhatTheCustomerPaysIs422", func(t *testing.T) {
		e := newMoneyEnv(t)
		tk := e.paidOutOfWarrantyRepair(t)
		c := e.fileComplaint(t, tk, "fee", "要求全额减免")
		over := domaintest.CNY(outOfWarrantyRepair + 1)
		_, err := e.upholdWithReduction(c.ID, "减免", tickets.Reduction{Amount: &over})
		require.Equal(t, []string{"reduction.amount.amount"}, domaintest.Fields(t, err))
		c2, err := e.Complaints.GetComplaint(e.Ctx, e.Admin, c.ID)
		require.NoError(t, err)
		require.NotEqual(t, complaints.StateResolved, c2.State, "nothing changed")
		require.Empty(t, e.payoutsOf(t, tk))
	})

	for _, upheld := range []bool{true, false} {
		name := map[bool]string{true: "UpheldWithoutAReductionChangesNoMoney", false: "RejectedChangesNothing"}[upheld]
		t.Run(name, func(t *testing.T) {
			e := newMoneyEnv(t)
			tk := e.paidOutOfWarrantyRepair(t)
			c := e.fileComplaint(t, tk, "fee", "客户要求减免上门费")
			_, err := e.Complaints.ResolveWith(e.Ctx, e.Admin, c.ID, complaints.ResolveInput{Resolution: "已向客户解释收费标准", Upheld: upheld}, 0)
			require.NoError(t, err)
			after, err := e.Tickets.Get(e.Ctx, e.Admin, tk.ID)
			require.NoError(t, err)
			e.requireSettledWithoutRefund(t, after, outOfWarrantyRepair, 0, nil)
			require.Empty(t, after.ChargeReductions)
		})
	}

	t.Run("AReductionOnAnotherCategoryIs422", func(t *testing.T) {
		e := newMoneyEnv(t)
		tk := e.paidOutOfWarrantyRepair(t)
		_, err := e.upholdWithReduction(e.fileComplaint(t, tk, "quality", "修完还有异响").ID, "减免", fiftyOff().Reduction)
		require.Equal(t, []string{"reduction"}, domaintest.Fields(t, err))
		require.Empty(t, e.payoutsOf(t, tk))
	})
}
