package warranty_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/servicenet/servicenet/internal/domaintest"
	"github.com/servicenet/servicenet/tenants/warranty"
)

// A contract on a test clock has its changes stamped with the clock's
// time, as its window moves on it: the sale, the start of its coverage
// when the clock gets there, and a cancellation later on the clock
// (state_changed_at and each history row's changed_at). Claims read these
// dates (a plan consumed after a repair still covers it): stamped with the
// wall clock, a clock behind or ahead of it saw its contract change on
// another day than its own. Here a washer bought 360 days ago (12 months'
// manufacturer warranty) gets a two-year extended warranty on a clock,
// pending until the manufacturer warranty ends on the clock.
func TestContractChangesOnAClockAreStampedWithItsTime(t *testing.T) {
	e := domaintest.New(t)
	e.TestMode()
	const day = 24 * time.Hour
	start := time.Now().Add(-10 * day).Truncate(time.Second) // a clock 10 days behind the wall clock
	clock := e.TestClock(t, start)
	model, _ := e.Product(t, "W-CLK", "washer", 12, "control_board", 30000)
	unit := e.Unit(t, model, "WSH-CLK-0001", -360, "+86 139 0000 0690")
	plan, err := e.Warranty.CreatePlan(e.Ctx, e.Admin, warranty.NewPlan{Code: "EXT-2Y", Name: "两年延保", Kind: "extended_warranty",
		EligibleCategories: []string{"washer"}, DurationMonths: 24, Price: domaintest.CNY(19900)})
	require.NoError(t, err)
	c, err := e.Warranty.CreateContract(e.Ctx, e.Admin, warranty.NewContract{UnitID: unit, PlanID: plan.ID, TestClockID: clock})
	require.NoError(t, err)
	require.Equal(t, warranty.StatePending, c.State, "from the manufacturer warranty's end: %s", c.StartsOn)
	require.Equal(t, start.UTC(), c.StateChangedAt.UTC(), "sold at the clock's time")

	// The clock passes the start: the coverage starts at the clock's time.
	active := start.Add(20 * day)
	e.AdvanceClock(t, clock, active)
	n, err := e.Warranty.AdvanceClockContracts(e.Ctx, e.Tenant, clock, active)
	require.NoError(t, err)
	require.Equal(t, 1, n)
	c, err = e.Warranty.GetContract(e.Ctx, e.Admin, c.ID)
	require.NoError(t, err)
	require.Equal(t, warranty.StateActive, c.State)
	require.Equal(t, active.UTC(), c.StateChangedAt.UTC(), "started at the clock's time")

	// Cancelled ten days later on the clock.
	cancelled := start.Add(30 * day)
	e.AdvanceClock(t, clock, cancelled)
	c, err = e.Warranty.CancelContract(e.Ctx, e.Admin, c.ID, "customer returned the plan", 0)
	require.NoError(t, err)
	require.Equal(t, warranty.StateCancelled, c.State)
	require.Equal(t, cancelled.UTC(), c.StateChangedAt.UTC(), "cancelled at the clock's time")

	h, err := e.Warranty.ContractHistory(e.Ctx, e.Admin, c.ID)
	require.NoError(t, err)
	require.Len(t, h, 3)
	for i, want := range []struct {
		to warranty.ContractState
		at time.Time
	}{{warranty.StatePending, start}, {warranty.StateActive, active}, {warranty.StateCancelled, cancelled}} {
		require.Equal(t, want.to, h[i].ToState)
		require.Equal(t, want.at.UTC(), h[i].ChangedAt.UTC(), "%s at the clock's time", want.to)
	}
}
