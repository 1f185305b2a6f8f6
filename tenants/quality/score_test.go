package quality

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

// score weighs the indicators with data only: one without (its
// denominator 0) earns no points and its weight goes to the others, so
// that the score stays on the total_weight scale; with none, there is no
// score. Policy: first_time_fix_rate 60 (worst 0, best 1) and
// on_time_arrival_rate 40 (worst 0.5, best 1).
func TestScoreLeavesOutIndicatorsWithoutData(t *testing.T) {
	inds := []Indicator{{KPI: "first_time_fix_rate", Weight: 60, Best: 1, Worst: 0},
		{KPI: "on_time_arrival_rate", Weight: 40, Best: 1, Worst: 0.5}}
	f := func(v float64) *float64 { return &v }
	for _, c := range []struct {
		name   string
		m      Metrics
		ok     bool
		score  float64
		points []*float64
	}{
		// 60 × 2/2 + 40 × (3/4 − 0.5) / 0.5 = 60 + 20
		{"both with data", Metrics{mFTFEligible: 2, mFTFFixed: 2, mVisitsTimed: 4, mVisitsOnTime: 3}, true, 80, []*float64{f(60), f(20)}},
		// on time 20 of 40, re-weighted × 100/40
		{"no repair", Metrics{mVisitsTimed: 4, mVisitsOnTime: 3}, true, 50, []*float64{nil, f(50)}},
		// first-time fix 30 of 60, re-weighted × 100/60
		{"no visit with a window", Metrics{mFTFEligible: 2, mFTFFixed: 1}, true, 50, []*float64{f(50), nil}},
		// a value below worst still counts: 0 of 40 is data
		{"on time below worst", Metrics{mFTFEligible: 1, mFTFFixed: 1, mVisitsTimed: 2}, true, 60, []*float64{f(60), f(0)}},
		{"no data at all", Metrics{mTickets: 3}, false, 0, []*float64{nil, nil}},
	} {
		sc, out, ok := score(inds, c.m)
		assert.Equal(t, c.ok, ok, c.name)
		assert.InDelta(t, c.score, sc, 1e-9, c.name)
		for i, want := range c.points {
			if want == nil {
				assert.Nil(t, out[i].Points, "%s: %s", c.name, out[i].KPI)
				assert.Nil(t, out[i].Value, "%s: %s", c.name, out[i].KPI)
				continue
			}
			if assert.NotNil(t, out[i].Points, "%s: %s", c.name, out[i].KPI) {
				assert.InDelta(t, *want, *out[i].Points, 1e-9, "%s: %s", c.name, out[i].KPI)
			}
		}
	}
}
