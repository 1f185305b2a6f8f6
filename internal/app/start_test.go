package app_test

import (
	"context"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/stretchr/testify/require"

	"github.com/servicenet/servicenet/internal/app"
	"github.com/servicenet/servicenet/internal/domaintest"
	"github.com/servicenet/servicenet/internal/pgtest"
	"github.com/servicenet/servicenet/jobs"
)

// TestNewServices builds the services alone over a rolled-back
// transaction: no identity service and no HTTP API, a River client that
// inserts into the caller's transaction, and the configuration applied.
func TestNewServices(t *testing.T) {
	t.Parallel()
	_, err := app.NewServices(app.Config{}, nil, nil)
	require.ErrorContains(t, err, "needs a database")

	e := domaintest.New(t, app.Config{LoopbackWebhooksInTestMode: true})
	require.Nil(t, e.Identity, "the authentication cache needs a pool")
	require.Nil(t, e.API)
	for name, v := range map[string]any{"Idempotency": e.Idempotency, "Network": e.Network, "Catalog": e.Catalog,
		"Customers": e.Customers, "Warranty": e.Warranty, "Claims": e.Claims, "Complaints": e.Complaints, "Swaps": e.Swaps,
		"Stock": e.Stock, "Payouts": e.Payouts, "Webhooks": e.Webhooks, "Tickets": e.Tickets, "Notifications": e.Notifications,
		"Quality": e.Quality, "TestClocks": e.TestClocks, "River": e.River} {
		require.NotNil(t, v, name)
	}
	require.True(t, e.Webhooks.LoopbackInTestMode)
	require.Same(t, e.Tickets, e.Customers.Jobs, "need-to-know: customers are bounded by the tickets' jobs")

	require.Zero(t, e.Jobs(t, jobs.SwapEvaluationArgs{}.Kind()))
	require.NoError(t, jobs.SwapEvaluationEnqueuer(e.River)(e.Ctx, e.Tx, e.Tenant, "swp_00000000000000000000000000"))
	require.Equal(t, 1, e.Jobs(t, jobs.SwapEvaluationArgs{}.Kind()), "the job is in the test's transaction")
	require.NoError(t, e.Stop(e.Ctx), "nothing was started, so nothing stops")
}

// TestStartRunsJobsUntilStopJobs starts a whole App on its own database:
// River's workers run the periodic jobs (their metrics recorded), the jobs
// UI starts, and after StopJobs a new job waits for another worker.
func TestStartRunsJobsUntilStopJobs(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := pgtest.NewDB(t)
	reg := prometheus.NewRegistry()
	a, err := app.New(ctx, app.Config{Mode: app.ModeAll, RiverTestOnly: true, JobsUI: true, Metrics: reg, JobStopGrace: time.Second},
		db.App, nil)
	require.NoError(t, err)
	require.NoError(t, a.Start(ctx))
	stopped := false
	t.Cleanup(func() {
		if !stopped {
			_ = a.Stop(context.Background())
		}
	})

	sweeps := func(state string) int {
		var n int
		require.NoError(t, db.Owner.QueryRow(ctx, `SELECT count(*) FROM river_job WHERE kind = $1 AND state = $2`,
			jobs.IdempotencySweepArgs{}.Kind(), state).Scan(&n))
		return n
	}
	require.Eventually(t, func() bool { return sweeps("completed") > 0 }, 20*time.Second, 50*time.Millisecond,
		"the periodic sweep runs on start")

	families, err := reg.Gather()
	require.NoError(t, err)
	var worked uint64
	for _, f := range families {
		if f.GetName() != "servicenet_job_work_seconds" {
			continue
		}
		for _, m := range f.GetMetric() {
			labels := map[string]string{}
			for _, l := range m.GetLabel() {
				labels[l.GetName()] = l.GetValue()
			}
			if labels["kind"] == (jobs.IdempotencySweepArgs{}).Kind() && labels["outcome"] == "ok" {
				worked += m.GetHistogram().GetSampleCount()
			}
		}
	}
	require.Positive(t, worked, "the work metrics saw the sweep")

	stopCtx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	require.NoError(t, a.StopJobs(stopCtx))
	require.NoError(t, a.StopJobs(stopCtx), "a second StopJobs does nothing")

	before := sweeps("available")
	_, err = a.River.Insert(ctx, jobs.IdempotencySweepArgs{}, nil)
	require.NoError(t, err, "the client still inserts")
	time.Sleep(500 * time.Millisecond)
	require.Equal(t, before+1, sweeps("available"), "no worker takes it once the jobs are stopped")

	require.NoError(t, a.Stop(ctx))
	stopped = true
}
