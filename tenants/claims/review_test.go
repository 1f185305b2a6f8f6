package claims_test

import (
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/servicenet/servicenet/internal/domaintest"
	"github.com/servicenet/servicenet/internal/pg"
	"github.com/servicenet/servicenet/tenants"
	"github.com/servicenet/servicenet/tenants/catalog"
	"github.com/servicenet/servicenet/tenants/claims"
	"github.com/servicenet/servicenet/tenants/warranty"
)

// Rule 4: the extended warranty covers a power surge for its 1-3 years. A
// repair done on a day inside the plan's window is owed by the plan even
// when the storefront files the claim after the window closed (the
// contract has moved to expired by then): the claim's date is the
// repair's, not the filing's.
func TestReviewExpiredPlanPaysARepairInsideItsWindow(t *testing.T) {
	w := newWasherShop(t)
	// A second washer bought 3 years and 20 days ago: 12 months of
	// manufacturer warranty, then the two-year plan, which ended some
	// days ago.
	ps, _, err := w.Warranty.ListPlans(w.Ctx, w.Admin, warranty.PlanFilter{Kind: "extended_warranty", Limit: 10})
	require.NoError(t, err)
	require.NotEmpty(t, ps)
	u, err := w.Customers.GetUnit(w.Ctx, w.Admin, w.unit)
	require.NoError(t, err)
	unit := w.Unit(t, u.ModelID, "WSH-EXP-1", -(3*365 + 20), "+86 139 0000 0009")
	k, err := w.Warranty.CreateContract(w.Ctx, w.Admin, warranty.NewContract{UnitID: unit, PlanID: ps[0].ID,
		SoldOn: domaintest.Today(-(3*365 + 10))})
	require.NoError(t, err)
	require.Equal(t, warranty.StateExpired, k.State, "the plan's window has closed: %s..%s", k.StartsOn, k.EndsOn)
	ends, err := time.Parse(time.DateOnly, k.EndsOn)
	require.NoError(t, err)
	repaired := ends.AddDate(0, 0, -1).Format(time.DateOnly) // the plan's last-but-one day
	require.Less(t, repaired, domaintest.Today(0))

	in := w.claim("EXT-LATE", "power_surge")
	in.UnitID, in.OccurredOn = unit, repaired
	c, _, err := w.Claims.SubmitClaim(w.Ctx, w.Admin, in)
	require.NoError(t, err)
	require.NoError(t, w.Claims.Adjudicate(w.Ctx, w.Tenant, c.ID, 1))
	c, err = w.Claims.GetClaim(w.Ctx, w.Admin, c.ID)
	require.NoError(t, err)
	require.Equal(t, claims.StateApproved, c.State, "%v", c.Reasons)
	require.EqualValues(t, "extended_warranty", c.Decision.Basis)
	require.Equal(t, k.ID, c.Decision.ContractID)
	// Labour 100.00 and the board 300.00, both owed by the plan in CNY.
	require.Equal(t, &tenants.Money{Amount: 40000, Currency: "CNY"}, c.TotalApproved)

	// A repair the day after the window closed is not the plan's.
	in = w.claim("EXT-AFTER", "power_surge")
	in.UnitID, in.OccurredOn = unit, ends.AddDate(0, 0, 1).Format(time.DateOnly)
	c, _, err = w.Claims.SubmitClaim(w.Ctx, w.Admin, in)
	require.NoError(t, err)
	require.NoError(t, w.Claims.Adjudicate(w.Ctx, w.Tenant, c.ID, 1))
	c, err = w.Claims.GetClaim(w.Ctx, w.Admin, c.ID)
	require.NoError(t, err)
	require.Equal(t, claims.StateRejected, c.State, "%v", c.Reasons)
}

