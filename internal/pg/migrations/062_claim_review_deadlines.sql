-- tenants/claims: a claim waiting for a person has deadlines.
--
-- Seed 002 (全国联保, how a customer reports a fault): 在报修之时起24小时之内
-- 得到响应 (a response within 24 hours of the report) and 在接受报修之日起30
-- 天内向消费者反馈相应售后信息 (the after-sales outcome fed back to the
-- consumer within 30 days of accepting the report). A claim that
-- adjudication could not decide (under_review) or that asked for more
-- (needs_info) had no deadline: it could sit for weeks with no event.
--
-- review_due_at: by when a person must respond (ask for information or
-- decide), the submission plus the policy's review_hours (24);
-- decision_due_at: by when the claim must be decided (approved or
-- rejected), the submission plus decision_days (30). Both are set once at
-- the first submission: a resubmission answering needs_info restarts
-- neither. responded_at is the first response (needs_info asked, or a
-- decision, adjudication's included): it meets the review deadline. A
-- decision or a withdrawal ends both.
--
-- deadline_check_at is when the claim's deadlines need looking at next,
-- as tickets' sla_check_at (049): the review deadline while no one has
-- responded, then the decision deadline, NULL once both are met, missed
-- or ended. claims.Service.SweepDeadlines records each missed deadline
-- once (review_missed_at, decision_missed_at, and a claim.deadline_missed
-- event) every minute (jobs.ClaimDeadlineSweepArgs), for the tenants that
-- tenants_with_work('claims_deadline_due', now) names.
ALTER TABLE claim_policies
  ADD COLUMN review_hours  int NOT NULL DEFAULT 24 CHECK (review_hours BETWEEN 1 AND 720),
  ADD COLUMN decision_days int NOT NULL DEFAULT 30 CHECK (decision_days BETWEEN 1 AND 365);

ALTER TABLE claims
  ADD COLUMN review_due_at      timestamptz,
  ADD COLUMN decision_due_at    timestamptz,
  ADD COLUMN responded_at       timestamptz,
  ADD COLUMN review_missed_at   timestamptz,
  ADD COLUMN decision_missed_at timestamptz,
  ADD COLUMN deadline_check_at  timestamptz;

-- Claims filed before this migration get the default deadlines from their
-- filing, and their first response from their history. The promise is the
-- seed's, older than this code: a claim left open past it is overdue now,
-- and the first sweep says so once. The update runs with the table's row
-- security relaxed (it stays enabled and is forced again below) and its
-- audit trigger off: a migration is not a tenant's write.
ALTER TABLE claims NO FORCE ROW LEVEL SECURITY;
ALTER TABLE claims DISABLE TRIGGER USER;
UPDATE claims c SET review_due_at = c.created_at + interval '24 hours',
    decision_due_at = c.created_at + interval '30 days',
    responded_at = (SELECT min(h.changed_at) FROM claim_state_changes h
                    WHERE h.tenant_id = c.tenant_id AND h.claim_id = c.id
                      AND h.to_state IN ('needs_info', 'approved', 'rejected'));
UPDATE claims SET deadline_check_at = CASE
    WHEN responded_at IS NULL AND state IN ('submitted', 'under_review') THEN review_due_at
    ELSE decision_due_at END
  WHERE state IN ('submitted', 'under_review', 'needs_info');
ALTER TABLE claims ALTER COLUMN review_due_at SET NOT NULL, ALTER COLUMN decision_due_at SET NOT NULL;
ALTER TABLE claims ENABLE TRIGGER USER;
ALTER TABLE claims FORCE ROW LEVEL SECURITY;

-- The sweep's lookup: a tenant's (and mode's) claims due by a time.
CREATE INDEX claims_deadline_check_idx ON claims (tenant_id, livemode, deadline_check_at)
  WHERE deadline_check_at IS NOT NULL;

-- deadline_check_at is the sweep's bookkeeping, not a fact about the
-- claim: the audit log leaves it out, so a sweep that only moves it
-- records nothing. The missed deadlines are facts and are recorded.
SELECT audit_table('claims', 'id', '{deadline_check_at}');

-- claims_deadline_due: the earliest deadline check due by due_by, through
-- claims_deadline_check_idx. Claims have no test clocks: every claim is
-- swept on the wall clock.
CREATE FUNCTION claims_deadline_due_since(due_by timestamptz) RETURNS timestamptz
LANGUAGE sql STABLE AS $$
  SELECT c.deadline_check_at FROM claims c
  WHERE c.tenant_id = app_current_tenant() AND c.livemode = app_current_livemode()
    AND c.deadline_check_at <= due_by
  ORDER BY c.deadline_check_at LIMIT 1
$$;

-- tenants_with_work (055) answers one more question, claims_deadline_due,
-- which takes due_by as tickets_sla_due does. Replaced in place, with the
-- same signature.
CREATE OR REPLACE FUNCTION tenants_with_work(work text, due_by timestamptz DEFAULT NULL)
RETURNS TABLE (tenant_id text, livemode boolean, since timestamptz)
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
SET search_path = public
AS $$
DECLARE
  was_tenant text := coalesce(current_setting('app.tenant_id', true), '');
  was_mode   text := coalesce(current_setting('app.livemode', true), '');
  t text;
  m boolean;
BEGIN
  IF work IS NULL OR work NOT IN ('claims_awaiting_adjudication', 'tickets_sla_due', 'webhook_dispatch_pending',
                                  'quality_fold_pending', 'claims_deadline_due')
     OR (work IN ('tickets_sla_due', 'claims_deadline_due')) <> (due_by IS NOT NULL) THEN
    RAISE EXCEPTION 'tenants_with_work: no such work: % (due by %)', work, due_by USING ERRCODE = 'invalid_parameter_value';
  END IF;
  FOR t IN SELECT id FROM tenants WHERE status = 'active' ORDER BY id LOOP
    FOREACH m IN ARRAY ARRAY[true, false] LOOP
      PERFORM set_config('app.tenant_id', t, true);
      PERFORM set_config('app.livemode', m::text, true);
      since := CASE work
        WHEN 'claims_awaiting_adjudication' THEN claims_awaiting_since()
        WHEN 'tickets_sla_due' THEN tickets_sla_due_since(due_by)
        WHEN 'claims_deadline_due' THEN claims_deadline_due_since(due_by)
        WHEN 'quality_fold_pending' THEN quality_fold_pending_since()
        ELSE webhook_dispatch_pending_since()
      END;
      IF since IS NOT NULL THEN
        tenant_id := t;
        livemode := m;
        RETURN NEXT;
      END IF;
    END LOOP;
  END LOOP;
  PERFORM set_config('app.tenant_id', was_tenant, true);
  PERFORM set_config('app.livemode', was_mode, true);
END $$;
