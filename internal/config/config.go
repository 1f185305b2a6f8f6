// Package config reads ServiceNet's configuration from the environment. Every
// field has a default; String prints the configuration with secrets redacted.
package config

import (
	"fmt"
	"log/slog"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
	"time"

	"github.com/servicenet/servicenet/internal/pg"
)

// Config is the whole configuration.
type Config struct {
	// DatabaseURL is the owner's connection (migrations, seeding, tests).
	DatabaseURL string
	// AppDatabaseURL is the application role's connection; derived from
	// DatabaseURL and AppDBPassword when unset.
	AppDatabaseURL string
	AppDBPassword  string
	// DBMaxConns is the pool's size: by default DefaultDBMaxConns.
	DBMaxConns int32

	Addr      string // listen address
	PublicURL string // base URL printed and used in links

	OperatorToken string
	// Mode is "all" (API and workers), "api" or "worker".
	Mode       string
	MaxWorkers int

	LogLevel slog.Level

	RatePerSecond float64
	RateBurst     int

	ShutdownTimeout time.Duration

	// RequestTimeout bounds every HTTP request (its context's deadline):
	// after it, a request waiting on the database is answered 503.
	// DBStatementTimeout and DBLockTimeout are the server pool's
	// statement_timeout and lock_timeout (pg.PoolOptions). The pool also
	// runs River's jobs (a network import's statements), so the statement
	// timeout stays at the application role's 15 s; a request is bounded by
	// its own deadline, whose expiry cancels its statement.
	RequestTimeout     time.Duration
	DBStatementTimeout time.Duration
	DBLockTimeout      time.Duration

	// GCPercent and MemoryLimitMB tune the Go garbage collector (see
	// TuneRuntime): collect less often, but never let the heap outgrow the
	// limit.
	GCPercent     int
	MemoryLimitMB int

	// LoopbackWebhooksInTestMode (SERVICENET_ALLOW_LOOPBACK_WEBHOOKS_IN_TEST_MODE=true)
	// lets test-mode webhook endpoints be http://127.0.0.1 or
	// http://localhost URLs, for developing a receiver locally. Off by
	// default; live mode never reaches loopback, and private addresses
	// are refused in both modes.
	LoopbackWebhooksInTestMode bool
}

// TuneRuntime applies the garbage-collector settings unless the operator set
// GOGC or GOMEMLIMIT themselves. A request allocates tens of kilobytes; with
// Go's default GOGC=100 and a small live heap the collector runs many times
// a second under load and its assists show up in tail latency. A higher
// GOGC with a memory limit trades a bounded amount of memory for that.
func (c Config) TuneRuntime(getenv func(string) string) {
	if getenv("GOGC") == "" && c.GCPercent > 0 {
		debug.SetGCPercent(c.GCPercent)
	}
	if getenv("GOMEMLIMIT") == "" && c.MemoryLimitMB > 0 {
		debug.SetMemoryLimit(int64(c.MemoryLimitMB) << 20)
	}
}

// DefaultDBMaxConns is the pool's size unless SERVICENET_DB_MAX_CONNS sets
// it: twice the cores this process may use, plus one, and at least 4.
// More connections than the process can keep busy add no throughput and
// cost the database: with the load generator, the server and PostgreSQL on
// two cores (make bench), a pool of 20 ran 16 concurrent intakes at 1.30 to
// 1.47 ms of database CPU each, a pool of 4 to 6 at 1.07 to 1.27 ms (16 to
// 20 backends take turns on two cores, and one preempted while it holds a
// hot index page's lock stalls the others), and the intake rate rose by
// 5 to 20 %. A process cannot use many more: each request's Go work (a
// third of an intake's CPU) runs on its cores while its connection waits.
// Requests beyond the pool wait for a connection in the pool's queue, in
// Go, within their deadline.
func DefaultDBMaxConns() int32 {
	return int32(max(4, 2*runtime.GOMAXPROCS(0)+1))
}

