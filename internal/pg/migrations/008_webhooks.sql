-- Owned by tenants/webhooks: webhook_endpoints, webhook_deliveries, webhook_dispatch_cursors
--
-- Webhook endpoints (per tenant, or bound to one storefront), the deliveries
-- of the tenant's events to them, and each tenant's dispatch cursor into its
-- event feed. Secrets are stored in the clear because signing needs them:
-- this is the one place, and no response but create and rotate shows them.

CREATE TABLE webhook_endpoints (
  tenant_id            text NOT NULL REFERENCES tenants (id),
  id                   text NOT NULL CHECK (id ~ '^whk_[0-9a-z]{26}$'),
  -- NULL: a tenant endpoint (every matching event); else only events whose
  -- data.storefront_id is this storefront
  storefront_id        text,
  url                  text NOT NULL CHECK (length(url) BETWEEN 1 AND 2048),
  description          text NOT NULL DEFAULT '' CHECK (length(description) <= 500),
  event_types          text[] NOT NULL CHECK (cardinality(event_types) BETWEEN 1 AND 50),
  enabled              boolean NOT NULL DEFAULT true,
  disabled_reason      text CHECK (length(disabled_reason) <= 500),
  secret               text NOT NULL CHECK (secret ~ '^whsec_'),
  -- after a rotation the previous secret keeps signing until it expires
  previous_secret      text CHECK (previous_secret ~ '^whsec_'),
  previous_secret_expires_at timestamptz,
  secret_rotated_at    timestamptz,
  -- failed attempts since the last success, across deliveries
  consecutive_failures int NOT NULL DEFAULT 0 CHECK (consecutive_failures >= 0),
  created_by           text NOT NULL,
  version              int NOT NULL DEFAULT 1,
  created_at           timestamptz NOT NULL DEFAULT now(),
  updated_at           timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (tenant_id, id),
  FOREIGN KEY (tenant_id, storefront_id) REFERENCES storefronts (tenant_id, id),
  CHECK ((previous_secret IS NULL) = (previous_secret_expires_at IS NULL))
);
CREATE INDEX webhook_endpoints_storefront_idx ON webhook_endpoints (tenant_id, storefront_id, id) WHERE storefront_id IS NOT NULL;
SELECT enable_tenant_rls('webhook_endpoints');
REVOKE DELETE ON webhook_endpoints FROM servicenet_app;

CREATE TABLE webhook_deliveries (
  tenant_id        text NOT NULL REFERENCES tenants (id),
  id               text NOT NULL CHECK (id ~ '^dlv_[0-9a-z]{26}$'),
  endpoint_id      text NOT NULL,
  event_id         text NOT NULL,
  -- a manual replay is a new delivery of the same event
  replay_of        text,
  status           text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'retrying', 'delivered', 'failed')),
  attempts         int NOT NULL DEFAULT 0 CHECK (attempts >= 0),
  last_attempt_at  timestamptz,
  last_status_code int,
  last_error       text CHECK (length(last_error) <= 1000),
  next_attempt_at  timestamptz,
  delivered_at     timestamptz,
  created_at       timestamptz NOT NULL DEFAULT now(),
  updated_at       timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (tenant_id, id),
  FOREIGN KEY (tenant_id, endpoint_id) REFERENCES webhook_endpoints (tenant_id, id),
  FOREIGN KEY (tenant_id, event_id) REFERENCES events (tenant_id, id),
  FOREIGN KEY (tenant_id, replay_of) REFERENCES webhook_deliveries (tenant_id, id)
);
CREATE INDEX webhook_deliveries_endpoint_idx ON webhook_deliveries (tenant_id, endpoint_id, id);
CREATE INDEX webhook_deliveries_event_idx ON webhook_deliveries (tenant_id, event_id);
SELECT enable_tenant_rls('webhook_deliveries');
REVOKE DELETE ON webhook_deliveries FROM servicenet_app;

-- The feed position (events.List cursor) up to which the tenant's events
-- have been turned into deliveries.
CREATE TABLE webhook_dispatch_cursors (
  tenant_id  text NOT NULL REFERENCES tenants (id),
  cursor     text NOT NULL DEFAULT '',
  updated_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (tenant_id)
);
SELECT enable_tenant_rls('webhook_dispatch_cursors');
REVOKE DELETE ON webhook_dispatch_cursors FROM servicenet_app;
