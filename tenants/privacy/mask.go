package privacy

import (
	"strings"
	"unicode/utf8"
)

// The masked forms of personal data. They keep enough to recognise the
// record on a call (a phone's carrier prefix and last four digits, an
// address's district, a name's family name) and nothing that reaches the
// person.

// Erased replaces personal data of an erased customer.
const Erased = "[erased]"

// MaskPhone keeps a phone's first three and last four digits:
// 13800138000 → 138****8000; a mainland number in E.164 loses its +86
// first (+8613800138000 → 138****8000); shorter numbers keep their last
// two.
func MaskPhone(s string) string {
	if s == "" || s == Erased || strings.Contains(s, "****") {
		return s
	}
	s = strings.TrimPrefix(s, "+86")
	if len(s) >= 10 {
		return s[:3] + "****" + s[len(s)-4:]
	}
	if len(s) <= 2 {
		return "****"
	}
	return "****" + s[len(s)-2:]
}

// MaskAddressLine keeps an address line up to its district, county or
// city (区, 县, 市, 镇, 旗) within the first 12 characters, else its first
// two characters: 北京市朝阳区建国路88号 → 北京市朝阳区****.
func MaskAddressLine(s string) string {
	if s == "" || s == Erased || strings.HasSuffix(s, "****") {
		return s
	}
	cut := -1
	i := 0
	for pos, r := range s {
		if i >= 12 {
			break
		}
		if strings.ContainsRune("区县市镇旗", r) {
			cut = pos + utf8.RuneLen(r)
		}
		i++
	}
	if cut < 0 {
		n := 0
		for pos := range s {
			if n == 2 {
				cut = pos
				break
			}
			n++
		}
		if cut < 0 {
			cut = 0
		}
	}
	return s[:cut] + "****"
}

// MaskName keeps a name's first character: 王丽 → 王*.
func MaskName(s string) string {
	if s == "" || s == Erased || strings.Contains(s, "*") {
		return s
	}
	r, size := utf8.DecodeRuneInString(s)
	n := utf8.RuneCountInString(s[size:])
	if n == 0 {
		n = 1
	}
	return string(r) + strings.Repeat("*", n)
}
