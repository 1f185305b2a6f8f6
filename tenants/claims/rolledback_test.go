package claims_test

import (
	"context"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"

	"github.com/servicenet/servicenet/internal/app"
	"github.com/servicenet/servicenet/internal/domaintest"
	"github.com/servicenet/servicenet/internal/pg"
	"github.com/servicenet/servicenet/tenants"
	"github.com/servicenet/servicenet/tenants/claims"
	"github.com/servicenet/servicenet/tenants/warranty"
)

// washerShop is a brand with a washer model (12 months' warranty), its
// control board (300.00), a two-year extended warranty sold on a unit
// bought 400 days ago, in one rolled-back transaction. approved collects the
// claims whose approval ran the payout hook (app.Config.OnClaimApproved).
type washerShop struct {
	*domaintest.Env
	board, unit, contract string
	approved              []claims.Claim
}

var cny = domaintest.CNY

func newWasherShop(t *testing.T) *washerShop {
	t.Helper()
	w := &washerShop{}
	w.Env = domaintest.New(t, app.Config{OnClaimApproved: func(_ context.Context, _ pg.TenantTx, c claims.Claim) error {
		w.approved = append(w.approved, c)
		return nil
	}})
	var model string
	model, w.board = w.Product(t, "XQG100", "washer", 12, "control_board", 30000)
	plan, err := w.Warranty.CreatePlan(w.Ctx, w.Admin, warranty.NewPlan{Code: "EXT-2Y", Name: "两年延保", Kind: "extended_warranty",
		EligibleCategories: []string{"washer", "tv"}, DurationMonths: 24, Price: cny(19900)})
	require.NoError(t, err)
	w.unit = w.Unit(t, model, "WSH0001", -400, "+86 139 0000 0001")
	w.contract = w.Contract(t, w.unit, plan.ID, -390)
	return w
}

// claim is an extended-warranty claim for the unit's control board:
// labour 100.00 and the board 300.00.
func (w *washerShop) claim(ref, cause string) claims.NewClaim {
	return claims.NewClaim{Kind: claims.KindExtendedWarranty, UnitID: w.unit, Reference: ref,
		ClaimSubmission: claims.ClaimSubmission{OccurredOn: domaintest.Today(0),
			Fault: claims.ClaimFault{Cause: cause, PartCategories: []string{"control_board"}},
			Lines: []claims.NewClaimLine{{Kind: "labor", Requested: cny(10000)},
				{Kind: "part", PartID: w.board, Quantity: 1, Requested: cny(30000)}}}}
}

// requireApprovedUnder checks that c, a claim as w.claim makes it, is
// approved in full under contract: labour 100.00 + board 300.00.
func requireApprovedUnder(t *testing.T, c claims.Claim, contract string) {
	t.Helper()
	require.Equal(t, claims.StateApproved, c.State, "%v", c.Reasons)
	require.Equal(t, contract, c.Decision.ContractID)
	var total int64
	for _, l := range c.Lines {
		require.NotNil(t, l.Approved, "%+v", l)
		total += l.Approved.Amount
	}
	require.Equal(t, int64(10000+30000), total, "labour 100.00 + board 300.00, the plan's")
	require.Equal(t, cny(40000), *c.TotalApproved)
}

// completedTicket writes a repair ticket of unit, numbered number, reported
// the given days ago (0: now) and completed now, as the tickets context
// leaves it.
func (w *washerShop) completedTicket(t *testing.T, unit, number string, reportedDaysAgo int) string {
	t.Helper()
	id := tenants.NewID(tenants.PrefixTicket)
	require.NoError(t, pg.InTenantTx(w.Ctx, w.Tx, w.Tenant, func(tx pg.TenantTx) error {
		_, err := tx.Exec(w.Ctx, `INSERT INTO tickets (tenant_id, id, number, channel, type, state, customer_id, unit_id, contact,
			address, fault, created_by, created_at, completed_at) SELECT $1, $2, $4, 'hotline', 'repair', 'completed',
			u.customer_id, u.id, '{"name":"x","phone":"13800000000"}', '{"region_code":"370212","line":"x"}', '{"symptom":"x"}',
			'test', now() - make_interval(days => $5), now()
			FROM units u WHERE u.tenant_id = $1 AND u.id = $3`, w.Tenant, id, unit, number, reportedDaysAgo)
		return err
	}))
	return id
}

