-- tenants/network: a failed import's failure as a catalog message (issue 19).
-- failure was stored as English text only; it is now also stored as its
-- message code and parameters, so that the failure is read in the reader's
-- language (en, zh-CN), like the row errors (039). failure stays: the
-- English rendering for new imports, and the only text of imports that
-- failed before this migration, which have no code and keep rendering as
-- they were.
ALTER TABLE network_imports
  ADD COLUMN failure_code text,
  ADD COLUMN failure_params jsonb,
  ADD CONSTRAINT network_imports_failure_params_need_code CHECK (failure_params IS NULL OR failure_code IS NOT NULL),
  ADD CONSTRAINT network_imports_failure_code_needs_text CHECK (failure_code IS NULL OR failure IS NOT NULL);
