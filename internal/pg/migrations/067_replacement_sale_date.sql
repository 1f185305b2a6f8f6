-- tenants/customers: a replacement unit remembers the sale it came from.
--
-- A swap registers the replacement with the swap's day as its purchase
-- date: the warranty (and the three guarantees) count from the exchange.
-- But the seven-day no-reason return or exchange (rule 9, 七天无理由退换货)
-- is the seller's promise on its sale, counted from the customer's
-- receipt of the goods it sold: a replacement handed over by a swap is no
-- new sale. Counted from the swap day, a storefront's unit swapped months
-- after its sale could be returned "without reason" in the week after the
-- swap, and the storefront refunded its whole price.
--
-- original_purchase_date is the purchase date of the unit first sold, for
-- a unit that replaced another (carried along a chain of swaps); NULL for a
-- unit sold as itself. Units already handed over by swaps get theirs from
-- the chain of replaced_by, with the table's row security relaxed for the
-- update (a migration is not a tenant's write; forced again below).
ALTER TABLE units ADD COLUMN original_purchase_date date;

ALTER TABLE units NO FORCE ROW LEVEL SECURITY;
WITH RECURSIVE chain AS (
    SELECT o.tenant_id, o.replaced_by AS id, o.purchase_date AS first_sold
    FROM units o
    WHERE o.replaced_by IS NOT NULL
      AND NOT EXISTS (SELECT FROM units p WHERE p.tenant_id = o.tenant_id AND p.replaced_by = o.id)
  UNION ALL
    SELECT u.tenant_id, u.replaced_by, c.first_sold
    FROM chain c JOIN units u ON u.tenant_id = c.tenant_id AND u.id = c.id
    WHERE u.replaced_by IS NOT NULL
)
UPDATE units n SET original_purchase_date = c.first_sold
  FROM chain c WHERE n.tenant_id = c.tenant_id AND n.id = c.id;
ALTER TABLE units FORCE ROW LEVEL SECURITY;