// adjudicated submits in, adjudicates it and reads it back.
func (w *washerShop) adjudicated(t *testing.T, in claims.NewClaim) claims.Claim {
	t.Helper()
	c, _, err := w.Claims.SubmitClaim(w.Ctx, w.Admin, in)
	require.NoError(t, err)
	require.NoError(t, w.Claims.Adjudicate(w.Ctx, w.Tenant, c.ID, 1))
	c, err = w.Claims.GetClaim(w.Ctx, w.Admin, c.ID)
	require.NoError(t, err)
	return c
}

// awaiting are the tenant's claims awaiting adjudication (live mode).
func (w *washerShop) awaiting(t *testing.T) []claims.Awaiting {
	t.Helper()
	a, err := w.Claims.AwaitingAdjudication(w.Ctx, w.Tenant, "", 100)
	require.NoError(t, err)
	return a
}

// waitingSince is since when the tenant's first claim awaiting
// adjudication (live mode) has waited, as the sweep asks (zero: none).
func (w *washerShop) waitingSince(t *testing.T) time.Time {
	t.Helper()
	work, err := w.Claims.TenantsAwaitingAdjudication(w.Ctx)
	require.NoError(t, err)
	for _, x := range work {
		if x.TenantMode == (pg.TenantMode{TenantID: w.Tenant, Live: true}) {
			return x.Since
		}
	}
	return time.Time{}
}

// tenantsAwaiting are the tenants and modes with claims awaiting
// adjudication, as the sweep asks (other tests' tenants included). Asked
// inside a tenant's transaction, the function leaves its scope as it was.
func (w *washerShop) tenantsAwaiting(t *testing.T) []pg.TenantMode {
	t.Helper()
	work, err := w.Claims.TenantsAwaitingAdjudication(w.Ctx)
	require.NoError(t, err)
	var tm []pg.TenantMode
	for _, x := range work {
		require.False(t, x.Since.IsZero(), "a wait is known for every tenant with claims awaiting")
		tm = append(tm, x.TenantMode)
	}
	// The previous release's servers ask claims_awaiting_adjudication (054),
	// which answers the same.
	rows, err := w.Tx.Query(w.Ctx, `SELECT tenant_id, livemode FROM claims_awaiting_adjudication()`)
	require.NoError(t, err)
	old, err := pgx.CollectRows(rows, pgx.RowToStructByPos[pg.TenantMode])
	require.NoError(t, err)
	require.ElementsMatch(t, tm, old)
	require.NoError(t, pg.InTenantTx(w.Ctx, w.Tx, w.Tenant, func(tx pg.TenantTx) error {
		var scope string
		if err := tx.QueryRow(w.Ctx, `SELECT count(*)::text FROM tenants_with_work('claims_awaiting_adjudication')`).Scan(&scope); err != nil {
			return err
		}
		if err := tx.QueryRow(w.Ctx, `SELECT current_setting('app.tenant_id', true) || '/' || current_setting('app.livemode', true)`).Scan(&scope); err != nil {
			return err
		}
		require.Equal(t, w.Tenant+"/true", scope, "the scope is the caller's again")
		return nil
	}))
	return tm
}

func (w *washerShop) states(t *testing.T, id string) []claims.State {
	t.Helper()
	tr, err := w.Claims.ListTransitions(w.Ctx, w.Admin, id)
	require.NoError(t, err)
	var out []claims.State
	for _, x := range tr {
		out = append(out, x.ToState)
	}
	return out
}

