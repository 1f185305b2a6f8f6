-- Owned by tenants/network: regions, nodes, node_status_changes, technicians, network_imports, network_import_errors
--
-- The brand's service network: the node tree (manufacturer → service centers
-- → specialist depots → repair points), node status history, technicians,
-- and bulk imports. Region codes (GB/T 2260) are platform reference data.

CREATE EXTENSION IF NOT EXISTS ltree;
CREATE EXTENSION IF NOT EXISTS btree_gin;

-- Platform reference data (a Citus reference table): administrative divisions.
CREATE TABLE regions (
  code        text PRIMARY KEY CHECK (code ~ '^[1-9][0-9]{5}$'),
  name        text NOT NULL,
  level       smallint NOT NULL CHECK (level BETWEEN 1 AND 3),  -- province, city, district
  parent_code text REFERENCES regions (code)
);
REVOKE INSERT, UPDATE, DELETE ON regions FROM servicenet_app;

CREATE FUNCTION network_tier_rank(tier text) RETURNS smallint
LANGUAGE sql IMMUTABLE PARALLEL SAFE
AS $$ SELECT CASE tier WHEN 'manufacturer' THEN 1 WHEN 'service_center' THEN 2
                       WHEN 'specialist_depot' THEN 3 WHEN 'repair_point' THEN 4 END::smallint $$;

CREATE TABLE nodes (
  tenant_id       text NOT NULL REFERENCES tenants (id),
  id              text NOT NULL CHECK (id ~ '^nod_[0-9a-z]{26}$'),
  external_code   text NOT NULL CHECK (length(external_code) BETWEEN 1 AND 64),
  name            text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
  tier            text NOT NULL CHECK (network_tier_rank(tier) IS NOT NULL),
  parent_id       text,
  -- ids from the root down to this node: "everything under X" is path <@ X.path
  path            ltree NOT NULL,
  status          text NOT NULL DEFAULT 'probation'
                  CHECK (status IN ('probation', 'active', 'suspended', 'terminated')),
  status_reason   text,
  status_changed_at timestamptz NOT NULL DEFAULT now(),
  grade           text CHECK (grade ~ '^[A-E]$'),
  contact         jsonb NOT NULL DEFAULT '{}',
  address         jsonb NOT NULL DEFAULT '{}',
  latitude        double precision CHECK (latitude BETWEEN -90 AND 90),
  longitude       double precision CHECK (longitude BETWEEN -180 AND 180),
  coverage        text[] NOT NULL DEFAULT '{}',
  categories      text[] NOT NULL DEFAULT '{}',
  service_kinds   text[] NOT NULL DEFAULT '{}',
  daily_capacity  int NOT NULL DEFAULT 0 CHECK (daily_capacity BETWEEN 0 AND 100000),
  version         int NOT NULL DEFAULT 1,
  created_at      timestamptz NOT NULL DEFAULT now(),
  updated_at      timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (tenant_id, id),
  UNIQUE (tenant_id, external_code),
  FOREIGN KEY (tenant_id, parent_id) REFERENCES nodes (tenant_id, id),
  CHECK ((parent_id IS NULL) = (tier = 'manufacturer')),
  CHECK ((latitude IS NULL) = (longitude IS NULL))
);
-- Exactly one root per tenant.
CREATE UNIQUE INDEX nodes_one_root_idx ON nodes (tenant_id) WHERE parent_id IS NULL;
-- Subtree predicates (path <@ $1): path labels are globally unique node ids,
-- so a path index never mixes tenants.
CREATE INDEX nodes_path_idx ON nodes USING gist (path);
-- Subtree listings in tree order: a btree range scan from the subtree's top.
CREATE INDEX nodes_tree_idx ON nodes (tenant_id, path);
CREATE INDEX nodes_parent_idx ON nodes (tenant_id, parent_id);
-- The candidate query: covering a region (or its city/province), by category
-- and service kind, within the tenant.
CREATE INDEX nodes_coverage_idx ON nodes USING gin (tenant_id, coverage);
CREATE INDEX nodes_list_idx ON nodes (tenant_id, tier, id);
SELECT enable_tenant_rls('nodes');

