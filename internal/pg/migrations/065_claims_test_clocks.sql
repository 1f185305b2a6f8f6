-- tenants/claims: claims on test clocks.
--
-- In test mode a claim can live on a test clock (026), as tickets,
-- contracts and payouts do: filed with test_clock_id, taken from the
-- ticket or contract it names, or attached later (POST
-- /v1/test_clocks/{id}/attach). Its filing, deadlines (review_due_at,
-- decision_due_at, 062), the day its coverage is judged on and its later
-- timestamps are the clock's time, and its deadlines are checked when the
-- clock advances (claims.Service.SweepClockDeadlines, from
-- jobs.TestClockAdvanceWorker), not by the wall-clock sweep: the
-- wall-clock question tenants_with_work('claims_deadline_due', now) asks
-- leaves a clock's claims out, as tickets_sla_due does a clock's tickets.
ALTER TABLE claims ADD COLUMN test_clock_id text,
  ADD CONSTRAINT claims_test_clock_fkey FOREIGN KEY (tenant_id, livemode, test_clock_id)
    REFERENCES test_clocks (tenant_id, livemode, id);
CREATE INDEX claims_test_clock_idx ON claims (tenant_id, test_clock_id, deadline_check_at) WHERE test_clock_id IS NOT NULL;

-- Replaced in place, with the same signature: a clock's claims wait for
-- the clock.
CREATE OR REPLACE FUNCTION claims_deadline_due_since(due_by timestamptz) RETURNS timestamptz
LANGUAGE sql STABLE AS $$
  SELECT c.deadline_check_at FROM claims c
  WHERE c.tenant_id = app_current_tenant() AND c.livemode = app_current_livemode()
    AND c.deadline_check_at <= due_by AND c.test_clock_id IS NULL
  ORDER BY c.deadline_check_at LIMIT 1
$$;
