-- tenants/complaints: a complaint lives on the test clock of the ticket it
-- is about.
--
-- In test mode a ticket can live on a test clock (026) and its deadlines
-- follow the clock; a complaint filed about it took its times from the
-- wall clock: filed_at, the resolution deadline (sla_due_at) and its
-- escalation timer, resolution, rating and closing times. An integrator
-- advancing the clock never saw the complaint's deadline pass. The
-- complaint keeps the ticket's clock from its filing (test_clock_id) and
-- reads its time on it; its SLA timers are parked on the clock and fired
-- by its advance. NULL: the wall clock.
ALTER TABLE complaints ADD COLUMN test_clock_id text,
  ADD CONSTRAINT complaints_test_clock_fkey FOREIGN KEY (tenant_id, livemode, test_clock_id)
    REFERENCES test_clocks (tenant_id, livemode, id);
