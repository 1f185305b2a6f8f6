-- tenants/complaints, tenants/tickets: a missed appointment can be
-- complained of and upheld, and an upheld promise holds whenever it is
-- upheld.
--
-- Seed 003 (Midea's 三大免单承诺), promise 1: 按约上门、超时免单 —
-- 未按照用户约定时间上门的,则本次服务给用户免单. Lateness was judged only
-- from the technician's own check-in; a customer whose complaint "the
-- technician came after our window" the brand upheld got nothing (the
-- category late covers slow repairs too and waives nothing). late_arrival
-- is a category of its own, always against a ticket (the appointment it
-- is about); upheld, it applies the late_arrival promise.
ALTER TABLE complaints DROP CONSTRAINT complaints_category_check;
ALTER TABLE complaints ADD CONSTRAINT complaints_category_check
  CHECK (category IN ('late', 'attitude', 'fee', 'quality', 'repeat', 'other', 'licence', 'overcharge', 'conduct',
                      'property_damage', 'late_arrival'));
ALTER TABLE complaints
  ADD CONSTRAINT complaints_late_arrival_ticket CHECK (category <> 'late_arrival' OR ticket_id IS NOT NULL);

-- The service promises (rule 8) upheld complaints established on the
-- ticket, each once, whenever they were upheld: a fact of the service as
-- the visit checklist's findings are. The entitlement decision of every
-- diagnosis and completion applies them, so a complaint upheld while the
-- technician is still on site makes the completion free, and one upheld
-- after it keeps a reopened ticket's second completion free. Written only
-- by tickets.WaiveChargesTx with the promise codes; no CHECK (052: every
-- ticket write would re-plan it).
ALTER TABLE tickets ADD COLUMN upheld_promises text[] NOT NULL DEFAULT '{}';
