-- Owned by tenants/privacy: privacy_policies
-- Owned by tenants/audit: audit_log
--
-- Data protection inside a tenant (issue 15).
--
-- privacy_policies: how long a technician or node keeps seeing a customer's
-- personal data after the job ended (grace), and after how many days a
-- closed ticket's personal data is masked at rest (retention).
--
-- audit_log: who changed what, with old and new values, and who read
-- unmasked personal data. Writes are recorded by the audit_row trigger in
-- the writing transaction itself (no extra round trip): the actor comes from
-- the transaction-local setting app.actor that every request's transaction
-- sets in its BEGIN round trip ("key|roles|on_behalf_of|operation|request";
-- absent: "system"). The application role may only INSERT and SELECT: the
-- log is append-only. An erasure scrubs the personal values an erased
-- customer left in the log through audit_erase_subject, a SECURITY DEFINER
-- function that can do nothing else.

CREATE TABLE privacy_policies (
  tenant_id       text NOT NULL REFERENCES tenants (id),
  -- hours a technician / node still sees the customer after the job ended
  grace_hours     int NOT NULL DEFAULT 24 CHECK (grace_hours BETWEEN 0 AND 8760),
  -- days after closing until a ticket's personal data is masked at rest;
  -- NULL: never
  retention_days  int CHECK (retention_days BETWEEN 1 AND 36500),
  version         int NOT NULL DEFAULT 1,
  updated_at      timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (tenant_id)
);
SELECT enable_tenant_rls('privacy_policies');
-- One policy per tenant and mode (enable_tenant_rls added livemode, 021).
ALTER TABLE privacy_policies DROP CONSTRAINT privacy_policies_pkey, ADD PRIMARY KEY (tenant_id, livemode);
REVOKE DELETE ON privacy_policies FROM servicenet_app;

CREATE TABLE audit_log (
  tenant_id     text NOT NULL REFERENCES tenants (id),
  id            bigserial NOT NULL,
  at            timestamptz NOT NULL DEFAULT now(),
  -- the API key (or 'system' for jobs and seeding)
  actor         text NOT NULL,
  roles         text[] NOT NULL DEFAULT '{}',
  -- the technician, storefront or node the key acts for, if any
  on_behalf_of  text,
  operation     text NOT NULL,
  request_id    text,
  object_type   text NOT NULL,
  object_id     text NOT NULL,
  action        text NOT NULL CHECK (action IN ('create', 'update', 'delete', 'read', 'export', 'erase')),
  -- {field: {"old": ..., "new": ...}}; secrets are never recorded
  changes       jsonb NOT NULL DEFAULT '{}',
  PRIMARY KEY (tenant_id, id)
);
CREATE INDEX audit_log_object_idx ON audit_log (tenant_id, object_id, id);
CREATE INDEX audit_log_actor_idx ON audit_log (tenant_id, actor, id);
CREATE INDEX audit_log_at_idx ON audit_log (tenant_id, at);
SELECT enable_tenant_rls('audit_log');
REVOKE UPDATE, DELETE, TRUNCATE ON audit_log FROM servicenet_app;

-- audit_row records one row's write. TG_ARGV: columns never recorded
-- (secrets). Columns every write touches (updated_at, version) are not
-- changes of their own.
CREATE FUNCTION audit_row() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
  o       jsonb;
  n       jsonb;
  changes jsonb;
  actor   text[] := string_to_array(coalesce(NULLIF(current_setting('app.actor', true), ''), 'system||||'), '|');
  act     text;
  secrets text[] := coalesce(TG_ARGV, '{}'::text[]) || '{tenant_id}'::text[];
