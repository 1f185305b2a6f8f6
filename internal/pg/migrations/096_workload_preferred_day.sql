-- The tickets context's exported view ticket_workload (043, 056) gains
-- occupies_at: the instant whose day (in the tenant's zone) the ticket
-- occupies its node and technician. A booked ticket occupies its
-- appointment's day. One dispatched and not yet booked occupies its
-- customer's preferred window's day while that window was still ahead
-- when the ticket last changed: dispatch placed it on that day's loads
-- (DispatchDecision.day), so the next job asked for that day must find it
-- there, not on the day it was dispatched. Otherwise (no window, or a
-- window over when it last changed: placed for the rest of that day) the
-- day it last changed. New columns go at the end: CREATE OR REPLACE keeps
-- the view's existing columns, so servers of the release before read it
-- as they did.
CREATE OR REPLACE VIEW ticket_workload WITH (security_invoker = true) AS
  SELECT tenant_id, id AS ticket_id, node_id, technician_id, window_start, updated_at, window_end, state,
         COALESCE(window_start, CASE WHEN preferred_end > updated_at THEN preferred_start END, updated_at) AS occupies_at
  FROM tickets
  WHERE state <> 'cancelled';
