package quality_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/servicenet/servicenet/tenants/quality"
	"github.com/servicenet/servicenet/tenants/tickets"
)

// A KPI with no data in the period (no ticket in its denominator) is no
// data, not a zero: the scorecard shows it null, and grading leaves it out
// and weighs the node over the indicators that have data; a node with data
// for none of them is not graded. The node cleans a washer today and makes
// no repair: first_time_fix_rate 0/0 (null), on_time_arrival_rate 1/1.
// Under 60 first-time fix + 40 on time, it scores 40 of 40 on time,
// re-weighted to 100 of 100: grade A (it scored 40, grade C, as if it had
// failed every repair). Under first-time fix alone it is not graded.
func TestQualityKPIWithNoDataIsLeftOutOfTheGrade(t *testing.T) {
	k := newKindsEnv(t, "KPI-NODATA-0001")
	tk := k.serve(t, k.open(t, tickets.TypeMaintenance, k.day), k.day)
	require.NotNil(t, tk.NodeID)
	node := *tk.NodeID

	_, err := k.Quality.Fold(k.Ctx, k.Tenant, 0)
	require.NoError(t, err)
	day := k.day.Format(time.DateOnly)
	sc, err := k.Quality.Scorecard(k.Ctx, k.Admin, quality.ScorecardQuery{PeriodQuery: quality.PeriodQuery{Period: "day", Date: day},
		Scope: quality.ScopeNode, ID: node})
	require.NoError(t, err)
	kpis := map[string]quality.KPI{}
	for _, kp := range sc.KPIs {
		kpis[kp.Name] = kp
	}
	require.Nil(t, kpis["first_time_fix_rate"].Value, "no repair: no data")
	require.Zero(t, kpis["first_time_fix_rate"].Denominator)
	require.NotNil(t, kpis["on_time_arrival_rate"].Value)
	require.Equal(t, 1.0, *kpis["on_time_arrival_rate"].Value)

	policy := quality.GradingPolicy{TotalWeight: 100, MinTickets: 1, AppealDays: 7, MaxRangeDays: 366,
		Indicators: []quality.Indicator{{KPI: "first_time_fix_rate", Weight: 60, Best: 1, Worst: 0},
			{KPI: "on_time_arrival_rate", Weight: 40, Best: 1, Worst: 0}},
		Grades: []quality.GradeThreshold{{Grade: "A", MinScore: 80}, {Grade: "C", MinScore: 40}, {Grade: "E", MinScore: 0}}}
	pol, err := k.Quality.SetGradingPolicy(k.Ctx, k.Admin, policy, 0)
	require.NoError(t, err)
	date, err := time.Parse(time.DateOnly, day)
	require.NoError(t, err)
	run, err := k.Quality.Grade(k.Ctx, k.Tenant, "test", date, date)
	require.NoError(t, err)
	require.Len(t, run.Proposals, 1, "the one node with a ticket")
	p := run.Proposals[0]
	require.Equal(t, node, p.NodeID)
	require.Equal(t, 100.0, p.Score, "on time 40 of 40, re-weighted over the 40 with data")
	require.Equal(t, "A", p.ProposedGrade)
	require.Len(t, p.Indicators, 2)
	require.Nil(t, p.Indicators[0].Value, "first_time_fix_rate: no data")
	require.Nil(t, p.Indicators[0].Points, "no data: no points, not 0")
	require.NotNil(t, p.Indicators[1].Points)
	require.Equal(t, 100.0, *p.Indicators[1].Points, "the score is the sum of the points")

	policy.Indicators = []quality.Indicator{{KPI: "first_time_fix_rate", Weight: 100, Best: 1, Worst: 0}}
	_, err = k.Quality.SetGradingPolicy(k.Ctx, k.Admin, policy, pol.Version)
	require.NoError(t, err)
	run, err = k.Quality.Grade(k.Ctx, k.Tenant, "test", date, date)
	require.NoError(t, err)
	require.Empty(t, run.Proposals, "no data for any indicator: no grade")
	require.Zero(t, run.Graded)
}
