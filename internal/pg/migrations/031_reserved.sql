-- Reserved for another branch's migration (031); a placeholder so that the
-- numbering of 032 and later stays put.
SELECT 1;
