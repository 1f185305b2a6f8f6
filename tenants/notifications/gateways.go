package notifications

import (
	"context"
	"errors"
	"slices"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/servicenet/servicenet/internal/i18n"
	"github.com/servicenet/servicenet/internal/pg"
	"github.com/servicenet/servicenet/tenants"
	"github.com/servicenet/servicenet/tenants/events"
)

// Gateway is the tenant's endpoint for one channel's messages (its SMS
// provider).
type Gateway struct {
	ID          string    `json:"id" example:"ngw_01jd3zq8w6v7t3y2k9x4n5m6pe"`
	Channel     string    `json:"channel" enum:"sms" doc:"The channel it carries." example:"sms"`
	URL         string    `json:"url" doc:"Where messages are POSTed." example:"https://sms.example.com/servicenet"`
	Description string    `json:"description" doc:"Free text." example:"阿里云短信网关"`
	Enabled     bool      `json:"enabled" doc:"A disabled gateway carries nothing: messages are then requested through the event feed." example:"true"`
	Version     int       `json:"version" doc:"Increases with every change; the ETag is \"v<version>\"." example:"1"`
	CreatedAt   time.Time `json:"created_at" example:"2026-11-01T09:30:00+08:00"`
	UpdatedAt   time.Time `json:"updated_at" example:"2026-11-01T09:30:00+08:00"`
}

// GatewayWithSecret is a gateway with its signing secret, answered only at
// creation.
type GatewayWithSecret struct {
	Gateway
	Secret string `json:"secret" doc:"The signing secret (Standard Webhooks whsec_ form). Shown only now: store it." example:"whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"`
}

// NewGateway is a gateway to register.
type NewGateway struct {
	Channel     string `json:"channel,omitempty" enum:"sms" doc:"The channel; default sms. One gateway per channel (409 on a second)." example:"sms"`
	URL         string `json:"url" minLength:"1" maxLength:"2048" doc:"An https URL whose host resolves only to public addresses." example:"https://sms.example.com/servicenet"`
	Description string `json:"description,omitempty" maxLength:"500" doc:"Free text." example:"阿里云短信网关"`
}

// GatewayUpdate changes a gateway; absent fields are kept.
type GatewayUpdate struct {
	URL         *string `json:"url,omitempty" minLength:"1" maxLength:"2048" doc:"A new https URL (checked like at registration)." example:"https://sms.example.com/v2/servicenet"`
	Description *string `json:"description,omitempty" maxLength:"500" doc:"Replaces the description." example:"备用短信网关"`
	Enabled     *bool   `json:"enabled,omitempty" doc:"false: stop sending through it (messages are then requested through the event feed)." example:"true"`
}

const gatewayColumns = `id, channel, url, description, enabled, version, created_at, updated_at`

func scanGateway(row pgx.Row) (Gateway, error) {
	var g Gateway
	err := row.Scan(&g.ID, &g.Channel, &g.URL, &g.Description, &g.Enabled, &g.Version, &g.CreatedAt, &g.UpdatedAt)
	return g, err
}

func getGateway(ctx context.Context, tx pg.TenantTx, id, lock string) (Gateway, error) {
	if !tenants.ValidID(tenants.PrefixGateway, id) {
		return Gateway{}, tenants.NotFound("notification gateway")
	}
	g, err := scanGateway(tx.QueryRow(ctx, `SELECT `+gatewayColumns+` FROM notification_gateways
		WHERE tenant_id = $1 AND id = $2 `+lock, tx.TenantID, id))
	if errors.Is(err, pgx.ErrNoRows) {
		return Gateway{}, tenants.NotFound("notification gateway")
	}
	return g, err
}

func (s *Service) checkURL(ctx context.Context, v *tenants.Validation, raw string) string {
	raw = strings.TrimSpace(raw)
	if len(raw) == 0 || len(raw) > 2048 {
		v.AddMsg("url", i18n.M("common.length", "Min", 1, "Max", 2048), raw)
	} else if msg := s.guard.CheckURL(ctx, raw); msg != nil {
		v.AddMsg("url", *msg, raw)
	}
	return raw
}

