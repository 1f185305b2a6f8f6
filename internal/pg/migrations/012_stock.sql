-- Owned by tenants/stock: part_stock, stock_moves, ticket_parts, loaners, loaner_loans
--
-- Node parts stock and loaner units. A node's stock of a part counts what is
-- on its shelf (on_hand, of which reserved is set aside for tickets) and the
-- defective parts taken back from units and held for the brand. Every
-- movement is a stock_moves row; a ticket's requisition lines are its
-- ticket_parts. Loaners are units a node lends to customers while their own
-- unit is carried in, with the history of every loan.

CREATE TABLE part_stock (
  tenant_id   text NOT NULL REFERENCES tenants (id),
  node_id     text NOT NULL,
  part_id     text NOT NULL,
  on_hand     int NOT NULL DEFAULT 0,
  reserved    int NOT NULL DEFAULT 0,
  -- defective parts returned from tickets and held for the brand
  defective   int NOT NULL DEFAULT 0,
  version     int NOT NULL DEFAULT 1,
  updated_at  timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (tenant_id, node_id, part_id),
  FOREIGN KEY (tenant_id, node_id) REFERENCES nodes (tenant_id, id),
  FOREIGN KEY (tenant_id, part_id) REFERENCES parts (tenant_id, id),
  CONSTRAINT part_stock_reserved_check CHECK (reserved >= 0),
  CONSTRAINT part_stock_on_hand_check CHECK (on_hand >= reserved),
  CONSTRAINT part_stock_defective_check CHECK (defective >= 0)
);
CREATE INDEX part_stock_part_idx ON part_stock (tenant_id, part_id);
SELECT enable_tenant_rls('part_stock');
REVOKE DELETE ON part_stock FROM servicenet_app;

-- Every movement of a node's stock, in the order it happened (seq).
-- receive/return add to on_hand, issue takes from on_hand (and reserved),
-- reserve/release move between available and reserved, use records a part
-- fitted, return_defective and adjust_defective change the defective count,
-- adjust corrects on_hand after a count (quantity is the signed change).
CREATE TABLE stock_moves (
  tenant_id  text NOT NULL REFERENCES tenants (id),
  id         text NOT NULL CHECK (id ~ '^stm_[0-9a-z]{26}$'),
  seq        bigint GENERATED ALWAYS AS IDENTITY,
  node_id    text NOT NULL,
  part_id    text NOT NULL,
  ticket_id  text,
  kind       text NOT NULL CHECK (kind IN ('receive', 'adjust', 'adjust_defective', 'reserve', 'release', 'issue', 'use',
                                           'return', 'return_defective')),
  quantity   int NOT NULL CHECK (quantity <> 0),
  note       text CHECK (length(note) <= 500),
  actor      text NOT NULL,
  at         timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (tenant_id, id),
  FOREIGN KEY (tenant_id, node_id) REFERENCES nodes (tenant_id, id),
  FOREIGN KEY (tenant_id, part_id) REFERENCES parts (tenant_id, id),
  FOREIGN KEY (tenant_id, ticket_id) REFERENCES tickets (tenant_id, id),
  CHECK (quantity > 0 OR kind IN ('adjust', 'adjust_defective'))
);
CREATE INDEX stock_moves_node_idx ON stock_moves (tenant_id, node_id, seq);
CREATE INDEX stock_moves_ticket_idx ON stock_moves (tenant_id, ticket_id) WHERE ticket_id IS NOT NULL;
SELECT enable_tenant_rls('stock_moves');
REVOKE DELETE, UPDATE ON stock_moves FROM servicenet_app;

