-- One key per row, not two (issue 11: the cost of a write is its rows and
-- their index entries).
--
-- Every tenant table whose rows other tables reference carried two unique
-- B-trees over the same rows: the primary key (tenant_id, id), and
-- (tenant_id, livemode, id), the target of the foreign keys, which carry
-- the mode so that a test row can never point at a live one. IDs are
-- random (ULIDs), the second key implies the first's uniqueness in
-- practice, and every read names the mode (row-level security adds
-- livemode = the transaction's mode to every query), so the first index
-- served nothing the second does not: it was one more B-tree entry per row
-- written. An intake writes four such rows (the ticket, its events, a new
-- caller's customer and unit); replaying an intake's rows without these
-- four primary keys ran at 0.109-0.113 of the raw insert against
-- 0.094-0.099 with them (BenchmarkIntakeFloor, interleaved).
--
-- So (tenant_id, livemode, id) becomes the primary key, under the old
-- primary key's name, and the separate unique index (or constraint) goes. The foreign
-- keys into either are dropped first and added again against the new
-- primary key (validated as they are added); the two that referenced
-- (tenant_id, id) (care_reminders → units, network_import_codes →
-- network_imports) now carry the mode too, as every other one does: both
-- tables have it.
--
-- On a large database this rebuilds one index per table and revalidates
-- its foreign keys under locks that block writes for the duration; run it
-- in a maintenance window there.
DO $$
DECLARE
  t        record;
  fk       record;
  rels     regclass[];
  names    text[];
  defs     text[];
  i        int;
  def      text;
BEGIN
  FOR t IN
    -- uq: a unique index (most were made by CREATE UNIQUE INDEX) or
    -- constraint, without a predicate
    SELECT c.oid, c.oid::regclass AS rel, pk.conname AS pk_name, pk.conindid AS pk_index,
           uq.indexrelid AS uq_index, uc.conname AS uq_constraint
      FROM pg_class c
      JOIN pg_constraint pk ON pk.conrelid = c.oid AND pk.contype = 'p'
      JOIN pg_index uq ON uq.indrelid = c.oid AND uq.indisunique AND NOT uq.indisprimary AND uq.indpred IS NULL
      LEFT JOIN pg_constraint uc ON uc.conindid = uq.indexrelid AND uc.conrelid = c.oid AND uc.contype = 'u'
     WHERE c.relnamespace = 'public'::regnamespace
       AND pg_get_constraintdef(pk.oid) = 'PRIMARY KEY (tenant_id, id)'
       AND pg_get_indexdef(uq.indexrelid) LIKE '% USING btree (tenant_id, livemode, id)'
     ORDER BY c.relname
  LOOP
    rels := '{}'; names := '{}'; defs := '{}';
    FOR fk IN
      SELECT conrelid::regclass AS rel, conname, pg_get_constraintdef(oid) AS def
        FROM pg_constraint
       WHERE contype = 'f' AND confrelid = t.oid AND conindid IN (t.pk_index, t.uq_index)
    LOOP
      rels := rels || fk.rel; names := names || fk.conname::text; defs := defs || fk.def;
      EXECUTE format('ALTER TABLE %s DROP CONSTRAINT %I', fk.rel, fk.conname);
    END LOOP;
    EXECUTE format('ALTER TABLE %s DROP CONSTRAINT %I', t.rel, t.pk_name);
    IF t.uq_constraint IS NOT NULL THEN
      EXECUTE format('ALTER TABLE %s DROP CONSTRAINT %I', t.rel, t.uq_constraint);
    ELSE
      EXECUTE format('DROP INDEX %s', t.uq_index::regclass);
    END IF;
    EXECUTE format('ALTER TABLE %s ADD CONSTRAINT %I PRIMARY KEY (tenant_id, livemode, id)', t.rel, t.pk_name);
    FOR i IN 1 .. coalesce(array_length(rels, 1), 0) LOOP
      def := defs[i];
      IF def ~ '^FOREIGN KEY \(tenant_id, [a-z_]+\) REFERENCES [a-z_.]+\(tenant_id, id\)' THEN
        def := regexp_replace(def, '^FOREIGN KEY \(tenant_id, ', 'FOREIGN KEY (tenant_id, livemode, ');
        def := regexp_replace(def, 'REFERENCES ([a-z_.]+)\(tenant_id, id\)', 'REFERENCES \1(tenant_id, livemode, id)');
      END IF;
      EXECUTE format('ALTER TABLE %s ADD CONSTRAINT %I %s', rels[i], names[i], def);
    END LOOP;
  END LOOP;
END $$;
