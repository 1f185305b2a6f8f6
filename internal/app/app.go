// Package app is ServiceNet's composition root: New builds the whole
// application — every domain service, the River client with its workers,
// the transactional enqueuers, the authorizer and the HTTP API — in one
// place, for `servicenet serve`, `servicenet seed`, the HTTP tests
// (internal/apitest) and the benchmarks (internal/bench).
//
// Every dependency of a service is an argument of its constructor
// (claims.NewService(db, claims.Deps{...}) and so on), and a constructor
// refuses a missing one, so a wiring mistake fails New, never a request.
// So does jobs.NewClient for a River client that works jobs: it needs every
// service its workers call (jobsDeps), so no committed job is cancelled or
// left unrun for want of one.
//
// The wiring has one cycle: the River client is built from its workers, the
// workers call the domain services, and the services need enqueuers that
// insert their jobs through the River client, in the caller's transaction.
// New breaks it with a jobs.Deferred: the enqueuers are built over the
// Deferred, the services over the enqueuers, the River client over the
// services, and then the client is attached to the Deferred. All of this
// happens inside New, before any request is served or job is run, and New
// fails if the attachment does: an App whose enqueuers have no client
// cannot exist, and an insert through an unattached Deferred is an error,
// never a silently skipped job.
package app

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/riverqueue/river"
	"riverqueue.com/riverui"

	"github.com/servicenet/servicenet/api"
	"github.com/servicenet/servicenet/authz"
	"github.com/servicenet/servicenet/internal/pg"
	"github.com/servicenet/servicenet/internal/replicas"
	"github.com/servicenet/servicenet/internal/services"
	"github.com/servicenet/servicenet/jobs"
	"github.com/servicenet/servicenet/tenants"
	"github.com/servicenet/servicenet/tenants/audit"
	"github.com/servicenet/servicenet/tenants/catalog"
	"github.com/servicenet/servicenet/tenants/claims"
	"github.com/servicenet/servicenet/tenants/complaints"
	"github.com/servicenet/servicenet/tenants/customers"
	"github.com/servicenet/servicenet/tenants/idempotency"
	"github.com/servicenet/servicenet/tenants/identity"
	"github.com/servicenet/servicenet/tenants/network"
	"github.com/servicenet/servicenet/tenants/notifications"
	"github.com/servicenet/servicenet/tenants/payouts"
	"github.com/servicenet/servicenet/tenants/privacy"
	"github.com/servicenet/servicenet/tenants/quality"
	"github.com/servicenet/servicenet/tenants/stock"
	"github.com/servicenet/servicenet/tenants/subjects"
	"github.com/servicenet/servicenet/tenants/swaps"
	"github.com/servicenet/servicenet/tenants/testclocks"
	"github.com/servicenet/servicenet/tenants/tickets"
	"github.com/servicenet/servicenet/tenants/warranty"
	"github.com/servicenet/servicenet/tenants/webhooks"
)

// Modes say what a process does with River. In ModeAPI the River client
// only inserts jobs; in ModeWorker and ModeAll it also fetches and runs
// them (and competes for leadership, which runs the periodic jobs).
const (
	ModeAll    = "all"
	ModeAPI    = "api"
	ModeWorker = "worker"
)

// Config shapes the App. Zero values take defaults.
type Config struct {
	// Mode is ModeAll, ModeAPI or ModeWorker; empty is ModeAll.
	Mode string
	// Version is reported by the API and its document; empty: "dev".
	Version string
	// RatePerSecond and RateBurst bound each credential's request rate
	// (api.Config); zero: the API's defaults.
	RatePerSecond float64
	RateBurst     int
	// OperatorToken authenticates the platform operator; empty disables
	// operator operations and the job dashboard.
	OperatorToken string
	// RequestTimeout bounds every HTTP request (api.Config); zero: the
	// API's default.
	RequestTimeout time.Duration
	// MaxImportBytes and TenantConcurrency: see api.Config; zero: its
	// defaults.
	MaxImportBytes    int64
	TenantConcurrency int
	// MaxWorkers bounds River's default queue; zero: the jobs default.
	MaxWorkers int
	// JobStopGrace is how long Stop lets running jobs finish before it
	// cancels them; a cancelled job goes back to available, its attempt
	// refunded, and runs again on another worker. Zero: they are cancelled
	// as soon as Stop is called.
	JobStopGrace time.Duration
	// RiverTestOnly tunes River for tests (jobs.Options.TestOnly).
	RiverTestOnly bool
	// JobsUI serves the River UI to the operator at /admin/jobs/.
	JobsUI bool
	// Metrics receives the HTTP metrics and is served at /metrics; nil: a
	// registry of the App's own.
	Metrics *prometheus.Registry
	// Codes, for tests, also receives every ticket sign-off code
	// (tickets.Deps.Codes); the codes reach customers through the
	// notifications service either way.
	Codes tickets.CodeSender
	// LoopbackWebhooksInTestMode lets test-mode webhook endpoints be
	// loopback URLs, for local development (webhooks.LoopbackSetting).
	LoopbackWebhooksInTestMode bool
	// OnClaimApproved, for tests, replaces payouts.Service.ForApprovedClaim
	// as what runs in a claim's approval transaction; nil: payouts.
	OnClaimApproved func(ctx context.Context, tx pg.TenantTx, c claims.Claim) error
}

