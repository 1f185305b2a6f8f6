package claims_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/servicenet/servicenet/internal/domaintest"
	"github.com/servicenet/servicenet/internal/pg"
	"github.com/servicenet/servicenet/tenants"
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
	require.Equal(t, claims.StateApproved, c.State, "%v", c.Reasons)
	require.Equal(t, w.contract, c.Decision.ContractID)
	require.Equal(t, "extended_warranty", string(c.Decision.Basis))
	var total int64
	for _, l := range c.Lines {
		require.NotNil(t, l.Approved, "%+v", l)
		total += l.Approved.Amount
	}
	require.Equal(t, int64(10000+30000), total, "labour 100.00 + board 300.00, the plan's")
	require.Equal(t, cny(40000), *c.TotalApproved)

	c = w.adjudicated(t, w.claim("CANCELLED-2", "performance"))
	require.Equal(t, claims.StateRejected, c.State, "a repair after the cancellation: %v", c.Reasons)
	for _, l := range c.Lines {
		require.True(t, l.Approved == nil || l.Approved.Amount == 0, "%+v", l)
	}

	ticket := tenants.NewID(tenants.PrefixTicket)
	require.NoError(t, pg.InTenantTx(w.Ctx, w.Tx, w.Tenant, func(tx pg.TenantTx) error {
		_, err := tx.Exec(w.Ctx, `INSERT INTO tickets (tenant_id, id, number, channel, type, state, customer_id, unit_id, contact,
			address, fault, created_by, created_at, completed_at) SELECT $1, $2, 'SN-CANCELLED-3', 'hotline', 'repair', 'completed',
			u.customer_id, u.id, '{"name":"x","phone":"13800000000"}', '{"region_code":"370212","line":"x"}', '{"symptom":"x"}',
			'test', now() - interval '3 days', now()
			FROM units u WHERE u.tenant_id = $1 AND u.id = $3`, w.Tenant, ticket, w.unit)
		return err
	}))
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
