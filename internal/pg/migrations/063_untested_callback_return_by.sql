-- tenants/tickets: a repair completed without a test run is called back
-- two hours later.
--
-- Seed 000 (海尔上门服务, step 7 试机通检): 若服务工程师没有时间试机,则两小时后
-- 跟踪回访,以确保机器运行恢复正常. A completion now says whether the test
-- run was skipped (test_run.skipped); a skipped one starts the callback
-- deadline this many minutes after the completion instead of the usual 72
-- hours (callback_minutes). Bounds as guidance_callback_minutes.
--
-- The carry-in's agreed return time (same seed: 跟用户约定送回时间,按规定
-- 时间送回) needs no column: it is kept on tickets.carry_in (jsonb) with
-- the receipt, and the deadline it sets is workshop_due_at (061).
ALTER TABLE sla_policies
  ADD COLUMN untested_callback_minutes int NOT NULL DEFAULT 120 CHECK (untested_callback_minutes BETWEEN 1 AND 10080);
