-- tenants/testclocks (owner of test_clocks, 026): a storefront's clocks.
--
-- A storefront's own test clocks (issue 14): a storefront key may create
-- and advance test clocks and put its own objects on them. A clock created
-- with a storefront key belongs to that storefront: its keys see, advance
-- and attach to it, other storefronts' keys do not see it (404), and the
-- brand's keys see every clock. The key is in the row's own mode, like
-- every foreign key between tenant tables (021): a test clock belongs to a
-- test storefront.
ALTER TABLE test_clocks ADD COLUMN storefront_id text,
  ADD CONSTRAINT test_clocks_storefront_fkey FOREIGN KEY (tenant_id, livemode, storefront_id)
    REFERENCES storefronts (tenant_id, livemode, id);
CREATE INDEX test_clocks_storefront_idx ON test_clocks (tenant_id, storefront_id, id) WHERE storefront_id IS NOT NULL;
