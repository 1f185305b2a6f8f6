package claims_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/servicenet/servicenet/tenants/claims"
	"github.com/servicenet/servicenet/tenants/customers"
	"github.com/servicenet/servicenet/tenants/warranty"
)

// One repair is paid once, whatever fault cause a second claim for it
// names. A washer past its 12 months under the two-year extended warranty
// (rule 4: power surges and unstable voltage repaired free) had a repair
// recorded yesterday (service record), claimed for labour 100.00 as a
// power surge and approved; a second claim naming the same repair as
// unstable voltage is a duplicate,
// left for a person with nothing approved. Before, the duplicate check
// matched the fault cause only, and the second claim was auto-approved:
// the brand paid 100.00 twice for one repair.
func TestClaimForTheSameRepairUnderAnotherCauseIsADuplicate(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ctx := context.Background()
	unit := b.unit(t, "SN-SAME-1", b.day(-430))
	_, err := b.war.CreateContract(ctx, b.admin, warranty.NewContract{UnitID: unit, PlanID: b.ext, SoldOn: b.day(-420)})
	require.NoError(t, err)
	rec, err := b.cus.RecordServiceEvent(ctx, b.admin, unit, customers.NewServiceRecord{Kind: "repair", OccurredOn: b.day(-1),
		Basis: "extended_warranty", FaultCause: "power_surge"})
	require.NoError(t, err)
	file := func(ref, cause string) claims.Claim {
		c, _, err := b.svc.SubmitClaim(ctx, b.admin, claims.NewClaim{Kind: claims.KindExtendedWarranty, UnitID: unit, Reference: ref,
			ClaimSubmission: claims.ClaimSubmission{Fault: claims.ClaimFault{Cause: cause}, OccurredOn: b.day(-1),
				ServiceRecordID: rec.ID, Lines: []claims.NewClaimLine{labor(10000)}}})
		require.NoError(t, err)
		require.NoError(t, b.svc.Adjudicate(ctx, b.admin.TenantID, c.ID, 1))
		c, err = b.svc.GetClaim(ctx, b.admin, c.ID)
		require.NoError(t, err)
		return c
	}
	first := file("SAME-1", "power_surge")
	require.Equal(t, claims.StateApproved, first.State, "%v", first.Reasons)
	require.Equal(t, int64(10000), amount(first.TotalApproved))

	again := file("SAME-2", "unstable_voltage")
	require.Equal(t, claims.StateUnderReview, again.State, "%v", again.Reasons)
	require.Equal(t, []string{"duplicate"}, flagCodes(again))
	require.Contains(t, again.Flags[0].Detail, first.ID)
	require.Nil(t, again.TotalApproved, "nothing approved: the repair is paid once")
}
