package api

import (
	"context"
	"net/http"

	"github.com/danielgtaylor/huma/v2"

	"github.com/servicenet/servicenet/authz"
	"github.com/servicenet/servicenet/tenants"
	"github.com/servicenet/servicenet/tenants/webhooks"
)

// WebhookIDParam is the webhook endpoint path parameter.
type WebhookIDParam struct {
	WebhookID string `path:"webhook_id" maxLength:"64" doc:"Webhook endpoint ID." example:"whk_01jd3zq8w6v7t3y2k9x4n5m6pe"`
}

// DeliveryIDParam is the webhook delivery path parameter.
type DeliveryIDParam struct {
	DeliveryID string `path:"delivery_id" maxLength:"64" doc:"Webhook delivery ID." example:"dlv_01jd3zq8w6v7t3y2k9x4n5m6pf"`
}

type webhookOutput struct {
	ETag string `header:"ETag" doc:"The endpoint's version; send it in If-Match to update."`
	Body webhooks.Endpoint
}

type webhookSecretOutput struct {
	Location string `header:"Location"`
	ETag     string `header:"ETag"`
	Body     webhooks.EndpointWithSecret
}

func (o *webhookSecretOutput) answer(x webhooks.EndpointWithSecret) {
	o.Location, o.ETag, o.Body = "/v1/webhooks/"+x.ID, etag(x.Version), x
}

type webhookList struct {
	Data       []webhooks.Endpoint `json:"data"`
	NextCursor string              `json:"next_cursor,omitempty" doc:"Cursor for the next page; absent on the last page."`
}

type listWebhooksOutput struct{ Body webhookList }

func (o *listWebhooksOutput) answerPage(xs []webhooks.Endpoint, next string) {
	o.Body.Data, o.Body.NextCursor = xs, next
}

type updateWebhookInput struct {
	WebhookIDParam
	IfMatch string `header:"If-Match" doc:"ETag of your last read; the update is refused (412) if the endpoint changed since. Optional: without it the change applies to whatever version is current (last write wins). Strict: a weak or \"v0\" tag is 412, a malformed one 400."`
	Body    webhooks.EndpointUpdate
}

type listDeliveriesInput struct {
	WebhookIDParam
	PageParams
	Status string `query:"status" enum:"pending,retrying,delivered,failed" doc:"Only deliveries in this status."`
}

type deliveryList struct {
	Data       []webhooks.Delivery `json:"data"`
	NextCursor string              `json:"next_cursor,omitempty" doc:"Cursor for the next page; absent on the last page."`
}

type listDeliveriesOutput struct{ Body deliveryList }

func (o *listDeliveriesOutput) answerPage(xs []webhooks.Delivery, next string) {
	o.Body.Data, o.Body.NextCursor = xs, next
}

type replayDeliveryInput struct {
	WebhookIDParam
	DeliveryIDParam
}

type deliveryOutput struct{ Body webhooks.Delivery }

