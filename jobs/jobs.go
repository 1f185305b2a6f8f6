// Package jobs holds ServiceNet's River workers and periodic jobs, one file
// per job kind (XArgs beside XWorker). Job args carry the tenant they act for;
// workers re-enter the tenant through the same domain services the API uses
// (each service call is one tenant-scoped transaction), and every worker is
// idempotent: running a job twice has the effect of running it once.
package jobs

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"
	"github.com/riverqueue/river/rivertype"

	"github.com/servicenet/servicenet/internal/pg"
	"github.com/servicenet/servicenet/tenants/claims"
	"github.com/servicenet/servicenet/tenants/complaints"
	"github.com/servicenet/servicenet/tenants/customers"
	"github.com/servicenet/servicenet/tenants/idempotency"
	"github.com/servicenet/servicenet/tenants/identity"
	"github.com/servicenet/servicenet/tenants/network"
	"github.com/servicenet/servicenet/tenants/notifications"
	"github.com/servicenet/servicenet/tenants/payouts"
	"github.com/servicenet/servicenet/tenants/quality"
	"github.com/servicenet/servicenet/tenants/swaps"
	"github.com/servicenet/servicenet/tenants/testclocks"
	"github.com/servicenet/servicenet/tenants/tickets"
	"github.com/servicenet/servicenet/tenants/warranty"
	"github.com/servicenet/servicenet/tenants/webhooks"
)

// tenantLister lists the platform's tenants a page at a time.
type tenantLister interface {
	ListTenants(ctx context.Context, limit int, cursor string) ([]identity.Tenant, string, error)
}

// eachTenant calls fn for every tenant, a page of 200 at a time, and stops
// at the first error, from listing or from fn.
func eachTenant(ctx context.Context, tl tenantLister, fn func(identity.Tenant) error) error {
	cursor := ""
	for {
		ts, next, err := tl.ListTenants(ctx, 200, cursor)
		if err != nil {
			return err
		}
		for _, t := range ts {
			if err := fn(t); err != nil {
				return err
			}
		}
		if next == "" {
			return nil
		}
		cursor = next
	}
}

// eachTenantWithWork asks, in one statement, which active tenants and modes
// have work (ask: a question across tenants, pg.TenantsWithWork) and calls
// fn for each, in its mode; errors as eachActiveTenant's. Failing to ask
// stops at once with that error alone.
func eachTenantWithWork(ctx context.Context, what string, ask func(context.Context) ([]pg.TenantWork, error),
	fn func(ctx context.Context, tenantID string) error) error {
	work, err := ask(ctx)
	if err != nil {
		return fmt.Errorf("%s: listing the tenants: %w", what, err)
	}
	var errs []error
	for _, w := range work {
		if err := fn(pg.WithLivemode(ctx, w.Live), w.TenantID); err != nil {
			errs = append(errs, fmt.Errorf("%s for %s (%s): %w", what, w.TenantID, pg.ModeName(w.Live), err))
		}
	}
	return errors.Join(errs...)
}