// App is the assembled application. Its services are ready when New
// returns; River runs jobs only between Start and Stop.
type App struct {
	cfg Config
	log *slog.Logger

	DB *pgxpool.Pool
	services.Set
	// River inserts jobs in every mode and runs them unless Mode is ModeAPI.
	River *river.Client[pgx.Tx]
	// API is the HTTP surface; Handler serves it.
	API *api.Server
	// Replicas counts the API replicas on the database, for their shares
	// of the rate limits; it runs between Start and Stop unless Mode is
	// ModeWorker.
	Replicas *replicas.Registry

	jobsUI        *riverui.Handler
	riverStarted  bool
	stopping      chan struct{} // closed when StopJobs begins
	stopAuthCache func()
	stopReplicas  func()
	// stopImportWatch ends jobs.WatchImports (set while River runs).
	stopImportWatch func()
}

// New builds the App over db (the application role's pool). It fails when
// the configuration or a piece of the wiring is invalid; it starts nothing.
func New(ctx context.Context, cfg Config, db *pgxpool.Pool, log *slog.Logger) (*App, error) {
	if db == nil {
		return nil, errors.New("app: New needs a database")
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	switch cfg.Mode {
	case "":
		cfg.Mode = ModeAll
	case ModeAll, ModeAPI, ModeWorker:
	default:
		return nil, fmt.Errorf("app: unknown mode %q", cfg.Mode)
	}
	a := &App{cfg: cfg, log: log, DB: db, stopping: make(chan struct{})}
	a.Identity = &identity.Service{DB: db, Log: log}

	// The services enqueue through q; the River client is attached below.
	q := &jobs.Deferred{}
	if err := a.services(db, q); err != nil {
		return nil, err
	}

	var err error
	a.River, err = jobs.NewClient(db, a.jobsDeps(),
		jobs.Options{Work: a.works(), MaxWorkers: cfg.MaxWorkers, StopGrace: cfg.JobStopGrace, TestOnly: cfg.RiverTestOnly,
			Metrics: metricsOrNil(cfg.Metrics)})
	if err != nil {
		return nil, fmt.Errorf("app: jobs client: %w", err)
	}
	if err := q.Attach(a.River); err != nil {
		return nil, err
	}

	if a.Authz, err = authz.New(); err != nil {
		return nil, err
	}
	var ui http.Handler
	if cfg.JobsUI {
		a.jobsUI, err = riverui.NewHandler(&riverui.HandlerOpts{
			Endpoints: riverui.NewEndpoints(a.River, nil), Logger: log, Prefix: "/admin/jobs",
			JobListHideArgsByDefault: true,
		})
		if err != nil {
			return nil, fmt.Errorf("app: jobs UI: %w", err)
		}
		ui = a.jobsUI
	}
	a.Replicas = &replicas.Registry{DB: db, Log: log}
	a.API = api.New(api.Config{Version: cfg.Version, RatePerSecond: cfg.RatePerSecond, RateBurst: cfg.RateBurst, OperatorToken: cfg.OperatorToken,
		RequestTimeout: cfg.RequestTimeout, MaxImportBytes: cfg.MaxImportBytes, TenantConcurrency: cfg.TenantConcurrency,
		Replicas: a.Replicas.Count, AwaitAuthCache: cfg.Mode != ModeWorker},
		api.Deps{DB: db, Set: a.Set, JobsUI: ui, Metrics: cfg.Metrics, Logger: log})
	return a, nil
}

// NewServices builds the domain services alone, over db: for tests that run
// them inside one transaction they roll back (internal/domaintest), where
// db is that transaction. Its River client only inserts jobs (into db's
// transactions); there is no identity service (its authentication cache
// needs a pool), nothing to Start and no HTTP API.
func NewServices(cfg Config, db pg.DB, log *slog.Logger) (*App, error) {
	if db == nil {
		return nil, errors.New("app: NewServices needs a database")
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	a := &App{cfg: cfg, log: log, stopping: make(chan struct{})}
	q := &jobs.Deferred{}
	if err := a.services(db, q); err != nil {
		return nil, err
	}
	// No pool: River inserts into db's transactions and never runs a job.
	var err error
	if a.River, err = jobs.NewClient(nil, a.jobsDeps(), jobs.Options{}); err != nil {
		return nil, fmt.Errorf("app: jobs client: %w", err)
	}
	return a, q.Attach(a.River)
}

// jobsDeps are the services River's workers call.
func (a *App) jobsDeps() jobs.Deps {
	return jobs.Deps{Identity: a.Identity, Idempotency: a.Idempotency, Network: a.Network,
		Customers: a.Customers, Warranty: a.Warranty, Claims: a.Claims, Complaints: a.Complaints,
		Swaps: a.Swaps, Payouts: a.Payouts, Webhooks: a.Webhooks, Tickets: a.Tickets, Notifications: a.Notifications, Quality: a.Quality, TestClocks: a.TestClocks, Logger: a.log, Stopping: a.stopping}
}

// services builds every domain service but identity over db, enqueueing
// through q.
func (a *App) services(db pg.DB, q jobs.Inserter) error {
	cfg, log := a.cfg, a.log
	a.Idempotency = &idempotency.Store{DB: db}
	a.Catalog = &catalog.Service{DB: db}
	a.Stock = &stock.Service{DB: db}
	// Need-to-know: what technicians' and nodes' jobs touch
	// (tickets.ServedTx) bounds what they see of customers, units, and the
	// contracts, payouts and swaps hanging off those units.
	var err error
	if a.Customers, err = customers.NewService(db, customers.Deps{Jobs: tickets.ServedTx,
		PurchaseDateMoved: warranty.RedateUnitContractsTx}); err != nil {
		return err
	}
	if a.Warranty, err = warranty.NewService(db, warranty.Deps{Jobs: tickets.ServedTx}); err != nil {
		return err
	}
	if a.Audit, err = audit.NewService(db, map[string]audit.Personal{
		"tickets":       {Columns: tickets.PersonalColumns, Names: tickets.ContactNamesTx},
		"customers":     {Columns: func(...string) audit.Columns { return customers.PersonalColumns() }},
		"ticket_visits": {Columns: func(...string) audit.Columns { return tickets.VisitPersonalColumns() }}}); err != nil {
		return err
	}
	a.Privacy = &privacy.Service{DB: db}
	a.Subjects = &subjects.Service{DB: db}
	if a.Network, err = network.NewService(db, network.Deps{EnqueueImport: jobs.NetworkImportEnqueuer(q)}); err != nil {
		return err
	}
	if a.Notifications, err = notifications.NewService(db, notifications.Deps{EnqueueDelivery: jobs.NotificationDeliveryEnqueuer(q),
		EnqueueClockExpiry: jobs.NotificationClockExpiryEnqueuer(q), Log: log}); err != nil {
		return err
	}
	if a.Payouts, err = payouts.NewService(db, payouts.Deps{Jobs: tickets.ServedTx, EnqueueDeadline: jobs.PayoutDeadlineEnqueuer(q),
		EnqueueClockDeadline: jobs.PayoutClockDeadlineEnqueuer(q), Notifications: a.Notifications}); err != nil {
		return err
	}
	onApproved := a.Payouts.ForApprovedClaim
	if cfg.OnClaimApproved != nil {
		onApproved = cfg.OnClaimApproved
	}
	if a.Claims, err = claims.NewService(db, claims.Deps{OnApproved: onApproved,
		TicketState: tickets.UnitTicketStateTx, TicketByNumber: tickets.UnitTicketByNumberTx, TicketClock: tickets.TicketClockTx,
		Notifications: a.Notifications}); err != nil {
		return err
	}
	compensate := func(ctx context.Context, tx pg.TenantTx, unitID, ticketID string, clock *string, amount tenants.Money, reason, source string) (string, error) {
		// owed by the brand (no payer below it exists to charge the node back)
		o, err := a.Payouts.SchedulePayoutSystemTx(ctx, tx, source, payouts.NewPayout{UnitID: unitID, Amount: amount,
			Reason: reason, BusinessDays: payouts.DefaultBusinessDays, Payer: payouts.PayerBrand, TicketID: ticketID, TestClockID: clock})
		return o.ID, err
	}
	if a.Complaints, err = complaints.NewService(db, complaints.Deps{EnqueueSLA: jobs.ComplaintSLAEnqueuer(q), Refund: a.Payouts.RefundWaivedCharge,
		Compensate: compensate}); err != nil {
		return err
	}
	if a.Webhooks, err = webhooks.NewService(db, webhooks.Deps{EnqueueDeliveries: jobs.WebhookDeliveryEnqueuer(q),
		Attach: a.Notifications.Attach, LoopbackInTestMode: cfg.LoopbackWebhooksInTestMode}); err != nil {
		return err
	}
	if a.Swaps, err = swaps.NewService(db, swaps.Deps{Jobs: tickets.ServedTx, EnqueueEvaluation: jobs.SwapEvaluationEnqueuer(q), ServingNode: tickets.ServingNodeTx}); err != nil {
		return err
	}
	if a.Tickets, err = tickets.NewService(db, tickets.Deps{Swaps: a.Swaps, Payouts: a.Payouts,
		Notifications: a.Notifications, Codes: cfg.Codes}); err != nil {
		return err
	}
	if a.Quality, err = quality.NewService(db); err != nil {
		return err
	}
	if a.TestClocks, err = testclocks.NewService(db, testclocks.Deps{EnqueueAdvance: jobs.TestClockAdvanceEnqueuer(q),
		Attachers: map[string]testclocks.Attacher{tenants.PrefixTicket: tickets.AttachClockTx, tenants.PrefixContract: warranty.AttachClockTx,
			tenants.PrefixPayout: a.Payouts.AttachClockTx, tenants.PrefixClaim: a.Claims.AttachClockTx,
			tenants.PrefixUnit: customers.AttachClockTx}}); err != nil {
		return err
	}
	return nil
}

// metricsOrNil keeps a nil registry a nil interface.
func metricsOrNil(reg *prometheus.Registry) prometheus.Registerer {
	if reg == nil {
		return nil
	}
	return reg
}

// works reports whether this process's River client runs jobs.
func (a *App) works() bool { return a.cfg.Mode != ModeAPI }

// Handler is the root HTTP handler.
func (a *App) Handler() http.Handler { return a.API.Handler() }

// Start starts the App's background work, which runs until ctx is cancelled
// (River's workers until Stop, whatever ctx does: a signal that cancels ctx
// must not cancel running jobs): the services' own background loops, River's
// workers with the watch over their imports' leases (unless Mode is
// ModeAPI) and the jobs UI's poller. Serve and the
// HTTP tests call it before they accept a request.
func (a *App) Start(ctx context.Context) error {
	// Background loops of the services start here, first, so they run
	// before any job or request: the authentication cache (its listener and
	// last-use writer) serves the API.
	if a.cfg.Mode != ModeWorker {
		a.stopAuthCache = a.Identity.Start(ctx)
		a.stopReplicas = a.Replicas.Start(ctx)
	}

	if a.works() {
		if err := a.River.Start(context.WithoutCancel(ctx)); err != nil {
			return fmt.Errorf("start jobs: %w", err)
		}
		a.riverStarted = true
		// Imports whose worker died resume in seconds, on any working
		// process (jobs.WatchImports); it stops when StopJobs begins.
		watch, stop := context.WithCancel(context.WithoutCancel(ctx))
		watched := make(chan struct{})
		go func() {
			defer close(watched)
			jobs.WatchImports(watch, a.DB, a.Network, a.River, a.log)
		}()
		a.stopImportWatch = func() { stop(); <-watched }
	}
	if a.jobsUI != nil {
		if err := a.jobsUI.Start(ctx); err != nil {
			return fmt.Errorf("start jobs UI: %w", err)
		}
	}
	return nil
}

// Stop stops the services' background loops (the authentication cache
// flushes its last uses) and River's workers (StopJobs).
func (a *App) Stop(ctx context.Context) error {
	if a.stopAuthCache != nil {
		a.stopAuthCache() // flushes the last uses of API keys
		a.stopAuthCache = nil
	}
	if a.stopReplicas != nil {
		a.stopReplicas() // gives this replica's share back to the others
		a.stopReplicas = nil
	}
	return a.StopJobs(ctx)
}

// StopJobs stops River's workers. River stops fetching at once; running
// jobs get Config.JobStopGrace to finish, then River cancels them as
// interrupted (back to available, attempt refunded). StopJobs waits for that
// until ctx is done, so give ctx a few seconds more than the grace; then it
// cancels what still runs and waits up to 5 seconds more. Jobs still running
// then (a worker ignoring its context) are left to River's rescuer. It does
// nothing when Start did not start River, or once it has stopped it. The
// HTTP API keeps working meanwhile (its inserts do not need the workers), so
// serve stops jobs while it drains requests.
func (a *App) StopJobs(ctx context.Context) error {
	if !a.riverStarted {
		return nil
	}
	a.riverStarted = false
	close(a.stopping)
	a.stopImportWatch()
	if err := a.River.Stop(ctx); err != nil {
		a.log.Warn("jobs did not finish in time; cancelling them", "error", err.Error())
		hard, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		defer cancel()
		if err := a.River.StopAndCancel(hard); err != nil {
			return fmt.Errorf("stop jobs: %w", err)
		}
	}
	a.log.Info("jobs stopped")
	return nil
}
