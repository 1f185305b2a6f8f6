-- tenants/customers: a unit on a test clock is reminded of care on the
-- clock.
--
-- Care reminders (031, 076) judged every unit on the wall clock's today:
-- an integrator whose unit's installation or maintenance ticket ran on a
-- test clock (026) advanced the clock past the care interval and no
-- unit.care_due came, and a clock set in the past got reminders the clock
-- had not reached. A unit can now be on a test clock (units.test_clock_id:
-- attached, or taken there by a ticket of it put on the clock when it is
-- on none): its care is judged on the clock's today, and the
-- clock's advance emits what fell due. A replacement unit keeps its
-- predecessor's clock. NULL: the wall clock.
ALTER TABLE units ADD COLUMN test_clock_id text,
  ADD CONSTRAINT units_test_clock_fkey FOREIGN KEY (tenant_id, livemode, test_clock_id)
    REFERENCES test_clocks (tenant_id, livemode, id);
