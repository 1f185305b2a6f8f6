package webhooks_test

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"

	"github.com/servicenet/servicenet/internal/pg"
	"github.com/servicenet/servicenet/internal/pgtest"
	"github.com/servicenet/servicenet/tenants"
	"github.com/servicenet/servicenet/tenants/events"
	"github.com/servicenet/servicenet/tenants/identity"
	"github.com/servicenet/servicenet/tenants/notifications"
	"github.com/servicenet/servicenet/tenants/webhooks"
)

type bundle struct {
	db  *pgtest.DB
	p   tenants.Principal
	svc *webhooks.Service
	mu  sync.Mutex
	enq []string
	// enqErr, when set, is what enqueuing deliveries fails with.
	enqErr error
}

func setup(t *testing.T, slug string) *bundle {
	t.Helper()
	db := pgtest.NewDB(t)
	ten, key, err := (&identity.Service{DB: db.App}).CreateTenant(context.Background(), identity.NewTenant{Name: "Brand " + slug, Slug: slug}, "operator")
	require.NoError(t, err)
	b := &bundle{db: db, p: tenants.Principal{TenantID: ten.ID, KeyID: key.ID, Roles: []string{tenants.RoleTenantAdmin}}}
	notify, err := notifications.NewService(db.App, notifications.Deps{ // deliveries not enqueued
		EnqueueDelivery:    func(context.Context, pgx.Tx, string, string, time.Time, int) error { return nil },
		EnqueueClockExpiry: func(context.Context, pgx.Tx, string, string, string, time.Time) error { return nil },
		Log:                slog.New(slog.DiscardHandler)})
	require.NoError(t, err)
	b.svc, err = webhooks.NewService(db.App, webhooks.Deps{Attach: notify.Attach, EnqueueDeliveries: func(_ context.Context, _ pgx.Tx, _ string, ids []string, _ int) error {
		b.mu.Lock()
		defer b.mu.Unlock()
		if b.enqErr != nil {
			return b.enqErr
		}
		b.enq = append(b.enq, ids...)
		return nil
	}})
	require.NoError(t, err)
	return b
}

func (b *bundle) emit(t *testing.T, typ string, data map[string]any) {
	t.Helper()
	ctx := context.Background()
	require.NoError(t, pg.InTenantTx(ctx, b.db.App, b.p.TenantID, func(tx pg.TenantTx) error {
		return events.Append(ctx, tx, events.New{Type: typ, SubjectID: "s", Actor: "test", Data: data})
	}))
}

func (b *bundle) count(t *testing.T, sql string) int {
	t.Helper()
	var n int
	require.NoError(t, pg.InTenantTx(context.Background(), b.db.App, b.p.TenantID, func(tx pg.TenantTx) error {
		return tx.QueryRow(context.Background(), sql).Scan(&n)
	}))
	return n
}

// Concurrent dispatchers create exactly one delivery per event and
// endpoint; a failed job insert rolls the deliveries and the cursor back.
func TestDispatchExactlyOnce(t *testing.T) {
	t.Parallel()
	b := setup(t, "whk-dispatch")
	ctx := context.Background()
	b.svc.AllowHost("127.0.0.1:9")
	_, err := b.svc.CreateEndpoint(ctx, b.p, webhooks.NewEndpoint{URL: "http://127.0.0.1:9/a", EventTypes: []string{"unit.*"}})
	require.NoError(t, err)
	_, err = b.svc.CreateEndpoint(ctx, b.p, webhooks.NewEndpoint{URL: "http://127.0.0.1:9/b", EventTypes: []string{"*"}})
	require.NoError(t, err)
	for range 5 {
		b.emit(t, "unit.registered", nil)
	}
	b.emit(t, "contract.activated", nil)

	var wg sync.WaitGroup
	var total atomic.Int64
	for range 4 {
		wg.Go(func() {
			n, err := b.svc.Dispatch(ctx, b.p.TenantID)
			require.NoError(t, err)
			total.Add(int64(n))
		})
	}
	wg.Wait()
	require.Equal(t, int64(11), total.Load(), "5 unit events to both endpoints, 1 contract event to one")
	require.Equal(t, 11, b.count(t, `SELECT count(*) FROM webhook_deliveries`))
	require.Len(t, b.enq, 11)
	n, err := b.svc.Dispatch(ctx, b.p.TenantID)
	require.NoError(t, err)
	require.Zero(t, n, "nothing twice")

	b.mu.Lock()
	b.enqErr = errors.New("queue down")
	b.mu.Unlock()
	b.emit(t, "unit.registered", nil)
	_, err = b.svc.Dispatch(ctx, b.p.TenantID)
	require.Error(t, err)
	require.Equal(t, 11, b.count(t, `SELECT count(*) FROM webhook_deliveries`), "the rows roll back with the failed insert")
	b.mu.Lock()
	b.enqErr = nil
	b.mu.Unlock()
	n, err = b.svc.Dispatch(ctx, b.p.TenantID)
	require.NoError(t, err)
	require.Equal(t, 2, n, "the cursor did not move: nothing is lost")
}

