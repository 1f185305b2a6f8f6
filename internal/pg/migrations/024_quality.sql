-- Owned by tenants/quality: quality_positions, quality_complaints, quality_facts, quality_daily, quality_monthly, quality_months, grading_policies, grading_runs, grade_proposals, grade_history, grade_appeals
--
-- Service quality (issue 13): KPIs kept as rollups, folded incrementally
-- from the tenant's event feed by the quality_fold job (never by scanning
-- tickets at read time), and node grading by a versioned tenant policy.
--
-- quality_positions: per tenant and mode, the feed position folded so far.
-- quality_complaints: the complaints the fold has seen (from complaint.filed).
-- quality_facts: one row per ticket (or complaint without a ticket): the
--   bucket it counts in (intake day, node, technician, category, region) and
--   the metric counts it contributed, so a change is folded as a delta.
-- quality_daily / quality_monthly: the sums per bucket and metric; the
--   monthly rows are per node (no technician), for rankings and node
--   scorecards of calendar months.
-- grading_*: the tenant's grading policy versions, the grading runs, the
--   proposals they wrote, the appeals against them and the grade history.

CREATE TABLE quality_positions (
  tenant_id  text NOT NULL REFERENCES tenants (id),
  livemode   boolean NOT NULL DEFAULT true,
  position   bigint NOT NULL DEFAULT 0,
  folded_at  timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (tenant_id, livemode)
);
SELECT enable_tenant_rls('quality_positions');

CREATE TABLE quality_complaints (
  tenant_id     text NOT NULL REFERENCES tenants (id),
  livemode      boolean NOT NULL DEFAULT true,
  complaint_id  text NOT NULL,
  ticket_id     text,
  node_id       text NOT NULL DEFAULT '',
  technician_id text NOT NULL DEFAULT '',
  category      text NOT NULL,
  severity      text NOT NULL,
  filed_at      timestamptz NOT NULL,
  PRIMARY KEY (tenant_id, livemode, complaint_id)
);
CREATE INDEX quality_complaints_ticket_idx ON quality_complaints (tenant_id, livemode, ticket_id);
SELECT enable_tenant_rls('quality_complaints');

CREATE TABLE quality_facts (
  tenant_id     text NOT NULL REFERENCES tenants (id),
  livemode      boolean NOT NULL DEFAULT true,
  subject_id    text NOT NULL,
  day           date NOT NULL,
  node_id       text NOT NULL DEFAULT '',
  technician_id text NOT NULL DEFAULT '',
  category      text NOT NULL DEFAULT '',
  region_code   text NOT NULL DEFAULT '',
  unit_id       text,
  completed_at  timestamptz,
  -- days from this service's completion to the next ticket of the same unit
  repeat_after_days int,
  metrics       jsonb NOT NULL DEFAULT '{}',
  updated_at    timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (tenant_id, livemode, subject_id)
);
CREATE INDEX quality_facts_unit_idx ON quality_facts (tenant_id, livemode, unit_id, completed_at) WHERE unit_id IS NOT NULL;
SELECT enable_tenant_rls('quality_facts');

CREATE TABLE quality_daily (
  tenant_id     text NOT NULL REFERENCES tenants (id),
  livemode      boolean NOT NULL DEFAULT true,
  day           date NOT NULL,
  node_id       text NOT NULL,
  technician_id text NOT NULL,
  category      text NOT NULL,
  region_code   text NOT NULL,
  metric        text NOT NULL,
  n             bigint NOT NULL,
  PRIMARY KEY (tenant_id, livemode, day, node_id, technician_id, category, region_code, metric)
);
CREATE INDEX quality_daily_node_idx ON quality_daily (tenant_id, livemode, node_id, day);
CREATE INDEX quality_daily_technician_idx ON quality_daily (tenant_id, livemode, technician_id, day);
CREATE INDEX quality_daily_category_idx ON quality_daily (tenant_id, livemode, category, day);
CREATE INDEX quality_daily_region_idx ON quality_daily (tenant_id, livemode, region_code text_pattern_ops, day);
SELECT enable_tenant_rls('quality_daily');

CREATE TABLE quality_monthly (
  tenant_id     text NOT NULL REFERENCES tenants (id),
  livemode      boolean NOT NULL DEFAULT true,
  month         date NOT NULL,
  node_id       text NOT NULL,
  category      text NOT NULL,
  region_code   text NOT NULL,
  metric        text NOT NULL,
  n             bigint NOT NULL,
  PRIMARY KEY (tenant_id, livemode, month, node_id, category, region_code, metric)
);
CREATE INDEX quality_monthly_region_idx ON quality_monthly (tenant_id, livemode, month, region_code text_pattern_ops);
SELECT enable_tenant_rls('quality_monthly');

-- The months whose scorecards the monthly job declared ready (scorecard.ready).
CREATE TABLE quality_months (
  tenant_id  text NOT NULL REFERENCES tenants (id),
  livemode   boolean NOT NULL DEFAULT true,
  month      date NOT NULL,
  position   bigint NOT NULL,
  ready_at   timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (tenant_id, livemode, month)
);
SELECT enable_tenant_rls('quality_months');