// A submission commits the claim awaiting adjudication, once, and writes
// no job; filing the same reference again returns the same claim and adds
// nothing to adjudicate.
func TestRolledBackClaimSubmissionAwaitsOneAdjudication(t *testing.T) {
	w := newWasherShop(t)
	c, created, err := w.Claims.SubmitClaim(w.Ctx, w.Admin, w.claim("EXT-1", "power_surge"))
	require.NoError(t, err)
	require.True(t, created)
	require.Equal(t, claims.StateSubmitted, c.State)
	require.Equal(t, 1, c.Version)
	require.Equal(t, int64(40000), c.TotalRequested.Amount)
	require.Equal(t, []claims.Awaiting{{ClaimID: c.ID, Version: 1}}, w.awaiting(t))
	require.True(t, w.waitingSince(t).Equal(c.UpdatedAt), "waiting since its submission")
	require.Zero(t, w.Jobs(t, "claim_adjudication"), "the claim is its own adjudication request")
	require.Contains(t, w.tenantsAwaiting(t), pg.TenantMode{TenantID: w.Tenant, Live: true})
	require.NotContains(t, w.tenantsAwaiting(t), pg.TenantMode{TenantID: w.Tenant, Live: false}, "none in test mode")
	require.Equal(t, 1, w.Count(t, `SELECT count(*) FROM events WHERE tenant_id = $1 AND type = 'claim.submitted' AND subject_id = $2`, c.ID))

	again, created, err := w.Claims.SubmitClaim(w.Ctx, w.Admin, w.claim("EXT-1", "power_surge"))
	require.NoError(t, err)
	require.False(t, created, "a retry of one reference is the same claim")
	require.Equal(t, c.ID, again.ID)
	require.Equal(t, []claims.Awaiting{{ClaimID: c.ID, Version: 1}}, w.awaiting(t))
	require.True(t, w.waitingSince(t).Equal(c.UpdatedAt), "still waiting since its submission")
	require.Equal(t, 1, w.Count(t, `SELECT count(*) FROM claims WHERE tenant_id = $1`))

	// Adjudication approves it, as the system, and runs the payout hook once;
	// running it again (a retry) changes nothing.
	require.NoError(t, w.Claims.Adjudicate(w.Ctx, w.Tenant, c.ID, 1))
	require.Empty(t, w.awaiting(t))
	require.NotContains(t, w.tenantsAwaiting(t), pg.TenantMode{TenantID: w.Tenant, Live: true}, "none awaits any more")
	got, err := w.Claims.GetClaim(w.Ctx, w.Admin, c.ID)
	require.NoError(t, err)
	require.Equal(t, claims.StateApproved, got.State)
	require.Equal(t, []claims.State{claims.StateSubmitted, claims.StateUnderReview, claims.StateApproved}, w.states(t, c.ID))
	tr, err := w.Claims.ListTransitions(w.Ctx, w.Admin, c.ID)
	require.NoError(t, err)
	require.Equal(t, "system", tr[len(tr)-1].Actor)
	require.Len(t, w.approved, 1)
	require.Equal(t, c.ID, w.approved[0].ID)
	require.NoError(t, w.Claims.Adjudicate(w.Ctx, w.Tenant, c.ID, 1))
	require.Len(t, w.states(t, c.ID), 3)
	require.Len(t, w.approved, 1)
}

