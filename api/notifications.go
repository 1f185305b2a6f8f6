package api

import (
	"context"
	"fmt"
	"net/http"
	"strings"

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

func (o *gatewaySecretOutput) answer(x notifications.GatewayWithSecret) {
	o.Location, o.ETag, o.Body = "/v1/notification-gateways/"+x.ID, etag(x.Version), x
}

type gatewayList struct {
	Data []notifications.Gateway `json:"data"`
}

type listGatewaysOutput struct{ Body gatewayList }

func (o *listGatewaysOutput) answerList(xs []notifications.Gateway) { o.Body.Data = xs }

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
		"HMAC-SHA256 of id.timestamp.body>). A 2xx within 15 s sends it; anything else is retried after 5 s, 20 s, " +
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
		return reply[gatewaySecretOutput](s.deps.Notifications.CreateGateway(ctx, p, in.Body))
	})

	register(s, authz.NotificationsManage, huma.Operation{
		OperationID: "listNotificationGateways", Method: http.MethodGet, Path: "/v1/notification-gateways",
		Summary: "List notification gateways", Tags: tags,
		Description: "The tenant's gateways (at most one per channel), without their secrets.",
	}, func(ctx context.Context, _ *struct{}) (*listGatewaysOutput, error) {
		p, _ := tenants.PrincipalFrom(ctx)
		return replyList[listGatewaysOutput](s.deps.Notifications.ListGateways(ctx, p))
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

	register(s, authz.NotificationsManage, huma.Operation{
		OperationID: "listNotificationTemplates", Method: http.MethodGet, Path: "/v1/notification-templates",
		Summary: "List customer message templates", Tags: tags,
		Description: "Every customer message (purpose) in every language (zh-CN, en): the tenant's own text where it " +
			"set one, else the built-in text, with the parameters the text may use as {name}, and whether it is " +
			"essential (sent even to customers who opted out: the sign-off code). Messages are written in the " +
			"tenant's default_language. Purposes: " + purposeList() + ".",
	}, func(ctx context.Context, _ *struct{}) (*listTemplatesOutput, error) {
		p, _ := tenants.PrincipalFrom(ctx)
		ts, err := s.deps.Notifications.ListTemplates(ctx, p)
		if err != nil {
			return nil, err
		}
		return &listTemplatesOutput{Body: templateList{Data: ts}}, nil
	})

	register(s, authz.NotificationsManage, huma.Operation{
		OperationID: "setNotificationTemplate", Method: http.MethodPut, Path: "/v1/notification-templates/{purpose}/{language}",
		Summary: "Set a customer message template", Tags: tags,
		Description: "Sets the tenant's text of a customer message in a language. Placeholders are {name} with the " +
			"purpose's parameters (see listNotificationTemplates); an unknown parameter, a stray brace or an " +
			"unsupported language is 422 naming the field, and nothing changes. An unknown purpose is 404.",
		Errors:       []int{http.StatusNotFound, http.StatusUnprocessableEntity},
		MaxBodyBytes: 16 << 10,
	}, func(ctx context.Context, in *setTemplateInput) (*templateOutput, error) {
		p, _ := tenants.PrincipalFrom(ctx)
		t, err := s.deps.Notifications.SetTemplate(ctx, p, in.Purpose, in.Language, in.Body.Text)
		if err != nil {
			return nil, err
		}
		return &templateOutput{Body: t}, nil
	})
}

func purposeList() string {
	var b strings.Builder
	for i, pu := range notifications.Purposes {
		if i > 0 {
			b.WriteString("; ")
		}
		fmt.Fprintf(&b, "%s (%s params: %s", pu.Purpose, pu.When, strings.Join(pu.Params, ", "))
		if pu.Essential {
			b.WriteString("; essential")
		}
		b.WriteString(")")
	}
	return b.String()
}

type templateList struct {
	Data []notifications.Template `json:"data"`
}

type listTemplatesOutput struct {
	Body templateList
}

type templateOutput struct {
	Body notifications.Template
}

type setTemplateInput struct {
	Purpose  string `path:"purpose" maxLength:"64" doc:"The message." example:"technician_assigned"`
	Language string `path:"language" maxLength:"35" doc:"zh-CN or en; another language is 422." example:"zh-CN"`
	Body     struct {
		Text string `json:"text" minLength:"1" maxLength:"1000" doc:"The text, with {name} placeholders for the purpose's parameters." example:"【海尔服务】工单 {ticket_number}：工程师{technician_name}（证号 {licence_number}）将于 {window} 上门。"`
	}
}
