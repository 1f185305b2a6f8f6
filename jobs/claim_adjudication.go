package jobs

import (
	"context"
	"time"

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

// InsertOpts puts the job in the claims queue (a job left in the default
// queue by an earlier version still runs there: workers go by kind).
func (ClaimAdjudicationArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{Queue: QueueClaims}
}

// QueueClaims runs claim adjudications, the platform's most frequent job
// (one per submitted claim version), apart from the other jobs, with few
// workers fetched often (NewClient).
//
// Measured (BenchmarkClaims/adjudicate_backlog: 640 claims submitted with
// the queue paused, then drained): in the default queue, River's 100 ms
// fetch cooldown let 20 workers take at most 200 jobs/s (175-186 claims/s
// however idle the CPU); and 20 adjudications at once on 2 cores cost the
// database about a fifth more CPU each than 6 at once (4.4-5.4 ms against
// 3.4-4.1 ms per adjudication, interleaved), their backends contending
// for the same pages (the claims' state index, audit_log, events, the
// claim history) for no gain in rate. So ClaimWorkers workers that fetch
// at most every ClaimFetchCooldown: up to 800 jobs/s, well above what 2
// cores adjudicate.
const QueueClaims = "claims"

// The claims queue's workers and fetch cooldown (see QueueClaims).
const (
	ClaimWorkers       = 8
	ClaimFetchCooldown = 10 * time.Millisecond
)

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
