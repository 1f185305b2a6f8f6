package customers

import "strings"

// phoneSeparators are the characters people write between digits.
var phoneSeparators = strings.NewReplacer(" ", "", "-", "", "(", "", ")", "", ".", "", "\u00a0", "", "\t", "")

// NormalizePhone returns the form phones are stored and matched in, and
// whether s is a phone number at all:
//
//   - spaces, dashes, dots and parentheses are dropped;
//   - a mainland-China number loses its country code: "+86", "0086" and a
//     bare "86" before an 11-digit mobile number are removed, and a landline
//     written internationally gets its trunk 0 back
//     ("+86 532 8893 0000" → "053288930000", "+86 138-0013-8000" → "13800138000");
//   - other international numbers keep "+" and their digits ("0044..." → "+44...");
//   - what is left is 5-20 digits (after an optional "+"), and a mainland
//     mobile number (starting with 1) has exactly 11.
//
// So "138 0013 8000", "+86 13800138000" and "(0086) 138-0013-8000" are the
// same customer.
func NormalizePhone(s string) (string, bool) {
	p := phoneSeparators.Replace(strings.TrimSpace(s))
	if strings.HasPrefix(p, "00") {
		p = "+" + p[2:]
	}
	intl := strings.HasPrefix(p, "+")
	digits := strings.TrimPrefix(p, "+")
	if digits == "" || len(digits) > 20 {
		return "", false
	}
	for _, c := range digits {
		if c < '0' || c > '9' {
			return "", false
		}
	}
	switch {
	case intl && strings.HasPrefix(digits, "86"):
		digits = strings.TrimPrefix(digits[2:], "0")
		if !strings.HasPrefix(digits, "1") {
			digits = "0" + digits // landline: the trunk prefix comes back
		}
		intl = false
	case !intl && len(digits) == 13 && strings.HasPrefix(digits, "861"):
		digits = digits[2:]
	}
	if len(digits) < 5 {
		return "", false
	}
	if intl {
		return "+" + digits, true
	}
	if strings.HasPrefix(digits, "1") && len(digits) != 11 {
		return "", false
	}
	return digits, true
}
