package network

import (
	"testing"

	"github.com/stretchr/testify/require"
)

func TestRegionLevel(t *testing.T) {
	for code, want := range map[string]int{
		"370000":  1, // 山东省
		"110000":  1, // 北京市
		"370200":  2, // 青岛市
		"110100":  2, // 北京市 (the municipality's 市辖区 row)
		"419000":  2, // 省直辖县级行政区划
		"370212":  3, // 崂山区
		"440606":  3, // 顺德区
		"419001":  3, // 济源市
		"110101":  3,
		"":        0,
		"37021":   0, // too short
		"3702120": 0, // too long
		"070212":  0, // leading zero
		"37021a":  0,
		"３７０２１２":  0, // full-width digits
		" 70212":  0,
		"-70212":  0,
	} {
		require.Equal(t, want, RegionLevel(code), "RegionLevel(%q)", code)
	}
}

func TestRegionAncestors(t *testing.T) {
	for code, want := range map[string][]string{
		"370212": {"370212", "370200", "370000"},
		"440606": {"440606", "440600", "440000"},
		"110101": {"110101", "110100", "110000"},
		"429004": {"429004", "429000", "420000"}, // 仙桃市 under 省直辖县级行政区划
		"370200": {"370200", "370000"},
		"110100": {"110100", "110000"},
		"370000": {"370000"},
		"":       nil,
		"37021":  nil,
		"070212": nil,
		"37021x": nil,
	} {
		require.Equal(t, want, RegionAncestors(code), "RegionAncestors(%q)", code)
	}
}
