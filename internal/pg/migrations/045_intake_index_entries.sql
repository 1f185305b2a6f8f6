-- tenants/events: fewer index entries per intake and per claim (issue 11:
-- Postgres's work per write).
--
-- Measured with BenchmarkIntakeFloor (the rows of an intake replayed,
-- pg_stat_statements wal_records): 70.3 WAL records and 17.4 kB of WAL
-- per intake before, 64.1 and 16.8 kB after (a claim: 31.0 and 29.0); every
-- index entry is one record and one B-tree descent.
--
-- Events are inserted without a feed position (NULL) and given one
-- later, by the first reader (events.sequence). events_position_idx and
-- events_type_position_idx indexed the NULL of every new event, an entry
-- nothing reads: the feed reads positions above a cursor (position > $n,
-- which implies NOT NULL), the sequencer max(position) (the planner adds
-- position IS NOT NULL itself) and the unpositioned events through
-- events_unpositioned_idx. Both become partial: position IS NOT NULL.
-- The positioning UPDATE writes them as before. Verified with EXPLAIN
-- (400,000 events, under the application role's row-level security):
-- the feed page, the typed feed page and max(position) still use
-- events_position_idx (index scan, resp. index-only scan backward).
--
-- Not done here: events, tickets and customers keep two unique keys on
-- their ID, the primary key (tenant_id, id) and 021's (tenant_id,
-- livemode, id) for the mode-carrying foreign keys; every insert writes
-- both, every non-HOT ticket update both again. Making the second the
-- primary key and dropping the first saved 4.5 more WAL records per
-- intake (59.5 instead of 64), and lookups by id kept their index scans
-- (EXPLAIN under RLS), but the joins that reach these tables by id
-- (customer by phone, webhook deliveries to events, findings and breaches
-- to tickets, …) then planned tenant-wide scans of the primary key on a
-- new tenant's few rows (auto_explain; the customer-by-phone join read
-- 816 buffers per intake instead of 8 in 2 of 4 runs); each join would
-- need checking first.
--
-- Citus: every primary and unique key still begins with tenant_id; no
-- distribution changes (deploy/citus.md).

DROP INDEX events_position_idx;
CREATE UNIQUE INDEX events_position_idx ON events (tenant_id, livemode, position) WHERE position IS NOT NULL;
DROP INDEX events_type_position_idx;
CREATE INDEX events_type_position_idx ON events (tenant_id, type, position) WHERE position IS NOT NULL;
