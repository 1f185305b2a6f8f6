-- tenants/tickets: the apology an upheld property_damage complaint owes.
--
-- Seed 000: 给用户家损坏东西应照价赔偿,并表示歉意 (damage to the customer's
-- property is compensated at its value and apologised for). The
-- compensation is paid (064, 081); the apology is now asked of the
-- ticket's technician as a task of its own kind, apologise_damage, never
-- taken for the late arrival's apologise (whose refusal turns the late
-- promise's action into the node manager's visit, and whose presence
-- stops an upheld late_arrival complaint asking again). One is owed per
-- compensated damage: complaint_id names the property_damage complaint
-- whose compensation asked for it (and, on the node manager's visit a
-- refused one opens, the same complaint), and one task of a kind per
-- window is now one per window and complaint. The tasks no complaint asked
-- for (complaint_id NULL: the SLA sweep's, a late check-in's, a visit
-- exception's, an upheld late_arrival's) keep the rule as it was (NULLS
-- NOT DISTINCT). No foreign key: complaints belong to tenants/complaints.
ALTER TABLE ticket_tasks
  DROP CONSTRAINT ticket_tasks_kind_check,
  ADD CONSTRAINT ticket_tasks_kind_check CHECK (kind IN ('call_customer', 'apologise', 'apologise_damage', 'gift',
    'manager_visit', 'reach_customer')),
  ADD COLUMN complaint_id text CHECK (complaint_id ~ '^cmp_[0-9a-z]{26}$'),
  DROP CONSTRAINT ticket_tasks_tenant_id_ticket_id_kind_window_start_key,
  ADD CONSTRAINT ticket_tasks_once UNIQUE NULLS NOT DISTINCT (tenant_id, ticket_id, kind, window_start, complaint_id);
