-- Placeholder on branch fix only (migration 046 belongs to another helper's branch): drop at merge.
SELECT 1;
