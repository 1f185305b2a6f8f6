-- Issue 11: claims are adjudicated by a sweep of the submitted ones
-- (jobs.ClaimAdjudicationSweepArgs), not by a River job per claim version.
--
-- claims_awaiting_adjudication answers the sweep's one question across
-- tenants: which active tenants, in which mode, have claims awaiting
-- adjudication (state submitted). The sweep asks it once a pass, in one
-- round trip, and then reads each of those tenants' claims in its own
-- tenant-scoped transaction; asking each active tenant in each mode instead
-- cost two transactions per tenant every second, with nothing to do.
--
-- It returns tenant IDs and modes only. It runs as the owner under the same
-- row-level security as every read (forced, for the owner too): it scopes
-- the transaction to each active tenant and mode in turn and asks whether a
-- submitted claim is visible, through claims_state_idx. It puts the
-- caller's scope back before it returns (a function's SET clause would, but
-- PostgreSQL 15 lets only a superuser attach one for a custom setting), and
-- an error aborts the caller's transaction, scope and all.
CREATE FUNCTION claims_awaiting_adjudication() RETURNS TABLE (tenant_id text, livemode boolean)
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
      IF EXISTS (SELECT 1 FROM claims c WHERE c.tenant_id = t AND c.state = 'submitted') THEN
        tenant_id := t;
        livemode := m;
        RETURN NEXT;
      END IF;
    END LOOP;
  END LOOP;
  PERFORM set_config('app.tenant_id', was_tenant, true);
  PERFORM set_config('app.livemode', was_mode, true);
END $$;
REVOKE ALL ON FUNCTION claims_awaiting_adjudication() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION claims_awaiting_adjudication() TO servicenet_app;
