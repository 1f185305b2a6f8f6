-- Feed positions. Events used to be read in (txid, seq) order up to the
-- oldest running transaction's xid, which made every tenant's feed wait for
-- any long write transaction anywhere in the cluster (a 10-second network
-- import held back every feed for 10 seconds). Instead, a reader now gives
-- committed events without a position the next positions of their tenant's
-- feed, in (txid, seq) order, under a per-tenant lock, and the feed is read by
-- position. An event that commits late simply gets a later position: a cursor
-- never skips it, and nothing waits on unrelated transactions.
ALTER TABLE events ADD COLUMN position bigint CHECK (position > 0);
CREATE UNIQUE INDEX events_position_idx ON events (tenant_id, position);
CREATE INDEX events_type_position_idx ON events (tenant_id, type, position);
CREATE INDEX events_unpositioned_idx ON events (tenant_id, txid, seq) WHERE position IS NULL;
DROP INDEX events_feed_idx;
DROP INDEX events_type_idx;
-- Events stay append-only except for the position readers assign once.
GRANT UPDATE (position) ON events TO servicenet_app;

-- A node-scoped key names a node of its tenant. NOT VALID: keys made before
-- this check were only format-checked; every new key is checked.
ALTER TABLE api_keys ADD CONSTRAINT api_keys_node_fkey
  FOREIGN KEY (tenant_id, node_id) REFERENCES nodes (tenant_id, id) NOT VALID;
