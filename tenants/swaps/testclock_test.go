package swaps_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/servicenet/servicenet/internal/domaintest"
	"github.com/servicenet/servicenet/internal/pg"
	"github.com/servicenet/servicenet/tenants"
	"github.com/servicenet/servicenet/tenants/customers"
	"github.com/servicenet/servicenet/tenants/swaps"
	"github.com/servicenet/servicenet/tenants/warranty"
	"github.com/servicenet/servicenet/tenants/warranty/entitlement"
)

// A swap under a plan contract on a test clock lives on the clock: the
// plan in force and the depreciation fee's month of ownership are judged
// on the clock's day, and the replacement is bought on it.
func TestSwapUnderAClockContractLivesOnTheClock(t *testing.T) {
	const day = 24 * time.Hour
	e := domaintest.New(t)
	e.TestMode()
	// Every amount here is approved at once: the test follows the day, not
	// the approval chain.
	e.Swaps.AutoApproveLimit = 1_000_000
	unitOf := func(t *testing.T, model, serial, phone string, daysAgo int) string {
		t.Helper()
		u, err := e.Customers.RegisterUnit(e.Ctx, e.Admin, customers.NewUnit{ModelID: model, Serial: serial,
			Customer:     &customers.NewCustomer{Name: "吴九", Phones: []string{phone}},
			PurchaseDate: domaintest.Today(-daysAgo), PurchasePrice: domaintest.CNY(299900)})
		require.NoError(t, err)
		return u.ID
	}
	evaluate := func(t *testing.T, in swaps.NewSwap) swaps.Swap {
		t.Helper()
		s, err := e.Swaps.RequestSwap(e.Ctx, e.Admin, in)
		require.NoError(t, err)
		require.NoError(t, e.Swaps.Evaluate(e.Ctx, e.Tenant, s.ID))
		s, err = e.Swaps.GetSwap(e.Ctx, e.Admin, s.ID)
		require.NoError(t, err)
		return s
	}

	// Seed 002, 无理由保修 (rule 7): a no-reason plan swaps for its
	// depreciation fee by month of ownership, here 5 % up to month 6 and
	// 10 % up to month 12. A washer bought 10 days ago for 2,999.00, the
	// plan sold with it on a clock 200 days ahead: on the clock's day 211
	// of ownership (month 7) the swap costs 10 %, 299.90, and the
	// replacement, handed over on the clock's day, is bought then (its
	// warranty starts on the clock's today). Before, the wall clock's day
	// 11 (month 1) priced it at 5 %, 149.95, and the replacement was bought
	// on the wall date.
	t.Run("NoReasonPlanFeeOnTheClocksMonth7", func(t *testing.T) {
		washer := model(t, e, "W-CLK", "washer", 299900)
		nrr, err := e.Warranty.CreatePlan(e.Ctx, e.Admin, warranty.NewPlan{Code: "NRR-CLK", Name: "无理由保修", Kind: "no_reason_repair",
			EligibleCategories: []string{"washer"}, DurationMonths: 12, DiscountPercent: intp(80),
			Compensation: new(domaintest.CNY(10000)), PayoutBusinessDays: intp(5), Price: domaintest.CNY(5900),
			DepreciationSchedule: []entitlement.DepreciationStep{{UpToMonth: 6, Percent: 5}, {UpToMonth: 12, Percent: 10}}})
		require.NoError(t, err)
		at := time.Now().Add(200 * day).Truncate(time.Second)
		clock := e.TestClock(t, at)
		unit := unitOf(t, washer, "WSN-CLK-0001", "+86 139 0000 0791", 10)
		c, err := e.Warranty.CreateContract(e.Ctx, e.Admin, warranty.NewContract{UnitID: unit, PlanID: nrr.ID,
			SoldOn: domaintest.Today(-10), TestClockID: clock})
		require.NoError(t, err)
		require.Equal(t, warranty.StateActive, c.State)

		s := evaluate(t, swaps.NewSwap{UnitID: unit, Reason: "plan_swap", ContractID: c.ID})
		require.Equal(t, domaintest.CNY(29990), *s.Fee, "10%% of 2,999.00 in month 7 on the clock: %v", *s.FeeRule)
		require.Equal(t, domaintest.CNY(299900-29990), *s.Amount, "the replacement's 2,999.00 less the fee")
		require.NotNil(t, s.TestClockID, "the swap lives on its contract's clock")
		require.Equal(t, clock, *s.TestClockID)
		require.Equal(t, swaps.StateApproved, s.State)

		s, err = e.Swaps.Fulfil(e.Ctx, e.Admin, s.ID, swaps.Fulfilment{Serial: "WSN-CLK-0002"}, 0)
		require.NoError(t, err)
		nu, err := e.Customers.GetUnit(e.Ctx, e.Admin, *s.ReplacementUnitID)
		require.NoError(t, err)
		require.Equal(t, domaintest.Today(200), nu.PurchaseDate, "bought on the clock's today: its warranty starts then")
		require.NotNil(t, nu.OriginalPurchaseDate)
		require.Equal(t, domaintest.Today(-10), *nu.OriginalPurchaseDate, "the sale's day stays the first unit's")
		c, err = e.Warranty.GetContract(e.Ctx, e.Admin, c.ID)
		require.NoError(t, err)
		require.Equal(t, warranty.StateConsumed, c.State, "the plan's swap used its benefit")
		require.Equal(t, at.UTC(), c.StateChangedAt.UTC(), "on the clock's day")
	})

	// Seed 002, 摔碰也管修 (rule 5): an accidental-damage plan covers from
	// day 31 after the purchase. A phone bought today for 2,999.00 with the
	// plan sold on a clock; the clock moves to day 35 and the plan starts
	// on it. A swap asked without naming a contract (a dropped phone) is
	// under the plan, in force on its clock's day 35 (month 2): the
	// schedule's 30 %, 899.70; the swap takes the contract's clock. Before,
	// the wall clock's day 1 found the plan pending: no plan, no fee.
	t.Run("AccidentalPlanStartedOnTheClocksDay31", func(t *testing.T) {
		phone := model(t, e, "P-CLK", "phone", 299900)
		adp, err := e.Warranty.CreatePlan(e.Ctx, e.Admin, warranty.NewPlan{Code: "ADP-CLK", Name: "摔碰也管修", Kind: "accidental_damage",
			EligibleCategories: []string{"phone"}, DurationMonths: 12, DiscountPercent: intp(50), Price: domaintest.CNY(9900),
			DepreciationSchedule: []entitlement.DepreciationStep{{UpToMonth: 6, Percent: 30}, {UpToMonth: 12, Percent: 50}}})
		require.NoError(t, err)
		start := time.Now().Truncate(time.Second)
		clock := e.TestClock(t, start)
		unit := unitOf(t, phone, "PSN-CLK-0001", "+86 139 0000 0792", 0)
		c, err := e.Warranty.CreateContract(e.Ctx, e.Admin, warranty.NewContract{UnitID: unit, PlanID: adp.ID, TestClockID: clock})
		require.NoError(t, err)
		require.Equal(t, warranty.StatePending, c.State)
		require.Equal(t, domaintest.Today(30), c.StartsOn, "day 31")
		day35 := start.Add(34 * day)
		e.AdvanceClock(t, clock, day35)
		_, err = e.Warranty.AdvanceClockContracts(e.Ctx, e.Tenant, clock, day35) // what the advance's job does
		require.NoError(t, err)

		s := evaluate(t, swaps.NewSwap{UnitID: unit, Reason: "plan_swap", FaultCause: "accidental_damage"})
		require.NotNil(t, s.ContractID, "the plan is in force on its clock: %v", *s.FeeRule)
		require.Equal(t, c.ID, *s.ContractID)
		require.Equal(t, domaintest.CNY(89970), *s.Fee, "30%% of 2,999.00 in month 2 on the clock: %v", *s.FeeRule)
		require.Equal(t, domaintest.CNY(299900-89970), *s.Amount)
		require.NotNil(t, s.TestClockID, "the swap takes its contract's clock")
		require.Equal(t, clock, *s.TestClockID)

		s, err = e.Swaps.Fulfil(e.Ctx, e.Admin, s.ID, swaps.Fulfilment{Serial: "PSN-CLK-0002"}, 0)
		require.NoError(t, err)
		nu, err := e.Customers.GetUnit(e.Ctx, e.Admin, *s.ReplacementUnitID)
		require.NoError(t, err)
		require.Equal(t, domaintest.Today(34), nu.PurchaseDate, "bought on the clock's day 35")
	})
}

