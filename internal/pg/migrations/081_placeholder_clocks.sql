-- Placeholder on branch audit-clocks only (migration 081 belongs to another helper's branch): drop at merge.
SELECT 1;
