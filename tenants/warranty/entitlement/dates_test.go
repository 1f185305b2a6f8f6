package entitlement

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func day(s string) time.Time {
	t, err := time.Parse(time.DateOnly, s)
	if err != nil {
		panic(err)
	}
	return t
}

func TestTermEnd(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		name   string
		start  string
		months int
		want   string
	}{
		{"OneYearFromMarch1EndsFeb28", "2026-03-01", 12, "2027-02-28"},
		{"OneYearIntoLeapYearEndsFeb29", "2027-03-01", 12, "2028-02-29"},
		{"OneMonth", "2026-03-10", 1, "2026-04-09"},
		{"ThreeMonths", "2026-03-10", 3, "2026-06-09"},
		{"Jan31PlusOneMonthNormalisesLikeAddDate", "2026-01-31", 1, "2026-03-02"},
		{"ZeroMonthsEndsTheDayBefore", "2026-03-01", 0, "2026-02-28"},
		{"TenYears", "2026-03-01", 120, "2036-02-29"},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			got := TermEnd(day(c.start), c.months)
			require.Equal(t, c.want, got.Format(time.DateOnly))
			require.Equal(t, day(c.start).AddDate(0, c.months, -1), got, "must be exactly AddDate(0, months, -1)")
		})
	}
}

// TestMonthOf: month m of ownership ends on TermEnd(purchase, m).
func TestMonthOf(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		purchase, on string
		month        int
	}{
		{"2026-03-01", "2026-03-01", 1}, {"2026-03-01", "2026-03-31", 1}, {"2026-03-01", "2026-04-01", 2},
		{"2026-03-01", "2026-05-31", 3}, {"2026-03-01", "2026-06-01", 4}, {"2026-03-01", "2027-02-28", 12},
		{"2026-03-01", "2027-03-01", 13}, {"2026-03-15", "2026-04-14", 1}, {"2026-03-15", "2026-04-15", 2},
		{"2026-03-01", "2026-02-01", 1},
	} {
		require.Equal(t, c.month, MonthOf(day(c.purchase), day(c.on)), "%s bought, on %s", c.purchase, c.on)
	}
}

func TestDayOf(t *testing.T) {
	t.Parallel()
	p := day("2026-03-01")
	require.Equal(t, 1, DayOf(p, p))
	require.Equal(t, 7, DayOf(p, day("2026-03-07")))
	require.Equal(t, 8, DayOf(p, day("2026-03-08")))
	require.Equal(t, 31, DayOf(p, day("2026-03-31")))
	// A time of day or another zone does not shift the civil date.
	require.Equal(t, 7, DayOf(p, time.Date(2026, 3, 7, 23, 59, 0, 0, time.UTC)))
}

func TestPlanWindow(t *testing.T) {
	t.Parallel()
	purchase := day("2026-03-01")
	for _, c := range []struct {
		name                     string
		kind, category           string
		months                   int
		warrantyMonths           int
		wantStart, wantEnd       string
		wantOffset               int
		wantAfterWarrantyDefault bool
	}{
		{"ExtendedStartsTheDayAfterTheWarranty", KindExtendedWarranty, CategoryWasher, 24, 12, "2027-03-01", "2029-02-28", 0, true},
		{"AccidentalStartsOnDay31", KindAccidentalDamage, CategoryPhone, 12, 12, "2026-03-31", "2027-03-30", 30, false},
		{"KitchenSwapStartsOnDay31", KindSwapForRepair, CategoryKitchen, 12, 12, "2026-03-31", "2027-03-30", 30, false},
		{"TabletSwapStartsTheNextDay", KindSwapForRepair, CategoryTablet, 12, 12, "2026-03-02", "2027-03-01", 1, false},
		{"NoReasonStartsTheNextDay", KindNoReasonRepair, CategoryRefrigerator, 12, 12, "2026-03-02", "2027-03-01", 1, false},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			off, after := DefaultPlanStart(c.kind, c.category)
			require.Equal(t, c.wantOffset, off)
			require.Equal(t, c.wantAfterWarrantyDefault, after)
			s, e := PlanWindow(off, after, c.months, purchase, c.warrantyMonths)
			require.Equal(t, c.wantStart, s.Format(time.DateOnly))
			require.Equal(t, c.wantEnd, e.Format(time.DateOnly))
		})
	}
	t.Run("Day30IsNotDay31", func(t *testing.T) {
		t.Parallel()
		s, _ := PlanWindow(30, false, 12, purchase, 12)
		require.Equal(t, 31, DayOf(purchase, s))
		require.True(t, day("2026-03-30").Before(s))
	})
}

func TestWeekdaysAfter(t *testing.T) {
	t.Parallel()
	// 2026-03-02 is a Monday.
	require.Equal(t, "2026-03-09", WeekdaysAfter(day("2026-03-02"), 5).Format(time.DateOnly))
	// From a Friday: Mon..Fri of the next week.
	require.Equal(t, "2026-03-13", WeekdaysAfter(day("2026-03-06"), 5).Format(time.DateOnly))
	// From a Saturday.
	require.Equal(t, "2026-03-13", WeekdaysAfter(day("2026-03-07"), 5).Format(time.DateOnly))
	require.Equal(t, "2026-03-07", WeekdaysAfter(day("2026-03-07"), 0).Format(time.DateOnly))
}
