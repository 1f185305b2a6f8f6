-- Owned by tenants/swaps.
--
-- fault_cause: the fault's cause as diagnosed (the entitlement engine's
-- vocabulary), when the requester knows it (a ticket's diagnosis). It
-- decides which plan a swap asked without naming a contract is under when
-- the unit holds an extended warranty and a plan with a fee whose causes
-- differ (accidental damage is only the accidental-damage or no-reason
-- plan's, a performance fault only the extended warranty's). NULL: not
-- known (swaps requested before this column, or by a requester who did not
-- say).
--
-- reason no_reason_exchange: a seven-day change-of-mind exchange
-- (七天无理由退换货), like a statutory exchange owed without any plan, but
-- not the three guarantees' remedy for a fault.
ALTER TABLE swaps ADD COLUMN fault_cause text CHECK (fault_cause IN ('performance', 'environmental_dust', 'environmental_heat',
  'environmental_moisture', 'power_surge', 'unstable_voltage', 'accidental_damage', 'human_damage', 'force_majeure',
  'software_tuning', 'no_fault', 'delivery_damage'));

ALTER TABLE swaps DROP CONSTRAINT swaps_reason_check,
  ADD CONSTRAINT swaps_reason_check CHECK (reason IN ('unrepairable', 'repair_cost_above_retail', 'statutory_exchange', 'plan_swap',
    'no_reason_exchange'));
