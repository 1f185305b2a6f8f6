-- Owned by tenants/complaints: complaints, complaint_changes
--
-- Complaints: a customer's complaint against a ticket, a node or a
-- technician, with its category and severity, a resolution deadline (SLA)
-- that escalates one level at a time when missed (dispatcher, node manager,
-- brand), the resolution and the customer's rating of it. Every change is
-- in complaint_changes (append-only) and on the tenant's event feed. They
-- count in the quality KPIs (complaint rate per technician and node).

CREATE TABLE complaints (
  tenant_id         text NOT NULL REFERENCES tenants (id),
  id                text NOT NULL CHECK (id ~ '^cmp_[0-9a-z]{26}$'),
  ticket_id         text,
  node_id           text,
  technician_id     text,
  storefront_id     text,
  customer_id       text,
  category          text NOT NULL CHECK (category IN ('late', 'attitude', 'fee', 'quality', 'repeat', 'other')),
  severity          text NOT NULL CHECK (severity IN ('low', 'medium', 'high', 'critical')),
  description       text NOT NULL CHECK (length(description) BETWEEN 1 AND 2000),
  state             text NOT NULL CHECK (state IN ('open', 'investigating', 'reopened', 'resolved', 'closed')),
  -- the running resolution deadline; the SLA timer escalates when it passes
  -- with the complaint still open, investigating or reopened
  sla_due_at        timestamptz NOT NULL,
  -- first missed deadline (null: never breached)
  sla_breached_at   timestamptz,
  -- 0 none, 1 dispatcher, 2 node manager, 3 brand
  escalation_level  int NOT NULL DEFAULT 0 CHECK (escalation_level BETWEEN 0 AND 3),
  resolution        text CHECK (length(resolution) <= 2000),
  resolved_at       timestamptz,
  resolution_rating int CHECK (resolution_rating BETWEEN 1 AND 5),
  rating_comment    text CHECK (length(rating_comment) <= 1000),
  rated_at          timestamptz,
  reopen_count      int NOT NULL DEFAULT 0,
  closed_at         timestamptz,
  created_by        text NOT NULL,
  version           int NOT NULL DEFAULT 1,
  created_at        timestamptz NOT NULL DEFAULT now(),
  updated_at        timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (tenant_id, id),
  FOREIGN KEY (tenant_id, ticket_id) REFERENCES tickets (tenant_id, id),
  FOREIGN KEY (tenant_id, node_id) REFERENCES nodes (tenant_id, id),
  FOREIGN KEY (tenant_id, technician_id) REFERENCES technicians (tenant_id, id),
  FOREIGN KEY (tenant_id, storefront_id) REFERENCES storefronts (tenant_id, id),
  FOREIGN KEY (tenant_id, customer_id) REFERENCES customers (tenant_id, id),
  CONSTRAINT complaints_subject_check CHECK (ticket_id IS NOT NULL OR node_id IS NOT NULL OR technician_id IS NOT NULL)
);
CREATE INDEX complaints_state_idx ON complaints (tenant_id, state, id);
CREATE INDEX complaints_node_idx ON complaints (tenant_id, node_id, id) WHERE node_id IS NOT NULL;
CREATE INDEX complaints_technician_idx ON complaints (tenant_id, technician_id, id) WHERE technician_id IS NOT NULL;
CREATE INDEX complaints_ticket_idx ON complaints (tenant_id, ticket_id) WHERE ticket_id IS NOT NULL;
CREATE INDEX complaints_storefront_idx ON complaints (tenant_id, storefront_id, id) WHERE storefront_id IS NOT NULL;
CREATE INDEX complaints_overdue_idx ON complaints (tenant_id, sla_due_at)
  WHERE state IN ('open', 'investigating', 'reopened');
CREATE INDEX complaints_created_idx ON complaints (tenant_id, created_at);
SELECT enable_tenant_rls('complaints');
REVOKE DELETE ON complaints FROM servicenet_app;

-- Everything that happened to a complaint: filing, each transition, each
-- escalation (manual or by the SLA timer), rating.
CREATE TABLE complaint_changes (
  tenant_id    text NOT NULL REFERENCES tenants (id),
  complaint_id text NOT NULL,
  seq          bigint GENERATED ALWAYS AS IDENTITY,
  action       text NOT NULL CHECK (action IN ('file', 'investigate', 'escalate', 'sla_breached', 'resolve', 'rate', 'close')),
  from_state   text,
  to_state     text NOT NULL,
  from_level   int,
  to_level     int NOT NULL,
  note         text,
  actor        text NOT NULL,
  at           timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (tenant_id, complaint_id, seq),
  FOREIGN KEY (tenant_id, complaint_id) REFERENCES complaints (tenant_id, id)
);
SELECT enable_tenant_rls('complaint_changes');
REVOKE DELETE, UPDATE ON complaint_changes FROM servicenet_app;
