package jobs

import (
	"context"

	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river"

	"github.com/servicenet/servicenet/tenants"
	"github.com/servicenet/servicenet/tenants/swaps"
)

// SwapEvaluationArgs evaluates one requested swap: its depreciation fee,
// its replacement model and the approval route by amount.
type SwapEvaluationArgs struct {
	TenantID string `json:"tenant_id"`
	SwapID   string `json:"swap_id"`
}

// Kind is stored with every job; never rename it.
func (SwapEvaluationArgs) Kind() string { return "swap_evaluation" }

// SwapEvaluationWorker runs SwapEvaluationArgs through swaps.Service.Evaluate,
// which leaves a swap that is no longer requested alone (idempotent).
type SwapEvaluationWorker struct {
	river.WorkerDefaults[SwapEvaluationArgs]
	Swaps *swaps.Service
}

func (w *SwapEvaluationWorker) Work(ctx context.Context, job *river.Job[SwapEvaluationArgs]) error {
	err := w.Swaps.Evaluate(ctx, job.Args.TenantID, job.Args.SwapID)
	if tenants.ErrorCode(err) == tenants.CodeNotFound {
		return river.JobCancel(err)
	}
	return err
}

// SwapEvaluationEnqueuer is swaps.Deps.EnqueueEvaluation: it
// inserts the evaluation in the caller's transaction, so the request and its
// job commit (or roll back) together.
func SwapEvaluationEnqueuer(rc Inserter) func(ctx context.Context, tx pgx.Tx, tenantID, swapID string) error {
	return func(ctx context.Context, tx pgx.Tx, tenantID, swapID string) error {
		_, err := rc.InsertTx(ctx, tx, SwapEvaluationArgs{TenantID: tenantID, SwapID: swapID}, nil)
		return err
	}
}
