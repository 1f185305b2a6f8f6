package api

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"time"

	"github.com/danielgtaylor/huma/v2"

	"github.com/servicenet/servicenet/authz"
	"github.com/servicenet/servicenet/internal/i18n"
	"github.com/servicenet/servicenet/tenants"
	"github.com/servicenet/servicenet/tenants/events"
)

// Event is one entry of the tenant's feed. Its schema is the catalog's:
// one named schema per event type (see eventcatalog.go), discriminated by
// type.
type Event struct {
	ID         string          `json:"id"`
	Type       string          `json:"type"`
	SubjectID  string          `json:"subject_id"`
	Actor      string          `json:"actor"`
	Data       json.RawMessage `json:"data"`
	OccurredAt time.Time       `json:"occurred_at"`
	// Summary is the event type's summary (event.<type>) in the response's
	// language; SummaryI18n is its message.
	Summary     string        `json:"summary"`
	SummaryI18n *i18n.Message `json:"summary_i18n"`
}

// Localize writes the event's summary in lang, with the params of its
// payload that say what happened (eventMessage).
func (e *Event) Localize(lang string) {
	m := eventMessage(e.Type, e.Data)
	e.SummaryI18n, e.Summary = &m, m.Render(lang)
}

// Schema is the feed item's schema: one of the catalog's events.
func (Event) Schema(r huma.Registry) *huma.Schema { return registerEventSchemas(r) }

type listEventsInput struct {
	PageParams
	Types []string `query:"type,explode" maxItems:"20" doc:"Only these event types, as a webhook endpoint's event_types: an exact type (api_key.created), a family (api_key.*) or * for all; a malformed one is 422. Repeat or comma-separate." example:"api_key.*"`
}

type listEventsOutput struct {
	Body struct {
		Data       []Event `json:"data"`
		NextCursor string  `json:"next_cursor,omitempty" doc:"Where to read on from. The feed has no end: poll again later with this cursor for newer events."`
	}
}

func (o *listEventsOutput) answerPage(es []events.Event, next string) {
	o.Body.Data, o.Body.NextCursor = mapped(es, eventOf), next
}

func eventOf(e events.Event) Event {
	return Event{ID: e.ID, Type: e.Type, SubjectID: e.SubjectID, Actor: e.Actor, Data: e.Data, OccurredAt: e.OccurredAt}
}

func (s *Server) registerEvents() {
	register(s, authz.EventsList, huma.Operation{
		OperationID: "listEvents", Method: http.MethodGet, Path: "/v1/events",
		Summary: "Read the event feed", Tags: []string{"Events"},
		Description: "Events in the order they became visible (committed); each type's payload is in the catalog (the document's webhooks section). A storefront key reads the events about its own objects and itself. Following next_cursor never skips an event: one whose transaction commits late is placed after those already read; an empty page means nothing new yet.",
		Errors:      []int{http.StatusUnprocessableEntity},
	}, func(ctx context.Context, in *listEventsInput) (*listEventsOutput, error) {
		p, _ := tenants.PrincipalFrom(ctx)
		page, err := events.List(ctx, s.deps.DB, p.TenantID, events.Filter{Types: splitCommas(in.Types), After: in.Cursor, Limit: in.limit(),
			StorefrontID: p.StorefrontID})
		return replyPage[listEventsOutput](page.Events, page.NextCursor, err)
	})
}

// splitCommas is a repeated parameter's values with each comma-separated
// one split: type=a&type=b,c is [a b c]. (Huma reads an exploded parameter's
// repetitions but does not split them, and a non-exploded one's first
// occurrence only.)
func splitCommas(values []string) []string {
	var out []string
	for _, v := range values {
		out = append(out, strings.Split(v, ",")...)
	}
	return out
}
