package pg

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// TenantTx is a transaction in which app.tenant_id is set, so row-level
// security admits exactly one tenant's rows. TenantID is the value queries
// bind to their own `tenant_id = $1` predicates: every query still names the
// tenant, and RLS is the backstop when one forgets.
type TenantTx struct {
	pgx.Tx
	TenantID string
	// Live is the transaction's mode (app.livemode): false for test data.
	Live bool

	end *txEnd // nil for a TenantTx built by hand: no end buffer
}

// txEnd is what one InTenantTx callback accumulates to write when it ends
// (AtEnd): buffers by key, flushed in the order they were first asked for.
type txEnd struct {
	vals    map[any]any
	flushes []func(b *pgx.Batch) error
}

// AtEnd returns the transaction's buffer under key, made by mk the first
// time it is asked for; when the InTenantTx callback returns nil, flush
// queues the buffer's statements, which are written in the transaction
// before it commits, in the tenant scope and mode of the callback: in a
// unit (or a pool transaction, which is one) they ride the next round trip
// (the COMMIT's, or the next statement's), never one of their own. A
// rollback discards the buffer unwritten. ok is false for a TenantTx that
// has no end (one built by hand, not by InTenantTx): the caller writes at
// once.
func (tx TenantTx) AtEnd(key any, mk func() (buffer any, flush func(b *pgx.Batch) error)) (buffer any, ok bool) {
	if tx.end == nil {
		return nil, false
	}
	if v, ok := tx.end.vals[key]; ok {
		return v, true
	}
	v, flush := mk()
	if tx.end.vals == nil {
		tx.end.vals = map[any]any{}
	}
	tx.end.vals[key] = v
	tx.end.flushes = append(tx.end.flushes, flush)
	return v, true
}

// Defer sends b's statements with the transaction's next round trip when
// the transaction can carry them (a unit's, or a pool transaction's), else
// at once. Their callbacks then run later, before the commit: they may only
// check (an error fails the transaction with that error), never produce a
// value the caller needs.
func (tx TenantTx) Defer(ctx context.Context, b *pgx.Batch) error {
	if len(b.QueuedQueries) == 0 {
		return nil
	}
	if t, ok := tx.Tx.(*unitTx); ok {
		t.Defer(b)
		return nil
	}
	return tx.SendBatch(ctx, b).Close()
}

// runTenant runs fn in tx and, when it succeeds, writes what it left in its
// end buffers (AtEnd): deferred on a unit's tx, else at once.
func runTenant(ctx context.Context, tx pgx.Tx, tenantID string, live bool, fn func(tx TenantTx) error) error {
	ttx := TenantTx{Tx: tx, TenantID: filterTenant(tenantID), Live: live, end: &txEnd{}}
	if err := fn(ttx); err != nil {
		return err
	}
	if len(ttx.end.flushes) == 0 {
		return nil
	}
	b := &pgx.Batch{}
	for _, flush := range ttx.end.flushes {
		if err := flush(b); err != nil {
			return err
		}
	}
	return ttx.Defer(ctx, b)
}

// InTenantTx runs fn in one transaction scoped to tenantID and commits when fn
// returns nil; any error or panic rolls the whole transaction back (River's
// InsertTx relies on that: a failed insert must not be followed by a commit).
// One exported service method is one call to InTenantTx. With a Unit in ctx
// (on the same pool), fn runs in the unit's transaction and nothing commits
// until the unit's owner commits it. The transaction runs in ctx's mode
// (Livemode): it sees, and writes, only that mode's rows. When db is itself
// a transaction (a test's), fn runs in a savepoint of it, scoped the same
// way, released or rolled back as the transaction would be.
//
// On a pool without a Unit in ctx, the transaction is a unit of its own
// (BEGIN and the scope in one round trip, COMMIT in the round trip that
// carries the writes deferred to it): so every tenant transaction has an
// end buffer (AtEnd: the events it appends) and deferred writes (Defer),
// which cost no round trip of their own.
func InTenantTx(ctx context.Context, db DB, tenantID string, fn func(tx TenantTx) error) error {
	if tenantID == "" {
		return errors.New("pg: InTenantTx without a tenant")
	}
	live := Livemode(ctx)
	if u := unitFrom(ctx, db); u != nil {
		return u.join(ctx, tenantID, func(tx pgx.Tx) error {
			return runTenant(ctx, tx, tenantID, live, fn)
		})
	}
	if pool, ok := db.(*pgxpool.Pool); ok {
		// A unit of its own: BEGIN and the scope in one round trip, and
		// the deferred writes (end buffers, Defer) with the COMMIT.
		u := NewUnit(pool, tenantID)
		defer u.Rollback()
		if err := u.join(ctx, tenantID, func(tx pgx.Tx) error {
			return runTenant(ctx, tx, tenantID, live, fn)
		}); err != nil {
			return err
		}
		return u.Commit(ctx, nil)
	}
	return pgx.BeginFunc(ctx, db, func(tx pgx.Tx) error {
		if err := scope(ctx, tx, tenantID, actorFrom(ctx)); err != nil {
			return err
		}
		return runTenant(ctx, tx, tenantID, live, fn)
	})
}

