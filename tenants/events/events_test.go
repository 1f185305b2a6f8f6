package events_test

import (
	"context"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/servicenet/servicenet/internal/pg"
	"github.com/servicenet/servicenet/internal/pgtest"
	"github.com/servicenet/servicenet/tenants"
	"github.com/servicenet/servicenet/tenants/events"
)

type testBundle struct {
	db     *pgtest.DB
	tenant string
}

// setup gives a test its own database with one tenant. Feed reads are gated
// on the oldest running transaction of the whole cluster, so the tests that
// need a clean view get their own database and poll briefly (another test's
// open transaction delays, but never reorders, what List returns).
func setup(t *testing.T) *testBundle {
	t.Helper()
	db := pgtest.NewDB(t)
	return &testBundle{db: db, tenant: newTenant(t, db)}
}

func newTenant(t *testing.T, db *pgtest.DB) string {
	t.Helper()
	id := tenants.NewID(tenants.PrefixTenant)
	_, err := db.App.Exec(context.Background(), `INSERT INTO tenants (id, name, slug) VALUES ($1, 'T', $2)`, id, "t-"+id[len(id)-16:])
	require.NoError(t, err)
	return id
}

// appendCommitted appends one event in its own committed transaction and
// returns its subject ID, which tests use to recognise it.
func appendCommitted(t *testing.T, db *pgtest.DB, tenant, typ, subject string) {
	t.Helper()
	require.NoError(t, pg.InTenantTx(context.Background(), db.App, tenant, func(tx pg.TenantTx) error {
		return events.Append(context.Background(), tx, events.New{Type: typ, SubjectID: subject, Actor: "test", Data: map[string]int{"n": 1}})
	}))
}

func subjects(p events.Page) []string {
	s := []string{}
	for _, e := range p.Events {
		s = append(s, e.SubjectID)
	}
	return s
}

// listUntil polls List until it returns want (by subject) or a few seconds
// pass; the returned page is the last one read.
func listUntil(t *testing.T, db *pgtest.DB, tenant string, f events.Filter, want []string) events.Page {
	t.Helper()
	var page events.Page
	require.Eventually(t, func() bool {
		var err error
		page, err = events.List(context.Background(), db.App, tenant, f)
		require.NoError(t, err)
		return len(page.Events) >= len(want)
	}, 10*time.Second, 10*time.Millisecond, "waiting for %v", want)
	require.Equal(t, want, subjects(page))
	return page
}

