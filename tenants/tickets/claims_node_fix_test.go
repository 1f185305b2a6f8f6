package tickets_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/servicenet/servicenet/tenants"
	"github.com/servicenet/servicenet/tenants/catalog"
	"github.com/servicenet/servicenet/tenants/claims"
	"github.com/servicenet/servicenet/tenants/network"
	"github.com/servicenet/servicenet/tenants/stock"
	"github.com/servicenet/servicenet/tenants/tickets"
)

// inWarrantyPumpRepair is an in-warranty washer (bought 100 days ago at
// the brand store) repaired on site with one drain pump, received at its
// node, reserved, issued and fitted (not yet taken back defective); the
// claims service's clock is the tickets'. It returns the completed ticket
// and the pump.
func (e *moneyEnv) inWarrantyPumpRepair(t *testing.T) (tickets.Ticket, string) {
	t.Helper()
	pump := e.part(t, drainPumpNo)
	tk := e.onSite(t, "repair", e.unit(t, 100, false), -6)
	tk = e.diagnoseWork(t, tk.ID, catalog.QuotePart{PartID: pump, Quantity: 1})
	e.fit(t, tk, stock.Line{PartID: pump, Quantity: 1})
	tk = e.complete(t, tk.ID)
	e.Claims.Now = e.now
	return tk, pump
}

// reimbursement is a reimbursement claim for tk's repair on the day it was
// completed, filed by p (node: the brand's node_id), with lines.
func (e *moneyEnv) reimbursement(t *testing.T, p tenants.Principal, tk tickets.Ticket, node, ref string, lines ...claims.NewClaimLine) (claims.Claim, error) {
	t.Helper()
	return e.submitReimbursement(t, p, tk, node, ref, claims.ClaimSubmission{TicketID: tk.ID, Lines: lines})
}

// submitReimbursement files sub (naming the repair and its lines) as a
// reimbursement of tk's unit for a performance fault on the day it is.
func (e *moneyEnv) submitReimbursement(t *testing.T, p tenants.Principal, tk tickets.Ticket, node, ref string, sub claims.ClaimSubmission) (claims.Claim, error) {
	t.Helper()
	loc, err := time.LoadLocation("Asia/Shanghai")
	require.NoError(t, err)
	sub.OccurredOn, sub.Fault = e.now().In(loc).Format(time.DateOnly), claims.ClaimFault{Cause: "performance"}
	c, _, err := e.Claims.SubmitClaim(e.Ctx, p, claims.NewClaim{Kind: claims.KindReimbursement, UnitID: *tk.UnitID, NodeID: node,
		Reference: ref, ClaimSubmission: sub})
	return c, err
}

// otherNode is a node of the network other than the one that served tk,
// and a node manager's key bound to it.
func (e *moneyEnv) otherNode(t *testing.T, tk tickets.Ticket) (string, tenants.Principal) {
	t.Helper()
	nodes, _, err := e.Network.ListNodes(e.Ctx, e.Admin, network.NodeFilter{Limit: 100})
	require.NoError(t, err)
	for _, n := range nodes {
		if n.ID != *tk.NodeID {
			return n.ID, tenants.Principal{TenantID: e.Tenant, KeyID: "key_other_node", Roles: []string{tenants.RoleNodeManager}, NodeID: n.ID}
		}
	}
	t.Fatal("no other node")
	return "", tenants.Principal{}
}

func labourLine(amount int64) claims.NewClaimLine {
	return claims.NewClaimLine{Kind: claims.LineLabor, Requested: tenants.Money{Amount: amount, Currency: "CNY"}}
}

