package claims_test

import (
	"context"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/stretchr/testify/require"

	"github.com/servicenet/servicenet/internal/app"
	"github.com/servicenet/servicenet/internal/pg"
	"github.com/servicenet/servicenet/tenants/claims"
)

// tally counts the round trips and statements the services send inside
// their transactions: a batch is one round trip of its statements. The
// transaction's own BEGIN (with its scope) and COMMIT are not counted: on
// the pool they go with the request's first and last round trips.
type tally struct {
	trips, stmts int
	sql          []string
}

// countingDB is a pg.DB whose transactions count into t.
type countingDB struct {
	pg.DB
	t *tally
}

func (d countingDB) Begin(ctx context.Context) (pgx.Tx, error) {
	tx, err := d.DB.Begin(ctx)
	if err != nil {
		return nil, err
	}
	return &countingTx{Tx: tx, t: d.t, scoping: true}, nil
}

type countingTx struct {
	pgx.Tx
	t        *tally
	scoping  bool // the next statement is InTenantTx's scope
	endFlush bool // the last statement sent was a batch of buffered events
}

func (c *countingTx) count(n int, sql string) {
	if c.scoping {
		c.scoping = false
		return
	}
	if strings.HasPrefix(sql, "-- name: PG") {
		return // River's probe of the server's version and its insert notification: not sent on the application's pool
	}
	c.endFlush = false
	c.t.trips++
	c.t.stmts += n
	c.t.sql = append(c.t.sql, sql[:min(len(sql), 60)])
}

func (c *countingTx) Begin(ctx context.Context) (pgx.Tx, error) {
	tx, err := c.Tx.Begin(ctx)
	if err != nil {
		return nil, err
	}
	return &countingTx{Tx: tx, t: c.t, scoping: true}, nil
}

func (c *countingTx) Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error) {
	c.count(1, sql)
	return c.Tx.Exec(ctx, sql, args...)
}

func (c *countingTx) Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error) {
	c.count(1, sql)
	return c.Tx.Query(ctx, sql, args...)
}

func (c *countingTx) QueryRow(ctx context.Context, sql string, args ...any) pgx.Row {
	c.count(1, sql)
	return c.Tx.QueryRow(ctx, sql, args...)
}

func (c *countingTx) SendBatch(ctx context.Context, b *pgx.Batch) pgx.BatchResults {
	c.count(b.Len(), "batch: "+b.QueuedQueries[0].SQL)
	c.endFlush = true
	for _, q := range b.QueuedQueries {
		c.endFlush = c.endFlush && strings.HasPrefix(q.SQL, "INSERT INTO events ")
	}
	return c.Tx.SendBatch(ctx, b)
}

// Commit does not count a last round trip that only wrote the transaction's
// buffered events (pg.TenantTx.AtEnd): in a test's savepoint it is sent
// before the RELEASE, but on the pool it rides the COMMIT (pg.InTenantTx),
// which is not counted either.
func (c *countingTx) Commit(ctx context.Context) error {
	if c.endFlush {
		c.t.trips--
		c.t.sql[len(c.t.sql)-1] += " (rides the COMMIT on the pool)"
	}
	return c.Tx.Commit(ctx)
}

// The round trips of a submission and of its adjudication, inside their
// transactions: a figure the benchmarks cannot see, and that no machine's
// load changes. The bounds are today's; a change that adds a round trip
// to these paths has to say why.
func TestRolledBackClaimRoundTrips(t *testing.T) {
	w := newWasherShop(t)
	var n tally
	counted, err := app.NewServices(app.Config{}, countingDB{DB: w.Tx, t: &n}, nil)
	require.NoError(t, err)
	measure := func(what string, maxTrips int, f func() error) {
		t.Helper()
		n = tally{}
		require.NoError(t, f())
		t.Logf("%s: %d round trips, %d statements (BEGIN and COMMIT not counted)", what, n.trips, n.stmts)
		for _, q := range n.sql {
			t.Logf("  %s", q)
		}
		require.LessOrEqual(t, n.trips, maxTrips, what)
	}
	var first, second string
	var filed claims.Claim
	measure("submit", 2, func() error {
		var err error
		filed, _, err = counted.Claims.SubmitClaim(w.Ctx, w.Admin, w.claim("RT-1", "power_surge"))
		first = filed.ID
		return err
	})
	// The claim answered is the one written (not read back): as read.
	read, err := w.Claims.GetClaim(w.Ctx, w.Admin, first)
	require.NoError(t, err)
	require.Equal(t, read, filed)
	measure("adjudicate (approved)", 4, func() error { return counted.Claims.Adjudicate(w.Ctx, w.Tenant, first, 1) })
	measure("submit (a duplicate)", 2, func() error {
		c, _, err := counted.Claims.SubmitClaim(w.Ctx, w.Admin, w.claim("RT-2", "power_surge"))
		second = c.ID
		return err
	})
	measure("adjudicate (a duplicate, left for review)", 3, func() error { return counted.Claims.Adjudicate(w.Ctx, w.Tenant, second, 1) })
	measure("submit again (the same reference: the claim filed)", 2, func() error {
		_, _, err := counted.Claims.SubmitClaim(w.Ctx, w.Admin, w.claim("RT-1", "power_surge"))
		return err
	})
	// Resubmission: the lock, the reads, the writes with the claim read
	// back. (A submission's writes ride the request's COMMIT on the pool;
	// in this test's savepoint they go at once, the second round trip:
	// TestRequestRoundTrips counts the whole request on the pool.)
	c, err := w.Claims.RequestInfo(w.Ctx, w.Admin, second, "发票照片不清晰", 0)
	require.NoError(t, err)
	var again claims.Claim
	measure("resubmit", 3, func() error {
		var err error
		again, err = counted.Claims.ResubmitClaim(w.Ctx, w.Admin, second, w.claim("RT-2", "power_surge").ClaimSubmission, c.Revision)
		return err
	})
	require.Equal(t, 2, again.Version)
	read, err = w.Claims.GetClaim(w.Ctx, w.Admin, second)
	require.NoError(t, err)
	require.Equal(t, read, again)
}
