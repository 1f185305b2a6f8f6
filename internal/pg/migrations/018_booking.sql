-- Owned by tenants/tickets: ticket_number_counters
--
-- Booking: appointments as commitments, priorities with effects, swaps
-- approved within the approver's subtree, gapless ticket numbers and the
-- needs_info verification clock.

-- A technician is never booked for two overlapping windows. A ticket holds
-- its technician's time from the agreed window (scheduled) until the visit
-- ends (on_site); the exclusion constraint is the race-free backstop of the
-- service's locked check (which names the conflicting ticket).
CREATE EXTENSION IF NOT EXISTS btree_gist;
ALTER TABLE tickets ADD CONSTRAINT tickets_technician_booking_excl
  EXCLUDE USING gist (tenant_id WITH =, technician_id WITH =, tstzrange(window_start, window_end) WITH &&)
  WHERE (technician_id IS NOT NULL AND window_start IS NOT NULL AND state IN ('scheduled', 'on_site'));

-- Priority scales the intake deadlines (route, first contact, response,
-- completion): a percentage of the policy's minutes per priority.
ALTER TABLE sla_policies
  ADD COLUMN urgent_percent int NOT NULL DEFAULT 50 CHECK (urgent_percent BETWEEN 10 AND 100),
  ADD COLUMN high_percent int NOT NULL DEFAULT 75 CHECK (high_percent BETWEEN 10 AND 100),
  ADD COLUMN low_percent int NOT NULL DEFAULT 150 CHECK (low_percent BETWEEN 100 AND 400),
  -- needs_info: the information officer or dispatcher verifies within this
  ADD COLUMN verification_minutes int NOT NULL DEFAULT 120 CHECK (verification_minutes BETWEEN 1 AND 10080);

-- needs_info's own clock.
ALTER TABLE tickets ADD COLUMN verification_due_at timestamptz;
ALTER TABLE ticket_sla_breaches DROP CONSTRAINT ticket_sla_breaches_sla_check;
ALTER TABLE ticket_sla_breaches ADD CONSTRAINT ticket_sla_breaches_sla_check
  CHECK (sla IN ('route', 'first_contact', 'response', 'completion', 'callback', 'arrival', 'verification'));
-- The dispatcher's queue in priority order.
CREATE INDEX tickets_priority_idx ON tickets (tenant_id, (CASE priority WHEN 'urgent' THEN 0 WHEN 'high' THEN 1
  WHEN 'normal' THEN 2 ELSE 3 END), id);

-- The node that serves a swap's unit (the node of the unit's ticket): a node
-- manager approves only swaps served in their subtree.
ALTER TABLE swaps ADD COLUMN node_id text;
ALTER TABLE swaps ADD CONSTRAINT swaps_node_fkey FOREIGN KEY (tenant_id, node_id) REFERENCES nodes (tenant_id, id);

-- Gapless ticket numbers: a per-tenant, per-day counter row, incremented in
-- the intake's own transaction as its last step before the ticket row is
-- written; a rolled-back intake rolls its number back. Concurrent intakes of
-- one tenant queue only for the end of each other's transaction.
CREATE TABLE ticket_number_counters (
  tenant_id text NOT NULL REFERENCES tenants (id),
  day       date NOT NULL,
  last      bigint NOT NULL CHECK (last >= 1),
  PRIMARY KEY (tenant_id, day)
);
SELECT enable_tenant_rls('ticket_number_counters');
REVOKE DELETE ON ticket_number_counters FROM servicenet_app;

CREATE OR REPLACE FUNCTION next_ticket_number(at timestamptz) RETURNS text
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public AS $$
DECLARE
  tenant text := app_current_tenant();
  d      date;
  n      bigint;
BEGIN
  IF tenant IS NULL THEN
    RAISE EXCEPTION 'next_ticket_number: no tenant in this transaction';
  END IF;
  SELECT (at AT TIME ZONE time_zone)::date INTO d FROM tenants WHERE id = tenant;
  UPDATE ticket_number_counters SET last = last + 1 WHERE tenant_id = tenant AND day = d RETURNING last INTO n;
  IF NOT FOUND THEN
    -- the day's first number: continue after any number the day already has
    -- (numbers taken from the sequence before this migration)
    INSERT INTO ticket_number_counters (tenant_id, day, last)
      SELECT tenant, d, coalesce(max(substring(number FROM 13)::bigint), 0) + 1 FROM tickets
      WHERE tenant_id = tenant AND number LIKE 'SN-' || to_char(d, 'YYYYMMDD') || '-%'
      ON CONFLICT (tenant_id, day) DO UPDATE SET last = ticket_number_counters.last + 1
      RETURNING last INTO n;
  END IF;
  RETURN 'SN-' || to_char(d, 'YYYYMMDD') || '-' || lpad(n::text, greatest(5, length(n::text)), '0');
END $$;

-- A ticket whose phone is missing or wrong waits in needs_info without a
-- customer (customers are found and created by phone) until it is verified.
ALTER TABLE tickets ALTER COLUMN customer_id DROP NOT NULL;
ALTER TABLE tickets ADD CONSTRAINT tickets_customer_known_check
  CHECK (customer_id IS NOT NULL OR state IN ('needs_info', 'cancelled'));
