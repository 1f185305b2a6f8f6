-- Money on every path (issue 12, items 3-7).
--
-- Plans whose swaps cost a depreciation fee (accidental damage, rule 5;
-- no-reason repair, rule 7) carry a schedule: an array of
-- {"up_to_month": m, "percent": p} steps by month of ownership. NULL: the
-- plan has none (other kinds; plans made before schedules were required,
-- which the engine prices by the default schedule of their kind).
ALTER TABLE coverage_plans ADD COLUMN depreciation_schedule jsonb
  CHECK (depreciation_schedule IS NULL OR (jsonb_typeof(depreciation_schedule) = 'array'
         AND jsonb_array_length(depreciation_schedule) BETWEEN 1 AND 24));

-- The ticket whose repair owes a payout (a no-reason plan's compensation on
-- completion); no foreign key: tickets are their own context. A ticket's
-- repair owes its plan's compensation once, however often it is completed.
ALTER TABLE payouts ADD COLUMN IF NOT EXISTS ticket_id text CHECK (length(ticket_id) <= 64);
CREATE UNIQUE INDEX payouts_ticket_compensation_key ON payouts (tenant_id, ticket_id)
  WHERE ticket_id IS NOT NULL AND contract_id IS NOT NULL;
-- Finding the compensation already owed for a contract's repair on a day.
CREATE INDEX payouts_contract_idx ON payouts (tenant_id, contract_id, counted_from) WHERE contract_id IS NOT NULL;
