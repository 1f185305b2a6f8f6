package phones

import (
	"strconv"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestNormalizePhone(t *testing.T) {
	t.Parallel()
	cases := []struct {
		in, want, display string
		ok                bool
	}{
		{"13800138000", "+8613800138000", "138 0013 8000", true},
		{"138 0013 8000", "+8613800138000", "138 0013 8000", true},
		{"138-0013-8000", "+8613800138000", "138 0013 8000", true},
		{"+86 138 0013 8000", "+8613800138000", "138 0013 8000", true},
		{"+86-13800138000", "+8613800138000", "138 0013 8000", true},
		{"(0086) 138-0013-8000", "+8613800138000", "138 0013 8000", true},
		{"8613800138000", "+8613800138000", "138 0013 8000", true},
		{"１３８００１３８０００", "+8613800138000", "138 0013 8000", true},
		{"0532-8893 0000", "+8653288930000", "0532 8893 0000", true},
		{"(0532) 88930000", "+8653288930000", "0532 8893 0000", true},
		{"+86 532 8893 0000", "+8653288930000", "0532 8893 0000", true},
		{"010-12345678", "+861012345678", "010 1234 5678", true},
		{"400-699-9999", "+864006999999", "400 699 9999", true},
		{"+44 20 7946 0958", "+442079460958", "+44 20 7946 0958", true},
		{"0044 20 7946 0958", "+442079460958", "+44 20 7946 0958", true},
		{"1380013800", "", "", false}, // a mobile number one digit short
		{"88886666", "", "", false},   // a landline without its area code
		{"+86 138001380001", "", "", false},
		{"ask at the desk", "", "", false},
		{"138OO138000", "", "", false},
		{"", "", "", false},
		{"+", "", "", false},
		{"1234", "", "", false},
		{"123456789012345678901", "", "", false},
	}
	for _, c := range append(cases, cases...) { // the second time from the memo
		got, ok := Normalize(c.in)
		require.Equal(t, c.ok, ok, "%q", c.in)
		require.Equal(t, c.want, got, "%q", c.in)
		if ok {
			require.Equal(t, c.display, Display(got), "%q", c.in)
		}
		e164, shown, ok := Parse(c.in)
		require.Equal(t, []any{c.want, c.display, c.ok}, []any{e164, shown, ok}, "Parse(%q)", c.in)
	}
	require.Equal(t, "138****8000", Display("138****8000"), "masked numbers pass through")
}

func TestPhoneMemoIsBounded(t *testing.T) {
	var m phoneMemo
	for i := range maxPhoneMemo + 10 {
		m.put(string(rune('a'+i%26))+strconv.Itoa(i), parsedPhone{ok: true})
		require.LessOrEqual(t, len(m.m), maxPhoneMemo)
	}
	p, hit := m.get("a0")
	require.False(t, hit, "started afresh at the bound")
	require.Equal(t, parsedPhone{}, p)
}

// BenchmarkDisplayPhone: a number read before (every read of a ticket or
// customer shows its phones) against a number parsed afresh.
func BenchmarkDisplayPhone(b *testing.B) {
	b.Run("remembered", func(b *testing.B) {
		Display("+8613800138000")
		b.ReportAllocs()
		for b.Loop() {
			Display("+8613800138000")
		}
	})
	b.Run("parsed", func(b *testing.B) {
		b.ReportAllocs()
		i := 0
		for b.Loop() {
			Display("+86139" + strconv.Itoa(10000000+i)) // never seen
			i++
		}
	})
}
