package api

import (
	"context"
	"net/http"

	"github.com/danielgtaylor/huma/v2"

	"github.com/servicenet/servicenet/authz"
	"github.com/servicenet/servicenet/tenants"
	"github.com/servicenet/servicenet/tenants/notifications"
)

// GatewayIDParam is the notification gateway path parameter.
type GatewayIDParam struct {
	GatewayID string `path:"gateway_id" maxLength:"64" doc:"Notification gateway ID." example:"ngw_01jd3zq8w6v7t3y2k9x4n5m6pe"`
}

type gatewayOutput struct {
	ETag string `header:"ETag" doc:"The gateway's version; send it in If-Match to update."`
	Body notifications.Gateway
}

type gatewaySecretOutput struct {
	Location string `header:"Location"`
	ETag     string `header:"ETag"`
	Body     notifications.GatewayWithSecret
}

type gatewayList struct {
	Data []notifications.Gateway `json:"data"`
}

type listGatewaysOutput struct{ Body gatewayList }

type updateGatewayInput struct {
	GatewayIDParam
	IfMatch string `header:"If-Match" doc:"ETag of your last read; the update is refused (412) if the gateway changed since. Optional: without it the change applies to whatever version is current (last write wins). Strict: a weak or \"v0\" tag is 412, a malformed one 400."`
	Body    notifications.GatewayUpdate
}

func (s *Server) registerNotifications() {
	tags := []string{"Notifications"}
	const how = " Each message is POSTed to the gateway as JSON {type: notification.requested, timestamp, data: " +
		"{notification_id, channel, purpose, subject_id, to, text, params, expires_at}} and signed per Standard " +
		"Webhooks with the gateway's secret: webhook-id (the notification id: the same on every retry, so the " +
		"gateway can drop duplicates), webhook-timestamp (Unix seconds) and webhook-signature (v1,<base64 " +
		"HMAC-SHA256 of id.timestamp.body>). A 2xx within 10 s sends it; anything else is retried after 5 s, 20 s, " +
		"1 min, 3 min and 5 min, and never after the message expires (a sign-off code: 15 min). The ticket shows " +
		"the code's delivery in signoff.delivery (queued, sent, failed; attempts). Without an enabled gateway the " +
		"tenant delivers messages itself: the notification.requested event on the feed names the message without " +
		"its secret, and its signed webhook delivery to the tenant's own endpoints (not a storefront's) carries to, " +
		"text and secret_params until the message expires; nothing secret is ever logged."

	register(s, authz.NotificationsManage, huma.Operation{
		OperationID: "createNotificationGateway", Method: http.MethodPost, Path: "/v1/notification-gateways",
		Summary: "Register the notification gateway", Tags: tags,
		Description: "Registers the tenant's gateway for a channel (sms: its SMS provider's endpoint; one per channel, " +
			"409 on a second) and returns its signing secret, shown only in this response (an idempotent retry answers " +
			"without it). The URL must be https and its host must resolve only to public addresses: loopback, private, " +
			"link-local (and metadata), CGNAT, multicast and reserved addresses are refused (422 on url), here and " +
			"again on every delivery." + how,
		DefaultStatus: http.StatusCreated, Errors: []int{http.StatusConflict, http.StatusUnprocessableEntity},
		MaxBodyBytes: 16 << 10,
	}, func(ctx context.Context, in *struct{ Body notifications.NewGateway }) (*gatewaySecretOutput, error) {
		p, _ := tenants.PrincipalFrom(ctx)
		g, err := s.deps.Notifications.CreateGateway(ctx, p, in.Body)
		if err != nil {
			return nil, err
		}
		return &gatewaySecretOutput{Location: "/v1/notification-gateways/" + g.ID, ETag: etag(g.Version), Body: g}, nil
	})

	register(s, authz.NotificationsManage, huma.Operation{
		OperationID: "listNotificationGateways", Method: http.MethodGet, Path: "/v1/notification-gateways",
		Summary: "List notification gateways", Tags: tags,
		Description: "The tenant's gateways (at most one per channel), without their secrets.",
	}, func(ctx context.Context, _ *struct{}) (*listGatewaysOutput, error) {
		p, _ := tenants.PrincipalFrom(ctx)
		gs, err := s.deps.Notifications.ListGateways(ctx, p)
		if err != nil {
			return nil, err
		}
		return &listGatewaysOutput{Body: gatewayList{Data: gs}}, nil
	})

	register(s, authz.NotificationsManage, huma.Operation{
		OperationID: "getNotificationGateway", Method: http.MethodGet, Path: "/v1/notification-gateways/{gateway_id}",
		Summary: "Get a notification gateway", Tags: tags,
		Description: "A gateway without its secret.",
		Errors:      []int{http.StatusNotFound},
	}, func(ctx context.Context, in *GatewayIDParam) (*gatewayOutput, error) {
		p, _ := tenants.PrincipalFrom(ctx)
		g, err := s.deps.Notifications.GetGateway(ctx, p, in.GatewayID)
		if err != nil {
			return nil, err
		}
		return &gatewayOutput{ETag: etag(g.Version), Body: g}, nil
	})

	register(s, authz.NotificationsManage, huma.Operation{
		OperationID: "updateNotificationGateway", Method: http.MethodPatch, Path: "/v1/notification-gateways/{gateway_id}",
		Summary: "Update a notification gateway", Tags: tags,
		Description: "Changes the URL (checked as at registration: https, public addresses only, 422 on url), the " +
			"description, or enabled: false stops sending through it (queued messages fail; new ones are requested " +
			"through the event feed). Send the ETag of your last read in If-Match.",
		Errors:       []int{http.StatusNotFound, http.StatusPreconditionFailed, http.StatusUnprocessableEntity},
		MaxBodyBytes: 16 << 10,
	}, func(ctx context.Context, in *updateGatewayInput) (*gatewayOutput, error) {
		p, _ := tenants.PrincipalFrom(ctx)
		v, err := ifVersion(in.IfMatch)
		if err != nil {
			return nil, err
		}
		g, err := s.deps.Notifications.UpdateGateway(ctx, p, in.GatewayID, in.Body, v)
		if err != nil {
			return nil, err
		}
		return &gatewayOutput{ETag: etag(g.Version), Body: g}, nil
	})
}
