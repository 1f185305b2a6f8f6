package tickets_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/servicenet/servicenet/tenants"
	"github.com/servicenet/servicenet/tenants/claims"
	"github.com/servicenet/servicenet/tenants/customers"
	"github.com/servicenet/servicenet/tenants/tickets"
)

// recordOf is the service record tk's completion made in its unit's
// history.
func (e *moneyEnv) recordOf(t *testing.T, tk tickets.Ticket) string {
	t.Helper()
	recs, _, err := e.Customers.ListHistory(e.Ctx, e.Admin, *tk.UnitID, 100, "")
	require.NoError(t, err)
	for _, r := range recs {
		if r.OfTicket(tk.Number) {
			return r.ID
		}
	}
	t.Fatalf("no service record of %s", tk.Number)
	return ""
}

// recordClaim is a reimbursement for tk's repair naming its service
// record (no ticket_id), filed by p (node: the brand's node_id).
func (e *moneyEnv) recordClaim(t *testing.T, p tenants.Principal, tk tickets.Ticket, record, node, ref string, lines ...claims.NewClaimLine) (claims.Claim, error) {
	t.Helper()
	return e.submitReimbursement(t, p, tk, node, ref, claims.ClaimSubmission{ServiceRecordID: record, Lines: lines})
}

// A reimbursement naming the repair's service record instead of its
// ticket is held to the ticket's rules: the record the drain-pump ticket's
// completion made is that ticket's repair. Another node (its key, or the
// brand filing for it) naming the record was filed and would have been
// paid the labour 120.00 of a repair it did not do; now 422 at
// service_record_id, nothing filed. The repairing node naming it for
// labour and two pumps (one fitted, not yet taken back) was auto-approved
// 290.00 to it; now the claim is the ticket's (ticket_id filled in from
// the record), flagged part_not_fitted and part_not_returned on the pump
// line, calculated 120.00 + 85.00, nothing approved. A repair recorded by
// hand (a legacy record, made by no ticket) shows no node and no parts:
// its reimbursement is flagged repair_not_verified for a person, never
// auto-approved. A claim naming the ticket and another ticket's record is
// 422 at service_record_id.
func TestReimbursementNamingTheServiceRecordIsTheTicketsRepair(t *testing.T) {
	e := newMoneyEnv(t)
	tk, pump := e.inWarrantyPumpRepair(t)
	record := e.recordOf(t, tk)
	other, otherKey := e.otherNode(t, tk)
	own := tenants.Principal{TenantID: e.Tenant, KeyID: "key_own_node", Roles: []string{tenants.RoleNodeManager}, NodeID: *tk.NodeID}

	for name, try := range map[string]func() (claims.Claim, error){
		"another node's key": func() (claims.Claim, error) {
			return e.recordClaim(t, otherKey, tk, record, "", "SR-OTHER-KEY", labourLine(washerLabour))
		},
		"the brand for another node": func() (claims.Claim, error) {
			return e.recordClaim(t, e.Admin, tk, record, other, "SR-OTHER-BRAND", labourLine(washerLabour))
		},
	} {
		_, err := try()
		var te *tenants.Error
		require.ErrorAs(t, err, &te, name)
		require.Equal(t, tenants.CodeInvalid, te.Code, name)
		require.Len(t, te.Fields, 1, "%s: %v", name, te.Fields)
		require.Equal(t, "service_record_id", te.Fields[0].Location, name)
	}
	cs, _, err := e.Claims.ListClaims(e.Ctx, e.Admin, claims.ClaimFilter{UnitID: *tk.UnitID})
	require.NoError(t, err)
	require.Empty(t, cs, "nothing filed")

	pumps := claims.NewClaimLine{Kind: claims.LinePart, PartID: pump, Quantity: 2, Requested: tenants.Money{Amount: 2 * drainPump, Currency: "CNY"}}
	c, err := e.recordClaim(t, own, tk, record, "", "SR-OWN", labourLine(washerLabour), pumps)
	require.NoError(t, err)
	require.Equal(t, *tk.NodeID, *c.NodeID)
	require.NotNil(t, c.TicketID, "the record's ticket")
	require.Equal(t, tk.ID, *c.TicketID)
	require.NoError(t, e.Claims.Adjudicate(e.Ctx, e.Tenant, c.ID, 1))
	c, err = e.Claims.GetClaim(e.Ctx, e.Admin, c.ID)
	require.NoError(t, err)
	require.Equal(t, claims.StateUnderReview, c.State, "%v", c.Reasons)
	codes := map[string]int{}
	for _, f := range c.Flags {
		require.NotNil(t, f.Line, "%+v", f)
		codes[f.Code] = *f.Line
	}
	require.Equal(t, map[string]int{"part_not_fitted": 1, "part_not_returned": 1}, codes)
	require.EqualValues(t, "manufacturer_warranty", c.Decision.Basis, "the brand pays")
	require.Equal(t, int64(washerLabour), amount(c.Lines[0].Calculated))
	require.Equal(t, int64(drainPump), amount(c.Lines[1].Calculated), "one pump fitted")
	require.Nil(t, c.TotalApproved, "nothing approved before a person decides")

	// A repair recorded by hand (today, on the wall clock the unit's
	// history keeps): no ticket made it.
	loc, err := time.LoadLocation("Asia/Shanghai")
	require.NoError(t, err)
	today := time.Now().In(loc).Format(time.DateOnly)
	legacy, err := e.Customers.RecordServiceEvent(e.Ctx, e.Admin, *tk.UnitID, customers.NewServiceRecord{Kind: "repair",
		OccurredOn: today, Basis: "manufacturer_warranty", FaultCause: "performance", Reference: "LEGACY-0001"})
	require.NoError(t, err)
	c, _, err = e.Claims.SubmitClaim(e.Ctx, own, claims.NewClaim{Kind: claims.KindReimbursement, UnitID: *tk.UnitID, Reference: "SR-LEGACY",
		ClaimSubmission: claims.ClaimSubmission{OccurredOn: today, ServiceRecordID: legacy.ID,
			Fault: claims.ClaimFault{Cause: "performance"}, Lines: []claims.NewClaimLine{labourLine(washerLabour)}}})
	require.NoError(t, err)
	require.Nil(t, c.TicketID)
	require.NoError(t, e.Claims.Adjudicate(e.Ctx, e.Tenant, c.ID, 1))
	c, err = e.Claims.GetClaim(e.Ctx, e.Admin, c.ID)
	require.NoError(t, err)
	require.Equal(t, claims.StateUnderReview, c.State, "%v", c.Reasons)
	require.Contains(t, flagCodesOf(c), "repair_not_verified")
	require.Nil(t, c.TotalApproved)

	// Naming both, the record must be the ticket's repair: another
	// ticket's is 422 at service_record_id, nothing filed.
	another, err := e.Customers.RecordServiceEvent(e.Ctx, e.Admin, *tk.UnitID, customers.NewServiceRecord{Kind: "repair",
		OccurredOn: today, Basis: "manufacturer_warranty", FaultCause: "performance", Reference: customers.TicketReference("TKT-ANOTHER", 1)})
	require.NoError(t, err)
	_, _, err = e.Claims.SubmitClaim(e.Ctx, own, claims.NewClaim{Kind: claims.KindReimbursement, UnitID: *tk.UnitID, Reference: "SR-BOTH",
		ClaimSubmission: claims.ClaimSubmission{OccurredOn: today, TicketID: tk.ID, ServiceRecordID: another.ID,
			Fault: claims.ClaimFault{Cause: "performance"}, Lines: []claims.NewClaimLine{labourLine(washerLabour)}}})
	var te *tenants.Error
	require.ErrorAs(t, err, &te)
	require.Equal(t, []string{"service_record_id"}, []string{te.Fields[0].Location}, "%v", te.Fields)
	require.Len(t, te.Fields, 1)
	cs, _, err = e.Claims.ListClaims(e.Ctx, e.Admin, claims.ClaimFilter{UnitID: *tk.UnitID, Reference: "SR-BOTH"})
	require.NoError(t, err)
	require.Empty(t, cs, "nothing filed")
}

func flagCodesOf(c claims.Claim) []string {
	out := []string{}
	for _, f := range c.Flags {
		out = append(out, f.Code)
	}
	return out
}
