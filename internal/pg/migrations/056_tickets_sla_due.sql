-- The SLA sweep asks which tenants have tickets due in one statement, as
-- the claims sweep (054) and the webhook dispatch (055) do.
--
-- Every 5 s the sweep read each active tenant's due tickets in each mode, a
-- transaction per tenant and mode whether or not any was due: a count that
-- grows with the number of brands, not with their tickets.
--
-- tickets_sla_due answers the question across tenants: which active
-- tenants, in which mode, have a ticket whose next SLA check is due by
-- due_by on the wall clock (sla_check_at <= due_by, not on a test clock:
-- the clock's advance sweeps those), through tickets_sla_check_idx, as the
-- sweep's own page does.
--
-- It returns tenant IDs and modes only, and runs under the same forced
-- row-level security as every read: it scopes the transaction to each
-- active tenant and mode in turn and puts the caller's scope back before it
-- returns (see 054 on why not a SET clause).
CREATE FUNCTION tickets_sla_due(due_by timestamptz) RETURNS TABLE (tenant_id text, livemode boolean)
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
SET search_path = public
AS $$
DECLARE
  was_tenant text := coalesce(current_setting('app.tenant_id', true), '');
  was_mode   text := coalesce(current_setting('app.livemode', true), '');
  t text;
  m boolean;
BEGIN
  FOR t IN SELECT id FROM tenants WHERE status = 'active' ORDER BY id LOOP
    FOREACH m IN ARRAY ARRAY[true, false] LOOP
      PERFORM set_config('app.tenant_id', t, true);
      PERFORM set_config('app.livemode', m::text, true);
      IF EXISTS (SELECT 1 FROM tickets k WHERE k.tenant_id = t AND k.sla_check_at <= due_by AND k.test_clock_id IS NULL) THEN
        tenant_id := t;
        livemode := m;
        RETURN NEXT;
      END IF;
    END LOOP;
  END LOOP;
  PERFORM set_config('app.tenant_id', was_tenant, true);
  PERFORM set_config('app.livemode', was_mode, true);
END $$;
REVOKE ALL ON FUNCTION tickets_sla_due(timestamptz) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION tickets_sla_due(timestamptz) TO servicenet_app;
