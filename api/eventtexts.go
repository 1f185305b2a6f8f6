package api

import (
	"encoding/json"
	"strconv"
	"strings"

	"github.com/servicenet/servicenet/internal/i18n"
)

// eventMessage is an event told for people: its type's summary
// (event.<type>) with the params of its payload that say what happened —
// a ticket's number, an amount, a status, a count. A summary's params are
// optional in its text ({{if .X}}), so an event whose payload lacks one
// (an older event) still reads as the plain summary.
func eventMessage(typ string, data json.RawMessage) i18n.Message {
	var d map[string]any
	_ = json.Unmarshal(data, &d) // a payload that is not an object has no params
	m := i18n.Message{Code: "event." + typ, Params: eventParams(typ, d)}
	if len(m.Params) == 0 {
		m.Params = nil
	}
	if number := str(d, "number"); number != "" && strings.HasPrefix(typ, "ticket.") {
		return i18n.M("event.numbered", "Number", number, "Summary", m)
	}
	return m
}

// eventParams picks the params of event type typ from its payload d.
func eventParams(typ string, d map[string]any) map[string]any {
	p := map[string]any{}
	switch typ {
	case "ticket.sla_breached":
		if sla, to := str(d, "sla"), str(d, "escalated_to"); sla != "" && to != "" {
			p["SLA"], p["To"], p["Level"] = i18n.M("sla.name."+sla), i18n.M("escalation.to."+to), d["level"]
		}
	case "payout.scheduled", "payout.paid", "payout.missed":
		putMoney(p, "Amount", d["amount"])
		putStr(p, "Due", d, "due_on")
	case "contract.redated":
		if from, to := str(d, "starts_on"), str(d, "ends_on"); from != "" && to != "" {
			p["StartsOn"], p["EndsOn"] = from, to
		}
	case "swap.evaluated":
		putMoney(p, "Fee", d["fee"])
	case "node.created", "technician.created":
		putStr(p, "Code", d, "external_code")
	case "node.status_changed":
		if from, to := str(d, "from"), str(d, "to"); from != "" && to != "" {
			p["From"], p["To"] = i18n.M("event.node_status."+from), i18n.M("event.node_status."+to)
		}
	case "network_import.finished":
		if s := str(d, "state"); s != "" {
			p["State"] = i18n.M("event.import_state." + s)
		}
		if n, ok := d["total_rows"].(float64); ok && n > 0 {
			p["Rows"] = int64(n)
		}
		if n, ok := d["errors"].(float64); ok && n > 0 {
			p["Errors"] = int64(n)
		}
	case "complaint.escalated":
		if n, ok := d["level"].(float64); ok && n > 0 {
			p["Level"] = int64(n)
		}
	}
	if strings.HasPrefix(typ, "claim.") {
		putStr(p, "Reference", d, "reference")
	}
	return p
}

func str(d map[string]any, key string) string {
	s, _ := d[key].(string)
	return s
}

func putStr(p map[string]any, name string, d map[string]any, key string) {
	if s := str(d, key); s != "" {
		p[name] = s
	}
}

// putMoney sets p[name] to an amount as read from JSON ({"amount": minor
// units, "currency": ISO 4217}), told as event.money in major units.
func putMoney(p map[string]any, name string, v any) {
	m, _ := v.(map[string]any)
	minor, ok := m["amount"].(float64)
	currency, _ := m["currency"].(string)
	if !ok || currency == "" {
		return
	}
	n := int64(minor)
	sign := ""
	if n < 0 {
		sign, n = "-", -n
	}
	value := sign + strconv.FormatInt(n/100, 10) + "." + strconv.FormatInt(n%100/10, 10) + strconv.FormatInt(n%10, 10)
	p[name] = i18n.M("event.money", "Value", value, "Currency", currency)
}
