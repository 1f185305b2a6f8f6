package payouts_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/servicenet/servicenet/internal/domaintest"
	"github.com/servicenet/servicenet/tenants/claims"
	"github.com/servicenet/servicenet/tenants/payouts"
	"github.com/servicenet/servicenet/tenants/warranty"
	"github.com/servicenet/servicenet/tenants/warranty/entitlement"
)

func intp(n int) *int { return &n }

// An approved no-reason-repair claim owes the plan's 100.00 within 5
// business days of the repair: the payout is scheduled in the approval's
// transaction (with its deadline job), counting past the weekend and the
// tenant's holiday; paying it is recorded once.
func TestRolledBackNoReasonClaimSchedulesPayout(t *testing.T) {
	e := domaintest.New(t)
	model, board := e.Product(t, "XQG100", "washer", 12, "control_board", 30000)
	unit := e.Unit(t, model, "WSH0002", -30, "+86 139 0000 0002")
	plan, err := e.Warranty.CreatePlan(e.Ctx, e.Admin, warranty.NewPlan{Code: "NRR-1Y", Name: "无理由保修", Kind: "no_reason_repair",
		EligibleCategories: []string{"refrigerator", "air_conditioner", "washer", "tv"}, DurationMonths: 12, DiscountPercent: intp(80),
		Compensation: new(domaintest.CNY(10000)), PayoutBusinessDays: intp(5), Price: domaintest.CNY(5900),
		DepreciationSchedule: []entitlement.DepreciationStep{{UpToMonth: 6, Percent: 5}, {UpToMonth: 12, Percent: 10}}})
	require.NoError(t, err)
	contract := e.Contract(t, unit, plan.ID, -30)

	// The repair: the Friday 7 to 13 days ago (inside the plan).
	friday, err := time.Parse(time.DateOnly, domaintest.Today(-7))
	require.NoError(t, err)
	for friday.Weekday() != time.Friday {
		friday = friday.AddDate(0, 0, -1)
	}
	holiday := friday.AddDate(0, 0, 4) // the Tuesday after
	_, created, err := e.Payouts.PutHoliday(e.Ctx, e.Admin, holiday.Format(time.DateOnly), "厂庆")
	require.NoError(t, err)
	require.True(t, created)

	c, _, err := e.Claims.SubmitClaim(e.Ctx, e.Admin, claims.NewClaim{Kind: claims.KindNoReasonRepair, UnitID: unit, Reference: "NRR-PAY-1",
		ClaimSubmission: claims.ClaimSubmission{OccurredOn: friday.Format(time.DateOnly),
			Fault: claims.ClaimFault{Cause: "unstable_voltage", PartCategories: []string{"control_board"}},
			Lines: []claims.NewClaimLine{{Kind: "labor", Requested: domaintest.CNY(10000)},
				{Kind: "part", PartID: board, Quantity: 1, Requested: domaintest.CNY(30000)}}}})
	require.NoError(t, err)
	require.Equal(t, 0, e.Jobs(t, "payout_deadline"), "nothing is owed before the approval")
	require.NoError(t, e.Claims.Adjudicate(e.Ctx, e.Tenant, c.ID, 1))

	c, err = e.Claims.GetClaim(e.Ctx, e.Admin, c.ID)
	require.NoError(t, err)
	require.Equal(t, claims.StateApproved, c.State)
	// Rule 7: unstable voltage is an environmental fault, repaired free
	// under the plan: labour 100.00 + the board 300.00 = 400.00 approved.
	require.NotNil(t, c.TotalApproved)
	require.Equal(t, int64(40000), c.TotalApproved.Amount)

	ps, _, err := e.Payouts.ListPayouts(e.Ctx, e.Admin, payouts.Filter{ClaimID: c.ID, Limit: 10})
	require.NoError(t, err)
	require.Len(t, ps, 1, "the approved claim schedules one payout")
	p := ps[0]
	// Rule 7: 100.00 satisfaction compensation, owed by the plan of the
	// unit's contract.
	require.Equal(t, int64(10000), p.Amount.Amount)
	require.Equal(t, "CNY", p.Amount.Currency)
	require.Equal(t, "plan", p.Payer)
	require.Equal(t, contract, *p.ContractID)
	require.Equal(t, unit, p.UnitID)
	require.Equal(t, c.ID, *p.ClaimID)
	require.Equal(t, friday.Format(time.DateOnly), p.CountedFrom)
	require.Equal(t, 5, p.BusinessDays)
	// Mon, (Tue holiday), Wed, Thu, Fri, Mon: 10 days after the Friday.
	require.Equal(t, friday.AddDate(0, 0, 10).Format(time.DateOnly), p.DueOn)
	require.Equal(t, payouts.State("scheduled"), p.State)
	require.Equal(t, 1, e.Jobs(t, "payout_deadline"), "one deadline job, in the approval's transaction")

	// Adjudication again (a rerun) schedules nothing more.
	require.NoError(t, e.Claims.Adjudicate(e.Ctx, e.Tenant, c.ID, 1))
	ps, _, err = e.Payouts.ListPayouts(e.Ctx, e.Admin, payouts.Filter{ClaimID: c.ID, Limit: 10})
	require.NoError(t, err)
	require.Len(t, ps, 1)
	require.Equal(t, 1, e.Jobs(t, "payout_deadline"))

	paid, err := e.Payouts.MarkPaid(e.Ctx, e.Admin, p.ID, "BANK-7", p.Version)
	require.NoError(t, err)
	require.Equal(t, payouts.State("paid"), paid.State)
	require.NotNil(t, paid.PaidAt)
	// Its deadline then finds nothing to miss.
	wait, err := e.Payouts.CheckDeadline(e.Ctx, e.Tenant, p.ID)
	require.NoError(t, err)
	require.Zero(t, wait)
	got, err := e.Payouts.GetPayout(e.Ctx, e.Admin, p.ID)
	require.NoError(t, err)
	require.Equal(t, payouts.State("paid"), got.State)
}
