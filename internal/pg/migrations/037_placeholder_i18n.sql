-- Placeholder on branch i18n only (migration 037 belongs to another helper's branch): drop at merge.
SELECT 1;
