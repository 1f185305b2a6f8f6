-- tenants/tickets: the day an invoice is promised by, and the daily
-- reconciliation's invoice_overdue.
--
-- Seed 000 (五.收费): 如用户要求开发票,则必须给用户开发票…若现场未带发票,应与用户
-- 约定再送发票或寄发票. An invoice (on a receipt in tickets.receipts) now
-- carries promised_on, the tenant's calendar day the customer was promised
-- it by: agreed for delivery later or by mail, the day of the request for
-- one handed over on site. The invoices asked for before this migration
-- get the day of their request in the tenant's time zone. Run with the
-- table's row security relaxed and its triggers off (as 084): a migration
-- is not a tenant's write. The backfills are idempotent.
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

-- invoice_last_issued_at is when the latest issue of an invoice on the
-- ticket's receipts was recorded (NULL when none was). An invoice not
-- issued by the end of its promised day is still outstanding
-- (invoice_requested_at, 091) or was issued after that end: the two
-- columns bound the tickets the reconciliation reads for a day, through
-- indexes (under row-level security only leakproof operators become index
-- conditions, so no index on the receipts' jsonb would be used; a
-- timestamp's comparison is one).
ALTER TABLE tickets ADD COLUMN IF NOT EXISTS invoice_last_issued_at timestamptz;
UPDATE tickets t SET invoice_last_issued_at = (
    SELECT max((r.value -> 'invoice' ->> 'issued_at')::timestamptz) FROM jsonb_array_elements(t.receipts) r)
 WHERE t.invoice_last_issued_at IS NULL AND t.receipts @? '$[*].invoice.issued_at';
ALTER TABLE tickets ENABLE TRIGGER USER;
ALTER TABLE tickets FORCE ROW LEVEL SECURITY;
CREATE INDEX IF NOT EXISTS tickets_invoice_issued_idx ON tickets (tenant_id, invoice_last_issued_at)
  WHERE invoice_last_issued_at IS NOT NULL;

-- invoice_overdue: an invoice promised by the day and not recorded as
-- issued by its end (tickets.ProblemInvoiceOverdue), one finding per
-- ticket and day.
ALTER TABLE reconciliation_findings DROP CONSTRAINT reconciliation_findings_problem_check,
  ADD CONSTRAINT reconciliation_findings_problem_check
    CHECK (problem IN ('no_signoff', 'rating_not_confirmed', 'invoice_overdue'));
