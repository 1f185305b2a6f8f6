-- Authentication cache invalidation: every replica caches API keys by secret
-- hash and LISTENs on servicenet_auth. A change that matters to
-- authentication notifies the key's id (api_keys) or the tenant's id
-- (tenants); the notification is delivered when the transaction commits.
-- last_used_at, name and the other bookkeeping columns notify nothing, so
-- NOTIFY stays rare. The functions read no table, so row-level security and
-- the invoking role (servicenet_app) do not matter: pg_notify is PUBLIC.

CREATE FUNCTION auth_notify_key() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  PERFORM pg_notify('servicenet_auth', OLD.id);
  RETURN NULL;
END $$;

CREATE TRIGGER api_keys_auth_notify
  AFTER UPDATE OF revoked_at, expires_at, roles, live, node_id, storefront_id, technician_id, secret_hash, tenant_id, id ON api_keys
  FOR EACH ROW
  WHEN ((OLD.revoked_at, OLD.expires_at, OLD.roles, OLD.live, OLD.node_id, OLD.storefront_id, OLD.technician_id, OLD.secret_hash, OLD.tenant_id, OLD.id)
        IS DISTINCT FROM
        (NEW.revoked_at, NEW.expires_at, NEW.roles, NEW.live, NEW.node_id, NEW.storefront_id, NEW.technician_id, NEW.secret_hash, NEW.tenant_id, NEW.id))
  EXECUTE FUNCTION auth_notify_key();

CREATE TRIGGER api_keys_auth_notify_delete
  AFTER DELETE ON api_keys
  FOR EACH ROW EXECUTE FUNCTION auth_notify_key();

CREATE TRIGGER tenants_auth_notify
  AFTER UPDATE OF status, id ON tenants
  FOR EACH ROW
  WHEN ((OLD.status, OLD.id) IS DISTINCT FROM (NEW.status, NEW.id))
  EXECUTE FUNCTION auth_notify_key();

CREATE TRIGGER tenants_auth_notify_delete
  AFTER DELETE ON tenants
  FOR EACH ROW EXECUTE FUNCTION auth_notify_key();
