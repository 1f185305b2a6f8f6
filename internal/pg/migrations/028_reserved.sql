-- Placeholder so that migration 030 (issues 18/19, branch imports) applies on
-- this branch: tern needs contiguous numbers. Number 028 belongs to a parallel
-- branch; drop this file when merging.
SELECT 1;
