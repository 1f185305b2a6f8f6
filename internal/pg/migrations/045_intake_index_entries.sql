-- tenants/events, tenants/tickets, tenants/customers: fewer index entries
-- per intake and per claim (issue 11: Postgres's work per write).
--
-- Measured with BenchmarkIntakeFloor (the rows of an intake replayed,
-- pg_stat_statements wal_records): 70.3 WAL records and 17.5 kB of WAL per
-- intake before, 59.5 and 16.2 kB after; every index entry is one record
-- and one B-tree descent.
--
-- 1. Events are inserted without a feed position (NULL) and given one
--    later, by the first reader (events.sequence). events_position_idx and
--    events_type_position_idx indexed the NULL of every new event, an entry
--    nothing reads: the feed reads positions above a cursor (position > $n,
--    which implies NOT NULL), the sequencer max(position) (the planner adds
--    position IS NOT NULL itself) and the unpositioned events through
--    events_unpositioned_idx. Both become partial: position IS NOT NULL.
--    The positioning UPDATE writes them as before. Verified with EXPLAIN
--    (400,000 events, under the application role's row-level security):
--    the feed page, the typed feed page and max(position) still use
--    events_position_idx (index scan, resp. index-only scan backward).
-- 2. events, tickets and customers had two unique keys on their ID:
--    the primary key (tenant_id, id) and (tenant_id, livemode, id), which
--    021 added for the composite foreign keys that carry the mode (and
--    which their foreign keys use). Every insert wrote both, and every
--    non-HOT update of a ticket (each state change) both again. The
--    mode's key becomes the primary key and the other goes, as 044 did
--    for claims. IDs are random: unique per tenant and mode is unique.
--    Lookups by (tenant_id, id) now go through (tenant_id, livemode, id)
--    with the mode from row-level security (app.livemode) as an index
--    condition: verified with EXPLAIN under the application role for a
--    ticket by id (FOR UPDATE), a page of tickets and of customers by id
--    (index-only scan in id order) and tickets by id = ANY.
--    Units keep both: care_reminders (031) refers to units_pkey.
--
-- Citus: every primary and unique key still begins with tenant_id; no
-- distribution changes (deploy/citus.md).

DROP INDEX events_position_idx;
CREATE UNIQUE INDEX events_position_idx ON events (tenant_id, livemode, position) WHERE position IS NOT NULL;
DROP INDEX events_type_position_idx;
CREATE INDEX events_type_position_idx ON events (tenant_id, type, position) WHERE position IS NOT NULL;

ALTER TABLE events DROP CONSTRAINT events_pkey,
  ADD CONSTRAINT events_pkey PRIMARY KEY USING INDEX events_mode_id_key;
ALTER TABLE tickets DROP CONSTRAINT tickets_pkey,
  ADD CONSTRAINT tickets_pkey PRIMARY KEY USING INDEX tickets_mode_id_key;
ALTER TABLE customers DROP CONSTRAINT customers_pkey,
  ADD CONSTRAINT customers_pkey PRIMARY KEY USING INDEX customers_mode_id_key;
