-- tenants/customers: a unit's care interval counts from its last maintenance.
--
-- The care reminders (031) counted every interval from the installation
-- date, or the purchase date of a unit never installed: a unit cleaned ten
-- days before its interval came was reminded of care ten days later, and
-- again at each interval after, whatever service it had. An interval now
-- counts from the unit's last maintenance in its service history when that
-- is later (anchor maintained_on).
ALTER TABLE care_reminders DROP CONSTRAINT care_reminders_anchor_check,
  ADD CONSTRAINT care_reminders_anchor_check CHECK (anchor IN ('installed_on', 'purchase_date', 'maintained_on', 'season'));
