-- Owned by tenants/testclocks: test_clocks
--
-- Test clocks (issue 14), as Stripe has them: in test mode a tenant creates
-- a clock frozen at a time, attaches test objects to it and advances it.
-- Objects attached to a clock live on the clock's time instead of the wall
-- clock: their actions are stamped with it, their timers are due on it, and
-- advancing the clock fires what fell due on the way through the real River
-- jobs (jobs/test_clock.go). A clock never goes back.
--
-- Clocks exist in test mode only: livemode is false on every row (the
-- CHECK), and the mode-aware isolation policy (enable_tenant_rls, 021)
-- hides them from live transactions. The attachable tables gain
-- test_clock_id, a foreign key in the row's own mode, so only a test object
-- can be attached, and only to a clock of its tenant. The column belongs to
-- the object's own context (its SQL filters on it); this migration only
-- adds it.

CREATE TABLE test_clocks (
  tenant_id    text NOT NULL REFERENCES tenants (id),
  id           text NOT NULL CHECK (id ~ '^clk_[0-9a-z]{26}$'),
  name         text CHECK (length(name) BETWEEN 1 AND 200),
  -- the clock's time: what "now" is for its objects
  frozen_time  timestamptz NOT NULL,
  -- ready; advancing while the advance's job runs
  status       text NOT NULL DEFAULT 'ready' CHECK (status IN ('ready', 'advancing')),
  -- bumped by every advance; the advance job works only its own
  advance_seq  int NOT NULL DEFAULT 0,
  created_at   timestamptz NOT NULL DEFAULT now(),
  updated_at   timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (tenant_id, id)
);
SELECT enable_tenant_rls('test_clocks');
ALTER TABLE test_clocks ADD CONSTRAINT test_clocks_test_mode_only CHECK (NOT livemode),
  ADD CONSTRAINT test_clocks_mode_key UNIQUE (tenant_id, livemode, id);
CREATE INDEX test_clocks_created_idx ON test_clocks (tenant_id, livemode, id);
REVOKE DELETE ON test_clocks FROM servicenet_app;

ALTER TABLE tickets ADD COLUMN test_clock_id text,
  ADD CONSTRAINT tickets_test_clock_fkey FOREIGN KEY (tenant_id, livemode, test_clock_id)
    REFERENCES test_clocks (tenant_id, livemode, id);
CREATE INDEX tickets_test_clock_idx ON tickets (tenant_id, test_clock_id) WHERE test_clock_id IS NOT NULL;

ALTER TABLE contracts ADD COLUMN test_clock_id text,
  ADD CONSTRAINT contracts_test_clock_fkey FOREIGN KEY (tenant_id, livemode, test_clock_id)
    REFERENCES test_clocks (tenant_id, livemode, id);
CREATE INDEX contracts_test_clock_idx ON contracts (tenant_id, test_clock_id) WHERE test_clock_id IS NOT NULL;

ALTER TABLE payouts ADD COLUMN test_clock_id text,
  ADD CONSTRAINT payouts_test_clock_fkey FOREIGN KEY (tenant_id, livemode, test_clock_id)
    REFERENCES test_clocks (tenant_id, livemode, id);
CREATE INDEX payouts_test_clock_idx ON payouts (tenant_id, test_clock_id) WHERE test_clock_id IS NOT NULL;
