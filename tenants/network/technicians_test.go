package network

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/servicenet/servicenet/tenants"
)

func TestValidateTechnician(t *testing.T) {
	t.Parallel()
	valid := func() NewTechnician {
		return NewTechnician{ExternalCode: "T-1", NodeID: "nod_01jd3zq8w6v7t3y2k9x4n5m6pc", Name: "李师傅", Phone: "+86 138 0532 0000",
			Skills:  []Skill{{Category: "washer", Level: 3}},
			Licence: &LicenceInput{Number: "L-1", IssuedOn: "2025-01-01", ExpiresOn: "2028-01-31"},
			Shifts:  []Shift{{Weekday: 1, Start: "08:00", End: "12:00"}, {Weekday: 1, Start: "13:00", End: "18:00"}}}
	}
	cases := []struct {
		name   string
		change func(*NewTechnician)
		want   []string // locations, in order; none for valid input
	}{
		{"Valid", func(*NewTechnician) {}, nil},
		{"NoLicenceIsAllowed", func(n *NewTechnician) { n.Licence = nil }, nil},
		{"AdjacentShiftsDoNotOverlap", func(n *NewTechnician) { n.Shifts[1].Start = "12:00" }, nil},
		{"OverlappingShifts", func(n *NewTechnician) { n.Shifts[1].Start = "11:59" }, []string{"shifts[1]"}},
		{"ShiftEndsAtStart", func(n *NewTechnician) { n.Shifts[0].End = "08:00" }, []string{"shifts[0].end"}},
		{"ShiftHour24", func(n *NewTechnician) { n.Shifts[0].End = "24:00" }, []string{"shifts[0].end"}},
		{"ShiftNotHHMM", func(n *NewTechnician) { n.Shifts[0].Start = "8:00" }, []string{"shifts[0].start"}},
		{"Weekday0", func(n *NewTechnician) { n.Shifts[0].Weekday = 0 }, []string{"shifts[0].weekday"}},
		{"Level0", func(n *NewTechnician) { n.Skills[0].Level = 0 }, []string{"skills[0].level"}},
		{"Level6", func(n *NewTechnician) { n.Skills[0].Level = 6 }, []string{"skills[0].level"}},
		{"UnknownCategory", func(n *NewTechnician) { n.Skills[0].Category = "drone" }, []string{"skills[0].category"}},
		{"DuplicateCategory", func(n *NewTechnician) { n.Skills = append(n.Skills, Skill{Category: "washer", Level: 1}) }, []string{"skills[1].category"}},
		{"LicenceSameDay", func(n *NewTechnician) { n.Licence.ExpiresOn = "2025-01-01" }, []string{"licence.expires_on"}},
		{"LicenceNotADate", func(n *NewTechnician) { n.Licence.IssuedOn = "2025-02-30" }, []string{"licence.issued_on"}},
		{"LicenceBlankNumber", func(n *NewTechnician) { n.Licence.Number = "  " }, []string{"licence.number"}},
		{"BadPhone", func(n *NewTechnician) { n.Phone = "ask at the desk" }, []string{"phone"}},
		{"BadExternalCode", func(n *NewTechnician) { n.ExternalCode = "-x" }, []string{"external_code"}},
		{"DailyLimit101", func(n *NewTechnician) { l := 101; n.DailyJobLimit = &l }, []string{"daily_job_limit"}},
		{"MalformedHomeRegion", func(n *NewTechnician) { n.Home = &Home{RegionCode: "37021"} }, []string{"home.region_code"}},
		{"HomeOffTheMap", func(n *NewTechnician) { n.Home = &Home{Location: &Point{Latitude: 91}} }, []string{"home.location"}},
		{"UnknownStatus", func(n *NewTechnician) { n.Status = "retired" }, []string{"status"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			in := valid()
			c.change(&in)
			v := &tenants.Validation{}
			validateTechnician(v, "", in)
			var got []string
			for _, f := range v.Fields() {
				got = append(got, f.Location)
			}
			require.Equal(t, c.want, got)
		})
	}
}

func TestLicenceStatus(t *testing.T) {
	t.Parallel()
	day := func(s string) *string { return &s }
	require.Equal(t, LicenceMissing, licenceStatus(nil, "2026-03-10"))
	require.Equal(t, LicenceValid, licenceStatus(day("2026-03-10"), "2026-03-10"), "valid through its last day")
	require.Equal(t, LicenceExpired, licenceStatus(day("2026-03-09"), "2026-03-10"))
	require.Equal(t, LicenceValid, licenceStatus(day("2027-01-01"), "2026-12-31"))
}
