package jobs

import (
	"context"
	"time"

	"github.com/riverqueue/river"
)

// ContractLifecycleArgs moves every active tenant's contracts along the
// calendar in the tenant's time zone: pending → active from starts_on,
// active → expired after ends_on, each with a history row and a
// contract.activated or contract.expired event. It runs hourly, one
// transaction per tenant; a contract moves once, so reruns are no-ops.
type ContractLifecycleArgs struct{}

// Kind is stored with every job; never rename it.
func (ContractLifecycleArgs) Kind() string { return "contract_lifecycle" }

// contractAdvancer moves one tenant's contracts.
type contractAdvancer interface {
	AdvanceContracts(ctx context.Context, tenantID string, now time.Time) (int, error)
}

// ContractLifecycleWorker runs ContractLifecycleArgs.
type ContractLifecycleWorker struct {
	river.WorkerDefaults[ContractLifecycleArgs]
	Tenants  tenantLister
	Warranty contractAdvancer
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

// Timeout: a periodic job (see PeriodicJobs); its rerun redoes nothing done.
func (w *ContractLifecycleWorker) Timeout(*river.Job[ContractLifecycleArgs]) time.Duration {
	return PeriodicTimeout
}

// Work advances every active tenant's contracts. A tenant that fails does
// not stop the others; the job then fails and its retry redoes only what has
// not moved yet.
func (w *ContractLifecycleWorker) Work(ctx context.Context, job *river.Job[ContractLifecycleArgs]) error {
	now := time.Now()
	if w.Now != nil {
		now = w.Now()
	}
	return eachActiveTenant(ctx, w.Tenants, "contract lifecycle", func(ctx context.Context, tenantID string) error {
		_, err := w.Warranty.AdvanceContracts(ctx, tenantID, now)
		return err
	})
}
