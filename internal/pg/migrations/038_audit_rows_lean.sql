-- The audit trigger's cost per written row, once more (issue 15: intake
-- with the audit log on within 10 % of intake without it).
--
-- audit_rows (035) records the same entries, in the writing transaction,
-- with no round trip of its own; per written row it now runs one SQL
-- statement (the audit_log INSERT) and fewer jsonb passes:
--   - the actor setting is split with split_part inside the INSERT's VALUES,
--     not through a set-returning function in a FROM clause (a function
--     scan to set up and tear down per audit row);
--   - an update or delete builds its diff inside that INSERT (a scalar
--     subquery) instead of running a SELECT … INTO of its own first, and an
--     update drops the excluded and the bookkeeping columns (updated_at,
--     version) in one jsonb pass per row image instead of two;
--   - an update that leaves the row byte-for-byte unchanged (OLD *= NEW,
--     e.g. an upsert that rewrote the same values) returns before any jsonb
--     is built;
--   - a creation strips nulls from the row before removing the excluded
--     columns (the smaller object is the one copied), and takes the
--     object's id from that stripped row (its column is NOT NULL).
-- Measured with a bulk insert of ticket-like rows (backend CPU per row,
-- interleaved runs, median): see the commit message.
--
-- Statement-level triggers with transition tables stay out: an intake's
-- writes are one row per statement, Citus runs no transition-table triggers
-- on distributed tables, and the per-row call is not where the time goes
-- (the jsonb image of the row and the INSERT are).
--
-- audit_table (035) stays the way to attach a table; every audited table is
-- attached again below so that all <table>_audit triggers run this
-- audit_rows with the arguments they had.

CREATE OR REPLACE FUNCTION audit_rows() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
  -- key|roles|on_behalf_of|operation|request (pg.Actor), else system
  a text := coalesce(NULLIF(current_setting('app.actor', true), ''), 'system');
  o jsonb;
  n jsonb;
BEGIN
  IF TG_OP = 'INSERT' THEN
    n := jsonb_strip_nulls(to_jsonb(NEW)) - TG_ARGV[1:];
    INSERT INTO audit_log (tenant_id, actor, roles, on_behalf_of, operation, request_id, object_type, object_id, action, changes)
    VALUES (NEW.tenant_id, split_part(a, '|', 1), coalesce(string_to_array(NULLIF(split_part(a, '|', 2), ''), ','), '{}'),
            NULLIF(split_part(a, '|', 3), ''), coalesce(NULLIF(split_part(a, '|', 4), ''), 'system'), NULLIF(split_part(a, '|', 5), ''),
            TG_TABLE_NAME, coalesce(n ->> TG_ARGV[0], ''), 'create', jsonb_build_object('+', n));
  ELSIF TG_OP = 'UPDATE' THEN
    IF OLD *= NEW THEN
      RETURN NULL;
    END IF;
    o := to_jsonb(OLD) - (TG_ARGV[1:] || '{updated_at,version}'::text[]);
    n := to_jsonb(NEW) - (TG_ARGV[1:] || '{updated_at,version}'::text[]);
    IF o = n THEN
      RETURN NULL; -- only updated_at and version changed
    END IF;
    INSERT INTO audit_log (tenant_id, actor, roles, on_behalf_of, operation, request_id, object_type, object_id, action, changes)
    VALUES (NEW.tenant_id, split_part(a, '|', 1), coalesce(string_to_array(NULLIF(split_part(a, '|', 2), ''), ','), '{}'),
            NULLIF(split_part(a, '|', 3), ''), coalesce(NULLIF(split_part(a, '|', 4), ''), 'system'), NULLIF(split_part(a, '|', 5), ''),
            TG_TABLE_NAME, coalesce(n ->> TG_ARGV[0], ''), 'update',
            (SELECT jsonb_object_agg(e.key, jsonb_build_object('old', o -> e.key, 'new', e.value))
               FROM jsonb_each(n) e WHERE (o -> e.key) IS DISTINCT FROM e.value));
  ELSE
    o := to_jsonb(OLD) - TG_ARGV[1:];
    INSERT INTO audit_log (tenant_id, actor, roles, on_behalf_of, operation, request_id, object_type, object_id, action, changes)
    VALUES (OLD.tenant_id, split_part(a, '|', 1), coalesce(string_to_array(NULLIF(split_part(a, '|', 2), ''), ','), '{}'),
            NULLIF(split_part(a, '|', 3), ''), coalesce(NULLIF(split_part(a, '|', 4), ''), 'system'), NULLIF(split_part(a, '|', 5), ''),
            TG_TABLE_NAME, coalesce(o ->> TG_ARGV[0], ''), 'delete',
            (SELECT coalesce(jsonb_object_agg(e.key, jsonb_build_object('old', e.value, 'new', NULL)), '{}')
               FROM jsonb_each(o) e WHERE e.value <> 'null'::jsonb));
  END IF;
  RETURN NULL;
END $$;

-- Attach every audited table again, with its object column and secrets.
DO $$
DECLARE
  r record;
BEGIN
  FOR r IN SELECT g.tgrelid::regclass AS t,
                  -- tgargs: each argument followed by a zero byte
                  string_to_array(encode(g.tgargs, 'escape'), '\000') AS args
             FROM pg_trigger g JOIN pg_class c ON c.oid = g.tgrelid
            WHERE g.tgname = c.relname || '_audit' AND g.tgfoid = 'audit_rows'::regproc LOOP
    -- args: object column, tenant_id, secrets…, '' (after the last zero byte)
    PERFORM audit_table(r.t, r.args[1], ARRAY(SELECT x FROM unnest(r.args[3:]) x WHERE x <> ''));
  END LOOP;
END $$;
