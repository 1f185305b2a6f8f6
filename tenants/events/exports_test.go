package events_test

import (
	"context"
	"errors"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"

	"github.com/servicenet/servicenet/internal/pg"
	"github.com/servicenet/servicenet/internal/pgtest"
	"github.com/servicenet/servicenet/tenants"
	"github.com/servicenet/servicenet/tenants/events"
)

// txTenant adds a tenant in the test's transaction and returns a TenantTx
// of it built by hand (no end buffer: events are written at once).
func txTenant(t *testing.T, tx pgx.Tx) pg.TenantTx {
	t.Helper()
	ctx := context.Background()
	tenant := tenants.NewID(tenants.PrefixTenant)
	_, err := tx.Exec(ctx, `INSERT INTO tenants (id, name, slug) VALUES ($1, 'T', $2)`, tenant, "t-"+tenant[len(tenant)-16:])
	require.NoError(t, err)
	require.NoError(t, pg.SetTenant(ctx, tx, tenant))
	return pg.TenantTx{Tx: tx, TenantID: tenant}
}

// stored is the tenant's events in the order written: subject and data.
func stored(t *testing.T, tx pg.TenantTx) [][2]string {
	t.Helper()
	rows, err := tx.Query(context.Background(), `SELECT subject_id, data::text FROM events WHERE tenant_id = $1 ORDER BY seq`, tx.TenantID)
	require.NoError(t, err)
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) ([2]string, error) {
		var s [2]string
		return s, r.Scan(&s[0], &s[1])
	})
	require.NoError(t, err)
	return out
}

func aboutSubjects(es []events.Event) []string {
	out := []string{}
	for _, e := range es {
		out = append(out, e.SubjectID)
	}
	return out
}

func feedEntries(es []events.FeedEntry) map[string]int64 {
	out := map[string]int64{}
	for _, e := range es {
		out[e.SubjectID] = e.Position
	}
	return out
}

// TestExportsOnAHandBuiltTx: without an end buffer, AppendManyTx writes
// at once and in order, Queue/QueueTx put the insert on the caller's batch,
// and AboutTx/FeedTx read what the transaction wrote.
func TestExportsOnAHandBuiltTx(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	ttx := txTenant(t, pgtest.Tx(t))

	require.NoError(t, events.AppendManyTx(ctx, ttx, nil))
	require.Empty(t, stored(t, ttx), "no events, no insert")

	require.NoError(t, events.AppendManyTx(ctx, ttx, []events.New{
		{Type: "import.row", SubjectID: "m1", Actor: "importer", Data: map[string]int{"n": 1}},
		{Type: "import.row", SubjectID: "m2", Actor: "importer"},
	}))
	require.Equal(t, [][2]string{{"m1", `{"n": 1}`}, {"m2", "{}"}}, stored(t, ttx), "written at once, in order; nil data is {}")
	err := events.AppendManyTx(ctx, ttx, []events.New{{Type: "import.row", SubjectID: "bad", Data: make(chan int)}})
	require.ErrorContains(t, err, "event data")
	require.Len(t, stored(t, ttx), 2, "a bad payload writes nothing")

	b := &pgx.Batch{}
	require.NoError(t, events.QueueTx(b, ttx, events.New{Type: "queued.one", SubjectID: "q1", Actor: "a", Data: map[string]string{"k": "v"}}))
	require.NoError(t, events.Queue(b, ttx.TenantID, events.New{Type: "queued.two", SubjectID: "q2", Actor: "a"}))
	require.ErrorContains(t, events.Queue(b, ttx.TenantID, events.New{Type: "queued.bad", Data: make(chan int)}), "event data")
	require.Equal(t, 2, b.Len(), "the bad event is not queued")
	require.Len(t, stored(t, ttx), 2, "queued, not yet sent")
	require.NoError(t, ttx.SendBatch(ctx, b).Close())
	require.Equal(t, [][2]string{{"m1", `{"n": 1}`}, {"m2", "{}"}, {"q1", `{"k": "v"}`}, {"q2", "{}"}}, stored(t, ttx))

	about, err := events.AboutTx(ctx, ttx, []string{"q2", "m1", "nobody"})
	require.NoError(t, err)
	require.Equal(t, []string{"m1", "q2"}, aboutSubjects(about), "oldest first")
	require.Equal(t, "import.row", about[0].Type)
	require.Equal(t, "importer", about[0].Actor)
	require.JSONEq(t, `{"n": 1}`, string(about[0].Data))
	none, err := events.AboutTx(ctx, ttx, []string{"nobody"})
	require.NoError(t, err)
	require.NotNil(t, none)
	require.Empty(t, none)

	feed, err := events.FeedTx(ctx, ttx, []string{"import.*"}, 0, 10)
	require.NoError(t, err)
	require.Equal(t, map[string]int64{"m1": 1, "m2": 2}, feedEntries(feed), "positioned in write order")
	feed, err = events.FeedTx(ctx, ttx, []string{"queued.two"}, 0, 10)
	require.NoError(t, err)
	require.Equal(t, map[string]int64{"q2": 4}, feedEntries(feed), "an exact type")
	feed, err = events.FeedTx(ctx, ttx, []string{"import.*", "queued.*"}, 2, 1)
	require.NoError(t, err)
	require.Equal(t, map[string]int64{"q1": 3}, feedEntries(feed), "after a position, up to limit")
	feed, err = events.FeedTx(ctx, ttx, []string{"impor_.*", "import%"}, 0, 10)
	require.NoError(t, err)
	require.Empty(t, feed, `"_" and "%" in a family are literal`)
	feed, err = events.FeedTx(ctx, ttx, nil, 0, 10)
	require.NoError(t, err)
	require.Empty(t, feed, "no types, no events")
}

