package claims_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/servicenet/servicenet/internal/domaintest"
	"github.com/servicenet/servicenet/tenants/claims"
	"github.com/servicenet/servicenet/tenants/warranty"
)

// A contract cancelled after the repair it is claimed for covered that
// repair: cancellation ends a plan from the day it is asked, it does not
// undo the coverage before (rule 4's window: the washer, bought 400 days
// ago with 12 months' warranty, has had its two-year extended warranty
// since the manufacturer warranty ended). The customer cancels it today;
// the network's claim for the repair it did five days ago, labour 100.00 +
// board 300.00, is the plan's: 400.00 approved under the contract. A
// repair today, after the cancellation, is not covered: rejected, nothing
// approved, also for a ticket the customer reported three days ago, while
// the plan ran (the ticket, completed today, charged the customer: the
// contract was cancelled before the repair).
func TestClaimPlanCancelledAfterTheRepairCoversIt(t *testing.T) {
	w := newWasherShop(t)
	ct, err := w.Warranty.CancelContract(w.Ctx, w.Admin, w.contract, "customer returned the plan", 0)
	require.NoError(t, err)
	require.Equal(t, warranty.StateCancelled, ct.State)

	before := w.claim("CANCELLED-1", "performance")
	before.OccurredOn = domaintest.Today(-5)
	c := w.adjudicated(t, before)
	requireApprovedUnder(t, c, w.contract)
	require.Equal(t, "extended_warranty", string(c.Decision.Basis))
	c = w.adjudicated(t, w.claim("CANCELLED-2", "performance"))
	require.Equal(t, claims.StateRejected, c.State, "a repair after the cancellation: %v", c.Reasons)
	for _, l := range c.Lines {
		require.True(t, l.Approved == nil || l.Approved.Amount == 0, "%+v", l)
	}

	ticket := w.completedTicket(t, w.unit, "SN-CANCELLED-3", 3)
	reported := w.claim("CANCELLED-3", "performance")
	reported.TicketID = ticket
	c = w.adjudicated(t, reported)
	// (Also flagged for a person: a duplicate of CANCELLED-2, no board
	// fitted by the ticket.) The decision owes nothing under the plan.
	require.NotNil(t, c.Decision, "%v", c.Reasons)
	require.Equal(t, "out_of_warranty", string(c.Decision.Basis), "reported before the cancellation, repaired after it")
	require.Empty(t, c.Decision.ContractID)
	for _, l := range c.Lines {
		require.True(t, l.Approved == nil || l.Approved.Amount == 0, "%+v", l)
	}
}
