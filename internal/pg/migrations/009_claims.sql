-- Owned by tenants/claims: claim_policies, claims, claim_versions, claim_state_changes
--
-- Claims: warranty and protection-plan claims (storefronts on behalf of a
-- customer, the brand's agents) and repair points' reimbursement claims,
-- each with its submitted versions, state history and the tenant's
-- adjudication policy. Amounts are integer minor units in the tenant's
-- currency; dates are calendar dates in the tenant's time zone.

CREATE TABLE claim_policies (
  tenant_id                text NOT NULL REFERENCES tenants (id),
  auto_approve_limit       bigint NOT NULL CHECK (auto_approve_limit >= 0),
  duplicate_window_days    int NOT NULL CHECK (duplicate_window_days BETWEEN 0 AND 3650),
  parts_markup_cap_percent int NOT NULL CHECK (parts_markup_cap_percent BETWEEN 0 AND 1000),
  version                  int NOT NULL DEFAULT 1,
  updated_at               timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (tenant_id)
);
SELECT enable_tenant_rls('claim_policies');

CREATE TABLE claims (
  tenant_id        text NOT NULL REFERENCES tenants (id),
  id               text NOT NULL CHECK (id ~ '^clm_[0-9a-z]{26}$'),
  kind             text NOT NULL CHECK (kind IN ('warranty', 'extended_warranty', 'accidental_damage', 'swap_for_repair',
                                                 'no_reason_repair', 'reimbursement')),
  unit_id          text NOT NULL,
  contract_id      text,
  storefront_id    text,
  node_id          text,
  -- whose reference it is: the storefront id, the node id or 'brand'
  submitter        text NOT NULL,
  reference        text NOT NULL CHECK (length(reference) BETWEEN 1 AND 64),
  -- hash of the first submission's body: the same POST again is a retry
  request_hash     text NOT NULL,
  state            text NOT NULL CHECK (state IN ('submitted', 'under_review', 'approved', 'rejected', 'needs_info', 'withdrawn', 'paid')),
  state_reason     text,
  current_version  int NOT NULL DEFAULT 1,
  -- the current version's fault, for duplicate detection
  fault_cause      text NOT NULL,
  occurred_on      date NOT NULL,
  currency         text NOT NULL CHECK (currency ~ '^[A-Z]{3}$'),
  -- the adjudication of the current version
  flags            jsonb NOT NULL DEFAULT '[]',
  reasons          text[] NOT NULL DEFAULT '{}',
  decision         jsonb,
  approved_on      date,
  paid_at          timestamptz,
  created_by       text NOT NULL,
  revision         int NOT NULL DEFAULT 1,
  created_at       timestamptz NOT NULL DEFAULT now(),
  updated_at       timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (tenant_id, id),
  FOREIGN KEY (tenant_id, unit_id) REFERENCES units (tenant_id, id),
  FOREIGN KEY (tenant_id, contract_id) REFERENCES contracts (tenant_id, id),
  FOREIGN KEY (tenant_id, storefront_id) REFERENCES storefronts (tenant_id, id),
  FOREIGN KEY (tenant_id, node_id) REFERENCES nodes (tenant_id, id)
);
CREATE UNIQUE INDEX claims_submitter_reference_key ON claims (tenant_id, submitter, reference);
CREATE INDEX claims_unit_idx ON claims (tenant_id, unit_id, fault_cause, occurred_on);
CREATE INDEX claims_storefront_idx ON claims (tenant_id, storefront_id, id) WHERE storefront_id IS NOT NULL;
CREATE INDEX claims_node_idx ON claims (tenant_id, node_id, id) WHERE node_id IS NOT NULL;
CREATE INDEX claims_state_idx ON claims (tenant_id, state, id);
SELECT enable_tenant_rls('claims');
REVOKE DELETE ON claims FROM servicenet_app;

-- Every submission of a claim: resubmission adds a version, never rewrites one.
-- lines: [{kind, part_id, part_number, quantity, description, requested,
-- calculated, approved, decision, reason}], amounts in minor units.
CREATE TABLE claim_versions (
  tenant_id              text NOT NULL REFERENCES tenants (id),
  claim_id               text NOT NULL,
  version                int NOT NULL CHECK (version >= 1),
  fault_cause            text NOT NULL,
  fault_part_categories  text[] NOT NULL DEFAULT '{}',
  fault_description      text CHECK (length(fault_description) <= 2000),
  occurred_on            date NOT NULL,
  ticket_id              text,
  service_record_id      text,
  lines                  jsonb NOT NULL,
  total_requested        bigint NOT NULL CHECK (total_requested >= 0),
  currency               text NOT NULL CHECK (currency ~ '^[A-Z]{3}$'),
  note                   text CHECK (length(note) <= 2000),
  submitted_by           text NOT NULL,
  submitted_at           timestamptz NOT NULL DEFAULT now(),
  adjudicated_at         timestamptz,
  PRIMARY KEY (tenant_id, claim_id, version),
  FOREIGN KEY (tenant_id, claim_id) REFERENCES claims (tenant_id, id)
);
SELECT enable_tenant_rls('claim_versions');
REVOKE DELETE, UPDATE ON claim_versions FROM servicenet_app;
GRANT UPDATE (lines, adjudicated_at) ON claim_versions TO servicenet_app;

CREATE TABLE claim_state_changes (
  tenant_id   text NOT NULL REFERENCES tenants (id),
  claim_id    text NOT NULL,
  seq         bigint GENERATED ALWAYS AS IDENTITY,
  version     int NOT NULL,
  from_state  text,
  to_state    text NOT NULL,
  reason      text NOT NULL,
  actor       text NOT NULL,
  changed_at  timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (tenant_id, claim_id, seq),
  FOREIGN KEY (tenant_id, claim_id) REFERENCES claims (tenant_id, id)
);
SELECT enable_tenant_rls('claim_state_changes');
REVOKE DELETE, UPDATE ON claim_state_changes FROM servicenet_app;
