package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/servicenet/servicenet/internal/app"
	"github.com/servicenet/servicenet/internal/config"
	"github.com/servicenet/servicenet/internal/pg"
	"github.com/servicenet/servicenet/openapi"
)

// onAppForTests, when set (by a test's child server only), sees the App
// before it starts.
var onAppForTests func(*app.App)

// serve runs until ctx is cancelled, then drains HTTP and stops River
// together: River stops fetching at once, and the requests in flight and the
// jobs running get cfg.ShutdownTimeout to finish. A job still running then is
// cancelled and goes back to the queue with its attempt refunded, for
// another worker (App.Stop). The whole stop takes at most ShutdownTimeout +
// 10 s; the pod's terminationGracePeriodSeconds must exceed it. When
// listening is non-nil it receives the bound address (tests listen on :0).
func serve(ctx context.Context, cfg config.Config, log *slog.Logger, stdout io.Writer, listening chan<- string) error {
	log.Info("starting", "version", openapi.Version, "config", cfg.String())
	appURL, err := cfg.AppURL()
	if err != nil {
		return err
	}
	db, err := pg.Connect(ctx, appURL, pg.PoolOptions{Name: "servicenet-" + cfg.Mode, MaxConns: cfg.DBMaxConns,
		StatementTimeout: cfg.DBStatementTimeout, LockTimeout: cfg.DBLockTimeout})
	if err != nil {
		return err
	}
	defer db.Close()
	if err := pg.CheckAppRole(ctx, db); err != nil {
		return err
	}

	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}), pg.NewPoolCollector(db))
	a, err := app.New(ctx, app.Config{Mode: cfg.Mode, Version: openapi.Version, RatePerSecond: cfg.RatePerSecond, RateBurst: cfg.RateBurst,
		OperatorToken: cfg.OperatorToken, RequestTimeout: cfg.RequestTimeout, MaxWorkers: cfg.MaxWorkers, JobStopGrace: cfg.ShutdownTimeout,
		JobsUI: cfg.Mode != app.ModeWorker, Metrics: reg, LoopbackWebhooksInTestMode: cfg.LoopbackWebhooksInTestMode}, db, log)
	if err != nil {
		return err
	}
	reg.MustRegister(prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "servicenet_auth_lookups_total",
		Help: "Presented secrets looked up in the database (authentication cache misses)."},
		func() float64 { return float64(a.Identity.Lookups()) }))
	if onAppForTests != nil {
		onAppForTests(a)
	}
	// The grace, then a few seconds for River to cancel what still runs and
	// record it as interrupted; App.StopJobs then gives up after 5 s more.
	stopCtx := func() (context.Context, context.CancelFunc) {
		return context.WithTimeout(context.Background(), cfg.ShutdownTimeout+5*time.Second)
	}
	stopJobs := func() {
		ctx, cancel := stopCtx()
		defer cancel()
		if err := a.Stop(ctx); err != nil {
			log.Warn("jobs", "error", err.Error())
		}
	}
	if err := a.Start(ctx); err != nil {
		stopJobs()
		return err
	}
	handler := a.Handler()
	if cfg.Mode == app.ModeWorker {
		// A worker serves no API, only what its probes and Prometheus need.
		handler = workerHandler(db, reg)
	}
	httpSrv := &http.Server{
		Handler:           handler,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      60 * time.Second,
		IdleTimeout:       120 * time.Second,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
		BaseContext:       func(net.Listener) context.Context { return context.WithoutCancel(ctx) },
	}
	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		stopJobs()
		return err
	}
	base := cfg.PublicURL
	if listening != nil {
		base = "http://" + ln.Addr().String()
		listening <- ln.Addr().String()
	}
	if cfg.Mode == app.ModeWorker {
		log.Info("worker running", "metrics", base+"/metrics")
		fmt.Fprintf(stdout, "ServiceNet %s worker running (health and metrics on %s)\n", openapi.Version, base)
	} else {
		log.Info("serving", "url", base, "docs", base+"/docs", "jobs", base+"/admin/jobs/", "mode", cfg.Mode)
		fmt.Fprintf(stdout, "ServiceNet %s serving on %s (docs %s/docs)\n", openapi.Version, base, base)
	}

	errc := make(chan error, 1)
	go func() { errc <- httpSrv.Serve(ln) }()
	select {
	case err := <-errc:
		stopJobs()
		return err
	case <-ctx.Done():
	}
	log.Info("shutting down: draining HTTP and stopping jobs")
	jobsStopped := make(chan struct{})
	go func() {
		defer close(jobsStopped)
		ctx, cancel := stopCtx()
		defer cancel()
		if err := a.StopJobs(ctx); err != nil {
			log.Warn("jobs", "error", err.Error())
		}
	}()
	shutCtx, cancel := context.WithTimeout(context.Background(), cfg.ShutdownTimeout)
	defer cancel()
	if err := httpSrv.Shutdown(shutCtx); err != nil {
		log.Warn("HTTP drain incomplete", "error", err.Error())
	}
	if err := <-errc; err != nil && !errors.Is(err, http.ErrServerClosed) {
		log.Warn("HTTP server", "error", err.Error())
	}
	<-jobsStopped
	stopJobs() // the rest of the App (River is already stopped)
	log.Info("stopped")
	return nil
}

// workerHandler is a worker process's HTTP surface: liveness, readiness
// (the database answers and both schemas are current) and the metrics, with
// the job metrics among them.
func workerHandler(db *pgxpool.Pool, reg *prometheus.Registry) http.Handler {
	mux := http.NewServeMux()
	status := func(w http.ResponseWriter, code int, body string) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(code)
		fmt.Fprintln(w, body)
	}
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) { status(w, http.StatusOK, `{"status":"ok"}`) })
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, r *http.Request) {
		ctx, cancel := context.WithTimeout(r.Context(), 500*time.Millisecond)
		defer cancel()
		st, err := pg.CheckSchema(ctx, db)
		switch {
		case err != nil:
			w.Header().Set("Retry-After", "2")
			status(w, http.StatusServiceUnavailable, `{"status":"database_unavailable"}`)
		case !st.Current():
			status(w, http.StatusServiceUnavailable, `{"status":"schema_not_current"}`)
		default:
			status(w, http.StatusOK, `{"status":"ready"}`)
		}
	})
	mux.Handle("GET /metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))
	return mux
}
