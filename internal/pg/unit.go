package pg

import (
	"context"
	"errors"
	"fmt"
	"strings"
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
	if err := u.Open(ctx, first); err != nil {
		return err
	}
	u.mu.Lock()
	defer u.mu.Unlock()
	if err := u.tx.flushPending(ctx); err != nil {
		u.err = err
		return err
	}
	return nil
}

// Open is Begin without its round trip: it acquires a connection and
// queues BEGIN, the tenant scope and first's statements to ride the
// transaction's first round trip (the first statement a join sends, or the
// COMMIT's). first's callbacks run then, and may only check (see Defer): an
// error from one fails that statement's caller and poisons the unit.
func (u *Unit) Open(ctx context.Context, first *pgx.Batch) error {
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

// begin acquires the unit's connection and queues BEGIN, the scope and
// first as the transaction's deferred head: no round trip of its own.
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
	b.Queue(`SELECT set_config('app.tenant_id', $1, true), set_config('app.livemode', $2, true), set_config('app.actor', $3, true)`,
		u.tenantID, modeSetting(u.live), actorFrom(ctx))
	if first != nil {
		b.QueuedQueries = append(b.QueuedQueries, first.QueuedQueries...)
	}
	u.current, u.curLive = u.tenantID, u.live
	u.tx.Defer(b)
	return nil
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
		// Through the unit's tx: the writes deferred in the previous scope
		// go first, in that scope.
		if _, err := u.tx.Exec(ctx, `SELECT set_config('app.tenant_id', $1, true), set_config('app.livemode', $2, true)`,
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
	if err == nil {
		err = u.tx.failed // a deferred write failed, and fn did not see it
	}
	if err != nil {
		u.err = err
	}
	return err
}

// SessionLockTimeout is the lock_timeout the unit's connections start with,
// in milliseconds as PostgreSQL reports it ("": none; see PoolOptions).
func (u *Unit) SessionLockTimeout() string {
	return u.db.Config().ConnConfig.RuntimeParams["lock_timeout"]
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
	// The writes deferred by the last join go first, in its scope.
	b := &pgx.Batch{QueuedQueries: u.tx.takePending()}
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
	if u.tx.failed != nil {
		err = u.tx.failed // the deferred write's own error, not the batch's next
	}
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
	if u.conn.Conn().PgConn().TxStatus() == 'I' {
		// Nothing reached the server (BEGIN was still deferred), or the
		// transaction already ended: there is nothing to roll back.
		u.tx.pending = nil
		u.conn.Release()
		u.conn = nil
		return
	}
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
//
// It also holds the transaction's deferred writes (Defer): statements whose
// results the caller does not wait for, sent at the head of the next round
// trip on the connection, whatever sends it (a statement, a batch, River's
// job insert, the unit's COMMIT), so they cost no round trip of their own.
// The first deferred statement to fail is kept (failed): it fails the join
// and the commit, with its own error, even if the statement it rode with
// reported another.
type unitTx struct {
	conn    *pgxpool.Conn
	pending []*pgx.QueuedQuery
	failed  error
}

var errUnitOwnsCommit = errors.New("pg: a unit's transaction is committed or rolled back by its owner only")

// Defer queues b's statements to be sent with the transaction's next round
// trip. Their callbacks run then; a callback must only check (an error
// fails the transaction), never produce a value the caller needs before.
func (t *unitTx) Defer(b *pgx.Batch) {
	for _, qq := range b.QueuedQueries {
		fn := qq.Fn
		qq.Fn = func(br pgx.BatchResults) error {
			var err error
			if fn != nil {
				err = fn(br)
			} else {
				_, err = br.Exec()
			}
			if err != nil && t.failed == nil {
				t.failed = err
			}
			return err
		}
		t.pending = append(t.pending, qq)
	}
}

func (t *unitTx) takePending() []*pgx.QueuedQuery {
	p := t.pending
	t.pending = nil
	return p
}

// flushPending sends the deferred writes in a round trip of their own: for
// what cannot carry them (COPY, PREPARE, a multi-statement query).
func (t *unitTx) flushPending(ctx context.Context) error {
	if len(t.pending) == 0 {
		return nil
	}
	return t.conn.SendBatch(ctx, &pgx.Batch{QueuedQueries: t.takePending()}).Close()
}

// withPending sends the deferred writes, then sql, in one round trip, and
// returns the results positioned at sql's (the deferred ones' callbacks have
// run). ok is false when there is nothing deferred, or sql cannot ride a
// pipeline (several statements): then the caller runs sql alone.
func (t *unitTx) withPending(ctx context.Context, sql string, args []any) (br pgx.BatchResults, ok bool, err error) {
	if len(t.pending) == 0 {
		return nil, false, nil
	}
	if strings.Contains(sql, ";") {
		return nil, false, t.flushPending(ctx)
	}
	pending := t.takePending()
	b := &pgx.Batch{QueuedQueries: pending}
	b.Queue(sql, args...)
	br = t.conn.SendBatch(ctx, b)
	for _, qq := range pending {
		if err := qq.Fn(br); err != nil {
			_ = br.Close()
			return nil, true, err
		}
	}
	return br, true, nil
}

func (t *unitTx) Begin(context.Context) (pgx.Tx, error) { return nil, ErrUnitNested }
func (t *unitTx) Commit(context.Context) error          { return errUnitOwnsCommit }
func (t *unitTx) Rollback(context.Context) error        { return errUnitOwnsCommit }
func (t *unitTx) CopyFrom(ctx context.Context, table pgx.Identifier, cols []string, src pgx.CopyFromSource) (int64, error) {
	if err := t.flushPending(ctx); err != nil {
		return 0, err
	}
	return t.conn.CopyFrom(ctx, table, cols, src)
}

// SendBatch sends the deferred writes, then b, in one round trip; the
// caller reads b's results as if b had been sent alone.
func (t *unitTx) SendBatch(ctx context.Context, b *pgx.Batch) pgx.BatchResults {
	if len(t.pending) == 0 {
		return t.conn.SendBatch(ctx, b)
	}
	pending := t.takePending()
	br := t.conn.SendBatch(ctx, &pgx.Batch{QueuedQueries: append(pending, b.QueuedQueries...)})
	for _, qq := range pending {
		if err := qq.Fn(br); err != nil {
			_ = br.Close()
			return failedBatch{err}
		}
	}
	return br
}

func (t *unitTx) LargeObjects() pgx.LargeObjects { return pgx.LargeObjects{} }
func (t *unitTx) Prepare(ctx context.Context, name, sql string) (*pgconn.StatementDescription, error) {
	if err := t.flushPending(ctx); err != nil {
		return nil, err
	}
	return t.conn.Conn().Prepare(ctx, name, sql)
}
func (t *unitTx) Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error) {
	br, ok, err := t.withPending(ctx, sql, args)
	if err != nil {
		return pgconn.CommandTag{}, err
	}
	if !ok {
		return t.conn.Exec(ctx, sql, args...)
	}
	tag, err := br.Exec()
	if cerr := br.Close(); err == nil {
		err = cerr
	}
	return tag, err
}
func (t *unitTx) Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error) {
	br, ok, err := t.withPending(ctx, sql, args)
	if err != nil {
		return nil, err
	}
	if !ok {
		return t.conn.Query(ctx, sql, args...)
	}
	rows, err := br.Query()
	if err != nil {
		_ = br.Close()
		return rows, err
	}
	return &batchRows{Rows: rows, br: br}, nil
}
func (t *unitTx) QueryRow(ctx context.Context, sql string, args ...any) pgx.Row {
	if len(t.pending) == 0 {
		return t.conn.QueryRow(ctx, sql, args...)
	}
	rows, err := t.Query(ctx, sql, args...)
	return batchRow{rows: rows, err: err}
}
func (t *unitTx) Conn() *pgx.Conn { return t.conn.Conn() }

