package tickets_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/servicenet/servicenet/internal/domaintest"
	"github.com/servicenet/servicenet/tenants"
	"github.com/servicenet/servicenet/tenants/swaps"
	"github.com/servicenet/servicenet/tenants/tickets"
)

// Seed 002, 七天无理由退换货: a storefront's online sale, received 7 days
// before the customer asked (the last of the seven days, which run from the
// day after receipt, 七日期间自消费者签收商品的次日开始起算; the purchase date
// of an online sale is the day of receipt), "突然不喜欢了", picked up fit for resale: the
// exchange ticket's outcome is an exchange, a swap with no fee and no plan
// (the unit goes back to the seller for resale), nothing charged to the
// customer, and the buyer pays the freight (nobody's fault). Asked 8 days
// after receipt the exchange is refused and recorded as such. Before, the
// inspection allowed only a return, so the exchange was refused within the
// seven days too.
func TestSwapsFixChangeOfMindExchangeTicket(t *testing.T) {
	e := newMoneyEnv(t)
	inspected := func(t *testing.T, daysAgo int) tickets.Ticket {
		tk := e.onSite(t, "exchange", e.unit(t, daysAgo, true), -6)
		_, err := e.Tickets.PickUp(e.Ctx, e.Admin, tk.ID, tickets.PickupInput{Note: "原包装完好，附件齐全"}, 0)
		require.NoError(t, err)
		tk, err = e.Tickets.Inspect(e.Ctx, e.Admin, tk.ID, tickets.InspectionInput{Resellable: true, FaultConfirmed: false}, 0)
		require.NoError(t, err)
		return tk
	}
	t.Run("SeventhDayAfterReceipt", func(t *testing.T) {
		tk := inspected(t, 7)
		require.Equal(t, "exchange", string(tk.Entitlement.Decision.Remedy), "%+v", tk.Entitlement.Decision.Trace)
		require.Equal(t, "no_reason_return", string(tk.Entitlement.Decision.Basis))
		tk, err := e.Tickets.RecordOutcome(e.Ctx, e.Admin, tk.ID, tickets.OutcomeInput{Outcome: "exchange", Note: "七天无理由换货"}, 0)
		require.NoError(t, err)
		out := tk.Service.Outcome
		require.NotNil(t, out.SwapID)
		require.Equal(t, "buyer", out.Freight.Payer, "a change of mind: the buyer pays the freight")
		require.Equal(t, domaintest.CNY(0), *tk.CustomerTotal)
		require.NoError(t, e.Swaps.Evaluate(e.Ctx, e.Tenant, *out.SwapID))
		s, err := e.Swaps.GetSwap(e.Ctx, e.Admin, *out.SwapID)
		require.NoError(t, err)
		require.Equal(t, domaintest.CNY(0), *s.Fee, "no fee: %v", *s.FeeRule)
		require.Nil(t, s.ContractID, "no plan's benefit is used")
		require.Equal(t, swaps.ReasonNoReasonExchange, s.Reason, "the seller's seven-day promise, not the three guarantees")
		require.Equal(t, "七天无理由换货", *out.Note, "the outcome keeps its remarks")
		require.Contains(t, *s.Note, "七天无理由换货", "and so does the swap")
	})
	t.Run("EighthDayAfterReceipt", func(t *testing.T) {
		tk := inspected(t, 8)
		require.Equal(t, "none", string(tk.Entitlement.Decision.Remedy))
		_, err := e.Tickets.RecordOutcome(e.Ctx, e.Admin, tk.ID, tickets.OutcomeInput{Outcome: "exchange"}, 0)
		require.Equal(t, tenants.CodeInvalid, tenants.ErrorCode(err), "%v", err)
		require.Equal(t, []string{"outcome"}, domaintest.Fields(t, err))
		tk, err = e.Tickets.RecordOutcome(e.Ctx, e.Admin, tk.ID, tickets.OutcomeInput{Outcome: "refusal", Note: "已过七天无理由期限，已向用户解释"}, 0)
		require.NoError(t, err)
		require.Nil(t, tk.Service.Outcome.SwapID)
		require.NotNil(t, tk.Service.Outcome.Note, "a refusal keeps what the customer was told")
		require.Equal(t, "已过七天无理由期限，已向用户解释", *tk.Service.Outcome.Note)
		tk, err = e.Tickets.Get(e.Ctx, e.Admin, tk.ID)
		require.NoError(t, err)
		require.Equal(t, "已过七天无理由期限，已向用户解释", *tk.Service.Outcome.Note, "as stored")
		var rules []string
		for _, tr := range tk.Service.Outcome.RefusedBy {
			rules = append(rules, tr.Rule)
		}
		require.Contains(t, rules, "R9.no_reason_return", "the refusal names the seven days that ran out")
	})
}

// swapRequested diagnoses ticket id's motor burnt out with no spare
// (performance, unrepairable) and requests a swap for it.
func (e *moneyEnv) swapRequested(t *testing.T, id string) tickets.Ticket {
	t.Helper()
	_, err := e.Tickets.Diagnose(e.Ctx, e.Admin, id, tickets.DiagnoseInput{
		Diagnosis: tickets.Diagnosis{Cause: "performance", PartCategories: []string{"motor"}, Notes: "电机烧毁，无备件", Repairable: false},
		Work:      tickets.WorkInput{ServiceKind: "repair", IncludeVisit: true}, PriceListShown: true}, 0)
	require.NoError(t, err)
	tk, err := e.Tickets.RequestSwap(e.Ctx, e.Admin, id, tickets.SwapInput{Reason: "unrepairable"}, 0)
	require.NoError(t, err)
	require.NotNil(t, tk.SwapID)
	return tk
}

// A swap a technician requests for an unrepairable unit carries the cause
// the diagnosis found: it chooses the plan the swap is under (an extended
// warranty's free replacement for a performance fault, a fee plan's swap
// for accidental damage), which the swap could not know before.
func TestSwapRequestCarriesTheDiagnosedCause(t *testing.T) {
	e := newMoneyEnv(t)
	tk := e.swapRequested(t, e.onSite(t, "repair", e.unit(t, 200, false), -6).ID)
	s, err := e.Swaps.GetSwap(e.Ctx, e.Admin, *tk.SwapID)
	require.NoError(t, err)
	require.NotNil(t, s.FaultCause)
	require.Equal(t, "performance", *s.FaultCause)
}
