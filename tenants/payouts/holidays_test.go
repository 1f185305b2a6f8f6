package payouts_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/servicenet/servicenet/tenants/payouts"
	"github.com/servicenet/servicenet/tenants/warranty/entitlement"
)

func TestBusinessDaysAfter(t *testing.T) {
	t.Parallel()
	day := func(s string) time.Time {
		d, err := time.Parse(time.DateOnly, s)
		require.NoError(t, err)
		return d
	}
	holidays := func(ds ...string) func(time.Time) bool {
		return func(d time.Time) bool {
			for _, h := range ds {
				if d.Format(time.DateOnly) == h {
					return true
				}
			}
			return false
		}
	}
	cases := []struct {
		name     string
		from     string
		n        int
		holidays func(time.Time) bool
		want     string
	}{
		{"FridayPlusFiveSkipsTheWeekend", "2026-09-25", 5, nil, "2026-10-02"},
		{"FridayPlusFiveSkipsTheWeekendAndAHoliday", "2026-09-25", 5, holidays("2026-10-01"), "2026-10-05"},
		{"AHolidayOnAWeekendCountsOnce", "2026-09-25", 5, holidays("2026-09-27", "2026-10-01"), "2026-10-05"},
		{"SaturdayStartCountsFromMonday", "2026-09-26", 1, nil, "2026-09-28"},
		{"AWeekOfHolidays", "2026-09-30", 1, holidays("2026-10-01", "2026-10-02", "2026-10-05", "2026-10-06", "2026-10-07"), "2026-10-08"},
		{"ZeroDaysIsTheSameDay", "2026-09-25", 0, nil, "2026-09-25"},
		{"TimeOfDayIsDropped", "2026-09-24T23:30:00Z", 1, nil, "2026-09-25"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			from := day(c.from[:10])
			if len(c.from) > 10 {
				var err error
				from, err = time.Parse(time.RFC3339, c.from)
				require.NoError(t, err)
			}
			got := entitlement.BusinessDaysAfter(from, c.n, c.holidays)
			require.Equal(t, c.want, got.Format(time.DateOnly))
		})
	}
}

func TestEndOfDay(t *testing.T) {
	t.Parallel()
	sh, err := time.LoadLocation("Asia/Shanghai")
	require.NoError(t, err)
	end := payouts.EndOfDay("2026-10-05", sh)
	require.Equal(t, "2026-10-05T16:00:00Z", end.UTC().Format(time.RFC3339), "midnight after the due day in Shanghai")
}
