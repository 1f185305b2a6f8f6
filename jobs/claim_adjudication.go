package jobs

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"

	"github.com/servicenet/servicenet/internal/pg"
	"github.com/servicenet/servicenet/tenants"
	"github.com/servicenet/servicenet/tenants/claims"
)

// Claims are adjudicated by a sweep of the claims awaiting adjudication
// (state submitted), not by a River job per claim version (issue 11: the
// cost of a submission). A submitted claim is its own durable request for
// adjudication: it commits with the submission, and stays submitted until
// an adjudication commits, so a crash anywhere leaves it to the next sweep,
// and Adjudicate is idempotent on (claim, version). Measured with
// BenchmarkClaimsStatements (seven interleaved pairs, medians): the job's
// insert (River's InsertTx: the args' JSON, fifteen arrays, six indexes on
// river_job) was 1.71 - 1.38 = 0.33 ms of a submission's 1.71 ms of CPU;
// River's fetch and completion of that job came on top in the workers.

// ClaimAdjudicationInterval is how often a sweep session looks for claims
// awaiting adjudication: a claim is adjudicated within about this long of
// its submission (plus the sweep's own run), as webhooks are dispatched.
const ClaimAdjudicationInterval = time.Second

// ClaimAdjudicationSession is how long one periodic sweep job goes on
// sweeping every ClaimAdjudicationInterval, and how often the leader
// inserts one (PeriodicJobs): a copy inserted while one runs waits for it
// (singletonMiddleware), so the sessions follow one another.
const ClaimAdjudicationSession = 20 * time.Second

// ClaimAdjudicationParallel is how many adjudications a sweep runs at once.
// 20 adjudications at once on 2 cores cost the database about a fifth more
// CPU each than 6 at once (4.4-5.4 ms against 3.4-4.1 ms per adjudication,
// measured interleaved when each was a River job), their backends contending
// for the same pages (the claims' state index, audit_log, events, the
// claim history) for no gain in rate.
const ClaimAdjudicationParallel = 8

// claimAdjudicationPage is how many awaiting claims a sweep lists at a time.
const claimAdjudicationPage = 256

// QueueClaims runs the adjudication sweep (ClaimAdjudicationSweepArgs) and
// the per-claim adjudication jobs queued before it, apart from the other
// jobs. Pausing it (River UI, or Client.QueuePause) pauses adjudication: a
// running sweep session sees the pause within half an interval (a pass
// under way ends first) and adjudicates nothing until the queue is resumed.
const QueueClaims = "claims"

// The claims queue's workers and fetch cooldown (see QueueClaims): a
// session each, and room for the per-claim jobs of before the sweep.
const (
	ClaimWorkers       = 8
	ClaimFetchCooldown = 10 * time.Millisecond
)

// ClaimAdjudicationSweepArgs adjudicates the claims awaiting adjudication
// of every active tenant, in both modes, every ClaimAdjudicationInterval
// for SessionSeconds. A pass asks once which tenants and modes have any
// (claims.Service.TenantsAwaitingAdjudication): an idle pass costs one
// round trip, whatever the number of tenants.
type ClaimAdjudicationSweepArgs struct {
	SessionSeconds int `json:"session_seconds"`
}

// Kind is stored with every job; never rename it.
func (ClaimAdjudicationSweepArgs) Kind() string { return "claim_adjudication_sweep" }

// InsertOpts puts the sweep in the claims queue (see QueueClaims).
func (ClaimAdjudicationSweepArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{Queue: QueueClaims}
}

// ClaimAdjudicationSweepWorker runs ClaimAdjudicationSweepArgs. A claim
// whose adjudication fails stays submitted; the worker leaves it alone for
// a while (1 s, doubling per failure, at most 10 min) instead of retrying
// it every pass, logs each failure, and the session ends with the failures
// as its error, which River records on the job.
type ClaimAdjudicationSweepWorker struct {
	river.WorkerDefaults[ClaimAdjudicationSweepArgs]
	Claims *claims.Service
	// Logger receives the failed adjudications. Required: workers sets it
	// from Deps.Logger, which NewClient requires of a client that works jobs.
	Logger *slog.Logger
	// Stopping is closed when the process stops its jobs: a session ends at
	// its next pass, leaving the rest to the next one.
	Stopping <-chan struct{}

	metrics *claimSweepMetrics // nil: none recorded

	mu      sync.Mutex
	backoff map[string]claimRetry // by tenant, mode, claim and version
}