// scope sets tx's tenant, ctx's mode and the actor ("" for none: "system"),
// all three, so that a savepoint does not inherit the previous one's.
func scope(ctx context.Context, tx pgx.Tx, tenantID, actor string) error {
	if _, err := tx.Exec(ctx, `SELECT set_config('app.tenant_id', $1, true), set_config('app.livemode', $2, true), set_config('app.actor', $3, true)`,
		tenantID, modeSetting(Livemode(ctx)), actor); err != nil {
		return fmt.Errorf("set tenant: %w", err)
	}
	return nil
}

// Actor is who a transaction's writes are recorded as in the audit log
// (the audit_row trigger reads it from the transaction-local app.actor).
// Without one, writes are recorded as "system".
type Actor struct {
	Key        string
	Roles      []string
	OnBehalfOf string
	Operation  string
	RequestID  string
}

type actorKey struct{}

// WithActor returns ctx whose transactions record their writes as a's.
func WithActor(ctx context.Context, a Actor) context.Context {
	return context.WithValue(ctx, actorKey{}, a.setting())
}

// setting is the app.actor value: key|roles|on_behalf_of|operation|request.
func (a Actor) setting() string {
	return strings.Join([]string{a.Key, strings.Join(a.Roles, ","), a.OnBehalfOf, a.Operation, a.RequestID}, "|")
}

func actorFrom(ctx context.Context) string {
	s, _ := ctx.Value(actorKey{}).(string)
	return s
}

// rollbackTimeout bounds a unit's ROLLBACK, sent after its request ended.
const rollbackTimeout = 5 * time.Second

// SetTenant scopes the rest of tx to tenantID and ctx's mode (Livemode),
// transaction-locally.
func SetTenant(ctx context.Context, tx pgx.Tx, tenantID string) error {
	if _, err := tx.Exec(ctx, `SELECT set_config('app.tenant_id', $1, true), set_config('app.livemode', $2, true)`,
		tenantID, modeSetting(Livemode(ctx))); err != nil {
		return fmt.Errorf("set tenant: %w", err)
	}
	return nil
}

// InTx runs fn in a transaction with no tenant: only platform tables (tenants,
// River's) are reachable; every tenant table reads as empty and refuses writes.
func InTx(ctx context.Context, db DB, fn func(tx pgx.Tx) error) error {
	if u := unitFrom(ctx, db); u != nil {
		return u.join(ctx, "", fn)
	}
	if _, ok := db.(*pgxpool.Pool); ok {
		return pgx.BeginFunc(ctx, db, fn)
	}
	// A savepoint: clear the scope a previous one may have left.
	return pgx.BeginFunc(ctx, db, func(tx pgx.Tx) error {
		if err := scope(ctx, tx, "", ""); err != nil {
			return err
		}
		return fn(tx)
	})
}

// tenantFilterOverrides backs OverrideTenantFilterForTest.
var tenantFilterOverrides sync.Map // real tenant ID -> tenant ID bound by queries

func filterTenant(tenantID string) string {
	if v, ok := tenantFilterOverrides.Load(tenantID); ok {
		return v.(string)
	}
	return tenantID
}

// OverrideTenantFilterForTest makes transactions scoped to realTenant bind
// filterTenant in the application's own `tenant_id = $1` predicates, while
// app.tenant_id (and so RLS) stays realTenant. It simulates the bug of an
// application filter pointed at the wrong tenant, so a test can show that RLS
// alone keeps tenants apart. Test code only; the returned func restores.
func OverrideTenantFilterForTest(realTenant, filterTenant string) (restore func()) {
	tenantFilterOverrides.Store(realTenant, filterTenant)
	return func() { tenantFilterOverrides.Delete(realTenant) }
}

// TenantSettings are the tenant attributes every context needs to reckon
// dates and money: the time zone business days and deadlines are counted in,
// and the one currency all amounts are in.
type TenantSettings struct {
	Location *time.Location
	Currency string
}

var locations sync.Map // IANA name -> *time.Location

// Settings reads the transaction's tenant's time zone and currency.
func (tx TenantTx) Settings(ctx context.Context) (TenantSettings, error) {
	var zone, currency string
	if err := tx.QueryRow(ctx, settingsSQL).Scan(&zone, &currency); err != nil {
		return TenantSettings{}, fmt.Errorf("tenant settings: %w", err)
	}
	return settingsOf(zone, currency)
}

// QueueSettings queues the read of Settings on b, into s, so it shares a
// round trip with the reads a caller needs beside it.
func QueueSettings(b *pgx.Batch, s *TenantSettings) {
	b.Queue(settingsSQL).QueryRow(func(row pgx.Row) error {
		var zone, currency string
		if err := row.Scan(&zone, &currency); err != nil {
			return fmt.Errorf("tenant settings: %w", err)
		}
		var err error
		*s, err = settingsOf(zone, currency)
		return err
	})
}

const settingsSQL = `SELECT time_zone, currency FROM tenants WHERE id = app_current_tenant()`

