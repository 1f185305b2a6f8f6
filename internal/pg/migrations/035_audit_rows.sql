-- The audit log's cost on the write path (issue 15), and the child tables
-- it did not cover yet.
--
-- 1. A cheaper audit trigger. audit_row (022, 027) parsed the actor
--    setting and built the list of unrecorded columns in its declarations,
--    turned each written row into jsonb twice over for an update, looked
--    for the object's id among fourteen candidate keys, and for an update
--    that changed nothing but updated_at and version still ran a query over
--    every field before recording nothing. audit_rows records exactly what
--    audit_row recorded — who (app.actor: key|roles|on_behalf_of|
--    operation|request, else system), the operation, the object (table and
--    id), and the changed fields with old and new values, secrets excluded;
--    a creation compactly as {"+": row} (027) — in the writing transaction,
--    with no round trip of its own, and less work per row:
--      - the object's column is the trigger's first argument, read with one
--        key lookup;
--      - the unrecorded columns (secrets, and tenant_id) are the trigger's
--        other arguments, removed with one jsonb operator;
--      - an update whose rows are equal but for updated_at and version is
--        recognised by one comparison of the two rows and records nothing;
--      - the actor is split once, inside the one INSERT … SELECT.
--    Statement-level triggers with transition tables (one INSERT … SELECT
--    per statement) were measured too: the writes that matter (an intake)
--    are one row per statement, and capturing transition tables and
--    pairing old and new rows cost more than the per-row call they save.
--
--    Every <table>_audit trigger on audit_row is replaced by one on
--    audit_rows, with the object column audit_row found first (id,
--    customer_id, part_id, ticket_id, import_id, proposal_id, purpose;
--    none: '') and the same secrets. audit_row stays, for triggers a later
--    migration may still create on it.
--
--    The audit log's foreign key to tenants is dropped (below).
--
-- 2. The child tables of audited objects that were debt in the
--    audit-coverage test: price-list lines (by their price list), a part's
--    compatible models (by the part), stored quotes, a unit's service
--    records, a ticket's appointment windows and part lines (by the ticket).

-- audit_rows records one row's write. TG_ARGV[0]: the column naming the
-- object ('': none); the rest: columns never recorded.
CREATE FUNCTION audit_rows() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
  o       jsonb;
  n       jsonb;
  changes jsonb;
BEGIN
  IF TG_OP = 'INSERT' THEN
    n := to_jsonb(NEW) - TG_ARGV[1:];
    changes := jsonb_build_object('+', jsonb_strip_nulls(n));
  ELSIF TG_OP = 'UPDATE' THEN
    o := to_jsonb(OLD) - TG_ARGV[1:];
    n := to_jsonb(NEW) - TG_ARGV[1:];
    IF o - '{updated_at,version}'::text[] = n - '{updated_at,version}'::text[] THEN
      RETURN NULL;
    END IF;
    SELECT jsonb_object_agg(e.key, jsonb_build_object('old', o -> e.key, 'new', e.value)) INTO changes
      FROM jsonb_each(n) e
     WHERE e.key NOT IN ('updated_at', 'version') AND (o -> e.key) IS DISTINCT FROM e.value;
  ELSE
    o := to_jsonb(OLD) - TG_ARGV[1:];
    SELECT coalesce(jsonb_object_agg(e.key, jsonb_build_object('old', e.value, 'new', NULL)), '{}') INTO changes
      FROM jsonb_each(o) e WHERE e.value <> 'null'::jsonb;
  END IF;
  INSERT INTO audit_log (tenant_id, actor, roles, on_behalf_of, operation, request_id, object_type, object_id, action, changes)
  SELECT CASE TG_OP WHEN 'DELETE' THEN OLD.tenant_id ELSE NEW.tenant_id END,
         a[1], coalesce(string_to_array(NULLIF(a[2], ''), ','), '{}'), NULLIF(a[3], ''),
         coalesce(NULLIF(a[4], ''), 'system'), NULLIF(a[5], ''),
         TG_TABLE_NAME, coalesce(coalesce(n, o) ->> TG_ARGV[0], ''),
         CASE TG_OP WHEN 'INSERT' THEN 'create' WHEN 'UPDATE' THEN 'update' ELSE 'delete' END, changes
    FROM string_to_array(coalesce(NULLIF(current_setting('app.actor', true), ''), 'system||||'), '|') AS a;
  RETURN NULL;
