package claims_test

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/servicenet/servicenet/internal/domaintest"
	"github.com/servicenet/servicenet/internal/pg"
	"github.com/servicenet/servicenet/tenants/claims"
)

// Seed 002 (全国联保): 在报修之时起24小时之内得到响应, 在接受报修之日起30天内向
// 消费者反馈相应售后信息. A claim waiting for a person is answered within 24
// hours of its filing (information asked, or a decision) and decided within
// 30 days; each deadline missed is recorded once, with an event.

const day = 24 * time.Hour

// underReview files a claim for the washer's board that adjudication
// leaves for a person: an earlier claim for the same unit and cause was
// approved (a duplicate). It returns the approved claim and the one under
// review.
func (w *washerShop) underReview(t *testing.T, ref string) (approved, review claims.Claim) {
	t.Helper()
	first, _, err := w.Claims.SubmitClaim(w.Ctx, w.Admin, w.claim(ref+"-A", "power_surge"))
	require.NoError(t, err)
	require.NoError(t, w.Claims.Adjudicate(w.Ctx, w.Tenant, first.ID, 1))
	second, _, err := w.Claims.SubmitClaim(w.Ctx, w.Admin, w.claim(ref+"-B", "power_surge"))
	require.NoError(t, err)
	require.NoError(t, w.Claims.Adjudicate(w.Ctx, w.Tenant, second.ID, 1))
	return w.get(t, first.ID), w.get(t, second.ID)
}

func (w *washerShop) get(t *testing.T, id string) claims.Claim {
	t.Helper()
	c, err := w.Claims.GetClaim(w.Ctx, w.Admin, id)
	require.NoError(t, err)
	return c
}

// sweep runs the deadline sweep of the tenant (live mode) at at.
func (w *washerShop) sweep(t *testing.T, tenantID string, at time.Time) int {
	t.Helper()
	n, err := w.Claims.SweepDeadlines(w.Ctx, tenantID, at)
	require.NoError(t, err)
	return n
}

// missed are the claim.deadline_missed events of claim id: the deadline
// and due_at of each.
func (w *washerShop) missed(t *testing.T, tenantID, id string) []missedEvent {
	t.Helper()
	var out []missedEvent
	require.NoError(t, pg.InTenantTx(w.Ctx, w.Tx, tenantID, func(tx pg.TenantTx) error {
		rows, err := tx.Query(w.Ctx, `SELECT data FROM events WHERE tenant_id = $1 AND type = 'claim.deadline_missed'
			AND subject_id = $2 ORDER BY occurred_at, id`, tx.TenantID, id)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var raw []byte
			if err := rows.Scan(&raw); err != nil {
				return err
			}
			var e missedEvent
			if err := json.Unmarshal(raw, &e); err != nil {
				return err
			}
			out = append(out, e)
		}
		return rows.Err()
	}))
	return out
}

type missedEvent struct {
	ClaimID      string    `json:"claim_id"`
	StorefrontID *string   `json:"storefront_id"`
	Deadline     string    `json:"deadline"`
	DueAt        time.Time `json:"due_at"`
	ToState      string    `json:"to_state"`
}

func (w *washerShop) overdue(t *testing.T, at time.Time) []string {
	t.Helper()
	w.Claims.Now = func() time.Time { return at }
	defer func() { w.Claims.Now = nil }()
	cs, _, err := w.Claims.ListClaims(w.Ctx, w.Admin, claims.ClaimFilter{Overdue: true})
	require.NoError(t, err)
	ids := []string{}
	for _, c := range cs {
		ids = append(ids, c.ID)
	}
	return ids
}

