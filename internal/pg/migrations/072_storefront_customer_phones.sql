-- Owned by tenants/customers: customer_storefront_phones
--
-- tenants/customers: a storefront's own view of phones other customers own.
--
-- A storefront key registering a sale with an inline customer found the
-- customer by phone across the whole tenant and linked its unit to that
-- customer, which brought the brand's customer, with every phone and
-- address, into the storefront's scope. Now a storefront finds by phone
-- only customers in its scope: a phone whose owner (customer_phones, the
-- tenant's deduplication index) is outside its scope makes a customer of
-- the storefront's own, which keeps the phone among its phones without
-- owning it. This table is where the storefront finds that customer again:
-- for a storefront and a phone owned outside its scope, the storefront's
-- customer with the phone. The brand's lookups (customer_phones) are as
-- before; GET /v1/customers?phone= shows the brand these customers too, to
-- merge them.
--
-- A GIN index on customers.phones would not do: under row-level security
-- only leakproof operators become index conditions, and array containment
-- is not one; equality on text is.
CREATE TABLE customer_storefront_phones (
  tenant_id      text NOT NULL,
  livemode       boolean NOT NULL DEFAULT true,
  phone          text NOT NULL,
  storefront_id  text NOT NULL,
  customer_id    text NOT NULL,
  PRIMARY KEY (tenant_id, livemode, phone, storefront_id),
  FOREIGN KEY (tenant_id, livemode, customer_id) REFERENCES customers (tenant_id, livemode, id) ON DELETE CASCADE,
  FOREIGN KEY (tenant_id, livemode, storefront_id) REFERENCES storefronts (tenant_id, livemode, id)
);
CREATE INDEX customer_storefront_phones_customer_idx ON customer_storefront_phones (tenant_id, customer_id);
SELECT enable_tenant_rls('customer_storefront_phones');
-- Rows are written and deleted, never changed.
REVOKE UPDATE ON customer_storefront_phones FROM servicenet_app;
