-- tenants/quality: the scorecards are folded again under the corrected rules.
--
-- The KPIs' rules were corrected (repairs only for first-time fix and
-- repeat repairs, consultations out of the remote resolution rate, a
-- reopened ticket not fixed the first time, a window the network missed
-- counted late, repeat windows in calendar days of the tenant's zone). The
-- fold applies a rule when it folds a ticket again, which happens only at
-- the ticket's next event: the tickets folded before kept their old
-- contributions, and the scorecards mixed the two rules. Each tenant's
-- fold position goes back to the start of its feed, so the next fold
-- recomputes every ticket's contribution under the rules now in force
-- (the fold replaces a ticket's stored fact and moves the daily and
-- monthly rollups by the difference: nothing is counted twice). Grading
-- runs and decisions already made stay as they were. The update runs with
-- the table's row security relaxed (it stays enabled and is forced again
-- below): a migration is not a tenant's write.
ALTER TABLE quality_positions NO FORCE ROW LEVEL SECURITY;
UPDATE quality_positions SET position = 0;
ALTER TABLE quality_positions FORCE ROW LEVEL SECURITY;
