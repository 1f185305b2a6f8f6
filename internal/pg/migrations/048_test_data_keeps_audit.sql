-- tenants/identity: deleting a tenant's test data leaves its audit log
-- alone (DELETE /v1/test-data).
--
-- delete_test_data (021) emptied every table with a livemode column but
-- idempotency_keys, and so the test mode's audit_log too: a fresh test
-- tenant reported 3 rows deleted where the API showed 2 test events (the
-- third was the audit entry of the test admin key's creation, while the
-- key itself stays). And it emptied it only in part: the tables are
-- emptied in name order, so the audit log went after api_keys (the bound
-- test keys' deletions vanished with it) and before every other audited
-- table, whose deletions it then recorded.
--
-- The audit log is append-only (022; the one exception is an erasure's
-- scrubbing of personal values): it keeps what the test mode did, and now
-- records every row the deletion removes, the bound test keys included,
-- as deletes by the caller. The count is the rows of the test data itself.
CREATE OR REPLACE FUNCTION delete_test_data() RETURNS bigint
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
      AND c.table_name NOT IN ('idempotency_keys', 'audit_log')
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
