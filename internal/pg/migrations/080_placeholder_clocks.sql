-- Placeholder on branch audit-clocks only (migration 080 belongs to another helper's branch): drop at merge.
SELECT 1;