// Deliver is idempotent: a delivered delivery is never sent again.
func TestDeliverOnce(t *testing.T) {
	t.Parallel()
	b := setup(t, "whk-deliver")
	ctx := context.Background()
	var hits atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { hits.Add(1) }))
	t.Cleanup(srv.Close)
	b.svc.AllowHost(srv.Listener.Addr().String())
	b.emit(t, "unit.registered", nil) // before any endpoint: never delivered
	n, err := b.svc.Dispatch(ctx, b.p.TenantID)
	require.NoError(t, err)
	require.Zero(t, n)
	ep, err := b.svc.CreateEndpoint(ctx, b.p, webhooks.NewEndpoint{URL: srv.URL, EventTypes: []string{"*"}})
	require.NoError(t, err)
	b.emit(t, "unit.registered", nil)
	n, err = b.svc.Dispatch(ctx, b.p.TenantID)
	require.NoError(t, err)
	require.Equal(t, 1, n, "only the event after the endpoint's registration")
	require.NoError(t, b.svc.Deliver(ctx, b.p.TenantID, b.enq[0], false))
	require.NoError(t, b.svc.Deliver(ctx, b.p.TenantID, b.enq[0], false))
	require.Equal(t, int64(1), hits.Load())
	ds, _, err := b.svc.ListDeliveries(ctx, b.p, ep.ID, webhooks.DeliveryFilter{})
	require.NoError(t, err)
	require.Equal(t, webhooks.DeliveryDelivered, ds[0].Status)
	require.Equal(t, 1, ds[0].Attempts)
	err = b.svc.Deliver(ctx, b.p.TenantID, "dlv_00000000000000000000000000", false)
	require.Equal(t, tenants.CodeNotFound, tenants.ErrorCode(err))
}

