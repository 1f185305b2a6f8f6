-- tenants/catalog: a model's warranty promotions.
--
-- Seed 003 (美的服务热线): 美的又提出在3月1日-5月3日期间也同样给予非家电下乡
-- 洗衣机"三年免费保修": the units of a model bought within a window of
-- purchase dates get a longer whole-unit warranty than the model's own.
-- Each element: {"name", "purchased_from", "purchased_through" (dates,
-- both included), "warranty_months"}; tenants/catalog validates them.
ALTER TABLE product_models
  ADD COLUMN warranty_promotions jsonb NOT NULL DEFAULT '[]' CHECK (jsonb_typeof(warranty_promotions) = 'array');
