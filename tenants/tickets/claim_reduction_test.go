package tickets_test

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/servicenet/servicenet/tenants"
	"github.com/servicenet/servicenet/tenants/catalog"
	"github.com/servicenet/servicenet/tenants/claims"
	"github.com/servicenet/servicenet/tenants/stock"
	"github.com/servicenet/servicenet/tenants/tickets"
)

// Seed 000 (五.收费 4.其他): 根据中心批示处理. The centre's reduction of the
// customer's charges is the brand's: approved before the completion, the
// node collected that much less on site, and the brand owes it to the node
// through the node's claim for the ticket's repair. Out of warranty the
// demo price list charges labour 120.00 + visit 50.00; the engine finds
// the customer pays both, so the claim is owed only what the reductions the
// completion applied moved to the brand, line by line, at most what each
// line requests. Approved after the paid completion, the reduction was
// refunded to the customer by the brand: the node kept the 170.00 and is
// owed nothing.
func TestClaimIsOwedTheCentresReduction(t *testing.T) {
	visit := claims.NewClaimLine{Kind: claims.LineVisit, Requested: tenants.Money{Amount: washerVisit, Currency: "CNY"}}
	for _, c := range []struct {
		name      string
		reduction tickets.ReduceChargesInput
		after     bool             // approved after the paid completion (refunded)
		owed      map[string]int64 // by kind
		state     claims.State
	}{
		// the visit line named: the visit's 50.00 is owed, the labour the customer paid
		{"VisitFeeWaivedBeforeCompletion", visitFeeWaived, false, map[string]int64{"labor": 0, "visit": washerVisit}, claims.StateApproved},
		// 50.00 as an amount: taken from the lines in their order, labour first
		{"FiftyOffBeforeCompletion", fiftyOff(), false, map[string]int64{"labor": washerVisit, "visit": 0}, claims.StateApproved},
		// refunded to the customer: the node kept the money
		{"VisitFeeWaivedAfterThePaidCompletion", visitFeeWaived, true, map[string]int64{"labor": 0, "visit": 0}, claims.StateRejected},
	} {
		t.Run(c.name, func(t *testing.T) {
			e := newMoneyEnv(t)
			var tk tickets.Ticket
			if c.after {
				var err error
				tk, err = e.Tickets.ReduceCharges(e.Ctx, e.Admin, e.paidOutOfWarrantyRepair(t).ID, c.reduction, 0)
				require.NoError(t, err)
				require.NotNil(t, tk.ChargeReductions[0].RefundPayoutID, "refunded")
			} else {
				tk = e.diagnosedOutOfWarranty(t)
				_, err := e.Tickets.ReduceCharges(e.Ctx, e.Admin, tk.ID, c.reduction, 0)
				require.NoError(t, err)
				tk = e.complete(t, tk.ID)
				customer, brand, _ := totals(t, tk)
				require.Equal(t, reducedRepair, customer, "the customer paid 120.00 on site")
				require.Equal(t, int64(washerVisit), brand)
				// the completion keeps what the reduction took off each line
				kind := "visit"
				if c.reduction.Amount != nil {
					kind = "labor" // the lines in their order: labour first
				}
				require.Len(t, tk.Completion.Reductions, 1)
				require.Equal(t, []tickets.ReducedLine{{Kind: kind, Amount: tenants.Money{Amount: washerVisit, Currency: "CNY"}}},
					tk.Completion.Reductions[0].Taken)
			}
			e.Claims.Now = e.now
			own := tenants.Principal{TenantID: e.Tenant, KeyID: "key_own_node", Roles: []string{tenants.RoleNodeManager}, NodeID: *tk.NodeID}
			cl, err := e.reimbursement(t, own, tk, "", "RB-REDUCED", labourLine(washerLabour), visit)
			require.NoError(t, err)
			require.NoError(t, e.Claims.Adjudicate(e.Ctx, e.Tenant, cl.ID, cl.Version))
			cl, err = e.Claims.GetClaim(e.Ctx, e.Admin, cl.ID)
			require.NoError(t, err)

			require.Equal(t, c.state, cl.State, "%v", cl.Reasons)
			require.EqualValues(t, "out_of_warranty", cl.Decision.Basis)
			owed := map[string]int64{}
			var total int64
			for _, l := range cl.Lines {
				owed[l.Kind] = amount(l.Calculated)
				total += amount(l.Calculated)
				if amount(l.Calculated) > 0 {
					require.True(t, strings.Contains(l.Reason, "the centre's reduction of 50.00 CNY is the brand's"), "%+v", l)
				} else {
					require.Equal(t, "out_of_warranty: the customer pays this line", l.Reason, "%+v", l)
				}
			}
			require.Equal(t, c.owed, owed)
			require.Equal(t, int64(washerVisit)*boolInt(!c.after), total)
			require.Equal(t, total, amount(cl.TotalCalculated))
			if c.state == claims.StateApproved {
				require.Equal(t, total, amount(cl.TotalApproved), "auto-approved: 50.00 to the node")
			}
		})
	}
}

