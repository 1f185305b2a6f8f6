package tickets_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/servicenet/servicenet/internal/domaintest"
	"github.com/servicenet/servicenet/tenants"
	"github.com/servicenet/servicenet/tenants/claims"
	"github.com/servicenet/servicenet/tenants/tickets"
)

// A repair is decided on the day the customer reported it (seed 000: the
// technician tells the customer at diagnosis whether the unit is out of
// warranty and what it costs, 若超保产品,则向用户讲明产品超保需收费,征得用户同意):
// a washer whose 36-month whole-unit warranty ends on the day its fault is
// reported is repaired under the warranty, labour 120.00 + visit 50.00 to
// the brand, at the diagnosis two or more days later and at the completion
// after it, not charged to the customer because the visit came after the
// warranty's last day.
func TestRepairIsDecidedOnTheDayItWasReported(t *testing.T) {
	e := newMoneyEnv(t)
	tk := e.onSite(t, "repair", e.unit(t, boughtForAWarrantyEndingToday(t), false), -6)
	require.Greater(t, e.start.Format(time.DateOnly), domaintest.Today(0), "the visit is after the warranty's last day")

	tk = e.repair(t, tk.ID)
	customer, brand, plan := totals(t, tk)
	require.Zero(t, customer, "reported on the warranty's last day: nothing for the customer")
	require.Equal(t, int64(washerLabour+washerVisit), brand, "labour 120.00 + visit 50.00 under the manufacturer warranty")
	require.Zero(t, plan)
	require.Equal(t, "manufacturer_warranty", tk.Completion.Basis)
}

// boughtForAWarrantyEndingToday is how many days ago a demo washer (36
// months of whole-unit warranty) was bought whose warranty's last day is
// today in the tenant's zone: TermEnd(purchase, 36) = purchase + 36 months
// - 1 day.
func boughtForAWarrantyEndingToday(t *testing.T) int {
	t.Helper()
	today, err := time.Parse(time.DateOnly, domaintest.Today(0))
	require.NoError(t, err)
	return int(today.Sub(today.AddDate(0, -36, 1)).Hours() / 24)
}

// A claim for such a ticket's repair is decided on the same day as the
// ticket: the repair the ticket charged to the brand under the warranty
// (labour 120.00, visit 50.00) is the brand's to reimburse, though the
// repair itself, the claim's occurred_on, came after the warranty's last
// day. Before, the claim was rejected as out of warranty.
func TestRolledBackTicketClaimIsDecidedOnTheReportedDay(t *testing.T) {
	p := newPaths(t)
	tk, tech := p.onSite(t, p.open(t, "OWN-0011", boughtForAWarrantyEndingToday(t)))
	p.diagnose(t, tech, tk.ID, tickets.WorkInput{ServiceKind: "repair", IncludeVisit: true}, true)
	tk = p.complete(t, tech, tk.ID)
	requirePayers(t, tk, 0, washerLabour+washerVisit, 0)
	hist, _, err := p.Customers.ListHistory(p.Ctx, p.Admin, *tk.UnitID, 10, "")
	require.NoError(t, err)
	require.Len(t, hist, 1)
	require.Greater(t, hist[0].OccurredOn, domaintest.Today(0), "repaired after the warranty's last day")

	p.Claims.Now = func() time.Time { return p.now }
	c, _, err := p.Claims.SubmitClaim(p.Ctx, p.Admin, claims.NewClaim{Kind: claims.KindWarranty, UnitID: *tk.UnitID, Reference: "OWN-0011",
		ClaimSubmission: claims.ClaimSubmission{OccurredOn: hist[0].OccurredOn, TicketID: tk.ID,
			Fault: claims.ClaimFault{Cause: "performance"},
			Lines: []claims.NewClaimLine{
				{Kind: "labor", Requested: tenants.Money{Amount: washerLabour, Currency: "CNY"}},
				{Kind: "visit", Requested: tenants.Money{Amount: washerVisit, Currency: "CNY"}}}}})
	require.NoError(t, err)
	require.NoError(t, p.Claims.Adjudicate(p.Ctx, p.Tenant, c.ID, 1))
	c, err = p.Claims.GetClaim(p.Ctx, p.Admin, c.ID)
	require.NoError(t, err)
	require.Equal(t, claims.StateApproved, c.State, "%v", c.Reasons)
	require.Len(t, c.Lines, 2)
	for i, want := range []int64{washerLabour, washerVisit} {
		require.NotNil(t, c.Lines[i].Approved)
		require.Equal(t, want, c.Lines[i].Approved.Amount, "the brand reimburses what the ticket charged it: %+v", c.Lines[i])
	}
}
