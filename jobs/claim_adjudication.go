package jobs

import (
	"context"

	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river"

	"github.com/servicenet/servicenet/tenants"
	"github.com/servicenet/servicenet/tenants/claims"
)

// ClaimAdjudicationArgs adjudicates one version of a claim.
type ClaimAdjudicationArgs struct {
	TenantID string `json:"tenant_id"`
	ClaimID  string `json:"claim_id"`
	Version  int    `json:"version"`
}

// Kind is stored with every job; never rename it.
func (ClaimAdjudicationArgs) Kind() string { return "claim_adjudication" }

// ClaimAdjudicationWorker runs claims.Service.Adjudicate, which is
// idempotent on (claim, version): a version already adjudicated, or no
// longer current, is left alone.
type ClaimAdjudicationWorker struct {
	river.WorkerDefaults[ClaimAdjudicationArgs]
	Claims *claims.Service
}

func (w *ClaimAdjudicationWorker) Work(ctx context.Context, job *river.Job[ClaimAdjudicationArgs]) error {
	err := w.Claims.Adjudicate(ctx, job.Args.TenantID, job.Args.ClaimID, job.Args.Version)
	if tenants.ErrorCode(err) == tenants.CodeNotFound {
		return river.JobCancel(err) // the claim (or its tenant) does not exist: retrying cannot help
	}
	return err
}

// ClaimAdjudicationEnqueuer is claims.Deps.Enqueue: it inserts the
// adjudication job in the caller's transaction, so the claim's version and
// its job commit (or roll back) together.
func ClaimAdjudicationEnqueuer(rc Inserter) func(ctx context.Context, tx pgx.Tx, tenantID, claimID string, version int) error {
	return func(ctx context.Context, tx pgx.Tx, tenantID, claimID string, version int) error {
		_, err := rc.InsertTx(ctx, tx, ClaimAdjudicationArgs{TenantID: tenantID, ClaimID: claimID, Version: version}, nil)
		return err
	}
}