// claimBackoffLimit is how many failing adjudications the backoff holds
// before it forgets those whose wait is over.
const claimBackoffLimit = 10000

// claimRetry is a failing adjudication's backoff.
type claimRetry struct {
	failures int
	next     time.Time
}

// Timeout: a session, then a pass's room (see PeriodicJobs).
func (w *ClaimAdjudicationSweepWorker) Timeout(job *river.Job[ClaimAdjudicationSweepArgs]) time.Duration {
	return PeriodicTimeout + time.Duration(job.Args.SessionSeconds)*time.Second
}

func (w *ClaimAdjudicationSweepWorker) Work(ctx context.Context, job *river.Job[ClaimAdjudicationSweepArgs]) error {
	end := time.Now().Add(time.Duration(job.Args.SessionSeconds) * time.Second)
	tick := time.NewTicker(ClaimAdjudicationInterval)
	defer tick.Stop()
	var failures []error
	// Each pass takes one page of each tenant's awaiting claims per mode,
	// so that one tenant's backlog does not hold the others' claims back;
	// cursors keeps where each went on from (a page that was not full
	// starts the next pass from the beginning). A pass that adjudicated
	// something is followed by the next at once: under load the sweep runs
	// back to back, and waits ClaimAdjudicationInterval only when idle.
	// Whether the claims queue is paused, and which tenants have claims
	// awaiting, are asked again once half an interval has passed: every
	// idle pass, and at most twice an interval when passes run back to
	// back, which go on with the last answers meanwhile (the tenants'
	// cost grows with their number).
	cursors := map[string]string{}
	var (
		paused   bool
		awaiting []pg.TenantWork
		asked    time.Time
	)
	defer w.setLag(time.Time{}) // the next session may run elsewhere
	for {
		more := false
		if time.Since(asked) >= ClaimAdjudicationInterval/2 {
			var err error
			paused, awaiting, err = w.ask(ctx)
			asked = time.Now()
			if err != nil && ctx.Err() == nil {
				failures = append(failures, err)
			}
		}
		if !paused {
			kept := make(map[string]string, len(awaiting)) // a tenant with none left starts afresh
			for _, tm := range awaiting {
				k := tm.TenantID + "/" + pg.ModeName(tm.Live)
				p := w.pass(pg.WithLivemode(ctx, tm.Live), tm.TenantID, cursors[k])
				kept[k] = p.next
				more = more || p.next != "" || p.done > 0
				failures = append(failures, p.failures...)
			}
			cursors = kept
		}
		if ctx.Err() != nil {
			return nil // stopped or timed out: the claims stay submitted for the next session
		}
		if time.Now().Add(ClaimAdjudicationInterval).After(end) {
			return sessionError(failures)
		}
		if more {
			select {
			case <-w.Stopping:
				return sessionError(failures)
			default:
				continue
			}
		}
		select {
		case <-tick.C:
		case <-w.Stopping:
			return sessionError(failures)
		case <-ctx.Done():
			return nil
		}
	}
}

// sessionError is a session's failures as the job's error: the first ten
// and how many more.
func sessionError(failures []error) error {
	if len(failures) > 10 {
		failures = append(failures[:10:10], fmt.Errorf("and %d more failures", len(failures)-10))
	}
	return errors.Join(failures...)
}

// ask reads whether QueueClaims is paused (ctx is a job's: it carries its
// client) and which tenants and modes have claims awaiting adjudication,
// and sets the lag gauge from the longest wait among them, paused or not.
func (w *ClaimAdjudicationSweepWorker) ask(ctx context.Context) (paused bool, awaiting []pg.TenantWork, err error) {
	if c, err := river.ClientFromContextSafely[pgx.Tx](ctx); err == nil { // else run outside a client (a test's direct call)
		q, err := c.QueueGet(ctx, QueueClaims)
		switch {
		case errors.Is(err, rivertype.ErrNotFound): // no producer registered it yet
		case err != nil:
			return false, nil, fmt.Errorf("claim adjudication: reading the claims queue: %w", err)
		default:
			paused = q.PausedAt != nil
		}
	}
	awaiting, err = w.Claims.TenantsAwaitingAdjudication(ctx)
	if err != nil {
		return paused, nil, fmt.Errorf("claim adjudication: listing the tenants: %w", err)
	}
	var oldest time.Time
	for _, a := range awaiting {
		if oldest.IsZero() || a.Since.Before(oldest) {
			oldest = a.Since
		}
	}
	w.setLag(oldest)
	return paused, awaiting, nil
}

