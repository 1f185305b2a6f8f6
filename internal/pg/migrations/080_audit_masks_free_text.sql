-- tenants/audit: the retention and the erasure mask the free texts the
-- audit log recorded of a ticket.
--
-- A customer's fault as they described it ("please call my wife on
-- 13800138000"), a technician's notes and the customer's comment at the
-- sign-off hold personal data as the contact does. The retention and the
-- erasure now mask them in the ticket (privacy.MaskText: numbers, and the
-- contact's and customer's names) and in what the log recorded of it
-- (tickets.FreeTextColumns: the fault, diagnosis and rating_comment
-- columns). audit_mask_values (073) refused any column of tickets but the
-- contact and the address; it now takes those three too. Anything else is
-- still an error.
CREATE OR REPLACE FUNCTION audit_mask_values(object_type text, masked jsonb) RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public AS $$
DECLARE
  personal text[] := CASE object_type WHEN 'tickets' THEN '{contact,address,fault,diagnosis,rating_comment}'::text[]
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
