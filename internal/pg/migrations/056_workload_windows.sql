-- The tickets context's exported view ticket_workload (043) gains columns.
-- Dispatch proposes a technician only with a free slot in the window: the
-- view gives each ticket's window end and state, so dispatch can see a
-- technician's bookings (scheduled or on site) that overlap the window,
-- as scheduling does (checkBooking). New columns go at the end: CREATE OR
-- REPLACE keeps the view's existing columns, so servers of the release
-- before read it as they did.
CREATE OR REPLACE VIEW ticket_workload WITH (security_invoker = true) AS
  SELECT tenant_id, id AS ticket_id, node_id, technician_id, window_start, updated_at, window_end, state
  FROM tickets
  WHERE state <> 'cancelled';
