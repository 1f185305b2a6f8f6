-- The periodic workers ask which tenants have work in one statement, not a
-- transaction per tenant and mode.
--
-- Four workers run every few seconds or minutes for every active tenant in
-- both modes: the claims' adjudication sweep (every second), the webhook
-- dispatch (every second), the tickets' SLA sweep (every 5 s) and the
-- quality fold (every minute). Asking each tenant and mode in its own
-- transaction cost two to four transactions per tenant and mode each
-- second, most of them finding nothing (the fold's also locked its position
-- row, a write): a count that grows with the number of brands, not with
-- their work. 054 answered the claims sweep's question in one statement;
-- tenants_with_work answers all four.
--
-- The walk is written once: for each active tenant and mode, the
-- transaction is scoped to it (the same forced row-level security as every
-- read) and asked the work's question, and the caller's scope is put back
-- before it returns (a function's SET clause would, but PostgreSQL 15 lets
-- only a superuser attach one for a custom setting; an error aborts the
-- caller's transaction, scope and all). Each question is a function of its
-- context, asked in the scope it is given, with a plan kept for the walk:
--
--   claims_awaiting_adjudication: since when the first claim awaiting
--     adjudication (state submitted) in filing order has waited (its
--     submission or resubmission), through claims_state_idx: the sweep's
--     lag gauge comes from the oldest of these, paused or not;
--   tickets_sla_due: the earliest next SLA check due by due_by on the wall
--     clock (not on a test clock: the clock's advance sweeps those),
--     through tickets_sla_check_idx; a check at -infinity (a ticket handed
--     to the sweep by 049, due at once) as the epoch, a time every client
--     can hold;
--   webhook_dispatch_pending: with an enabled endpoint, when an event the
--     dispatch has not read occurred: one not yet positioned
--     (events_unpositioned_idx: committed since the feed was last read), or
--     the last positioned one when the dispatch cursor (events'
--     encodeCursor: "p" and the position, base64url without padding) does
--     not name it. The last position is encoded and compared, not the
--     cursor decoded, so a cursor the function cannot read makes its tenant
--     pending (and the dispatch reports it) instead of failing the question
--     for every tenant.
--   quality_fold_pending: when an event the quality fold has not folded
--     occurred: one not yet positioned, or the first after the fold's
--     position (quality_positions) of the types it folds (tenants/quality's
--     feedTypes: ticket.* and complaint.filed; TestFoldTypesAsked keeps the
--     two lists one). The fold reads the same events after the same
--     position each run; the question stops at the first.
--
-- A question answers NULL for none. The function returns tenant IDs, modes
-- and times only.

CREATE FUNCTION claims_awaiting_since() RETURNS timestamptz
LANGUAGE sql STABLE AS $$
  SELECT c.updated_at FROM claims c
  WHERE c.tenant_id = app_current_tenant() AND c.state = 'submitted'
  ORDER BY c.id LIMIT 1
$$;

CREATE FUNCTION tickets_sla_due_since(due_by timestamptz) RETURNS timestamptz
LANGUAGE sql STABLE AS $$
  SELECT greatest(k.sla_check_at, 'epoch'::timestamptz) FROM tickets k
  WHERE k.tenant_id = app_current_tenant() AND k.livemode = app_current_livemode()
    AND k.sla_check_at <= due_by AND k.test_clock_id IS NULL
  ORDER BY k.sla_check_at LIMIT 1
$$;

CREATE FUNCTION webhook_dispatch_pending_since() RETURNS timestamptz
LANGUAGE plpgsql STABLE AS $$
DECLARE
  t    text := app_current_tenant();
  at   timestamptz;
  last bigint;
BEGIN
  -- In steps: most tenants have no enabled endpoint and cost one probe.
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

CREATE FUNCTION quality_fold_pending_since() RETURNS timestamptz
LANGUAGE plpgsql STABLE AS $$
DECLARE
  t   text := app_current_tenant();
  at  timestamptz;
  pos bigint;
BEGIN
  at := (SELECT e.occurred_at FROM events e WHERE e.tenant_id = t AND e.position IS NULL LIMIT 1);
  IF at IS NOT NULL THEN
    RETURN at;
  END IF;
  pos := coalesce((SELECT q.position FROM quality_positions q WHERE q.tenant_id = t), 0);
  RETURN (SELECT e.occurred_at FROM events e
          WHERE e.tenant_id = t AND e.livemode = app_current_livemode() AND e.position > pos
            AND (e.type LIKE 'ticket.%' OR e.type = 'complaint.filed')
          ORDER BY e.position LIMIT 1);
END $$;

CREATE FUNCTION tenants_with_work(work text, due_by timestamptz DEFAULT NULL)
RETURNS TABLE (tenant_id text, livemode boolean, since timestamptz)
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
SET search_path = public
AS $$
DECLARE
  was_tenant text := coalesce(current_setting('app.tenant_id', true), '');
  was_mode   text := coalesce(current_setting('app.livemode', true), '');
  t text;
  m boolean;
BEGIN
  IF work IS NULL OR work NOT IN ('claims_awaiting_adjudication', 'tickets_sla_due', 'webhook_dispatch_pending', 'quality_fold_pending')
     OR (work = 'tickets_sla_due') <> (due_by IS NOT NULL) THEN
    RAISE EXCEPTION 'tenants_with_work: no such work: % (due by %)', work, due_by USING ERRCODE = 'invalid_parameter_value';
  END IF;
  FOR t IN SELECT id FROM tenants WHERE status = 'active' ORDER BY id LOOP
    FOREACH m IN ARRAY ARRAY[true, false] LOOP
      PERFORM set_config('app.tenant_id', t, true);
      PERFORM set_config('app.livemode', m::text, true);
      since := CASE work
        WHEN 'claims_awaiting_adjudication' THEN claims_awaiting_since()
        WHEN 'tickets_sla_due' THEN tickets_sla_due_since(due_by)
        WHEN 'quality_fold_pending' THEN quality_fold_pending_since()
        ELSE webhook_dispatch_pending_since()
      END;
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
REVOKE ALL ON FUNCTION tenants_with_work(text, timestamptz) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION tenants_with_work(text, timestamptz) TO servicenet_app;

-- claims_awaiting_adjudication (054) stays, answered by the walk, for the
-- servers of the release before this one, which call it until they are
-- replaced (deploy/README: a migration is additive; the contraction ships a
-- release later). Replaced in place, with the same signature: no call finds
-- it missing.
CREATE OR REPLACE FUNCTION claims_awaiting_adjudication() RETURNS TABLE (tenant_id text, livemode boolean)
LANGUAGE sql VOLATILE AS $$
  SELECT w.tenant_id, w.livemode FROM tenants_with_work('claims_awaiting_adjudication') w
$$;