-- A tenant's grading policy, one row per version (the latest is current).
CREATE TABLE grading_policies (
  tenant_id   text NOT NULL REFERENCES tenants (id),
  livemode    boolean NOT NULL DEFAULT true,
  version     int NOT NULL CHECK (version >= 1),
  policy      jsonb NOT NULL,
  actor       text NOT NULL,
  created_at  timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (tenant_id, livemode, version)
);
SELECT enable_tenant_rls('grading_policies');
REVOKE UPDATE, DELETE ON grading_policies FROM servicenet_app;

-- One grading of the network for a period (idempotent per period and policy version).
CREATE TABLE grading_runs (
  tenant_id      text NOT NULL REFERENCES tenants (id),
  livemode       boolean NOT NULL DEFAULT true,
  id             text NOT NULL CHECK (id ~ '^grr_[0-9a-z]{26}$'),
  period_from    date NOT NULL,
  period_to      date NOT NULL,
  policy_version int NOT NULL,
  graded         int NOT NULL DEFAULT 0,
  skipped        int NOT NULL DEFAULT 0,
  actor          text NOT NULL,
  created_at     timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (tenant_id, livemode, id),
  UNIQUE (tenant_id, livemode, period_from, period_to, policy_version),
  FOREIGN KEY (tenant_id, livemode, policy_version) REFERENCES grading_policies (tenant_id, livemode, version)
);
SELECT enable_tenant_rls('grading_runs');

CREATE TABLE grade_proposals (
  tenant_id      text NOT NULL REFERENCES tenants (id),
  livemode       boolean NOT NULL DEFAULT true,
  id             text NOT NULL CHECK (id ~ '^grp_[0-9a-z]{26}$'),
  run_id         text NOT NULL,
  node_id        text NOT NULL,
  period_from    date NOT NULL,
  period_to      date NOT NULL,
  policy_version int NOT NULL,
  score          numeric(7, 3) NOT NULL,
  indicators     jsonb NOT NULL,
  tickets        bigint NOT NULL,
  current_grade  text,
  proposed_grade text NOT NULL,
  consequence    text NOT NULL CHECK (consequence IN ('none', 'promotion', 'demotion', 'probation', 'suspension', 'termination')),
  state          text NOT NULL DEFAULT 'proposed' CHECK (state IN ('proposed', 'approved', 'rejected', 'appealed', 'upheld', 'overturned')),
  decided_by     text,
  decided_at     timestamptz,
  reason         text CHECK (length(reason) <= 1000),
  appeal_days    int NOT NULL DEFAULT 0 CHECK (appeal_days BETWEEN 0 AND 90),
  appeal_until   timestamptz,
  version        int NOT NULL DEFAULT 1,
  created_at     timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (tenant_id, livemode, id),
  UNIQUE (tenant_id, livemode, run_id, node_id),
  FOREIGN KEY (tenant_id, livemode, run_id) REFERENCES grading_runs (tenant_id, livemode, id)
);
CREATE INDEX grade_proposals_node_idx ON grade_proposals (tenant_id, livemode, node_id, created_at);
SELECT enable_tenant_rls('grade_proposals');
REVOKE DELETE ON grade_proposals FROM servicenet_app;

CREATE TABLE grade_appeals (
  tenant_id    text NOT NULL REFERENCES tenants (id),
  livemode     boolean NOT NULL DEFAULT true,
  proposal_id  text NOT NULL,
  reason       text NOT NULL CHECK (length(reason) BETWEEN 1 AND 2000),
  filed_by     text NOT NULL,
  filed_at     timestamptz NOT NULL DEFAULT now(),
  decision     text CHECK (decision IN ('upheld', 'overturned')),
  decision_note text CHECK (length(decision_note) <= 2000),
  decided_by   text,
  decided_at   timestamptz,
  PRIMARY KEY (tenant_id, livemode, proposal_id),
  FOREIGN KEY (tenant_id, livemode, proposal_id) REFERENCES grade_proposals (tenant_id, livemode, id)
);
SELECT enable_tenant_rls('grade_appeals');
REVOKE DELETE ON grade_appeals FROM servicenet_app;

-- Append-only: every grade change with old and new value, who and why.
CREATE TABLE grade_history (
  tenant_id    text NOT NULL REFERENCES tenants (id),
  livemode     boolean NOT NULL DEFAULT true,
  seq          bigint GENERATED ALWAYS AS IDENTITY,
  node_id      text NOT NULL,
  old_grade    text,
  new_grade    text NOT NULL,
  proposal_id  text,
  actor        text NOT NULL,
  reason       text NOT NULL,
  at           timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (tenant_id, livemode, seq)
);
CREATE INDEX grade_history_node_idx ON grade_history (tenant_id, livemode, node_id, seq);
SELECT enable_tenant_rls('grade_history');
REVOKE UPDATE, DELETE ON grade_history FROM servicenet_app;
