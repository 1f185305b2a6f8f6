-- Owned by tenants/tickets: sla_policies, ticket_counters, tickets, ticket_timeline, ticket_appointments, ticket_callbacks, ticket_sla_breaches, reconciliation_findings
--
-- Service tickets: intake to callback. A ticket's current state lives on the
-- ticket row; everything that happened to it is on its timeline (append-only)
-- and on the tenant's event feed. SLA timers are River jobs inserted in the
-- transaction that starts them; a breach is recorded once per (ticket, SLA,
-- escalation level). Amounts are integer minor units in the tenant's currency.

-- Technician keys name the technician they act as: tickets they may see are
-- those assigned to them.
ALTER TABLE api_keys ADD COLUMN technician_id text;
ALTER TABLE api_keys ADD CONSTRAINT api_keys_technician_fkey
  FOREIGN KEY (tenant_id, technician_id) REFERENCES technicians (tenant_id, id);

-- The tenant's SLA policy, in minutes (defaults from the seeds).
CREATE TABLE sla_policies (
  tenant_id                   text NOT NULL REFERENCES tenants (id),
  route_minutes               int NOT NULL DEFAULT 5 CHECK (route_minutes BETWEEN 1 AND 10080),
  first_contact_minutes       int NOT NULL DEFAULT 120 CHECK (first_contact_minutes BETWEEN 1 AND 10080),
  response_minutes            int NOT NULL DEFAULT 1440 CHECK (response_minutes BETWEEN 1 AND 43200),
  completion_minutes          int NOT NULL DEFAULT 4320 CHECK (completion_minutes BETWEEN 1 AND 43200),
  callback_minutes            int NOT NULL DEFAULT 4320 CHECK (callback_minutes BETWEEN 1 AND 43200),
  guidance_callback_minutes   int NOT NULL DEFAULT 120 CHECK (guidance_callback_minutes BETWEEN 1 AND 10080),
  observe_callback_minutes    int NOT NULL DEFAULT 30 CHECK (observe_callback_minutes BETWEEN 1 AND 10080),
  uncertain_callback_minutes  int NOT NULL DEFAULT 180 CHECK (uncertain_callback_minutes BETWEEN 1 AND 10080),
  -- a breach not resolved after this long escalates one level further
  escalation_minutes          int NOT NULL DEFAULT 60 CHECK (escalation_minutes BETWEEN 1 AND 10080),
  -- unreachable customers: close after this many unreachable callbacks (0: never)
  unreachable_close_after     int NOT NULL DEFAULT 3 CHECK (unreachable_close_after BETWEEN 0 AND 10),
  version                     int NOT NULL DEFAULT 1,
  updated_at                  timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (tenant_id)
);
SELECT enable_tenant_rls('sla_policies');

-- Ticket numbers: a per-tenant, per-day counter (row-locked by the intake).
CREATE TABLE ticket_counters (
  tenant_id text NOT NULL REFERENCES tenants (id),
  day       date NOT NULL,
  last      int NOT NULL,
  PRIMARY KEY (tenant_id, day)
);
SELECT enable_tenant_rls('ticket_counters');

