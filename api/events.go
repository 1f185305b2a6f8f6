package api

import (
	"context"
	"encoding/json"
	"net/http"
	"time"

	"github.com/danielgtaylor/huma/v2"

	"github.com/servicenet/servicenet/authz"
	"github.com/servicenet/servicenet/tenants"
	"github.com/servicenet/servicenet/tenants/events"
)

// Event is one entry of the tenant's feed.
type Event struct {
	ID         string          `json:"id" example:"evt_01jd3zq8w6v7t3y2k9x4n5m6pe"`
	Type       string          `json:"type" doc:"Dotted event type." example:"api_key.created"`
	SubjectID  string          `json:"subject_id" doc:"ID of the object the event is about." example:"key_01jd3zq8w6v7t3y2k9x4n5m6pb"`
	Actor      string          `json:"actor" doc:"Key ID (or \"operator\", or a job) that caused it." example:"key_01jd3zq8w6v7t3y2k9x4n5m6pa"`
	Data       json.RawMessage `json:"data" doc:"Event-specific payload."`
	OccurredAt time.Time       `json:"occurred_at" example:"2026-11-01T09:30:00+08:00"`
}

type listEventsInput struct {
	PageParams
	Types []string `query:"type" maxItems:"20" doc:"Only these event types; a trailing .* matches a family (api_key.*). Repeat or comma-separate." example:"api_key.*"`
}

type listEventsOutput struct {
	Body struct {
		Data       []Event `json:"data"`
		NextCursor string  `json:"next_cursor,omitempty" doc:"Where to read on from. The feed has no end: poll again later with this cursor for newer events."`
	}
}

func (s *Server) registerEvents() {
	register(s, authz.EventsList, huma.Operation{
		OperationID: "listEvents", Method: http.MethodGet, Path: "/v1/events",
		Summary: "Read the event feed", Tags: []string{"Events"},
		Description: "Events in the order they became visible (committed). Following next_cursor never skips an event: one whose transaction commits late is placed after those already read; an empty page means nothing new yet.",
		Errors:      []int{http.StatusUnprocessableEntity},
	}, func(ctx context.Context, in *listEventsInput) (*listEventsOutput, error) {
		p, _ := tenants.PrincipalFrom(ctx)
		page, err := events.List(ctx, s.deps.DB, p.TenantID, events.Filter{Types: in.Types, After: in.Cursor, Limit: in.limit()})
		if err != nil {
			return nil, err
		}
		out := &listEventsOutput{}
		out.Body.Data, out.Body.NextCursor = make([]Event, 0, len(page.Events)), page.NextCursor
		for _, e := range page.Events {
			out.Body.Data = append(out.Body.Data, Event(e))
		}
		return out, nil
	})
}
