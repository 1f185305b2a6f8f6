-- claims_awaiting_adjudication (054) also answers, for each tenant and mode
-- with claims awaiting adjudication, since when the first of them in filing
-- order (claims_state_idx, the order the sweep works in) has waited: its
-- submission or resubmission (updated_at). The sweep sets its lag gauge
-- (servicenet_claim_adjudication_lag_seconds) from the oldest of these each
-- time it asks, paused or not: a paused sweep adjudicates nothing, and the
-- gauge showed what the last pass before the pause had found.
--
-- The same index probe as before (one row, the first by ID), not the
-- oldest by wait: a claim resubmitted after a later one was filed waits
-- behind it in the order, and counts from its resubmission.
DROP FUNCTION claims_awaiting_adjudication();
CREATE FUNCTION claims_awaiting_adjudication() RETURNS TABLE (tenant_id text, livemode boolean, since timestamptz)
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
      since := (SELECT c.updated_at FROM claims c WHERE c.tenant_id = t AND c.state = 'submitted' ORDER BY c.id LIMIT 1);
      IF since IS NOT NULL THEN
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
