package domaintest_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/servicenet/servicenet/internal/domaintest"
)

// In test mode a test clock is created at the time asked and advanced to
// another; it is the test mode's: a live caller does not find it.
func TestTestClock(t *testing.T) {
	e := domaintest.New(t)
	live, livePrincipal := e.Ctx, e.Admin
	e.TestMode()
	require.False(t, e.Admin.Live)
	at := time.Now().Add(-72 * time.Hour).Truncate(time.Second)
	clock := e.TestClock(t, at)
	c, err := e.TestClocks.Get(e.Ctx, e.Admin, clock)
	require.NoError(t, err)
	require.Equal(t, at.UTC(), c.FrozenTime.UTC())
	require.False(t, c.Livemode)

	e.AdvanceClock(t, clock, at.Add(2*time.Hour))
	c, err = e.TestClocks.Get(e.Ctx, e.Admin, clock)
	require.NoError(t, err)
	require.Equal(t, at.Add(2*time.Hour).UTC(), c.FrozenTime.UTC())

	_, err = e.TestClocks.Get(live, livePrincipal, clock)
	require.Error(t, err, "a live caller finds no test clock")
}

// NowAt is the wall clock until the test sets the time, then that time.
func TestNowAt(t *testing.T) {
	var at time.Time
	now := domaintest.NowAt(&at)
	require.WithinDuration(t, time.Now(), now(), time.Minute)
	at = time.Date(2026, 11, 30, 10, 0, 0, 0, time.UTC)
	require.Equal(t, at, now())
	at = at.Add(time.Hour)
	require.Equal(t, at, now(), "moved with the test's time")
}
