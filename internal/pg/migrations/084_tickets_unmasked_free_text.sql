-- tenants/tickets: the retention masks the free texts of the tickets it
-- masked before it masked free texts.
--
-- Since 080 (privacy.MaskText) the retention (tickets.MaskEndedTx) and the
-- erasure mask a ticket's free texts (the fault's symptom and request, the
-- diagnosis's notes, the customer's comment) with its contact, in the
-- ticket and in the audit log. The tickets they masked before kept them in
-- the clear ("钱七白天不在, 请打 138-0013-8000 找他妻子" beside a contact
-- 钱* 139****0101), and the retention never read them again: it selects
-- the tickets whose contact is still in the clear. Those masked before 070
-- kept their contact and address in the clear in the audit log too.
--
-- tickets.unmasked_free_text marks them: true on a ticket whose contact
-- is masked or erased at rest while its free texts, or the audit log's
-- copy of its contact, may still be in the clear. The retention masks
-- them (a batch an hour, after the tickets newly past retention) and
-- clears the mark; an erasure clears it too. Nothing sets it again: the
-- retention and the erasure now mask everything in one update, so the
-- marked tickets are a fixed set that only shrinks, and intake writes
-- nothing for it (NULL, the column's default; its index is partial on
-- true, a value intake rows never have).
--
-- Marked: a ticket whose contact's phone is masked (****) or [erased]
-- with a free text that is not empty (one whose texts were masked since
-- 080 is read once more and stays as it is: MaskText leaves masked text
-- alone), or whose creation in the audit log still holds a phone in the
-- clear. Run with the table's row security relaxed and its triggers off
-- (as 049): a migration is not a tenant's write. Idempotent.
ALTER TABLE tickets ADD COLUMN IF NOT EXISTS unmasked_free_text boolean;

ALTER TABLE tickets NO FORCE ROW LEVEL SECURITY;
ALTER TABLE tickets DISABLE TRIGGER USER;
UPDATE tickets t SET unmasked_free_text = true
 WHERE t.unmasked_free_text IS NULL
   AND (t.contact ->> 'phone' LIKE '%****%' OR t.contact ->> 'phone' = '[erased]')
   AND (coalesce(t.fault ->> 'symptom', '') <> '' OR coalesce(t.fault ->> 'customer_request', '') <> ''
        OR coalesce(t.diagnosis ->> 'notes', '') <> '' OR coalesce(t.rating_comment, '') <> ''
        OR EXISTS (SELECT FROM audit_log a
                    WHERE a.tenant_id = t.tenant_id AND a.object_id = t.id AND a.object_type = 'tickets' AND a.action = 'create'
                      AND coalesce(a.created_row::jsonb, a.changes -> '+') -> 'contact' ->> 'phone' NOT LIKE '%****%'
                      AND coalesce(a.created_row::jsonb, a.changes -> '+') -> 'contact' ->> 'phone' <> '[erased]'));
ALTER TABLE tickets ENABLE TRIGGER USER;
ALTER TABLE tickets FORCE ROW LEVEL SECURITY;

-- The retention's lookup of a tenant's (and mode's) marked tickets: empty
-- once they are masked.
CREATE INDEX IF NOT EXISTS tickets_unmasked_free_text_idx ON tickets (tenant_id, livemode, id) WHERE unmasked_free_text;

-- The mark is the retention's bookkeeping, not a fact about the ticket:
-- the audit log leaves it out (as sla_check_at).
SELECT audit_table('tickets', 'id', '{signoff_code_hash,sla_check_at,unmasked_free_text}');

-- A marked ticket keeps its customer in the clear until its texts are
-- masked: the only name left to look for in them is its customer's (its
-- contact's is masked), and the customers' retention runs beside the
-- tickets' with a batch of its own. customer_ticket_ends (082) shows a
-- marked ticket as not ended.
CREATE OR REPLACE VIEW customer_ticket_ends WITH (security_invoker = true) AS
  SELECT tenant_id, customer_id, id AS ticket_id,
         CASE WHEN unmasked_free_text THEN NULL
              ELSE CASE state WHEN 'closed' THEN coalesce(closed_at, updated_at)
                              WHEN 'cancelled' THEN coalesce(cancelled_at, updated_at) END END AS ended_at
  FROM tickets;
