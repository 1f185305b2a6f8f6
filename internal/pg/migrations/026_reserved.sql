-- Placeholder so that migration 028 (issue 19, branch language) applies on
-- this branch: tern needs contiguous numbers. Number 026 belongs to a parallel
-- branch; drop this file when merging.
SELECT 1;
