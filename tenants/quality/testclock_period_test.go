package quality_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/servicenet/servicenet/internal/domaintest"
	"github.com/servicenet/servicenet/tenants/quality"
)

// Tickets on a test clock are counted on the days they lived on the clock,
// which may be ahead of the wall clock: in test mode a scorecard's period
// may end on the today of the tenant's furthest clock. With a clock 40
// days ahead, the day 40 days from now and a range ending on it are read
// (they were 422, in the future of the wall clock); 41 days is still the
// future, and so is day 40 in live mode or with no clock.
func TestQualityPeriodsReachTheFurthestTestClock(t *testing.T) {
	e := domaintest.New(t)
	live, livePrincipal := e.Ctx, e.Admin
	e.TestMode()
	day := func(days int) quality.ScorecardQuery {
		return quality.ScorecardQuery{PeriodQuery: quality.PeriodQuery{Period: "day", Date: domaintest.Today(days)}, Scope: quality.ScopeTenant}
	}
	requireFuture := func(t *testing.T, err error, field string) {
		t.Helper()
		require.Equal(t, []string{field}, domaintest.Fields(t, err), "%v", err)
	}

	_, err := e.Quality.Scorecard(e.Ctx, e.Admin, day(40))
	requireFuture(t, err, "date")

	at := time.Now().Add(40 * 24 * time.Hour)
	e.TestClock(t, at)
	sc, err := e.Quality.Scorecard(e.Ctx, e.Admin, day(40))
	require.NoError(t, err, "the clock's today")
	require.Equal(t, domaintest.Today(40), sc.Period.From)
	require.Zero(t, sc.Tickets)
	sc, err = e.Quality.Scorecard(e.Ctx, e.Admin, quality.ScorecardQuery{PeriodQuery: quality.PeriodQuery{Period: "range",
		From: domaintest.Today(10), To: domaintest.Today(40)}, Scope: quality.ScopeTenant})
	require.NoError(t, err)
	require.Equal(t, domaintest.Today(40), sc.Period.To)
	sc, err = e.Quality.Scorecard(e.Ctx, e.Admin, quality.ScorecardQuery{Scope: quality.ScopeTenant})
	require.NoError(t, err)
	require.Equal(t, domaintest.Today(0)[:8]+"01", sc.Period.From, "the default period is still the wall clock's month")
	_, err = e.Quality.Scorecard(e.Ctx, e.Admin, day(41))
	requireFuture(t, err, "date")
	_, err = e.Quality.Scorecard(live, livePrincipal, day(40))
	requireFuture(t, err, "date")
}
