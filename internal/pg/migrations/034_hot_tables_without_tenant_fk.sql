-- Issue 11: the write path's foreign keys to tenants(id).
--
-- Every row inserted into a table with `tenant_id REFERENCES tenants (id)`
-- runs a referential check that takes FOR KEY SHARE on the tenant's one row.
-- An intake inserts about 18 such rows (idempotency record, customer, unit,
-- ticket, timeline, events, notification, their audit rows), a claim about
-- 13, and every concurrent write of a tenant locks the same row: the lockers
-- are recorded in a multixact that each new locker copies and extends, under
-- an exclusive lock on the row's buffer. Measured at 16 concurrent intakes
-- of one tenant: 18.6 checks per intake, the largest share of the
-- referential checks the server runs, and LWLock:BufferContent waits on the
-- tenants page.
--
-- On the tables written by every intake and claim the check is dropped. It
-- guarded nothing the schema does not already guarantee:
--   * tenant rows are never deleted: the application role may not delete
--     them (001 revokes DELETE), no code path does, and a tenant is
--     suspended, never removed;
--   * a row can only be written for the transaction's tenant: row-level
--     security's WITH CHECK compares tenant_id with app.tenant_id, which
--     InTenantTx sets from an authenticated principal (an API key, whose
--     own tenant_id keeps its foreign key);
--   * the composite (tenant_id, x) foreign keys between business tables
--     stay: a ticket's customer, a unit's model, a claim's unit are still
--     checked, and each of those parents was itself written for its tenant.
-- Tables written rarely (configuration, imports, policies) keep their
-- foreign key to tenants.
ALTER TABLE idempotency_keys    DROP CONSTRAINT IF EXISTS idempotency_keys_tenant_id_fkey;
ALTER TABLE events              DROP CONSTRAINT IF EXISTS events_tenant_id_fkey;
ALTER TABLE audit_log           DROP CONSTRAINT IF EXISTS audit_log_tenant_id_fkey;
ALTER TABLE customers           DROP CONSTRAINT IF EXISTS customers_tenant_id_fkey;
ALTER TABLE units               DROP CONSTRAINT IF EXISTS units_tenant_id_fkey;
ALTER TABLE tickets             DROP CONSTRAINT IF EXISTS tickets_tenant_id_fkey;
ALTER TABLE ticket_timeline     DROP CONSTRAINT IF EXISTS ticket_timeline_tenant_id_fkey;
ALTER TABLE notifications       DROP CONSTRAINT IF EXISTS notifications_tenant_id_fkey;
ALTER TABLE claims              DROP CONSTRAINT IF EXISTS claims_tenant_id_fkey;
ALTER TABLE claim_versions      DROP CONSTRAINT IF EXISTS claim_versions_tenant_id_fkey;
ALTER TABLE claim_state_changes DROP CONSTRAINT IF EXISTS claim_state_changes_tenant_id_fkey;
