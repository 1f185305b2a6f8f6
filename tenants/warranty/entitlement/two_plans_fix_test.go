package entitlement

import (
	"testing"

	"github.com/stretchr/testify/require"
)

// A refrigerator bought on 2026-03-01 (12 months' warranty, through
// 2027-02-28) with a no-reason repair plan (2026-03-02..2027-03-01) and a
// two-year extended warranty (from 2027-03-01): on 2027-03-01 both are in
// force and both repair an environmental fault free (rules 4 and 7). The
// customer holds the no-reason plan, whose provider, besides the free
// repair, owes 100.00 per such fault (seed 002, 无理由保修: 前述两类故障发生时,
// 服务商除修复产品故障外,还额外提供100元/次的服务满意金): the repair is
// the no-reason plan's, the plan pays the whole 230.00 and owes the 100.00,
// due five business days later (Mon 1 → Mon 8 March). The extended
// warranty still pays what only it covers: a performance fault that day.
func TestTwoPlansEnvironmentalFaultKeepsTheNoReasonCompensation(t *testing.T) {
	both := func(c Cause, r RemedyKind) Input {
		in := withContracts(input(CategoryRefrigerator, 400000, c, "2027-03-01"), extended(CategoryRefrigerator), scheduledNoReasonPlan())
		in.RequestedRemedy = r
		return in
	}
	for _, r := range []RemedyKind{"", RemedyRepair} {
		d, err := Decide(both(CauseDust, r))
		require.NoError(t, err)
		require.Equal(t, RemedyRepair, d.Remedy, "requested %q", r)
		require.Equal(t, BasisNoReasonRepair, d.Basis, "requested %q", r)
		require.Equal(t, "ctr_nr", d.ContractID)
		require.Equal(t, int64(0), d.Totals.Customer.Amount)
		require.Equal(t, int64(23000), d.Totals.Plan.Amount, "labour 80.00 + pump 120.00 + visit 30.00")
		require.Equal(t, int64(0), d.Totals.Brand.Amount)
		require.NotNil(t, d.Compensation, "requested %q", r)
		require.Equal(t, cny(10000), d.Compensation.Amount)
		require.Equal(t, "2027-03-08", d.Compensation.Due)
		require.Equal(t, PayerPlan, d.Compensation.Payer)
	}

	d, err := Decide(both(CausePerformance, ""))
	require.NoError(t, err)
	require.Equal(t, BasisExtendedWarranty, d.Basis)
	require.Equal(t, "ctr_ext", d.ContractID)
	require.Equal(t, int64(23000), d.Totals.Plan.Amount)
	require.Nil(t, d.Compensation)
}
