package claims

import (
	"context"
	"errors"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/servicenet/servicenet/internal/pg"
	"github.com/servicenet/servicenet/tenants/events"
)

// A claim's deadlines (migration 062). Seed 002 (全国联保): 在报修之时起24小时
// 之内得到响应, and 在接受报修之日起30天内向消费者反馈相应售后信息. A claim is
// filed with two deadlines, from the policy in force at its filing:
//
//   - review (review_due_at, the filing plus review_hours, 24 by default):
//     a person responds, asking for information or deciding. The first
//     response (responded_at) meets it, adjudication's own decision
//     included: a claim decided at once is never due.
//   - decision (decision_due_at, the filing plus decision_days, 30 by
//     default): the claim is approved or rejected. A resubmission
//     answering needs_info does not restart it.
//
// A decision or a withdrawal ends both. deadline_check_at is when the
// claim's running deadlines need looking at next (deadlineSet keeps it as
// a change writes the claim); SweepDeadlines records each missed deadline
// once, with a claim.deadline_missed event.
//
// A claim on a test clock (migration 065, testclock.go) is filed at the
// clock's time, so its deadlines are on the clock; the wall-clock sweep
// (SweepDeadlines, and pg.TenantsWithWork's claims_deadline_due) leaves it
// alone, and the clock's advance checks it at the clock's time
// (SweepClockDeadlines, from jobs.TestClockAdvanceWorker). ListClaims'
// overdue filter judges it at its clock's time too.

// The deadlines, as named in claim.deadline_missed and deadlines_missed.
const (
	DeadlineReview   = "review"
	DeadlineDecision = "decision"
)

// deadlines are the review and decision deadlines of a claim filed at.
func (pol ClaimPolicy) deadlines(at time.Time) (review, decision time.Time) {
	return at.Add(time.Duration(pol.ReviewHours) * time.Hour), at.Add(time.Duration(pol.DecisionDays) * 24 * time.Hour)
}

// deadlineSet is what a claim's move to state to does to its deadlines, as
// more assignments for the update that moves it ("" for none): a response
// (needs_info asked, or a decision) meets the review deadline, at the
// claim's time (the parameter at: nowSQL); a decision or a withdrawal ends
// both; needs_info leaves the decision deadline running unless it was
// missed already.
func deadlineSet(to State, at string) string {
	switch to {
	case StateApproved, StateRejected:
		return `, responded_at = coalesce(responded_at, ` + nowSQL(at) + `), deadline_check_at = NULL`
	case StateNeedsInfo:
		return `, responded_at = coalesce(responded_at, ` + nowSQL(at) + `),
			deadline_check_at = CASE WHEN decision_missed_at IS NULL THEN decision_due_at END`
	case StateWithdrawn, StatePaid:
		return `, deadline_check_at = NULL`
	}
	return ""
}

// overdueAt is the predicate of a claim (aliased c) still open past a
// deadline it has not met at the time at (an SQL expression, evaluated
// per claim: its clock's time, testclocks.TimeOfSQL): the review deadline
// with no response, or the decision deadline.
func overdueAt(at string) string {
	return `c.state IN ('submitted', 'under_review', 'needs_info')
		AND ((c.responded_at IS NULL AND c.state IN ('submitted', 'under_review') AND c.review_due_at <= ` + at + `)
		  OR c.decision_due_at <= ` + at + `)`
}

// TenantsDeadlinesDue are the active tenants, each in the modes in which
// it has claims whose deadlines need looking at by now: one statement
// across tenants (pg.TenantsWithWork), so that a sweep over tenants with
// nothing due costs one round trip, whatever their number.
func (s *Service) TenantsDeadlinesDue(ctx context.Context, now time.Time) ([]pg.TenantWork, error) {
	return pg.TenantsWithWork(ctx, s.DB, "claims_deadline_due", &now)
}

// deadlinePage bounds the claims one sweep transaction checks.
const deadlinePage = 200

// SweepDeadlines checks the tenant's claims (in ctx's mode) on the wall
// clock whose deadlines are due by now (a test clock's claims wait for
// their clock: SweepClockDeadlines): each deadline passed unmet is recorded once
// (review_missed_at, decision_missed_at at now) with a
// claim.deadline_missed event (data: the claim's, plus deadline and
// due_at), and the claim's next check moves on to its deadline still
// running, if any. A page of claims is one transaction; a claim another
// transaction holds (a decision in progress) is left to the next sweep. It
// returns the number of deadlines recorded missed; running it again at the
// same time records nothing.
func (s *Service) SweepDeadlines(ctx context.Context, tenantID string, now time.Time) (int, error) {
	return s.sweepDeadlines(ctx, tenantID, nil, now)
}

// SweepClockDeadlines is SweepDeadlines for the claims on test clock
// clockID, at the clock's time at (jobs.TestClockAdvanceWorker, once the
// clock has advanced): a deadline the clock passed is recorded missed at
// at, once.
func (s *Service) SweepClockDeadlines(ctx context.Context, tenantID, clockID string, at time.Time) (int, error) {
	return s.sweepDeadlines(ctx, tenantID, &clockID, at)
}

