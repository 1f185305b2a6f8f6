package tickets

import (
	"fmt"
	"time"

	"github.com/servicenet/servicenet/internal/i18n"
)

// The texts the tickets context writes for people about SLA breaches,
// escalations, reconciliation findings and timeline entries: each a catalog
// message (code and params) kept beside the data it is made of, rendered in
// the reader's language when read (Localize).

// BreachMessage is an SLA breach told for people (sla.breached): the
// ticket's number, the deadline missed (an sla.name.* message), when it was
// due in the tenant's time zone loc (ZonedTime), and the escalation (an
// escalation.to.* message, with its level).
func BreachMessage(number string, sla SLA, dueAt time.Time, level int, escalatedTo string, loc *time.Location) i18n.Message {
	return i18n.M("sla.breached", "Number", number, "SLA", i18n.M("sla.name."+string(sla)),
		"Due", ZonedTime(dueAt, loc), "Level", level, "To", i18n.M("escalation.to."+escalatedTo))
}

// ZonedTime is t told for people in the time zone loc (UTC when nil), the
// zone named in the reader's language (sla.time, ZoneName an i18n.ZoneName
// message; Zone keeps the IANA id for integrators):
// "2026-11-30 10:00 (China Standard Time)", "2026-11-30 10:00（北京时间）".
func ZonedTime(t time.Time, loc *time.Location) i18n.Message {
	if loc == nil {
		loc = time.UTC
	}
	return i18n.M("sla.time", "Time", t.In(loc).Format("2006-01-02 15:04"), "Zone", loc.String(), "ZoneName", i18n.ZoneName(loc, t))
}

// Localize writes the breach's summary in lang.
func (b *Breach) Localize(lang string) {
	m := BreachMessage(b.Number, b.SLA, b.DueAt, b.Level, b.EscalatedTo, b.loc)
	b.SummaryI18n, b.Summary = &m, m.Render(lang)
}

// FindingMessage is a reconciliation finding told for people:
// reconcile.<problem> with the ticket's number, its completion time in the
// tenant's time zone loc (ZonedTime) and the day.
func FindingMessage(problem Problem, number, day string, completedAt time.Time, loc *time.Location) i18n.Message {
	return i18n.M("reconcile."+string(problem), "Number", number, "Day", day, "Completed", ZonedTime(completedAt, loc))
}

// Localize writes the entry's summary in lang, when its action has one.
func (e *TimelineEntry) Localize(lang string) {
	if m, ok := TimelineMessage(e.Action, e.Detail, e.loc); ok {
		e.SummaryI18n, e.Summary = &m, m.Render(lang)
	}
}

// Localize writes the finding's summary in lang.
func (f *Finding) Localize(lang string) {
	m := FindingMessage(f.Problem, f.Number, f.Day, f.CompletedAt, f.loc)
	f.SummaryI18n, f.Summary = &m, m.Render(lang)
}

// TimelineMessage is a timeline entry told for people: event.ticket.<action>
// (the summary of the ticket.<action> event), or for an SLA breach the
// breach itself (sla.missed, from the entry's detail, its deadline in the
// tenant's time zone loc). ok is false for an action without a catalog
// message.
func TimelineMessage(action string, detail map[string]any, loc *time.Location) (m i18n.Message, ok bool) {
	if action == string(actSLABreached) {
		sla, _ := detail["sla"].(string)
		to, _ := detail["escalated_to"].(string)
		if sla != "" && to != "" {
			due, _ := time.Parse(time.RFC3339Nano, fmt.Sprint(detail["due_at"]))
			return i18n.M("sla.missed", "SLA", i18n.M("sla.name."+sla), "Due", ZonedTime(due, loc),
				"Level", levelOf(detail["level"]), "To", i18n.M("escalation.to."+to)), true
		}
	}
	code := "event.ticket." + action
	return i18n.M(code), i18n.Has(code)
}

func levelOf(v any) int {
	switch v := v.(type) {
	case float64:
		return int(v)
	case int:
		return v
	case int64:
		return int(v)
	}
	return 0
}
