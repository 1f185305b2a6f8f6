-- Placeholder: migration 025 is assigned to another branch. The migrator
-- needs an unbroken sequence, so this branch (scopes, 027) carries this empty
-- step; drop it when the real 025 is merged.
SELECT 1;
