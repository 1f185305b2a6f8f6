package quality

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

// The licence is a hard constraint: without a valid one a technician is
// not promoted (a demotion still applies), and one with no level yet is not
// levelled at all. Volume below every rule's minimum is not levelled.
func TestLevelForLicenceAndVolume(t *testing.T) {
	pol := LevelPolicy{TotalWeight: 100, Levels: []LevelRule{
		{Level: 4, MinScore: 80, MinTickets: 5, Certifications: []string{"adv"}},
		{Level: 3, MinScore: 60, MinTickets: 3},
		{Level: 1, MinScore: 0, MinTickets: 3},
	}}
	two, three := 2, 3
	m := Metrics{}
	cases := []struct {
		name    string
		score   float64
		tickets int64
		courses []string
		cur     *int
		licence bool
		level   int
		ok      bool
	}{
		{"certified and busy", 90, 5, []string{"adv"}, &two, true, 4, true},
		{"no certificate", 90, 5, nil, &two, true, 3, true},
		{"licence expired: no promotion", 90, 5, []string{"adv"}, &two, false, 2, true},
		{"licence expired: demotion applies", 10, 5, nil, &three, false, 1, true},
		{"licence expired, no level yet", 90, 5, []string{"adv"}, nil, false, 0, false},
		{"below every volume", 90, 2, []string{"adv"}, &two, true, 0, false},
		{"a lower rule holds", 90, 4, nil, nil, true, 3, true},
	}
	for _, c := range cases {
		level, _, ok := levelFor(pol, c.score, c.tickets, m, c.courses, c.cur, c.licence)
		assert.Equal(t, c.ok, ok, c.name)
		if ok {
			assert.Equal(t, c.level, level, c.name)
		}
	}
	// No rule holds (score too low for every one): the lowest level listed.
	pol.Levels = []LevelRule{{Level: 3, MinScore: 60, MinTickets: 3}, {Level: 2, MinScore: 50, MinTickets: 3}}
	level, notes, ok := levelFor(pol, 10, 4, m, nil, &three, true)
	assert.True(t, ok)
	assert.Equal(t, 2, level)
	assert.Equal(t, []string{"level 3: score 10, needs 60", "level 2: score 10, needs 50"}, notes)
}
