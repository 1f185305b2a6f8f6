-- webhook_dispatch_pending_since (055) in plpgsql: the same answer, asked
-- in steps. As one SQL statement, every call started the executor for the
-- whole of it (its three subqueries included) even for a tenant without an
-- enabled endpoint, which is most of them: over 301 tenants (30 with
-- endpoints) the idle question took 10 ms, where the claims question took
-- 4. Here a tenant without an endpoint costs one cached probe.
CREATE OR REPLACE FUNCTION webhook_dispatch_pending_since() RETURNS timestamptz
LANGUAGE plpgsql STABLE AS $$
DECLARE
  t    text := app_current_tenant();
  at   timestamptz;
  last bigint;
BEGIN
  IF NOT EXISTS (SELECT 1 FROM webhook_endpoints e WHERE e.tenant_id = t AND e.enabled) THEN
    RETURN NULL;
  END IF;
  at := (SELECT e.occurred_at FROM events e WHERE e.tenant_id = t AND e.position IS NULL LIMIT 1);
  IF at IS NOT NULL THEN
    RETURN at;
  END IF;
  SELECT e.position, e.occurred_at INTO last, at FROM events e
    WHERE e.tenant_id = t AND e.livemode = app_current_livemode() AND e.position IS NOT NULL
    ORDER BY e.position DESC LIMIT 1;
  IF last IS NULL OR coalesce((SELECT c.cursor FROM webhook_dispatch_cursors c WHERE c.tenant_id = t), '')
       = rtrim(translate(encode(convert_to('p' || last, 'UTF8'), 'base64'), '+/', '-_'), '=') THEN
    RETURN NULL;
  END IF;
  RETURN at;
END $$;
