-- tenants/audit: the retention masks the audit log too.
--
-- Retention masks a closed ticket's contact and service address at rest
-- (tickets.MaskClosedTx), but the audit log kept them: the ticket's
-- creation in full, every change with its old value, and the masking
-- update itself, recorded by the tickets trigger with the values it masked
-- as its old values. GET /v1/audit showed the brand's staff what the policy
-- says is gone.
--
-- audit_mask_values(object_type, masked) lets the retention's transaction
-- put the masked values in their place (audit.MaskObjectsTx): masked is
-- {"<audit_log id>": {column: value}}, the value a creation recorded (in
-- created_row or a compact creation's "+") or, for a change, {"old": …,
-- "new": …}. The masks are the Go ones of the object's owner (the ticket's
-- MaskPersonal), computed by the caller. Like audit_erase_subject it is a
-- SECURITY DEFINER function, the log's only writers besides its triggers:
-- it rewrites nothing but the personal columns of tickets (contact,
-- address) and customers (name, phones, addresses), the columns
-- tickets.PersonalColumns and customers.PersonalColumns mask, in the
-- current tenant's entries about objects of that type; anything else is an
-- error.
CREATE FUNCTION audit_mask_values(object_type text, masked jsonb) RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public AS $$
DECLARE
  personal text[] := CASE object_type WHEN 'tickets' THEN '{contact,address}'::text[]
                                      WHEN 'customers' THEN '{name,phones,addresses}'::text[] END;
BEGIN
  IF personal IS NULL OR EXISTS (SELECT FROM jsonb_each(masked) m, jsonb_object_keys(m.value) k WHERE k <> ALL (personal)) THEN
    RAISE EXCEPTION 'audit_mask_values: only the personal columns of tickets and customers are masked, not % of %',
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
REVOKE ALL ON FUNCTION audit_mask_values(text, jsonb) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION audit_mask_values(text, jsonb) TO servicenet_app;
