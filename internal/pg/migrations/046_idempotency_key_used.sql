-- tenants/idempotency: the record's insert refuses a used key by raising,
-- explicitly.
--
-- A request stores its response with one INSERT … ON CONFLICT DO UPDATE,
-- the last statement before COMMIT (idempotency.QueueResponse). It may
-- take over an expired record, or one stranded "in_progress" by the old
-- two-transaction protocol; a live record of the key (which the claim's
-- lock should have made impossible) must fail the statement, and so the
-- transaction: never two effects for one key. Until now the DO UPDATE set
-- state to a CASE without ELSE, so a live record made it NULL and the
-- statement failed on the column's NOT NULL.
--
-- idempotency_key_used raises that refusal by name: SQLSTATE 23505
-- (unique_violation: the key is unique per credential, and taken) with
-- the table and its primary key as TABLE and CONSTRAINT, which
-- idempotency.IsUsed matches. It is called in the CASE's ELSE only, with
-- the row's key as argument: an expression on the existing row, never
-- folded to a constant at plan time, so it runs only for a live record.
-- IMMUTABLE (it reads nothing and raises for every input) because Citus
-- takes only IMMUTABLE functions in a DO UPDATE SET clause on a
-- distributed table.
CREATE FUNCTION idempotency_key_used(tab text, key text) RETURNS text
LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE AS $$
BEGIN
  RAISE EXCEPTION 'idempotency key already used by an earlier request'
    USING ERRCODE = 'unique_violation', TABLE = tab, CONSTRAINT = tab || '_pkey',
          DETAIL = format('Key %s has a live record.', quote_literal(key));
END $$;
