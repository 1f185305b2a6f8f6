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

// MaskText masks the personal data a free text (a fault as the customer
// described it, a technician's notes, a customer's comment) may hold: the
// names given (the ticket's contact), each occurrence as MaskName masks
// it, and every number of seven digits or more, full-width digits too (a
// phone, an identity card or a bank card number: 请联系我妻子王芳
// 138-0013-8000 → 请联系我妻子王* 138****8000), as MaskPhone masks a
// phone. A number's groups may be separated by a space or a hyphen when
// both have three digits or more (138 0013 8000, 0532-88886666, +86 and
// its number), so a date (2026-12-01), a fault code or a model number
// stays. Text already masked stays as it is.
func MaskText(s string, names ...string) string {
	if s == "" || s == Erased {
		return s
	}
	for _, name := range names {
		if utf8.RuneCountInString(name) >= 2 && name != Erased && !strings.Contains(name, "*") {
			s = strings.ReplaceAll(s, name, MaskName(name))
		}
	}
	rs := []rune(s)
	var b strings.Builder
	for i := 0; i < len(rs); {
		plus := rs[i] == '+' && i+1 < len(rs) && isDigit(rs[i+1]) // +86 …
		if !plus && !isDigit(rs[i]) {
			b.WriteRune(rs[i])
			i++
			continue
		}
		// A number: groups of digits, each joined to the next by one
		// space or hyphen when both have three digits or more (or the
		// first is a +country code).
		digits, j := []byte{}, i
		if plus {
			digits, j = []byte{'+'}, i+1
		}
		group := 0
		for j < len(rs) {
			if d, ok := digit(rs[j]); ok {
				digits = append(digits, d)
				group++
				j++
				continue
			}
			if (rs[j] == ' ' || rs[j] == '-') && (group >= 3 || plus && len(digits) == group+1) && leadingDigits(rs[j+1:]) >= 3 {
				group = 0
				j++
				continue
			}
			break
		}
		if n := len(digits); plus && n >= 8 || !plus && n >= 7 {
			b.WriteString(MaskPhone(string(digits)))
		} else {
			b.WriteString(string(rs[i:j]))
		}
		i = j
	}
	return b.String()
}

// leadingDigits counts the digits rs begins with.
func leadingDigits(rs []rune) int {
	n := 0
	for n < len(rs) && isDigit(rs[n]) {
		n++
	}
	return n
}

func isDigit(r rune) bool { _, ok := digit(r); return ok }

// digit is r's ASCII digit, for an ASCII or a full-width one.
func digit(r rune) (byte, bool) {
	switch {
	case r >= '0' && r <= '9':
		return byte(r), true
	case r >= '０' && r <= '９':
		return byte('0' + r - '０'), true
	}
	return 0, false
}
