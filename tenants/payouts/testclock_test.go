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

// A payout a claim on a test clock owes, scheduled by hand (POST
// /v1/payouts with claim_id), lives on the claim's clock, as the one an
// approval schedules does (ForApprovedClaim): here the clock is 20 days
// ahead of the wall clock, and the brand owes the washer's customer a
// 100.00 compensation for the claim's repair. It is counted from the
// clock's today, due five working days after it, its deadline check parked
// on the clock (never fired by the wall clock), and paid at the clock's
// time. Before, it ran on the wall clock: counted from the real today, due
// a week from now, its deadline job due on the wall clock (missed while
// the clock's claim still waited), and paid_at the wall time.
func TestPayoutOfAClockClaimLivesOnTheClock(t *testing.T) {
	e := domaintest.New(t)
	e.TestMode()
	model, board := e.Product(t, "XQG-CLK", "washer", 12, "control_board", 30000)
	unit := e.Unit(t, model, "WSH-CLK-PAY", -30, "+86 139 0000 0691")
	at := time.Now().Add(20 * 24 * time.Hour).Truncate(time.Second)
	clock := e.TestClock(t, at)
	clockToday := domaintest.Today(20)

	c, _, err := e.Claims.SubmitClaim(e.Ctx, e.Admin, claims.NewClaim{Kind: claims.KindWarranty, UnitID: unit, Reference: "CLK-PAY-1",
		TestClockID: clock, ClaimSubmission: claims.ClaimSubmission{OccurredOn: clockToday,
			Fault: claims.ClaimFault{Cause: "performance", PartCategories: []string{"control_board"}},
			Lines: []claims.NewClaimLine{{Kind: "labor", Requested: domaintest.CNY(10000)},
				{Kind: "part", PartID: board, Quantity: 1, Requested: domaintest.CNY(30000)}}}})
	require.NoError(t, err)
	require.Equal(t, clock, *c.TestClockID)

	p, err := e.Payouts.CreatePayout(e.Ctx, e.Admin, payouts.NewPayout{UnitID: unit, ClaimID: c.ID, Amount: domaintest.CNY(10000),
		Reason: "满意补偿"})
	require.NoError(t, err)
	require.Equal(t, domaintest.CNY(10000), p.Amount, "100.00")
	require.Equal(t, payouts.PayerBrand, p.Payer, "no contract: the brand owes it")
	require.NotNil(t, p.TestClockID, "on the claim's clock")
	require.Equal(t, clock, *p.TestClockID)
	require.Equal(t, clockToday, p.CountedFrom, "counted from the clock's today")
	from, err := time.Parse(time.DateOnly, clockToday)
	require.NoError(t, err)
	due, err := time.Parse(time.DateOnly, p.DueOn)
	require.NoError(t, err)
	require.True(t, due.After(from.AddDate(0, 0, 4)) && due.Before(from.AddDate(0, 0, 15)),
		"due five working days after the clock's today: %s", p.DueOn)
	var parked int
	require.NoError(t, e.Tx.QueryRow(e.Ctx, `SELECT count(*) FROM river_job WHERE kind = 'payout_deadline' AND args->>'payout_id' = $1
		AND metadata->>'test_clock' = $2`, p.ID, clock).Scan(&parked))
	require.Equal(t, 1, parked, "its deadline check waits for the clock")

	paid, err := e.Payouts.MarkPaid(e.Ctx, e.Admin, p.ID, "BANK-CLK-1", p.Version)
	require.NoError(t, err)
	require.Equal(t, payouts.StatePaid, paid.State)
	require.NotNil(t, paid.PaidAt)
	require.Equal(t, at.UTC(), paid.PaidAt.UTC(), "paid at the clock's time")
}

// A payout of a plan scheduled by hand for a contract on a test clock
// (POST /v1/payouts with contract_id, no claim) lives on the contract's
// clock, as a claim's does: the no-reason repair plan's 100.00 owed to the
// customer, the plan paying, counted from the clock's today (20 days ahead
// of the wall clock), its deadline check parked on the clock. Before, it
// ran on the wall clock.
func TestPayoutOfAClockContractLivesOnTheClock(t *testing.T) {
	e := domaintest.New(t)
	e.TestMode()
	model, _ := e.Product(t, "XQG-CLK-C", "washer", 12, "control_board", 30000)
	unit := e.Unit(t, model, "WSH-CLK-CON", -5, "+86 139 0000 0692") // in the plan's sale window on the clock
	at := time.Now().Add(20 * 24 * time.Hour).Truncate(time.Second)
	clock := e.TestClock(t, at)
	plan, err := e.Warranty.CreatePlan(e.Ctx, e.Admin, warranty.NewPlan{Code: "NRR-CLK", Name: "无理由保修", Kind: "no_reason_repair",
		EligibleCategories: []string{"washer"}, DurationMonths: 12, DiscountPercent: intp(80),
		Compensation: new(domaintest.CNY(10000)), PayoutBusinessDays: intp(5), Price: domaintest.CNY(5900),
		DepreciationSchedule: []entitlement.DepreciationStep{{UpToMonth: 6, Percent: 5}, {UpToMonth: 12, Percent: 10}}})
	require.NoError(t, err)
	contract, err := e.Warranty.CreateContract(e.Ctx, e.Admin, warranty.NewContract{UnitID: unit, PlanID: plan.ID, TestClockID: clock})
	require.NoError(t, err)
	clockToday := domaintest.Today(20)

	p, err := e.Payouts.CreatePayout(e.Ctx, e.Admin, payouts.NewPayout{UnitID: unit, ContractID: contract.ID,
		Amount: domaintest.CNY(10000), Reason: "无理由保修服务满意金"})
	require.NoError(t, err)
	require.Equal(t, domaintest.CNY(10000), p.Amount, "100.00")
	require.Equal(t, payouts.PayerPlan, p.Payer, "the plan owes it")
	require.NotNil(t, p.TestClockID, "on the contract's clock")
	require.Equal(t, clock, *p.TestClockID)
	require.Equal(t, clockToday, p.CountedFrom, "counted from the clock's today")
	var parked int
	require.NoError(t, e.Tx.QueryRow(e.Ctx, `SELECT count(*) FROM river_job WHERE kind = 'payout_deadline' AND args->>'payout_id' = $1
		AND metadata->>'test_clock' = $2`, p.ID, clock).Scan(&parked))
	require.Equal(t, 1, parked, "its deadline check waits for the clock")
}
