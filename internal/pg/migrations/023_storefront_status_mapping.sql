-- Storefront status mapping (tenants/customers' storefronts): each
-- marketplace speaks its own status codes (Tmall, JD). A storefront may carry
-- a mapping from our ticket and claim states to its codes; webhooks to its
-- endpoints then carry both. The service checks that a mapping is total
-- (every ticket state and every claim state has a code).
ALTER TABLE storefronts ADD COLUMN status_mapping jsonb
  CHECK (status_mapping IS NULL OR (jsonb_typeof(status_mapping) = 'object'
         AND jsonb_typeof(status_mapping -> 'tickets') = 'object'
         AND jsonb_typeof(status_mapping -> 'claims') = 'object'));
