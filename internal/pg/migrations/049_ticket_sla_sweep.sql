-- tenants/tickets: SLA deadlines are checked by a sweep of the tickets,
-- not by a River job per deadline (issue 11: the cost of an intake).
--
-- A ticket's deadlines already live on its row (route_due_at, …,
-- verification_due_at, and the arrival's window_start while scheduled).
-- Until now every change that started a deadline also inserted a River
-- job scheduled at it (an intake one, chaining its four deadlines), and each
-- breach inserted the next escalation level's job. Measured with
-- BenchmarkTickets, that insert (River's InsertManyTx of one unique,
-- scheduled job: its own round trip, the unique key, the args' JSON, five
-- indexes on river_job) was 0.6-0.7 ms of an intake's 3.6-3.8 ms of CPU.
--
-- sla_check_at is when the ticket's deadlines need looking at next: the
-- earliest running deadline as a change writes the ticket, then, once the
-- sweep has looked, the earliest moment a deadline breaches or a breach
-- escalates (the last breach plus the policy's escalation minutes). NULL:
-- nothing to check. It is never later than the first thing due, and may
-- be earlier (a met deadline cleared by a change, a breached one an action
-- writes again): the sweep then finds nothing due and moves it on.
-- tickets.Service.SweepSLA checks each tenant's due tickets every few
-- seconds (jobs.TicketSLASweepArgs); a test clock's tickets are checked on
-- the clock's time when it advances (SweepClockSLA). A ticket's row is
-- written anyway at intake, so its first check costs one more value on
-- that row and one entry in this partial index, not a job.
--
-- Tickets open before this migration get -infinity: the first sweep (or
-- their clock's next advance) computes their next check from their
-- deadlines and breaches. River timer jobs already queued complete without
-- doing anything (jobs.TicketTimerWorker): the sweep covers their deadlines.
-- The update runs with the table's row security relaxed (it stays enabled
-- and is forced again below) and its audit trigger off: a migration is
-- not a tenant's write.
ALTER TABLE tickets ADD COLUMN sla_check_at timestamptz;

ALTER TABLE tickets NO FORCE ROW LEVEL SECURITY;
ALTER TABLE tickets DISABLE TRIGGER USER;
UPDATE tickets SET sla_check_at = '-infinity'
  WHERE state NOT IN ('cancelled', 'closed')
    AND (route_due_at IS NOT NULL OR first_contact_due_at IS NOT NULL OR response_due_at IS NOT NULL
      OR completion_due_at IS NOT NULL OR callback_due_at IS NOT NULL OR verification_due_at IS NOT NULL
      OR (state = 'scheduled' AND window_start IS NOT NULL));
ALTER TABLE tickets ENABLE TRIGGER USER;
ALTER TABLE tickets FORCE ROW LEVEL SECURITY;

-- The sweep's lookup: a tenant's (and mode's) tickets due by a time, on the
-- wall clock (test_clock_id IS NULL) or on one test clock.
CREATE INDEX tickets_sla_check_idx ON tickets (tenant_id, livemode, sla_check_at)
  WHERE sla_check_at IS NOT NULL;

-- sla_check_at is the sweep's bookkeeping, not a fact about the ticket:
-- the audit log leaves it out (as it does secrets), so a sweep that only
-- moves it records nothing, and a creation's row does not show it.
SELECT audit_table('tickets', 'id', '{signoff_code_hash,sla_check_at}');
