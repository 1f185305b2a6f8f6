-- Installation, maintenance and returns as services of their own (issue 17).
-- No new table: columns on tables owned by tenants/tickets (tickets,
-- sla_policies), tenants/customers (service_records) and tenants/warranty
-- (coverage_plans), each written only by its owner.

-- What a ticket's type records beyond a repair: the delivery an install
-- follows, the installation report, the maintenance checklist, a return's
-- pickup, inspection and outcome (tickets.ServiceWork).
ALTER TABLE tickets ADD COLUMN service jsonb CHECK (service IS NULL OR jsonb_typeof(service) = 'object');

-- An installation is due this many minutes after delivery (seed: 24 h,
-- 送安同步).
ALTER TABLE sla_policies ADD COLUMN install_minutes int NOT NULL DEFAULT 1440 CHECK (install_minutes BETWEEN 1 AND 43200);

-- An installation joins the unit's history as an installation, not a repair.
ALTER TABLE service_records DROP CONSTRAINT service_records_kind_check;
ALTER TABLE service_records ADD CONSTRAINT service_records_kind_check
  CHECK (kind IN ('repair', 'claim', 'swap', 'return', 'maintenance', 'install'));

-- A plan may cover maintenance and cleaning (cause no_fault).
ALTER TABLE coverage_plans ADD COLUMN covers_maintenance boolean NOT NULL DEFAULT false;
