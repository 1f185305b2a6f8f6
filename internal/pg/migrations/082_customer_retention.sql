-- Owned by tenants/tickets: customer_ticket_ends (exported view)
-- Owned by tenants/complaints: customer_complaint_ends (exported view)
-- Owned by tenants/catalog: model_warranty_terms (exported view)
-- Owned by tenants/warranty: unit_contract_ends (exported view)
--
-- tenants/customers: the retention masks customers too.
--
-- The privacy policy's retention_days masked a closed ticket's personal
-- data at rest (tickets.MaskEndedTx) but the customer record kept its name,
-- phones and addresses for ever, found by phone in customer_phones and
-- customer_storefront_phones: PIPL (art. 19) keeps personal data no longer
-- than its purpose needs. The brand's purpose is to serve the customer: it
-- ends when the customer has nothing open with the brand and the brand
-- owes their units nothing more. The retention job now masks a customer
-- (customers.MaskRetainedTx) retention_days after the last of:
--   * the customer record's last change (created_at for one never changed);
--   * the end of each of its tickets (closed or cancelled; a ticket in any
--     other state, resolved included, keeps the customer as long as it is
--     open) and of each of its complaints (closed);
--   * the registration of each of its units, and the last day of each
--     unit's manufacturer warranty (the longest of the whole-unit and key
--     part terms, from the purchase date) and of each of its contracts (its
--     ends_on; a cancelled or consumed contract's end is the day it was
--     cancelled or consumed).
-- Masked as a reader without the right to see it sees it (王*,
-- 138****8000, 北京市朝阳区****, no postal code; region codes stay), in the
-- customer and in the audit log's entries of it (audit_mask_values, 070),
-- and its phones are released: a phone lookup no longer finds it, and the
-- phone may register again as a new customer. The customer keeps its id,
-- units, tickets and claims; masked_at says when. Idempotent: a customer
-- masked or erased is not read again.
--
-- The owners export what the rule weighs, as views (the pattern of 043:
-- plain projections, security_invoker, so the caller's row-level security
-- applies beneath).
ALTER TABLE customers ADD COLUMN masked_at timestamptz;

-- tenants/tickets: each ticket of a customer and when it ended (closed or
-- cancelled); NULL while it has not.
CREATE VIEW customer_ticket_ends WITH (security_invoker = true) AS
  SELECT tenant_id, customer_id, id AS ticket_id,
         CASE state WHEN 'closed' THEN coalesce(closed_at, updated_at)
                    WHEN 'cancelled' THEN coalesce(cancelled_at, updated_at) END AS ended_at
  FROM tickets;

-- tenants/complaints: each complaint of a customer and when it was closed;
-- NULL while it is not.
CREATE VIEW customer_complaint_ends WITH (security_invoker = true) AS
  SELECT tenant_id, customer_id, id AS complaint_id,
         CASE state WHEN 'closed' THEN coalesce(closed_at, updated_at) END AS ended_at
  FROM complaints;

-- The retention reads a customer's complaints by customer, as it reads its
-- tickets (tickets_customer_idx) and units (units_customer_idx): without an
-- index each candidate would scan the tenant's complaints.
CREATE INDEX complaints_customer_idx ON complaints (tenant_id, customer_id) WHERE customer_id IS NOT NULL;

-- tenants/catalog: the longest manufacturer warranty of a model, in months
-- from purchase: the whole unit's, or a key part's when longer.
CREATE VIEW model_warranty_terms WITH (security_invoker = true) AS
  SELECT tenant_id, id AS model_id,
         greatest(warranty_months, (SELECT max(v::int) FROM jsonb_each_text(key_part_warranty_months) AS k(c, v))) AS warranty_months
  FROM product_models;

-- tenants/warranty: the last day each contract of a unit covers it, or
-- covered it: its ends_on, or the day it was cancelled or consumed.
CREATE VIEW unit_contract_ends WITH (security_invoker = true) AS
  SELECT tenant_id, unit_id, id AS contract_id,
         CASE WHEN state IN ('cancelled', 'consumed') THEN least(ends_on, state_changed_at::date) ELSE ends_on END AS ends_on
  FROM contracts;

