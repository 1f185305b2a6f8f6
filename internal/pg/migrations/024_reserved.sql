-- Placeholder: migration 024 is assigned to another branch. The migrator
-- needs an unbroken sequence, so this branch (kinds, 025) carries this empty
-- step; drop it when the real 024 is merged.
SELECT 1;
