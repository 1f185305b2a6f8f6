-- tenants/payouts: who owes a payout, stored (issue: money correctness).
-- A payout's payer was derived from contract_id: the plan when it names a
-- contract, else the brand. A seven-day no-reason return of a storefront
-- sale is refunded by the seller (seeds: 七天无理由退换货 is the
-- storefront's promise), which that derivation could not say. The payer is
-- now a column; rows written before keep what the derivation gave them.
ALTER TABLE payouts ADD COLUMN payer text NOT NULL DEFAULT 'brand'
  CHECK (payer IN ('brand', 'plan', 'storefront'));
UPDATE payouts SET payer = 'plan' WHERE contract_id IS NOT NULL;
ALTER TABLE payouts ADD CONSTRAINT payouts_plan_payer CHECK ((payer = 'plan') = (contract_id IS NOT NULL));
