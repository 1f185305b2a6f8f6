-- tenants/audit: the retention masks the audit log's record of visits too.
--
-- The retention masks a closed ticket's visits' product locations at rest
-- with its contact (071), but audit_mask_values (070) masked only the
-- tickets' and customers' entries: the visits' creations and changes kept
-- the location in the clear (the masking's own change too, its old value),
-- readable by the brand's staff in GET /v1/audit after the retention.
-- audit_mask_values now also rewrites ticket_visits entries, their
-- exception only (tickets.VisitPersonalColumns: the exception with its
-- product location masked); anything else is still an error.
CREATE OR REPLACE FUNCTION audit_mask_values(object_type text, masked jsonb) RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public AS $$
DECLARE
  personal text[] := CASE object_type WHEN 'tickets' THEN '{contact,address}'::text[]
                                      WHEN 'customers' THEN '{name,phones,addresses}'::text[]
                                      WHEN 'ticket_visits' THEN '{exception}'::text[] END;
BEGIN
  IF personal IS NULL OR EXISTS (SELECT FROM jsonb_each(masked) m, jsonb_object_keys(m.value) k WHERE k <> ALL (personal)) THEN
    RAISE EXCEPTION 'audit_mask_values: only the personal columns of tickets, customers and ticket visits are masked, not % of %',
      (SELECT array_agg(DISTINCT k) FROM jsonb_each(masked) m, jsonb_object_keys(m.value) k), object_type;
  END IF;
  UPDATE audit_log a
     SET created_row = CASE WHEN a.created_row IS NULL THEN NULL ELSE (a.created_row::jsonb || m.value)::json END,
         changes = CASE WHEN a.created_row IS NOT NULL THEN a.changes
                        WHEN a.changes ? '+' THEN jsonb_build_object('+', (a.changes -> '+') || m.value)
                        ELSE a.changes || m.value END
    FROM jsonb_each(masked) m
   WHERE a.tenant_id = app_current_tenant() AND a.id = m.key::bigint AND a.object_type = audit_mask_values.object_type;
END $$;
