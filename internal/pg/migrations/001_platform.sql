-- Owned by tenants/identity: tenants, api_keys
-- Owned by tenants/events: events
-- Owned by tenants/idempotency: idempotency_keys, platform_idempotency_keys
--
-- Platform foundation: RLS helpers, tenants, API keys, the event feed and
-- idempotency records. Runs as the owner role. The application role
-- (servicenet_app) is created beforehand by `servicenet migrate`.

GRANT USAGE ON SCHEMA public TO servicenet_app;
-- Tables created later by the owner (ours and River's) are usable by the app.
ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO servicenet_app;
ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT USAGE, SELECT ON SEQUENCES TO servicenet_app;
GRANT SELECT ON public.schema_version TO servicenet_app;

-- app_current_tenant is the tenant of the current transaction, or NULL when
-- none is set: policies compare against it, so an unset tenant matches no row.
CREATE FUNCTION app_current_tenant() RETURNS text
LANGUAGE sql STABLE PARALLEL SAFE
AS $$ SELECT NULLIF(current_setting('app.tenant_id', true), '') $$;

-- enable_tenant_rls puts a tenant table under forced row-level security with
-- the standard isolation policy. Every tenant table calls it.
CREATE FUNCTION enable_tenant_rls(t regclass) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
  EXECUTE format('ALTER TABLE %s ENABLE ROW LEVEL SECURITY', t);
  EXECUTE format('ALTER TABLE %s FORCE ROW LEVEL SECURITY', t);
  EXECUTE format('CREATE POLICY tenant_isolation ON %s USING (tenant_id = app_current_tenant()) WITH CHECK (tenant_id = app_current_tenant())', t);
END $$;

-- Platform table (a Citus reference table when distributed): one row per brand.
CREATE TABLE tenants (
  id          text PRIMARY KEY CHECK (id ~ '^ten_[0-9a-z]{26}$'),
  name        text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
  slug        text NOT NULL UNIQUE CHECK (slug ~ '^[a-z0-9][a-z0-9-]{1,62}$'),
  time_zone   text NOT NULL DEFAULT 'Asia/Shanghai',
  currency    text NOT NULL DEFAULT 'CNY' CHECK (currency ~ '^[A-Z]{3}$'),
  status      text NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'suspended')),
  version     int NOT NULL DEFAULT 1,
  created_at  timestamptz NOT NULL DEFAULT now(),
  updated_at  timestamptz NOT NULL DEFAULT now()
);
REVOKE DELETE ON tenants FROM servicenet_app;

CREATE TABLE api_keys (
  tenant_id     text NOT NULL REFERENCES tenants (id),
  id            text NOT NULL CHECK (id ~ '^key_[0-9a-z]{26}$'),
  name          text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
  -- display prefix, e.g. sn_live_Ab3dE9: enough to recognise a key, useless to use it
  prefix        text NOT NULL,
  -- SHA-256 (hex) of the whole secret; the secret itself is never stored
  secret_hash   text NOT NULL CHECK (secret_hash ~ '^[0-9a-f]{64}$'),
  live          boolean NOT NULL,
  roles         text[] NOT NULL CHECK (cardinality(roles) BETWEEN 1 AND 16),
  node_id       text,
  storefront_id text,
  expires_at    timestamptz,
  revoked_at    timestamptz,
  last_used_at  timestamptz,
  created_by    text NOT NULL,
  created_at    timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (tenant_id, id)
);
CREATE INDEX api_keys_secret_hash_idx ON api_keys (secret_hash);
SELECT enable_tenant_rls('api_keys');
-- Authentication happens before the tenant is known: a transaction that has
-- set app.api_key_hash may read (and touch last_used_at of) the one key whose
-- hash it presents, and nothing else.
CREATE POLICY api_key_lookup ON api_keys FOR SELECT
  USING (secret_hash = NULLIF(current_setting('app.api_key_hash', true), ''));
REVOKE DELETE ON api_keys FROM servicenet_app;

-- The tenant's append-only event feed. txid orders events by commit
-- visibility: readers only return events whose transaction is older than every
-- running one, so a cursor never skips an event that commits late.
CREATE TABLE events (
  tenant_id   text NOT NULL REFERENCES tenants (id),
  id          text NOT NULL CHECK (id ~ '^evt_[0-9a-z]{26}$'),
  seq         bigint GENERATED ALWAYS AS IDENTITY,
  txid        xid8 NOT NULL DEFAULT pg_current_xact_id(),
  type        text NOT NULL CHECK (type ~ '^[a-z_]+(\.[a-z_]+)+$'),
  subject_id  text NOT NULL,
  actor       text NOT NULL,
  data        jsonb NOT NULL DEFAULT '{}',
  occurred_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (tenant_id, id)
);
CREATE INDEX events_feed_idx ON events (tenant_id, txid, seq);
CREATE INDEX events_type_idx ON events (tenant_id, type, txid, seq);
SELECT enable_tenant_rls('events');
REVOKE UPDATE, DELETE ON events FROM servicenet_app;

-- Idempotency records: one per (credential, Idempotency-Key), kept 24 h.
CREATE TABLE idempotency_keys (
  tenant_id        text NOT NULL REFERENCES tenants (id),
  credential_id    text NOT NULL,
  key              text NOT NULL CHECK (length(key) BETWEEN 1 AND 255),
  request_hash     text NOT NULL,
  method           text NOT NULL,
  path             text NOT NULL,
  state            text NOT NULL DEFAULT 'in_progress' CHECK (state IN ('in_progress', 'completed')),
  response_status  int,
  response_headers jsonb,
  response_body    bytea,
  created_at       timestamptz NOT NULL DEFAULT now(),
  expires_at       timestamptz NOT NULL,
  PRIMARY KEY (tenant_id, credential_id, key)
);
CREATE INDEX idempotency_keys_expiry_idx ON idempotency_keys (tenant_id, expires_at);
SELECT enable_tenant_rls('idempotency_keys');

-- The platform operator's idempotency records (tenant creation).
CREATE TABLE platform_idempotency_keys (
  credential_id    text NOT NULL,
  key              text NOT NULL CHECK (length(key) BETWEEN 1 AND 255),
  request_hash     text NOT NULL,
  method           text NOT NULL,
  path             text NOT NULL,
  state            text NOT NULL DEFAULT 'in_progress' CHECK (state IN ('in_progress', 'completed')),
  response_status  int,
  response_headers jsonb,
  response_body    bytea,
  created_at       timestamptz NOT NULL DEFAULT now(),
  expires_at       timestamptz NOT NULL,
  PRIMARY KEY (credential_id, key)
);
CREATE INDEX platform_idempotency_keys_expiry_idx ON platform_idempotency_keys (expires_at);
