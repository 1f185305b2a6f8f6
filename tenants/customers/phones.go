package customers

import (
	"strings"

	"github.com/nyaruka/phonenumbers"
)

// phoneRegion is the region a number written without a country code
// belongs to: our brands serve mainland China.
const phoneRegion = "CN"

// NormalizePhone returns the form phones are stored and matched in, E.164
// ("+8613800138000"), and whether s is a valid phone number, by
// github.com/nyaruka/phonenumbers with mainland China as the default
// region:
//
//   - any usual notation works: spaces, dashes, dots, parentheses,
//     full-width digits, "+86", "0086" or a bare "86" before a mobile;
//   - mainland mobiles (11 digits from 1) and landlines with their area
//     code ("0532-8893 0000", "010 1234 5678") are valid; a landline without
//     its area code, a mobile a digit short, or letters are not (Parse
//     accepts many such numbers: validity is IsValidNumber's answer);
//   - other countries' numbers need their +country code;
//   - an extension is dropped (E.164 has none).
//
// So "138 0013 8000", "+86 13800138000" and "(0086) 138-0013-8000" are the
// same customer. DisplayPhone gives the national form back.
func NormalizePhone(s string) (string, bool) {
	n, ok := parsePhone(s)
	if !ok {
		return "", false
	}
	return phonenumbers.Format(n, phonenumbers.E164), true
}

// parsePhone parses s as NormalizePhone reads it, and reports whether it
// is a valid phone number.
func parsePhone(s string) (*phonenumbers.PhoneNumber, bool) {
	s = strings.TrimSpace(s)
	if s == "" || len(s) > 40 {
		return nil, false
	}
	for _, r := range s {
		if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' {
			return nil, false // phonenumbers reads letters as keypad digits
		}
	}
	n, err := phonenumbers.Parse(s, phoneRegion)
	if err != nil || !phonenumbers.IsValidNumber(n) {
		return nil, false
	}
	return n, true
}

// ParsePhone is NormalizePhone and DisplayPhone of its result at once, with
// one parse: the stored (E.164) and the displayed form of s, and whether s
// is a valid phone number ("", "" and false if not).
func ParsePhone(s string) (e164, shown string, ok bool) {
	n, ok := parsePhone(s)
	if !ok {
		return "", "", false
	}
	return phonenumbers.Format(n, phonenumbers.E164), displayed(n), true
}

// DisplayPhone returns how people write a stored (E.164) number: the
// national form for a mainland number ("138 0013 8000", "0532 8893 0000"),
// the international form for others ("+44 20 7946 0958"). Anything it
// cannot read (a masked or erased number) comes back unchanged.
func DisplayPhone(e164 string) string {
	if !strings.HasPrefix(e164, "+") {
		return e164
	}
	n, err := phonenumbers.Parse(e164, phoneRegion)
	if err != nil || !phonenumbers.IsValidNumber(n) {
		return e164
	}
	return displayed(n)
}

// displayed is a valid number's displayed form (DisplayPhone).
func displayed(n *phonenumbers.PhoneNumber) string {
	if phonenumbers.GetRegionCodeForNumber(n) == phoneRegion {
		return phonenumbers.Format(n, phonenumbers.NATIONAL)
	}
	return phonenumbers.Format(n, phonenumbers.INTERNATIONAL)
}
