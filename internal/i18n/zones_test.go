package i18n

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// TestZoneName: the zones the catalog names are told by name in both
// languages; any other by its offset at the moment (daylight saving
// included); every zone of the table loads and is in the catalog.
func TestZoneName(t *testing.T) {
	t.Parallel()
	at := time.Date(2026, 7, 1, 12, 0, 0, 0, time.UTC)
	for _, c := range []struct{ zone, en, zh string }{
		{"Asia/Shanghai", "China Standard Time", "北京时间"},
		{"Asia/Hong_Kong", "Hong Kong Standard Time", "香港标准时间"},
		{"UTC", "Coordinated Universal Time", "协调世界时"},
		{"Europe/London", "UTC+01:00", "UTC+01:00"},    // summer time
		{"America/New_York", "UTC-04:00", "UTC-04:00"}, // summer time
		{"Asia/Kolkata", "UTC+05:30", "UTC+05:30"},     // half an hour
		{"Asia/Kathmandu", "UTC+05:45", "UTC+05:45"},   // three quarters
	} {
		loc, err := time.LoadLocation(c.zone)
		require.NoError(t, err)
		m := ZoneName(loc, at)
		require.Equal(t, c.en, m.Render(English), c.zone)
		require.Equal(t, c.zh, m.Render(Chinese), c.zone)
	}
	london, err := time.LoadLocation("Europe/London")
	require.NoError(t, err)
	require.Equal(t, "UTC+00:00", ZoneName(london, time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)).Render(English), "winter time")
	require.Equal(t, "Coordinated Universal Time", ZoneName(nil, at).Render(English))
	for zone, name := range zoneNames {
		_, err := time.LoadLocation(zone)
		require.NoError(t, err, zone)
		require.True(t, Has("zone.name."+name), name)
		// No daylight saving: the name holds all year.
		loc, _ := time.LoadLocation(zone)
		_, jan := time.Date(2026, 1, 15, 0, 0, 0, 0, loc).Zone()
		_, jul := time.Date(2026, 7, 15, 0, 0, 0, 0, loc).Zone()
		require.Equal(t, jan, jul, zone)
	}
}
