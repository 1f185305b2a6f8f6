-- tenants/tickets: a visit exception's product location is personal data.
--
-- A technician who finds the product elsewhere (product_elsewhere) reports
-- where it is: an address of the customer's ("客户父母家，崂山区海尔路8号").
-- It was kept in ticket_visits.exception and repeated on the timeline,
-- shown in full to whoever reads the ticket (the auditor, a technician after
-- the grace period) while the ticket's own address was masked, and neither
-- the erasure nor the retention reached it. Now the visit keeps it (masked
-- on read like the service address, erased and masked at rest with the
-- ticket's contact) and the timeline, append-only, no longer repeats it.
-- This migration brings the rows already written into line:
--
-- 1. Timeline entries of visit exceptions lose their product location (the
--    visit keeps it).
-- 2. Visits of tickets already erased get [erased]; of tickets already
--    masked at rest, the masked form (privacy.MaskAddressLine: the line up
--    to its last 区, 县, 市, 镇 or 旗 within the first 12 characters, else
--    its first two, then ****). The audit trigger is off for this update:
--    it would copy the very values it removes into the append-only log.
-- 3. audit_erase_subject also scrubs the product locations the log
--    recorded of the erased customer's visits (object ticket_visits, named
--    by the ticket).
--
-- 4. An intake whose phone was no phone number had the number written into
--    its verification item ("the phone number 1395555012 is not a valid
--    phone number ..."), unmasked for whoever saw the ticket's contact
--    masked, and out of the erasure's and the retention's reach. The
--    problem now names the field ("contact.phone is not a valid phone
--    number ..."); the tickets' verification, the timeline's copies and the
--    audit log's values written before are rewritten the same way (the
--    tickets' audit trigger off for it, as in 2).
--
-- A migration is not a tenant's write: the tables' row security is relaxed
-- for the updates and forced again after them.

ALTER TABLE ticket_timeline NO FORCE ROW LEVEL SECURITY;
UPDATE ticket_timeline SET detail = detail #- '{exception,product_location}'
  WHERE action = 'visit_exception_recorded' AND detail -> 'exception' ? 'product_location';
ALTER TABLE ticket_timeline FORCE ROW LEVEL SECURITY;

ALTER TABLE tickets NO FORCE ROW LEVEL SECURITY;
ALTER TABLE ticket_visits NO FORCE ROW LEVEL SECURITY;
ALTER TABLE ticket_visits DISABLE TRIGGER ticket_visits_audit;
UPDATE ticket_visits v SET exception = jsonb_set(v.exception, '{product_location}', to_jsonb(
    CASE WHEN t.contact ->> 'phone' = '[erased]' THEN '[erased]'
    ELSE coalesce(substring(left(v.exception ->> 'product_location', 12) FROM '^(.*[区县市镇旗])'),
                  CASE WHEN char_length(v.exception ->> 'product_location') > 2 THEN left(v.exception ->> 'product_location', 2) ELSE '' END)
         || '****' END))
  FROM tickets t
  WHERE t.tenant_id = v.tenant_id AND t.id = v.ticket_id AND jsonb_typeof(v.exception -> 'product_location') = 'string'
    AND (t.contact ->> 'phone' = '[erased]' OR t.contact ->> 'phone' LIKE '%****%')
    AND v.exception ->> 'product_location' NOT IN ('', '[erased]') AND v.exception ->> 'product_location' NOT LIKE '%****';
ALTER TABLE ticket_visits ENABLE TRIGGER ticket_visits_audit;
ALTER TABLE ticket_visits FORCE ROW LEVEL SECURITY;
ALTER TABLE tickets FORCE ROW LEVEL SECURITY;

-- audit_erase_subject (040), and the visits: a customer's entries lose every
-- value, its tickets' entries their contact and address, its tickets'
-- visits' entries the product location (created rows, compact creations
-- and diffs alike).
CREATE OR REPLACE FUNCTION audit_erase_subject(customer text, tickets text[]) RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public AS $$
BEGIN
  UPDATE audit_log SET changes = (SELECT coalesce(jsonb_object_agg(e.key, '{"old": "[erased]", "new": "[erased]"}'::jsonb), '{}')
                                  FROM jsonb_each(audit_entry_changes(changes, created_row)) e),
                       created_row = NULL
    WHERE tenant_id = app_current_tenant() AND object_type = 'customers' AND object_id = customer;
  UPDATE audit_log SET changes = CASE WHEN changes ? '+' THEN jsonb_build_object('+', (changes -> '+') - 'contact' - 'address')
                                      ELSE changes - 'contact' - 'address' END,
                       created_row = (created_row::jsonb - 'contact' - 'address')::json
    WHERE tenant_id = app_current_tenant() AND object_type = 'tickets' AND object_id = ANY (tickets)
      AND (changes ? 'contact' OR changes ? 'address' OR (changes -> '+') ?| ARRAY['contact', 'address'] OR created_row IS NOT NULL);
  UPDATE audit_log SET
      changes = (SELECT coalesce(jsonb_object_agg(e.key, CASE
                   WHEN e.key = '+' AND e.value -> 'exception' ? 'product_location'
                     THEN jsonb_set(e.value, '{exception,product_location}', '"[erased]"')
                   WHEN e.key = 'exception' THEN
                     (SELECT coalesce(jsonb_object_agg(s.key, CASE WHEN jsonb_typeof(s.value) = 'object' AND s.value ? 'product_location'
                        THEN jsonb_set(s.value, '{product_location}', '"[erased]"') ELSE s.value END), '{}')
                        FROM jsonb_each(e.value) s)
                   ELSE e.value END), '{}')
                 FROM jsonb_each(changes) e),
      created_row = CASE WHEN created_row::jsonb -> 'exception' ? 'product_location'
                      THEN jsonb_set(created_row::jsonb, '{exception,product_location}', '"[erased]"')::json
                      ELSE created_row END
    WHERE tenant_id = app_current_tenant() AND object_type = 'ticket_visits' AND object_id = ANY (tickets)
      AND (created_row IS NOT NULL OR changes ? '+' OR changes ? 'exception');
END $$;

-- 4. The phone in verification problems.
ALTER TABLE tickets NO FORCE ROW LEVEL SECURITY;
ALTER TABLE tickets DISABLE TRIGGER tickets_audit;
UPDATE tickets SET verification = regexp_replace(verification::text, 'the phone number [^"]*? is not a valid phone number',
    'contact.phone is not a valid phone number', 'g')::jsonb
  WHERE verification::text LIKE '%the phone number % is not a valid phone number%';
ALTER TABLE tickets ENABLE TRIGGER tickets_audit;
ALTER TABLE tickets FORCE ROW LEVEL SECURITY;
ALTER TABLE ticket_timeline NO FORCE ROW LEVEL SECURITY;
UPDATE ticket_timeline SET detail = regexp_replace(detail::text, 'the phone number [^"]*? is not a valid phone number',
    'contact.phone is not a valid phone number', 'g')::jsonb
  WHERE detail ? 'verification' AND detail::text LIKE '%the phone number % is not a valid phone number%';
ALTER TABLE ticket_timeline FORCE ROW LEVEL SECURITY;
ALTER TABLE audit_log NO FORCE ROW LEVEL SECURITY;
UPDATE audit_log SET
    changes = regexp_replace(changes::text, 'the phone number [^"]*? is not a valid phone number',
      'contact.phone is not a valid phone number', 'g')::jsonb,
    created_row = regexp_replace(created_row::text, 'the phone number [^"]*? is not a valid phone number',
      'contact.phone is not a valid phone number', 'g')::json
  WHERE object_type = 'tickets'
    AND (changes::text LIKE '%the phone number % is not a valid phone number%'
      OR created_row::text LIKE '%the phone number % is not a valid phone number%');
ALTER TABLE audit_log FORCE ROW LEVEL SECURITY;
