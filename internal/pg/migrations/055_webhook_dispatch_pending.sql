-- The webhook dispatch asks which tenants have events to dispatch in one
-- statement, as the claims sweep does (054).
--
-- Every second the dispatch turned each active tenant's new events into
-- deliveries, in each mode: a transaction reading the tenant's cursor and
-- whether it has an enabled endpoint and, when it had, a second one
-- positioning and reading its feed after the cursor. That is two to four
-- transactions per tenant every second, most of them finding nothing, and
-- the count grows with the number of brands, not with their events.
--
-- webhook_dispatch_pending answers the question across tenants: which
-- active tenants, in which mode, have an enabled endpoint and an event the
-- dispatch has not read. An event is unread when it is not yet positioned
-- (events_unpositioned_idx: it committed since the feed was last read) or
-- when the tenant's last position is not the one its dispatch cursor names.
-- The cursor is the feed's (events.encodeCursor: "p" and the position,
-- base64url without padding); the last position is encoded the same way and
-- compared, not the cursor decoded, so a cursor the function cannot read
-- makes the tenant pending (and the dispatch reports it) instead of failing
-- the question for every tenant.
--
-- It returns tenant IDs and modes only, and runs under the same forced
-- row-level security as every read: it scopes the transaction to each
-- active tenant and mode in turn and puts the caller's scope back before it
-- returns (see 054 on why not a SET clause).
CREATE FUNCTION webhook_dispatch_pending() RETURNS TABLE (tenant_id text, livemode boolean)
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
SET search_path = public
AS $$
DECLARE
  was_tenant text := coalesce(current_setting('app.tenant_id', true), '');
  was_mode   text := coalesce(current_setting('app.livemode', true), '');
  t text;
  m boolean;
  last bigint;
  cur text;
BEGIN
  FOR t IN SELECT id FROM tenants WHERE status = 'active' ORDER BY id LOOP
    FOREACH m IN ARRAY ARRAY[true, false] LOOP
      PERFORM set_config('app.tenant_id', t, true);
      PERFORM set_config('app.livemode', m::text, true);
      CONTINUE WHEN NOT EXISTS (SELECT 1 FROM webhook_endpoints e WHERE e.tenant_id = t AND e.enabled);
      IF EXISTS (SELECT 1 FROM events e WHERE e.tenant_id = t AND e.position IS NULL) THEN
        tenant_id := t;
        livemode := m;
        RETURN NEXT;
        CONTINUE;
      END IF;
      last := (SELECT max(e.position) FROM events e WHERE e.tenant_id = t);
      CONTINUE WHEN last IS NULL;
      cur := coalesce((SELECT c.cursor FROM webhook_dispatch_cursors c WHERE c.tenant_id = t), '');
      IF cur IS DISTINCT FROM rtrim(translate(encode(convert_to('p' || last, 'UTF8'), 'base64'), '+/', '-_'), '=') THEN
        tenant_id := t;
        livemode := m;
        RETURN NEXT;
      END IF;
    END LOOP;
  END LOOP;
  PERFORM set_config('app.tenant_id', was_tenant, true);
  PERFORM set_config('app.livemode', was_mode, true);
END $$;
REVOKE ALL ON FUNCTION webhook_dispatch_pending() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION webhook_dispatch_pending() TO servicenet_app;
