-- tenants/swaps: swaps on test clocks.
--
-- In test mode a swap lives on the test clock of what it was asked for
-- (026): the ticket that requested it (POST /v1/tickets/{id}/swap, an
-- exchange outcome), else the plan contract it names or is evaluated
-- under. On its clock the swap's day is the clock's: the plan in force and
-- the depreciation fee's month of ownership are judged on it, and the
-- replacement it hands over is bought on it (its warranty starts then).
-- NULL: the wall clock.
ALTER TABLE swaps ADD COLUMN test_clock_id text,
  ADD CONSTRAINT swaps_test_clock_fkey FOREIGN KEY (tenant_id, livemode, test_clock_id)
    REFERENCES test_clocks (tenant_id, livemode, id);
