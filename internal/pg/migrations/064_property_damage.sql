-- tenants/complaints: damage to the customer's property is compensated at
-- its value, on the center's approval.
--
-- Seed 000 (Haier visit standard): 给用户家损坏东西应照价赔偿,并表示歉意;
-- 如果产品搬动复位时将地板、产品碰坏,给用户照价赔偿; 如果用户要求给予赔偿,
-- 服务工程师不要轻易答复用户,报中心请示后办理. There was no complaint
-- category for it: a customer whose floor was scratched could only file
-- "other", and the only way to pay was a generic payout linked to neither
-- the complaint nor the ticket.
--
-- property_damage is a category of its own, always against a ticket (the
-- visit that caused it). claimed_amount is what the customer claims
-- (optional); assessed_amount the value the center assessed when it
-- upheld the complaint; compensation_payout_id the one payout to the
-- customer of that amount (the brand owes it; the payout names the
-- ticket), scheduled in the resolution's transaction.
ALTER TABLE complaints DROP CONSTRAINT complaints_category_check;
ALTER TABLE complaints ADD CONSTRAINT complaints_category_check
  CHECK (category IN ('late', 'attitude', 'fee', 'quality', 'repeat', 'other', 'licence', 'overcharge', 'conduct',
                      'property_damage'));
ALTER TABLE complaints
  ADD COLUMN claimed_amount          bigint CHECK (claimed_amount > 0),
  ADD COLUMN claimed_currency        text,
  ADD COLUMN assessed_amount         bigint CHECK (assessed_amount > 0),
  ADD COLUMN assessed_currency       text,
  ADD COLUMN compensation_payout_id  text,
  ADD CONSTRAINT complaints_claimed_money CHECK ((claimed_amount IS NULL) = (claimed_currency IS NULL)),
  ADD CONSTRAINT complaints_assessed_money CHECK ((assessed_amount IS NULL) = (assessed_currency IS NULL)),
  ADD CONSTRAINT complaints_damage_amounts CHECK (category = 'property_damage'
    OR (claimed_amount IS NULL AND assessed_amount IS NULL AND compensation_payout_id IS NULL)),
  ADD CONSTRAINT complaints_damage_ticket CHECK (category <> 'property_damage' OR ticket_id IS NOT NULL),
  -- in the complaint's own mode, as every foreign key between tenant tables (021)
  ADD CONSTRAINT complaints_compensation_payout_fkey FOREIGN KEY (tenant_id, livemode, compensation_payout_id)
    REFERENCES payouts (tenant_id, livemode, id),
  ADD CONSTRAINT complaints_compensation_payout_key UNIQUE (tenant_id, livemode, compensation_payout_id);
