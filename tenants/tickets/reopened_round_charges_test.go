package tickets_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/servicenet/servicenet/tenants"
	"github.com/servicenet/servicenet/tenants/catalog"
	"github.com/servicenet/servicenet/tenants/tickets"
)

// Out of warranty, damage by misuse (never free, no repeat-fault promise):
// the first round quoted and showed labour 120.00 + visit 50.00 + a drain
// pump 85.00 = 255.00, the customer's, and completed. The customer was
// unsatisfied and the ticket reopened; the second visit completes without
// a diagnosis of its own. Its charges were never shown (seed 000: 征得用户
// 同意并出示收费标准; 如果使用备件要给用户出示备件费用) and the first round's
// were settled: completing it is 409 (diagnose first), nothing written
// (before: the customer was charged 255.00 again, the pump fitted and paid
// in the first round with it). Diagnosed again, labour and visit shown, the
// second round charges its own 170.00.
func TestReopenedRoundIsNotChargedTheFirstRoundsQuoteAgain(t *testing.T) {
	e := newMoneyEnv(t)
	pump := e.part(t, drainPumpNo)
	tk := e.onSite(t, "repair", e.unit(t, 1200, false), -6)
	complete := func() (tickets.Ticket, error) {
		e.set(e.now().Add(30 * time.Minute))
		return e.Tickets.Complete(e.Ctx, e.Admin, tk.ID, tickets.CompleteInput{TestRun: tickets.TestRun{Passed: true}}, 0)
	}
	e.diagnoseAs(t, tk.ID, "human_damage", catalog.QuotePart{PartID: pump, Quantity: 1})
	tk, err := complete()
	require.NoError(t, err)
	customer, brand, plan := totals(t, tk)
	require.Equal(t, []int64{washerLabour + washerVisit + drainPump, 0, 0}, []int64{customer, brand, plan})

	_, err = e.Tickets.Reopen(e.Ctx, e.Admin, tk.ID, tickets.ReopenInput{Reason: "客户不满意：仍不排水"}, 0)
	require.NoError(t, err)
	before := e.visit(t, tk.ID, -6, false)
	_, err = complete()
	require.Equal(t, tenants.CodeConflict, tenants.ErrorCode(err), "%v", err)
	got, gerr := e.Tickets.Get(e.Ctx, e.Admin, tk.ID)
	require.NoError(t, gerr)
	require.Equal(t, before.Version, got.Version, "nothing written")
	require.Equal(t, tickets.State("on_site"), got.State)

	e.diagnoseAs(t, tk.ID, "human_damage") // labour and visit, no part this time
	tk, err = complete()
	require.NoError(t, err)
	customer, brand, plan = totals(t, tk)
	require.Equal(t, []int64{washerLabour + washerVisit, 0, 0}, []int64{customer, brand, plan}, "the second round's own 170.00")
	for _, l := range tk.Completion.Lines {
		require.NotEqual(t, "part", l.Kind, "the pump is not billed twice: %+v", l)
	}
}