-- A ticket's requisition lines: counts per part, cumulative. reserved counts
-- what was reserved (net of releases, including what was issued since);
-- issued what left the shelf; used what was fitted; returned what came back
-- unused; defective_returned the replaced parts taken back.
CREATE TABLE ticket_parts (
  tenant_id          text NOT NULL REFERENCES tenants (id),
  ticket_id          text NOT NULL,
  part_id            text NOT NULL,
  -- the node whose stock the line moves
  node_id            text NOT NULL,
  reserved           int NOT NULL DEFAULT 0,
  issued             int NOT NULL DEFAULT 0,
  used               int NOT NULL DEFAULT 0,
  returned           int NOT NULL DEFAULT 0,
  defective_returned int NOT NULL DEFAULT 0,
  updated_at         timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (tenant_id, ticket_id, part_id),
  FOREIGN KEY (tenant_id, ticket_id) REFERENCES tickets (tenant_id, id),
  FOREIGN KEY (tenant_id, part_id) REFERENCES parts (tenant_id, id),
  FOREIGN KEY (tenant_id, node_id) REFERENCES nodes (tenant_id, id),
  CHECK (reserved >= issued AND issued >= used + returned AND used >= defective_returned
         AND returned >= 0 AND defective_returned >= 0)
);
SELECT enable_tenant_rls('ticket_parts');
REVOKE DELETE ON ticket_parts FROM servicenet_app;

-- Loaner units a node lends while a customer's unit is carried in.
CREATE TABLE loaners (
  tenant_id   text NOT NULL REFERENCES tenants (id),
  id          text NOT NULL CHECK (id ~ '^lnr_[0-9a-z]{26}$'),
  node_id     text NOT NULL,
  category    text NOT NULL CHECK (product_category_valid(category)),
  model_id    text,
  serial      text NOT NULL CHECK (length(serial) BETWEEN 1 AND 64),
  note        text CHECK (length(note) <= 500),
  status      text NOT NULL DEFAULT 'available' CHECK (status IN ('available', 'lent', 'retired')),
  -- the current loan
  ticket_id   text,
  lent_at     timestamptz,
  due_on      date,
  version     int NOT NULL DEFAULT 1,
  created_at  timestamptz NOT NULL DEFAULT now(),
  updated_at  timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (tenant_id, id),
  CONSTRAINT loaners_tenant_id_serial_key UNIQUE (tenant_id, serial),
  FOREIGN KEY (tenant_id, node_id) REFERENCES nodes (tenant_id, id),
  FOREIGN KEY (tenant_id, model_id) REFERENCES product_models (tenant_id, id),
  FOREIGN KEY (tenant_id, ticket_id) REFERENCES tickets (tenant_id, id),
  CHECK ((status = 'lent') = (ticket_id IS NOT NULL)),
  CHECK ((status = 'lent') = (lent_at IS NOT NULL AND due_on IS NOT NULL))
);
-- A ticket has at most one loaner at a time.
CREATE UNIQUE INDEX loaners_ticket_key ON loaners (tenant_id, ticket_id) WHERE ticket_id IS NOT NULL;
CREATE INDEX loaners_node_idx ON loaners (tenant_id, node_id, category, status);
CREATE INDEX loaners_due_idx ON loaners (tenant_id, due_on) WHERE status = 'lent';
SELECT enable_tenant_rls('loaners');
REVOKE DELETE ON loaners FROM servicenet_app;

-- Every loan of a loaner; only the return may be written later.
CREATE TABLE loaner_loans (
  tenant_id   text NOT NULL REFERENCES tenants (id),
  loaner_id   text NOT NULL,
  seq         int NOT NULL CHECK (seq >= 1),
  ticket_id   text NOT NULL,
  node_id     text NOT NULL,
  lent_at     timestamptz NOT NULL,
  due_on      date NOT NULL,
  lent_by     text NOT NULL,
  returned_at timestamptz,
  condition   text CHECK (condition IN ('good', 'damaged')),
  returned_by text,
  PRIMARY KEY (tenant_id, loaner_id, seq),
  FOREIGN KEY (tenant_id, loaner_id) REFERENCES loaners (tenant_id, id),
  FOREIGN KEY (tenant_id, ticket_id) REFERENCES tickets (tenant_id, id),
  FOREIGN KEY (tenant_id, node_id) REFERENCES nodes (tenant_id, id),
  CHECK ((returned_at IS NULL) = (condition IS NULL))
);
CREATE INDEX loaner_loans_ticket_idx ON loaner_loans (tenant_id, ticket_id, lent_at);
SELECT enable_tenant_rls('loaner_loans');
REVOKE DELETE, UPDATE ON loaner_loans FROM servicenet_app;
GRANT UPDATE (returned_at, condition, returned_by) ON loaner_loans TO servicenet_app;