// A reduction of a part line is owed on the claim's line for that part.
// Out of warranty, the drain pump repair charges the customer labour
// 120.00 + visit 50.00 + the pump 85.00; the centre waives the part before
// the completion, so the customer pays 170.00 and the node is owed the
// pump's 85.00 on the claim's pump line, nothing on labour or the visit.
func TestClaimIsOwedTheCentresReductionOfAPart(t *testing.T) {
	e := newMoneyEnv(t)
	pump := e.part(t, drainPumpNo)
	tk := e.onSite(t, "repair", e.unit(t, 1500, false), -6)
	tk = e.diagnoseWork(t, tk.ID, catalog.QuotePart{PartID: pump, Quantity: 1})
	e.fit(t, tk, stock.Line{PartID: pump, Quantity: 1})
	_, err := e.Tickets.ReduceCharges(e.Ctx, e.Admin, tk.ID, tickets.ReduceChargesInput{Reduction: tickets.Reduction{Lines: []string{"part"}},
		Reason: "中心批示：排水泵费用减免"}, 0)
	require.NoError(t, err)
	tk = e.complete(t, tk.ID)
	customer, brand, _ := totals(t, tk)
	require.Equal(t, int64(washerLabour+washerVisit), customer, "the customer paid labour and visit on site")
	require.Equal(t, int64(drainPump), brand, "the brand bears the pump")

	e.Claims.Now = e.now
	own := tenants.Principal{TenantID: e.Tenant, KeyID: "key_own_node", Roles: []string{tenants.RoleNodeManager}, NodeID: *tk.NodeID}
	cl, err := e.reimbursement(t, own, tk, "", "RB-REDUCED-PART", labourLine(washerLabour),
		claims.NewClaimLine{Kind: claims.LineVisit, Requested: tenants.Money{Amount: washerVisit, Currency: "CNY"}},
		claims.NewClaimLine{Kind: claims.LinePart, PartID: pump, Quantity: 1, Requested: tenants.Money{Amount: drainPump, Currency: "CNY"}})
	require.NoError(t, err)
	require.NoError(t, e.Claims.Adjudicate(e.Ctx, e.Tenant, cl.ID, cl.Version))
	cl, err = e.Claims.GetClaim(e.Ctx, e.Admin, cl.ID)
	require.NoError(t, err)
	owed := map[string]int64{}
	for _, l := range cl.Lines {
		owed[l.Kind] = amount(l.Calculated)
	}
	require.Equal(t, map[string]int64{"labor": 0, "visit": 0, "part": drainPump}, owed, "%+v", cl.Lines)
	require.Contains(t, cl.Lines[2].Reason, "the centre's reduction of 85.00 CNY is the brand's")
	require.Equal(t, int64(drainPump), amount(cl.TotalCalculated))
}

func boolInt(b bool) int64 {
	if b {
		return 1
	}
	return 0
}
