package customers

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// Review: a season reminder is due lead_days before the season's start
// (the seeds' 换季前提醒), until the start; lead_days 0 (allowed, 0-90)
// is due on the start day itself.
func TestReviewSeasonReminderWindow(t *testing.T) {
	t.Parallel()
	day := func(s string) time.Time {
		d, err := time.Parse(time.DateOnly, s)
		require.NoError(t, err)
		return d
	}
	for _, c := range []struct {
		name, start string
		lead        int
		today, want string // want "": not due
	}{
		{"DayBeforeTheLead", "05-15", 7, "2027-05-07", ""},
		{"FirstDayOfTheLead", "05-15", 7, "2027-05-08", "2027-05-15"},
		{"LastDayBeforeTheStart", "05-15", 7, "2027-05-14", "2027-05-15"},
		{"AfterTheStart", "05-15", 7, "2027-05-16", ""},
		{"AcrossTheNewYear", "01-05", 14, "2026-12-22", "2027-01-05"},
		{"NoLeadIsDueOnTheStartDay", "05-15", 0, "2027-05-15", "2027-05-15"},
		{"NoLeadNotTheDayBefore", "05-15", 0, "2027-05-14", ""},
		{"NoLeadNotTheDayAfter", "05-15", 0, "2027-05-16", ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			got, ok := seasonDue(CareSeason{Category: "air_conditioner", Start: c.start, LeadDays: c.lead}, day(c.today))
			if c.want == "" {
				require.False(t, ok, "due %s", got)
				return
			}
			require.True(t, ok)
			require.Equal(t, c.want, got.Format(time.DateOnly))
		})
	}
}
