package jobs

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"

	"github.com/servicenet/servicenet/tenants"
	"github.com/servicenet/servicenet/tenants/claims"
	"github.com/servicenet/servicenet/tenants/customers"
	"github.com/servicenet/servicenet/tenants/testclocks"
	"github.com/servicenet/servicenet/tenants/tickets"
	"github.com/servicenet/servicenet/tenants/warranty"
)

// Jobs of objects attached to a test clock wait on the clock, not on the
// wall clock. Such a job is inserted parked (scheduled at ClockParked, far
// beyond any real date) with its time on the clock in its metadata
// (clockMeta); when the clock is advanced past that time,
// TestClockAdvanceWorker makes the job available (River's JobRetry), and the
// job's own worker runs it as it would have run at that time.
var ClockParked = time.Date(9999, 1, 1, 0, 0, 0, 0, time.UTC)

// clockMeta is the metadata of a parked job.
type clockMeta struct {
	TestClock  string    `json:"test_clock"`
	ClockRunAt time.Time `json:"clock_run_at"`
}

// parked returns the insert options of a job of clock due at at on it.
func parked(clock string, at time.Time) (*river.InsertOpts, error) {
	md, err := json.Marshal(clockMeta{TestClock: clock, ClockRunAt: at.UTC()})
	if err != nil {
		return nil, err
	}
	return &river.InsertOpts{ScheduledAt: ClockParked, Metadata: md}, nil
}

// clockKinds are the job kinds a clock's advance fires: payout deadlines,
// the erasure of expired notification secrets, and complaints' SLA timers.
var clockKinds = []string{PayoutDeadlineArgs{}.Kind(), NotificationDeliveryArgs{}.Kind(), ComplaintSLAArgs{}.Kind()}

// TestClockAdvanceArgs fires what fell due for the objects of a test clock
// that was advanced (testclocks.Service.Advance inserts it, in test mode):
// contract windows move on the clock's time, parked jobs of its objects due
// by its time (payout deadlines) are made available to run through their
// own workers (payout deadlines, complaints' SLA timers), its tickets' SLA deadlines due by its time are checked
// (tickets.Service.SweepClockSLA), its claims' review and decision deadlines
// due by its time are checked (claims.Service.SweepClockDeadlines), its
// units' care reminders due by its today are emitted
// (customers.Service.RemindClockCare), the clock's tickets are reconciled on its time (a ticket_reconciliation job
// for the clock), then the clock is ready again. Seq is the advance; only the clock's latest advance marks it
// ready.
type TestClockAdvanceArgs struct {
	TenantID string `json:"tenant_id"`
	ClockID  string `json:"clock_id"`
	Seq      int    `json:"seq"`
}

// Kind is stored with every job; never rename it.
func (TestClockAdvanceArgs) Kind() string { return "test_clock_advance" }

// TestClockAdvanceWorker runs TestClockAdvanceArgs. Every step is
// idempotent (contracts move once, a made-available job is no longer
// parked), so a retry redoes nothing done.
type TestClockAdvanceWorker struct {
	river.WorkerDefaults[TestClockAdvanceArgs]
	TestClocks *testclocks.Service
	Tickets    *tickets.Service
	Warranty   *warranty.Service
	Claims     *claims.Service
	Customers  *customers.Service
}

func (w *TestClockAdvanceWorker) Work(ctx context.Context, job *river.Job[TestClockAdvanceArgs]) error {
	if JobLivemode(job.JobRow) {
		return river.JobCancel(errors.New("test clock advance: a live job (test clocks exist in test mode only)"))
	}
	a := job.Args
	at, err := w.TestClocks.Due(ctx, a.TenantID, a.ClockID)
	if tenants.ErrorCode(err) == tenants.CodeNotFound {
		return river.JobCancel(err) // the clock was deleted with the test data
	} else if err != nil {
		return err
	}
	if _, err := w.Warranty.AdvanceClockContracts(ctx, a.TenantID, a.ClockID, at); err != nil {
		return fmt.Errorf("test clock advance: contracts: %w", err)
	}
	if err := fireParked(ctx, a.ClockID, at); err != nil {
		return fmt.Errorf("test clock advance: parked jobs: %w", err)
	}
	if _, err := w.Tickets.SweepClockSLA(ctx, a.TenantID, a.ClockID, at); err != nil {
		return fmt.Errorf("test clock advance: SLA deadlines: %w", err)
	}
	if _, err := w.Claims.SweepClockDeadlines(ctx, a.TenantID, a.ClockID, at); err != nil {
		return fmt.Errorf("test clock advance: claim deadlines: %w", err)
	}
	if _, err := w.Customers.RemindClockCare(ctx, a.TenantID, a.ClockID); err != nil {
		return fmt.Errorf("test clock advance: care reminders: %w", err)
	}
	if err := reconcileClock(ctx, a.TenantID, a.ClockID); err != nil {
		return fmt.Errorf("test clock advance: reconciliation: %w", err)
	}
	return w.TestClocks.Ready(ctx, a.TenantID, a.ClockID, a.Seq)
}

// fireParked makes available the parked jobs of clock due by at.
func fireParked(ctx context.Context, clock string, at time.Time) error {
	rc, err := river.ClientFromContextSafely[pgx.Tx](ctx)
	if err != nil {
		return err
	}
	md, err := json.Marshal(map[string]string{"test_clock": clock})
	if err != nil {
		return err
	}
	params := river.NewJobListParams().Kinds(clockKinds...).States(rivertype.JobStateScheduled).
		Metadata(string(md)).Where("(metadata->>'clock_run_at')::timestamptz <= @clock_at", river.NamedArgs{"clock_at": at}).
		First(1000)
	for {
		res, err := rc.JobList(ctx, params)
		if err != nil {
			return err
		}
		for _, j := range res.Jobs {
			if _, err := rc.JobRetry(ctx, j.ID); err != nil {
				return err
			}
		}
		if len(res.Jobs) < 1000 {
			return nil
		}
	}
}

// reconcileClock inserts the ticket_reconciliation job of the clock: the
// daily reconciliation of its tickets, on its time, through the real job.
// The job is in test mode, as this one is (modeMiddleware). A retry of the
// advance may insert it twice; a finding is recorded once.
func reconcileClock(ctx context.Context, tenantID, clock string) error {
	rc, err := river.ClientFromContextSafely[pgx.Tx](ctx)
	if err != nil {
		return err
	}
	_, err = rc.Insert(ctx, TicketReconciliationArgs{TenantID: tenantID, TestClock: clock}, nil)
	return err
}

// TestClockAdvanceEnqueuer is testclocks.Deps.EnqueueAdvance.
func TestClockAdvanceEnqueuer(rc Inserter) func(ctx context.Context, tx pgx.Tx, tenantID, clockID string, seq int) error {
	return func(ctx context.Context, tx pgx.Tx, tenantID, clockID string, seq int) error {
		_, err := rc.InsertTx(ctx, tx, TestClockAdvanceArgs{TenantID: tenantID, ClockID: clockID, Seq: seq}, nil)
		return err
	}
}