func TestList(t *testing.T) {
	t.Parallel()
	ctx := context.Background()

	t.Run("CommitOrderAndPaging", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		want := []string{"s1", "s2", "s3", "s4", "s5"}
		for _, s := range want {
			appendCommitted(t, b.db, b.tenant, "thing.happened", s)
		}
		all := listUntil(t, b.db, b.tenant, events.Filter{Limit: 50}, want)
		e := all.Events[0]
		require.True(t, tenants.ValidID(tenants.PrefixEvent, e.ID))
		require.Equal(t, "thing.happened", e.Type)
		require.Equal(t, "test", e.Actor)
		require.JSONEq(t, `{"n": 1}`, string(e.Data))
		require.WithinDuration(t, time.Now(), e.OccurredAt, time.Minute)

		var got []string
		cursor := ""
		for range 10 {
			page, err := events.List(ctx, b.db.App, b.tenant, events.Filter{Limit: 2, After: cursor})
			require.NoError(t, err)
			require.LessOrEqual(t, len(page.Events), 2)
			require.NotEmpty(t, page.NextCursor, "a feed has no end: even an empty page has a cursor")
			got = append(got, subjects(page)...)
			if len(page.Events) == 0 {
				require.Equal(t, cursor, page.NextCursor, "an empty page keeps the position")
				break
			}
			cursor = page.NextCursor
		}
		require.Equal(t, want, got)

		// Polling with the last cursor later returns only what is new.
		appendCommitted(t, b.db, b.tenant, "thing.happened", "s6")
		listUntil(t, b.db, b.tenant, events.Filter{Limit: 50, After: cursor}, []string{"s6"})
	})

	t.Run("LateCommitIsNotSkipped", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		appendCommitted(t, b.db, b.tenant, "thing.happened", "e0")
		page := listUntil(t, b.db, b.tenant, events.Filter{Limit: 50}, []string{"e0"})
		cursor := page.NextCursor

		// tx1 appends E1 first (so it has the older transaction ID) and
		// stays open while E2 is appended and committed.
		tx1, err := b.db.App.Begin(ctx)
		require.NoError(t, err)
		defer tx1.Rollback(ctx) //nolint:errcheck
		require.NoError(t, pg.SetTenant(ctx, tx1, b.tenant))
		require.NoError(t, events.Append(ctx, pg.TenantTx{Tx: tx1, TenantID: b.tenant}, events.New{Type: "thing.happened", SubjectID: "e1", Actor: "slow"}))
		appendCommitted(t, b.db, b.tenant, "thing.happened", "e2")

		// E2 is committed and is returned at once: nothing waits for tx1.
		page = listUntil(t, b.db, b.tenant, events.Filter{Limit: 50, After: cursor}, []string{"e2"})
		cursor = page.NextCursor
		for range 3 {
			page, err = events.List(ctx, b.db.App, b.tenant, events.Filter{Limit: 50, After: cursor})
			require.NoError(t, err)
			require.Empty(t, page.Events, "an uncommitted event is never returned")
			require.Equal(t, cursor, page.NextCursor, "an empty page keeps the position")
		}

		// E1 commits late and is placed after E2: a consumer polling from
		// E2's cursor receives it; the whole feed holds each event once.
		require.NoError(t, tx1.Commit(ctx))
		listUntil(t, b.db, b.tenant, events.Filter{Limit: 50, After: cursor}, []string{"e1"})
		listUntil(t, b.db, b.tenant, events.Filter{Limit: 50}, []string{"e0", "e2", "e1"})
	})

	t.Run("UnrelatedLongTransactionsDoNotHoldTheFeedBack", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		other := setup(t)
		// Another tenant's long write transaction (an import, say) is open.
		long, err := other.db.App.Begin(ctx)
		require.NoError(t, err)
		defer long.Rollback(ctx) //nolint:errcheck
		require.NoError(t, pg.SetTenant(ctx, long, other.tenant))
		require.NoError(t, events.Append(ctx, pg.TenantTx{Tx: long, TenantID: other.tenant}, events.New{Type: "thing.happened", SubjectID: "slow", Actor: "x"}))
		appendCommitted(t, b.db, b.tenant, "thing.happened", "quick")
		page, err := events.List(ctx, b.db.App, b.tenant, events.Filter{Limit: 50})
		require.NoError(t, err)
		require.Equal(t, []string{"quick"}, subjects(page), "the first read returns what has committed")
	})

	t.Run("RolledBackEventsNeverAppear", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		tx, err := b.db.App.Begin(ctx)
		require.NoError(t, err)
		require.NoError(t, pg.SetTenant(ctx, tx, b.tenant))
		require.NoError(t, events.Append(ctx, pg.TenantTx{Tx: tx, TenantID: b.tenant}, events.New{Type: "thing.happened", SubjectID: "ghost", Actor: "x"}))
		require.NoError(t, tx.Rollback(ctx))
		appendCommitted(t, b.db, b.tenant, "thing.happened", "real")
		listUntil(t, b.db, b.tenant, events.Filter{Limit: 50}, []string{"real"})
	})

	t.Run("TypeFilters", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		for _, e := range []struct{ typ, subject string }{
			{events.TypeTenantCreated, "t1"},
			{events.TypeAPIKeyCreated, "k1"},
			{"apixkey.created", "decoy"}, // "_" must not act as a LIKE wildcard
			{events.TypeAPIKeyRevoked, "k2"},
			{"api_key_usage.reported", "decoy2"},
			{events.TypeTenantUpdated, "t2"},
		} {
			appendCommitted(t, b.db, b.tenant, e.typ, e.subject)
		}
		listUntil(t, b.db, b.tenant, events.Filter{Limit: 50}, []string{"t1", "k1", "decoy", "k2", "decoy2", "t2"})
		for _, c := range []struct {
			name  string
			types []string
			want  []string
		}{
			{"Family", []string{"api_key.*"}, []string{"k1", "k2"}},
			{"Exact", []string{events.TypeTenantCreated}, []string{"t1"}},
			{"Mixed", []string{"api_key.*", events.TypeTenantUpdated}, []string{"k1", "k2", "t2"}},
			{"NoMatch", []string{"ticket.*", "node.created"}, []string{}},
			{"All", []string{"api_key.*", "*"}, []string{"t1", "k1", "decoy", "k2", "decoy2", "t2"}},
		} {
			t.Run(c.name, func(t *testing.T) {
				page, err := events.List(ctx, b.db.App, b.tenant, events.Filter{Types: c.types, Limit: 50})
				require.NoError(t, err)
				require.Equal(t, c.want, subjects(page))
			})
		}
		t.Run("MalformedFilterIsInvalid", func(t *testing.T) {
			for _, typ := range []string{"%.*", "a.*.b", "Tenant.created", ""} {
				_, err := events.List(ctx, b.db.App, b.tenant, events.Filter{Types: []string{events.TypeTenantCreated, typ}, Limit: 50})
				var te *tenants.Error
				require.ErrorAs(t, err, &te, "%q", typ)
				require.Equal(t, tenants.CodeInvalid, te.Code)
				require.Equal(t, "type[1]", te.Fields[0].Location)
			}
		})
		t.Run("FilteredPaging", func(t *testing.T) {
			page, err := events.List(ctx, b.db.App, b.tenant, events.Filter{Types: []string{"api_key.*"}, Limit: 1})
			require.NoError(t, err)
			require.Equal(t, []string{"k1"}, subjects(page))
			page, err = events.List(ctx, b.db.App, b.tenant, events.Filter{Types: []string{"api_key.*"}, Limit: 1, After: page.NextCursor})
			require.NoError(t, err)
			require.Equal(t, []string{"k2"}, subjects(page))
		})
	})

	t.Run("TenantsSeeOnlyTheirFeed", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		other := newTenant(t, b.db)
		appendCommitted(t, b.db, b.tenant, "thing.happened", "mine")
		appendCommitted(t, b.db, other, "thing.happened", "theirs")
		listUntil(t, b.db, b.tenant, events.Filter{Limit: 50}, []string{"mine"})
		listUntil(t, b.db, other, events.Filter{Limit: 50}, []string{"theirs"})
	})

	t.Run("MalformedCursorIsInvalid", func(t *testing.T) {
		t.Parallel()
		db := pgtest.NewDB(t)
		for _, c := range []string{"!!", "bm90LWEtY3Vyc29y", "MS54"} { // "not-a-cursor", "1.x"
			_, err := events.List(ctx, db.App, tenants.NewID(tenants.PrefixTenant), events.Filter{After: c, Limit: 10})
			var te *tenants.Error
			require.ErrorAs(t, err, &te, c)
			require.Equal(t, tenants.CodeInvalid, te.Code)
			require.Equal(t, "cursor", te.Fields[0].Location)
		}
	})
}