// Load reads the configuration through getenv.
func Load(getenv func(string) string) (Config, error) {
	c := Config{
		DatabaseURL:        getenv("DATABASE_URL"),
		AppDatabaseURL:     getenv("APP_DATABASE_URL"),
		AppDBPassword:      or(getenv("SERVICENET_APP_DB_PASSWORD"), "servicenet_app"),
		Addr:               or(getenv("SERVICENET_ADDR"), ":8080"),
		OperatorToken:      getenv("SERVICENET_OPERATOR_TOKEN"),
		Mode:               or(getenv("SERVICENET_MODE"), "all"),
		LogLevel:           slog.LevelInfo,
		RatePerSecond:      50,
		RateBurst:          100,
		DBMaxConns:         DefaultDBMaxConns(),
		MaxWorkers:         20,
		ShutdownTimeout:    20 * time.Second,
		RequestTimeout:     10 * time.Second,
		DBStatementTimeout: 15 * time.Second,
		DBLockTimeout:      3 * time.Second,
		GCPercent:          400,
		MemoryLimitMB:      1024,
	}
	c.PublicURL = or(getenv("SERVICENET_PUBLIC_URL"), "http://localhost"+portOf(c.Addr))
	var errs []string
	if v := getenv("SERVICENET_LOG_LEVEL"); v != "" {
		if err := c.LogLevel.UnmarshalText([]byte(v)); err != nil {
			errs = append(errs, "SERVICENET_LOG_LEVEL: "+err.Error())
		}
	}
	num := func(name string, set func(float64)) {
		if v := getenv(name); v != "" {
			f, err := strconv.ParseFloat(v, 64)
			if err != nil || f <= 0 {
				errs = append(errs, name+": want a positive number")
				return
			}
			set(f)
		}
	}
	num("SERVICENET_RATE_PER_SECOND", func(f float64) { c.RatePerSecond = f })
	num("SERVICENET_RATE_BURST", func(f float64) { c.RateBurst = int(f) })
	num("SERVICENET_DB_MAX_CONNS", func(f float64) { c.DBMaxConns = int32(f) })
	num("SERVICENET_MAX_WORKERS", func(f float64) { c.MaxWorkers = int(f) })
	num("SERVICENET_GC_PERCENT", func(f float64) { c.GCPercent = int(f) })
	num("SERVICENET_MEMORY_LIMIT_MB", func(f float64) { c.MemoryLimitMB = int(f) })
	num("SERVICENET_SHUTDOWN_TIMEOUT_SECONDS", func(f float64) { c.ShutdownTimeout = time.Duration(f * float64(time.Second)) })
	num("SERVICENET_REQUEST_TIMEOUT_SECONDS", func(f float64) { c.RequestTimeout = time.Duration(f * float64(time.Second)) })
	num("SERVICENET_DB_STATEMENT_TIMEOUT_SECONDS", func(f float64) { c.DBStatementTimeout = time.Duration(f * float64(time.Second)) })
	num("SERVICENET_DB_LOCK_TIMEOUT_SECONDS", func(f float64) { c.DBLockTimeout = time.Duration(f * float64(time.Second)) })
	switch v := getenv("SERVICENET_ALLOW_LOOPBACK_WEBHOOKS_IN_TEST_MODE"); v {
	case "", "false", "0":
	case "true", "1":
		c.LoopbackWebhooksInTestMode = true
	default:
		errs = append(errs, "SERVICENET_ALLOW_LOOPBACK_WEBHOOKS_IN_TEST_MODE: want true or false")
	}
	if c.DBMaxConns < 2 {
		// Measured: on one connection, a long job (an import, a webhook
		// dispatch session) or a request waiting on another's lock holds
		// it, and the other requests fail at their deadline; two suffice.
		errs = append(errs, "SERVICENET_DB_MAX_CONNS: want at least 2 (one connection held by a long job or a waiting request would stall every other request)")
	}
	switch c.Mode {
	case "all", "api", "worker":
	default:
		errs = append(errs, "SERVICENET_MODE: want all, api or worker")
	}
	if len(errs) > 0 {
		return c, fmt.Errorf("configuration: %s", strings.Join(errs, "; "))
	}
	return c, nil
}

// AppURL is the application role's connection URL.
func (c Config) AppURL() (string, error) {
	if c.AppDatabaseURL != "" {
		return c.AppDatabaseURL, nil
	}
	if c.DatabaseURL == "" {
		return "", fmt.Errorf("DATABASE_URL is not set (make run and make test start a local PostgreSQL and set it)")
	}
	return pg.AppURL(c.DatabaseURL, c.AppDBPassword)
}

// String is the configuration with secrets redacted, for the startup log.
func (c Config) String() string {
	app, _ := c.AppURL()
	return fmt.Sprintf("database=%s app_database=%s addr=%s public_url=%s mode=%s operator_token=%s log_level=%s rate=%.0f/s burst=%d db_max_conns=%d max_workers=%d request_timeout=%s db_statement_timeout=%s db_lock_timeout=%s",
		pg.RedactURL(c.DatabaseURL), pg.RedactURL(app), c.Addr, c.PublicURL, c.Mode, redact(c.OperatorToken), c.LogLevel,
		c.RatePerSecond, c.RateBurst, c.DBMaxConns, c.MaxWorkers, c.RequestTimeout, c.DBStatementTimeout, c.DBLockTimeout)
}

func redact(s string) string {
	if s == "" {
		return "(unset)"
	}
	return "(set)"
}

func or(v, def string) string {
	if v == "" {
		return def
	}
	return v
}

func portOf(addr string) string {
	if i := strings.LastIndex(addr, ":"); i >= 0 {
		return addr[i:]
	}
	return ":8080"
}
