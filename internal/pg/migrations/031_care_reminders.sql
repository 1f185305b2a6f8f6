-- Owned by tenants/customers: care_policies, care_reminders
--
-- Care reminders (issue 17). The seeds ask the service center to remind
-- customers of care (保养) after the purchase and periodically (定期保养提醒,
-- 电话提醒: after the purchase or before the season changes): a tenant's
-- care policy sets the interval in days, overall and per product category,
-- each enabled or not, and seasons of use per category. A unit is due every
-- interval from its installation date (installed_on), or its purchase date
-- when it was never installed, and lead days before each season of its
-- category; the care_reminders job emits unit.care_due once per unit, due
-- date and anchor.
--
-- care_policies: one row per tenant and mode (absent: no reminders).
-- care_reminders: the due dates already announced; its key makes the job
-- idempotent across reruns.

CREATE TABLE care_policies (
  tenant_id     text NOT NULL REFERENCES tenants (id),
  livemode      boolean NOT NULL DEFAULT true,
  enabled       boolean NOT NULL,
  interval_days int CHECK (interval_days BETWEEN 1 AND 3650),
  -- [{"category": "air_conditioner", "interval_days": 180, "enabled": true}]
  categories    jsonb NOT NULL DEFAULT '[]',
  -- [{"category": "air_conditioner", "start": "05-15", "lead_days": 14}]
  seasons       jsonb NOT NULL DEFAULT '[]',
  version       int NOT NULL CHECK (version >= 1),
  updated_by    text NOT NULL,
  created_at    timestamptz NOT NULL DEFAULT now(),
  updated_at    timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (tenant_id, livemode)
);
SELECT enable_tenant_rls('care_policies');
CREATE TRIGGER care_policies_audit AFTER INSERT OR UPDATE OR DELETE ON care_policies
  FOR EACH ROW EXECUTE FUNCTION audit_row();

CREATE TABLE care_reminders (
  tenant_id     text NOT NULL REFERENCES tenants (id),
  unit_id       text NOT NULL,
  due_on        date NOT NULL,
  -- installed_on / purchase_date: an interval counted from that date;
  -- season: before a season of use (due_on is the season's start)
  anchor        text NOT NULL CHECK (anchor IN ('installed_on', 'purchase_date', 'season')),
  interval_days int CHECK (interval_days >= 1),
  created_at    timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (tenant_id, unit_id, due_on, anchor),
  FOREIGN KEY (tenant_id, unit_id) REFERENCES units (tenant_id, id)
);
SELECT enable_tenant_rls('care_reminders');
CREATE TRIGGER care_reminders_audit AFTER INSERT OR UPDATE OR DELETE ON care_reminders
  FOR EACH ROW EXECUTE FUNCTION audit_row();
