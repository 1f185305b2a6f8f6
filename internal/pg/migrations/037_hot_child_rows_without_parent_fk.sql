-- Issue 11: the parent checks of the rows every ticket action and claim
-- writes beside their parent.
--
-- A ticket action writes its timeline entries (an intake two: opened and
-- customer_notified) and a claim submission and its adjudication write
-- their version and state changes, each in the same transaction that
-- inserted or locked the parent row. Each child row ran a referential
-- check on (tenant_id, livemode, ticket_id|claim_id): an index probe and a
-- FOR KEY SHARE lock that dirties the parent's tuple. Measured with
-- pg_stat_statements: 2 checks per intake, 2.5 per claim (submission and
-- adjudication).
--
-- As in 034, the check guarded nothing the schema and the code do not
-- already guarantee:
--   * tickets and claims are never deleted by the application role (011
--     and 009 revoke DELETE on them), and it may neither delete nor move
--     the child rows (011 and 009 revoke DELETE and UPDATE on them; only
--     claim_versions' lines and adjudicated_at are granted back);
--   * the child rows are written only by their owner's runner
--     (tenants/tickets commit/queueTrail, tenants/claims), with the ID of
--     the parent it inserted or locked FOR UPDATE in the same transaction;
--   * row-level security's WITH CHECK pins the row to the transaction's
--     tenant and mode, so a child cannot point across tenants or modes;
--   * delete_test_data (021) empties every table with a livemode column,
--     so test-mode children still go with their test parents.
-- The other composite keys stay (a ticket's customer, unit and model: the
-- API turns their violations into 4xx, and the parents can be deleted).
ALTER TABLE ticket_timeline     DROP CONSTRAINT IF EXISTS ticket_timeline_tenant_id_ticket_id_fkey;
ALTER TABLE claim_versions      DROP CONSTRAINT IF EXISTS claim_versions_tenant_id_claim_id_fkey;
ALTER TABLE claim_state_changes DROP CONSTRAINT IF EXISTS claim_state_changes_tenant_id_claim_id_fkey;
