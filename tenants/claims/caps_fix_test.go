package claims_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/servicenet/servicenet/internal/domaintest"
	"github.com/servicenet/servicenet/tenants/catalog"
	"github.com/servicenet/servicenet/tenants/claims"
)

// withPriceList gives the washer shop a price list in effect today:
// washer repair labour 80.00, a visit 50.00 (as a job's quote prices them:
// one labour and one visit per repair).
func (w *washerShop) withPriceList(t *testing.T) {
	t.Helper()
	_, err := w.Catalog.CreatePriceList(w.Ctx, w.Admin, catalog.NewPriceList{EffectiveFrom: domaintest.Today(0),
		Labor:           []catalog.LaborRate{{Category: "washer", ServiceKind: "repair", Amount: cny(8000)}},
		DefaultVisitFee: new(cny(5000))})
	require.NoError(t, err)
}

// flagLines are c's flags of code by line.
func flagLines(c claims.Claim, code string) []int {
	lines := []int{}
	for _, f := range c.Flags {
		if f.Code == code && f.Line != nil {
			lines = append(lines, *f.Line)
		}
	}
	return lines
}

// One repair is paid one labour and one visit at the price list's rates,
// however the claim splits them. The price list charges a washer repair's
// labour 80.00 and its visit 50.00 once per job (a quote has one labour
// line and at most one visit line). A claim under the extended warranty
// (rule 4: a power surge repaired free, the plan pays labour, parts and,
// for a large appliance, the visit) asks labour 80.00 twice, the board
// 300.00 and the visit 50.00 twice, on separate lines: each line within
// the rate, it was auto-approved 560.00, the plan paying a second labour
// and a second visit. Now the second labour and the second visit are
// above the price list for one repair (above_price_list on lines 1 and 4,
// owed nothing): the plan owes 80.00 + 300.00 + 50.00 = 430.00, and a
// person decides.
func TestClaimLabourAndVisitArePaidOncePerRepair(t *testing.T) {
	w := newWasherShop(t)
	w.withPriceList(t)
	in := w.claim("ONCE-PER-REPAIR", "power_surge")
	in.Lines = []claims.NewClaimLine{{Kind: "labor", Requested: cny(8000)}, {Kind: "labor", Description: "复查", Requested: cny(8000)},
		{Kind: "part", PartID: w.board, Quantity: 1, Requested: cny(30000)},
		{Kind: "visit", Requested: cny(5000)}, {Kind: "visit", Description: "二次上门", Requested: cny(5000)}}
	c := w.adjudicated(t, in)
	require.Equal(t, claims.StateUnderReview, c.State, "%v", c.Reasons)
	require.Equal(t, []int{1, 4}, flagLines(c, "above_price_list"), "%+v", c.Flags)
	require.Len(t, c.Flags, 2, "%+v", c.Flags)
	require.EqualValues(t, "extended_warranty", c.Decision.Basis)
	require.Equal(t, w.contract, c.Decision.ContractID, "the plan pays")
	for i, want := range []int64{8000, 0, 30000, 5000, 0} {
		require.Equal(t, want, amount(c.Lines[i].Calculated), "line %d", i)
		require.Nil(t, c.Lines[i].Approved, "line %d: nothing approved before a person decides", i)
	}
	require.Equal(t, cny(43000), *c.TotalCalculated)

	// A labour line's quantity does not multiply the rate: labour for
	// two, 160.00, is one repair's 80.00.
	in = w.claim("LABOUR-TIMES-TWO", "unstable_voltage")
	in.Lines = []claims.NewClaimLine{{Kind: "labor", Quantity: 2, Requested: cny(16000)}}
	c = w.adjudicated(t, in)
	require.Equal(t, claims.StateUnderReview, c.State, "%v", c.Reasons)
	require.Equal(t, []int{0}, flagLines(c, "above_price_list"), "%+v", c.Flags)
	require.Equal(t, int64(8000), amount(c.Lines[0].Calculated))
}