// A flagged claim goes to review; the reviewer asks for information, the
// submitter resubmits (a second version, adjudicated again), the
// reviewer approves by hand and marks it paid. Actions the state does not
// admit, and stale revisions, are refused.
func TestRolledBackClaimReviewTransitions(t *testing.T) {
	w := newWasherShop(t)
	first, _, err := w.Claims.SubmitClaim(w.Ctx, w.Admin, w.claim("EXT-1", "power_surge"))
	require.NoError(t, err)
	require.NoError(t, w.Claims.Adjudicate(w.Ctx, w.Tenant, first.ID, 1))

	// The same unit and cause again: a duplicate, left for a person.
	c, _, err := w.Claims.SubmitClaim(w.Ctx, w.Admin, w.claim("EXT-2", "power_surge"))
	require.NoError(t, err)
	require.NoError(t, w.Claims.Adjudicate(w.Ctx, w.Tenant, c.ID, 1))
	c, err = w.Claims.GetClaim(w.Ctx, w.Admin, c.ID)
	require.NoError(t, err)
	require.Equal(t, claims.StateUnderReview, c.State)
	var flags []string
	for _, f := range c.Flags {
		flags = append(flags, f.Code)
	}
	require.Contains(t, flags, "duplicate")

	_, err = w.Claims.MarkPaid(w.Ctx, w.Admin, c.ID, "BANK-1", 0)
	require.Equal(t, tenants.CodeConflict, tenants.ErrorCode(err), "an unapproved claim is not paid: %v", err)
	_, err = w.Claims.RequestInfo(w.Ctx, w.Admin, c.ID, "the invoice, please", c.Revision+1)
	require.Equal(t, tenants.CodePreconditionFailed, tenants.ErrorCode(err), "%v", err)

	c, err = w.Claims.RequestInfo(w.Ctx, w.Admin, c.ID, "the invoice, please", c.Revision)
	require.NoError(t, err)
	require.Equal(t, claims.StateNeedsInfo, c.State)

	sub := w.claim("EXT-2", "power_surge").ClaimSubmission
	sub.Note = "invoice FP-1 attached"
	c, err = w.Claims.ResubmitClaim(w.Ctx, w.Admin, c.ID, sub, 0)
	require.NoError(t, err)
	require.Equal(t, claims.StateSubmitted, c.State)
	require.Equal(t, 2, c.Version)
	require.Equal(t, []claims.Awaiting{{ClaimID: c.ID, Version: 2}}, w.awaiting(t), "the new version awaits adjudication")
	require.True(t, w.waitingSince(t).Equal(c.UpdatedAt), "waiting since its resubmission")
	versions, err := w.Claims.ListVersions(w.Ctx, w.Admin, c.ID)
	require.NoError(t, err)
	require.Len(t, versions, 2, "both versions are kept")

	require.NoError(t, w.Claims.Adjudicate(w.Ctx, w.Tenant, c.ID, 2))
	c, err = w.Claims.GetClaim(w.Ctx, w.Admin, c.ID)
	require.NoError(t, err)
	require.Equal(t, claims.StateUnderReview, c.State, "still a duplicate")

	// Approved by hand: the labour in full, the board at 250.00.
	c, err = w.Claims.ApproveClaim(w.Ctx, w.Admin, c.ID, "checked the invoice",
		[]claims.ClaimLineAmount{{Line: 0, Approved: cny(10000)}, {Line: 1, Approved: cny(25000), Reason: "board at cost"}}, 0)
	require.NoError(t, err)
	require.Equal(t, claims.StateApproved, c.State)
	require.NotNil(t, c.TotalApproved)
	require.Equal(t, int64(35000), c.TotalApproved.Amount)
	require.Len(t, w.approved, 2, "the payout hook runs once per approval")

	c, err = w.Claims.MarkPaid(w.Ctx, w.Admin, c.ID, "BANK-1", 0)
	require.NoError(t, err)
	require.Equal(t, claims.StatePaid, c.State)
	require.NotNil(t, c.PaidAt)
	_, err = w.Claims.WithdrawClaim(w.Ctx, w.Admin, c.ID, "changed my mind", 0)
	require.Equal(t, tenants.CodeConflict, tenants.ErrorCode(err), "a paid claim is not withdrawn: %v", err)
	require.Equal(t, []claims.State{claims.StateSubmitted, claims.StateUnderReview, claims.StateNeedsInfo, claims.StateSubmitted,
		claims.StateUnderReview, claims.StateApproved, claims.StatePaid}, w.states(t, c.ID))
}

// A withdrawn claim is final; a submission naming another tenant's or an
// unknown unit is not found, and bad input names the input's field.
func TestRolledBackClaimWithdrawAndBadInput(t *testing.T) {
	w := newWasherShop(t)
	c, _, err := w.Claims.SubmitClaim(w.Ctx, w.Admin, w.claim("EXT-W", "power_surge"))
	require.NoError(t, err)
	c, err = w.Claims.WithdrawClaim(w.Ctx, w.Admin, c.ID, "filed by mistake", 0)
	require.NoError(t, err)
	require.Equal(t, claims.StateWithdrawn, c.State)
	// The job that follows finds nothing to do.
	require.NoError(t, w.Claims.Adjudicate(w.Ctx, w.Tenant, c.ID, 1))
	c, err = w.Claims.GetClaim(w.Ctx, w.Admin, c.ID)
	require.NoError(t, err)
	require.Equal(t, claims.StateWithdrawn, c.State)

	in := w.claim("EXT-X", "power_surge")
	in.UnitID = "unt_00000000000000000000000000"
	_, _, err = w.Claims.SubmitClaim(w.Ctx, w.Admin, in)
	require.Error(t, err)
	require.Contains(t, []tenants.Code{tenants.CodeNotFound, tenants.CodeInvalid}, tenants.ErrorCode(err), "%v", err)

	in = w.claim("EXT-Y", "power_surge")
	in.Lines[1].PartID = "prt_00000000000000000000000000"
	_, _, err = w.Claims.SubmitClaim(w.Ctx, w.Admin, in)
	require.Contains(t, domaintest.Fields(t, err), "lines[1].part_id")
	require.Equal(t, 1, w.Count(t, `SELECT count(*) FROM claims WHERE tenant_id = $1`), "refused submissions write nothing")
}
