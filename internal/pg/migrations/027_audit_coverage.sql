-- Audit coverage of the tables added since the audit log (issue 15): every
-- write to them records who, what, and the changed fields with old and new
-- values, in the writing transaction (audit_row, 022), secrets excluded.
--
--   ticket_visits          (016) each visit attempt, keyed by its ticket
--   ticket_tasks           (016) follow-up tasks
--   notification_gateways  (019) secret never recorded
--   notifications          (019) secret (rendered text, one-time codes)
--                          never recorded; nor the recipient, the ticket's
--                          contact phone, audited on the ticket (where an
--                          erasure scrubs it)
--   network_import_chunks  (020) the file's bytes are not recorded
--   grade_proposals        (024) a node's proposed grade and its decision
--   grade_appeals          (024) keyed by the proposal appealed
--   test_clocks            (026) test mode only
--
-- Columns added to audited tables (017 depreciation schedules and payout
-- tickets, 018 verification clocks and swap nodes, 022 erasures, 023 status
-- mappings) are recorded by those tables' triggers already; 021 (test mode)
-- added no table (audit_log rows take the writing transaction's mode).
-- Not audited, on purpose: ticket_number_counters (018), a per-day number
-- sequence and no business object (the ticket it numbers is audited), and
-- api_replicas (020), a platform table of server heartbeats with no tenant.
--
-- audit_row names the object of a row without an id of its own by the
-- object it belongs to: a visit by its ticket, an import chunk by its import.
--
-- A creation is recorded compactly, as the new row under the key "+"
-- ({"+": {field: value}}), instead of {field: {"old": null, "new": value}}
-- built field by field: the intake's writes are creations, and building
-- that object per field was most of the trigger's time inside the writing
-- transaction. The reader (tenants/audit) expands it: the API shows the
-- same {field: {old, new}} as before. "+" is no column name.

CREATE OR REPLACE FUNCTION audit_row() RETURNS trigger
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
    changes := jsonb_build_object('+', jsonb_strip_nulls(n));
  ELSE
    act := 'delete';
    SELECT jsonb_object_agg(e.key, jsonb_build_object('old', e.value, 'new', NULL)) INTO changes
      FROM jsonb_each(o) e WHERE e.value <> 'null'::jsonb;
  END IF;
  INSERT INTO audit_log (tenant_id, actor, roles, on_behalf_of, operation, request_id, object_type, object_id, action, changes)
  VALUES (CASE WHEN TG_OP = 'DELETE' THEN OLD.tenant_id ELSE NEW.tenant_id END,
          actor[1], coalesce(string_to_array(NULLIF(actor[2], ''), ','), '{}'), NULLIF(actor[3], ''),
          coalesce(NULLIF(actor[4], ''), 'system'), NULLIF(actor[5], ''),
          TG_TABLE_NAME,
          coalesce(n ->> 'id', o ->> 'id', n ->> 'customer_id', o ->> 'customer_id', n ->> 'part_id', o ->> 'part_id',
                   n ->> 'ticket_id', o ->> 'ticket_id', n ->> 'import_id', o ->> 'import_id',
                   n ->> 'proposal_id', o ->> 'proposal_id', n ->> 'purpose', o ->> 'purpose', ''),
          act, coalesce(changes, '{}'));
  RETURN NULL;
END $$;

DO $$
DECLARE
  t      text;
  secret text;
BEGIN
  FOR t, secret IN VALUES
    ('ticket_visits', ''), ('ticket_tasks', ''),
    ('notification_gateways', '''secret'''), ('notifications', '''secret'', ''recipient'''),
    ('network_import_chunks', '''data'''),
    ('grade_proposals', ''), ('grade_appeals', ''), ('test_clocks', '')
  LOOP
    EXECUTE format('CREATE TRIGGER %I AFTER INSERT OR UPDATE OR DELETE ON %I FOR EACH ROW EXECUTE FUNCTION audit_row(%s)',
      t || '_audit', t, secret);
  END LOOP;
END $$;

-- audit_changes is an entry's changes as the API shows them: a compact
-- creation ({"+": row}) expanded to {field: {"old": null, "new": value}}.
CREATE FUNCTION audit_changes(changes jsonb) RETURNS jsonb
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
  SELECT CASE WHEN changes ? '+' THEN
    (SELECT coalesce(jsonb_object_agg(e.key, jsonb_build_object('old', NULL, 'new', e.value)), '{}') FROM jsonb_each(changes -> '+') e)
  ELSE changes END
$$;

-- audit_erase_subject, for compact creations too.
CREATE OR REPLACE FUNCTION audit_erase_subject(customer text, tickets text[]) RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public AS $$
BEGIN
  UPDATE audit_log SET changes = (SELECT coalesce(jsonb_object_agg(e.key, '{"old": "[erased]", "new": "[erased]"}'::jsonb), '{}')
                                  FROM jsonb_each(audit_changes(changes)) e)
    WHERE tenant_id = app_current_tenant() AND object_type = 'customers' AND object_id = customer;
  UPDATE audit_log SET changes = CASE WHEN changes ? '+' THEN jsonb_build_object('+', (changes -> '+') - 'contact' - 'address')
                                      ELSE changes - 'contact' - 'address' END
    WHERE tenant_id = app_current_tenant() AND object_type = 'tickets' AND object_id = ANY (tickets)
      AND (changes ? 'contact' OR changes ? 'address' OR (changes -> '+') ?| ARRAY['contact', 'address']);
END $$;