// A line of kind other (a charge the price list does not price: freight,
// a hauling fee) is not paid unpriced by adjudication alone. A claim for
// the washer's power surge under the extended warranty asking labour
// 100.00 and other 500.00 was auto-approved 600.00. Now the other line is
// flagged unpriced_line and the claim waits for a person; the calculated
// amounts are what the plan would owe (100.00 + 500.00), nothing approved.
func TestClaimOtherLineWaitsForAPerson(t *testing.T) {
	w := newWasherShop(t)
	in := w.claim("OTHER-LINE", "power_surge")
	in.Lines = []claims.NewClaimLine{{Kind: "labor", Requested: cny(10000)}, {Kind: "other", Description: "搬运费", Requested: cny(50000)}}
	c := w.adjudicated(t, in)
	require.Equal(t, claims.StateUnderReview, c.State, "%v", c.Reasons)
	require.Equal(t, []int{1}, flagLines(c, "unpriced_line"), "%+v", c.Flags)
	require.Len(t, c.Flags, 1, "%+v", c.Flags)
	require.Equal(t, int64(10000), amount(c.Lines[0].Calculated))
	require.Equal(t, int64(50000), amount(c.Lines[1].Calculated))
	require.Nil(t, c.TotalApproved, "nothing approved before a person decides")
	require.Empty(t, w.approved, "no payout hook ran")

	// A claim without an other line is auto-approved as before.
	c = w.adjudicated(t, w.claim("NO-OTHER-LINE", "unstable_voltage"))
	require.Equal(t, claims.StateApproved, c.State, "%v %+v", c.Reasons, c.Flags)
	require.Equal(t, int64(40000), amount(c.TotalApproved))
}

// A reviewer approves what adjudication calculated, less, or more only by
// an override that says why, recorded on the line with who made it; never
// more than the line asked. The washer's claim under the extended warranty
// asks labour 100.00 where the price list charges 80.00 (flagged
// above_price_list, calculated 80.00) and the board 300.00. Approving the
// labour at 90.00 was accepted silently, the plan paying 10.00 that no
// rule owed. Now it is 422 at lines[0].approved.amount and nothing
// changes; with override_reason the 90.00 is approved, the line carrying
// its override (calculated 80.00, the reason, the reviewer's key); an
// override_reason on a line not above its calculation is 422 at
// lines[i].override_reason, and a line given twice 422 at lines[i].line.
func TestClaimReviewerApprovesAboveTheCalculationOnlyByOverride(t *testing.T) {
	w := newWasherShop(t)
	w.withPriceList(t)
	c := w.adjudicated(t, w.claim("OVERRIDE", "power_surge"))
	require.Equal(t, claims.StateUnderReview, c.State, "%v", c.Reasons)
	require.Equal(t, []int{0}, flagLines(c, "above_price_list"))
	require.Equal(t, int64(8000), amount(c.Lines[0].Calculated))
	require.Equal(t, int64(30000), amount(c.Lines[1].Calculated))

	for _, bad := range []struct {
		lines []claims.ClaimLineAmount
		field string
	}{
		{[]claims.ClaimLineAmount{{Line: 0, Approved: cny(9000)}}, "lines[0].approved.amount"},
		{[]claims.ClaimLineAmount{{Line: 0, Approved: cny(9000), Reason: "checked"}}, "lines[0].approved.amount"},
		{[]claims.ClaimLineAmount{{Line: 0, Approved: cny(10001), OverrideReason: "more"}}, "lines[0].approved.amount"},
		{[]claims.ClaimLineAmount{{Line: 1, Approved: cny(30000), OverrideReason: "as asked"}}, "lines[0].override_reason"},
		{[]claims.ClaimLineAmount{{Line: 0, Approved: cny(8000)}, {Line: 0, Approved: cny(9000), OverrideReason: "x"}}, "lines[1].line"},
	} {
		_, err := w.Claims.ApproveClaim(w.Ctx, w.Admin, c.ID, "", bad.lines, 0)
		require.Equal(t, []string{bad.field}, domaintest.Fields(t, err), "%+v", bad.lines)
	}
	after, err := w.Claims.GetClaim(w.Ctx, w.Admin, c.ID)
	require.NoError(t, err)
	require.Equal(t, claims.StateUnderReview, after.State, "refused approvals change nothing")
	require.Equal(t, c.Revision, after.Revision)
	require.Empty(t, w.approved)

	why := "two technicians: the drum had to be lifted"
	c, err = w.Claims.ApproveClaim(w.Ctx, w.Admin, c.ID, "checked", []claims.ClaimLineAmount{{Line: 0, Approved: cny(9000), OverrideReason: why}}, 0)
	require.NoError(t, err)
	require.Equal(t, claims.StateApproved, c.State)
	require.Equal(t, int64(9000), amount(c.Lines[0].Approved))
	require.Equal(t, &claims.LineOverride{Calculated: cny(8000), Reason: why, By: w.Admin.KeyID}, c.Lines[0].Override)
	require.Equal(t, int64(30000), amount(c.Lines[1].Approved), "the board as calculated")
	require.Nil(t, c.Lines[1].Override)
	require.Equal(t, cny(39000), *c.TotalApproved, "paid by the plan: 90.00 + 300.00")
	require.Equal(t, w.contract, c.Decision.ContractID)
	require.Len(t, w.approved, 1)
	require.Equal(t, int64(39000), amount(w.approved[0].TotalApproved), "the payout hook saw the override's amount")
}
