-- Owned by tenants/catalog: model_warranty_promotion_terms (exported view)
--
-- tenants/customers: the retention keeps a customer while a unit of theirs
-- is under a warranty promotion's longer term.
--
-- The retention (082) keeps a customer through the last day of each of
-- their units' manufacturer warranties, weighing the model's months
-- (model_warranty_terms: the whole unit's or a longer key part's). A unit
-- bought within a warranty promotion's window (086; seed 003: washers
-- bought 3月1日-5月3日 get 三年免费保修) is under the brand's warranty for
-- the promotion's term: the entitlement engine decides it so and the
-- extended warranty starts after it. The retention did not know: it masked
-- the customer, and released their phone, up to two years before the brand
-- stopped owing the unit free repairs. The catalog now exports each
-- promotion's window and term; the retention weighs the longest term of
-- the promotions whose window holds the unit's purchase date.
CREATE VIEW model_warranty_promotion_terms WITH (security_invoker = true) AS
  SELECT m.tenant_id, m.id AS model_id,
         (p->>'purchased_from')::date AS purchased_from,
         (p->>'purchased_through')::date AS purchased_through,
         (p->>'warranty_months')::int AS warranty_months
  FROM product_models m, jsonb_array_elements(m.warranty_promotions) AS p;
