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
