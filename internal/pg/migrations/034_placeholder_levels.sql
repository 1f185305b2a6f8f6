-- Placeholder on branch levels only (migration 034 belongs to another helper's branch): drop at merge.
SELECT 1;
