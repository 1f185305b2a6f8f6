package phones

import (
	"strings"
	"sync"

	"github.com/nyaruka/phonenumbers"
)

// phoneRegion is the region a number written without a country code
// belongs to: our brands serve mainland China.
const phoneRegion = "CN"

// Normalize returns the form phones are stored and matched in, E.164
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
// same customer. Display gives the national form back.
func Normalize(s string) (string, bool) {
	e164, _, ok := Parse(s)
	return e164, ok
}

// parsePhone parses s as Normalize reads it, and reports whether it
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

// Parse is Normalize and Display of its result at once, with
// one parse: the stored (E.164) and the displayed form of s, and whether s
// is a valid phone number ("", "" and false if not).
//
// Its answers are remembered (parsedPhones), a valid number's under its
// E.164 form too: the same numbers come back with every call of a
// returning customer, and a number normalised once is not parsed again.
func Parse(s string) (e164, shown string, ok bool) {
	if p, hit := parsedPhones.get(s); hit {
		return p.e164, p.shown, p.ok
	}
	var p parsedPhone
	if n, valid := parsePhone(s); valid {
		p = parsedPhone{e164: phonenumbers.Format(n, phonenumbers.E164), shown: displayed(n), ok: true}
		if p.e164 != s {
			parsedPhones.put(p.e164, p)
		}
	}
	parsedPhones.put(s, p)
	return p.e164, p.shown, p.ok
}

// Display returns how people write a stored (E.164) number: the
// national form for a mainland number ("138 0013 8000", "0532 8893 0000"),
// the international form for others ("+44 20 7946 0958"). Anything it
// cannot read (a masked or erased number) comes back unchanged.
//
// Its answers are remembered (displayedPhones): every read of a ticket or
// a customer shows its phones, a list page many.
func Display(e164 string) string {
	if !strings.HasPrefix(e164, "+") {
		return e164
	}
	if p, hit := displayedPhones.get(e164); hit {
		return p.shown
	}
	shown := e164
	if n, err := phonenumbers.Parse(e164, phoneRegion); err == nil && phonenumbers.IsValidNumber(n) {
		shown = displayed(n)
	}
	displayedPhones.put(e164, parsedPhone{shown: shown})
	return shown
}

// A parsedPhone is what Parse answered for an input (Display
// uses shown only).
type parsedPhone struct {
	e164, shown string
	ok          bool
}

// phoneMemo remembers answers of a pure function of a phone string:
// phonenumbers' parse and validation cost about 0.1 ms of CPU per number
// (regular expressions over its metadata), a lookup well under 1 µs. It
// holds at most maxPhoneMemo answers, then starts afresh (a bound on
// memory, as the rate limiter's buckets).
type phoneMemo struct {
	mu sync.RWMutex
	m  map[string]parsedPhone
}

const maxPhoneMemo = 20_000

var parsedPhones, displayedPhones phoneMemo

func (c *phoneMemo) get(s string) (parsedPhone, bool) {
	c.mu.RLock()
	p, ok := c.m[s]
	c.mu.RUnlock()
	return p, ok
}

func (c *phoneMemo) put(s string, p parsedPhone) {
	if len(s) > 64 { // not a phone number: not worth the memory
		return
	}
	c.mu.Lock()
	if c.m == nil || len(c.m) >= maxPhoneMemo {
		c.m = make(map[string]parsedPhone, 256)
	}
	c.m[strings.Clone(s)] = p
	c.mu.Unlock()
}

// displayed is a valid number's displayed form (Display).
func displayed(n *phonenumbers.PhoneNumber) string {
	if phonenumbers.GetRegionCodeForNumber(n) == phoneRegion {
		return phonenumbers.Format(n, phonenumbers.NATIONAL)
	}
	return phonenumbers.Format(n, phonenumbers.INTERNATIONAL)
}
