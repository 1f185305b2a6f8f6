package i18n

import (
	"fmt"
	"time"
)

// zoneNames names, by catalog code (zone.name.<name>), the IANA zones a
// brand of ours is likely to run in: mainland China, Hong Kong, Taipei and
// their neighbours, and UTC. None of them has daylight saving today, so a
// name is right at any moment. No Go module on the module proxy carries
// CLDR's localized zone names (go-playground/locales keys them by the
// zone's abbreviation, and Go abbreviates Asia/Shanghai "CST", which CLDR
// reads as US Central), so this short table stands in, and every other zone
// is told by its offset at the moment (ZoneName).
var zoneNames = map[string]string{
	"Asia/Shanghai": "china", "Asia/Chongqing": "china", "Asia/Chungking": "china", "Asia/Harbin": "china", "PRC": "china",
	"Asia/Urumqi": "urumqi", "Asia/Kashgar": "urumqi",
	"Asia/Hong_Kong": "hong_kong", "Hongkong": "hong_kong",
	"Asia/Taipei": "taipei", "ROC": "taipei",
	"Asia/Tokyo": "japan", "Japan": "japan",
	"Asia/Seoul": "korea", "ROK": "korea",
	"Asia/Singapore": "singapore", "Singapore": "singapore",
	"UTC": "utc", "Etc/UTC": "utc", "Etc/UCT": "utc", "UCT": "utc", "Universal": "utc", "Etc/Universal": "utc",
	"Zulu": "utc", "Etc/Zulu": "utc",
}

// ZoneName is the time zone loc told for people at the moment at: its
// name (zone.name.*: "China Standard Time", "北京时间") for the zones the
// catalog names, else its offset from UTC at that moment (zone.offset:
// "UTC+01:00"). A nil loc is UTC.
func ZoneName(loc *time.Location, at time.Time) Message {
	if loc == nil {
		loc = time.UTC
	}
	if name, ok := zoneNames[loc.String()]; ok {
		return M("zone.name." + name)
	}
	_, off := at.In(loc).Zone()
	sign := "+"
	if off < 0 {
		sign, off = "-", -off
	}
	return M("zone.offset", "Offset", fmt.Sprintf("%s%02d:%02d", sign, off/3600, off%3600/60))
}