// A swap a ticket on a test clock asks for (NewSwap.TestClockID, as the
// tickets context sets it) is requested, evaluated, approved, fulfilled and
// rejected at the clock's time: its created_at, updated_at and every
// step's changed_at are the clock's, here three days behind the wall
// clock, whose time the swap took before. A live caller does not see it.
func TestSwapOnATestClockRecordsItsStepsAtTheClocksTime(t *testing.T) {
	e := domaintest.New(t)
	e.TestMode()
	at := time.Now().Add(-72 * time.Hour).Truncate(time.Second)
	clock := e.TestClock(t, at)
	washer := model(t, e, "W-STEP", "washer", 299900)
	manager := rootManager(t, e)
	manager.Live = false
	stepTimes := func(s swaps.Swap) []time.Time {
		var out []time.Time
		for _, st := range s.Steps {
			out = append(out, st.ChangedAt.UTC())
		}
		return out
	}
	request := func(t *testing.T, serial string) swaps.Swap {
		t.Helper()
		unit := reviewUnit(t, e, washer, serial, 100, 299900)
		s, err := e.Swaps.RequestSwap(e.Ctx, e.Admin, swaps.NewSwap{UnitID: unit, Reason: "unrepairable", TestClockID: &clock})
		require.NoError(t, err)
		require.NoError(t, e.Swaps.Evaluate(e.Ctx, e.Tenant, s.ID))
		s, err = e.Swaps.GetSwap(e.Ctx, e.Admin, s.ID)
		require.NoError(t, err)
		return s
	}

	// 2,999.00, no plan: above the auto-approval limit, a node manager
	// approves.
	s := request(t, "WSN-STEP-1")
	require.Equal(t, clock, *s.TestClockID)
	require.Equal(t, swaps.StatePendingNodeManager, s.State, "%v", *s.StateReason)
	require.Equal(t, at.UTC(), s.CreatedAt.UTC(), "requested at the clock's time, not the wall clock's")
	require.Equal(t, at.UTC(), s.UpdatedAt.UTC(), "evaluated at the clock's time")
	require.Equal(t, []time.Time{at.UTC(), at.UTC()}, stepTimes(s), "requested, evaluated")

	approvedAt := at.Add(2 * time.Hour)
	e.AdvanceClock(t, clock, approvedAt)
	s, err := e.Swaps.Approve(e.Ctx, manager, s.ID, swaps.Approval{Note: "无法维修"}, s.Version)
	require.NoError(t, err)
	require.Equal(t, swaps.StateApproved, s.State)
	require.Equal(t, approvedAt.UTC(), s.UpdatedAt.UTC())
	require.Equal(t, []time.Time{at.UTC(), at.UTC(), approvedAt.UTC()}, stepTimes(s))

	handedOver := at.Add(50 * time.Hour)
	e.AdvanceClock(t, clock, handedOver)
	s, err = e.Swaps.Fulfil(e.Ctx, e.Admin, s.ID, swaps.Fulfilment{Serial: "WSN-STEP-2"}, s.Version)
	require.NoError(t, err)
	require.Equal(t, swaps.StateFulfilled, s.State)
	require.Equal(t, handedOver.UTC(), s.UpdatedAt.UTC())
	require.Equal(t, []time.Time{at.UTC(), at.UTC(), approvedAt.UTC(), handedOver.UTC()}, stepTimes(s))
	require.Equal(t, at.UTC(), s.CreatedAt.UTC(), "created_at stays the request's")

	// Rejected by the brand at the clock's time.
	r := request(t, "WSN-STEP-3")
	require.Equal(t, handedOver.UTC(), r.CreatedAt.UTC())
	rejectedAt := handedOver.Add(30 * time.Minute)
	e.AdvanceClock(t, clock, rejectedAt)
	r, err = e.Swaps.Reject(e.Ctx, e.Admin, r.ID, "客户撤回", r.Version)
	require.NoError(t, err)
	require.Equal(t, swaps.StateRejected, r.State)
	require.Equal(t, rejectedAt.UTC(), r.UpdatedAt.UTC())
	require.Equal(t, []time.Time{handedOver.UTC(), handedOver.UTC(), rejectedAt.UTC()}, stepTimes(r))

	// A live caller does not see the test swap.
	live := e.Admin
	live.Live = true
	_, err = e.Swaps.GetSwap(pg.WithLivemode(e.Ctx, true), live, s.ID)
	require.Equal(t, tenants.CodeNotFound, tenants.ErrorCode(err), "%v", err)
}
