-- Test mode, enforced like tenancy (issue 14).
--
-- Every tenant row is live data or test data: a livemode column on every
-- tenant table, whose default is the transaction's mode (app.livemode, set
-- transaction-locally beside app.tenant_id by internal/pg from the key the
-- request came with, or from the job's metadata). The tenant isolation
-- policy of every tenant table now also requires the row's mode to be the
-- transaction's: a transaction sees and writes one tenant's rows of one
-- mode, whatever its queries say. A transaction that set no mode sees
-- nothing, like one that set no tenant.
--
-- API keys are the exception: a key's mode is its own `live` column, which
-- the policy compares instead. A key is made in its own mode (a live admin
-- key may issue a test key; the insert runs in test mode), and is listed,
-- read and revoked by keys of its mode only.
--
-- Unique keys that would let one mode's data collide with the other's
-- (codes, external references, ticket numbers, a tenant's one policy row)
-- gain livemode. Keys on random IDs cannot collide and stay as they are.

CREATE FUNCTION app_current_livemode() RETURNS boolean
LANGUAGE sql STABLE PARALLEL SAFE
AS $$ SELECT NULLIF(current_setting('app.livemode', true), '')::boolean $$;

-- enable_tenant_rls now also makes the table mode-aware: tables created by
-- later migrations get the livemode column and the mode in their policy.
CREATE OR REPLACE FUNCTION enable_tenant_rls(t regclass) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
  IF NOT EXISTS (SELECT 1 FROM pg_attribute WHERE attrelid = t AND attname = 'livemode' AND NOT attisdropped) THEN
    -- Rows that exist already are live data.
    EXECUTE format('ALTER TABLE %s ADD COLUMN livemode boolean NOT NULL DEFAULT true', t);
  END IF;
  EXECUTE format('ALTER TABLE %s ALTER COLUMN livemode SET DEFAULT app_current_livemode()', t);
  EXECUTE format('ALTER TABLE %s ENABLE ROW LEVEL SECURITY', t);
  EXECUTE format('ALTER TABLE %s FORCE ROW LEVEL SECURITY', t);
  EXECUTE format('DROP POLICY IF EXISTS tenant_isolation ON %s', t);
  EXECUTE format('CREATE POLICY tenant_isolation ON %s'
    ' USING (tenant_id = app_current_tenant() AND livemode = app_current_livemode())'
    ' WITH CHECK (tenant_id = app_current_tenant() AND livemode = app_current_livemode())', t);
END $$;

DO $$
DECLARE r record;
BEGIN
  FOR r IN SELECT format('%I.%I', schemaname, tablename) AS t FROM pg_policies
           WHERE policyname = 'tenant_isolation' AND tablename <> 'api_keys' LOOP
    PERFORM enable_tenant_rls(r.t::regclass);
  END LOOP;
END $$;

DROP POLICY tenant_isolation ON api_keys;
CREATE POLICY tenant_isolation ON api_keys
  USING (tenant_id = app_current_tenant() AND live = app_current_livemode())
  WITH CHECK (tenant_id = app_current_tenant() AND live = app_current_livemode());

-- Unique keys per mode.
ALTER TABLE nodes DROP CONSTRAINT nodes_tenant_id_external_code_key,
  ADD CONSTRAINT nodes_tenant_id_external_code_key UNIQUE (tenant_id, livemode, external_code);
DROP INDEX nodes_one_root_idx;
CREATE UNIQUE INDEX nodes_one_root_idx ON nodes (tenant_id, livemode) WHERE parent_id IS NULL;
ALTER TABLE technicians DROP CONSTRAINT technicians_tenant_id_external_code_key,
  ADD CONSTRAINT technicians_tenant_id_external_code_key UNIQUE (tenant_id, livemode, external_code);
ALTER TABLE product_models DROP CONSTRAINT product_models_tenant_id_model_number_key,
  ADD CONSTRAINT product_models_tenant_id_model_number_key UNIQUE (tenant_id, livemode, model_number);
ALTER TABLE parts DROP CONSTRAINT parts_tenant_id_part_number_key,
  ADD CONSTRAINT parts_tenant_id_part_number_key UNIQUE (tenant_id, livemode, part_number);
ALTER TABLE price_lists DROP CONSTRAINT price_lists_tenant_id_version_key,
  DROP CONSTRAINT price_lists_tenant_id_effective_from_key,
  ADD CONSTRAINT price_lists_tenant_id_version_key UNIQUE (tenant_id, livemode, version),
  ADD CONSTRAINT price_lists_tenant_id_effective_from_key UNIQUE (tenant_id, livemode, effective_from);
ALTER TABLE storefronts DROP CONSTRAINT storefronts_tenant_id_code_key,
  ADD CONSTRAINT storefronts_tenant_id_code_key UNIQUE (tenant_id, livemode, code);
ALTER TABLE customer_phones DROP CONSTRAINT customer_phones_pkey,
  ADD PRIMARY KEY (tenant_id, livemode, phone);
ALTER TABLE coverage_plans DROP CONSTRAINT coverage_plans_tenant_id_code_key,
  ADD CONSTRAINT coverage_plans_tenant_id_code_key UNIQUE (tenant_id, livemode, code);
DROP INDEX contracts_seller_reference_key;
CREATE UNIQUE INDEX contracts_seller_reference_key ON contracts (tenant_id, livemode, COALESCE(storefront_id, ''), external_reference)
  WHERE external_reference IS NOT NULL;
ALTER TABLE webhook_dispatch_cursors DROP CONSTRAINT webhook_dispatch_cursors_pkey,
  ADD PRIMARY KEY (tenant_id, livemode);
ALTER TABLE claim_policies DROP CONSTRAINT claim_policies_pkey,
  ADD PRIMARY KEY (tenant_id, livemode);
DROP INDEX claims_submitter_reference_key;
CREATE UNIQUE INDEX claims_submitter_reference_key ON claims (tenant_id, livemode, submitter, reference);
ALTER TABLE tenant_holidays DROP CONSTRAINT tenant_holidays_pkey,
  ADD PRIMARY KEY (tenant_id, livemode, day);
ALTER TABLE sla_policies DROP CONSTRAINT sla_policies_pkey,
  ADD PRIMARY KEY (tenant_id, livemode);
ALTER TABLE tickets DROP CONSTRAINT tickets_tenant_id_number_key,
  ADD CONSTRAINT tickets_tenant_id_number_key UNIQUE (tenant_id, livemode, number);
DROP INDEX tickets_storefront_reference_key;
CREATE UNIQUE INDEX tickets_storefront_reference_key ON tickets (tenant_id, livemode, storefront_id, external_reference)
  WHERE external_reference IS NOT NULL;
-- Each mode numbers its own tickets per day (next_ticket_number reads and
-- writes the day's base under the transaction's mode; the tenant's sequence
-- is shared, so each mode's numbers are unique and increasing).
ALTER TABLE ticket_number_days DROP CONSTRAINT ticket_number_days_pkey,
  ADD PRIMARY KEY (tenant_id, livemode, day);
ALTER TABLE loaners DROP CONSTRAINT loaners_tenant_id_serial_key,
  ADD CONSTRAINT loaners_tenant_id_serial_key UNIQUE (tenant_id, livemode, serial);
-- Each mode has its own event feed.
DROP INDEX events_position_idx;
CREATE UNIQUE INDEX events_position_idx ON events (tenant_id, livemode, position);

-- Foreign keys are checked without row-level security, so a key on
-- (tenant_id, x) alone would let a test row point at a live one (a test
-- unit of a live model). Every foreign key between tenant tables gains the
-- mode: (tenant_id, livemode, x) references (tenant_id, livemode, id), and
-- API keys' bindings reference the bound object in the key's own mode. The
-- constraints keep their names (the API's error mapping uses them).
DO $$
DECLARE
  c       record;
  refcols text;
  cols    text;
  mode    text;
  idx     text;
BEGIN
  FOR c IN
    SELECT con.oid, con.conname, con.conrelid::regclass AS tbl, con.confrelid::regclass AS reftbl,
           con.conkey, con.confkey, con.convalidated, con.confdeltype, con.confupdtype, con.condeferrable, con.condeferred
    FROM pg_constraint con
    WHERE con.contype = 'f'
      AND EXISTS (SELECT 1 FROM pg_attribute a WHERE a.attrelid = con.confrelid AND a.attname = 'livemode' AND NOT a.attisdropped)
      AND (SELECT attname FROM pg_attribute WHERE attrelid = con.conrelid AND attnum = con.conkey[1]) = 'tenant_id'
      AND (SELECT attname FROM pg_attribute WHERE attrelid = con.confrelid AND attnum = con.confkey[1]) = 'tenant_id'
  LOOP
    IF EXISTS (SELECT 1 FROM pg_attribute a WHERE a.attrelid = c.tbl AND a.attname = 'livemode' AND NOT a.attisdropped) THEN
      mode := 'livemode';
    ELSIF c.tbl = 'api_keys'::regclass THEN
      mode := 'live';
    ELSE
      CONTINUE;
    END IF;
    SELECT string_agg(quote_ident(a.attname), ', ' ORDER BY k.i) INTO cols
      FROM unnest(c.conkey[2:]) WITH ORDINALITY AS k(n, i)
      JOIN pg_attribute a ON a.attrelid = c.tbl AND a.attnum = k.n;
    SELECT string_agg(quote_ident(a.attname), ', ' ORDER BY k.i) INTO refcols
      FROM unnest(c.confkey[2:]) WITH ORDINALITY AS k(n, i)
      JOIN pg_attribute a ON a.attrelid = c.reftbl AND a.attnum = k.n;
    -- The referenced key, per mode (logically implied by the existing
    -- (tenant_id, id) key; a foreign key needs it spelled out).
    idx := left(replace(c.reftbl::text, '"', '') || '_mode_' || replace(replace(refcols, ', ', '_'), '"', '') || '_key', 63);
    IF NOT EXISTS (SELECT 1 FROM pg_class WHERE relname = idx) THEN
      EXECUTE format('CREATE UNIQUE INDEX %I ON %s (tenant_id, livemode, %s)', idx, c.reftbl, refcols);
    END IF;
    EXECUTE format('ALTER TABLE %s DROP CONSTRAINT %I', c.tbl, c.conname);
    EXECUTE format('ALTER TABLE %s ADD CONSTRAINT %I FOREIGN KEY (tenant_id, %s, %s) REFERENCES %s (tenant_id, livemode, %s)%s%s%s%s',
      c.tbl, c.conname, mode, cols, c.reftbl, refcols,
      CASE c.confdeltype WHEN 'c' THEN ' ON DELETE CASCADE' WHEN 'n' THEN ' ON DELETE SET NULL' WHEN 'r' THEN ' ON DELETE RESTRICT' ELSE '' END,
      CASE c.confupdtype WHEN 'c' THEN ' ON UPDATE CASCADE' WHEN 'r' THEN ' ON UPDATE RESTRICT' ELSE '' END,
      CASE WHEN c.condeferrable THEN ' DEFERRABLE' || CASE WHEN c.condeferred THEN ' INITIALLY DEFERRED' ELSE '' END ELSE '' END,
      CASE WHEN c.convalidated THEN '' ELSE ' NOT VALID' END);
  END LOOP;
END $$;

-- delete_test_data deletes every test row of the current tenant (the
-- transaction must be in test mode): test keys bound to a test node,
-- technician or storefront go with them; other test keys, live data and
-- idempotency records stay. It runs as the owner (the application role may
-- not delete most rows) under the same row-level security, so it cannot
-- reach beyond the transaction's tenant and mode. It returns the number of
-- rows deleted.
CREATE FUNCTION delete_test_data() RETURNS bigint
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public AS $$
DECLARE
  tenant  text := app_current_tenant();
  pending text[];
  left_   text[];
  t       text;
  n       bigint;
  total   bigint := 0;
  passes  int := 0;
BEGIN
  IF tenant IS NULL OR app_current_livemode() IS DISTINCT FROM false THEN
    RAISE EXCEPTION 'delete_test_data: the transaction must be a tenant''s test mode' USING ERRCODE = '42501';
  END IF;
  DELETE FROM api_keys WHERE tenant_id = tenant AND NOT live
    AND (node_id IS NOT NULL OR storefront_id IS NOT NULL OR technician_id IS NOT NULL);
  GET DIAGNOSTICS n = ROW_COUNT;
  total := total + n;
  SELECT array_agg(c.table_name::text ORDER BY c.table_name) INTO pending
    FROM information_schema.columns c
    WHERE c.table_schema = 'public' AND c.column_name = 'livemode'
      AND c.table_name NOT IN ('idempotency_keys')
      AND EXISTS (SELECT 1 FROM information_schema.tables x
                  WHERE x.table_schema = 'public' AND x.table_name = c.table_name AND x.table_type = 'BASE TABLE');
  -- Tables are emptied in an order the foreign keys allow: a table still
  -- referenced by test rows elsewhere is retried after the others.
  WHILE cardinality(pending) > 0 LOOP
    passes := passes + 1;
    IF passes > 50 THEN
      RAISE EXCEPTION 'delete_test_data: cannot order the deletion of %', pending;
    END IF;
    left_ := '{}';
    FOREACH t IN ARRAY pending LOOP
      BEGIN
        EXECUTE format('DELETE FROM %I WHERE tenant_id = $1 AND NOT livemode', t) USING tenant;
        GET DIAGNOSTICS n = ROW_COUNT;
        total := total + n;
      EXCEPTION WHEN foreign_key_violation THEN
        left_ := left_ || t;
      END;
    END LOOP;
    pending := left_;
  END LOOP;
  RETURN total;
END $$;
REVOKE ALL ON FUNCTION delete_test_data() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION delete_test_data() TO servicenet_app;

-- Tables of 016-020, written before test mode: the keys a mode could collide on.
ALTER TABLE ticket_number_counters DROP CONSTRAINT ticket_number_counters_pkey,
  ADD PRIMARY KEY (tenant_id, livemode, day);
ALTER TABLE notification_gateways DROP CONSTRAINT notification_gateways_channel_key,
  ADD CONSTRAINT notification_gateways_channel_key UNIQUE (tenant_id, livemode, channel);
-- Each mode numbers its own day (the counter row of the transaction's mode).
CREATE OR REPLACE FUNCTION next_ticket_number(at timestamptz) RETURNS text
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public AS $$
DECLARE
  tenant text := app_current_tenant();
  d      date;
  n      bigint;
BEGIN
  IF tenant IS NULL THEN
    RAISE EXCEPTION 'next_ticket_number: no tenant in this transaction';
  END IF;
  SELECT (at AT TIME ZONE time_zone)::date INTO d FROM tenants WHERE id = tenant;
  UPDATE ticket_number_counters SET last = last + 1 WHERE tenant_id = tenant AND day = d RETURNING last INTO n;
  IF NOT FOUND THEN
    -- the day's first number: continue after any number the day already has
    -- (numbers taken from the sequence before this migration)
    INSERT INTO ticket_number_counters (tenant_id, day, last)
      SELECT tenant, d, coalesce(max(substring(number FROM 13)::bigint), 0) + 1 FROM tickets
      WHERE tenant_id = tenant AND number LIKE 'SN-' || to_char(d, 'YYYYMMDD') || '-%'
      ON CONFLICT (tenant_id, livemode, day) DO UPDATE SET last = ticket_number_counters.last + 1
      RETURNING last INTO n;
  END IF;
  RETURN 'SN-' || to_char(d, 'YYYYMMDD') || '-' || lpad(n::text, greatest(5, length(n::text)), '0');
END $$;
