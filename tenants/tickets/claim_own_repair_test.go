package tickets_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/servicenet/servicenet/tenants"
	"github.com/servicenet/servicenet/tenants/claims"
	"github.com/servicenet/servicenet/tenants/tickets"
)

// A claim for a ticket's repair, on the ticket as it was really completed:
// a demo washer out of warranty (bought 1,200 days ago), repaired on site,
// the customer paying labour 120.00 and the visit 50.00; the completion
// records the repair in the unit's history under "<number>/1". A warranty
// claim for that ticket's labour is adjudicated without that repair: out of
// warranty, the customer paid, the brand owes nothing. Before, the
// adjudication counted the ticket's own paid repair as an earlier one,
// found rule 8's repeat promise in it and auto-approved 120.00 from the
// brand (89bd510 matched only a reference equal to the number, which no
// completion writes).
func TestRolledBackTicketClaimForItsRepairIsJudgedWithoutIt(t *testing.T) {
	p := newPaths(t)
	tk, tech := p.onSite(t, p.open(t, "OWN-0010", 1200))
	p.diagnose(t, tech, tk.ID, tickets.WorkInput{ServiceKind: "repair", IncludeVisit: true}, true)
	tk = p.complete(t, tech, tk.ID)
	requirePayers(t, tk, washerLabour+washerVisit, 0, 0)
	hist, _, err := p.Customers.ListHistory(p.Ctx, p.Admin, *tk.UnitID, 10, "")
	require.NoError(t, err)
	require.Len(t, hist, 1)
	require.Equal(t, tk.Number+"/1", *hist[0].Reference)
	require.True(t, hist[0].Paid)

	// The claim is filed on the day of the repair (the visit's window, two
	// weekdays ahead: the claims service's clock is the test's).
	p.Claims.Now = func() time.Time { return p.now }
	c, _, err := p.Claims.SubmitClaim(p.Ctx, p.Admin, claims.NewClaim{Kind: claims.KindWarranty, UnitID: *tk.UnitID, Reference: "OWN-0010",
		ClaimSubmission: claims.ClaimSubmission{OccurredOn: hist[0].OccurredOn, TicketID: tk.ID,
			Fault: claims.ClaimFault{Cause: "performance"},
			Lines: []claims.NewClaimLine{{Kind: "labor", Requested: tenants.Money{Amount: washerLabour, Currency: "CNY"}}}}})
	require.NoError(t, err)
	require.NoError(t, p.Claims.Adjudicate(p.Ctx, p.Tenant, c.ID, 1))
	c, err = p.Claims.GetClaim(p.Ctx, p.Admin, c.ID)
	require.NoError(t, err)
	require.Equal(t, claims.StateRejected, c.State, "%v", c.Reasons)
	require.Len(t, c.Lines, 1)
	require.Equal(t, "rejected", c.Lines[0].Decision, "%+v", c.Lines[0])
	require.NotNil(t, c.Lines[0].Approved)
	require.Zero(t, c.Lines[0].Approved.Amount, "the customer paid the repair: the brand owes nothing")
}
