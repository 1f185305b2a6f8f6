-- Owned by tenants/payouts: tenant_holidays, payouts
-- Owned by tenants/swaps: swaps, swap_steps
--
-- Approvals: the tenant's holiday calendar, compensation payouts due in
-- business days of the tenant's zone, and unit swaps with their approval
-- chain. Amounts are integer minor units in the tenant's currency; dates are
-- calendar dates in the tenant's time zone.

CREATE TABLE tenant_holidays (
  tenant_id   text NOT NULL REFERENCES tenants (id),
  day         date NOT NULL,
  name        text NOT NULL CHECK (length(name) BETWEEN 1 AND 100),
  created_by  text NOT NULL,
  created_at  timestamptz NOT NULL DEFAULT now(),
  updated_at  timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (tenant_id, day)
);
SELECT enable_tenant_rls('tenant_holidays');

CREATE TABLE payouts (
  tenant_id     text NOT NULL REFERENCES tenants (id),
  id            text NOT NULL CHECK (id ~ '^pay_[0-9a-z]{26}$'),
  unit_id       text NOT NULL,
  -- the claim that owes it; no foreign key: claims are their own context
  claim_id      text CHECK (length(claim_id) <= 64),
  contract_id   text,
  amount        bigint NOT NULL CHECK (amount > 0),
  currency      text NOT NULL CHECK (currency ~ '^[A-Z]{3}$'),
  reason        text NOT NULL CHECK (length(reason) BETWEEN 1 AND 500),
  -- the day business days are counted from (the repair or the approval)
  counted_from  date NOT NULL,
  business_days int NOT NULL CHECK (business_days BETWEEN 1 AND 60),
  due_on        date NOT NULL CHECK (due_on > counted_from),
  -- missed: the deadline passed unpaid; it is still payable
  state         text NOT NULL DEFAULT 'scheduled' CHECK (state IN ('scheduled', 'paid', 'missed')),
  missed_at     timestamptz,
  paid_at       timestamptz,
  reference     text CHECK (length(reference) BETWEEN 1 AND 100),
  created_by    text NOT NULL,
  version       int NOT NULL DEFAULT 1,
  created_at    timestamptz NOT NULL DEFAULT now(),
  updated_at    timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (tenant_id, id),
  FOREIGN KEY (tenant_id, unit_id) REFERENCES units (tenant_id, id),
  FOREIGN KEY (tenant_id, contract_id) REFERENCES contracts (tenant_id, id),
  CHECK ((state = 'paid') = (paid_at IS NOT NULL))
);
CREATE INDEX payouts_unit_idx ON payouts (tenant_id, unit_id, id);
CREATE INDEX payouts_state_idx ON payouts (tenant_id, state, id);
SELECT enable_tenant_rls('payouts');
REVOKE DELETE ON payouts FROM servicenet_app;

CREATE TABLE swaps (
  tenant_id            text NOT NULL REFERENCES tenants (id),
  id                   text NOT NULL CHECK (id ~ '^swp_[0-9a-z]{26}$'),
  unit_id              text NOT NULL,
  -- the unit's storefront when it was requested: a storefront key's scope
  storefront_id        text,
  contract_id          text,
  reason               text NOT NULL CHECK (reason IN ('unrepairable', 'repair_cost_above_retail', 'statutory_exchange', 'plan_swap')),
  note                 text CHECK (length(note) <= 500),
  state                text NOT NULL DEFAULT 'requested' CHECK (state IN
                         ('requested', 'pending_node_manager', 'pending_brand', 'approved', 'fulfilled', 'rejected')),
  state_reason         text CHECK (length(state_reason) <= 500),
  fee                  bigint CHECK (fee >= 0),
  -- what the approval chain weighs: the replacement's retail price less the fee
  amount               bigint CHECK (amount >= 0),
  currency             text NOT NULL CHECK (currency ~ '^[A-Z]{3}$'),
  fee_rule             text CHECK (length(fee_rule) <= 500),
  replacement_model_id text,
  -- after the node manager the brand must approve too
  needs_brand          boolean NOT NULL DEFAULT false,
  replacement_unit_id  text,
  requested_by         text NOT NULL,
  version              int NOT NULL DEFAULT 1,
  created_at           timestamptz NOT NULL DEFAULT now(),
  updated_at           timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (tenant_id, id),
  FOREIGN KEY (tenant_id, unit_id) REFERENCES units (tenant_id, id),
  FOREIGN KEY (tenant_id, contract_id) REFERENCES contracts (tenant_id, id),
  FOREIGN KEY (tenant_id, replacement_model_id) REFERENCES product_models (tenant_id, id),
  FOREIGN KEY (tenant_id, replacement_unit_id) REFERENCES units (tenant_id, id)
);
CREATE INDEX swaps_unit_idx ON swaps (tenant_id, unit_id, id);
CREATE INDEX swaps_state_idx ON swaps (tenant_id, state, id);
-- one open swap per unit
CREATE UNIQUE INDEX swaps_open_unit_key ON swaps (tenant_id, unit_id) WHERE state NOT IN ('fulfilled', 'rejected');
SELECT enable_tenant_rls('swaps');
REVOKE DELETE ON swaps FROM servicenet_app;

-- every step of a swap: evaluation, each approval, rejection, fulfilment
CREATE TABLE swap_steps (
  tenant_id   text NOT NULL REFERENCES tenants (id),
  swap_id     text NOT NULL,
  seq         bigint GENERATED ALWAYS AS IDENTITY,
  from_state  text,
  to_state    text NOT NULL,
  reason      text NOT NULL,
  actor       text NOT NULL,
  changed_at  timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (tenant_id, swap_id, seq),
  FOREIGN KEY (tenant_id, swap_id) REFERENCES swaps (tenant_id, id)
);
SELECT enable_tenant_rls('swap_steps');
REVOKE UPDATE, DELETE ON swap_steps FROM servicenet_app;