END $$;

-- audit_table puts t's writes in the audit log: its <t>_audit trigger on
-- audit_rows, the object named by object_column ('': none), secrets never
-- recorded.
CREATE FUNCTION audit_table(t regclass, object_column text, secrets text[]) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
  tab  text := (SELECT relname FROM pg_class WHERE oid = t);
  args text := (SELECT string_agg(quote_literal(x), ', ') FROM unnest(object_column || '{tenant_id}'::text[] || secrets) x);
BEGIN
  IF object_column <> '' AND NOT EXISTS (SELECT FROM pg_attribute WHERE attrelid = t AND attname = object_column AND attnotnull) THEN
    RAISE EXCEPTION 'audit_table: % has no NOT NULL column %', t, object_column;
  END IF;
  EXECUTE format('DROP TRIGGER IF EXISTS %I ON %s', tab || '_audit', t);
  EXECUTE format('CREATE TRIGGER %I AFTER INSERT OR UPDATE OR DELETE ON %s FOR EACH ROW EXECUTE FUNCTION audit_rows(%s)',
                 tab || '_audit', t, args);
END $$;

DO $$
DECLARE
  r   record;
  col text;
BEGIN
  FOR r IN SELECT g.tgrelid::regclass AS t, g.tgrelid AS oid,
                  -- tgargs: each argument followed by a zero byte
                  ARRAY(SELECT x FROM unnest(string_to_array(encode(g.tgargs, 'escape'), '\000')) x WHERE x <> '') AS secrets
             FROM pg_trigger g JOIN pg_class c ON c.oid = g.tgrelid
            WHERE g.tgname = c.relname || '_audit' AND g.tgfoid = 'audit_row'::regproc LOOP
    col := NULL;
    SELECT k INTO col FROM unnest(ARRAY['id', 'customer_id', 'part_id', 'ticket_id', 'import_id', 'proposal_id', 'purpose'])
                           WITH ORDINALITY AS u(k, i)
     WHERE EXISTS (SELECT FROM pg_attribute WHERE attrelid = r.oid AND attname = k AND NOT attisdropped)
     ORDER BY i LIMIT 1;
    PERFORM audit_table(r.t, coalesce(col, ''), r.secrets);
  END LOOP;
END $$;

SELECT audit_table(t, c, '{}') FROM (VALUES
  ('price_list_labor'::regclass, 'price_list_id'), ('price_list_parts', 'price_list_id'), ('price_list_visit_fees', 'price_list_id'),
  ('part_models', 'part_id'), ('quotes', 'id'), ('service_records', 'id'),
  ('ticket_appointments', 'ticket_id'), ('ticket_parts', 'ticket_id')) AS v(t, c);

-- An audit row's tenant is the tenant of the row it records, which that
-- row's own foreign key has just checked, or for a recorded read the
-- transaction's tenant, which row-level security requires it to equal
-- (tenants are never deleted). The foreign key to tenants checked it once
-- more per audit row: a query and a KEY SHARE lock on the tenant's row,
-- which every concurrent writer of the tenant shares (a multixact). An
-- intake ran 3 such checks; it now runs 3 statements for its audit rows
-- and nothing else (BenchmarkIntakeAudit: nested statements per intake
-- 21.5 with the log, 18.5 without).
ALTER TABLE audit_log DROP CONSTRAINT IF EXISTS audit_log_tenant_id_fkey; -- 034 drops it too (the intake path)