CREATE TABLE tickets (
  tenant_id          text NOT NULL REFERENCES tenants (id),
  id                 text NOT NULL CHECK (id ~ '^tkt_[0-9a-z]{26}$'),
  -- human-readable, unique per tenant: SN-YYYYMMDD-NNNNN
  number             text NOT NULL,
  channel            text NOT NULL CHECK (channel IN ('hotline', 'web', 'app', 'storefront', 'device_alarm')),
  type               text NOT NULL CHECK (type IN ('install', 'repair', 'maintenance', 'consultation', 'return', 'exchange')),
  state              text NOT NULL CHECK (state IN ('new', 'needs_info', 'triaged', 'remote_guidance', 'resolved',
                       'dispatched', 'assigned', 'scheduled', 'on_site', 'awaiting_parts', 'carry_in', 'returned',
                       'completed', 'closed', 'reopened', 'cancelled')),
  state_reason       text,
  priority           text NOT NULL DEFAULT 'normal' CHECK (priority IN ('low', 'normal', 'high', 'urgent')),
  storefront_id      text,
  external_reference text CHECK (length(external_reference) BETWEEN 1 AND 64),
  customer_id        text NOT NULL,
  unit_id            text,
  model_id           text,
  category           text,
  -- the unit as described at intake while it is not yet identified:
  -- {model_id, serial, purchase_date}
  unit_details       jsonb NOT NULL DEFAULT '{}',
  -- {name, phone} as given at intake
  contact            jsonb NOT NULL,
  -- {region_code, line, latitude, longitude}
  address            jsonb NOT NULL,
  region_code        text,
  -- {symptom, codes[], customer_request, description}
  fault              jsonb NOT NULL,
  preferred_start    timestamptz,
  preferred_end      timestamptz,
  -- needs_info: [{field, problem}] what to confirm with the customer
  verification       jsonb NOT NULL DEFAULT '[]',
  -- triage: remote / on_site / carry_in, the service kind and skill needed
  mode               text CHECK (mode IN ('remote', 'on_site', 'carry_in')),
  service_kind       text,
  required_level     int CHECK (required_level BETWEEN 1 AND 5),
  hard_fault         boolean NOT NULL DEFAULT false,
  guidance           jsonb,
  -- dispatch
  node_id            text,
  technician_id      text,
  dispatch           jsonb,
  dispatch_count     int NOT NULL DEFAULT 0,
  -- appointment (current window; history in ticket_appointments)
  window_start       timestamptz,
  window_end         timestamptz,
  first_contact_at   timestamptz,
  arrived_at         timestamptz,
  arrival            text CHECK (arrival IN ('early', 'on_time', 'late', 'very_late')),
  arrival_minutes    int,
  visits             int NOT NULL DEFAULT 0,
  -- on site: {cause, codes[], notes, hard_fault, uncertain}; entitlement decision; quote
  diagnosis          jsonb,
  entitlement        jsonb,
  quote_id           text,
  price_shown_at     timestamptz,
  carry_in           jsonb,
  swap_id            text,
  -- completion: {test_run, lines[], waivers[], customer_total, brand_total}
  completion         jsonb,
  customer_total     bigint,
  currency           text CHECK (currency ~ '^[A-Z]{3}$'),
  uncertain_fix      boolean NOT NULL DEFAULT false,
  completed_at       timestamptz,
  -- sign-off by a one-time code sent to the customer (hash only)
  signoff_code_hash  text,
  signoff_code_sent_at timestamptz,
  signoff_code_expires_at timestamptz,
  signoff_attempts   int NOT NULL DEFAULT 0,
  signed_off_at      timestamptz,
  signed_by_code     boolean NOT NULL DEFAULT false,
  rating             int CHECK (rating BETWEEN 1 AND 5),
  rating_comment     text CHECK (length(rating_comment) <= 1000),
  -- follow-up
  callback_due_at    timestamptz,
  callback_outcome   text CHECK (callback_outcome IN ('satisfied', 'unsatisfied', 'unreachable')),
  unreachable_count  int NOT NULL DEFAULT 0,
  reopen_count       int NOT NULL DEFAULT 0,
  -- the paid repair this ticket repeats, when the repeat rule applies
  repeat_of          text,
  -- SLA deadlines currently running (null: met or not started)
  route_due_at       timestamptz,
  first_contact_due_at timestamptz,
  response_due_at    timestamptz,
  completion_due_at  timestamptz,
  escalation_level   int NOT NULL DEFAULT 0 CHECK (escalation_level BETWEEN 0 AND 3),
  closed_at          timestamptz,
  cancelled_at       timestamptz,
  created_by         text NOT NULL,
  version            int NOT NULL DEFAULT 1,
  created_at         timestamptz NOT NULL DEFAULT now(),
  updated_at         timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (tenant_id, id),
  UNIQUE (tenant_id, number),
  FOREIGN KEY (tenant_id, customer_id) REFERENCES customers (tenant_id, id),
  FOREIGN KEY (tenant_id, unit_id) REFERENCES units (tenant_id, id),
  FOREIGN KEY (tenant_id, model_id) REFERENCES product_models (tenant_id, id),
  FOREIGN KEY (tenant_id, storefront_id) REFERENCES storefronts (tenant_id, id),
  FOREIGN KEY (tenant_id, node_id) REFERENCES nodes (tenant_id, id),
  FOREIGN KEY (tenant_id, technician_id) REFERENCES technicians (tenant_id, id),
  FOREIGN KEY (tenant_id, quote_id) REFERENCES quotes (tenant_id, id),
  CHECK (preferred_end IS NULL OR preferred_end > preferred_start),
  CHECK (window_end IS NULL OR window_end > window_start)
);
CREATE UNIQUE INDEX tickets_storefront_reference_key ON tickets (tenant_id, storefront_id, external_reference)
  WHERE external_reference IS NOT NULL;
CREATE INDEX tickets_state_idx ON tickets (tenant_id, state, id);
CREATE INDEX tickets_node_idx ON tickets (tenant_id, node_id, state, id) WHERE node_id IS NOT NULL;
CREATE INDEX tickets_technician_idx ON tickets (tenant_id, technician_id, window_start) WHERE technician_id IS NOT NULL;
CREATE INDEX tickets_unit_idx ON tickets (tenant_id, unit_id, id) WHERE unit_id IS NOT NULL;
CREATE INDEX tickets_customer_idx ON tickets (tenant_id, customer_id, id);
CREATE INDEX tickets_storefront_idx ON tickets (tenant_id, storefront_id, id) WHERE storefront_id IS NOT NULL;
CREATE INDEX tickets_completed_idx ON tickets (tenant_id, completed_at) WHERE completed_at IS NOT NULL;
SELECT enable_tenant_rls('tickets');
REVOKE DELETE ON tickets FROM servicenet_app;

