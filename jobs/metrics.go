package jobs

import (
	"context"
	"errors"
	"sync"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"
)

// River emits no Prometheus metrics of its own (its metric hook reports only
// fetch timings, and rivercontrib's otelriver would bring the OpenTelemetry
// SDK and an exporter into a client_golang stack). So the job metrics are a
// worker middleware, which sees every job this process works, and a
// collector that reads the queues' depth from river_job when scraped.

// workMetrics records how long each job waited and worked, by outcome.
type workMetrics struct {
	river.MiddlewareDefaults
	work, wait *prometheus.HistogramVec
}

func newWorkMetrics() *workMetrics {
	buckets := []float64{.005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30, 60, 300}
	return &workMetrics{
		work: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "servicenet_job_work_seconds", Buckets: buckets,
			Help: "Time a job's attempt worked in this process, by queue, kind and outcome (ok, error, snoozed, cancelled, panic).",
		}, []string{"queue", "kind", "outcome"}),
		wait: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "servicenet_job_wait_seconds", Buckets: buckets,
			Help: "Time from a job's scheduled time to the start of its attempt, by queue and kind.",
		}, []string{"queue", "kind"}),
	}
}

func (m *workMetrics) Work(ctx context.Context, job *rivertype.JobRow, doInner func(context.Context) error) (err error) {
	start, outcome := time.Now(), "panic"
	if job.AttemptedAt != nil {
		m.wait.WithLabelValues(job.Queue, job.Kind).Observe(max(0, job.AttemptedAt.Sub(job.ScheduledAt).Seconds()))
	}
	defer func() { m.work.WithLabelValues(job.Queue, job.Kind, outcome).Observe(time.Since(start).Seconds()) }()
	err = doInner(ctx)
	var snooze *river.JobSnoozeError
	var cancel *river.JobCancelError
	switch {
	case err == nil:
		outcome = "ok"
	case errors.As(err, &snooze):
		outcome = "snoozed"
	case errors.As(err, &cancel):
		outcome = "cancelled"
	default:
		outcome = "error"
	}
	return err
}

// queueCollector reports the jobs waiting in each queue and state, and the
// age of the oldest available one, read from river_job at most every
// queueDepthTTL (a scrape from every replica costs one read, not one each).
type queueCollector struct {
	db              *pgxpool.Pool
	depth, oldest   *prometheus.Desc
	failed, scrapeE *prometheus.Desc

	mu      sync.Mutex
	at      time.Time
	samples []queueSample
	errors  float64
}

type queueSample struct {
	queue, state string
	jobs         float64
	oldest       float64 // seconds; for state available only
}

const queueDepthTTL = 5 * time.Second

func newQueueCollector(db *pgxpool.Pool) *queueCollector {
	return &queueCollector{
		db: db,
		depth: prometheus.NewDesc("servicenet_job_queue_jobs",
			"Jobs in a queue by state (available, scheduled, retryable, running); discarded counts jobs that ran out of attempts.", []string{"queue", "state"}, nil),
		oldest: prometheus.NewDesc("servicenet_job_queue_oldest_available_seconds",
			"Age of the oldest job that is due and waiting for a worker, by queue.", []string{"queue"}, nil),
		failed: prometheus.NewDesc("servicenet_job_queue_discarded_jobs",
			"Jobs that ran out of attempts and are kept for inspection, by queue.", []string{"queue"}, nil),
		scrapeE: prometheus.NewDesc("servicenet_job_queue_read_errors_total",
			"Failed reads of the queue depth.", nil, nil),
	}
}

func (c *queueCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- c.depth
	ch <- c.oldest
	ch <- c.failed
	ch <- c.scrapeE
}

func (c *queueCollector) Collect(ch chan<- prometheus.Metric) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if time.Since(c.at) >= queueDepthTTL {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		samples, err := readQueues(ctx, c.db)
		cancel()
		if err != nil {
			c.errors++
		} else {
			c.samples, c.at = samples, time.Now()
		}
	}
	for _, s := range c.samples {
		switch s.state {
		case "discarded":
			ch <- prometheus.MustNewConstMetric(c.failed, prometheus.GaugeValue, s.jobs, s.queue)
		default:
			ch <- prometheus.MustNewConstMetric(c.depth, prometheus.GaugeValue, s.jobs, s.queue, s.state)
		}
		if s.state == "available" {
			ch <- prometheus.MustNewConstMetric(c.oldest, prometheus.GaugeValue, s.oldest, s.queue)
		}
	}
	ch <- prometheus.MustNewConstMetric(c.scrapeE, prometheus.CounterValue, c.errors)
}

// readQueues reads the depth per queue and state; the available states are
// served by River's river_job_prioritized_fetching_index.
func readQueues(ctx context.Context, db *pgxpool.Pool) ([]queueSample, error) {
	rows, err := db.Query(ctx, `
		SELECT queue, state::text, count(*)::float8,
		       coalesce(extract(epoch FROM now() - min(scheduled_at) FILTER (WHERE scheduled_at <= now())), 0)::float8
		FROM river_job
		WHERE state IN ('available', 'scheduled', 'retryable', 'running', 'discarded')
		GROUP BY 1, 2 ORDER BY 1, 2`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []queueSample
	for rows.Next() {
		var s queueSample
		if err := rows.Scan(&s.queue, &s.state, &s.jobs, &s.oldest); err != nil {
			return nil, err
		}
		out = append(out, s)
	}
	return out, rows.Err()
}

// registerMetrics registers the job metrics with reg and returns the
// middleware that feeds the per-job ones.
func registerMetrics(reg prometheus.Registerer, db *pgxpool.Pool, sweep *claimSweepMetrics) (*workMetrics, error) {
	m := newWorkMetrics()
	for _, c := range []prometheus.Collector{m.work, m.wait, newQueueCollector(db), sweep.adjudications, sweep.lag} {
		if err := reg.Register(c); err != nil {
			return nil, err
		}
	}
	return m, nil
}

// claimSweepMetrics are the adjudication sweep's (ClaimAdjudicationSweepArgs):
// claims awaiting adjudication are not River jobs, so the queue depth does
// not show them.
type claimSweepMetrics struct {
	adjudications *prometheus.CounterVec
	lag           prometheus.Gauge
}

func newClaimSweepMetrics() *claimSweepMetrics {
	return &claimSweepMetrics{
		adjudications: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "servicenet_claim_adjudications_total",
			Help: "Claims the adjudication sweep of this process adjudicated, by outcome (adjudicated, failed: the claim stays submitted and is retried after a backoff).",
		}, []string{"outcome"}),
		lag: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "servicenet_claim_adjudication_lag_seconds",
			Help: "How long the claims awaiting adjudication have waited, as this process's adjudication sweep last asked, paused or not: the longest wait (since submission or resubmission) of each tenant's first awaiting claim in filing order; 0 when none waits or the sweep runs elsewhere (take the max over processes).",
		}),
	}
}