// TestExportsJoinTheTransactionBuffer: in an InTenantTx, AppendManyTx and
// QueueTx join the transaction's one buffered insert, AboutTx and FeedTx see
// the buffered events, and a rollback writes none of them.
func TestExportsJoinTheTransactionBuffer(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	tx := pgtest.Tx(t)
	ttx := txTenant(t, tx)

	errRollback := errors.New("the caller fails later")
	err := pg.InTenantTx(ctx, tx, ttx.TenantID, func(btx pg.TenantTx) error {
		require.NoError(t, events.Append(ctx, btx, events.New{Type: "sale.made", SubjectID: "b1", Actor: "a"}))
		require.NoError(t, events.AppendManyTx(ctx, btx, []events.New{
			{Type: "sale.made", SubjectID: "b2", Actor: "a"}, {Type: "sale.made", SubjectID: "b3", Actor: "a"}}))
		require.Empty(t, stored(t, btx), "buffered, not written")
		b := &pgx.Batch{}
		require.NoError(t, events.QueueTx(b, btx, events.New{Type: "sale.refunded", SubjectID: "b4", Actor: "a"}))
		require.Zero(t, b.Len(), "QueueTx joins the buffer, not the caller's batch")
		require.ErrorContains(t, events.AppendManyTx(ctx, btx, []events.New{{Type: "sale.made", Data: make(chan int)}}), "event data")

		about, err := events.AboutTx(ctx, btx, []string{"b4", "b3", "b2", "b1"})
		require.NoError(t, err)
		require.Equal(t, []string{"b1", "b2", "b3", "b4"}, aboutSubjects(about), "written before the read, in append order")

		require.NoError(t, events.Append(ctx, btx, events.New{Type: "sale.made", SubjectID: "b5", Actor: "a"}))
		feed, err := events.FeedTx(ctx, btx, []string{"sale.made"}, 0, 10)
		require.NoError(t, err)
		require.Equal(t, map[string]int64{"b1": 1, "b2": 2, "b3": 3, "b5": 5}, feedEntries(feed))
		return errRollback
	})
	require.ErrorIs(t, err, errRollback)
	require.Empty(t, stored(t, ttx), "the rollback discards the events")

	require.NoError(t, pg.InTenantTx(ctx, tx, ttx.TenantID, func(btx pg.TenantTx) error {
		return events.AppendManyTx(ctx, btx, []events.New{{Type: "sale.made", SubjectID: "c1", Actor: "a"},
			{Type: "sale.made", SubjectID: "c2", Actor: "a", Data: map[string]bool{"ok": true}}})
	}))
	require.Equal(t, [][2]string{{"c1", "{}"}, {"c2", `{"ok": true}`}}, stored(t, ttx), "written when the callback ends")
}
