-- tenants/customers: whether a unit's purchase price is what the customer
-- paid or an assumption.
--
-- A ticket's intake registered an unknown serial with purchase_price = its
-- model's retail price that day, and nothing said so; a return refunds the
-- purchase price in full and a plan's swap fee is a share of it (seed
-- 002), so a promotion's buyer was refunded the list price, or the
-- reverse. The intake now takes the invoice's price; without it the unit
-- is registered at the model's retail price marked model_retail_price
-- (not an invoice's), and the money that depends on it (a return's
-- refund, a plan's swap) waits until the brand sets the price (updateUnit,
-- which marks it invoice). Units registered before cannot be told apart:
-- they stay invoice.
ALTER TABLE units ADD COLUMN purchase_price_source text NOT NULL DEFAULT 'invoice'
  CHECK (purchase_price_source IN ('invoice', 'model_retail_price'));
