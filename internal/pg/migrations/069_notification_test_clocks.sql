-- tenants/notifications: a message about an object on a test clock expires
-- on the clock.
--
-- A ticket on a test clock (026) sends its sign-off code with an expiry on
-- the clock's time (15 minutes after it). The notification judged that
-- expiry by the wall clock: on a clock set in the past the code had
-- "expired before it could be delivered" through the gateway, and the
-- notification.requested event went out without it, so no code-confirmed
-- sign-off was possible on the clock. A notification now records the
-- clock its subject is on (test_clock_id, NULL for none, a foreign key in
-- the row's own mode as the other attachable tables have it); its expiry
-- is compared with the clock's time, and the erasure of an expired secret
-- waits for the clock (a parked job the clock's advance fires).
ALTER TABLE notifications ADD COLUMN test_clock_id text,
  ADD CONSTRAINT notifications_test_clock_fkey FOREIGN KEY (tenant_id, livemode, test_clock_id)
    REFERENCES test_clocks (tenant_id, livemode, id);
CREATE INDEX notifications_test_clock_idx ON notifications (tenant_id, test_clock_id) WHERE test_clock_id IS NOT NULL;