func (s *Server) registerWebhooks() {
	tags := []string{"Webhooks"}
	const signing = " Deliveries are POSTed as JSON {type, timestamp, data} and signed per Standard Webhooks: " +
		"webhook-id (the event id), webhook-timestamp (Unix seconds) and webhook-signature (space-separated v1,<base64 " +
		"HMAC-SHA256 of id.timestamp.body>; two during a secret rotation's overlap)."

	register(s, authz.WebhooksManage, huma.Operation{
		OperationID: "createWebhookEndpoint", Method: http.MethodPost, Path: "/v1/webhooks",
		Summary: "Register a webhook endpoint", Tags: tags,
		Description: "Registers an endpoint for the tenant's events of the given types (exact, family.* or *) and " +
			"returns its signing secret, shown only in this response (an idempotent retry answers without it). The URL " +
			"must be https and its host must resolve only to public addresses: loopback, private, link-local (and " +
			"metadata), CGNAT, multicast and reserved addresses are refused (422 on url), here and again when " +
			"delivering. A storefront key's endpoint is bound to its storefront and receives only events whose " +
			"data.storefront_id is that storefront; other keys may bind one to a storefront_id, or leave it unbound " +
			"to receive every matching event. An endpoint receives events that occur after it was registered." + signing,
		DefaultStatus: http.StatusCreated, Errors: []int{http.StatusUnprocessableEntity},
		MaxBodyBytes: 16 << 10,
	}, func(ctx context.Context, in *struct{ Body webhooks.NewEndpoint }) (*webhookSecretOutput, error) {
		p, _ := tenants.PrincipalFrom(ctx)
		return reply[webhookSecretOutput](s.deps.Webhooks.CreateEndpoint(ctx, p, in.Body))
	})

	register(s, authz.WebhooksManage, huma.Operation{
		OperationID: "listWebhookEndpoints", Method: http.MethodGet, Path: "/v1/webhooks",
		Summary: "List webhook endpoints", Tags: tags,
		Description: "Endpoints oldest first, without their secrets. A storefront key sees only its storefront's.",
		Errors:      []int{http.StatusUnprocessableEntity},
	}, func(ctx context.Context, in *PageParams) (*listWebhooksOutput, error) {
		p, _ := tenants.PrincipalFrom(ctx)
		return replyPage[listWebhooksOutput](s.deps.Webhooks.ListEndpoints(ctx, p, in.limit(), in.Cursor))
	})

	register(s, authz.WebhooksManage, huma.Operation{
		OperationID: "getWebhookEndpoint", Method: http.MethodGet, Path: "/v1/webhooks/{webhook_id}",
		Summary: "Get a webhook endpoint", Tags: tags,
		Description: "An endpoint without its secret. A storefront key sees only its storefront's; any other is not found.",
		Errors:      []int{http.StatusNotFound},
	}, func(ctx context.Context, in *WebhookIDParam) (*webhookOutput, error) {
		p, _ := tenants.PrincipalFrom(ctx)
		e, err := s.deps.Webhooks.GetEndpoint(ctx, p, in.WebhookID)
		if err != nil {
			return nil, err
		}
		return &webhookOutput{ETag: etag(e.Version), Body: e}, nil
	})

	register(s, authz.WebhooksManage, huma.Operation{
		OperationID: "updateWebhookEndpoint", Method: http.MethodPatch, Path: "/v1/webhooks/{webhook_id}",
		Summary: "Update a webhook endpoint", Tags: tags,
		Description: "Changes the URL (checked as at registration), the event types, the description, or enabled: " +
			"false stops deliveries (those pending or retrying fail at once, and stay failed when the endpoint is " +
			"enabled again: replay them), true re-enables an endpoint and resets its failure count (it receives the " +
			"events that occur from then on, none of those that occurred while it was disabled: read them from " +
			"GET /v1/events). " +
			"Send the ETag of your last read in If-Match.",
		Errors:       []int{http.StatusNotFound, http.StatusPreconditionFailed, http.StatusUnprocessableEntity},
		MaxBodyBytes: 16 << 10,
	}, func(ctx context.Context, in *updateWebhookInput) (*webhookOutput, error) {
		p, _ := tenants.PrincipalFrom(ctx)
		v, err := ifVersion(in.IfMatch)
		if err != nil {
			return nil, err
		}
		e, err := s.deps.Webhooks.UpdateEndpoint(ctx, p, in.WebhookID, in.Body, v)
		if err != nil {
			return nil, err
		}
		return &webhookOutput{ETag: etag(e.Version), Body: e}, nil
	})

	register(s, authz.WebhooksManage, huma.Operation{
		OperationID: "rotateWebhookSecret", Method: http.MethodPost, Path: "/v1/webhooks/{webhook_id}/rotate-secret",
		Summary: "Rotate a webhook endpoint's secret", Tags: tags,
		Description: "Issues a new signing secret, shown only in this response (an idempotent retry answers without " +
			"it). For the next 24 hours (previous_secret_expires_at) deliveries carry a signature with the previous " +
			"secret too, so receivers can switch over without failing a delivery; a rotation within that window " +
			"retires the oldest secret at once.",
		Errors: []int{http.StatusNotFound},
	}, func(ctx context.Context, in *WebhookIDParam) (*webhookSecretOutput, error) {
		p, _ := tenants.PrincipalFrom(ctx)
		return reply[webhookSecretOutput](s.deps.Webhooks.RotateSecret(ctx, p, in.WebhookID))
	})

	register(s, authz.WebhooksManage, huma.Operation{
		OperationID: "listWebhookDeliveries", Method: http.MethodGet, Path: "/v1/webhooks/{webhook_id}/deliveries",
		Summary: "List an endpoint's deliveries", Tags: tags,
		Description: "The endpoint's delivery log, newest first: each delivery's status, attempts, last response " +
			"code or error, and next attempt while retrying. An attempt without a 2xx answer within 15 s fails. " +
			"Failed attempts are retried after 5 s, 30 s, 2 min, 10 min, 1 h, 3 h and 6 h, each spread by up to " +
			"±20 %; after a 429 or 503 with a Retry-After header (seconds or an HTTP date), no sooner than it " +
			"asks (at most 1 h, and never later than the schedule's last attempt would be). A redirect (3xx) is " +
			"a failed attempt and is not followed. An endpoint is disabled after 50 consecutive failed attempts, " +
			"and at once when it answers 410 Gone (that delivery fails without retries).",
		Errors: []int{http.StatusNotFound, http.StatusUnprocessableEntity},
	}, func(ctx context.Context, in *listDeliveriesInput) (*listDeliveriesOutput, error) {
		p, _ := tenants.PrincipalFrom(ctx)
		return replyPage[listDeliveriesOutput](s.deps.Webhooks.ListDeliveries(ctx, p, in.WebhookID,
			webhooks.DeliveryFilter{Status: in.Status, Limit: in.limit(), Cursor: in.Cursor}))
	})

	register(s, authz.WebhooksManage, huma.Operation{
		OperationID: "replayWebhookDelivery", Method: http.MethodPost, Path: "/v1/webhooks/{webhook_id}/deliveries/{delivery_id}/replay",
		Summary: "Replay a webhook delivery", Tags: tags,
		Description: "Sends the delivery's event to the endpoint again as a new delivery (replay_of the old one) " +
			"with the same webhook-id, whatever the old one's status. The endpoint must be enabled (else 409).",
		DefaultStatus: http.StatusAccepted, Errors: []int{http.StatusNotFound, http.StatusConflict},
	}, func(ctx context.Context, in *replayDeliveryInput) (*deliveryOutput, error) {
		p, _ := tenants.PrincipalFrom(ctx)
		d, err := s.deps.Webhooks.ReplayDelivery(ctx, p, in.WebhookID, in.DeliveryID)
		if err != nil {
			return nil, err
		}
		return &deliveryOutput{Body: d}, nil
	})
}
