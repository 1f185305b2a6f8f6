-- tenants/swaps: the brand's fee on a swap no rule prices.
--
-- brand_sets_fee: the evaluation found that no rule fixes the swap's fee:
-- nothing owes it free (not the three guarantees, the manufacturer
-- warranty or a seven-day exchange) and no plan in force prices it, or the
-- plan's fee is a CNY default the purchase's currency cannot take. The
-- swap waits for the brand, whose approval may charge the customer a fee
-- (a goodwill or paid exchange); the rest of the replacement is borne by
-- the brand (by the plan, for a plan whose fee could not be given).
-- fee_set_by: who set swaps.fee: the evaluation (a plan's terms, or none
-- owed) or the brand at its approval. NULL: no fee yet.
ALTER TABLE swaps ADD COLUMN brand_sets_fee boolean NOT NULL DEFAULT false,
  ADD COLUMN fee_set_by text CHECK (fee_set_by IN ('evaluation', 'brand'));

UPDATE swaps SET fee_set_by = 'evaluation' WHERE fee IS NOT NULL;

-- Open swaps already waiting for the brand on those grounds: their state
-- reason is the evaluation's "...: the brand decides" or "...: the brand
-- decides the fee" (swaps.Evaluate), and only those grounds say so.
UPDATE swaps SET brand_sets_fee = true
  WHERE state = 'pending_brand' AND (state_reason LIKE '%: the brand decides' OR state_reason LIKE '%: the brand decides the fee');
