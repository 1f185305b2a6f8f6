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

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"riverqueue.com/riverui"

	"github.com/servicenet/servicenet/api"
	"github.com/servicenet/servicenet/authz"
	"github.com/servicenet/servicenet/internal/config"
	"github.com/servicenet/servicenet/internal/pg"
	"github.com/servicenet/servicenet/jobs"
	"github.com/servicenet/servicenet/openapi"
	"github.com/servicenet/servicenet/tenants/catalog"
	"github.com/servicenet/servicenet/tenants/claims"
	"github.com/servicenet/servicenet/tenants/complaints"
	"github.com/servicenet/servicenet/tenants/customers"
	"github.com/servicenet/servicenet/tenants/idempotency"
	"github.com/servicenet/servicenet/tenants/identity"
	"github.com/servicenet/servicenet/tenants/network"
	"github.com/servicenet/servicenet/tenants/payouts"
	"github.com/servicenet/servicenet/tenants/stock"
	"github.com/servicenet/servicenet/tenants/swaps"
	"github.com/servicenet/servicenet/tenants/tickets"
	"github.com/servicenet/servicenet/tenants/warranty"
	"github.com/servicenet/servicenet/tenants/webhooks"
)

// serve runs until ctx is cancelled, then drains HTTP and stops River. When
// listening is non-nil it receives the bound address (tests listen on :0).
func serve(ctx context.Context, cfg config.Config, log *slog.Logger, stdout io.Writer, listening chan<- string) error {
	log.Info("starting", "version", openapi.Version, "config", cfg.String())
	appURL, err := cfg.AppURL()
	if err != nil {
		return err
	}
	db, err := pg.Connect(ctx, appURL, pg.PoolOptions{Name: "servicenet-" + cfg.Mode, MaxConns: cfg.DBMaxConns})
	if err != nil {
		return err
	}
	defer db.Close()
	if err := pg.CheckAppRole(ctx, db); err != nil {
		return err
	}

	idn := &identity.Service{DB: db, Log: log}
	nw := &network.Service{DB: db}
	cat := &catalog.Service{DB: db}
	cus := &customers.Service{DB: db}
	war := &warranty.Service{DB: db}
	clm := &claims.Service{DB: db}
	cpl := &complaints.Service{DB: db}
	swp := &swaps.Service{DB: db}
	pay := &payouts.Service{DB: db}
	whk := &webhooks.Service{DB: db}
	tkt := &tickets.Service{DB: db, Codes: tickets.LogSender{Log: log}}
	store := &idempotency.Store{DB: db}
	rc, err := jobs.NewClient(db, jobs.Deps{Identity: idn, Idempotency: store, Network: nw, Catalog: cat, Customers: cus, Warranty: war, Claims: clm, Complaints: cpl, Swaps: swp, Payouts: pay, Webhooks: whk, Tickets: tkt, Logger: log},
		jobs.Options{Work: cfg.Mode != "api", MaxWorkers: cfg.MaxWorkers})
	if err != nil {
		return err
	}
	nw.EnqueueImport = jobs.NetworkImportEnqueuer(rc)
	clm.Enqueue = jobs.ClaimAdjudicationEnqueuer(rc)
	cpl.EnqueueSLA = jobs.ComplaintSLAEnqueuer(rc)
	whk.EnqueueDeliveries = jobs.WebhookDeliveryEnqueuer(rc, whk)
	pay.EnqueueDeadline = jobs.PayoutDeadlineEnqueuer(rc)
	swp.EnqueueEvaluation = jobs.SwapEvaluationEnqueuer(rc)
	tkt.EnqueueTimers = jobs.TicketTimerEnqueuer(rc)
	tkt.Swaps = swp
	clm.OnApproved = pay.ForApprovedClaim
	if cfg.Mode != "api" {
		if err := rc.Start(ctx); err != nil {
			return fmt.Errorf("start jobs: %w", err)
		}
	}
	stopJobs := func() {
		if cfg.Mode == "api" {
			return
		}
		stopCtx, cancel := context.WithTimeout(context.Background(), cfg.ShutdownTimeout)
		defer cancel()
		if err := rc.Stop(stopCtx); err != nil {
			log.Warn("jobs did not finish in time; cancelling them", "error", err.Error())
			hard, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			_ = rc.StopAndCancel(hard)
		}
		log.Info("jobs stopped")
	}
	if cfg.Mode == "worker" {
		log.Info("worker running")
		<-ctx.Done()
		stopJobs()
		return nil
	}

	defer idn.Start(ctx)() // the authentication cache; stops (and flushes last uses) before the pool closes
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}), pg.NewPoolCollector(db))
	ui, err := riverui.NewHandler(&riverui.HandlerOpts{
		Endpoints: riverui.NewEndpoints(rc, nil), Logger: log, Prefix: "/admin/jobs",
		JobListHideArgsByDefault: true,
	})
	if err != nil {
		return err
	}
	if err := ui.Start(ctx); err != nil {
		return err
	}
	az, err := authz.New()
	if err != nil {
		return err
	}
	srv := api.New(api.Config{Version: openapi.Version, RatePerSecond: cfg.RatePerSecond, RateBurst: cfg.RateBurst, OperatorToken: cfg.OperatorToken},
		api.Deps{DB: db, Identity: idn, Network: nw, Catalog: cat, Customers: cus, Warranty: war, Claims: clm, Complaints: cpl, Swaps: swp, Payouts: pay, Webhooks: whk, Tickets: tkt, Idempotency: store, Authz: az, JobsUI: ui, Metrics: reg, Logger: log,
			Stock: &stock.Service{DB: db}})

	httpSrv := &http.Server{
		Handler:           srv.Handler(),
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
	log.Info("serving", "url", base, "docs", base+"/docs", "jobs", base+"/admin/jobs/", "mode", cfg.Mode)
	fmt.Fprintf(stdout, "ServiceNet %s serving on %s (docs %s/docs)\n", openapi.Version, base, base)

	errc := make(chan error, 1)
	go func() { errc <- httpSrv.Serve(ln) }()
	select {
	case err := <-errc:
		stopJobs()
		return err
	case <-ctx.Done():
	}
	log.Info("shutting down: draining HTTP")
	shutCtx, cancel := context.WithTimeout(context.Background(), cfg.ShutdownTimeout)
	defer cancel()
	if err := httpSrv.Shutdown(shutCtx); err != nil {
		log.Warn("HTTP drain incomplete", "error", err.Error())
	}
	if err := <-errc; err != nil && !errors.Is(err, http.ErrServerClosed) {
		log.Warn("HTTP server", "error", err.Error())
	}
	stopJobs()
	log.Info("stopped")
	return nil
}