// failedBatch is the BatchResults of a batch whose deferred head failed.
type failedBatch struct{ err error }

func (f failedBatch) Exec() (pgconn.CommandTag, error) { return pgconn.CommandTag{}, f.err }
func (f failedBatch) Query() (pgx.Rows, error)         { return nil, f.err }
func (f failedBatch) QueryRow() pgx.Row                { return batchRow{err: f.err} }
func (f failedBatch) Close() error                     { return f.err }
func (f failedBatch) Tx() pgx.Tx                       { return nil }

// batchRows are the rows of the last statement of a batch: closing them
// closes the batch.
type batchRows struct {
	pgx.Rows
	br  pgx.BatchResults
	err error
}

// Next closes the batch once the rows are read, as pgx's own rows close
// themselves: a caller that reads to the end without Close leaves the
// connection free for its next statement.
func (r *batchRows) Next() bool {
	if r.Rows.Next() {
		return true
	}
	r.Close()
	return false
}

func (r *batchRows) Close() {
	r.Rows.Close()
	if r.br != nil {
		if err := r.br.Close(); err != nil && r.err == nil {
			r.err = err
		}
		r.br = nil
	}
}

func (r *batchRows) Err() error {
	if err := r.Rows.Err(); err != nil {
		return err
	}
	return r.err
}

// batchRow is QueryRow's Row over batchRows.
type batchRow struct {
	rows pgx.Rows
	err  error
}

func (r batchRow) Scan(dest ...any) error {
	if r.err != nil {
		return r.err
	}
	defer r.rows.Close()
	if !r.rows.Next() {
		if err := r.rows.Err(); err != nil {
			return err
		}
		return pgx.ErrNoRows
	}
	if err := r.rows.Scan(dest...); err != nil {
		return err
	}
	r.rows.Close()
	return r.rows.Err()
}
