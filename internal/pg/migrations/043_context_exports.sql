-- Owned by tenants/identity: tenant_day() (exported function)
-- Owned by tenants/network: node_profiles (exported view), technician_profiles (exported view)
-- Owned by tenants/tickets: ticket_workload (exported view)
-- Owned by tenants/catalog: model_summaries (exported view)
-- Owned by tenants/customers: unit_models (exported view)
-- Owned by tenants/events: event_payloads (exported view)
--
-- What each context lets the others name in SQL (issue 16, item 2). A
-- context's tables are its own: another context reaches their rows through
-- the owner's exported …Tx functions, in the caller's transaction. Where one
-- statement must combine two contexts' rows (a unit with its model's name,
-- the candidate nodes with their load that day, a delivery with its event)
-- and a second round trip would slow a hot path, the owner exports a view or
-- a function here instead: it says which columns and which rule the others
-- may rely on, and stays the same when the owner's tables change.
--
-- The views are plain projections that the planner inlines (the plans and
-- their indexes are those of the tables), and security_invoker: the
-- caller's row-level security (tenant and mode) applies to the rows beneath.

-- tenants/identity: the bounds of the current tenant's calendar day that
-- holds at, in the tenant's time zone.
CREATE FUNCTION tenant_day(at timestamptz) RETURNS TABLE (first timestamptz, next timestamptz)
LANGUAGE sql STABLE PARALLEL SAFE
AS $$
  SELECT date_trunc('day', at AT TIME ZONE time_zone) AT TIME ZONE time_zone,
         (date_trunc('day', at AT TIME ZONE time_zone) + interval '1 day') AT TIME ZONE time_zone
  FROM tenants WHERE id = app_current_tenant()
$$;

-- tenants/network: what dispatch may weigh of a node and of a technician.
-- licence_valid_through is the last day the technician's licence is valid:
-- NULL when they have none or it was marked expired (no licence is not a
-- valid licence).
CREATE VIEW node_profiles WITH (security_invoker = true) AS
  SELECT tenant_id, id, name, tier, grade, status, path, coverage, categories, service_kinds, daily_capacity,
         latitude, longitude
  FROM nodes;

CREATE VIEW technician_profiles WITH (security_invoker = true) AS
  SELECT tenant_id, id, node_id, name, status, skills,
         CASE WHEN licence_expired_at IS NULL THEN licence_expires_on END AS licence_valid_through,
         shifts, daily_job_limit, home_latitude, home_longitude
  FROM technicians;

-- tenants/tickets: the tickets that occupy their node and technician, every
-- ticket that is not cancelled, with when: the appointment's start, else
-- when the ticket last changed.
CREATE VIEW ticket_workload WITH (security_invoker = true) AS
  SELECT tenant_id, id AS ticket_id, node_id, technician_id, window_start, updated_at
  FROM tickets
  WHERE state <> 'cancelled';

-- tenants/catalog: a product model as summarised beside something else (a
-- unit).
CREATE VIEW model_summaries WITH (security_invoker = true) AS
  SELECT tenant_id, id, model_number, category, name
  FROM product_models;

-- tenants/customers: which model each unit is.
CREATE VIEW unit_models WITH (security_invoker = true) AS
  SELECT tenant_id, id AS unit_id, model_id
  FROM units;

-- tenants/events: an event as it is delivered, without the feed's ordering
-- (txid, seq, position).
CREATE VIEW event_payloads WITH (security_invoker = true) AS
  SELECT tenant_id, id, type, subject_id, actor, data, occurred_at
  FROM events;
