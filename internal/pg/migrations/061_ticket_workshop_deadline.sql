-- tenants/tickets: the workshop's repair promise is a deadline of its own.
--
-- Seed 002, 4.2.3 维修时效: a complex fault is carried to the service
-- station and repaired there within 3 working days at most
-- (修理时间最长不超过3个工作日). A unit carried in (POST .../carry-in,
-- state carry_in) started no deadline: it could sit at the node for weeks
-- with no breach, no escalation and nothing in the quality KPIs.
--
-- workshop_due_at is the running deadline, like route_due_at and the
-- others (049): set by the carry-in to the receipt's time of day the
-- policy's working days later on the tenant's calendar (tenant_holidays:
-- Monday to Friday less holidays, plus make-up working days, 调休), met
-- by handing the unit back (returned), ended by a swap request or a
-- cancellation, and checked by the sweep through sla_check_at. No ticket
-- is in the workshop with a deadline before this migration: those carried
-- in already keep none (their receipt is on carry_in, but a promise made
-- retroactively would breach most of them at the first sweep).
ALTER TABLE tickets ADD COLUMN workshop_due_at timestamptz;

-- How many working days the workshop has (the seed's 3).
ALTER TABLE sla_policies
  ADD COLUMN workshop_working_days int NOT NULL DEFAULT 3 CHECK (workshop_working_days BETWEEN 1 AND 30);

ALTER TABLE ticket_sla_breaches DROP CONSTRAINT ticket_sla_breaches_sla_check;
ALTER TABLE ticket_sla_breaches ADD CONSTRAINT ticket_sla_breaches_sla_check
  CHECK (sla IN ('route', 'first_contact', 'response', 'completion', 'callback', 'arrival', 'verification', 'workshop'));
