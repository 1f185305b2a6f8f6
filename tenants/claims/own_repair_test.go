package claims_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/servicenet/servicenet/internal/domaintest"
	"github.com/servicenet/servicenet/internal/pg"
	"github.com/servicenet/servicenet/tenants/claims"
	"github.com/servicenet/servicenet/tenants/customers"
	"github.com/servicenet/servicenet/tenants/network"
	"github.com/servicenet/servicenet/tenants/warranty"
)

// A claim for a ticket's repair is judged against the repairs before it:
// the repair the ticket's completion recorded in the unit's history (its
// reference is "<number>/<visits>") is the claim's own, not an earlier
// one. Here a washer out of warranty (bought 500 days ago, 12 months'
// warranty, no plan) whose ticket's repair the customer paid, 400.00, is
// claimed under the warranty (labour 100.00 + board 300.00). Before, the
// adjudication counted that repair as an earlier paid one, found the
// promise a repeat fault keeps (rule 8: free again within the window),
// and auto-approved 400.00 from the brand for a repair the customer had
// paid. A paid repair really before it still makes it free.
func TestClaimTicketsOwnRepairIsNoEarlierRepair(t *testing.T) {
	w := newWasherShop(t)
	u, err := w.Customers.GetUnit(w.Ctx, w.Admin, w.unit)
	require.NoError(t, err)
	node, err := w.Network.CreateNode(w.Ctx, w.Admin, network.NewNode{NodeFields: network.NodeFields{ExternalCode: "ROOT", Name: "ROOT"},
		Tier: "manufacturer", Status: "active"})
	require.NoError(t, err)
	// claimTicket records unit's repair of day (days from today), paid
	// 400.00 by the customer, under ref; completes a ticket numbered ticket
	// today, whose completion recorded its repair; and claims that ticket's
	// repair under the warranty, adjudicated.
	claimTicket := func(t *testing.T, serial, phone, ticket string, earlier int) claims.Claim {
		unit := w.Unit(t, u.ModelID, serial, -500, phone)
		record := func(on, ref string) {
			_, err := w.Customers.RecordServiceEvent(w.Ctx, w.Admin, unit, customers.NewServiceRecord{Kind: "repair", OccurredOn: on,
				Basis: "out_of_warranty", FaultCause: "performance", PartCategories: []string{"control_board"}, Reference: ref,
				Paid: true, Amount: new(cny(40000))})
			require.NoError(t, err)
		}
		if earlier != 0 {
			record(domaintest.Today(earlier), "SN-EARLIER-"+serial)
		}
		id := w.completedTicket(t, unit, ticket, 0)
		// The ticket fitted the board it is claimed for and took the
		// replaced one back for the brand.
		require.NoError(t, pg.InTenantTx(w.Ctx, w.Tx, w.Tenant, func(tx pg.TenantTx) error {
			_, err := tx.Exec(w.Ctx, `INSERT INTO ticket_parts (tenant_id, ticket_id, part_id, node_id, reserved, issued, used,
				defective_returned) VALUES ($1, $2, $3, $4, 1, 1, 1, 1)`, w.Tenant, id, w.board, node.ID)
			return err
		}))
		record(domaintest.Today(0), ticket+"/1") // as the ticket's completion references it

		in := w.claim("OWN-"+serial, "performance")
		in.Kind, in.UnitID, in.TicketID = claims.KindWarranty, unit, id
		return w.adjudicated(t, in)
	}
	approved := func(c claims.Claim) (total int64) {
		for _, l := range c.Lines {
			if l.Approved != nil {
				total += l.Approved.Amount
			}
		}
		return total
	}

	t.Run("ItsOwnPaidRepairIsNotAnEarlierOne", func(t *testing.T) {
		c := claimTicket(t, "WSH-OWN-1", "+86 139 0000 0711", "SN-OWN-1", 0)
		require.Equal(t, claims.StateRejected, c.State, "%v", c.Reasons)
		require.NotNil(t, c.Decision)
		require.Equal(t, "out_of_warranty", string(c.Decision.Basis))
		require.Zero(t, approved(c), "the customer paid the repair: the brand owes nothing")
		for _, l := range c.Lines {
			require.Equal(t, "rejected", l.Decision, "%+v", l)
		}
	})
	t.Run("APaidRepairBeforeItKeepsTheRepeatPromise", func(t *testing.T) {
		c := claimTicket(t, "WSH-OWN-2", "+86 139 0000 0712", "SN-OWN-2", -100)
		require.Equal(t, claims.StateApproved, c.State, "%v", c.Reasons)
		require.Equal(t, int64(10000+30000), approved(c), "free again within the window: labour 100.00 + board 300.00 owed by the brand")
	})
}

// A plan consumed after the repair it is claimed for covered that repair:
// the extended warranty of the washer (bought 400 days ago, 12 months'
// warranty, the plan running since) is consumed today (the unit returned
// for a refund); a claim for a repair five days ago is the plan's, labour
// 100.00 + board 300.00 approved; one for a repair today, after its
// benefit was used, is not. Before, the claim filed after the
// consumption was rejected as out of warranty.
func TestClaimPlanConsumedAfterTheRepairCoversIt(t *testing.T) {
	w := newWasherShop(t)
	require.NoError(t, pg.InTenantTx(w.Ctx, w.Tx, w.Tenant, func(tx pg.TenantTx) error {
		ended, err := warranty.EndForReplacedUnit(w.Ctx, tx, w.unit, "unit returned: refunded", "test")
		require.Equal(t, []string{w.contract}, ended)
		return err
	}))
	before := w.claim("CONSUMED-1", "performance")
	before.OccurredOn = domaintest.Today(-5)
	c := w.adjudicated(t, before)
	require.Equal(t, claims.StateApproved, c.State, "%v", c.Reasons)
	require.Equal(t, w.contract, c.Decision.ContractID)
	var total int64
	for _, l := range c.Lines {
		total += l.Approved.Amount
	}
	require.Equal(t, int64(10000+30000), total, "labour 100.00 + board 300.00, the plan's")

	c = w.adjudicated(t, w.claim("CONSUMED-2", "performance"))
	require.Equal(t, claims.StateRejected, c.State, "a repair after the benefit was used: %v", c.Reasons)
}
