-- Placeholder on branch audit-quality only (migration 078 belongs to another helper's branch): drop at merge.
SELECT 1;