// eachActiveTenant calls fn for every active tenant, once in live mode and
// once in test mode (ctx carries the mode: fn's transactions see that
// mode's data only). A tenant whose call fails does not stop the others:
// their errors, each prefixed with what, the tenant's id and the mode, come
// back joined once all have run. Failing to list tenants stops at once with
// that error alone.
func eachActiveTenant(ctx context.Context, tl tenantLister, what string, fn func(ctx context.Context, tenantID string) error) error {
	var errs []error
	err := eachTenant(ctx, tl, func(t identity.Tenant) error {
		if t.Status != "active" {
			return nil
		}
		for _, live := range modes {
			if err := fn(pg.WithLivemode(ctx, live), t.ID); err != nil {
				errs = append(errs, fmt.Errorf("%s for %s (%s): %w", what, t.ID, pg.ModeName(live), err))
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	return errors.Join(errs...)
}

// Deps are the services workers call. A client that works jobs
// (Options.Work) needs every one of them: NewClient fails naming the first
// one missing, so a wiring mistake fails at start instead of a committed
// job being cancelled or never run. A client that only inserts needs none:
// its workers are registered all the same (River then refuses to insert a
// kind it does not know), but they never run.
type Deps struct {
	Identity      *identity.Service
	Idempotency   *idempotency.Store
	Network       *network.Service
	Customers     *customers.Service
	Warranty      *warranty.Service
	Claims        *claims.Service
	Complaints    *complaints.Service
	Swaps         *swaps.Service
	Payouts       *payouts.Service
	Webhooks      *webhooks.Service
	Tickets       *tickets.Service
	Quality       *quality.Service
	Notifications *notifications.Service
	TestClocks    *testclocks.Service
	// Logger receives the failed and panicked jobs and River's own lines.
	Logger *slog.Logger
	// Stopping is closed when the process begins to stop its jobs; long
	// jobs (the webhook dispatch session) end early on it.
	Stopping <-chan struct{}
}

// missing names the first dependency of d a working client lacks ("":
// none).
func (d Deps) missing() string {
	for _, dep := range []struct {
		name  string
		unset bool
	}{
		{"Identity", d.Identity == nil}, {"Idempotency", d.Idempotency == nil}, {"Network", d.Network == nil},
		{"Customers", d.Customers == nil}, {"Warranty", d.Warranty == nil}, {"Claims", d.Claims == nil},
		{"Complaints", d.Complaints == nil}, {"Swaps", d.Swaps == nil}, {"Payouts", d.Payouts == nil},
		{"Webhooks", d.Webhooks == nil}, {"Tickets", d.Tickets == nil}, {"Quality", d.Quality == nil},
		{"Notifications", d.Notifications == nil}, {"TestClocks", d.TestClocks == nil}, {"Logger", d.Logger == nil},
		{"Stopping", d.Stopping == nil},
	} {
		if dep.unset {
			return dep.name
		}
	}
	return ""
}

// Options shape the River client.
type Options struct {
	// Work makes the client fetch and run jobs (and compete for leadership,
	// which runs periodic jobs). Without it the client only inserts jobs.
	Work       bool
	MaxWorkers int
	// StopGrace is how long running jobs may go on after the client is told
	// to stop (River's SoftStopTimeout). River stops fetching at once; a job
	// still running after StopGrace has its context cancelled with River's
	// stop cause, so it goes back to available with its attempt refunded and
	// runs again elsewhere. Zero: the jobs are cancelled at once.
	StopGrace time.Duration
	// TestOnly tunes River for tests (no leadership delays).
	TestOnly bool
	// Metrics, when set, receives the job metrics: per-job wait and work
	// time by outcome (a process that works jobs) and the queues' depth.
	Metrics prometheus.Registerer
}

// How long a job may run, and when a job left running is taken back.
//
// River's rescuer (on the elected leader only: once when it is elected,
// then every 30 s, an interval River does not let us configure) moves a job
// that has been running for longer than max(RescueStuckJobsAfter, its
// kind's timeout) back to retryable. A job's row stays running when the
// process working it dies (kill -9, OOM, a lost node): nothing else ever
// finishes it. So these numbers bound how long a crash leaves claims
// unadjudicated, imports "running" and webhooks undelivered:
//
//   - The dead leader's lease runs out first (at most 15 s after it died:
//     River's 5 s election interval plus 10 s padding), then the new
//     leader's rescuer runs at once and again every 30 s.
//   - A job is rescued on the first run at which it has been running for
//     max(RescueStuckJobsAfter, its timeout). With 10 s, the new leader's
//     first run, 10-15 s after the crash, takes back every job of the
//     default timeout. A worker that dies while another process leads waits
//     for the leader's next run: at most 10 + 30 s.
//   - The rescued job is retryable with a next attempt a few seconds away
//     (River's backoff: about 1 s for a first retry; the webhook delivery's
//     own schedule: 5 s), made available by the leader's scheduler within
//     5 s. Measured (cmd/servicenet/liveness_test.go, a leader killed with
//     SIGKILL and restarted at once): claims adjudicated again 19 s after
//     the restart, webhooks flowing after 18 s (periodic jobs wait for the
//     dead leader's lease). With 30 s here it was 52 s: the rescuer's first
//     run came too early and the next one 30 s later.
//
// JobTimeout is also every job's deadline: its context is cancelled after
// it, the attempt fails and is retried. 8 s is far above what our jobs take
// (one short tenant transaction each, milliseconds); a kind that needs
// longer says so with Timeout() and is listed here:
//
//   - webhook_delivery, notification_delivery: 20 s (a 15 s request and
//     two transactions);
//   - the periodic jobs: 30 s (PeriodicTimeout). A copy left running by a
//     dead process blocks nothing (PeriodicJobs), so its rescue can wait;
//     the webhook dispatch session gets its 20 s on top;
//   - network_import: 10 min (NetworkImportWorker.Timeout). It commits in
//     batches with a checkpoint, so a retry resumes. River would leave the
//     job of a dead worker running for those 10 min; the import does not
//     wait for it: its lease on the import row runs out 10 s after its last
//     heartbeat, and WatchImports, on every working process, queues a new
//     job that resumes it (at most 12 s after the crash; measured by
//     TestKilledImportResumesWithinAMinute) and cancels the dead job, which
//     the rescuer then finalizes after RescueStuckJobsAfter (a cancelled
//     job is not held to its kind's timeout). A healthy long import keeps
//     its lease, so it is never run twice.
//
// NewClient refuses RescueStuckJobsAfter < JobTimeout (River's rule): a job
// is never taken back before its own deadline has passed.
const (
	JobTimeout           = 8 * time.Second
	RescueStuckJobsAfter = 10 * time.Second
	// PeriodicTimeout bounds one run of a periodic job (see PeriodicJobs).
	PeriodicTimeout = 30 * time.Second
)

// workers registers every worker; sweep are the adjudication sweep's
// metrics.
func workers(d Deps, sweep *claimSweepMetrics) *river.Workers {
	w := river.NewWorkers()
	river.AddWorker(w, &IdempotencySweepWorker{Identity: d.Identity, Idempotency: d.Idempotency})
	river.AddWorker(w, &LicenceExpiryWorker{Tenants: d.Identity, Network: d.Network})
	river.AddWorker(w, &PrivacyRetentionWorker{Tenants: d.Identity, Tickets: d.Tickets, Customers: d.Customers})
	river.AddWorker(w, &NetworkImportWorker{Network: d.Network, Logger: d.Logger})
	river.AddWorker(w, &ContractLifecycleWorker{Tenants: d.Identity, Warranty: d.Warranty})
	river.AddWorker(w, &CareRemindersWorker{Tenants: d.Identity, Customers: d.Customers})
	river.AddWorker(w, &ClaimAdjudicationWorker{Claims: d.Claims})
	river.AddWorker(w, &ClaimAdjudicationSweepWorker{Claims: d.Claims, Logger: d.Logger, Stopping: d.Stopping,
		metrics: sweep})
	river.AddWorker(w, &WebhookDispatchWorker{Webhooks: d.Webhooks, Stopping: d.Stopping})
	river.AddWorker(w, &WebhookDeliveryWorker{Webhooks: d.Webhooks})
	river.AddWorker(w, &PayoutDeadlineWorker{Payouts: d.Payouts})
	river.AddWorker(w, &SwapEvaluationWorker{Swaps: d.Swaps})
	river.AddWorker(w, &TicketTimerWorker{})
	river.AddWorker(w, &TicketSLASweepWorker{Tickets: d.Tickets})
	river.AddWorker(w, &ClaimDeadlineSweepWorker{Claims: d.Claims})
	river.AddWorker(w, &TicketReconciliationWorker{Tenants: d.Identity, Tickets: d.Tickets})
	river.AddWorker(w, &ComplaintSLAWorker{Complaints: d.Complaints})
	river.AddWorker(w, &QualityFoldWorker{Quality: d.Quality})
	river.AddWorker(w, &QualityMonthlyWorker{Tenants: d.Identity, Quality: d.Quality})
	river.AddWorker(w, &NotificationDeliveryWorker{Notifications: d.Notifications})
	river.AddWorker(w, &TestClockAdvanceWorker{TestClocks: d.TestClocks, Tickets: d.Tickets, Warranty: d.Warranty, Claims: d.Claims,
		Customers: d.Customers})
	return w
}

// PeriodicJobs are the platform's recurring jobs. Only the elected leader
// enqueues them, and none has UniqueOpts: a unique periodic job is skipped
// as a duplicate for as long as a copy of it is running, and a copy whose
// process died stays running until it is rescued, which stopped webhooks for
// every tenant (issue 18). Instead a copy that starts while another of the
// same kind and args runs does nothing (singletonMiddleware), and every
// periodic job is idempotent, so a copy that runs after a dead one was
// rescued redoes nothing that was done.
func PeriodicJobs() []*river.PeriodicJob {
	return []*river.PeriodicJob{
		river.NewPeriodicJob(river.PeriodicInterval(time.Hour),
			func() (river.JobArgs, *river.InsertOpts) { return IdempotencySweepArgs{}, nil },
			&river.PeriodicJobOpts{ID: IdempotencySweepArgs{}.Kind(), RunOnStart: true}),
		river.NewPeriodicJob(river.PeriodicInterval(time.Hour),
			func() (river.JobArgs, *river.InsertOpts) { return LicenceExpiryArgs{}, nil },
			&river.PeriodicJobOpts{ID: LicenceExpiryArgs{}.Kind(), RunOnStart: true}),
		river.NewPeriodicJob(river.PeriodicInterval(time.Hour),
			func() (river.JobArgs, *river.InsertOpts) { return PrivacyRetentionArgs{}, nil },
			&river.PeriodicJobOpts{ID: PrivacyRetentionArgs{}.Kind(), RunOnStart: true}),
		river.NewPeriodicJob(river.PeriodicInterval(time.Hour),
			func() (river.JobArgs, *river.InsertOpts) { return ContractLifecycleArgs{}, nil },
			&river.PeriodicJobOpts{ID: ContractLifecycleArgs{}.Kind(), RunOnStart: true}),
		river.NewPeriodicJob(river.PeriodicInterval(time.Hour),
			func() (river.JobArgs, *river.InsertOpts) { return CareRemindersArgs{}, nil },
			&river.PeriodicJobOpts{ID: CareRemindersArgs{}.Kind(), RunOnStart: true}),
		river.NewPeriodicJob(river.PeriodicInterval(WebhookDispatchSession),
			func() (river.JobArgs, *river.InsertOpts) {
				return WebhookDispatchArgs{SessionSeconds: int(WebhookDispatchSession / time.Second)}, nil
			},
			&river.PeriodicJobOpts{ID: WebhookDispatchArgs{}.Kind(), RunOnStart: true}),
		river.NewPeriodicJob(river.PeriodicInterval(time.Hour),
			func() (river.JobArgs, *river.InsertOpts) { return TicketReconciliationArgs{}, nil },
			&river.PeriodicJobOpts{ID: TicketReconciliationArgs{}.Kind(), RunOnStart: true}),
		river.NewPeriodicJob(river.PeriodicInterval(ClaimAdjudicationSession),
			func() (river.JobArgs, *river.InsertOpts) {
				return ClaimAdjudicationSweepArgs{SessionSeconds: int(ClaimAdjudicationSession / time.Second)}, nil
			},
			&river.PeriodicJobOpts{ID: ClaimAdjudicationSweepArgs{}.Kind(), RunOnStart: true}),
		river.NewPeriodicJob(river.PeriodicInterval(TicketSLASweepInterval),
			func() (river.JobArgs, *river.InsertOpts) { return TicketSLASweepArgs{}, nil },
			&river.PeriodicJobOpts{ID: TicketSLASweepArgs{}.Kind(), RunOnStart: true}),
		river.NewPeriodicJob(river.PeriodicInterval(ClaimDeadlineSweepInterval),
			func() (river.JobArgs, *river.InsertOpts) { return ClaimDeadlineSweepArgs{}, nil },
			&river.PeriodicJobOpts{ID: ClaimDeadlineSweepArgs{}.Kind(), RunOnStart: true}),
		river.NewPeriodicJob(river.PeriodicInterval(time.Minute),
			func() (river.JobArgs, *river.InsertOpts) { return QualityFoldArgs{}, nil },
			&river.PeriodicJobOpts{ID: QualityFoldArgs{}.Kind(), RunOnStart: true}),
		river.NewPeriodicJob(river.PeriodicInterval(time.Hour),
			func() (river.JobArgs, *river.InsertOpts) { return QualityMonthlyArgs{}, nil },
			&river.PeriodicJobOpts{ID: QualityMonthlyArgs{}.Kind(), RunOnStart: true}),
	}
}

// NewClient builds the River client over db (the application role's pool).
// It takes a pool, not a pg.DB: River's workers fetch on connections of
// their own, and singletonMiddleware opens its lock sessions with the pool's
// settings. Its InsertTx inserts into any pgx.Tx, a test's savepoint
// included. A client that works jobs needs all of d (Deps); one that only
// inserts needs none, nor a pool when it inserts into its callers'
// transactions only.
func NewClient(db *pgxpool.Pool, d Deps, opt Options) (*river.Client[pgx.Tx], error) {
	if name := d.missing(); opt.Work && name != "" {
		return nil, fmt.Errorf("jobs: Deps.%s is required by a client that works jobs", name)
	}
	if opt.MaxWorkers == 0 {
		opt.MaxWorkers = 20
	}
	singles := map[string]bool{}
	for _, k := range periodicKinds {
		singles[k] = true
	}
	sweep := newClaimSweepMetrics()
	cfg := &river.Config{
		Workers:              workers(d, sweep),
		Logger:               riverLogger(d.Logger),
		JobTimeout:           JobTimeout,
		RescueStuckJobsAfter: RescueStuckJobsAfter,
		SoftStopTimeout:      opt.StopGrace,
		MaxAttempts:          10,
		ErrorHandler:         &errorHandler{log: d.Logger},
		Middleware:           []rivertype.Middleware{&modeMiddleware{}, newSingletonMiddleware(db, singles)},
		TestOnly:             opt.TestOnly,
		ReindexerIndexNames:  pg.RiverIndexes(), // not those Migrate drops
	}
	if opt.Metrics != nil {
		m, err := registerMetrics(opt.Metrics, db, sweep)
		if err != nil {
			return nil, fmt.Errorf("jobs: metrics: %w", err)
		}
		cfg.Middleware = append([]rivertype.Middleware{m}, cfg.Middleware...)
	}
	if opt.Work {
		cfg.Queues = map[string]river.QueueConfig{river.QueueDefault: {MaxWorkers: opt.MaxWorkers}}
		cfg.Queues[QueueWebhooks] = river.QueueConfig{MaxWorkers: 2 * opt.MaxWorkers}
		cfg.Queues[QueueClaims] = river.QueueConfig{MaxWorkers: min(ClaimWorkers, opt.MaxWorkers), FetchCooldown: ClaimFetchCooldown}
		cfg.PeriodicJobs = PeriodicJobs()
	}
	return river.NewClient(riverpgxv5.New(db), cfg)
}

// riverLogger is log for River's own lines, but its producers' "Producer
// job counts" at debug rather than info: River logs them every few seconds
// whenever a queue's counts changed, which the 5 s SLA sweep makes every 5
// s on an idle system, and the same counts are in the job metrics
// (servicenet_job_work_seconds by kind). Nil stays nil (River's default).
func riverLogger(log *slog.Logger) *slog.Logger {
	if log == nil {
		return nil
	}
	return slog.New(quietCounts{log.Handler()})
}

// quietCounts is riverLogger's handler.
type quietCounts struct{ slog.Handler }

func (h quietCounts) Handle(ctx context.Context, r slog.Record) error {
	if r.Level == slog.LevelInfo && strings.HasSuffix(r.Message, ": Producer job counts") {
		if !h.Handler.Enabled(ctx, slog.LevelDebug) {
			return nil
		}
		r.Level = slog.LevelDebug
	}
	return h.Handler.Handle(ctx, r)
}

func (h quietCounts) WithAttrs(attrs []slog.Attr) slog.Handler {
	return quietCounts{h.Handler.WithAttrs(attrs)}
}

func (h quietCounts) WithGroup(name string) slog.Handler {
	return quietCounts{h.Handler.WithGroup(name)}
}

type errorHandler struct{ log *slog.Logger }

func (h *errorHandler) HandleError(ctx context.Context, job *rivertype.JobRow, err error) *river.ErrorHandlerResult {
	h.log.ErrorContext(ctx, "job failed", "kind", job.Kind, "job_id", job.ID, "attempt", job.Attempt, "error", err.Error())
	return nil
}

func (h *errorHandler) HandlePanic(ctx context.Context, job *rivertype.JobRow, panicVal any, trace string) *river.ErrorHandlerResult {
	h.log.ErrorContext(ctx, "job panicked", "kind", job.Kind, "job_id", job.ID, "attempt", job.Attempt, "panic", panicVal, "stack", trace)
	return nil
}
