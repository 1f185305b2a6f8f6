-- Owned by tenants/network: network_import_chunks
-- Owned by internal/replicas: api_replicas
--
-- Fair sharing between tenants and uploads in bounded memory (issue 18).

-- An import's file is streamed into chunks of about 1 MiB as it is uploaded,
-- in the upload's transaction, instead of being held in memory and stored
-- whole in network_imports.file (kept for the imports stored before this
-- migration; NULL for the new ones). The job reads the chunks back in seq
-- order. COPY would be the bulk path, but PostgreSQL refuses COPY FROM into
-- a table under row-level security, so each chunk is one INSERT.
ALTER TABLE network_imports ALTER COLUMN file DROP NOT NULL;

CREATE TABLE network_import_chunks (
  tenant_id text NOT NULL REFERENCES tenants (id),
  import_id text NOT NULL,
  seq       int NOT NULL CHECK (seq >= 0),
  data      bytea NOT NULL,
  PRIMARY KEY (tenant_id, import_id, seq),
  FOREIGN KEY (tenant_id, import_id) REFERENCES network_imports (tenant_id, id)
);
SELECT enable_tenant_rls('network_import_chunks');
REVOKE DELETE ON network_import_chunks FROM servicenet_app;

-- The API replicas serving on this database, each renewing its row every
-- second or so: a replica enforces 1/n of each global rate limit, n being
-- the replicas seen recently, so that n replicas together hold a key to its
-- configured rate without a database write per request.
CREATE TABLE api_replicas (
  id      text PRIMARY KEY CHECK (length(id) BETWEEN 1 AND 100),
  seen_at timestamptz NOT NULL DEFAULT now()
);
