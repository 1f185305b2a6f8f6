package tickets_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/servicenet/servicenet/tenants/catalog"
	"github.com/servicenet/servicenet/tenants/stock"
	"github.com/servicenet/servicenet/tenants/tickets"
)

// A reopened ticket's new round bills only what the new round fitted (seed
// 000: 严格按收费标准进行收费; 如果使用备件要给用户出示备件费用 — a part is
// charged for the one fitted, once). Out of warranty (day 1200) the first
// round quoted, showed and fitted a drain pump: the customer paid labour
// 120.00 + visit 50.00 + pump 85.00 = 255.00. The customer was
// unsatisfied (still not draining) and the ticket reopened; a washer's
// fault back within two years of a paid repair is free (rule 8), so the
// brand pays the second round.
//
//   - The second visit found a blocked filter and quoted labour and the
//     visit only: the brand pays 170.00, no pump (before: the pump fitted
//     in the first round was billed again, 255.00 to the brand, a pump
//     nobody fitted). Reopened again, the ticket can be cancelled: both
//     rounds' charges stand and nothing is held (before: the pump counted
//     as fitted and unbilled, 409).
//   - The second visit replaced the pump again, quoted and shown: the
//     brand pays 255.00 for the one new pump, and the node's stock is two
//     pumps less for the two rounds.
func TestReopenedRoundBillsOnlyItsOwnParts(t *testing.T) {
	e := newMoneyEnv(t)
	pump := e.part(t, drainPumpNo)
	one := stock.Line{PartID: pump, Quantity: 1}
	firstRound := func(t *testing.T) tickets.Ticket {
		t.Helper()
		tk := e.onSite(t, "repair", e.unit(t, 1200, false), -6)
		tk = e.diagnoseWork(t, tk.ID, catalog.QuotePart{PartID: pump, Quantity: 1})
		e.fit(t, tk, one)
		tk = e.complete(t, tk.ID)
		customer, brand, _ := totals(t, tk)
		require.Equal(t, int64(washerLabour+washerVisit+drainPump), customer, "first round: 255.00")
		require.Zero(t, brand)
		require.Equal(t, [2]int64{drainPump, 0}, partLines(tk)[drainPumpNo])
		_, err := e.Tickets.Reopen(e.Ctx, e.Admin, tk.ID, tickets.ReopenInput{Reason: "客户不满意：仍不排水"}, 0)
		require.NoError(t, err)
		return e.visit(t, tk.ID, -6, false)
	}

	t.Run("NoPartTheSecondTime", func(t *testing.T) {
		tk := firstRound(t)
		before := e.level(t, *tk.NodeID, pump)
		tk = e.diagnoseWork(t, tk.ID) // labour and visit, no part
		tk = e.complete(t, tk.ID)
		customer, brand, plan := totals(t, tk)
		require.Zero(t, customer, "a fault back after a paid repair: free to the customer")
		require.Equal(t, int64(washerLabour+washerVisit), brand, "labour and visit: 170.00, no pump")
		require.Zero(t, plan)
		require.Empty(t, tk.Completion.PartsBilled, "the second round fitted nothing")
		_, billed := partLines(tk)[drainPumpNo]
		require.False(t, billed, "the pump is not billed twice: %+v", tk.Completion.Lines)
		require.Equal(t, before, e.level(t, *tk.NodeID, pump), "no stock moved")

		_, err := e.Tickets.Reopen(e.Ctx, e.Admin, tk.ID, tickets.ReopenInput{Reason: "客户投诉"}, 0)
		require.NoError(t, err)
		tk, err = e.Tickets.Cancel(e.Ctx, e.Admin, tk.ID, tickets.CancelInput{Reason: "客户撤销"}, 0)
		require.NoError(t, err, "the pump was billed by the first completion")
		require.Equal(t, tickets.State("cancelled"), tk.State)
	})

	t.Run("AnotherPumpTheSecondTime", func(t *testing.T) {
		tk := firstRound(t)
		before := e.level(t, *tk.NodeID, pump)
		tk = e.diagnoseWork(t, tk.ID, catalog.QuotePart{PartID: pump, Quantity: 1})
		e.fit(t, tk, one) // receives one pump, then reserves, issues and fits it
		tk = e.complete(t, tk.ID)
		customer, brand, _ := totals(t, tk)
		require.Zero(t, customer)
		require.Equal(t, int64(washerLabour+washerVisit+drainPump), brand, "one new pump: 255.00")
		require.Equal(t, [2]int64{0, drainPump}, partLines(tk)[drainPumpNo])
		require.Empty(t, tk.Completion.PartsBilled, "fitted as quoted")
		after := e.level(t, *tk.NodeID, pump)
		require.Equal(t, before.OnHand, after.OnHand, "the pump received for it was fitted")
		require.Equal(t, before.Reserved, after.Reserved)
		parts, err := e.Tickets.Parts(e.Ctx, e.Admin, tk.ID)
		require.NoError(t, err)
		require.Len(t, parts, 1)
		require.Equal(t, [3]int{2, 2, 2}, [3]int{parts[0].Reserved, parts[0].Issued, parts[0].Used}, "two rounds, one pump each")
	})
}
