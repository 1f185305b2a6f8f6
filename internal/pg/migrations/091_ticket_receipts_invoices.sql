-- tenants/tickets: a receipt for every charge, and the invoice a customer
-- asks for.
--
-- Seed 000 (五.收费): 严格按收费标准进行收费,并开具收据,如用户要求开发票,则必须
-- 给用户开发票…若现场未带发票,应与用户约定再送发票或寄发票; seed 003 (Midea,
-- 二公开): 收费后为用户开示记录. A completion that charges the customer
-- issues a receipt: receipts holds them, one per charging completion (a
-- ticket reopened and charged again has two), each with the lines and total
-- the customer paid, who collected it and the invoice asked for on it. A
-- receipt is never rewritten: a refund later (a promise upheld after the
-- completion) is its own record (the payout), not a change to the receipt.
--
-- invoice_requested_at is when the oldest invoice asked for and not yet
-- issued was asked for (NULL when none is outstanding): the open
-- obligations the brand's finance team works through (listTickets
-- invoice_outstanding=true).
ALTER TABLE tickets
  ADD COLUMN receipts jsonb NOT NULL DEFAULT '[]' CHECK (jsonb_typeof(receipts) = 'array'),
  ADD COLUMN invoice_requested_at timestamptz;
CREATE INDEX tickets_invoice_outstanding_idx ON tickets (tenant_id, livemode, invoice_requested_at) WHERE invoice_requested_at IS NOT NULL;

-- An invoice's title of a person and its mailing address are personal data
-- (tickets.PersonalColumns: receipts): the retention and the erasure mask
-- them in the ticket and in what the audit log recorded of it.
-- audit_mask_values (080) now takes the tickets' receipts too.
CREATE OR REPLACE FUNCTION audit_mask_values(object_type text, masked jsonb) RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public AS $$
DECLARE
  personal text[] := CASE object_type WHEN 'tickets' THEN '{contact,address,fault,diagnosis,rating_comment,receipts}'::text[]
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