// CreateGateway registers the tenant's gateway for a channel and returns it
// with its signing secret (shown only now). The URL must be https and
// resolve only to public addresses (422 on url); a second gateway for
// the same channel is a conflict.
func (s *Service) CreateGateway(ctx context.Context, p tenants.Principal, in NewGateway) (GatewayWithSecret, error) {
	v := &tenants.Validation{}
	if in.Channel == "" {
		in.Channel = ChannelSMS
	}
	if !slices.Contains(Channels, in.Channel) {
		v.AddMsg("channel", i18n.M("common.one_of", "Values", "sms"), in.Channel)
	}
	in.URL = s.checkURL(ctx, v, in.URL)
	if len([]rune(in.Description)) > 500 {
		v.AddMsg("description", i18n.M("common.max_length", "Max", 500), in.Description)
	}
	if err := v.Err(); err != nil {
		return GatewayWithSecret{}, err
	}
	out := GatewayWithSecret{Secret: newSecret()}
	err := pg.InTenantTx(ctx, s.DB, p.TenantID, func(tx pg.TenantTx) error {
		var exists bool
		if err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT FROM notification_gateways WHERE tenant_id = $1 AND channel = $2)`,
			tx.TenantID, in.Channel).Scan(&exists); err != nil {
			return err
		}
		if exists {
			return tenants.ErrorMsg(tenants.CodeConflict, i18n.M("notifications.gateway_exists", "Channel", in.Channel))
		}
		var err error
		out.Gateway, err = scanGateway(tx.QueryRow(ctx, `
			INSERT INTO notification_gateways (tenant_id, id, channel, url, description, secret, created_by)
			VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING `+gatewayColumns,
			tx.TenantID, tenants.NewID(tenants.PrefixGateway), in.Channel, in.URL, in.Description, out.Secret, p.Subject()))
		if err != nil {
			return err
		}
		return events.Append(ctx, tx, events.New{Type: TypeGatewayCreated, SubjectID: out.ID, Actor: p.Subject(),
			Data: map[string]any{"channel": out.Channel, "url": out.URL, "enabled": out.Enabled}})
	})
	if err != nil {
		return GatewayWithSecret{}, pg.Translate(err)
	}
	return out, nil
}

// ListGateways lists the tenant's gateways (never their secrets).
func (s *Service) ListGateways(ctx context.Context, p tenants.Principal) ([]Gateway, error) {
	out, err := pg.QueryRows(ctx, s.DB, p.TenantID, func(r pgx.CollectableRow) (Gateway, error) { return scanGateway(r) },
		`SELECT `+gatewayColumns+` FROM notification_gateways WHERE tenant_id = $1 ORDER BY id`)
	if err != nil {
		return nil, err
	}
	if out == nil {
		out = []Gateway{}
	}
	return out, nil
}

// GetGateway reads one gateway (never its secret).
func (s *Service) GetGateway(ctx context.Context, p tenants.Principal, id string) (Gateway, error) {
	var out Gateway
	err := pg.InTenantTx(ctx, s.DB, p.TenantID, func(tx pg.TenantTx) error {
		var err error
		out, err = getGateway(ctx, tx, id, "")
		return err
	})
	return out, pg.Translate(err)
}

// UpdateGateway changes a gateway's URL (checked like at registration),
// description or enabled flag; ifVersion > 0 must match its version.
// An update whose values are the gateway's own changes nothing: it answers
// the gateway as it is, version and all, and appends no event.
func (s *Service) UpdateGateway(ctx context.Context, p tenants.Principal, id string, in GatewayUpdate, ifVersion int) (Gateway, error) {
	v := &tenants.Validation{}
	if in.URL != nil {
		u := s.checkURL(ctx, v, *in.URL)
		in.URL = &u
	}
	if in.Description != nil && len([]rune(*in.Description)) > 500 {
		v.AddMsg("description", i18n.M("common.max_length", "Max", 500), *in.Description)
	}
	if err := v.Err(); err != nil {
		return Gateway{}, err
	}
	var out Gateway
	err := pg.InTenantTx(ctx, s.DB, p.TenantID, func(tx pg.TenantTx) error {
		cur, err := getGateway(ctx, tx, id, "FOR UPDATE")
		if err != nil {
			return err
		}
		if err := tenants.CheckVersion("notification gateway", ifVersion, cur.Version); err != nil {
			return err
		}
		// A field is changed only when its value differs: a PATCH that
		// changes nothing writes nothing, keeps the version (the ETag) and
		// tells of nothing.
		f := cur
		var changed tenants.Changes
		set := changed.Set
		set("url", in.URL != nil && *in.URL != cur.URL, func() { f.URL = *in.URL })
		set("description", in.Description != nil && *in.Description != cur.Description, func() { f.Description = *in.Description })
		set("enabled", in.Enabled != nil && *in.Enabled != cur.Enabled, func() { f.Enabled = *in.Enabled })
		if len(changed) == 0 {
			out = cur
			return nil
		}
		out, err = scanGateway(tx.QueryRow(ctx, `UPDATE notification_gateways SET url = $3, description = $4, enabled = $5,
				version = version + 1, updated_at = now()
			WHERE tenant_id = $1 AND id = $2 RETURNING `+gatewayColumns, tx.TenantID, cur.ID, f.URL, f.Description, f.Enabled))
		if err != nil {
			return err
		}
		return events.Append(ctx, tx, events.New{Type: TypeGatewayUpdated, SubjectID: out.ID, Actor: p.Subject(),
			Data: map[string]any{"channel": out.Channel, "url": out.URL, "enabled": out.Enabled}})
	})
	if err != nil {
		return Gateway{}, pg.Translate(err)
	}
	return out, nil
}
