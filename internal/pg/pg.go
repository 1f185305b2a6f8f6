// Package pg owns the database plumbing: the connection pool, tenant-scoped
// transactions (the only way tenant data is touched), the one translation of
// driver errors into tenants.Error, and the embedded migrations.
//
// Two roles matter. The owner runs migrations and owns every table; the
// application role (AppRole) owns nothing, cannot bypass row-level security,
// and is what the server and workers connect as. Every tenant table has RLS
// enabled and forced, with a policy on the transaction-local setting
// app.tenant_id that matches nothing when the setting is absent.
package pg

import (
	"context"
	"fmt"
	"net/url"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
)

// AppRole is the login role the server connects as.
const AppRole = "servicenet_app"

// PoolOptions tunes a pool. Zero values take defaults.
type PoolOptions struct {
	Name     string // application_name, shown in pg_stat_activity
	MaxConns int32

	// StatementTimeout and LockTimeout become the session's statement_timeout
	// and lock_timeout, sent in the startup packet of every connection (no
	// extra round trip, and they cover every statement on the pool: tenant
	// transactions, units, authentication lookups, River's). A transaction
	// may narrow them with SET LOCAL; SET LOCAL ... = DEFAULT returns to
	// these values. Zero leaves the server's default (none): migrations and
	// the test harness. A statement that runs past them fails with 57014 or
	// 55P03, which Translate answers as unavailable.
	StatementTimeout time.Duration
	LockTimeout      time.Duration
}

// Bounds of the pool's own waits, so an outage costs a request at most these
// (and never more than the request's own deadline): establishing a
// connection (TCP, TLS and startup, which a frozen server never answers),
// and the liveness ping pgxpool sends on a connection idle for over a second.
const (
	connectTimeout = 5 * time.Second
	pingTimeout    = 2 * time.Second
)

// Connect opens a pool to databaseURL and checks that it answers.
func Connect(ctx context.Context, databaseURL string, opt PoolOptions) (*pgxpool.Pool, error) {
	cfg, err := pgxpool.ParseConfig(databaseURL)
	if err != nil {
		return nil, fmt.Errorf("parse database url: %w", redactURLError(err))
	}
	if opt.Name == "" {
		opt.Name = "servicenet"
	}
	cfg.ConnConfig.RuntimeParams["application_name"] = opt.Name
	if opt.MaxConns > 0 {
		cfg.MaxConns = opt.MaxConns
	}
	if opt.StatementTimeout > 0 {
		cfg.ConnConfig.RuntimeParams["statement_timeout"] = strconv.FormatInt(opt.StatementTimeout.Milliseconds(), 10)
	}
	if opt.LockTimeout > 0 {
		cfg.ConnConfig.RuntimeParams["lock_timeout"] = strconv.FormatInt(opt.LockTimeout.Milliseconds(), 10)
	}
	if cfg.ConnConfig.ConnectTimeout == 0 { // connect_timeout in the URL wins
		cfg.ConnConfig.ConnectTimeout = connectTimeout
	}
	cfg.PingTimeout = pingTimeout
	cfg.MaxConnIdleTime = 5 * time.Minute
	cfg.HealthCheckPeriod = 30 * time.Second
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, err
	}
	pingCtx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if err := pool.Ping(pingCtx); err != nil {
		pool.Close()
		return nil, fmt.Errorf("connect to %s: %w", RedactURL(databaseURL), err)
	}
	return pool, nil
}

// AppURL derives the application role's URL from the owner's: same host,
// port, database and options, with AppRole's name and the given password.
func AppURL(ownerURL, password string) (string, error) {
	u, err := url.Parse(ownerURL)
	if err != nil {
		return "", redactURLError(err)
	}
	u.User = url.UserPassword(AppRole, password)
	return u.String(), nil
}

// RedactURL returns databaseURL with any password replaced, for logs.
func RedactURL(databaseURL string) string {
	u, err := url.Parse(databaseURL)
	if err != nil {
		return "(unparseable database url)"
	}
	return u.Redacted()
}

func redactURLError(err error) error {
	// url.Error and pgconn parse errors quote the input, password included.
	return fmt.Errorf("invalid database url (%T)", err)
}

// Querier is what single statements need: a pool, a connection or a pgx.Tx.
type Querier interface {
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}

// DB is what a service opens its transactions on (InTenantTx, InTx,
// InTenantRead): the application's pool, or, in a test, a transaction whose
// Begin opens a savepoint, so the test runs the service inside one
// transaction it rolls back (internal/domaintest). On a pool a transaction
// begins in one round trip and may join the request's Unit; inside a
// transaction it is a savepoint, scoped the same way.
type DB interface {
	Querier
	Begin(ctx context.Context) (pgx.Tx, error)
}

// CheckAppRole refuses a connection whose role could defeat row-level
// security: a superuser, a BYPASSRLS role, or one that owns tables. The
// server calls it at start.
func CheckAppRole(ctx context.Context, db Querier) error {
	var user string
	var super, bypass bool
	var owned int
	err := db.QueryRow(ctx, `
		SELECT current_user, r.rolsuper, r.rolbypassrls,
		       (SELECT count(*) FROM pg_class c WHERE c.relowner = r.oid AND c.relkind IN ('r', 'p'))
		FROM pg_roles r WHERE r.rolname = current_user`).Scan(&user, &super, &bypass, &owned)
	if err != nil {
		return err
	}
	if super || bypass || owned > 0 {
		return fmt.Errorf("refusing to serve as database role %q (superuser=%t bypassrls=%t owns %d tables): connect as %s", user, super, bypass, owned, AppRole)
	}
	return nil
}
