-- tenants/tickets: the day an invoice is promised by.
--
-- Seed 000 (五.收费): 如用户要求开发票,则必须给用户开发票…若现场未带发票,应与用户
-- 约定再送发票或寄发票. An invoice (on a receipt in tickets.receipts) now
-- carries promised_on, the tenant's calendar day the customer was promised
-- it by: agreed for delivery later or by mail, the day of the request for
-- one handed over on site. The invoices asked for before this migration
-- get the day of their request in the tenant's time zone. Run with the
-- table's row security relaxed and its triggers off (as 084): a migration
-- is not a tenant's write. The backfill is idempotent.
ALTER TABLE tickets NO FORCE ROW LEVEL SECURITY;
ALTER TABLE tickets DISABLE TRIGGER USER;
UPDATE tickets t SET receipts = (
    SELECT jsonb_agg(CASE WHEN r.value ? 'invoice' AND NOT r.value -> 'invoice' ? 'promised_on'
                          THEN jsonb_set(r.value, '{invoice,promised_on}',
                                 to_jsonb(to_char((r.value -> 'invoice' ->> 'requested_at')::timestamptz AT TIME ZONE z.time_zone, 'YYYY-MM-DD')))
                          ELSE r.value END ORDER BY r.ordinality)
      FROM jsonb_array_elements(t.receipts) WITH ORDINALITY r)
  FROM tenants z
 WHERE z.id = t.tenant_id AND t.receipts @? '$[*].invoice ? (!(exists(@.promised_on)))';
ALTER TABLE tickets ENABLE TRIGGER USER;
ALTER TABLE tickets FORCE ROW LEVEL SECURITY;
