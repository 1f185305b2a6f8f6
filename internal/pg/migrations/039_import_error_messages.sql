-- tenants/network: an import's per-row errors as catalog messages (issue 19).
-- A row error was stored as English text (message); it is now also stored
-- as its message code and parameters, so the errors are listed in the
-- reader's language (en, zh-CN). message stays: the English rendering for
-- new rows, and the only text of rows written before this migration, which
-- have no code and keep rendering as they were.
ALTER TABLE network_import_errors
  ADD COLUMN message_code text,
  ADD COLUMN message_params jsonb,
  ADD CONSTRAINT network_import_errors_params_need_code CHECK (message_params IS NULL OR message_code IS NOT NULL);