// sweepDeadlines sweeps the claims on clock (nil: the wall clock's) due by
// now.
func (s *Service) sweepDeadlines(ctx context.Context, tenantID string, clock *string, now time.Time) (int, error) {
	missed := 0
	for {
		n, seen, err := s.sweepDeadlinesPage(ctx, tenantID, clock, now)
		missed += n
		if err != nil || seen < deadlinePage {
			return missed, err
		}
	}
}

// dueClaim is what the sweep reads of a claim due.
type dueClaim struct {
	c                            Claim
	reviewMissed, decisionMissed bool
}

func (s *Service) sweepDeadlinesPage(ctx context.Context, tenantID string, clock *string, now time.Time) (missed, seen int, err error) {
	err = pg.InTenantTx(ctx, s.DB, tenantID, func(tx pg.TenantTx) error {
		rows, err := tx.Query(ctx, `SELECT c.id, c.kind, c.unit_id, c.storefront_id, c.node_id, c.reference, c.current_version,
			  c.state, c.review_due_at, c.decision_due_at, c.responded_at,
			  c.review_missed_at IS NOT NULL, c.decision_missed_at IS NOT NULL
			FROM claims c WHERE c.tenant_id = $1 AND c.livemode = app_current_livemode() AND c.deadline_check_at <= $2
			  AND c.test_clock_id IS NOT DISTINCT FROM $4
			ORDER BY c.deadline_check_at, c.id LIMIT $3 FOR UPDATE SKIP LOCKED`, tx.TenantID, now, deadlinePage, clock)
		if err != nil {
			return err
		}
		due, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (dueClaim, error) {
			var d dueClaim
			err := r.Scan(&d.c.ID, &d.c.Kind, &d.c.UnitID, &d.c.StorefrontID, &d.c.NodeID, &d.c.Reference, &d.c.Version,
				&d.c.State, &d.c.ReviewDueAt, &d.c.DecisionDueAt, &d.c.RespondedAt, &d.reviewMissed, &d.decisionMissed)
			return d, err
		})
		if err != nil {
			return err
		}
		seen = len(due)
		if seen == 0 {
			return nil
		}
		b := &pgx.Batch{}
		for _, d := range due {
			n, err := queueDeadlineCheck(b, tx, d, now)
			if err != nil {
				return err
			}
			missed += n
		}
		return tx.SendBatch(ctx, b).Close()
	})
	if err != nil {
		return 0, seen, pg.Translate(err)
	}
	return missed, seen, nil
}

// queueDeadlineCheck queues on b the check of claim d at now: the
// deadlines it missed, recorded with their events, and its next check.
// It returns the number of deadlines recorded missed.
func queueDeadlineCheck(b *pgx.Batch, tx pg.TenantTx, d dueClaim, now time.Time) (int, error) {
	c := d.c
	open := c.State == StateSubmitted || c.State == StateUnderReview || c.State == StateNeedsInfo
	reviewRuns := open && !d.reviewMissed && c.RespondedAt == nil && (c.State == StateSubmitted || c.State == StateUnderReview)
	decisionRuns := open && !d.decisionMissed
	var missReview, missDecision bool
	var errs []error
	if reviewRuns && !c.ReviewDueAt.After(now) {
		missReview, reviewRuns = true, false
		errs = append(errs, queueMissed(b, tx, c, DeadlineReview, c.ReviewDueAt, "no response (information requested, or a decision) by the review deadline"))
	}
	if decisionRuns && !c.DecisionDueAt.After(now) {
		missDecision, decisionRuns = true, false
		errs = append(errs, queueMissed(b, tx, c, DeadlineDecision, c.DecisionDueAt, "not approved or rejected by the decision deadline"))
	}
	var next *time.Time
	switch {
	case reviewRuns:
		next = &c.ReviewDueAt // never later than the decision's (review_hours ≤ decision_days × 24)
		if decisionRuns && c.DecisionDueAt.Before(*next) {
			next = &c.DecisionDueAt
		}
	case decisionRuns:
		next = &c.DecisionDueAt
	}
	b.Queue(`UPDATE claims SET deadline_check_at = $3,
		  review_missed_at = CASE WHEN $4 THEN $6::timestamptz ELSE review_missed_at END,
		  decision_missed_at = CASE WHEN $5 THEN $6::timestamptz ELSE decision_missed_at END
		WHERE tenant_id = $1 AND id = $2`, tx.TenantID, c.ID, next, missReview, missDecision, now)
	n := 0
	for _, m := range []bool{missReview, missDecision} {
		if m {
			n++
		}
	}
	return n, errors.Join(errs...)
}

// queueMissed queues claim c's claim.deadline_missed event for deadline,
// due at due.
func queueMissed(b *pgx.Batch, tx pg.TenantTx, c Claim, deadline string, due time.Time, reason string) error {
	return events.QueueTx(b, tx, events.New{Type: TypeDeadlineMissed, SubjectID: c.ID, Actor: "system",
		Data: eventData(c, nil, c.State, reason, map[string]any{"deadline": deadline, "due_at": due})})
}
