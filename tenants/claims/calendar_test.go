package claims_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/servicenet/servicenet/internal/domaintest"
	"github.com/servicenet/servicenet/internal/pg"
	"github.com/servicenet/servicenet/tenants"
	"github.com/servicenet/servicenet/tenants/claims"
	"github.com/servicenet/servicenet/tenants/warranty"
	"github.com/servicenet/servicenet/tenants/warranty/entitlement"
)

// A servicer's claim under a no-reason repair plan for a repair on Tuesday
// 2026-09-29 (seed 002: 100元/次 服务满意金, paid 五个工作日内): the decision
// the adjudication stores shows the compensation due on the tenant's
// working-day calendar, the one the payout it becomes is due on. Wed 30
// Sep (1); 1-7 Oct 国庆, the tenant's holidays; Thu 8 (2), Fri 9 (3); the
// weekend; Mon 12 (4), Tue 13 (5): due 2026-10-13. Counted on weekends
// alone it was 2026-10-06, a week before the payout.
func TestClaimCompensationIsDueOnTheTenantsWorkingDays(t *testing.T) {
	w := newWasherShop(t)
	u, err := w.Customers.GetUnit(w.Ctx, w.Admin, w.unit)
	require.NoError(t, err)
	purchase := time.Date(2026, 9, 1, 0, 0, 0, 0, time.UTC)
	today, err := time.Parse(time.DateOnly, domaintest.Today(0))
	require.NoError(t, err)
	daysAgo := int(today.Sub(purchase).Hours() / 24)
	unit := w.Unit(t, u.ModelID, "WSH-NRR-CAL", -daysAgo, "+86 139 0000 0611")
	eighty, five := 80, 5
	plan, err := w.Warranty.CreatePlan(w.Ctx, w.Admin, warranty.NewPlan{Code: "NRR-CAL", Name: "无理由保修", Kind: "no_reason_repair",
		EligibleCategories: []string{"washer"}, DurationMonths: 12, DiscountPercent: &eighty,
		Compensation: new(cny(10000)), PayoutBusinessDays: &five, Price: cny(5900),
		DepreciationSchedule: []entitlement.DepreciationStep{{UpToMonth: 12, Percent: 10}}})
	require.NoError(t, err)
	contract := w.Contract(t, unit, plan.ID, -daysAgo)
	for d := 1; d <= 7; d++ {
		_, _, err := w.Payouts.PutHoliday(w.Ctx, w.Admin, time.Date(2026, 10, d, 0, 0, 0, 0, time.UTC).Format(time.DateOnly), "国庆节")
		require.NoError(t, err)
	}

	in := w.claim("NRR-CAL-1", "unstable_voltage")
	in.Kind, in.UnitID, in.OccurredOn = claims.KindNoReasonRepair, unit, "2026-09-29"
	c, _, err := w.Claims.SubmitClaim(w.Ctx, w.Admin, in)
	require.NoError(t, err)
	require.NoError(t, w.Claims.Adjudicate(w.Ctx, w.Tenant, c.ID, 1))
	c, err = w.Claims.GetClaim(w.Ctx, w.Admin, c.ID)
	require.NoError(t, err)
	require.NotNil(t, c.Decision, "%v", c.Reasons)
	require.Equal(t, contract, c.Decision.ContractID)
	comp := c.Decision.Compensation
	require.NotNil(t, comp, "rule 7 owes the satisfaction compensation")
	// 100.00 CNY, owed by the plan, to the customer, by 2026-10-13.
	require.Equal(t, cny(10000), comp.Amount)
	require.Equal(t, entitlement.PayerPlan, comp.Payer)
	require.Equal(t, "2026-10-13", comp.Due)
}

// A servicer's claim for a repair done on a unit before an exchange the
// brand owed, filed after it: the extended warranty that covered the repair
// followed the replacement unit (warranty.FollowReplacementUnit), and the
// adjudication still finds it on the old unit for a repair done by the day
// it left. Rule 4: the plan owes labour 100.00 and the board 300.00.
func TestClaimForARepairBeforeAnExchangeFindsThePlanThatMoved(t *testing.T) {
	w := newWasherShop(t)
	u, err := w.Customers.GetUnit(w.Ctx, w.Admin, w.unit)
	require.NoError(t, err)
	replacement := w.Unit(t, u.ModelID, "WSH-REPL-1", 0, "+86 139 0000 0001")
	require.NoError(t, pg.InTenantTx(w.Ctx, w.Tx, w.Tenant, func(tx pg.TenantTx) error {
		moved, err := warranty.FollowReplacementUnit(w.Ctx, tx, w.unit, replacement, "", "statutory exchange (test)", "test")
		require.Equal(t, []string{w.contract}, moved)
		return err
	}))

	in := w.claim("EXT-BEFORE-SWAP", "power_surge")
	in.OccurredOn = domaintest.Today(-1)
	c, _, err := w.Claims.SubmitClaim(w.Ctx, w.Admin, in)
	require.NoError(t, err)
	require.NoError(t, w.Claims.Adjudicate(w.Ctx, w.Tenant, c.ID, 1))
	c, err = w.Claims.GetClaim(w.Ctx, w.Admin, c.ID)
	require.NoError(t, err)
	require.Equal(t, claims.StateApproved, c.State, "%v", c.Reasons)
	require.EqualValues(t, "extended_warranty", c.Decision.Basis)
	require.Equal(t, w.contract, c.Decision.ContractID)
	require.Equal(t, &tenants.Money{Amount: 40000, Currency: "CNY"}, c.TotalApproved)
}
