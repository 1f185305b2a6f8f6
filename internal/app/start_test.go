package app_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/stretchr/testify/require"

	"github.com/servicenet/servicenet/internal/app"
	"github.com/servicenet/servicenet/internal/domaintest"
	"github.com/servicenet/servicenet/internal/pg"
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
	var lag bool
	for _, f := range families {
		lag = lag || f.GetName() == "servicenet_claim_adjudication_lag_seconds"
	}
	require.True(t, lag, "the adjudication sweep's lag is registered")

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

// TestStartWithASmallPool starts a whole App on a pool of two connections,
// fewer than the periodic jobs that run on start: every periodic job
// completes and the API answers from the database. The singleton jobs'
// locks hold sessions of their own; when each held a pooled connection
// while its work waited for another, such a pool stopped for good.
func TestStartWithASmallPool(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := pgtest.NewDB(t)
	pool, err := pg.Connect(ctx, db.AppURL, pg.PoolOptions{Name: "small", MaxConns: 2})
	require.NoError(t, err)
	t.Cleanup(pool.Close)
	a, err := app.New(ctx, app.Config{Mode: app.ModeAll, RiverTestOnly: true, JobStopGrace: time.Second}, pool, nil)
	require.NoError(t, err)
	require.NoError(t, a.Start(ctx))
	t.Cleanup(func() { _ = a.Stop(context.Background()) })

	periodic := []string{jobs.IdempotencySweepArgs{}.Kind(), jobs.LicenceExpiryArgs{}.Kind(), jobs.PrivacyRetentionArgs{}.Kind(),
		jobs.ContractLifecycleArgs{}.Kind(), jobs.CareRemindersArgs{}.Kind(), jobs.WebhookDispatchArgs{}.Kind(),
		jobs.ClaimAdjudicationSweepArgs{}.Kind(), jobs.TicketReconciliationArgs{}.Kind(), jobs.TicketSLASweepArgs{}.Kind(), jobs.QualityFoldArgs{}.Kind(),
		jobs.QualityMonthlyArgs{}.Kind(), jobs.ClaimDeadlineSweepArgs{}.Kind()}
	require.Len(t, jobs.PeriodicJobs(), len(periodic))
	completed := func() int {
		var n int
		require.NoError(t, db.Owner.QueryRow(ctx, `SELECT count(DISTINCT kind) FROM river_job WHERE kind = ANY ($1) AND state = 'completed'`,
			periodic).Scan(&n))
		return n
	}
	// The webhook dispatch and claim adjudication jobs work for their whole
	// sessions (20 s each, side by side) before they complete; the rest leaves room for a loaded machine (the suite runs
	// with -race, packages in parallel).
	require.Eventually(t, func() bool { return completed() == len(periodic) }, jobs.WebhookDispatchSession+40*time.Second,
		100*time.Millisecond, "every periodic job runs on start")

	srv := httptest.NewServer(a.Handler())
	t.Cleanup(srv.Close)
	res, err := http.Get(srv.URL + "/readyz")
	require.NoError(t, err)
	require.NoError(t, res.Body.Close())
	require.Equal(t, http.StatusOK, res.StatusCode, "the API reaches the database meanwhile")
}
