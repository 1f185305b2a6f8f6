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
	_, err := e.Stock.Receive(e.Ctx, e.Admin, *tk.NodeID, stock.Receipt{Lines: []stock.ReceiptLine{{PartID: pump, Quantity: 1}}})
	require.NoError(t, err)
	e.move(t, tk.ID, "reserve", stock.Line{PartID: pump, Quantity: 1})
	e.move(t, tk.ID, "issue", stock.Line{PartID: pump, Quantity: 1})
	e.move(t, tk.ID, "use", stock.Line{PartID: pump, Quantity: 1})
	tk = e.complete(t, tk.ID)
	e.Claims.Now = e.now
	return tk, pump
}

// reimbursement is a reimbursement claim for tk's repair on the day it was
// completed, filed by p (node: the brand's node_id), with lines.
func (e *moneyEnv) reimbursement(t *testing.T, p tenants.Principal, tk tickets.Ticket, node, ref string, lines ...claims.NewClaimLine) (claims.Claim, error) {
	t.Helper()
	loc, err := time.LoadLocation("Asia/Shanghai")
	require.NoError(t, err)
	c, _, err := e.Claims.SubmitClaim(e.Ctx, p, claims.NewClaim{Kind: claims.KindReimbursement, UnitID: *tk.UnitID, NodeID: node, Reference: ref,
		ClaimSubmission: claims.ClaimSubmission{OccurredOn: e.now().In(loc).Format(time.DateOnly), TicketID: tk.ID,
			Fault: claims.ClaimFault{Cause: "performance"}, Lines: lines}})
	return c, err
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
	nodes, _, err := e.Network.ListNodes(e.Ctx, e.Admin, network.NodeFilter{Limit: 100})
	require.NoError(t, err)
	other := ""
	for _, n := range nodes {
		if n.ID != *tk.NodeID {
			other = n.ID
			break
		}
	}
	require.NotEmpty(t, other)
	otherKey := tenants.Principal{TenantID: e.Tenant, KeyID: "key_other_node", Roles: []string{tenants.RoleNodeManager}, NodeID: other}

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
