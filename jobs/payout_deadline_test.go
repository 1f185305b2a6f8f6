package jobs_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"
	"github.com/stretchr/testify/require"

	"github.com/servicenet/servicenet/jobs"
	"github.com/servicenet/servicenet/tenants"
	"github.com/servicenet/servicenet/tenants/payouts"
)

func TestPayoutDeadlineWorker(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	b := setupContracts(t)
	p := b.tenant(t, "payout-deadline", "Asia/Shanghai")
	unit := b.contractUnit(t, p.TenantID, "washer", "2026-09-01")
	sh, err := time.LoadLocation("Asia/Shanghai")
	require.NoError(t, err)

	var mu sync.Mutex
	clock := time.Date(2026, 9, 25, 18, 0, 0, 0, sh)
	var scheduledAt time.Time
	svc := newPayouts(t, b.db.App, func(ctx context.Context, tx pgx.Tx, tenantID, payoutID string, at time.Time) error {
		scheduledAt = at
		return nil
	})
	svc.Now = func() time.Time { mu.Lock(); defer mu.Unlock(); return clock }
	setClock := func(t time.Time) { mu.Lock(); clock = t; mu.Unlock() }
	worker := &jobs.PayoutDeadlineWorker{Payouts: svc}
	work := func(id string) error {
		return worker.Work(ctx, &river.Job[jobs.PayoutDeadlineArgs]{JobRow: &rivertype.JobRow{ID: 1, Kind: "payout_deadline", Attempt: 1, MaxAttempts: 10},
			Args: jobs.PayoutDeadlineArgs{TenantID: p.TenantID, PayoutID: id}})
	}

	_, _, err = svc.PutHoliday(ctx, p, "2026-10-01", "国庆节")
	require.NoError(t, err)
	po, err := svc.CreatePayout(ctx, p, payouts.NewPayout{UnitID: unit, Amount: tenants.Money{Amount: 10000, Currency: "CNY"},
		Reason: "satisfaction compensation"})
	require.NoError(t, err)
	require.Equal(t, "2026-10-05", po.DueOn, "Friday + 5 business days past a weekend and a holiday")
	require.Equal(t, time.Date(2026, 10, 6, 0, 0, 0, 0, sh), scheduledAt.In(sh), "the end of the due day in the tenant's zone")

	t.Run("BeforeTheDueDayEndsItSnoozes", func(t *testing.T) {
		setClock(time.Date(2026, 10, 5, 23, 0, 0, 0, sh))
		var snooze *river.JobSnoozeError
		require.True(t, errors.As(work(po.ID), &snooze), "snoozed")
		got, err := svc.GetPayout(ctx, p, po.ID)
		require.NoError(t, err)
		require.Equal(t, payouts.StateScheduled, got.State)
	})

	t.Run("AfterTheDueDayItIsMissedOnce", func(t *testing.T) {
		setClock(time.Date(2026, 10, 6, 0, 0, 1, 0, sh))
		require.NoError(t, work(po.ID))
		require.NoError(t, work(po.ID), "a rerun changes nothing")
		got, err := svc.GetPayout(ctx, p, po.ID)
		require.NoError(t, err)
		require.Equal(t, payouts.StateMissed, got.State)
		require.Equal(t, 2, got.Version, "moved once")
	})

	t.Run("APaidPayoutIsLeftAlone", func(t *testing.T) {
		setClock(time.Date(2026, 9, 25, 18, 0, 0, 0, sh))
		po2, err := svc.CreatePayout(ctx, p, payouts.NewPayout{UnitID: unit, Amount: tenants.Money{Amount: 10000, Currency: "CNY"},
			Reason: "satisfaction compensation", BusinessDays: 1})
		require.NoError(t, err)
		require.Equal(t, "2026-09-28", po2.DueOn)
		_, err = svc.MarkPaid(ctx, p, po2.ID, "ALIPAY-9", 0)
		require.NoError(t, err)
		setClock(time.Date(2026, 10, 30, 0, 0, 0, 0, sh))
		require.NoError(t, work(po2.ID))
		got, err := svc.GetPayout(ctx, p, po2.ID)
		require.NoError(t, err)
		require.Equal(t, payouts.StatePaid, got.State)
	})

	t.Run("AnUnknownPayoutCancels", func(t *testing.T) {
		var cancel *river.JobCancelError
		require.True(t, errors.As(work("pay_00000000000000000000000000"), &cancel))
	})
}
