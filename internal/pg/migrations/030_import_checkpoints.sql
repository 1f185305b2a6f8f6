-- Owned by tenants/network: network_import_codes
--
-- Imports streamed and checkpointed (issue 18). The job no longer parses a
-- whole file in memory and writes it in one transaction: it reads the stored
-- chunks row by row, once per phase (0: index the file's external codes;
-- 1-4: node rows by tier, manufacturer first; 5: technician rows), and
-- commits every batch of rows with its effects, its per-row errors, the
-- running counts and the checkpoint (phase, phase_row: the last file line of
-- the phase whose batch committed). A retry after SIGTERM or a crash resumes
-- after the checkpoint instead of starting over.
ALTER TABLE network_imports
  ADD COLUMN phase int NOT NULL DEFAULT 0 CHECK (phase BETWEEN 0 AND 6),
  ADD COLUMN phase_row int NOT NULL DEFAULT 0 CHECK (phase_row >= 0),
  -- bit n set: phase n has rows (found by phase 0); the others are skipped
  ADD COLUMN phases int NOT NULL DEFAULT 0;

-- An error's seq is its row's line number times 1000 plus its rank within
-- the row, so that errors written phase by phase still list in row order;
-- files of millions of lines need more than int.
ALTER TABLE network_import_errors ALTER COLUMN seq TYPE bigint;

-- The file's index, written by phase 0: the first row of each external code
-- per row type (later rows with that code are duplicates), a node row's tier
-- (a parent must be of a higher tier), and whether that row failed (its
-- children and technicians then report it). Deleted when the import ends.
CREATE TABLE network_import_codes (
  tenant_id     text NOT NULL REFERENCES tenants (id),
  import_id     text NOT NULL,
  kind          text NOT NULL CHECK (kind IN ('node', 'technician')),
  external_code text NOT NULL,
  row_number    int NOT NULL,
  tier          text NOT NULL DEFAULT '',
  failed        boolean NOT NULL DEFAULT false,
  PRIMARY KEY (tenant_id, import_id, kind, external_code),
  FOREIGN KEY (tenant_id, import_id) REFERENCES network_imports (tenant_id, id)
);
SELECT enable_tenant_rls('network_import_codes');

-- The file's character set (issue 19): CSV saved by Chinese Excel is GBK.
-- The chunks hold the file's own bytes; the job decodes them.
ALTER TABLE network_imports ADD COLUMN charset text NOT NULL DEFAULT 'utf-8'
  CHECK (charset IN ('utf-8', 'gbk', 'gb18030'));
