package jobs_test

import (
	"context"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"
	"github.com/stretchr/testify/require"

	"github.com/servicenet/servicenet/internal/pg"
	"github.com/servicenet/servicenet/jobs"
	"github.com/servicenet/servicenet/tenants"
	"github.com/servicenet/servicenet/tenants/swaps"
	"github.com/servicenet/servicenet/tenants/tickets"
)

func TestSwapEvaluationWorker(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	b := setupContracts(t)
	p := b.tenant(t, "swap-evaluation", "Asia/Shanghai")
	// Bought 10 days ago: within the three guarantees' 15 days, so the
	// statutory exchange asked below is owed (swaps.RequestSwap refuses one
	// that is not).
	unit := b.contractUnit(t, p.TenantID, "washer", time.Now().AddDate(0, 0, -10).Format(time.DateOnly))
	// The unit's model is discontinued and nothing similar is priced no higher.
	var model string
	require.NoError(t, pg.InTenantTx(ctx, b.db.Owner, p.TenantID, func(tx pg.TenantTx) error {
		if err := tx.QueryRow(ctx, `UPDATE product_models SET discontinued = true WHERE tenant_id = $1
			AND id = (SELECT model_id FROM units WHERE tenant_id = $1 AND id = $2) RETURNING id`, tx.TenantID, unit).Scan(&model); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, `INSERT INTO product_models (tenant_id, id, model_number, category, name, retail_price, currency, warranty_months)
			VALUES ($1, $2, 'PRICIER', 'washer', 'Pricier', 399900, 'CNY', 12)`, tx.TenantID, tenants.NewID(tenants.PrefixProductModel))
		return err
	}))
	enqueued := 0
	svc, err := swaps.NewService(b.db.App, swaps.Deps{Jobs: tickets.ServedTx, EnqueueEvaluation: func(context.Context, pgx.Tx, string, string) error { enqueued++; return nil }, ServingNode: tickets.ServingNodeTx})
	require.NoError(t, err)
	worker := &jobs.SwapEvaluationWorker{Swaps: svc}
	work := func(id string) error {
		return worker.Work(ctx, &river.Job[jobs.SwapEvaluationArgs]{JobRow: &rivertype.JobRow{ID: 1, Kind: "swap_evaluation", Attempt: 1, MaxAttempts: 10},
			Args: jobs.SwapEvaluationArgs{TenantID: p.TenantID, SwapID: id}})
	}

	w, err := svc.RequestSwap(ctx, p, swaps.NewSwap{UnitID: unit, Reason: "statutory_exchange"})
	require.NoError(t, err)
	require.Equal(t, 1, enqueued, "the evaluation is enqueued with the request")

	t.Run("NoSimilarModelLeavesTheChoiceToTheBrand", func(t *testing.T) {
		require.NoError(t, work(w.ID))
		require.NoError(t, work(w.ID), "a rerun changes nothing")
		got, err := svc.GetSwap(ctx, p, w.ID)
		require.NoError(t, err)
		require.Equal(t, swaps.StatePendingBrand, got.State)
		require.Nil(t, got.ReplacementModelID)
		require.Contains(t, *got.StateReason, "no similar model")
		require.Equal(t, int64(0), got.Fee.Amount, "a statutory exchange without a plan carries no fee")
		require.Len(t, got.Steps, 2)

		_, err = svc.Approve(ctx, p, w.ID, swaps.Approval{}, 0)
		require.Equal(t, tenants.CodeInvalid, tenants.ErrorCode(err), "the brand must choose: %v", err)
	})

	t.Run("TheBrandChoosesACheaperModel", func(t *testing.T) {
		cheaper := tenants.NewID(tenants.PrefixProductModel)
		require.NoError(t, pg.InTenantTx(ctx, b.db.Owner, p.TenantID, func(tx pg.TenantTx) error {
			_, err := tx.Exec(ctx, `INSERT INTO product_models (tenant_id, id, model_number, category, name, retail_price, currency, warranty_months)
				VALUES ($1, $2, 'CHEAPER', 'washer', 'Cheaper', 199900, 'CNY', 12)`, tx.TenantID, cheaper)
			return err
		}))
		got, err := svc.Approve(ctx, p, w.ID, swaps.Approval{ReplacementModelID: cheaper}, 0)
		require.NoError(t, err)
		require.Equal(t, swaps.StateApproved, got.State)
		require.Equal(t, cheaper, *got.ReplacementModelID)
		require.Equal(t, int64(199900), got.Amount.Amount)
	})

	t.Run("AnUnknownSwapCancels", func(t *testing.T) {
		err := work("swp_00000000000000000000000000")
		var cancel *river.JobCancelError
		require.ErrorAs(t, err, &cancel)
	})
}
