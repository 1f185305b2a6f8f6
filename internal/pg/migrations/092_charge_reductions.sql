-- tenants/tickets, tenants/complaints: the centre's reduction of a
-- customer's charges.
--
-- Seed 000 (五.收费 4.其他): 如果保收费用户不交,或要求减免费用再修 … 如果用户
-- 一再坚持则将信息处理结果报回中心,根据中心批示处理. The centre's decision on
-- a customer's fee dispute is a reduction of the customer's charges on a
-- ticket (named lines, 减免上门费, or an amount), borne by the brand.
-- charge_reductions lists the ticket's reductions in the order approved
-- (amount, lines, reason, approved_by, approved_at, source, applied_at,
-- refund_payout_id); one approved before the completion waits for it
-- (applied_at null), one approved after it was applied at once. A fee
-- complaint upheld with a reduction records it on the complaint
-- (reduction), once.
ALTER TABLE tickets ADD COLUMN charge_reductions jsonb NOT NULL DEFAULT '[]';
ALTER TABLE complaints ADD COLUMN reduction jsonb;
