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
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"
	"github.com/riverqueue/river/rivertype"

	"github.com/servicenet/servicenet/tenants/catalog"
	"github.com/servicenet/servicenet/tenants/claims"
	"github.com/servicenet/servicenet/tenants/complaints"
	"github.com/servicenet/servicenet/tenants/customers"
	"github.com/servicenet/servicenet/tenants/idempotency"
	"github.com/servicenet/servicenet/tenants/identity"
	"github.com/servicenet/servicenet/tenants/network"
	"github.com/servicenet/servicenet/tenants/payouts"
	"github.com/servicenet/servicenet/tenants/swaps"
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

// eachActiveTenant calls fn for every active tenant. A tenant whose call
// fails does not stop the others: their errors, each prefixed with what and
// the tenant's id, come back joined once all have run. Failing to list
// tenants stops at once with that error alone.
func eachActiveTenant(ctx context.Context, tl tenantLister, what string, fn func(tenantID string) error) error {
	var errs []error
	err := eachTenant(ctx, tl, func(t identity.Tenant) error {
		if t.Status != "active" {
			return nil
		}
		if err := fn(t.ID); err != nil {
			errs = append(errs, fmt.Errorf("%s for %s: %w", what, t.ID, err))
		}
		return nil
	})
	if err != nil {
		return err
	}
	return errors.Join(errs...)
}

// Deps are the services workers call.
type Deps struct {
	Identity    *identity.Service
	Idempotency *idempotency.Store
	Network     *network.Service
	Catalog     *catalog.Service
	Customers   *customers.Service
	Warranty    *warranty.Service
	Claims      *claims.Service
	Complaints  *complaints.Service
	Swaps       *swaps.Service
	Payouts     *payouts.Service
	Webhooks    *webhooks.Service
	Tickets     *tickets.Service
	Logger      *slog.Logger
}

// Options shape the River client.
type Options struct {
	// Work makes the client fetch and run jobs (and compete for leadership,
	// which runs periodic jobs). Without it the client only inserts jobs.
	Work       bool
	MaxWorkers int
	// TestOnly tunes River for tests (no leadership delays).
	TestOnly bool
}

// Workers registers every worker.
func Workers(d Deps) *river.Workers {
	w := river.NewWorkers()
	river.AddWorker(w, &IdempotencySweepWorker{Identity: d.Identity, Idempotency: d.Idempotency})
	river.AddWorker(w, &LicenceExpiryWorker{Tenants: d.Identity, Network: d.Network})
	river.AddWorker(w, &NetworkImportWorker{Network: d.Network, Logger: d.Logger})
	river.AddWorker(w, &ContractLifecycleWorker{Tenants: d.Identity, Warranty: d.Warranty})
	river.AddWorker(w, &ClaimAdjudicationWorker{Claims: d.Claims})
	river.AddWorker(w, &WebhookDispatchWorker{Tenants: d.Identity, Webhooks: d.Webhooks})
	river.AddWorker(w, &WebhookDeliveryWorker{Webhooks: d.Webhooks})
	river.AddWorker(w, &PayoutDeadlineWorker{Payouts: d.Payouts})
	river.AddWorker(w, &SwapEvaluationWorker{Swaps: d.Swaps})
	river.AddWorker(w, &TicketTimerWorker{Tickets: d.Tickets})
	river.AddWorker(w, &TicketReconciliationWorker{Tenants: d.Identity, Tickets: d.Tickets})
	river.AddWorker(w, &ComplaintSLAWorker{Complaints: d.Complaints})
	return w
}

// PeriodicJobs are the platform's recurring jobs.
func PeriodicJobs() []*river.PeriodicJob {
	return []*river.PeriodicJob{
		river.NewPeriodicJob(river.PeriodicInterval(time.Hour),
			func() (river.JobArgs, *river.InsertOpts) { return IdempotencySweepArgs{}, nil },
			&river.PeriodicJobOpts{ID: IdempotencySweepArgs{}.Kind(), RunOnStart: true}),
		river.NewPeriodicJob(river.PeriodicInterval(time.Hour),
			func() (river.JobArgs, *river.InsertOpts) { return LicenceExpiryArgs{}, nil },
			&river.PeriodicJobOpts{ID: LicenceExpiryArgs{}.Kind(), RunOnStart: true}),
		river.NewPeriodicJob(river.PeriodicInterval(time.Hour),
			func() (river.JobArgs, *river.InsertOpts) { return ContractLifecycleArgs{}, nil },
			&river.PeriodicJobOpts{ID: ContractLifecycleArgs{}.Kind(), RunOnStart: true}),
		river.NewPeriodicJob(river.PeriodicInterval(WebhookDispatchInterval),
			func() (river.JobArgs, *river.InsertOpts) { return WebhookDispatchArgs{}, nil },
			&river.PeriodicJobOpts{ID: WebhookDispatchArgs{}.Kind(), RunOnStart: true}),
		river.NewPeriodicJob(river.PeriodicInterval(time.Hour),
			func() (river.JobArgs, *river.InsertOpts) { return TicketReconciliationArgs{}, nil },
			&river.PeriodicJobOpts{ID: TicketReconciliationArgs{}.Kind(), RunOnStart: true}),
	}
}

// NewClient builds the River client over db (the application role's pool).
func NewClient(db *pgxpool.Pool, d Deps, opt Options) (*river.Client[pgx.Tx], error) {
	if opt.MaxWorkers == 0 {
		opt.MaxWorkers = 20
	}
	cfg := &river.Config{
		Workers:              Workers(d),
		Logger:               d.Logger,
		JobTimeout:           5 * time.Minute,
		RescueStuckJobsAfter: time.Hour,
		MaxAttempts:          10,
		ErrorHandler:         &errorHandler{log: d.Logger},
		TestOnly:             opt.TestOnly,
	}
	if opt.Work {
		cfg.Queues = map[string]river.QueueConfig{river.QueueDefault: {MaxWorkers: opt.MaxWorkers}}
		cfg.Queues[QueueWebhooks] = river.QueueConfig{MaxWorkers: 2 * opt.MaxWorkers}
		cfg.PeriodicJobs = PeriodicJobs()
	}
	return river.NewClient(riverpgxv5.New(db), cfg)
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
