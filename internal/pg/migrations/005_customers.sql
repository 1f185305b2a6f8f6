-- Owned by tenants/customers: storefronts, customers, customer_phones, units, service_records
--
-- Storefronts (the brand's retail partners), customers and their registered
-- units, and each unit's service history.

CREATE TABLE storefronts (
  tenant_id   text NOT NULL REFERENCES tenants (id),
  id          text NOT NULL CHECK (id ~ '^sfr_[0-9a-z]{26}$'),
  code        text NOT NULL CHECK (code ~ '^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$'),
  name        text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
  -- the marketplace the storefront sells on
  platform    text NOT NULL CHECK (platform IN ('tmall', 'jd', 'pinduoduo', 'douyin', 'suning', 'brand_store', 'offline', 'other')),
  -- a suspended storefront's keys still read, but register and sell nothing
  status      text NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'suspended')),
  contact     jsonb NOT NULL DEFAULT '{}',
  version     int NOT NULL DEFAULT 1,
  created_at  timestamptz NOT NULL DEFAULT now(),
  updated_at  timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (tenant_id, id),
  UNIQUE (tenant_id, code)
);
SELECT enable_tenant_rls('storefronts');

-- A storefront key names a storefront of its tenant. NOT VALID: keys made
-- before storefronts existed were only format-checked; new ones are checked.
ALTER TABLE api_keys ADD CONSTRAINT api_keys_storefront_fkey
  FOREIGN KEY (tenant_id, storefront_id) REFERENCES storefronts (tenant_id, id) NOT VALID;

CREATE TABLE customers (
  tenant_id      text NOT NULL REFERENCES tenants (id),
  id             text NOT NULL CHECK (id ~ '^cus_[0-9a-z]{26}$'),
  name           text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
  -- normalised phone numbers (digits, leading + kept); deduplication key
  phones         text[] NOT NULL CHECK (cardinality(phones) BETWEEN 1 AND 5),
  -- [{label, region_code, line, postal_code}]
  addresses      jsonb NOT NULL DEFAULT '[]',
  -- the storefront whose key created the customer (it may see the customer
  -- before any unit links them)
  storefront_id  text,
  version        int NOT NULL DEFAULT 1,
  created_at     timestamptz NOT NULL DEFAULT now(),
  updated_at     timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (tenant_id, id),
  FOREIGN KEY (tenant_id, storefront_id) REFERENCES storefronts (tenant_id, id)
);
CREATE INDEX customers_name_idx ON customers (tenant_id, name text_pattern_ops);
SELECT enable_tenant_rls('customers');

-- One row per phone: a phone belongs to one customer (deduplication).
CREATE TABLE customer_phones (
  tenant_id    text NOT NULL,
  phone        text NOT NULL,
  customer_id  text NOT NULL,
  PRIMARY KEY (tenant_id, phone),
  FOREIGN KEY (tenant_id, customer_id) REFERENCES customers (tenant_id, id) ON DELETE CASCADE
);
CREATE INDEX customer_phones_customer_idx ON customer_phones (tenant_id, customer_id);
SELECT enable_tenant_rls('customer_phones');

CREATE TABLE units (
  tenant_id        text NOT NULL REFERENCES tenants (id),
  id               text NOT NULL CHECK (id ~ '^unt_[0-9a-z]{26}$'),
  model_id         text NOT NULL,
  serial           text NOT NULL CHECK (length(serial) BETWEEN 1 AND 64),
  customer_id      text NOT NULL,
  purchase_date    date NOT NULL,
  installed_on     date CHECK (installed_on >= purchase_date),
  -- how it was sold: storefront (a marketplace partner), brand_store, retail, other
  channel          text NOT NULL CHECK (channel IN ('storefront', 'brand_store', 'retail', 'other')),
  storefront_id    text,
  invoice_number   text CHECK (length(invoice_number) <= 64),
  purchase_price   bigint NOT NULL CHECK (purchase_price >= 0),
  currency         text NOT NULL CHECK (currency ~ '^[A-Z]{3}$'),
  -- set when the unit was swapped out: the unit that replaced it
  replaced_by      text,
  status           text NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'replaced', 'returned')),
  created_by       text NOT NULL,
  version          int NOT NULL DEFAULT 1,
  created_at       timestamptz NOT NULL DEFAULT now(),
  updated_at       timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (tenant_id, id),
  -- a serial is unique per model: the same serial under another model is another unit
  UNIQUE (tenant_id, model_id, serial),
  FOREIGN KEY (tenant_id, model_id) REFERENCES product_models (tenant_id, id),
  FOREIGN KEY (tenant_id, customer_id) REFERENCES customers (tenant_id, id),
  FOREIGN KEY (tenant_id, storefront_id) REFERENCES storefronts (tenant_id, id),
  FOREIGN KEY (tenant_id, replaced_by) REFERENCES units (tenant_id, id),
  CONSTRAINT units_storefront_channel CHECK ((channel = 'storefront') = (storefront_id IS NOT NULL))
);
CREATE INDEX units_serial_idx ON units (tenant_id, serial);
CREATE INDEX units_customer_idx ON units (tenant_id, customer_id);
CREATE INDEX units_storefront_idx ON units (tenant_id, storefront_id, id) WHERE storefront_id IS NOT NULL;
SELECT enable_tenant_rls('units');

-- A unit's service history: repairs, claims, swaps, returns and maintenance,
-- recorded by later contexts (tickets, claims) or migrated from a brand's
-- legacy systems.
CREATE TABLE service_records (
  tenant_id        text NOT NULL REFERENCES tenants (id),
  id               text NOT NULL CHECK (id ~ '^svr_[0-9a-z]{26}$'),
  unit_id          text NOT NULL,
  kind             text NOT NULL CHECK (kind IN ('repair', 'claim', 'swap', 'return', 'maintenance')),
  occurred_on      date NOT NULL,
  -- who paid, as decided: manufacturer_warranty, statutory, extended_warranty, out_of_warranty ...
  basis            text CHECK (basis ~ '^[a-z][a-z0-9_]{0,63}$'),
  fault_cause      text CHECK (length(fault_cause) <= 200),
  part_categories  text[] NOT NULL DEFAULT '{}',
  paid             boolean NOT NULL DEFAULT false,
  fixed            boolean NOT NULL DEFAULT true,
  amount           bigint CHECK (amount >= 0),
  currency         text CHECK (currency ~ '^[A-Z]{3}$'),
  -- the ticket, claim or legacy id the record came from
  reference        text CHECK (length(reference) <= 128),
  note             text CHECK (length(note) <= 2000),
  created_by       text NOT NULL,
  created_at       timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (tenant_id, id),
  FOREIGN KEY (tenant_id, unit_id) REFERENCES units (tenant_id, id),
  CHECK ((amount IS NULL) = (currency IS NULL))
);
CREATE INDEX service_records_unit_idx ON service_records (tenant_id, unit_id, occurred_on DESC, id DESC);
-- A reference is recorded once per unit and kind (re-running a migration or
-- a ticket's completion does not double the history).
CREATE UNIQUE INDEX service_records_reference_idx ON service_records (tenant_id, unit_id, kind, reference) WHERE reference IS NOT NULL;
SELECT enable_tenant_rls('service_records');