// The dispatch asks once across tenants which have events to dispatch: an
// active tenant, in a mode, with an enabled endpoint and an event its
// dispatch has not read (not yet positioned, or positioned after its
// cursor). The function leaves its caller's scope as it was.
func TestTenantsPendingDispatch(t *testing.T) {
	t.Parallel()
	b := setup(t, "whk-pending")
	ctx := context.Background()
	live := pg.TenantMode{TenantID: b.p.TenantID, Live: true}
	test := pg.TenantMode{TenantID: b.p.TenantID, Live: false}
	pending := func() []pg.TenantMode {
		t.Helper()
		work, err := b.svc.TenantsPendingDispatch(ctx)
		require.NoError(t, err)
		var tm []pg.TenantMode
		for _, w := range work {
			require.False(t, w.Since.IsZero(), "an unread event's time")
			tm = append(tm, w.TenantMode)
		}
		require.NoError(t, pg.InTenantTx(ctx, b.db.App, b.p.TenantID, func(tx pg.TenantTx) error {
			var n int
			if err := tx.QueryRow(ctx, `SELECT count(*) FROM tenants_with_work('webhook_dispatch_pending')`).Scan(&n); err != nil {
				return err
			}
			var scope string
			if err := tx.QueryRow(ctx, `SELECT current_setting('app.tenant_id', true) || '/' || current_setting('app.livemode', true)`).Scan(&scope); err != nil {
				return err
			}
			require.Equal(t, b.p.TenantID+"/true", scope, "the scope is the caller's again")
			return nil
		}))
		return tm
	}
	dispatch := func(want int) {
		t.Helper()
		n, err := b.svc.Dispatch(ctx, b.p.TenantID)
		require.NoError(t, err)
		require.Equal(t, want, n)
	}

	b.emit(t, "unit.registered", nil)
	require.Empty(t, pending(), "events, but no endpoint to dispatch them to")
	b.svc.AllowHost("127.0.0.1:9")
	ep, err := b.svc.CreateEndpoint(ctx, b.p, webhooks.NewEndpoint{URL: "http://127.0.0.1:9/a", EventTypes: []string{"*"}})
	require.NoError(t, err)
	require.Equal(t, []pg.TenantMode{live}, pending(), "the events before the endpoint are still to be read through")
	dispatch(0)
	require.Empty(t, pending(), "the cursor is at the last event")

	b.emit(t, "unit.registered", nil)
	require.Equal(t, []pg.TenantMode{live}, pending(), "a new event, not yet positioned")
	_, err = events.List(ctx, b.db.App, b.p.TenantID, events.Filter{Limit: 10})
	require.NoError(t, err)
	require.Equal(t, []pg.TenantMode{live}, pending(), "positioned by a reader of the feed, after the cursor")
	dispatch(1)
	require.Empty(t, pending())

	// Test mode is dispatched apart: a test event waits for a test endpoint.
	testCtx := pg.WithLivemode(ctx, false)
	require.NoError(t, pg.InTenantTx(testCtx, b.db.App, b.p.TenantID, func(tx pg.TenantTx) error {
		return events.Append(testCtx, tx, events.New{Type: "unit.registered", SubjectID: "s", Actor: "test"})
	}))
	require.Empty(t, pending(), "no test-mode endpoint")
	_, err = b.svc.CreateEndpoint(testCtx, b.p, webhooks.NewEndpoint{URL: "http://127.0.0.1:9/t", EventTypes: []string{"*"}})
	require.NoError(t, err)
	require.Equal(t, []pg.TenantMode{test}, pending())
	_, err = b.svc.Dispatch(testCtx, b.p.TenantID)
	require.NoError(t, err)
	require.Empty(t, pending())

	// A disabled endpoint, a suspended tenant: nothing to dispatch to.
	off := false
	_, err = b.svc.UpdateEndpoint(ctx, b.p, ep.ID, webhooks.EndpointUpdate{Enabled: &off}, 0)
	require.NoError(t, err)
	b.emit(t, "unit.registered", nil)
	require.Empty(t, pending(), "the live endpoint is disabled")
	on := true
	_, err = b.svc.UpdateEndpoint(ctx, b.p, ep.ID, webhooks.EndpointUpdate{Enabled: &on}, 0)
	require.NoError(t, err)
	require.Equal(t, []pg.TenantMode{live}, pending())
	_, err = b.db.Owner.Exec(ctx, `UPDATE tenants SET status = 'suspended' WHERE id = $1`, b.p.TenantID)
	require.NoError(t, err)
	require.Empty(t, pending(), "a suspended tenant is not dispatched")
	_, err = b.db.Owner.Exec(ctx, `UPDATE tenants SET status = 'active' WHERE id = $1`, b.p.TenantID)
	require.NoError(t, err)
	// Read through, but the endpoint enabled again receives nothing of what
	// occurred while it was disabled (the event, its own disabling and
	// re-enabling): 3 deliveries before 095.
	dispatch(0)
	require.Empty(t, pending())

	// A cursor the function cannot read makes the tenant pending, for the
	// dispatch to report, instead of failing the question for every tenant.
	require.NoError(t, pg.InTenantTx(ctx, b.db.App, b.p.TenantID, func(tx pg.TenantTx) error {
		_, err := tx.Exec(ctx, `UPDATE webhook_dispatch_cursors SET cursor = 'not a cursor' WHERE tenant_id = $1`, tx.TenantID)
		return err
	}))
	require.Equal(t, []pg.TenantMode{live}, pending())
	_, err = b.svc.Dispatch(ctx, b.p.TenantID)
	require.Error(t, err)
}