func TestAppend(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	tx := pgtest.Tx(t)
	tenant := tenants.NewID(tenants.PrefixTenant)
	_, err := tx.Exec(ctx, `INSERT INTO tenants (id, name, slug) VALUES ($1, 'T', $2)`, tenant, "t-"+tenant[len(tenant)-16:])
	require.NoError(t, err)
	require.NoError(t, pg.SetTenant(ctx, tx, tenant))
	ttx := pg.TenantTx{Tx: tx, TenantID: tenant}

	t.Run("NilDataIsAnEmptyObject", func(t *testing.T) {
		require.NoError(t, events.Append(ctx, ttx, events.New{Type: "thing.happened", SubjectID: "nil-data", Actor: "a"}))
		var data string
		require.NoError(t, tx.QueryRow(ctx, `SELECT data::text FROM events WHERE subject_id = 'nil-data'`).Scan(&data))
		require.Equal(t, "{}", data)
	})
	t.Run("UnmarshalableDataIsAnError", func(t *testing.T) {
		require.Error(t, events.Append(ctx, ttx, events.New{Type: "thing.happened", SubjectID: "x", Actor: "a", Data: make(chan int)}))
	})
}

// TestFilteredFeedCursorAdvances: a filtered read moves its cursor past
// every event it looked at, matching or not, so a poller with a filter
// neither rereads (and rescans) the same events for ever nor loses its
// place when nothing matched; following next_cursor it sees every matching
// event exactly once.
func TestFilteredFeedCursorAdvances(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	b := setup(t)
	appendMany := func(typ, prefix string, n int) {
		t.Helper()
		require.NoError(t, pg.InTenantTx(ctx, b.db.App, b.tenant, func(tx pg.TenantTx) error {
			for i := range n {
				if err := events.Append(ctx, tx, events.New{Type: typ, SubjectID: prefix + strconv.Itoa(i), Actor: "test"}); err != nil {
					return err
				}
			}
			return nil
		}))
	}
	filter := []string{"claim.*"}
	appendMany("unit.registered", "u", 300)

	// Nothing matches yet: the page is empty, but the cursor is there and
	// stands after the 300 events read.
	first, err := events.List(ctx, b.db.App, b.tenant, events.Filter{Types: filter, Limit: 50})
	require.NoError(t, err)
	require.Empty(t, first.Events)
	require.NotEmpty(t, first.NextCursor, "the feed has no end: a filtered empty page has a cursor too (failed before: none)")
	unfiltered, err := events.List(ctx, b.db.App, b.tenant, events.Filter{Limit: 50, After: first.NextCursor})
	require.NoError(t, err)
	require.Empty(t, unfiltered.Events, "the cursor is past every event read")

	appendMany("claim.submitted", "c", 1)
	appendMany("unit.registered", "v", 300)
	appendMany("claim.approved", "d", 2)
	appendMany("unit.registered", "w", 300)

	var got []string
	cursor, cursors := first.NextCursor, map[string]bool{}
	for range 20 {
		page, err := events.List(ctx, b.db.App, b.tenant, events.Filter{Types: filter, Limit: 2, After: cursor})
		require.NoError(t, err)
		got = append(got, subjects(page)...)
		require.NotEmpty(t, page.NextCursor)
		if len(page.Events) == 0 {
			require.Equal(t, cursor, page.NextCursor, "caught up: the position is kept")
			break
		}
		require.False(t, cursors[page.NextCursor], "the cursor moves on")
		cursors[page.NextCursor] = true
		cursor = page.NextCursor
	}
	require.Equal(t, []string{"c0", "d0", "d1"}, got, "every matching event once")

	// The short page that ended at d1 read the 300 after it too: its
	// cursor is past them (failed before: it stayed at d1, and every poll
	// scanned them again).
	rest, err := events.List(ctx, b.db.App, b.tenant, events.Filter{Limit: 50, After: cursor})
	require.NoError(t, err)
	require.Empty(t, rest.Events, "nothing was left behind the cursor")
	appendMany("claim.paid", "p", 1)
	listUntil(t, b.db, b.tenant, events.Filter{Types: filter, Limit: 50, After: cursor}, []string{"p0"})
}
