package pg

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
)

// Unit is one request's transaction, for requests whose outcome must commit
// together with a record of it (an Idempotency-Key and its stored response).
//
// The owner begins it with the statements that must come first (the key's
// claim), puts it in the request's context with WithUnit, and lets the
// operation run: every InTenantTx or InTx on the unit's pool whose context
// carries the unit joins its one transaction instead of beginning its own,
// and returns without committing. The owner then commits once, sending its
// closing statements (the stored response) and COMMIT in the same round trip
// (Commit), or rolls everything back (Rollback). A failed join poisons the
// unit: later joins return the same error and only Rollback remains.
//
// Services do not know about units: they still write one InTenantTx per
// exported method. A unit is not a transaction hidden in a context for
// general use; it exists so that an operation's effect, its events and jobs,
// and the idempotency record answering for it commit exactly once, together.
type Unit struct {
	db       *pgxpool.Pool
	tenantID string // "" for the platform

	mu      sync.Mutex // held while a join runs: joins never nest or overlap
	conn    *pgxpool.Conn
	tx      *unitTx
	current string // the transaction's app.tenant_id
	live    bool   // the unit's own mode, from Begin's context
	curLive bool   // the transaction's app.livemode
	err     error  // the first failure; the unit can only roll back
	done    bool
}

// ErrUnitNested is returned when an operation opens a transaction inside
// another one's callback while both would join the same unit.
var ErrUnitNested = errors.New("pg: nested or concurrent transaction in one request unit")

// NewUnit makes a unit on db for tenantID ("" for platform-only work). It
// holds no connection until Begin.
func NewUnit(db *pgxpool.Pool, tenantID string) *Unit {
	return &Unit{db: db, tenantID: tenantID}
}

type unitKey struct{}

// WithUnit returns ctx carrying u: transactions begun with it join u.
func WithUnit(ctx context.Context, u *Unit) context.Context {
	return context.WithValue(ctx, unitKey{}, u)
}

func unitFrom(ctx context.Context, db DB) *Unit {
	u, _ := ctx.Value(unitKey{}).(*Unit)
	if u == nil || DB(u.db) != db {
		return nil
	}
	return u
}

// Begin acquires a connection and sends BEGIN, the tenant scope (in ctx's
// mode, Livemode) and the statements queued on first, in one round trip. first's callbacks run
// before Begin returns; an error from them (or from the database) leaves the
// unit poisoned, to be rolled back.
func (u *Unit) Begin(ctx context.Context, first *pgx.Batch) error {
	u.mu.Lock()
	defer u.mu.Unlock()
	if u.conn != nil || u.done {
		return errors.New("pg: unit begun twice")
	}
	if err := u.begin(ctx, first); err != nil {
		u.err = err
		return err
	}
	return nil
}

func (u *Unit) begin(ctx context.Context, first *pgx.Batch) error {
	conn, err := u.db.Acquire(ctx)
	if err != nil {
		return err
	}
	u.conn = conn
	u.tx = &unitTx{conn: conn}
	u.live = Livemode(ctx)
	b := &pgx.Batch{}
	b.Queue("BEGIN")
	b.Queue(`SELECT set_config('app.tenant_id', $1, true), set_config('app.livemode', $2, true)`, u.tenantID, modeSetting(u.live))
	if actor := actorFrom(ctx); actor != "" {
		b.Queue(`SELECT set_config('app.actor', $1, true)`, actor)
	}
	if first != nil {
		b.QueuedQueries = append(b.QueuedQueries, first.QueuedQueries...)
	}
	u.current, u.curLive = u.tenantID, u.live
	return conn.SendBatch(ctx, b).Close()
}

// join runs fn in the unit's transaction, scoped to tenantID and ctx's mode.
func (u *Unit) join(ctx context.Context, tenantID string, fn func(tx pgx.Tx) error) error {
	if !u.mu.TryLock() {
		return ErrUnitNested
	}
	defer u.mu.Unlock()
	if u.err != nil {
		return u.err
	}
	if u.done {
		return errors.New("pg: joining a finished unit")
	}
	if u.conn == nil {
		if err := u.begin(ctx, nil); err != nil {
			u.err = err
			return err
		}
	}
	if live := Livemode(ctx); tenantID != u.current || live != u.curLive {
		if _, err := u.conn.Exec(ctx, `SELECT set_config('app.tenant_id', $1, true), set_config('app.livemode', $2, true)`,
			tenantID, modeSetting(live)); err != nil {
			u.err = err
			return err
		}
		u.current, u.curLive = tenantID, live
	}
	err := func() (err error) {
		defer func() {
			if v := recover(); v != nil {
				u.err = fmt.Errorf("pg: panic in a unit's transaction: %v", v)
				panic(v)
			}
		}()
		return fn(u.tx)
	}()
	if err != nil {
		u.err = err
	}
	return err
}

