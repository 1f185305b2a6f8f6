-- Owned by tenants/tickets: ticket_visits, ticket_tasks
--
-- Visits as they really happen: every technician visit of a ticket with its
-- own arrival (a check-in no longer overwrites the last one), the attempts
-- that ended in a visit exception (customer not home, entry refused,
-- credentials doubted, product elsewhere, power cut), the technician's
-- checklist of statements, and the follow-up tasks the seeds prescribe when
-- the technician runs late or the customer refuses entry. Late arrivals are
-- SLA breaches of their own ("arrival").

-- One row per visit attempt: a check-in, or an attempt that ended in an
-- exception before or after checking in. round is the ticket's reopen count
-- at the visit: visits of an earlier round were a service the network
-- completed and the customer found unsatisfactory.
CREATE TABLE ticket_visits (
  tenant_id       text NOT NULL REFERENCES tenants (id),
  ticket_id       text NOT NULL,
  seq             int NOT NULL CHECK (seq >= 1),
  round           int NOT NULL CHECK (round >= 0),
  technician_id   text,
  window_start    timestamptz,
  window_end      timestamptz,
  arrived_at      timestamptz NOT NULL,
  arrival_minutes int,
  arrival         text CHECK (arrival IN ('early', 'on_time', 'late', 'very_late')),
  outcome         text NOT NULL CHECK (outcome IN ('on_site', 'customer_not_home', 'entry_refused',
                    'credentials_doubted', 'product_elsewhere', 'power_cut')),
  -- whether the visit counts against the network (repeat-visit promise)
  network_visit   boolean NOT NULL,
  -- the exception's report: knock protocol, licence shown, where the product is ...
  exception       jsonb,
  -- the technician's statements: licence shown and matching, charges within
  -- the price list, conduct breaches
  checklist       jsonb,
  actor           text NOT NULL,
  at              timestamptz NOT NULL DEFAULT now(),
  ended_at        timestamptz,
  PRIMARY KEY (tenant_id, ticket_id, seq),
  FOREIGN KEY (tenant_id, ticket_id) REFERENCES tickets (tenant_id, id),
  FOREIGN KEY (tenant_id, technician_id) REFERENCES technicians (tenant_id, id)
);
CREATE INDEX ticket_visits_technician_idx ON ticket_visits (tenant_id, technician_id, arrived_at)
  WHERE technician_id IS NOT NULL;
SELECT enable_tenant_rls('ticket_visits');
REVOKE DELETE ON ticket_visits FROM servicenet_app;

-- Follow-up tasks on a ticket: call the customer before the window when
-- running late, apologise, a gift when more than 15 minutes late, the node
-- manager's visit when the apology is refused or entry was refused, reach a
-- customer who was not home. One task of a kind per appointment window.
CREATE TABLE ticket_tasks (
  tenant_id     text NOT NULL REFERENCES tenants (id),
  id            text NOT NULL CHECK (id ~ '^tsk_[0-9a-z]{26}$'),
  ticket_id     text NOT NULL,
  kind          text NOT NULL CHECK (kind IN ('call_customer', 'apologise', 'gift', 'manager_visit', 'reach_customer')),
  window_start  timestamptz NOT NULL,
  reason        text NOT NULL CHECK (length(reason) BETWEEN 1 AND 500),
  assignee      text NOT NULL CHECK (assignee IN ('technician', 'node_manager', 'agent')),
  due_at        timestamptz NOT NULL,
  state         text NOT NULL DEFAULT 'open' CHECK (state IN ('open', 'done', 'refused')),
  note          text CHECK (length(note) <= 1000),
  node_id       text,
  technician_id text,
  completed_by  text,
  completed_at  timestamptz,
  created_at    timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (tenant_id, id),
  UNIQUE (tenant_id, ticket_id, kind, window_start),
  FOREIGN KEY (tenant_id, ticket_id) REFERENCES tickets (tenant_id, id),
  FOREIGN KEY (tenant_id, node_id) REFERENCES nodes (tenant_id, id),
  FOREIGN KEY (tenant_id, technician_id) REFERENCES technicians (tenant_id, id),
  CHECK ((state = 'open') = (completed_at IS NULL))
);
CREATE INDEX ticket_tasks_open_idx ON ticket_tasks (tenant_id, state, due_at);
SELECT enable_tenant_rls('ticket_tasks');
REVOKE DELETE ON ticket_tasks FROM servicenet_app;

-- Late arrival is an SLA of its own: due at the window's start.
ALTER TABLE ticket_sla_breaches DROP CONSTRAINT ticket_sla_breaches_sla_check;
ALTER TABLE ticket_sla_breaches ADD CONSTRAINT ticket_sla_breaches_sla_check
  CHECK (sla IN ('route', 'first_contact', 'response', 'completion', 'callback', 'arrival'));