// The claim state machine admits only its own actions: every other action
// in every state is a conflict and changes nothing.
func TestReviewClaimIllegalTransitions(t *testing.T) {
	w := newWasherShop(t)
	submit := func(ref string) claims.Claim {
		t.Helper()
		c, _, err := w.Claims.SubmitClaim(w.Ctx, w.Admin, w.claim(ref, "power_surge"))
		require.NoError(t, err)
		return c
	}
	get := func(id string) claims.Claim {
		t.Helper()
		c, err := w.Claims.GetClaim(w.Ctx, w.Admin, id)
		require.NoError(t, err)
		return c
	}
	sub := w.claim("x", "power_surge").ClaimSubmission
	actions := map[string]func(id string) error{
		claims.ActionApprove: func(id string) error {
			_, err := w.Claims.ApproveClaim(w.Ctx, w.Admin, id, "", nil, 0)
			return err
		},
		claims.ActionReject: func(id string) error {
			_, err := w.Claims.RejectClaim(w.Ctx, w.Admin, id, "no", 0)
			return err
		},
		claims.ActionRequestInfo: func(id string) error {
			_, err := w.Claims.RequestInfo(w.Ctx, w.Admin, id, "invoice", 0)
			return err
		},
		claims.ActionResubmit: func(id string) error {
			_, err := w.Claims.ResubmitClaim(w.Ctx, w.Admin, id, sub, 0)
			return err
		},
		claims.ActionWithdraw: func(id string) error {
			_, err := w.Claims.WithdrawClaim(w.Ctx, w.Admin, id, "", 0)
			return err
		},
		claims.ActionMarkPaid: func(id string) error {
			_, err := w.Claims.MarkPaid(w.Ctx, w.Admin, id, "BANK", 0)
			return err
		},
	}

	// One claim in each state. The first is adjudicated and approved; the
	// later ones for the same unit and cause are duplicates and stay
	// under review for a person.
	approved := submit("S-APPROVED")
	require.NoError(t, w.Claims.Adjudicate(w.Ctx, w.Tenant, approved.ID, 1))
	require.Equal(t, claims.StateApproved, get(approved.ID).State)
	review := submit("S-REVIEW")
	require.NoError(t, w.Claims.Adjudicate(w.Ctx, w.Tenant, review.ID, 1))
	require.Equal(t, claims.StateUnderReview, get(review.ID).State)
	info := submit("S-INFO")
	require.NoError(t, w.Claims.Adjudicate(w.Ctx, w.Tenant, info.ID, 1))
	_, err := w.Claims.RequestInfo(w.Ctx, w.Admin, info.ID, "invoice", 0)
	require.NoError(t, err)
	rejected := submit("S-REJECTED")
	require.NoError(t, w.Claims.Adjudicate(w.Ctx, w.Tenant, rejected.ID, 1))
	_, err = w.Claims.RejectClaim(w.Ctx, w.Admin, rejected.ID, "duplicate", 0)
	require.NoError(t, err)
	withdrawn := submit("S-WITHDRAWN")
	_, err = w.Claims.WithdrawClaim(w.Ctx, w.Admin, withdrawn.ID, "", 0)
	require.NoError(t, err)
	paid := submit("S-PAID")
	require.NoError(t, w.Claims.Adjudicate(w.Ctx, w.Tenant, paid.ID, 1))
	_, err = w.Claims.ApproveClaim(w.Ctx, w.Admin, paid.ID, "", nil, 0)
	require.NoError(t, err)
	_, err = w.Claims.MarkPaid(w.Ctx, w.Admin, paid.ID, "BANK", 0)
	require.NoError(t, err)
	submitted := submit("S-SUBMITTED")

	legal := map[claims.State][]string{
		claims.StateSubmitted:   {claims.ActionWithdraw},
		claims.StateUnderReview: {claims.ActionApprove, claims.ActionReject, claims.ActionRequestInfo},
		claims.StateNeedsInfo:   {claims.ActionResubmit, claims.ActionWithdraw},
		claims.StateApproved:    {claims.ActionMarkPaid},
	}
	for _, id := range []string{submitted.ID, review.ID, info.ID, approved.ID, rejected.ID, withdrawn.ID, paid.ID} {
		before := get(id)
		require.ElementsMatch(t, legal[before.State], before.AllowedActions, "state %s", before.State)
		for name, act := range actions {
			if slices.Contains(legal[before.State], name) {
				continue
			}
			err := act(id)
			require.Equal(t, tenants.CodeConflict, tenants.ErrorCode(err), "%s on a %s claim: %v", name, before.State, err)
			after := get(id)
			require.Equal(t, before.State, after.State)
			require.Equal(t, before.Revision, after.Revision, "%s on a %s claim changed nothing", name, before.State)
		}
	}
}

