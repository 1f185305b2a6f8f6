-- Owned by tenants/network: technician_certifications
-- Owned by tenants/quality: level_policies, level_runs, level_proposals, level_appeals, level_history
--
-- Technician levels (issue 13, item 4). The seeds' "service-personnel
-- licence and skill promotion/elimination system": a technician's level per
-- product category moves up and down from their KPIs and their training and
-- certification records, by the same pattern as node grading (024): a
-- tenant-owned, versioned level policy; a periodic run writes proposals (the
-- score, every indicator with weight and value, the policy version); a
-- person approves or rejects; the technician may appeal within a window;
-- every level change is kept with old and new level, who and why. The level
-- itself stays in technicians.skills, which dispatch reads.
--
-- technician_certifications: training and certification records (course,
--   date, result, expiry), written by the network's managers.
-- level_*: the policy versions, runs, proposals, appeals and history.

CREATE TABLE technician_certifications (
  tenant_id      text NOT NULL REFERENCES tenants (id),
  livemode       boolean NOT NULL DEFAULT true,
  id             text NOT NULL CHECK (id ~ '^crt_[0-9a-z]{26}$'),
  technician_id  text NOT NULL,
  course         text NOT NULL CHECK (course ~ '^[a-z0-9][a-z0-9_.-]{0,63}$'),
  category       text CHECK (category ~ '^[a-z][a-z0-9_]{0,39}$'),
  kind           text NOT NULL CHECK (kind IN ('training', 'certification')),
  completed_on   date NOT NULL,
  result         text NOT NULL CHECK (result IN ('passed', 'failed')),
  score          numeric(6, 2) CHECK (score BETWEEN 0 AND 1000),
  expires_on     date,
  issuer         text CHECK (length(issuer) BETWEEN 1 AND 200),
  certificate_no text CHECK (length(certificate_no) BETWEEN 1 AND 64),
  created_by     text NOT NULL,
  created_at     timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (tenant_id, id),
  FOREIGN KEY (tenant_id, livemode, technician_id) REFERENCES technicians (tenant_id, livemode, id),
  CHECK (expires_on IS NULL OR expires_on > completed_on)
);
CREATE INDEX technician_certifications_tech_idx ON technician_certifications (tenant_id, livemode, technician_id, course);
CREATE INDEX technician_certifications_expiry_idx ON technician_certifications (tenant_id, livemode, expires_on) WHERE expires_on IS NOT NULL;
SELECT enable_tenant_rls('technician_certifications');
SELECT audit_table('technician_certifications', 'id', '{}'); -- audit_rows (035)

-- A tenant's technician-level policy, one row per version (the latest is current).
CREATE TABLE level_policies (
  tenant_id   text NOT NULL REFERENCES tenants (id),
  livemode    boolean NOT NULL DEFAULT true,
  version     int NOT NULL CHECK (version >= 1),
  policy      jsonb NOT NULL,
  actor       text NOT NULL,
  created_at  timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (tenant_id, livemode, version)
);
SELECT enable_tenant_rls('level_policies');
REVOKE UPDATE, DELETE ON level_policies FROM servicenet_app;

-- One levelling of the technicians for a period (idempotent per period and policy version).
CREATE TABLE level_runs (
  tenant_id      text NOT NULL REFERENCES tenants (id),
  livemode       boolean NOT NULL DEFAULT true,
  id             text NOT NULL CHECK (id ~ '^lvr_[0-9a-z]{26}$'),
  period_from    date NOT NULL,
  period_to      date NOT NULL,
  policy_version int NOT NULL,
  graded         int NOT NULL DEFAULT 0,
  skipped        int NOT NULL DEFAULT 0,
  actor          text NOT NULL,
  created_at     timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (tenant_id, livemode, id),
  UNIQUE (tenant_id, livemode, period_from, period_to, policy_version),
  FOREIGN KEY (tenant_id, livemode, policy_version) REFERENCES level_policies (tenant_id, livemode, version)
);
SELECT enable_tenant_rls('level_runs');

CREATE TABLE level_proposals (
  tenant_id      text NOT NULL REFERENCES tenants (id),
  livemode       boolean NOT NULL DEFAULT true,
  id             text NOT NULL CHECK (id ~ '^lvp_[0-9a-z]{26}$'),
  run_id         text NOT NULL,
  technician_id  text NOT NULL,
  node_id        text NOT NULL,
  category       text NOT NULL,
  period_from    date NOT NULL,
  period_to      date NOT NULL,
  policy_version int NOT NULL,
  score          numeric(7, 3) NOT NULL,
  indicators     jsonb NOT NULL,
  tickets        bigint NOT NULL,
  -- the certifications that counted and the levels they (or their absence) held back
  certifications jsonb NOT NULL DEFAULT '[]',
  notes          jsonb NOT NULL DEFAULT '[]',
  current_level  int CHECK (current_level BETWEEN 1 AND 5),
  proposed_level int NOT NULL CHECK (proposed_level BETWEEN 1 AND 5),
  consequence    text NOT NULL CHECK (consequence IN ('none', 'promotion', 'demotion')),
  state          text NOT NULL DEFAULT 'proposed' CHECK (state IN ('proposed', 'approved', 'rejected', 'appealed', 'upheld', 'overturned')),
  decided_by     text,
  decided_at     timestamptz,
  reason         text CHECK (length(reason) <= 1000),
  appeal_days    int NOT NULL DEFAULT 0 CHECK (appeal_days BETWEEN 0 AND 90),
  appeal_until   timestamptz,
  version        int NOT NULL DEFAULT 1,
  created_at     timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (tenant_id, livemode, id),
  UNIQUE (tenant_id, livemode, run_id, technician_id, category),
  FOREIGN KEY (tenant_id, livemode, run_id) REFERENCES level_runs (tenant_id, livemode, id)
);
CREATE INDEX level_proposals_technician_idx ON level_proposals (tenant_id, livemode, technician_id, created_at);
SELECT enable_tenant_rls('level_proposals');
REVOKE DELETE ON level_proposals FROM servicenet_app;
SELECT audit_table('level_proposals', 'id', '{}'); -- audit_rows (035)

CREATE TABLE level_appeals (
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
  FOREIGN KEY (tenant_id, livemode, proposal_id) REFERENCES level_proposals (tenant_id, livemode, id)
);
SELECT enable_tenant_rls('level_appeals');
REVOKE DELETE ON level_appeals FROM servicenet_app;
SELECT audit_table('level_appeals', 'proposal_id', '{}'); -- audit_rows (035)

-- Append-only: every level change with old and new level, who and why.
CREATE TABLE level_history (
  tenant_id     text NOT NULL REFERENCES tenants (id),
  livemode      boolean NOT NULL DEFAULT true,
  seq           bigint GENERATED ALWAYS AS IDENTITY,
  technician_id text NOT NULL,
  category      text NOT NULL,
  old_level     int,
  new_level     int NOT NULL,
  proposal_id   text,
  actor         text NOT NULL,
  reason        text NOT NULL,
  at            timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (tenant_id, livemode, seq)
);
CREATE INDEX level_history_technician_idx ON level_history (tenant_id, livemode, technician_id, seq);
SELECT enable_tenant_rls('level_history');
REVOKE UPDATE, DELETE ON level_history FROM servicenet_app;