-- The ticket's timeline: who did what, when.
CREATE TABLE ticket_timeline (
  tenant_id   text NOT NULL REFERENCES tenants (id),
  ticket_id   text NOT NULL,
  seq         bigint GENERATED ALWAYS AS IDENTITY,
  action      text NOT NULL,
  from_state  text,
  to_state    text NOT NULL,
  reason      text,
  detail      jsonb NOT NULL DEFAULT '{}',
  actor       text NOT NULL,
  at          timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (tenant_id, ticket_id, seq),
  FOREIGN KEY (tenant_id, ticket_id) REFERENCES tickets (tenant_id, id)
);
SELECT enable_tenant_rls('ticket_timeline');
REVOKE DELETE, UPDATE ON ticket_timeline FROM servicenet_app;

-- Appointment history: every window agreed, with why it changed.
CREATE TABLE ticket_appointments (
  tenant_id    text NOT NULL REFERENCES tenants (id),
  ticket_id    text NOT NULL,
  seq          int NOT NULL,
  window_start timestamptz NOT NULL,
  window_end   timestamptz NOT NULL CHECK (window_end > window_start),
  reason       text NOT NULL CHECK (reason IN ('agreed', 'customer_request', 'technician_conflict', 'parts', 'other')),
  note         text CHECK (length(note) <= 500),
  technician_id text,
  actor        text NOT NULL,
  at           timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (tenant_id, ticket_id, seq),
  FOREIGN KEY (tenant_id, ticket_id) REFERENCES tickets (tenant_id, id)
);
SELECT enable_tenant_rls('ticket_appointments');
REVOKE DELETE, UPDATE ON ticket_appointments FROM servicenet_app;

-- Callback attempts and their outcome.
CREATE TABLE ticket_callbacks (
  tenant_id  text NOT NULL REFERENCES tenants (id),
  ticket_id  text NOT NULL,
  seq        int NOT NULL,
  outcome    text NOT NULL CHECK (outcome IN ('satisfied', 'unsatisfied', 'unreachable')),
  note       text CHECK (length(note) <= 1000),
  actor      text NOT NULL,
  at         timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (tenant_id, ticket_id, seq),
  FOREIGN KEY (tenant_id, ticket_id) REFERENCES tickets (tenant_id, id)
);
SELECT enable_tenant_rls('ticket_callbacks');
REVOKE DELETE, UPDATE ON ticket_callbacks FROM servicenet_app;

-- SLA breaches: one row per ticket, SLA, deadline and escalation level, so a
-- timer that runs twice records it once.
CREATE TABLE ticket_sla_breaches (
  tenant_id   text NOT NULL REFERENCES tenants (id),
  ticket_id   text NOT NULL,
  sla         text NOT NULL CHECK (sla IN ('route', 'first_contact', 'response', 'completion', 'callback')),
  due_at      timestamptz NOT NULL,
  level       int NOT NULL CHECK (level BETWEEN 1 AND 3),
  escalated_to text NOT NULL CHECK (escalated_to IN ('dispatcher', 'node_manager', 'brand')),
  node_id     text,
  breached_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (tenant_id, ticket_id, sla, due_at, level),
  FOREIGN KEY (tenant_id, ticket_id) REFERENCES tickets (tenant_id, id)
);
CREATE INDEX ticket_sla_breaches_at_idx ON ticket_sla_breaches (tenant_id, breached_at);
SELECT enable_tenant_rls('ticket_sla_breaches');
REVOKE DELETE, UPDATE ON ticket_sla_breaches FROM servicenet_app;

-- Daily reconciliation: completed tickets whose sign-off is missing or whose
-- "satisfied" rating the customer did not confirm by code.
CREATE TABLE reconciliation_findings (
  tenant_id   text NOT NULL REFERENCES tenants (id),
  day         date NOT NULL,
  ticket_id   text NOT NULL,
  problem     text NOT NULL CHECK (problem IN ('no_signoff', 'rating_not_confirmed')),
  node_id     text,
  technician_id text,
  found_at    timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (tenant_id, day, ticket_id, problem),
  FOREIGN KEY (tenant_id, ticket_id) REFERENCES tickets (tenant_id, id)
);
SELECT enable_tenant_rls('reconciliation_findings');
REVOKE DELETE, UPDATE ON reconciliation_findings FROM servicenet_app;