func TestClaimDeadlinesReviewAndDecisionMissedOnce(t *testing.T) {
	w := newWasherShop(t)
	approved, c := w.underReview(t, "DL")
	require.Equal(t, claims.StateUnderReview, c.State)
	filed := c.CreatedAt
	require.True(t, c.ReviewDueAt.Equal(filed.Add(day)), "24 hours to respond: %s", c.ReviewDueAt)
	require.True(t, c.DecisionDueAt.Equal(filed.Add(30*day)), "30 days to decide: %s", c.DecisionDueAt)
	require.Nil(t, c.RespondedAt, "adjudication left it for a person: no response yet")
	require.Empty(t, c.DeadlinesMissed)
	// Decided by adjudication at once: the response is the decision.
	require.Equal(t, claims.StateApproved, approved.State)
	require.NotNil(t, approved.RespondedAt)

	// Before 24 hours: nothing due, nothing recorded, not overdue.
	require.Zero(t, w.sweep(t, w.Tenant, filed.Add(23*time.Hour)))
	require.Empty(t, w.missed(t, w.Tenant, c.ID))
	require.Empty(t, w.overdue(t, filed.Add(23*time.Hour)))
	work, err := w.Claims.TenantsDeadlinesDue(w.Ctx, filed.Add(23*time.Hour))
	require.NoError(t, err)
	require.NotContains(t, tenantModes(work), pg.TenantMode{TenantID: w.Tenant, Live: true})

	// After 24 hours with no response: the review deadline, once.
	at := filed.Add(25 * time.Hour)
	work, err = w.Claims.TenantsDeadlinesDue(w.Ctx, at)
	require.NoError(t, err)
	require.Contains(t, tenantModes(work), pg.TenantMode{TenantID: w.Tenant, Live: true})
	require.Equal(t, []string{c.ID}, w.overdue(t, at), "overdue: the one under review, not the approved one")
	require.Equal(t, 1, w.sweep(t, w.Tenant, at))
	ev := w.missed(t, w.Tenant, c.ID)
	require.Len(t, ev, 1)
	require.Equal(t, claims.DeadlineReview, ev[0].Deadline)
	require.True(t, ev[0].DueAt.Equal(c.ReviewDueAt))
	require.Equal(t, c.ID, ev[0].ClaimID)
	require.Equal(t, "under_review", ev[0].ToState)
	require.Equal(t, []string{claims.DeadlineReview}, w.get(t, c.ID).DeadlinesMissed)
	require.Zero(t, w.sweep(t, w.Tenant, at), "a second sweep records nothing")
	require.Zero(t, w.sweep(t, w.Tenant, filed.Add(29*day)))
	require.Len(t, w.missed(t, w.Tenant, c.ID), 1)

	// After 30 days undecided: the decision deadline, once.
	at = filed.Add(30*day + time.Hour)
	require.Equal(t, 1, w.sweep(t, w.Tenant, at))
	require.Zero(t, w.sweep(t, w.Tenant, at.Add(day)))
	ev = w.missed(t, w.Tenant, c.ID)
	require.Len(t, ev, 2)
	require.Equal(t, claims.DeadlineDecision, ev[1].Deadline)
	require.True(t, ev[1].DueAt.Equal(c.DecisionDueAt))
	require.Equal(t, []string{claims.DeadlineReview, claims.DeadlineDecision}, w.get(t, c.ID).DeadlinesMissed)
	require.Equal(t, []string{c.ID}, w.overdue(t, at))
	// The claim auto-approved at once was never due.
	require.Empty(t, w.missed(t, w.Tenant, approved.ID))

	// Deciding the claim late ends it: no longer overdue.
	_, err = w.Claims.RejectClaim(w.Ctx, w.Admin, c.ID, "发票不符", 0)
	require.NoError(t, err)
	require.Empty(t, w.overdue(t, at))
}

func TestClaimDeadlinesDecidedInTimeIsNeverMissed(t *testing.T) {
	w := newWasherShop(t)
	_, c := w.underReview(t, "IN-TIME")
	// Decided before the 24 hours are up (the reviewer acts now, within them).
	c, err := w.Claims.RejectClaim(w.Ctx, w.Admin, c.ID, "重复索赔", 0)
	require.NoError(t, err)
	require.NotNil(t, c.RespondedAt)
	filed := c.CreatedAt
	for _, at := range []time.Time{filed.Add(25 * time.Hour), filed.Add(31 * day)} {
		require.Zero(t, w.sweep(t, w.Tenant, at))
		require.Empty(t, w.overdue(t, at))
	}
	require.Empty(t, w.missed(t, w.Tenant, c.ID))

	// Withdrawn while submitted: nothing runs either.
	s, _, err := w.Claims.SubmitClaim(w.Ctx, w.Admin, w.claim("IN-TIME-W", "power_surge"))
	require.NoError(t, err)
	_, err = w.Claims.WithdrawClaim(w.Ctx, w.Admin, s.ID, "", 0)
	require.NoError(t, err)
	require.Zero(t, w.sweep(t, w.Tenant, filed.Add(31*day)))
	require.Empty(t, w.missed(t, w.Tenant, s.ID))
}

// Asking for information is the response: the review deadline is met. The
// storefront's answer (a resubmission) restarts neither deadline: the 30
// days still count from the filing.
func TestClaimDeadlinesNeedsInfoMeetsTheReviewNotTheDecision(t *testing.T) {
	w := newWasherShop(t)
	_, c := w.underReview(t, "INFO")
	filed := c.CreatedAt
	c, err := w.Claims.RequestInfo(w.Ctx, w.Admin, c.ID, "发票照片不清晰", 0)
	require.NoError(t, err)
	require.NotNil(t, c.RespondedAt)
	require.Zero(t, w.sweep(t, w.Tenant, filed.Add(25*time.Hour)))
	require.Empty(t, w.overdue(t, filed.Add(25*time.Hour)))

	c, err = w.Claims.ResubmitClaim(w.Ctx, w.Admin, c.ID, w.claim("INFO-B", "power_surge").ClaimSubmission, c.Revision)
	require.NoError(t, err)
	require.NoError(t, w.Claims.Adjudicate(w.Ctx, w.Tenant, c.ID, 2))
	c = w.get(t, c.ID)
	require.Equal(t, claims.StateUnderReview, c.State)
	require.True(t, c.ReviewDueAt.Equal(filed.Add(day)), "not restarted")
	require.True(t, c.DecisionDueAt.Equal(filed.Add(30*day)), "not restarted")
	require.Zero(t, w.sweep(t, w.Tenant, filed.Add(29*day)), "the review deadline was met by the request")

	at := filed.Add(30*day + time.Minute)
	require.Equal(t, 1, w.sweep(t, w.Tenant, at))
	ev := w.missed(t, w.Tenant, c.ID)
	require.Len(t, ev, 1)
	require.Equal(t, claims.DeadlineDecision, ev[0].Deadline)
	require.Equal(t, []string{c.ID}, w.overdue(t, at))
}

