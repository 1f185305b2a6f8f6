package jobs_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/stretchr/testify/require"

	"github.com/servicenet/servicenet/internal/pg"
	"github.com/servicenet/servicenet/internal/pgtest"
	"github.com/servicenet/servicenet/jobs"
)

// queuedJob is a river_job row as the enqueuers leave it.
type queuedJob struct {
	Kind        string
	Queue       string
	Args        map[string]any
	Metadata    map[string]any
	ScheduledAt time.Time
	MaxAttempts int
}

// TestEnqueuersInsertInTheCallersTransaction inserts through every
// context's enqueuer and reads the jobs back: their kind, queue, args,
// schedule and attempts, the test mode stamped on a test-mode insert, and
// nothing at all when the caller's transaction rolls back.
func TestEnqueuersInsertInTheCallersTransaction(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := pgtest.NewDB(t)
	reg := prometheus.NewRegistry()
	rc, err := jobs.NewClient(db.App, jobs.Deps{}, jobs.Options{Metrics: reg}) // inserts only: needs no service
	require.NoError(t, err)

	at := time.Date(2026, 12, 24, 8, 30, 0, 0, time.UTC)
	insert := func(t *testing.T, ctx context.Context, fn func(tx pgx.Tx) error) []queuedJob {
		t.Helper()
		var got []queuedJob
		require.NoError(t, pg.InTx(ctx, db.App, func(tx pgx.Tx) error {
			if _, err := tx.Exec(ctx, `DELETE FROM river_job`); err != nil {
				return err
			}
			if err := fn(tx); err != nil {
				return err
			}
			rows, err := tx.Query(ctx, `SELECT kind, queue, args, metadata, scheduled_at, max_attempts FROM river_job ORDER BY id`)
			if err != nil {
				return err
			}
			got, err = pgx.CollectRows(rows, func(row pgx.CollectableRow) (queuedJob, error) {
				var j queuedJob
				var args, md []byte
				if err := row.Scan(&j.Kind, &j.Queue, &args, &md, &j.ScheduledAt, &j.MaxAttempts); err != nil {
					return j, err
				}
				if err := json.Unmarshal(args, &j.Args); err != nil {
					return j, err
				}
				return j, json.Unmarshal(md, &j.Metadata)
			})
			return err
		}))
		return got
	}

	t.Run("ComplaintSLAIsScheduledAtItsDueTime", func(t *testing.T) {
		got := insert(t, ctx, func(tx pgx.Tx) error { return jobs.ComplaintSLAEnqueuer(rc)(ctx, tx, "ten_a", "cmp_a", nil, 2, at) })
		require.Len(t, got, 1)
		require.Equal(t, jobs.ComplaintSLAArgs{}.Kind(), got[0].Kind)
		require.Equal(t, "cmp_a", got[0].Args["complaint_id"])
		require.Equal(t, float64(2), got[0].Args["level"])
		require.True(t, at.Equal(got[0].ScheduledAt), "%v", got[0].ScheduledAt)
		require.Nil(t, got[0].Metadata["livemode"], "a live insert carries no mode stamp")
	})

	t.Run("AComplaintSLAOnATestClockIsParkedWithItsClockTime", func(t *testing.T) {
		testCtx := pg.WithLivemode(ctx, false)
		clock := "clk_a"
		got := insert(t, testCtx, func(tx pgx.Tx) error {
			return jobs.ComplaintSLAEnqueuer(rc)(testCtx, tx, "ten_a", "cmp_b", &clock, 1, at)
		})
		require.Len(t, got, 1)
		require.Equal(t, jobs.ComplaintSLAArgs{}.Kind(), got[0].Kind)
		require.Equal(t, "cmp_b", got[0].Args["complaint_id"])
		require.True(t, jobs.ClockParked.Equal(got[0].ScheduledAt), "parked until the clock reaches it")
		require.Equal(t, "clk_a", got[0].Metadata["test_clock"])
		clockAt, err := time.Parse(time.RFC3339, got[0].Metadata["clock_run_at"].(string))
		require.NoError(t, err)
		require.True(t, at.Equal(clockAt))
		require.Equal(t, false, got[0].Metadata["livemode"], "a test-mode insert is stamped test")
	})

	t.Run("NetworkImportAndSwapEvaluation", func(t *testing.T) {
		got := insert(t, ctx, func(tx pgx.Tx) error {
			if err := jobs.NetworkImportEnqueuer(rc)(ctx, tx, "ten_a", "imp_a"); err != nil {
				return err
			}
			return jobs.SwapEvaluationEnqueuer(rc)(ctx, tx, "ten_a", "swp_a")
		})
		require.Len(t, got, 2)
		require.Equal(t, jobs.NetworkImportArgs{}.Kind(), got[0].Kind)
		require.Equal(t, "imp_a", got[0].Args["import_id"])
		require.Equal(t, jobs.SwapEvaluationArgs{}.Kind(), got[1].Kind)
		require.Equal(t, "swp_a", got[1].Args["swap_id"])
	})

	t.Run("NotificationDeliveryRunsOnTheWebhookQueue", func(t *testing.T) {
		got := insert(t, ctx, func(tx pgx.Tx) error { return jobs.NotificationDeliveryEnqueuer(rc)(ctx, tx, "ten_a", "ntf_a", at, 4) })
		require.Len(t, got, 1)
		require.Equal(t, jobs.NotificationDeliveryArgs{}.Kind(), got[0].Kind)
		require.Equal(t, jobs.QueueWebhooks, got[0].Queue)
		require.Equal(t, 4, got[0].MaxAttempts)
		require.True(t, at.Equal(got[0].ScheduledAt))
		require.Equal(t, "ntf_a", got[0].Args["notification_id"])
	})

	t.Run("ANotificationSecretOnATestClockIsErasedWhenTheClockPassesItsExpiry", func(t *testing.T) {
		testCtx := pg.WithLivemode(ctx, false)
		got := insert(t, testCtx, func(tx pgx.Tx) error {
			return jobs.NotificationClockExpiryEnqueuer(rc)(testCtx, tx, "ten_a", "ntf_b", "clk_a", at)
		})
		require.Len(t, got, 1)
		require.Equal(t, jobs.NotificationDeliveryArgs{}.Kind(), got[0].Kind)
		require.Equal(t, jobs.QueueWebhooks, got[0].Queue)
		require.Equal(t, 3, got[0].MaxAttempts)
		require.True(t, jobs.ClockParked.Equal(got[0].ScheduledAt), "parked until the clock reaches it")
		require.Equal(t, "clk_a", got[0].Metadata["test_clock"])
		clockAt, err := time.Parse(time.RFC3339, got[0].Metadata["clock_run_at"].(string))
		require.NoError(t, err)
		require.True(t, at.Equal(clockAt))
		require.Equal(t, false, got[0].Metadata["livemode"], "a test-mode insert is stamped test")
	})

	t.Run("PayoutDeadline", func(t *testing.T) {
		got := insert(t, ctx, func(tx pgx.Tx) error { return jobs.PayoutDeadlineEnqueuer(rc)(ctx, tx, "ten_a", "pay_a", at) })
		require.Len(t, got, 1)
		require.Equal(t, jobs.PayoutDeadlineArgs{}.Kind(), got[0].Kind)
		require.Equal(t, "pay_a", got[0].Args["payout_id"])
		require.True(t, at.Equal(got[0].ScheduledAt))
	})

	t.Run("APayoutOnATestClockIsParkedWithItsClockTime", func(t *testing.T) {
		testCtx := pg.WithLivemode(ctx, false)
		got := insert(t, testCtx, func(tx pgx.Tx) error {
			return jobs.PayoutClockDeadlineEnqueuer(rc)(testCtx, tx, "ten_a", "pay_b", "clk_a", at)
		})
		require.Len(t, got, 1)
		require.True(t, jobs.ClockParked.Equal(got[0].ScheduledAt), "parked until the clock reaches it")
		require.Equal(t, "clk_a", got[0].Metadata["test_clock"])
		clockAt, err := time.Parse(time.RFC3339, got[0].Metadata["clock_run_at"].(string))
		require.NoError(t, err)
		require.True(t, at.Equal(clockAt))
		require.Equal(t, false, got[0].Metadata["livemode"], "a test-mode insert is stamped test")
	})

	t.Run("TestClockAdvanceIsATestJob", func(t *testing.T) {
		testCtx := pg.WithLivemode(ctx, false)
		got := insert(t, testCtx, func(tx pgx.Tx) error { return jobs.TestClockAdvanceEnqueuer(rc)(testCtx, tx, "ten_a", "clk_a", 7) })
		require.Len(t, got, 1)
		require.Equal(t, jobs.TestClockAdvanceArgs{}.Kind(), got[0].Kind)
		require.Equal(t, float64(7), got[0].Args["seq"])
		require.Equal(t, false, got[0].Metadata["livemode"])
	})

	t.Run("WebhookDeliveriesGoInOneInsert", func(t *testing.T) {
		got := insert(t, ctx, func(tx pgx.Tx) error {
			return jobs.WebhookDeliveryEnqueuer(rc)(ctx, tx, "ten_a", []string{"whd_a", "whd_b", "whd_c"}, 6)
		})
		require.Len(t, got, 3)
		var ids []string
		for _, j := range got {
			require.Equal(t, jobs.WebhookDeliveryArgs{}.Kind(), j.Kind)
			require.Equal(t, jobs.QueueWebhooks, j.Queue)
			require.Equal(t, 6, j.MaxAttempts)
			ids = append(ids, j.Args["delivery_id"].(string))
		}
		require.ElementsMatch(t, []string{"whd_a", "whd_b", "whd_c"}, ids)
	})

	t.Run("ARolledBackCallerLeavesNoJob", func(t *testing.T) {
		err := pg.InTx(ctx, db.App, func(tx pgx.Tx) error {
			if err := jobs.SwapEvaluationEnqueuer(rc)(ctx, tx, "ten_a", "swp_rolled_back"); err != nil {
				return err
			}
			return context.Canceled
		})
		require.ErrorIs(t, err, context.Canceled)
		var n int
		require.NoError(t, db.App.QueryRow(ctx, `SELECT count(*) FROM river_job WHERE args->>'swap_id' = 'swp_rolled_back'`).Scan(&n))
		require.Zero(t, n)
	})

	t.Run("TheQueueDepthIsScraped", func(t *testing.T) {
		// Two jobs wait in the default queue, one is scheduled for later.
		require.NoError(t, pg.InTx(ctx, db.App, func(tx pgx.Tx) error {
			if _, err := tx.Exec(ctx, `DELETE FROM river_job`); err != nil {
				return err
			}
			if err := jobs.SwapEvaluationEnqueuer(rc)(ctx, tx, "ten_a", "swp_1"); err != nil {
				return err
			}
			if err := jobs.NetworkImportEnqueuer(rc)(ctx, tx, "ten_a", "imp_1"); err != nil {
				return err
			}
			return jobs.PayoutDeadlineEnqueuer(rc)(ctx, tx, "ten_a", "pay_1", time.Now().Add(time.Hour))
		}))
		families, err := reg.Gather()
		require.NoError(t, err)
		values := map[string]float64{}
		for _, f := range families {
			for _, m := range f.GetMetric() {
				var labels []string
				for _, l := range m.GetLabel() {
					labels = append(labels, l.GetName()+"="+l.GetValue())
				}
				v := m.GetGauge().GetValue() + m.GetCounter().GetValue()
				values[f.GetName()+"{"+strings.Join(labels, ",")+"}"] = v
			}
		}
		require.Equal(t, float64(2), values["servicenet_job_queue_jobs{queue=default,state=available}"], "%v", values)
		require.Equal(t, float64(1), values["servicenet_job_queue_jobs{queue=default,state=scheduled}"], "%v", values)
		require.GreaterOrEqual(t, values["servicenet_job_queue_oldest_available_seconds{queue=default}"], float64(0))
		require.Zero(t, values["servicenet_job_queue_read_errors_total{}"])

		_, err = jobs.NewClient(db.App, jobs.Deps{}, jobs.Options{Metrics: reg})
		require.ErrorContains(t, err, "jobs: metrics", "the metrics register once per registry")
	})
}