BEGIN
  IF TG_OP <> 'INSERT' THEN o := to_jsonb(OLD) - secrets; END IF;
  IF TG_OP <> 'DELETE' THEN n := to_jsonb(NEW) - secrets; END IF;
  IF TG_OP = 'UPDATE' THEN
    act := 'update';
    SELECT jsonb_object_agg(e.key, jsonb_build_object('old', o -> e.key, 'new', e.value)) INTO changes
      FROM jsonb_each(n) e
      WHERE e.key NOT IN ('updated_at', 'version') AND (o -> e.key) IS DISTINCT FROM e.value;
    IF changes IS NULL THEN RETURN NULL; END IF;
  ELSIF TG_OP = 'INSERT' THEN
    act := 'create';
    SELECT jsonb_object_agg(e.key, jsonb_build_object('old', NULL, 'new', e.value)) INTO changes
      FROM jsonb_each(n) e WHERE e.value <> 'null'::jsonb;
  ELSE
    act := 'delete';
    SELECT jsonb_object_agg(e.key, jsonb_build_object('old', e.value, 'new', NULL)) INTO changes
      FROM jsonb_each(o) e WHERE e.value <> 'null'::jsonb;
  END IF;
  INSERT INTO audit_log (tenant_id, actor, roles, on_behalf_of, operation, request_id, object_type, object_id, action, changes)
  VALUES (CASE WHEN TG_OP = 'DELETE' THEN OLD.tenant_id ELSE NEW.tenant_id END,
          actor[1], coalesce(string_to_array(NULLIF(actor[2], ''), ','), '{}'), NULLIF(actor[3], ''),
          coalesce(NULLIF(actor[4], ''), 'system'), NULLIF(actor[5], ''),
          TG_TABLE_NAME, coalesce(n ->> 'id', o ->> 'id', n ->> 'customer_id', o ->> 'customer_id', n ->> 'part_id', o ->> 'part_id', ''), act,
          coalesce(changes, '{}'));
  RETURN NULL;
END $$;

-- The business objects whose writes are audited. Append-only histories
-- (events, timelines, state changes, stock moves) are records of their own.
DO $$
DECLARE
  t      text;
  secret text;
BEGIN
  FOR t, secret IN VALUES
    ('api_keys', '''secret_hash'', ''last_used_at'''),
    ('nodes', ''), ('technicians', ''), ('product_models', ''), ('parts', ''), ('price_lists', ''),
    ('storefronts', ''), ('customers', ''), ('units', ''), ('coverage_plans', ''), ('contracts', ''),
    ('webhook_endpoints', '''secret'', ''previous_secret'''), ('claim_policies', ''), ('claims', ''),
    ('tenant_holidays', ''), ('payouts', ''), ('swaps', ''), ('sla_policies', ''),
    ('tickets', '''signoff_code_hash'''), ('part_stock', ''), ('loaners', ''), ('complaints', ''),
    ('privacy_policies', '')
  LOOP
    EXECUTE format('CREATE TRIGGER %I AFTER INSERT OR UPDATE OR DELETE ON %I FOR EACH ROW EXECUTE FUNCTION audit_row(%s)',
      t || '_audit', t, secret);
  END LOOP;
END $$;

-- audit_erase_subject scrubs, in the current tenant's log, the personal
-- values an erased customer left: the customer's own rows lose their
-- values, its tickets' rows their contact and address.
CREATE FUNCTION audit_erase_subject(customer text, tickets text[]) RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public AS $$
BEGIN
  UPDATE audit_log SET changes = (SELECT coalesce(jsonb_object_agg(e.key, '{"old": "[erased]", "new": "[erased]"}'::jsonb), '{}')
                                  FROM jsonb_each(changes) e)
    WHERE tenant_id = app_current_tenant() AND object_type = 'customers' AND object_id = customer;
  UPDATE audit_log SET changes = changes - 'contact' - 'address'
    WHERE tenant_id = app_current_tenant() AND object_type = 'tickets' AND object_id = ANY (tickets)
      AND (changes ? 'contact' OR changes ? 'address');
END $$;
REVOKE ALL ON FUNCTION audit_erase_subject(text, text[]) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION audit_erase_subject(text, text[]) TO servicenet_app;

-- An erased customer keeps its id (tickets and claims point at it) but
-- holds no personal data; its phones are released for a new customer.
ALTER TABLE customers ADD COLUMN erased_at timestamptz;
ALTER TABLE customers DROP CONSTRAINT customers_phones_check,
  ADD CONSTRAINT customers_phones_check CHECK (cardinality(phones) BETWEEN 1 AND 5 OR (erased_at IS NOT NULL AND cardinality(phones) = 0));
