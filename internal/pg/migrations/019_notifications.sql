-- Notifications: messages ServiceNet sends a customer (an SMS first: the
-- sign-off code), delivered through the tenant's notification gateway (an
-- HTTPS endpoint, signed like webhooks, retried by a River job) or, without
-- one, by the tenant itself from the notification.requested event.
--
-- Complaints gain the waiving categories (licence, overcharge, conduct)
-- and what upholding one did: the service promise that waived the ticket's
-- charges and the refund payout.

-- One gateway per tenant and channel. The secret signs every request
-- (Standard Webhooks); it is shown once, at creation.
CREATE TABLE notification_gateways (
  tenant_id   text NOT NULL REFERENCES tenants (id),
  id          text NOT NULL CHECK (id ~ '^ngw_[0-9a-z]{26}$'),
  channel     text NOT NULL CHECK (channel IN ('sms')),
  url         text NOT NULL CHECK (length(url) BETWEEN 1 AND 2048),
  description text NOT NULL DEFAULT '' CHECK (length(description) <= 500),
  secret      text NOT NULL,
  enabled     boolean NOT NULL DEFAULT true,
  created_by  text NOT NULL,
  version     int NOT NULL DEFAULT 1,
  created_at  timestamptz NOT NULL DEFAULT now(),
  updated_at  timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (tenant_id, id),
  CONSTRAINT notification_gateways_channel_key UNIQUE (tenant_id, channel)
);
SELECT enable_tenant_rls('notification_gateways');
REVOKE DELETE ON notification_gateways FROM servicenet_app;

-- One message to one recipient. secret holds what only the recipient may
-- read (the rendered text and the secret parameters, e.g. a one-time code):
-- it is erased once the message is sent, has failed, or has expired.
CREATE TABLE notifications (
  tenant_id        text NOT NULL REFERENCES tenants (id),
  id               text NOT NULL CHECK (id ~ '^ntf_[0-9a-z]{26}$'),
  channel          text NOT NULL CHECK (channel IN ('sms')),
  purpose          text NOT NULL CHECK (purpose ~ '^[a-z][a-z_]{0,63}$'),
  -- what it is about (a ticket); no foreign key: any context may notify
  subject_id       text NOT NULL CHECK (length(subject_id) <= 64),
  recipient        text NOT NULL CHECK (length(recipient) BETWEEN 1 AND 40),
  params           jsonb NOT NULL DEFAULT '{}',
  secret           jsonb,
  -- gateway: sent through the tenant's gateway; event: no gateway, the
  -- tenant delivers it from the notification.requested event
  via              text NOT NULL CHECK (via IN ('gateway', 'event')),
  gateway_id       text,
  status           text NOT NULL CHECK (status IN ('queued', 'sent', 'failed', 'requested')),
  attempts         int NOT NULL DEFAULT 0,
  last_attempt_at  timestamptz,
  last_status_code int,
  last_error       text CHECK (length(last_error) <= 500),
  next_attempt_at  timestamptz,
  sent_at          timestamptz,
  expires_at       timestamptz,
  dedupe_key       text CHECK (length(dedupe_key) <= 200),
  created_by       text NOT NULL,
  created_at       timestamptz NOT NULL DEFAULT now(),
  updated_at       timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (tenant_id, id),
  CONSTRAINT notifications_dedupe_key UNIQUE (tenant_id, dedupe_key),
  FOREIGN KEY (tenant_id, gateway_id) REFERENCES notification_gateways (tenant_id, id)
);
CREATE INDEX notifications_subject_idx ON notifications (tenant_id, subject_id, purpose, id);
SELECT enable_tenant_rls('notifications');
REVOKE DELETE ON notifications FROM servicenet_app;

-- Complaints: the waiving categories, and what upholding one did.
ALTER TABLE complaints DROP CONSTRAINT complaints_category_check;
ALTER TABLE complaints ADD CONSTRAINT complaints_category_check
  CHECK (category IN ('late', 'attitude', 'fee', 'quality', 'repeat', 'other', 'licence', 'overcharge', 'conduct'));
ALTER TABLE complaints
  ADD COLUMN upheld           boolean,
  ADD COLUMN breach           text CHECK (breach IN ('drinking', 'smoking', 'eating', 'accepting_gifts', 'abandoned_service')),
  -- the service promise the upheld complaint applied to its ticket
  ADD COLUMN waiver           text,
  -- the customer's refund it scheduled (at most one per complaint)
  ADD COLUMN refund_payout_id text,
  ADD CONSTRAINT complaints_refund_payout_fkey FOREIGN KEY (tenant_id, refund_payout_id) REFERENCES payouts (tenant_id, id),
  ADD CONSTRAINT complaints_refund_payout_key UNIQUE (tenant_id, refund_payout_id);
