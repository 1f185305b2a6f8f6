package jobs_test

import (
	"context"
	"testing"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"
	"github.com/stretchr/testify/require"

	"github.com/servicenet/servicenet/internal/pg"
	"github.com/servicenet/servicenet/jobs"
	"github.com/servicenet/servicenet/tenants"
	"github.com/servicenet/servicenet/tenants/claims"
)

// The sweep records a claim's missed review deadline (seed 002: a response
// within 24 hours of the report) once, for the tenant with claims due.
func TestClaimDeadlineSweepRecordsOnce(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	b := setupContracts(t)
	p := b.tenant(t, "claim-deadline-sweep", "Asia/Shanghai")
	unit := b.contractUnit(t, p.TenantID, "washer", time.Now().AddDate(0, 0, -10).Format(time.DateOnly))
	filed := time.Now().Add(-25 * time.Hour).Truncate(time.Second)
	id := tenants.NewID(tenants.PrefixClaim)
	require.NoError(t, pg.InTenantTx(ctx, b.db.Owner, p.TenantID, func(tx pg.TenantTx) error {
		_, err := tx.Exec(ctx, `INSERT INTO claims (tenant_id, id, kind, unit_id, submitter, reference, request_hash, state,
			fault_cause, occurred_on, currency, created_by, created_at, review_due_at, decision_due_at, deadline_check_at)
			VALUES ($1, $2, 'warranty', $3, 'brand', 'DL-1', 'h', 'under_review', 'performance', current_date, 'CNY', 'test',
			  $4, $4::timestamptz + interval '24 hours', $4::timestamptz + interval '30 days', $4::timestamptz + interval '24 hours')`,
			tx.TenantID, id, unit, filed)
		return err
	}))
	svc, err := claims.NewService(b.db.App, claims.Deps{
		OnApproved: func(context.Context, pg.TenantTx, claims.Claim) error { return nil },
		TicketState: func(context.Context, pg.TenantTx, string, string) (claims.Ticket, bool, error) {
			return claims.Ticket{}, false, nil
		},
		TicketByNumber: func(context.Context, pg.TenantTx, string, string) (claims.Ticket, bool, error) {
			return claims.Ticket{}, false, nil
		},
		TicketClock:   func(context.Context, pg.TenantTx, string) (*string, error) { return nil, nil },
		Notifications: newNotifications(t, b.db.App),
	})
	require.NoError(t, err)
	w := &jobs.ClaimDeadlineSweepWorker{Claims: svc}
	job := &river.Job[jobs.ClaimDeadlineSweepArgs]{JobRow: &rivertype.JobRow{ID: 1, Kind: "claim_deadline_sweep", Attempt: 1, MaxAttempts: 10}}
	missed := func() int {
		return b.count(t, p.TenantID, `SELECT count(*) FROM events WHERE tenant_id = $1 AND type = 'claim.deadline_missed'
			AND subject_id = $2 AND data->>'deadline' = 'review'`, id)
	}
	require.NoError(t, w.Work(ctx, job))
	require.Equal(t, 1, missed())
	require.NoError(t, w.Work(ctx, job))
	require.Equal(t, 1, missed(), "once")
}