// A tenant's sweep touches its own claims only.
func TestClaimDeadlinesAnotherTenantsClaimsUntouched(t *testing.T) {
	w := newWasherShop(t)
	_, c := w.underReview(t, "MINE")
	filed := c.CreatedAt

	// Another brand with a claim filed (awaiting adjudication: no response).
	brand, admin := w.Tenant, w.Admin
	other := w.Another(t, "")
	w.Tenant, w.Admin = other.TenantID, other
	model, _ := w.Product(t, "OTHER-1", "washer", 12, "control_board", 30000)
	unit := w.Unit(t, model, "OTH0001", -10, "+86 139 0000 0077")
	theirs, _, err := w.Claims.SubmitClaim(w.Ctx, other, claims.NewClaim{Kind: claims.KindWarranty, UnitID: unit, Reference: "THEIRS",
		ClaimSubmission: claims.ClaimSubmission{OccurredOn: domaintest.Today(0), Fault: claims.ClaimFault{Cause: "performance"},
			Lines: []claims.NewClaimLine{{Kind: "labor", Requested: cny(10000)}}}})
	require.NoError(t, err)
	w.Tenant, w.Admin = brand, admin

	at := filed.Add(31 * day)
	require.Equal(t, 2, w.sweep(t, w.Tenant, at), "ours: review and decision")
	require.Empty(t, w.missed(t, other.TenantID, theirs.ID), "theirs untouched by our sweep")
	cs, _, err := w.Claims.ListClaims(w.Ctx, other, claims.ClaimFilter{})
	require.NoError(t, err)
	require.Len(t, cs, 1)
	require.Empty(t, cs[0].DeadlinesMissed)
	require.Empty(t, w.overdue(t, filed.Add(time.Hour)), "ours not yet overdue; theirs not listed to us")

	require.Equal(t, 2, w.sweep(t, other.TenantID, at), "theirs: review and decision")
	require.Len(t, w.missed(t, other.TenantID, theirs.ID), 2)
	require.Len(t, w.missed(t, w.Tenant, c.ID), 2, "ours recorded once")
}

// The deadlines are the tenant's policy, validated; omitted, the seed's.
func TestClaimDeadlinesPolicy(t *testing.T) {
	w := newWasherShop(t)
	pol, err := w.Claims.GetPolicy(w.Ctx, w.Admin)
	require.NoError(t, err)
	require.Equal(t, 24, pol.ReviewHours)
	require.Equal(t, 30, pol.DecisionDays)

	base := claims.ClaimPolicy{AutoApproveLimit: cny(200000), DuplicateWindowDays: 30, PartsMarkupCapPercent: 20}
	for _, c := range []struct {
		hours, days int
		field       string
	}{{0, 400, "decision_days"}, {-1, 30, "review_hours"}, {721, 365, "review_hours"}, {25, 1, "review_hours"}} {
		in := base
		in.ReviewHours, in.DecisionDays = c.hours, c.days
		_, err := w.Claims.SetPolicy(w.Ctx, w.Admin, in)
		require.Equal(t, []string{c.field}, domaintest.Fields(t, err), "%+v", c)
	}
	got, err := w.Claims.SetPolicy(w.Ctx, w.Admin, base)
	require.NoError(t, err)
	require.Equal(t, 24, got.ReviewHours, "omitted: the default")
	require.Equal(t, 30, got.DecisionDays)

	in := base
	in.ReviewHours, in.DecisionDays = 48, 10
	_, err = w.Claims.SetPolicy(w.Ctx, w.Admin, in)
	require.NoError(t, err)
	c, _, err := w.Claims.SubmitClaim(w.Ctx, w.Admin, w.claim("POL-1", "power_surge"))
	require.NoError(t, err)
	require.True(t, c.ReviewDueAt.Equal(c.CreatedAt.Add(48*time.Hour)))
	require.True(t, c.DecisionDueAt.Equal(c.CreatedAt.Add(10*day)))
	require.Equal(t, c, w.get(t, c.ID), "the claim answered is the one stored")
}

func tenantModes(work []pg.TenantWork) []pg.TenantMode {
	var out []pg.TenantMode
	for _, x := range work {
		out = append(out, x.TenantMode)
	}
	return out
}
