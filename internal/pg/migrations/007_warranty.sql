-- Owned by tenants/warranty: coverage_plans, contracts, contract_state_changes
--
-- Coverage plans (extended warranties and protection plans the brand or its
-- storefronts sell) and the contracts that attach a plan to a unit, with
-- each contract's state history. Amounts are integer minor units in the
-- tenant's currency; dates are calendar dates in the tenant's time zone.

CREATE TABLE coverage_plans (
  tenant_id            text NOT NULL REFERENCES tenants (id),
  id                   text NOT NULL CHECK (id ~ '^pln_[0-9a-z]{26}$'),
  code                 text NOT NULL CHECK (length(code) BETWEEN 1 AND 64),
  name                 text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
  kind                 text NOT NULL CHECK (kind IN ('extended_warranty', 'accidental_damage', 'swap_for_repair', 'no_reason_repair')),
  eligible_categories  text[] NOT NULL CHECK (cardinality(eligible_categories) >= 1),
  -- start rule: days after the purchase date (30 = "from day 31", 1 = "from
  -- the next day"), or the day after the manufacturer warranty ends
  start_offset_days    int CHECK (start_offset_days BETWEEN 0 AND 365),
  starts_after_manufacturer_warranty boolean NOT NULL DEFAULT false,
  duration_months      int NOT NULL CHECK (duration_months BETWEEN 1 AND 120),
  discount_percent     int CHECK (discount_percent BETWEEN 0 AND 100),
  flat_fee             bigint CHECK (flat_fee >= 0),
  depreciation_cap_percent int CHECK (depreciation_cap_percent BETWEEN 0 AND 100),
  compensation         bigint CHECK (compensation >= 0),
  payout_business_days int CHECK (payout_business_days BETWEEN 1 AND 60),
  environmental_faults_free boolean NOT NULL DEFAULT false,
  no_visit_fee_large_appliances boolean NOT NULL DEFAULT false,
  -- fault causes never covered; human damage and force majeure always are
  exclusions           text[] NOT NULL CHECK (exclusions @> ARRAY['human_damage', 'force_majeure']),
  price                bigint NOT NULL CHECK (price >= 0),
  currency             text NOT NULL CHECK (currency ~ '^[A-Z]{3}$'),
  -- latest sale: purchase date + sale_window_days; NULL for an extended
  -- warranty means through the last day of the manufacturer warranty
  sale_window_days     int CHECK (sale_window_days BETWEEN 0 AND 3650),
  status               text NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'retired')),
  version              int NOT NULL DEFAULT 1,
  created_at           timestamptz NOT NULL DEFAULT now(),
  updated_at           timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (tenant_id, id),
  UNIQUE (tenant_id, code),
  CHECK ((start_offset_days IS NULL) = starts_after_manufacturer_warranty),
  CHECK (sale_window_days IS NOT NULL OR starts_after_manufacturer_warranty)
);
CREATE INDEX coverage_plans_kind_idx ON coverage_plans (tenant_id, kind, id);
SELECT enable_tenant_rls('coverage_plans');
REVOKE DELETE ON coverage_plans FROM servicenet_app;

CREATE TABLE contracts (
  tenant_id          text NOT NULL REFERENCES tenants (id),
  id                 text NOT NULL CHECK (id ~ '^ctr_[0-9a-z]{26}$'),
  unit_id            text NOT NULL,
  plan_id            text NOT NULL,
  -- the seller: a storefront, or NULL when the brand sold it
  storefront_id      text,
  -- the seller's own order number; unique per seller
  external_reference text CHECK (length(external_reference) BETWEEN 1 AND 64),
  sold_on            date NOT NULL,
  price              bigint NOT NULL CHECK (price >= 0),
  currency           text NOT NULL CHECK (currency ~ '^[A-Z]{3}$'),
  starts_on          date NOT NULL,
  ends_on            date NOT NULL,
  state              text NOT NULL CHECK (state IN ('pending', 'active', 'expired', 'cancelled', 'consumed')),
  state_reason       text CHECK (length(state_reason) <= 500),
  state_changed_at   timestamptz NOT NULL DEFAULT now(),
  created_by         text NOT NULL,
  version            int NOT NULL DEFAULT 1,
  created_at         timestamptz NOT NULL DEFAULT now(),
  updated_at         timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (tenant_id, id),
  FOREIGN KEY (tenant_id, unit_id) REFERENCES units (tenant_id, id),
  FOREIGN KEY (tenant_id, plan_id) REFERENCES coverage_plans (tenant_id, id),
  FOREIGN KEY (tenant_id, storefront_id) REFERENCES storefronts (tenant_id, id),
  CHECK (ends_on >= starts_on)
);
CREATE UNIQUE INDEX contracts_seller_reference_key ON contracts (tenant_id, COALESCE(storefront_id, ''), external_reference)
  WHERE external_reference IS NOT NULL;
CREATE INDEX contracts_unit_idx ON contracts (tenant_id, unit_id, id);
CREATE INDEX contracts_plan_idx ON contracts (tenant_id, plan_id, id);
CREATE INDEX contracts_storefront_idx ON contracts (tenant_id, storefront_id, id) WHERE storefront_id IS NOT NULL;
-- the lifecycle job's two sweeps
CREATE INDEX contracts_pending_idx ON contracts (tenant_id, starts_on) WHERE state = 'pending';
CREATE INDEX contracts_active_idx ON contracts (tenant_id, ends_on) WHERE state = 'active';
SELECT enable_tenant_rls('contracts');
REVOKE DELETE ON contracts FROM servicenet_app;

CREATE TABLE contract_state_changes (
  tenant_id    text NOT NULL REFERENCES tenants (id),
  contract_id  text NOT NULL,
  seq          bigint GENERATED ALWAYS AS IDENTITY,
  from_state   text,
  to_state     text NOT NULL,
  reason       text NOT NULL,
  actor        text NOT NULL,
  changed_at   timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (tenant_id, contract_id, seq),
  FOREIGN KEY (tenant_id, contract_id) REFERENCES contracts (tenant_id, id)
);
SELECT enable_tenant_rls('contract_state_changes');
REVOKE UPDATE, DELETE ON contract_state_changes FROM servicenet_app;