// A repair point's reimbursement is paid to the node that did the repair.
// The drain pump repair of an in-warranty washer was done by the ticket's
// node; another node of the network (a node-bound key, or the brand filing
// for it) claiming 120.00 labour for that ticket named a repair it did not
// do, and adjudication would have paid it the brand's 120.00. The ticket
// is unknown to another node's claim (422 at ticket_id, nothing filed);
// the node that did the repair files it.
func TestReimbursementIsTheRepairingNodes(t *testing.T) {
	e := newMoneyEnv(t)
	tk, _ := e.inWarrantyPumpRepair(t)
	other, otherKey := e.otherNode(t, tk)

	for name, try := range map[string]func() (claims.Claim, error){
		"another node's key": func() (claims.Claim, error) {
			return e.reimbursement(t, otherKey, tk, "", "RB-OTHER-KEY", labourLine(washerLabour))
		},
		"the brand for another node": func() (claims.Claim, error) {
			return e.reimbursement(t, e.Admin, tk, other, "RB-OTHER-BRAND", labourLine(washerLabour))
		},
	} {
		_, err := try()
		var te *tenants.Error
		require.ErrorAs(t, err, &te, name)
		require.Equal(t, tenants.CodeInvalid, te.Code, name)
		require.Len(t, te.Fields, 1, "%s: %v", name, te.Fields)
		require.Equal(t, "ticket_id", te.Fields[0].Location, name)
	}
	cs, _, err := e.Claims.ListClaims(e.Ctx, e.Admin, claims.ClaimFilter{UnitID: *tk.UnitID})
	require.NoError(t, err)
	require.Empty(t, cs, "nothing filed")

	own := tenants.Principal{TenantID: e.Tenant, KeyID: "key_own_node", Roles: []string{tenants.RoleNodeManager}, NodeID: *tk.NodeID}
	c, err := e.reimbursement(t, own, tk, "", "RB-OWN", labourLine(washerLabour))
	require.NoError(t, err)
	require.Equal(t, *tk.NodeID, *c.NodeID, "the repairing node is paid")
	c, err = e.reimbursement(t, e.Admin, tk, *tk.NodeID, "RB-BRAND", labourLine(washerLabour))
	require.NoError(t, err)
	require.Equal(t, *tk.NodeID, *c.NodeID)
}

// A claim for a ticket's repair asks only for the parts the ticket fitted,
// and the brand pays for a replaced part it gets back. The in-warranty
// washer's ticket fitted one drain pump (85.00 on the price list) and has
// not yet taken the old one back. A reimbursement of labour 120.00 and two
// pumps, 170.00, asks for a pump never fitted: it is flagged
// part_not_fitted and owes 85.00 for the one fitted, and that one is
// flagged part_not_returned: a person decides, nothing is auto-approved
// (before: auto-approved, 290.00 to the node). Rejected, the pump taken
// back defective and claimed again for one pump, 205.00 (120.00 + 85.00)
// is auto-approved to the ticket's node.
func TestReimbursementPaysOnlyPartsFittedAndReturned(t *testing.T) {
	e := newMoneyEnv(t)
	tk, pump := e.inWarrantyPumpRepair(t)
	own := tenants.Principal{TenantID: e.Tenant, KeyID: "key_own_node", Roles: []string{tenants.RoleNodeManager}, NodeID: *tk.NodeID}
	pumps := func(n int) claims.NewClaimLine {
		return claims.NewClaimLine{Kind: claims.LinePart, PartID: pump, Quantity: n, Requested: tenants.Money{Amount: int64(n) * drainPump, Currency: "CNY"}}
	}
	adjudicated := func(t *testing.T, c claims.Claim) claims.Claim {
		t.Helper()
		require.NoError(t, e.Claims.Adjudicate(e.Ctx, e.Tenant, c.ID, c.Version))
		c, err := e.Claims.GetClaim(e.Ctx, e.Admin, c.ID)
		require.NoError(t, err)
		return c
	}

	c, err := e.reimbursement(t, own, tk, "", "RB-TWO-PUMPS", labourLine(washerLabour), pumps(2))
	require.NoError(t, err)
	c = adjudicated(t, c)
	require.Equal(t, claims.StateUnderReview, c.State, "%v", c.Reasons)
	codes := map[string]int{}
	for _, f := range c.Flags {
		require.NotNil(t, f.Line, "%+v", f)
		codes[f.Code] = *f.Line
	}
	require.Equal(t, map[string]int{"part_not_fitted": 1, "part_not_returned": 1}, codes)
	require.EqualValues(t, "manufacturer_warranty", c.Decision.Basis)
	require.Equal(t, int64(washerLabour), amount(c.Lines[0].Calculated), "the brand owes the labour")
	require.Equal(t, int64(drainPump), amount(c.Lines[1].Calculated), "one pump fitted: 85.00, not 170.00")
	require.Nil(t, c.TotalApproved, "nothing approved before a person decides")
	_, err = e.Claims.RejectClaim(e.Ctx, e.Admin, c.ID, "one pump fitted, old pump not back", 0)
	require.NoError(t, err)

	e.move(t, tk.ID, "return_defective", stock.Line{PartID: pump, Quantity: 1})
	c, err = e.reimbursement(t, own, tk, "", "RB-ONE-PUMP", labourLine(washerLabour), pumps(1))
	require.NoError(t, err)
	c = adjudicated(t, c)
	require.Equal(t, claims.StateApproved, c.State, "%v %v", c.Reasons, c.Flags)
	require.Empty(t, c.Flags)
	require.Equal(t, int64(washerLabour+drainPump), amount(c.TotalApproved), "205.00")
	require.Equal(t, *tk.NodeID, *c.NodeID, "paid to the node that did the repair")
}

func amount(m *tenants.Money) int64 {
	if m == nil {
		return -1
	}
	return m.Amount
}