// A reviewer approves at most what each line asked, in the claim's
// currency, for lines that exist; the approved total is the sum of the
// approved lines.
func TestReviewApprovedAmountsAgainstLines(t *testing.T) {
	w := newWasherShop(t)
	first, _, err := w.Claims.SubmitClaim(w.Ctx, w.Admin, w.claim("A-1", "power_surge"))
	require.NoError(t, err)
	require.NoError(t, w.Claims.Adjudicate(w.Ctx, w.Tenant, first.ID, 1))
	c, _, err := w.Claims.SubmitClaim(w.Ctx, w.Admin, w.claim("A-2", "power_surge"))
	require.NoError(t, err)
	require.NoError(t, w.Claims.Adjudicate(w.Ctx, w.Tenant, c.ID, 1)) // a duplicate: under review

	for _, bad := range []struct {
		lines []claims.ClaimLineAmount
		field string
	}{
		{[]claims.ClaimLineAmount{{Line: 0, Approved: cny(10001)}}, "lines[0].approved.amount"},
		{[]claims.ClaimLineAmount{{Line: 1, Approved: cny(-1)}}, "lines[0].approved.amount"},
		{[]claims.ClaimLineAmount{{Line: 2, Approved: cny(100)}}, "lines[0].line"},
		{[]claims.ClaimLineAmount{{Line: 0, Approved: tenants.Money{Amount: 100, Currency: "USD"}}}, "lines[0].approved.currency"},
	} {
		_, err := w.Claims.ApproveClaim(w.Ctx, w.Admin, c.ID, "", bad.lines, 0)
		require.Equal(t, []string{bad.field}, domaintest.Fields(t, err))
	}
	c, err = w.Claims.ApproveClaim(w.Ctx, w.Admin, c.ID, "", []claims.ClaimLineAmount{{Line: 1, Approved: cny(12345)}}, 0)
	require.NoError(t, err)
	require.Equal(t, claims.StateApproved, c.State)
	// Labour as calculated (100.00), the board as the reviewer said.
	require.Equal(t, int64(10000), amount(c.Lines[0].Approved))
	require.Equal(t, claims.DecisionApproved, c.Lines[0].Decision)
	require.Equal(t, int64(12345), amount(c.Lines[1].Approved))
	require.Equal(t, claims.DecisionPartlyApproved, c.Lines[1].Decision)
	require.Equal(t, &tenants.Money{Amount: 22345, Currency: "CNY"}, c.TotalApproved)
	require.Equal(t, int64(40000), c.TotalRequested.Amount)
}

// A unit returned (or swapped) has left the customer: a claim for a repair
// after that day is flagged unit_not_in_service and waits for a person,
// not auto-approved; a repair before it is claimed as any other.
func TestReviewRepairAfterTheUnitLeftServiceIsFlagged(t *testing.T) {
	w := newWasherShop(t)
	require.NoError(t, pg.InTenantTx(w.Ctx, w.Tx, w.Tenant, func(tx pg.TenantTx) error {
		_, err := tx.Exec(w.Ctx, `UPDATE units SET status = 'returned', updated_at = now() - interval '10 days'
			WHERE tenant_id = $1 AND id = $2`, tx.TenantID, w.unit)
		return err
	}))
	flagged := func(ref, on string) claims.Claim {
		in := w.claim(ref, "power_surge")
		in.OccurredOn = on
		return w.adjudicated(t, in)
	}
	codes := func(c claims.Claim) []string {
		var out []string
		for _, f := range c.Flags {
			out = append(out, f.Code)
		}
		return out
	}
	after := flagged("AFTER-RETURN", domaintest.Today(-1))
	require.Contains(t, codes(after), "unit_not_in_service", "%v", after.Flags)
	require.NotEqual(t, claims.StateApproved, after.State, "a person decides")
	before := flagged("BEFORE-RETURN", domaintest.Today(-20))
	require.NotContains(t, codes(before), "unit_not_in_service", "%v", before.Flags)
}

// A servicer's labor and visit are paid at most at the price list's rates,
// as parts are at most at its prices (plus the markup cap): a claim asking
// 100.00 labor and 60.00 visit for a washer repair, where the price list
// in effect that day charges 80.00 and 50.00, is flagged above_price_list
// on both lines and waits for a person; the calculated amounts are the
// list's (80.00 + 50.00 + the board's 300.00 = 430.00, owed by the plan).
func TestReviewLaborAndVisitAboveThePriceListAreFlagged(t *testing.T) {
	w := newWasherShop(t)
	_, err := w.Catalog.CreatePriceList(w.Ctx, w.Admin, catalog.NewPriceList{EffectiveFrom: domaintest.Today(0),
		Labor:           []catalog.LaborRate{{Category: "washer", ServiceKind: "repair", Amount: cny(8000)}},
		DefaultVisitFee: new(cny(5000))})
	require.NoError(t, err)
	in := w.claim("ABOVE-LIST", "power_surge")
	in.Lines = append(in.Lines, claims.NewClaimLine{Kind: "visit", Requested: cny(6000)})
	c, _, err := w.Claims.SubmitClaim(w.Ctx, w.Admin, in)
	require.NoError(t, err)
	require.NoError(t, w.Claims.Adjudicate(w.Ctx, w.Tenant, c.ID, 1))
	c, err = w.Claims.GetClaim(w.Ctx, w.Admin, c.ID)
	require.NoError(t, err)
	var lines []int
	for _, f := range c.Flags {
		if f.Code == "above_price_list" {
			lines = append(lines, *f.Line)
		}
	}
	require.Equal(t, []int{0, 2}, lines, "%+v", c.Flags)
	require.NotEqual(t, claims.StateApproved, c.State, "a person decides")
	require.Equal(t, cny(8000), *c.Lines[0].Calculated, "labor at the list's 80.00")
	require.Equal(t, cny(30000), *c.Lines[1].Calculated, "the board")
	require.Equal(t, cny(5000), *c.Lines[2].Calculated, "visit at the list's 50.00")
	require.Equal(t, cny(43000), *c.TotalCalculated)
}
