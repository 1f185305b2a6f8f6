-- tenants/warranty: a contract that followed a replacement unit names the
-- unit it left.
--
-- An exchange the brand owes (a statutory or seven-day exchange) moves the
-- customer's other plans to the replacement unit (5d54801), with a history
-- row in contract_state_changes. A servicer's claim for a repair done on
-- the old unit before the exchange, filed after it, is decided on the old
-- unit's contracts: the plan that covered the repair has left it. The
-- history row now names the unit the contract left (from_unit_id), so the
-- adjudication can read the contracts that covered the unit on the
-- repair's day, moved or not. Rows written before this migration name no
-- unit (moves began in the same release).
ALTER TABLE contract_state_changes ADD COLUMN from_unit_id text;

CREATE INDEX contract_state_changes_from_unit_idx ON contract_state_changes (tenant_id, from_unit_id)
  WHERE from_unit_id IS NOT NULL;
