-- Owned by tenants/notifications: notification_templates
--
-- Speaking to people in their language (issue 19).
--
-- Tenants get a default language: what a caller without a supported
-- Accept-Language reads, and what customer messages are written in.
--
-- Customer phones are stored in E.164 (+8613800138000), parsed and
-- validated with libphonenumber; earlier rows held the mainland national
-- form (13800138000, 053288930000) or +country digits for others, and are
-- rewritten here. The display form is derived when read.
--
-- notification_templates: a tenant's own text for a customer message
-- (purpose) in a language; without one the built-in text is used.
-- customers.notifications_opt_out: the customer declined non-essential
-- messages (the sign-off code still goes out).

ALTER TABLE tenants ADD COLUMN default_language text NOT NULL DEFAULT 'zh-CN'
  CHECK (default_language IN ('zh-CN', 'en'));

CREATE FUNCTION pg_temp.e164(p text) RETURNS text LANGUAGE sql IMMUTABLE AS $$
  SELECT CASE
    WHEN p ~ '^\+' THEN p
    WHEN p ~ '^0[1-9][0-9]+$' THEN '+86' || substr(p, 2)
    WHEN p ~ '^[1-9][0-9]+$' THEN '+86' || p
    ELSE p END $$;

ALTER TABLE customer_phones DISABLE TRIGGER USER;
UPDATE customer_phones SET phone = pg_temp.e164(phone) WHERE phone !~ '^\+';
ALTER TABLE customer_phones ENABLE TRIGGER USER;
ALTER TABLE customers DISABLE TRIGGER USER;
UPDATE customers SET phones = ARRAY(SELECT pg_temp.e164(x) FROM unnest(phones) x)
  WHERE EXISTS (SELECT FROM unnest(phones) x WHERE x !~ '^\+' AND x !~ '\*');
ALTER TABLE customers ADD COLUMN notifications_opt_out boolean NOT NULL DEFAULT false;
ALTER TABLE customers ENABLE TRIGGER USER;
ALTER TABLE tickets DISABLE TRIGGER USER;
UPDATE tickets SET contact = jsonb_set(contact, '{phone}', to_jsonb(pg_temp.e164(contact ->> 'phone')))
  WHERE contact ->> 'phone' ~ '^[0-9]{5,20}$';
ALTER TABLE tickets ENABLE TRIGGER USER;

CREATE TABLE notification_templates (
  tenant_id  text NOT NULL REFERENCES tenants (id),
  purpose    text NOT NULL CHECK (purpose ~ '^[a-z][a-z_]{0,63}$'),
  language   text NOT NULL CHECK (language IN ('zh-CN', 'en')),
  text       text NOT NULL CHECK (length(text) BETWEEN 1 AND 1000),
  version    int NOT NULL DEFAULT 1,
  updated_by text NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (tenant_id, purpose, language)
);
SELECT enable_tenant_rls('notification_templates');
-- One template per tenant, mode, purpose and language.
ALTER TABLE notification_templates DROP CONSTRAINT notification_templates_pkey,
  ADD PRIMARY KEY (tenant_id, livemode, purpose, language);
-- A template's edits are audited (027's audit_row names it by its purpose).
CREATE TRIGGER notification_templates_audit AFTER INSERT OR UPDATE OR DELETE ON notification_templates
  FOR EACH ROW EXECUTE FUNCTION audit_row();

-- A subject's messages reach the customer in the order they were requested:
-- delivery waits while an earlier one of the same subject is still queued.
ALTER TABLE notifications ADD COLUMN seq bigint GENERATED ALWAYS AS IDENTITY;
CREATE INDEX notifications_subject_queued_idx ON notifications (tenant_id, subject_id, seq) WHERE status = 'queued';
