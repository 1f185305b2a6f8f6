-- tenants/quality: the scorecards are folded again under the corrected
-- first-time fix rule.
--
-- A repair reopened after its completion was not fixed the first time,
-- whatever becomes of it; the fold counted it so from the reopening on,
-- but a reopened repair then cancelled (the customer withdrew before the
-- second visit) dropped out of first_time_fix_rate altogether, giving its
-- node and technician their first-time fix back. It now stays in the
-- rate, not fixed. The fold applies a rule when it folds a ticket again,
-- which happens only at the ticket's next event, and a cancelled ticket
-- has none: each tenant's fold position goes back to the start of its
-- feed, as migration 077 did, so the next fold recomputes every ticket's
-- contribution under the rules now in force (the fold replaces a ticket's
-- stored fact and moves the daily and monthly rollups by the difference:
-- nothing is counted twice). Grading runs and decisions already made stay
-- as they were. The update runs with the table's row security relaxed (it
-- stays enabled and is forced again below): a migration is not a tenant's
-- write.
ALTER TABLE quality_positions NO FORCE ROW LEVEL SECURITY;
UPDATE quality_positions SET position = 0;
ALTER TABLE quality_positions FORCE ROW LEVEL SECURITY;
