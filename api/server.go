// Package api is ServiceNet's HTTP surface: the chi router, the Huma
// operations (one file per resource), the middleware that authenticates,
// authorizes, rate-limits and makes POSTs idempotent, and the one mapper from
// errors to problem+json. It knows nothing of SQL: every operation calls a
// domain service in tenants/....
package api

import (
	"log/slog"
	"net/http"
	"sync"
	"time"

	"github.com/danielgtaylor/huma/v2"
	"github.com/danielgtaylor/huma/v2/adapters/humachi"
	"github.com/go-chi/chi/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/servicenet/servicenet/authz"
	"github.com/servicenet/servicenet/internal/pg"
	"github.com/servicenet/servicenet/internal/services"
	"github.com/servicenet/servicenet/tenants/network"
)

// Config tunes the HTTP surface. Zero values take defaults.
type Config struct {
	Version string
	// RatePerSecond and RateBurst bound each credential's request rate.
	RatePerSecond float64
	RateBurst     int
	// OperatorToken authenticates the platform operator; empty disables
	// operator operations and the job dashboard.
	OperatorToken string
	// RequestTimeout bounds every request (its context's deadline); zero:
	// DefaultRequestTimeout.
	RequestTimeout time.Duration
	// MaxImportBytes is the largest network import file accepted; zero:
	// network.MaxImportBytes, the limit the document states. Benchmarks
	// raise it to measure uploads larger than the job may import.
	MaxImportBytes int64
	// TenantConcurrency is how many requests of one tenant run at once on
	// this replica; zero: half the pool's connections, at least
	// MinTenantConcurrency.
	TenantConcurrency int
	// Replicas, when set, says how many API replicas share the database:
	// each enforces 1/n of every rate limit. Nil: this one alone.
	Replicas func() int
	// AwaitAuthCache makes readiness wait for the authentication cache's
	// listener (Deps.Identity.AwaitCache): set it where this process runs
	// the cache (identity.Service.Run), as serve's API modes do.
	AwaitAuthCache bool
}

// DefaultRequestTimeout is Config.RequestTimeout's default.
const DefaultRequestTimeout = 10 * time.Second

// Deps are the services operations call. All may be nil when the server is
// built only to produce the OpenAPI document.
type Deps struct {
	DB *pgxpool.Pool
	services.Set
	// JobsUI is the River UI handler, served at /admin/jobs/ to the operator.
	JobsUI  http.Handler
	Metrics *prometheus.Registry
	Logger  *slog.Logger
}

// Server is the assembled HTTP surface.
type Server struct {
	cfg     Config
	deps    Deps
	log     *slog.Logger
	api     huma.API
	router  chi.Router
	limiter *rateLimiter
	// failures limits, per client address, requests whose credential is
	// missing or refused (see authenticate).
	failures *rateLimiter
	// shares are the tenants' semaphores (tenantShare).
	sharesMu sync.Mutex
	shares   map[string]chan struct{}
	metrics  *httpMetrics
	// lockTimeout is the database connections' session lock_timeout
	// (pg.Unit.SessionLockTimeout), read once: the pool's Config is a deep
	// copy per call.
	lockTimeout string
}

// New assembles the router and registers every operation.
func New(cfg Config, deps Deps) *Server {
	if cfg.Version == "" {
		cfg.Version = "dev"
	}
	if cfg.RatePerSecond == 0 {
		cfg.RatePerSecond = 50
	}
	if cfg.RequestTimeout <= 0 {
		cfg.RequestTimeout = DefaultRequestTimeout
	}
	if cfg.RateBurst == 0 {
		cfg.RateBurst = 100
	}
	if cfg.MaxImportBytes <= 0 {
		cfg.MaxImportBytes = network.MaxImportBytes
	}
	if cfg.TenantConcurrency <= 0 {
		cfg.TenantConcurrency = MinTenantConcurrency
		if deps.DB != nil {
			cfg.TenantConcurrency = defaultTenantConcurrency(deps.DB.Config().MaxConns)
		}
	}
	if cfg.Replicas == nil {
		cfg.Replicas = func() int { return 1 }
	}
	if deps.Logger == nil {
		deps.Logger = slog.New(slog.DiscardHandler)
	}
	if deps.Authz == nil { // building the document only: the policy is still the real one
		a, err := authz.New()
		if err != nil {
			panic(err)
		}
		deps.Authz = a
	}
	if deps.Metrics == nil {
		deps.Metrics = prometheus.NewRegistry()
	}
	s := &Server{cfg: cfg, deps: deps, log: deps.Logger, limiter: newRateLimiter(cfg.RatePerSecond, cfg.RateBurst, cfg.Replicas),
		failures: newRateLimiter(cfg.RatePerSecond, cfg.RateBurst, cfg.Replicas), shares: map[string]chan struct{}{}}
	if deps.DB != nil {
		s.lockTimeout = pg.NewUnit(deps.DB, "").SessionLockTimeout()
	}
	installErrorModel(s.log)
	s.metrics = newHTTPMetrics(deps.Metrics)

	r := chi.NewMux()
	r.Use(s.requestID, s.observe, s.recoverer)
	r.NotFound(func(w http.ResponseWriter, r *http.Request) {
		writeProblemHTTP(w, r, newProblem(http.StatusNotFound, "", "").withMsg("problem.no_such_endpoint"))
	})
	r.MethodNotAllowed(func(w http.ResponseWriter, r *http.Request) {
		writeProblemHTTP(w, r, newProblem(http.StatusMethodNotAllowed, "", "").withMsg("problem.method_not_allowed"))
	})
	r.Handle("/metrics", promhttp.HandlerFor(deps.Metrics, promhttp.HandlerOpts{}))
	spec := s.specHandler()
	for _, p := range []string{"/openapi.json", "/openapi.yaml", "/openapi-3.0.json", "/openapi-3.0.yaml"} {
		r.Method(http.MethodGet, p, spec)
	}
	r.Handle("/docs", docsHandler())
	r.Handle("/docs/assets/*", docsHandler())
	if deps.JobsUI != nil {
		jobs := s.operatorOnly(s.deadlineHTTP(deps.JobsUI))
		r.Handle("/admin/jobs", http.RedirectHandler("/admin/jobs/", http.StatusMovedPermanently))
		r.Handle("/admin/jobs/*", jobs)
	}
	s.router = r
	s.api = humachi.New(r, apiConfig(cfg.Version))
	s.api.UseMiddleware(s.deadline, s.authenticate, s.language, s.rateLimit, s.tenantShare, s.textGuard, s.idempotent)
	s.registerOperations()
	declareWebhooks(s.api.OpenAPI())
	return s
}

// Handler is the root HTTP handler.
func (s *Server) Handler() http.Handler { return s.router }

// OpenAPI is the API's OpenAPI document.
func (s *Server) OpenAPI() *huma.OpenAPI { return s.api.OpenAPI() }

func (s *Server) registerOperations() {
	s.registerHealth()
	s.registerMe()
	s.registerTenants()
	s.registerAPIKeys()
	s.registerEvents()
	s.registerNodes()
	s.registerImports()
	s.registerTechnicians()
	s.registerCatalog()
	s.registerCustomers()
	s.registerContracts()
	s.registerEntitlements()
	s.registerClaims()
	s.registerComplaints()
	s.registerQuality()
	s.registerSwaps()
	s.registerPayouts()
	s.registerWebhooks()
	s.registerNotifications()
	s.registerTickets()
	s.registerTicketVisits()
	s.registerTicketKinds()
	s.registerSLA()
	s.registerCare()
	s.registerStock()
	s.registerPrivacy()
	s.registerTestClocks()
}
