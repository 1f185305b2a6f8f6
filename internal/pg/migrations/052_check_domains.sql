-- The single-column CHECK constraints on the text columns of the tables
-- every intake and claim writes become the constraints of a domain per
-- column, under the same names: the same rules, checked for less.
--
-- PostgreSQL 15 rebuilds a table's CHECK expressions from their stored text
-- and plans them again for every statement that writes the table
-- (ExecRelCheck: stringToNode, then ExecPrepareExpr), and an UPDATE checks
-- them all, whatever it changes; a domain's constraints are kept planned in
-- the backend's type cache, and checked only for the values a statement
-- assigns. Measured in a loop of single-row statements with cached plans
-- (audit trigger, indexes and row-level security as in production): a
-- ticket's insert 142-171 -> 102-111 µs, a ticket's state change 285 ->
-- 233 µs, a notification's insert 77-102 -> 58-69 µs.
--
-- A violation is still check_violation (23514) naming the same constraint
-- (the API maps constraint names to fields), with the domain's name in
-- place of the table's. Results of a domain column travel as its base
-- type; a parameter assigned to one is typed with the domain, which pgx
-- encodes as text: so only text columns become domains (a jsonb or integer
-- one would need its domain registered with every connection). A statement
-- that uses one parameter both for such a column and as text elsewhere must
-- cast it (42P08 otherwise). Multi-column CHECKs, and those of primary-key
-- columns, stay on their tables. A later change to one of these rules is an
-- ALTER DOMAIN <table>_<column> (DROP CONSTRAINT, ADD CONSTRAINT).
--
-- No table is rewritten: each column first takes a domain without a
-- constraint (binary-coercible), then the domain gets the constraint NOT
-- VALID and validates it (a scan). The views that name a changed column are
-- dropped and made again as they were (043).
DROP VIEW ticket_workload;
DROP VIEW event_payloads;

DO $$
DECLARE
  col record;
  con record;
  dom text;
  expr text;
BEGIN
  FOR col IN
    SELECT DISTINCT c.conrelid::regclass::text AS tbl, a.attname::text AS att
    FROM pg_constraint c
    JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = c.conkey[1]
    WHERE c.contype = 'c' AND cardinality(c.conkey) = 1 AND c.connamespace = 'public'::regnamespace
      AND c.conrelid IN ('tickets'::regclass, 'notifications'::regclass, 'units'::regclass, 'customers'::regclass,
                         'events'::regclass, 'idempotency_keys'::regclass, 'claims'::regclass, 'claim_versions'::regclass)
      AND a.atttypid = 'text'::regtype
      AND quote_ident(a.attname) = a.attname
      AND NOT EXISTS (SELECT FROM pg_index i WHERE i.indrelid = c.conrelid AND i.indisprimary AND a.attnum = ANY (i.indkey))
    ORDER BY 1, 2
  LOOP
    dom := col.tbl || '_' || col.att;
    EXECUTE format('CREATE DOMAIN %I AS text', dom);
    EXECUTE format('ALTER TABLE %I ALTER COLUMN %I TYPE %I', col.tbl, col.att, dom);
    FOR con IN
      SELECT c.conname::text AS name, pg_get_expr(c.conbin, c.conrelid) AS expr
      FROM pg_constraint c JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = c.conkey[1]
      WHERE c.contype = 'c' AND cardinality(c.conkey) = 1 AND c.conrelid = col.tbl::regclass AND a.attname = col.att
      ORDER BY 1
    LOOP
      -- The column, as a whole word, is VALUE (none of these expressions
      -- holds the column's name in a literal; TestCheckDomains reads them).
      expr := regexp_replace(con.expr, '\m' || col.att || '\M', 'VALUE', 'g');
      EXECUTE format('ALTER TABLE %I DROP CONSTRAINT %I', col.tbl, con.name);
      EXECUTE format('ALTER DOMAIN %I ADD CONSTRAINT %I CHECK %s NOT VALID', dom, con.name, expr);
      EXECUTE format('ALTER DOMAIN %I VALIDATE CONSTRAINT %I', dom, con.name);
    END LOOP;
  END LOOP;
END $$;

CREATE VIEW ticket_workload WITH (security_invoker = true) AS
  SELECT tenant_id, id AS ticket_id, node_id, technician_id, window_start, updated_at
  FROM tickets
  WHERE state <> 'cancelled';

CREATE VIEW event_payloads WITH (security_invoker = true) AS
  SELECT tenant_id, id, type, subject_id, actor, data, occurred_at
  FROM events;
