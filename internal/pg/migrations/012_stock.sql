-- placeholder; replaced by the stock branch
SELECT 1;
