-- tickets_sla_due_since (055) answers a finite time. A ticket handed to the
-- sweep by 049 has its next check at -infinity (due at once), and the
-- question answered that value, which no client time type holds: the
-- sweep's listing failed for every tenant for as long as such a ticket was
-- due, so the ticket was never swept. -infinity is answered as the epoch,
-- still the earliest of any due check.
CREATE OR REPLACE FUNCTION tickets_sla_due_since(due_by timestamptz) RETURNS timestamptz
LANGUAGE sql STABLE AS $$
  SELECT greatest(k.sla_check_at, 'epoch'::timestamptz) FROM tickets k
  WHERE k.tenant_id = app_current_tenant() AND k.livemode = app_current_livemode()
    AND k.sla_check_at <= due_by AND k.test_clock_id IS NULL
  ORDER BY k.sla_check_at LIMIT 1
$$;
