-- tenants/idempotency: a replayed answer that shows personal data is a
-- logged read.
--
-- An answer that shows personal data unmasked is recorded in the audit log
-- as a read (api: recordRead), a write's answer too. A retry with the same
-- Idempotency-Key replays the stored answer, with the same personal data,
-- without running the handler, and nothing recorded the second reading:
-- the same lookup repeated 24 hours long left one trace. The record keeps
-- what its answer disclosed, {"operation": …, "objects": [ids]} (NULL:
-- nothing), so that every replay records the read again. Ids only, never
-- the data.
ALTER TABLE idempotency_keys ADD COLUMN disclosed jsonb;
ALTER TABLE platform_idempotency_keys ADD COLUMN disclosed jsonb;
