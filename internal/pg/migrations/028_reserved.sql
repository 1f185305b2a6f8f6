-- Placeholder so that migration 029 (issue 11, branch speed) applies on
-- this branch: tern needs contiguous numbers. Number 028 belongs to a parallel
-- branch; drop this file when merging.
SELECT 1;
