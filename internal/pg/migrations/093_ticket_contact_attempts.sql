-- tenants/tickets: the network's failed calls to the customer before a
-- visit, and a visit booked without the customer's agreement after them.
--
-- Seed 001 (电话沟通注意事项 (2), (4)): 如未联系上用户(包括占线、电话无人接听等)
-- 仍需要按照承诺到达客户处; 如果用户电话无人接听,服务工程师应稍后继续拨打,尽量
-- 联系上用户. Seed 000 (一.3.4): 如果用户一直联系不上,服务工程师要按地址上门,
-- 或用户不在家,则给用户留下留言条.
--
-- contact_attempts counts the failed attempts recorded on the ticket
-- (no_answer, busy, unobtainable, wrong_number; each on the timeline as
-- contact_attempted), contact_attempts_since_agreed those since the last
-- window agreed with the customer (a schedule books a visit without the
-- customer's agreement only after one), last_contact_attempt_at and
-- _outcome the last one. window_customer_unreachable marks the current
-- window as the network's promise, booked without the customer's
-- agreement (appointment reason customer_unreachable); every ticket until
-- now had its windows agreed, so false is right for all of them.
ALTER TABLE tickets
  ADD COLUMN contact_attempts int NOT NULL DEFAULT 0 CHECK (contact_attempts >= 0),
  ADD COLUMN contact_attempts_since_agreed int NOT NULL DEFAULT 0
    CHECK (contact_attempts_since_agreed BETWEEN 0 AND contact_attempts),
  ADD COLUMN last_contact_attempt_at timestamptz,
  ADD COLUMN last_contact_attempt_outcome text
    CHECK (last_contact_attempt_outcome IN ('no_answer', 'busy', 'unobtainable', 'wrong_number')),
  ADD COLUMN window_customer_unreachable boolean NOT NULL DEFAULT false;

ALTER TABLE ticket_appointments DROP CONSTRAINT ticket_appointments_reason_check,
  ADD CONSTRAINT ticket_appointments_reason_check
    CHECK (reason IN ('agreed', 'customer_request', 'technician_conflict', 'parts', 'other', 'customer_unreachable'));
