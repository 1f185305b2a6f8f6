-- tenants/complaints: one damage is paid once.
--
-- An upheld property_damage complaint paid the value the center assessed
-- (064), once per complaint; a second complaint about the same visit's
-- damage (the customer calling again about the scratched floor) was
-- assessed and paid again. The assessment now says what it pays for:
-- damaged_item, the item the center assessed (木地板, 衣柜门). A second
-- compensation on a ticket pays only for an item that no earlier
-- compensation of the ticket named (the service checks it under a
-- per-ticket lock). NULL: the assessment named no item (those before
-- this migration, and a ticket's only compensation).
ALTER TABLE complaints
  ADD COLUMN damaged_item text CHECK (length(damaged_item) BETWEEN 1 AND 200),
  ADD CONSTRAINT complaints_damaged_item_assessed CHECK (damaged_item IS NULL OR assessed_amount IS NOT NULL);
