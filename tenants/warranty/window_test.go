package warranty

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func day(s string) time.Time {
	d, err := time.Parse(time.DateOnly, s)
	if err != nil {
		panic(err)
	}
	return d
}

func TestCoverageWindow(t *testing.T) {
	t.Parallel()
	offset := func(n, months int) Plan { return Plan{StartOffsetDays: &n, DurationMonths: months} }
	extended := func(months int) Plan { return Plan{StartsAfterManufacturerWarranty: true, DurationMonths: months} }
	cases := []struct {
		name           string
		plan           Plan
		purchase       string
		warrantyMonths int
		start, end     string
	}{
		// Day 31 counts the purchase date as day 1: purchase + 30 days.
		{"Day31AfterPurchase", offset(30, 12), "2026-03-01", 12, "2026-03-31", "2027-03-30"},
		{"NextDay", offset(1, 12), "2026-03-01", 12, "2026-03-02", "2027-03-01"},
		{"NextDayAcrossYearEnd", offset(1, 12), "2026-12-31", 12, "2027-01-01", "2027-12-31"},
		// The manufacturer warranty of 12 months covers 2026-03-01..2027-02-28;
		// the extended warranty starts the day after.
		{"ExtendedStartsAfterManufacturerWarranty", extended(24), "2026-03-01", 12, "2027-03-01", "2029-02-28"},
		{"ExtendedThreeYearsAfterTwoYearWarranty", extended(36), "2026-06-15", 24, "2028-06-15", "2031-06-14"},
		{"ExtendedLeapDayPurchase", extended(12), "2024-02-29", 12, "2025-03-01", "2026-02-28"},
		// A term from a day its last month lacks ends on that month's last day.
		{"ExtendedAfterThirteenMonthsFromJan31", extended(12), "2025-01-31", 13, "2026-03-01", "2027-02-28"},
		{"ExtendedAfterOneMonthFromJan31InALeapYear", extended(12), "2028-01-31", 1, "2028-03-01", "2029-02-28"},
		{"NextDayFromJan29ForOneMonth", offset(1, 1), "2027-01-29", 12, "2027-01-30", "2027-02-28"},
		{"Day31FromJan1ForThirteenMonths", offset(30, 13), "2027-01-01", 12, "2027-01-31", "2028-02-29"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			s, e := CoverageWindow(c.plan, day(c.purchase), c.warrantyMonths)
			require.Equal(t, c.start, s.Format(time.DateOnly))
			require.Equal(t, c.end, e.Format(time.DateOnly))
			if c.plan.StartsAfterManufacturerWarranty {
				mwEnd := ManufacturerWarrantyEnd(day(c.purchase), c.warrantyMonths)
				require.Equal(t, s, mwEnd.AddDate(0, 0, 1), "starts the day after the manufacturer warranty's last day")
			}
		})
	}
}

func TestLatestSale(t *testing.T) {
	t.Parallel()
	n := func(v int) *int { return &v }
	cases := []struct {
		name string
		plan Plan
		want string
	}{
		{"ProtectionPlanWithin30Days", Plan{StartOffsetDays: n(30), SaleWindowDays: n(30)}, "2026-03-31"},
		{"ExtendedThroughLastDayOfManufacturerWarranty", Plan{StartsAfterManufacturerWarranty: true}, "2027-02-28"},
		{"ExtendedWithShorterWindow", Plan{StartsAfterManufacturerWarranty: true, SaleWindowDays: n(90)}, "2026-05-30"},
		{"ExtendedWindowNeverPastTheWarranty", Plan{StartsAfterManufacturerWarranty: true, SaleWindowDays: n(900)}, "2027-02-28"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			require.Equal(t, c.want, LatestSale(c.plan, day("2026-03-01"), 12).Format(time.DateOnly))
		})
	}
}

func TestStateOn(t *testing.T) {
	t.Parallel()
	s, e := day("2026-03-31"), day("2027-03-30")
	require.Equal(t, StatePending, StateOn(s, e, day("2026-03-30")))
	require.Equal(t, StateActive, StateOn(s, e, day("2026-03-31")), "first day")
	require.Equal(t, StateActive, StateOn(s, e, day("2027-03-30")), "last day")
	require.Equal(t, StateExpired, StateOn(s, e, day("2027-03-31")))
}

// The engine sees a contract in the state its dates give on the decision's
// day: the hourly lifecycle job may not yet have moved a plan that starts
// today (stored pending), and a repair decided after its plan ended (a
// claim filed late) was inside it. Cancelled and consumed stay as stored.
func TestEngineContractStateOnTheDecisionDay(t *testing.T) {
	t.Parallel()
	c := Contract{ID: "ctr_x", StartsOn: "2026-12-31", EndsOn: "2027-12-30", Plan: Plan{Kind: KindAccidentalDamage}}
	for _, tc := range []struct {
		stored ContractState
		on     string
		want   ContractState
	}{
		{StatePending, "2026-12-30", StatePending},
		{StatePending, "2026-12-31", StateActive}, // day 31, before the job's next run
		{StateActive, "2027-12-30", StateActive},
		{StateActive, "2027-12-31", StateExpired},
		{StateExpired, "2027-12-29", StateActive}, // a repair inside the plan, decided later
		{StateCancelled, "2027-06-01", StateCancelled},
		{StateConsumed, "2027-06-01", StateConsumed},
	} {
		c.State = tc.stored
		require.Equal(t, string(tc.want), EngineContract(c, day(tc.on)).State, "%s on %s", tc.stored, tc.on)
	}
}