func settingsOf(zone, currency string) (TenantSettings, error) {
	loc, err := Location(zone)
	if err != nil {
		return TenantSettings{}, fmt.Errorf("tenant time zone %q: %w", zone, err)
	}
	return TenantSettings{Location: loc, Currency: currency}, nil
}

// Location is time.LoadLocation(zone), remembered: a tenant's zone is read
// on every write that reckons dates, and loading it reads the zone file.
func Location(zone string) (*time.Location, error) {
	if loc, ok := locations.Load(zone); ok {
		return loc.(*time.Location), nil
	}
	l, err := time.LoadLocation(zone)
	if err != nil {
		return nil, err
	}
	loc, _ := locations.LoadOrStore(zone, l)
	return loc.(*time.Location), nil
}

// Today reads the tenant's settings and returns them with the calendar date
// at now in the tenant's zone (YYYY-MM-DD): what every "not in the future"
// check needs.
func (tx TenantTx) Today(ctx context.Context, now time.Time) (TenantSettings, string, error) {
	st, err := tx.Settings(ctx)
	if err != nil {
		return TenantSettings{}, "", err
	}
	return st, st.Today(now), nil
}

// Today is the calendar date at now in the tenant's zone, as YYYY-MM-DD.
func (s TenantSettings) Today(now time.Time) string { return now.In(s.Location).Format(time.DateOnly) }

// QueryRows runs one read scoped to tenantID, in one round trip
// (InTenantRead), and scans every row with scan. The tenant is bound as $1
// (the application's own filter; RLS is the backstop) and args follow from
// $2. List operations use it: one page, one round trip. It reads in ctx's
// mode.
func QueryRows[T any](ctx context.Context, db DB, tenantID string, scan pgx.RowToFunc[T], sql string, args ...any) ([]T, error) {
	var out []T
	err := InTenantRead(ctx, db, tenantID, func(b *pgx.Batch, tenant string) {
		b.Queue(sql, append([]any{tenant}, args...)...).Query(func(rows pgx.Rows) error {
			var err error
			out, err = pgx.CollectRows(rows, scan)
			return err
		})
	})
	return out, Translate(err)
}

// InTenantRead sends the reads queue puts on a batch, scoped to tenantID, in
// one round trip: BEGIN, the tenant scope, the reads and COMMIT go together.
// queue binds tenant in its own `tenant_id = $1` predicates. The reads see
// ctx's mode only. In a Unit the reads join the unit's transaction.
func InTenantRead(ctx context.Context, db DB, tenantID string, queue func(b *pgx.Batch, tenant string)) error {
	return inTenantBatch(ctx, db, tenantID, true, queue)
}

// InTenantWrite is InTenantRead for writes that need nothing read first
// (the read audit of a GET): BEGIN, the tenant scope, the mode, the actor,
// the statements queue puts on a batch and COMMIT in one round trip. A
// failing statement rolls the whole transaction back.
func InTenantWrite(ctx context.Context, db DB, tenantID string, queue func(b *pgx.Batch, tenant string)) error {
	return inTenantBatch(ctx, db, tenantID, false, queue)
}

func inTenantBatch(ctx context.Context, db DB, tenantID string, readOnly bool, queue func(b *pgx.Batch, tenant string)) error {
	if tenantID == "" {
		return errors.New("pg: InTenantRead without a tenant")
	}
	if u := unitFrom(ctx, db); u != nil {
		return u.join(ctx, tenantID, func(tx pgx.Tx) error {
			b := &pgx.Batch{}
			queue(b, filterTenant(tenantID))
			return tx.SendBatch(ctx, b).Close()
		})
	}
	pool, ok := db.(*pgxpool.Pool)
	if !ok {
		// In a transaction (a test's): a savepoint, scoped, then the batch.
		return pgx.BeginFunc(ctx, db, func(tx pgx.Tx) error {
			b := &pgx.Batch{}
			b.Queue(`SELECT set_config('app.tenant_id', $1, true), set_config('app.livemode', $2, true), set_config('app.actor', $3, true)`,
				tenantID, modeSetting(Livemode(ctx)), actorFrom(ctx))
			queue(b, filterTenant(tenantID))
			return tx.SendBatch(ctx, b).Close()
		})
	}
	conn, err := pool.Acquire(ctx)
	if err != nil {
		return err
	}
	defer conn.Release()
	b := &pgx.Batch{}
	if readOnly {
		b.Queue("BEGIN READ ONLY")
	} else {
		b.Queue("BEGIN")
	}
	b.Queue(`SELECT set_config('app.tenant_id', $1, true), set_config('app.livemode', $2, true), set_config('app.actor', $3, true)`,
		tenantID, modeSetting(Livemode(ctx)), actorFrom(ctx))
	queue(b, filterTenant(tenantID))
	b.Queue("COMMIT")
	err = conn.SendBatch(ctx, b).Close()
	if err != nil && conn.Conn().PgConn().TxStatus() != 'I' {
		// A failed read leaves the transaction open; a connection that
		// cannot even roll back is closed by the pool on release.
		rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), rollbackTimeout)
		defer cancel()
		_, _ = conn.Exec(rctx, "ROLLBACK")
	}
	return err
}
