-- Placeholder: migration 026 is assigned to another branch. The migrator
-- needs an unbroken sequence, so this branch (scopes, 027) carries this empty
-- step; drop it when the real 026 is merged.
SELECT 1;