// setLag sets the lag gauge to the age of oldest (0: none).
func (w *ClaimAdjudicationSweepWorker) setLag(oldest time.Time) {
	if w.metrics == nil {
		return
	}
	if oldest.IsZero() {
		w.metrics.lag.Set(0)
		return
	}
	w.metrics.lag.Set(max(0, time.Since(oldest).Seconds()))
}

// passResult is what a pass over one tenant's page did: next is the page's
// last claim when the page was full (more may follow), else ""; done counts
// the adjudications that succeeded; failures are the adjudications that
// failed.
type passResult struct {
	next     string
	done     int
	failures []error
}

// pass adjudicates one page of tenantID's awaiting claims in ctx's mode,
// after claim after, ClaimAdjudicationParallel at once, skipping those
// waiting out a backoff. A failure is logged, backed off and returned; one
// caused by the job's end (stop or timeout) is none of these.
func (w *ClaimAdjudicationSweepWorker) pass(ctx context.Context, tenantID, after string) (r passResult) {
	page, err := w.Claims.AwaitingAdjudication(ctx, tenantID, after, claimAdjudicationPage)
	if err != nil {
		r.next = after
		if ctx.Err() == nil {
			r.failures = []error{fmt.Errorf("claim adjudication for %s: listing: %w", tenantID, err)}
		}
		return r
	}
	if len(page) == claimAdjudicationPage {
		r.next = page[len(page)-1].ClaimID
	}
	mode := pg.ModeName(pg.Livemode(ctx))
	var (
		wg  sync.WaitGroup
		mu  sync.Mutex
		sem = make(chan struct{}, ClaimAdjudicationParallel)
	)
	for _, a := range page {
		key := tenantID + "/" + mode + "/" + a.ClaimID + "/" + strconv.Itoa(a.Version)
		if w.waiting(key) {
			continue
		}
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			err := w.Claims.Adjudicate(ctx, tenantID, a.ClaimID, a.Version)
			if ctx.Err() != nil {
				return
			}
			w.record(key, err)
			mu.Lock()
			defer mu.Unlock()
			if err == nil {
				r.done++
				w.count("adjudicated")
				return
			}
			w.count("failed")
			w.Logger.Error("claim adjudication failed", "tenant_id", tenantID, "claim_id", a.ClaimID,
				"version", a.Version, "mode", mode, "code", tenants.ErrorCode(err), "error", err)
			r.failures = append(r.failures, fmt.Errorf("claim %s version %d (%s): %w", a.ClaimID, a.Version, mode, err))
		})
	}
	wg.Wait()
	return r
}

// count adds an adjudication's outcome to the metrics.
func (w *ClaimAdjudicationSweepWorker) count(outcome string) {
	if w.metrics != nil {
		w.metrics.adjudications.WithLabelValues(outcome).Inc()
	}
}

// waiting reports whether key's adjudication failed lately and waits out
// its backoff.
func (w *ClaimAdjudicationSweepWorker) waiting(key string) bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	r, ok := w.backoff[key]
	return ok && time.Now().Before(r.next)
}

// record forgets key's backoff on success and extends it on failure.
func (w *ClaimAdjudicationSweepWorker) record(key string, err error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if err == nil {
		delete(w.backoff, key)
		return
	}
	if w.backoff == nil {
		w.backoff = map[string]claimRetry{}
	}
	if len(w.backoff) >= claimBackoffLimit {
		// Claims that failed and were then decided or withdrawn otherwise
		// are never retried here: their entries go once their wait is over.
		now := time.Now()
		for k, r := range w.backoff {
			if r.next.Before(now) {
				delete(w.backoff, k)
			}
		}
	}
	r := w.backoff[key]
	r.failures++
	r.next = time.Now().Add(min(time.Second<<min(r.failures-1, 10), 10*time.Minute))
	w.backoff[key] = r
}

// ClaimAdjudicationArgs adjudicates one version of a claim: the job each
// submission inserted before the sweep. Jobs of this kind still queued run
// as before (Adjudicate is idempotent: a version the sweep adjudicated is
// left alone); none is inserted any more.
type ClaimAdjudicationArgs struct {
	TenantID string `json:"tenant_id"`
	ClaimID  string `json:"claim_id"`
	Version  int    `json:"version"`
}

// Kind is stored with every job; never rename it. (The jobs were inserted
// in the claims queue, some earlier in the default one: workers go by kind.)
func (ClaimAdjudicationArgs) Kind() string { return "claim_adjudication" }

// ClaimAdjudicationWorker runs claims.Service.Adjudicate for the jobs of
// before the sweep.
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
