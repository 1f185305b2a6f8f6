package quality

import (
	"context"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/servicenet/servicenet/internal/pg"
	"github.com/servicenet/servicenet/internal/pgtest"
	"github.com/servicenet/servicenet/tenants/events"
	"github.com/servicenet/servicenet/tenants/identity"
)

// The fold asks once across tenants which have events to fold: an event
// not yet positioned, or one of the types it folds after its position.
// Other events, once positioned, are not work.
func TestTenantsToFold(t *testing.T) {
	t.Parallel()
	db := pgtest.NewDB(t)
	ctx := context.Background()
	ten, _, err := (&identity.Service{DB: db.App}).CreateTenant(ctx, identity.NewTenant{Name: "Fold brand", Slug: "fold-work"}, "operator")
	require.NoError(t, err)
	svc, err := NewService(db.App)
	require.NoError(t, err)
	emit := func(ctx context.Context, typ string) {
		t.Helper()
		require.NoError(t, pg.InTenantTx(ctx, db.App, ten.ID, func(tx pg.TenantTx) error {
			return events.Append(ctx, tx, events.New{Type: typ, SubjectID: "s", Actor: "test"})
		}))
	}
	toFold := func() []pg.TenantMode {
		t.Helper()
		work, err := svc.TenantsToFold(ctx)
		require.NoError(t, err)
		var out []pg.TenantMode
		for _, w := range work {
			require.False(t, w.Since.IsZero())
			out = append(out, w.TenantMode)
		}
		return out
	}
	fold := func(ctx context.Context) {
		t.Helper()
		_, err := svc.Fold(ctx, ten.ID, 0)
		require.NoError(t, err)
	}
	live := pg.TenantMode{TenantID: ten.ID, Live: true}

	require.Equal(t, []pg.TenantMode{live}, toFold(), "the tenant's creation: events not yet positioned")
	fold(ctx)
	require.Empty(t, toFold(), "positioned, none of them a type the fold reads")
	emit(ctx, "unit.registered")
	require.Equal(t, []pg.TenantMode{live}, toFold(), "not yet positioned: the fold positions it")
	fold(ctx)
	require.Empty(t, toFold(), "positioned, and not a type the fold reads")
	emit(ctx, "ticket.opened")
	fold(ctx)
	require.Empty(t, toFold(), "folded")
	emit(ctx, "complaint.filed")
	_, err = events.List(ctx, db.App, ten.ID, events.Filter{Limit: 10}) // a reader of the feed positions it
	require.NoError(t, err)
	require.Equal(t, []pg.TenantMode{live}, toFold(), "positioned, after the fold's position")
	fold(ctx)
	require.Empty(t, toFold())

	testCtx := pg.WithLivemode(ctx, false)
	emit(testCtx, "ticket.opened")
	require.Equal(t, []pg.TenantMode{{TenantID: ten.ID, Live: false}}, toFold(), "test mode is folded apart")
	fold(testCtx)
	require.Empty(t, toFold())
}

// The database's question names the types the fold reads (feedTypes): a
// type folded but not asked about would wait for an unrelated event.
func TestFoldTypesAsked(t *testing.T) {
	t.Parallel()
	db := pgtest.NewDB(t)
	var src string
	require.NoError(t, db.Owner.QueryRow(context.Background(),
		`SELECT prosrc FROM pg_proc WHERE proname = 'quality_fold_pending_since'`).Scan(&src))
	for _, typ := range feedTypes {
		want := "e.type = '" + typ + "'"
		if family, ok := strings.CutSuffix(typ, ".*"); ok {
			want = "e.type LIKE '" + family + ".%'"
		}
		require.Contains(t, src, want)
	}
	require.Equal(t, len(feedTypes), strings.Count(src, "e.type "), "no type asked about that the fold does not read")
}
