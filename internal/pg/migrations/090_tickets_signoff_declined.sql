-- tenants/tickets: a customer who declines to sign is not made to.
--
-- Seed 000 (六.1 征询用户意见): 如果用户不填意见和签名,不要强迫用户签名
-- (a customer who gives no opinion and no signature is not forced to
-- sign). The technician records the refusal as the ticket's sign-off:
-- signed_off_at is when the sign-off was recorded, signoff_declined says
-- the customer declined (no rating, nothing confirmed by code), and
-- signoff_recorded_by is the API key that recorded it (either outcome).
-- The daily reconciliation reads signed_off_at, so a declined sign-off is
-- not a missing one (no_signoff); the quality scorecards count declined
-- sign-offs per node and technician (signoff_declined_rate).
ALTER TABLE tickets
  ADD COLUMN signoff_declined boolean NOT NULL DEFAULT false,
  ADD COLUMN signoff_recorded_by text,
  ADD CONSTRAINT tickets_signoff_declined_check
    CHECK (NOT signoff_declined OR (signed_off_at IS NOT NULL AND rating IS NULL AND NOT signed_by_code));