-- Every status change, with its reason: the network's dynamic upgrade and
-- elimination history.
CREATE TABLE node_status_changes (
  tenant_id   text NOT NULL REFERENCES tenants (id),
  id          text NOT NULL,
  node_id     text NOT NULL,
  from_status text,
  to_status   text NOT NULL,
  reason      text NOT NULL,
  actor       text NOT NULL,
  changed_at  timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (tenant_id, id),
  FOREIGN KEY (tenant_id, node_id) REFERENCES nodes (tenant_id, id)
);
CREATE INDEX node_status_changes_node_idx ON node_status_changes (tenant_id, node_id, changed_at);
SELECT enable_tenant_rls('node_status_changes');
REVOKE UPDATE, DELETE ON node_status_changes FROM servicenet_app;

CREATE TABLE technicians (
  tenant_id          text NOT NULL REFERENCES tenants (id),
  id                 text NOT NULL CHECK (id ~ '^tec_[0-9a-z]{26}$'),
  external_code      text NOT NULL CHECK (length(external_code) BETWEEN 1 AND 64),
  node_id            text NOT NULL,
  name               text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
  phone              text NOT NULL,
  status             text NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'on_leave', 'suspended', 'left')),
  -- {"washer": 3, "refrigerator": 5}: category → level 1-5
  skills             jsonb NOT NULL DEFAULT '{}',
  licence_number     text,
  licence_issued_on  date,
  licence_expires_on date,
  -- set by the licence-expiry job (tenant's zone) or when found expired on write
  licence_expired_at timestamptz,
  -- [{"weekday": 1, "start": "08:00", "end": "18:00"}], ISO weekdays, tenant's zone
  shifts             jsonb NOT NULL DEFAULT '[]',
  daily_job_limit    int NOT NULL DEFAULT 8 CHECK (daily_job_limit BETWEEN 0 AND 100),
  home_region        text,
  home_latitude      double precision CHECK (home_latitude BETWEEN -90 AND 90),
  home_longitude     double precision CHECK (home_longitude BETWEEN -180 AND 180),
  version            int NOT NULL DEFAULT 1,
  created_at         timestamptz NOT NULL DEFAULT now(),
  updated_at         timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (tenant_id, id),
  UNIQUE (tenant_id, external_code),
  FOREIGN KEY (tenant_id, node_id) REFERENCES nodes (tenant_id, id),
  CHECK (licence_expires_on IS NULL OR licence_issued_on IS NULL OR licence_expires_on > licence_issued_on)
);
CREATE INDEX technicians_node_idx ON technicians (tenant_id, node_id, id);
CREATE INDEX technicians_skills_idx ON technicians USING gin (tenant_id, skills);
CREATE INDEX technicians_licence_idx ON technicians (tenant_id, licence_expires_on) WHERE licence_expired_at IS NULL;
SELECT enable_tenant_rls('technicians');

-- Bulk imports: the file is kept with the import so the job can (re)run it.
CREATE TABLE network_imports (
  tenant_id     text NOT NULL REFERENCES tenants (id),
  id            text NOT NULL CHECK (id ~ '^imp_[0-9a-z]{26}$'),
  format        text NOT NULL CHECK (format IN ('jsonl', 'csv')),
  state         text NOT NULL DEFAULT 'queued'
                CHECK (state IN ('queued', 'running', 'succeeded', 'completed_with_errors', 'failed')),
  file          bytea NOT NULL,
  file_sha256   text NOT NULL,
  total_rows    int NOT NULL DEFAULT 0,
  processed_rows int NOT NULL DEFAULT 0,
  counts        jsonb NOT NULL DEFAULT '{}',
  failure       text,
  created_by    text NOT NULL,
  created_at    timestamptz NOT NULL DEFAULT now(),
  started_at    timestamptz,
  finished_at   timestamptz,
  PRIMARY KEY (tenant_id, id)
);
SELECT enable_tenant_rls('network_imports');
REVOKE DELETE ON network_imports FROM servicenet_app;

CREATE TABLE network_import_errors (
  tenant_id  text NOT NULL REFERENCES tenants (id),
  import_id  text NOT NULL,
  seq        int NOT NULL,
  row_number int NOT NULL,
  field      text NOT NULL,
  message    text NOT NULL,
  PRIMARY KEY (tenant_id, import_id, seq),
  FOREIGN KEY (tenant_id, import_id) REFERENCES network_imports (tenant_id, id)
);
SELECT enable_tenant_rls('network_import_errors');
