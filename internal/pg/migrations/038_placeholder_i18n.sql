-- Placeholder on branch i18n only (migration 038 belongs to another helper's branch): drop at merge.
SELECT 1;
