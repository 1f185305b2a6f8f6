-- tenants/quality: a repeat repair names the ticket that made it one.
--
-- quality_facts.repeat_after_days said that a unit's completed service was
-- followed by another ticket for the unit within so many days (the
-- repeat-repair KPI, 返修率), but not by which ticket. When that later
-- ticket was cancelled (no repeat repair after all), the fold could not
-- tell which service to take the repeat back from, and the KPI kept it.
-- repeat_by is that later ticket: cancelling it makes the fold recompute
-- the service's repeat from the unit's other tickets (the next one not
-- cancelled, within the long window, or none).
--
-- Facts already marked get the unit's first ticket not cancelled taken in
-- at or after the service's completion; a fact whose only follower was
-- cancelled before this migration keeps its count (no event will fold it
-- again) and has no repeat_by. The update runs with the tables' row
-- security relaxed (it stays enabled and is forced again below): a
-- migration is not a tenant's read or write.
ALTER TABLE quality_facts ADD COLUMN repeat_by text;

ALTER TABLE quality_facts NO FORCE ROW LEVEL SECURITY;
ALTER TABLE tickets NO FORCE ROW LEVEL SECURITY;
UPDATE quality_facts f SET repeat_by = (
    SELECT t.id FROM tickets t
    WHERE t.tenant_id = f.tenant_id AND t.livemode = f.livemode AND t.unit_id = f.unit_id AND t.id <> f.subject_id
      AND t.created_at >= f.completed_at AND t.state <> 'cancelled'
    ORDER BY t.created_at, t.id LIMIT 1)
  WHERE f.repeat_after_days IS NOT NULL AND f.unit_id IS NOT NULL AND f.completed_at IS NOT NULL;
ALTER TABLE tickets FORCE ROW LEVEL SECURITY;
ALTER TABLE quality_facts FORCE ROW LEVEL SECURITY;

-- The fold's lookup when a ticket is cancelled: the services it made repeats.
CREATE INDEX quality_facts_repeat_by_idx ON quality_facts (tenant_id, livemode, repeat_by) WHERE repeat_by IS NOT NULL;
