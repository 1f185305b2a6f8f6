package pg

import (
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/prometheus/client_golang/prometheus"
)

// poolCollector exports pgxpool statistics to Prometheus.
type poolCollector struct {
	db                                   *pgxpool.Pool
	acquired, idle, total, max, waitSecs *prometheus.Desc
	acquires                             *prometheus.Desc
}

// NewPoolCollector returns a collector for db's pool statistics.
func NewPoolCollector(db *pgxpool.Pool) prometheus.Collector {
	d := func(name, help string) *prometheus.Desc {
		return prometheus.NewDesc("servicenet_db_pool_"+name, help, nil, nil)
	}
	return &poolCollector{db: db,
		acquired: d("acquired_conns", "Connections in use."),
		idle:     d("idle_conns", "Idle connections."),
		total:    d("total_conns", "Open connections."),
		max:      d("max_conns", "Pool size limit."),
		waitSecs: d("acquire_wait_seconds_total", "Time spent waiting for a connection."),
		acquires: d("acquires_total", "Connections acquired."),
	}
}

func (c *poolCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{c.acquired, c.idle, c.total, c.max, c.waitSecs, c.acquires} {
		ch <- d
	}
}

func (c *poolCollector) Collect(ch chan<- prometheus.Metric) {
	s := c.db.Stat()
	ch <- prometheus.MustNewConstMetric(c.acquired, prometheus.GaugeValue, float64(s.AcquiredConns()))
	ch <- prometheus.MustNewConstMetric(c.idle, prometheus.GaugeValue, float64(s.IdleConns()))
	ch <- prometheus.MustNewConstMetric(c.total, prometheus.GaugeValue, float64(s.TotalConns()))
	ch <- prometheus.MustNewConstMetric(c.max, prometheus.GaugeValue, float64(s.MaxConns()))
	ch <- prometheus.MustNewConstMetric(c.waitSecs, prometheus.CounterValue, s.AcquireDuration().Seconds())
	ch <- prometheus.MustNewConstMetric(c.acquires, prometheus.CounterValue, float64(s.AcquireCount()))
}
