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

// TestTermEnd: a term of M months from D ends the day before D's
// corresponding day M months later; a month without that day (D the 29th,
// 30th or 31st) ends it on its last day, as PostgreSQL's and Java's month
// arithmetic clamp: one month from 31 January is February, through its
// last day, never 1 or 2 March.
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
		{"MidMonthIntoFebruary", "2027-01-15", 1, "2027-02-14"},
		{"Jan31PlusOneMonthEndsFeb28", "2027-01-31", 1, "2027-02-28"},
		{"Jan31PlusOneMonthEndsFeb29InALeapYear", "2028-01-31", 1, "2028-02-29"},
		{"Jan30PlusOneMonthEndsFeb28", "2027-01-30", 1, "2027-02-28"},
		{"Jan29PlusOneMonthEndsFeb28", "2027-01-29", 1, "2027-02-28"},
		{"Jan29PlusOneMonthInALeapYearEndsFeb28", "2028-01-29", 1, "2028-02-28"},
		{"Jan31PlusThirteenMonthsEndsFeb29", "2027-01-31", 13, "2028-02-29"},
		{"Jan31PlusTwentyFiveMonthsEndsFeb28", "2027-01-31", 25, "2029-02-28"},
		{"Nov30PlusThreeMonthsEndsFeb28", "2026-11-30", 3, "2027-02-28"},
		{"Nov30PlusThreeMonthsEndsFeb29InALeapYear", "2027-11-30", 3, "2028-02-29"},
		{"Mar31PlusOneMonthEndsApr30", "2027-03-31", 1, "2027-04-30"},
		{"Feb29PlusTwelveMonthsEndsFeb28", "2028-02-29", 12, "2029-02-28"},
		{"Feb29PlusFourYearsEndsFeb28", "2028-02-29", 48, "2032-02-28"},
		{"Feb28PlusTwelveMonthsEndsFeb27", "2027-02-28", 12, "2028-02-27"},
		{"ZeroMonthsEndsTheDayBefore", "2026-03-01", 0, "2026-02-28"},
		{"TenYears", "2026-03-01", 120, "2036-02-29"},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			got := TermEnd(day(c.start), c.months)
			require.Equal(t, c.want, got.Format(time.DateOnly))
		})
	}
}

// TestTermEndYearsUnchanged: a term of whole years ends the day before the
// anniversary, as AddDate(years, 0, -1) always said: 29 February's term
// ends on 28 February, the day before the anniversary in a leap year and
// the month's last day in another.
func TestTermEndYearsUnchanged(t *testing.T) {
	t.Parallel()
	for d := day("2026-01-01"); d.Before(day("2030-01-01")); d = d.AddDate(0, 0, 1) {
		for years := 0; years <= 5; years++ {
			require.Equal(t, d.AddDate(years, 0, -1), TermEnd(d, 12*years), "%s + %d years", d.Format(time.DateOnly), years)
		}
	}
}

// TestTermEndTerms: successive month terms from one start end on
// successive days, each inside its own month, and the next term's first
// day is the day after: no day is in two terms or in none.
func TestTermEndTerms(t *testing.T) {
	t.Parallel()
	for d := day("2027-01-01"); d.Before(day("2029-01-01")); d = d.AddDate(0, 0, 1) {
		prev := d.AddDate(0, 0, -1)
		for m := 1; m <= 40; m++ {
			end := TermEnd(d, m)
			require.True(t, end.After(prev), "%s + %d months ends %s, not after %s", d.Format(time.DateOnly), m, end.Format(time.DateOnly), prev.Format(time.DateOnly))
			target := time.Date(d.Year(), d.Month()+time.Month(m), 1, 0, 0, 0, 0, time.UTC)
			require.True(t, !end.After(target.AddDate(0, 1, -1)), "%s + %d months ends %s, after its month", d.Format(time.DateOnly), m, end.Format(time.DateOnly))
			prev = end
		}
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
