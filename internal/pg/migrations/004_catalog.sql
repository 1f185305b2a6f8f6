-- Owned by tenants/catalog: product_models, parts, part_models, price_lists, price_list_labor, price_list_visit_fees, price_list_parts, quotes
--
-- The brand's catalog: product models, parts, versioned price lists and the
-- quotes priced from them. Amounts are integer minor units in the tenant's
-- currency.

CREATE FUNCTION product_category_valid(c text) RETURNS boolean
LANGUAGE sql IMMUTABLE PARALLEL SAFE
AS $$ SELECT c IN ('washer', 'refrigerator', 'air_conditioner', 'tv', 'water_heater', 'kitchen',
                   'small_appliance', 'phone', 'laptop', 'camera', 'tablet') $$;

CREATE TABLE product_models (
  tenant_id              text NOT NULL REFERENCES tenants (id),
  id                     text NOT NULL CHECK (id ~ '^mdl_[0-9a-z]{26}$'),
  model_number           text NOT NULL CHECK (length(model_number) BETWEEN 1 AND 64),
  category               text NOT NULL CHECK (product_category_valid(category)),
  name                   text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
  retail_price           bigint NOT NULL CHECK (retail_price >= 0),
  currency               text NOT NULL CHECK (currency ~ '^[A-Z]{3}$'),
  warranty_months        int NOT NULL CHECK (warranty_months BETWEEN 0 AND 240),
  -- longer terms for key parts: {"compressor": 120, "motor": 120}
  key_part_warranty_months jsonb NOT NULL DEFAULT '{}',
  discontinued           boolean NOT NULL DEFAULT false,
  -- attributes a "similar" replacement must match: {"capacity_kg": 10, "type": "front_load"}
  specs                  jsonb NOT NULL DEFAULT '{}',
  version                int NOT NULL DEFAULT 1,
  created_at             timestamptz NOT NULL DEFAULT now(),
  updated_at             timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (tenant_id, id),
  UNIQUE (tenant_id, model_number)
);
CREATE INDEX product_models_category_idx ON product_models (tenant_id, category, retail_price);
SELECT enable_tenant_rls('product_models');

CREATE TABLE parts (
  tenant_id     text NOT NULL REFERENCES tenants (id),
  id            text NOT NULL CHECK (id ~ '^prt_[0-9a-z]{26}$'),
  part_number   text NOT NULL CHECK (length(part_number) BETWEEN 1 AND 64),
  name          text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
  -- the part category key-part warranty terms are keyed by ("compressor")
  category      text NOT NULL CHECK (category ~ '^[a-z][a-z0-9_]{0,63}$'),
  price         bigint NOT NULL CHECK (price >= 0),
  currency      text NOT NULL CHECK (currency ~ '^[A-Z]{3}$'),
  version       int NOT NULL DEFAULT 1,
  created_at    timestamptz NOT NULL DEFAULT now(),
  updated_at    timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (tenant_id, id),
  UNIQUE (tenant_id, part_number)
);
SELECT enable_tenant_rls('parts');

CREATE TABLE part_models (
  tenant_id  text NOT NULL,
  part_id    text NOT NULL,
  model_id   text NOT NULL,
  PRIMARY KEY (tenant_id, part_id, model_id),
  FOREIGN KEY (tenant_id, part_id) REFERENCES parts (tenant_id, id) ON DELETE CASCADE,
  FOREIGN KEY (tenant_id, model_id) REFERENCES product_models (tenant_id, id)
);
CREATE INDEX part_models_model_idx ON part_models (tenant_id, model_id);
SELECT enable_tenant_rls('part_models');

-- A price list version: labor by category and service kind, visit fees and
-- part prices, in effect from effective_from until the next version's date.
-- Versions are immutable once created and numbered 1, 2, 3 per tenant.
CREATE TABLE price_lists (
  tenant_id          text NOT NULL REFERENCES tenants (id),
  id                 text NOT NULL CHECK (id ~ '^prl_[0-9a-z]{26}$'),
  version            int NOT NULL CHECK (version >= 1),
  effective_from     date NOT NULL,
  currency           text NOT NULL CHECK (currency ~ '^[A-Z]{3}$'),
  -- the visit fee of categories without one of their own; NULL: none
  default_visit_fee  bigint CHECK (default_visit_fee >= 0),
  note               text NOT NULL DEFAULT '' CHECK (length(note) <= 500),
  created_at         timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (tenant_id, id),
  UNIQUE (tenant_id, version),
  UNIQUE (tenant_id, effective_from)
);
SELECT enable_tenant_rls('price_lists');

CREATE TABLE price_list_labor (
  tenant_id      text NOT NULL,
  price_list_id  text NOT NULL,
  category       text NOT NULL CHECK (product_category_valid(category)),
  service_kind   text NOT NULL CHECK (service_kind IN ('install', 'repair', 'maintenance', 'carry_in', 'remote')),
  amount         bigint NOT NULL CHECK (amount >= 0),
  PRIMARY KEY (tenant_id, price_list_id, category, service_kind),
  FOREIGN KEY (tenant_id, price_list_id) REFERENCES price_lists (tenant_id, id)
);
SELECT enable_tenant_rls('price_list_labor');

CREATE TABLE price_list_visit_fees (
  tenant_id      text NOT NULL,
  price_list_id  text NOT NULL,
  category       text NOT NULL CHECK (product_category_valid(category)),
  amount         bigint NOT NULL CHECK (amount >= 0),
  PRIMARY KEY (tenant_id, price_list_id, category),
  FOREIGN KEY (tenant_id, price_list_id) REFERENCES price_lists (tenant_id, id)
);
SELECT enable_tenant_rls('price_list_visit_fees');

-- Part prices that override the part's catalog price for this version.
CREATE TABLE price_list_parts (
  tenant_id      text NOT NULL,
  price_list_id  text NOT NULL,
  part_id        text NOT NULL,
  price          bigint NOT NULL CHECK (price >= 0),
  PRIMARY KEY (tenant_id, price_list_id, part_id),
  FOREIGN KEY (tenant_id, price_list_id) REFERENCES price_lists (tenant_id, id),
  FOREIGN KEY (tenant_id, part_id) REFERENCES parts (tenant_id, id)
);
SELECT enable_tenant_rls('price_list_parts');

-- A priced job. It keeps the price list version it was priced with and its
-- lines, so re-reading it never reprices it.
CREATE TABLE quotes (
  tenant_id           text NOT NULL REFERENCES tenants (id),
  id                  text NOT NULL CHECK (id ~ '^quo_[0-9a-z]{26}$'),
  model_id            text NOT NULL,
  service_kind        text NOT NULL CHECK (service_kind IN ('install', 'repair', 'maintenance', 'carry_in', 'remote')),
  priced_on           date NOT NULL,
  include_visit       boolean NOT NULL,
  price_list_id       text NOT NULL,
  price_list_version  int NOT NULL,
  -- [{kind, description, part_id, quantity, unit_amount, amount}]
  lines               jsonb NOT NULL,
  total               bigint NOT NULL CHECK (total >= 0),
  currency            text NOT NULL CHECK (currency ~ '^[A-Z]{3}$'),
  created_at          timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (tenant_id, id),
  FOREIGN KEY (tenant_id, model_id) REFERENCES product_models (tenant_id, id),
  FOREIGN KEY (tenant_id, price_list_id) REFERENCES price_lists (tenant_id, id)
);
SELECT enable_tenant_rls('quotes');

-- Price list versions and quotes are never changed or removed.
REVOKE UPDATE, DELETE ON price_lists, price_list_labor, price_list_visit_fees, price_list_parts, quotes FROM servicenet_app;