// Begun reports whether the unit holds a transaction.
func (u *Unit) Begun() bool {
	u.mu.Lock()
	defer u.mu.Unlock()
	return u.conn != nil
}

// Commit sends the statements queued on last and COMMIT in one round trip,
// in the unit's own tenant scope, and releases the connection. A unit that
// was never begun commits nothing and returns nil. A poisoned unit is rolled
// back and its error returned.
func (u *Unit) Commit(ctx context.Context, last *pgx.Batch) error {
	u.mu.Lock()
	defer u.mu.Unlock()
	if u.done {
		return errors.New("pg: unit already finished")
	}
	if u.conn == nil {
		u.done = true
		return u.err
	}
	if u.err != nil {
		u.rollback()
		return u.err
	}
	b := &pgx.Batch{}
	if u.current != u.tenantID || u.curLive != u.live {
		b.Queue(`SELECT set_config('app.tenant_id', $1, true), set_config('app.livemode', $2, true)`, u.tenantID, modeSetting(u.live))
	}
	if last != nil {
		b.QueuedQueries = append(b.QueuedQueries, last.QueuedQueries...)
	}
	committed := false
	b.Queue("COMMIT").Exec(func(ct pgconn.CommandTag) error {
		committed = ct.String() == "COMMIT"
		return nil
	})
	err := u.conn.SendBatch(ctx, b).Close()
	if err == nil && !committed {
		err = pgx.ErrTxCommitRollback
	}
	if err != nil {
		u.err = err
		u.rollback()
		return err
	}
	u.done = true
	u.conn.Release()
	u.conn = nil
	return nil
}

// Rollback ends the unit without committing. It is safe after Commit (a
// no-op) and safe to call more than once.
func (u *Unit) Rollback() {
	u.mu.Lock()
	defer u.mu.Unlock()
	u.rollback()
}

func (u *Unit) rollback() {
	u.done = true
	if u.conn == nil {
		return
	}
	// A rollback must reach the server even when the request's context is
	// gone; a connection left in a transaction is destroyed by the pool.
	ctx, cancel := context.WithTimeout(context.Background(), rollbackTimeout)
	defer cancel()
	if _, err := u.conn.Exec(ctx, "ROLLBACK"); err != nil {
		_ = u.conn.Conn().Close(ctx)
	}
	u.conn.Release()
	u.conn = nil
}

// unitTx is the pgx.Tx a unit's joins see: the unit's connection, on which
// only the unit may commit or roll back.
type unitTx struct {
	conn *pgxpool.Conn
}

var errUnitOwnsCommit = errors.New("pg: a unit's transaction is committed or rolled back by its owner only")

func (t *unitTx) Begin(context.Context) (pgx.Tx, error) { return nil, ErrUnitNested }
func (t *unitTx) Commit(context.Context) error          { return errUnitOwnsCommit }
func (t *unitTx) Rollback(context.Context) error        { return errUnitOwnsCommit }
func (t *unitTx) CopyFrom(ctx context.Context, table pgx.Identifier, cols []string, src pgx.CopyFromSource) (int64, error) {
	return t.conn.CopyFrom(ctx, table, cols, src)
}
func (t *unitTx) SendBatch(ctx context.Context, b *pgx.Batch) pgx.BatchResults {
	return t.conn.SendBatch(ctx, b)
}
func (t *unitTx) LargeObjects() pgx.LargeObjects { return pgx.LargeObjects{} }
func (t *unitTx) Prepare(ctx context.Context, name, sql string) (*pgconn.StatementDescription, error) {
	return t.conn.Conn().Prepare(ctx, name, sql)
}
func (t *unitTx) Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error) {
	return t.conn.Exec(ctx, sql, args...)
}
func (t *unitTx) Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error) {
	return t.conn.Query(ctx, sql, args...)
}
func (t *unitTx) QueryRow(ctx context.Context, sql string, args ...any) pgx.Row {
	return t.conn.QueryRow(ctx, sql, args...)
}
func (t *unitTx) Conn() *pgx.Conn { return t.conn.Conn() }
