package tickets_test

import (
	"context"
	"encoding/json"
	"log/slog"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river"
	"github.com/stretchr/testify/require"

	"github.com/servicenet/servicenet/internal/domaintest"
	"github.com/servicenet/servicenet/internal/pg"
	"github.com/servicenet/servicenet/internal/pgtest"
	"github.com/servicenet/servicenet/jobs"
	"github.com/servicenet/servicenet/tenants"
	"github.com/servicenet/servicenet/tenants/identity"
	"github.com/servicenet/servicenet/tenants/notifications"
	"github.com/servicenet/servicenet/tenants/payouts"
	"github.com/servicenet/servicenet/tenants/swaps"
	"github.com/servicenet/servicenet/tenants/tickets"
)

type bundle struct {
	db  *pgtest.DB
	idn *identity.Service
	rc  *river.Client[pgx.Tx]
}

// setup makes a test database and an insert-only River client over it.
func setup(t *testing.T) *bundle {
	t.Helper()
	db := pgtest.NewDB(t)
	rc, err := jobs.NewClient(db.App, jobs.Deps{}, jobs.Options{TestOnly: true}) // inserts only
	require.NoError(t, err)
	return &bundle{db: db, idn: &identity.Service{DB: db.App}, rc: rc}
}

// service is a tickets service whose clock stands at now and whose swap,
// payout and notification jobs are real River jobs.
func (b *bundle) service(now time.Time) *tickets.Service {
	sw, err := swaps.NewService(b.db.App, swaps.Deps{Jobs: tickets.ServedTx, EnqueueEvaluation: jobs.SwapEvaluationEnqueuer(b.rc), ServingNode: tickets.ServingNodeTx})
	if err != nil {
		panic(err)
	}
	svc, err := tickets.NewService(b.db.App, tickets.Deps{Swaps: sw, Payouts: b.payouts(), Notifications: b.notifications()})
	if err != nil {
		panic(err)
	}
	svc.Now = func() time.Time { return now }
	return svc
}

// payouts is a payouts service whose deadline checks are real River jobs.
func (b *bundle) payouts() *payouts.Service {
	po, err := payouts.NewService(b.db.App, payouts.Deps{Jobs: tickets.ServedTx, EnqueueDeadline: jobs.PayoutDeadlineEnqueuer(b.rc),
		EnqueueClockDeadline: jobs.PayoutClockDeadlineEnqueuer(b.rc), Notifications: b.notifications()})
	if err != nil {
		panic(err)
	}
	return po
}

// notifications is a notifications service whose deliveries are real
// River jobs.
func (b *bundle) notifications() *notifications.Service {
	svc, err := notifications.NewService(b.db.App, notifications.Deps{EnqueueDelivery: jobs.NotificationDeliveryEnqueuer(b.rc),
		EnqueueClockExpiry: jobs.NotificationClockExpiryEnqueuer(b.rc), Log: slog.New(slog.DiscardHandler)})
	if err != nil {
		panic(err)
	}
	return svc
}

func (b *bundle) tenant(t *testing.T, slug, zone string) tenants.Principal {
	t.Helper()
	ten, key, err := b.idn.CreateTenant(context.Background(), identity.NewTenant{Name: "Brand " + slug, Slug: slug, TimeZone: zone}, "operator")
	require.NoError(t, err)
	return tenants.Principal{TenantID: ten.ID, KeyID: key.ID, Roles: []string{tenants.RoleTenantAdmin}}
}

// nodes writes a manufacturer root with two service centers under it.
func (b *bundle) nodes(t *testing.T, tenantID string) (root, a, c string) {
	t.Helper()
	ctx := context.Background()
	root, a, c = tenants.NewID(tenants.PrefixNode), tenants.NewID(tenants.PrefixNode), tenants.NewID(tenants.PrefixNode)
	require.NoError(t, pg.InTenantTx(ctx, b.db.App, tenantID, func(tx pg.TenantTx) error {
		if _, err := tx.Exec(ctx, `INSERT INTO nodes (tenant_id, id, external_code, name, tier, path)
			VALUES ($1, $2, 'ROOT', 'Root', 'manufacturer', $3::ltree)`, tx.TenantID, root, root); err != nil {
			return err
		}
		for i, id := range []string{a, c} {
			if _, err := tx.Exec(ctx, `INSERT INTO nodes (tenant_id, id, external_code, name, tier, parent_id, path)
				VALUES ($1, $2, $3, 'Center', 'service_center', $4, $5::ltree)`,
				tx.TenantID, id, "SC-"+string(rune('A'+i)), root, root+"."+id); err != nil {
				return err
			}
		}
		return nil
	}))
	return root, a, c
}

// ticket writes a ticket row directly (the ticket core is not this file's
// subject) with a fresh customer; cols sets further columns.
func (b *bundle) ticket(t *testing.T, tenantID string, state tickets.State, cols map[string]any) (id, number string) {
	t.Helper()
	return b.ticketIn(t, context.Background(), tenantID, state, cols)
}

// ticketIn is ticket in ctx's mode.
func (b *bundle) ticketIn(t *testing.T, ctx context.Context, tenantID string, state tickets.State, cols map[string]any) (id, number string) {
	t.Helper()
	id = tenants.NewID(tenants.PrefixTicket)
	// The ID's last 16 characters (80 random bits): with its last 5 (25
	// bits), two of TestSweepSLAPages's 406 tickets once drew one number.
	number = "SN-20261129-" + strings.ToUpper(id[len(id)-16:])
	require.NoError(t, pg.InTenantTx(ctx, b.db.App, tenantID, func(tx pg.TenantTx) error {
		customer := tenants.NewID(tenants.PrefixCustomer)
		if _, err := tx.Exec(ctx, `INSERT INTO customers (tenant_id, id, name, phones) VALUES ($1, $2, '李四', ARRAY['+8613900000000'])`,
			tx.TenantID, customer); err != nil {
			return err
		}
		names := []string{"tenant_id", "id", "number", "channel", "type", "state", "customer_id", "contact", "address", "fault", "created_by"}
		args := []any{tx.TenantID, id, number, "hotline", "repair", string(state), customer,
			`{"name":"李四","phone":"+8613900000000"}`, `{"region_code":"370212","line":"香港中路 1 号"}`, `{"symptom":"no_power"}`, "test"}
		keys := make([]string, 0, len(cols))
		for k := range cols {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			names = append(names, k)
			args = append(args, cols[k])
		}
		ph := make([]string, len(names))
		for i := range ph {
			ph[i] = "$" + strconv.Itoa(i+1)
		}
		_, err := tx.Exec(ctx, `INSERT INTO tickets (`+strings.Join(names, ", ")+`) VALUES (`+strings.Join(ph, ", ")+`)`, args...)
		return err
	}))
	return id, number
}

// query runs a one-value query in the tenant's scope.
func queryInt(t *testing.T, b *bundle, tenantID, sql string, args ...any) int {
	t.Helper()
	var n int
	require.NoError(t, pg.InTenantTx(context.Background(), b.db.App, tenantID, func(tx pg.TenantTx) error {
		return tx.QueryRow(context.Background(), sql, append([]any{tx.TenantID}, args...)...).Scan(&n)
	}))
	return n
}

// checkAt is the ticket's next SLA check (sla_check_at), nil for none.
func (b *bundle) checkAt(t *testing.T, tenantID, id string) *time.Time {
	t.Helper()
	var at *time.Time
	require.NoError(t, pg.InTenantTx(context.Background(), b.db.App, tenantID, func(tx pg.TenantTx) error {
		return tx.QueryRow(context.Background(), `SELECT sla_check_at FROM tickets WHERE tenant_id = $1 AND id = $2`, tx.TenantID, id).Scan(&at)
	}))
	return at
}

// requireCheckAt asserts the ticket's next SLA check: want, or none when nil.
func (b *bundle) requireCheckAt(t *testing.T, tenantID, id string, want *time.Time, msg ...any) {
	t.Helper()
	got := b.checkAt(t, tenantID, id)
	if want == nil {
		require.Nil(t, got, msg...)
		return
	}
	require.NotNil(t, got, msg...)
	require.True(t, want.Equal(*got), "next check %s, want %s %v", got, want, msg)
}

func TestCheckTimer(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	b := setup(t)
	p := b.tenant(t, "sla-timers", "Asia/Shanghai")
	_, nodeA, _ := b.nodes(t, p.TenantID)
	due := time.Date(2026, 11, 30, 2, 0, 0, 0, time.UTC)
	at := due.Add(time.Second)
	svc := b.service(at)

	t.Run("BreachIsRecordedOnceAndEscalatesToLevelThreeOnly", func(t *testing.T) {
		id, number := b.ticket(t, p.TenantID, tickets.StateDispatched, map[string]any{"first_contact_due_at": due, "node_id": nodeA})
		breached, err := svc.CheckTimer(ctx, p.TenantID, id, tickets.SLAFirstContact, due, 1)
		require.NoError(t, err)
		require.True(t, breached)
		breached, err = svc.CheckTimer(ctx, p.TenantID, id, tickets.SLAFirstContact, due, 1)
		require.NoError(t, err)
		require.False(t, breached, "a rerun records nothing")

		require.Equal(t, 1, queryInt(t, b, p.TenantID, `SELECT count(*) FROM ticket_sla_breaches WHERE tenant_id = $1 AND ticket_id = $2`, id))
		require.Equal(t, 1, queryInt(t, b, p.TenantID, `SELECT escalation_level FROM tickets WHERE tenant_id = $1 AND id = $2`, id))
		require.Equal(t, 1, queryInt(t, b, p.TenantID, `SELECT count(*) FROM ticket_timeline WHERE tenant_id = $1 AND ticket_id = $2
			AND action = 'sla_breached' AND from_state = 'dispatched' AND to_state = 'dispatched' AND actor = 'system'
			AND detail->>'sla' = 'first_contact' AND (detail->>'level')::int = 1 AND detail->>'escalated_to' = 'dispatcher'`, id))
		var data map[string]any
		require.NoError(t, pg.InTenantTx(ctx, b.db.App, p.TenantID, func(tx pg.TenantTx) error {
			var raw []byte
			if err := tx.QueryRow(ctx, `SELECT data FROM events WHERE tenant_id = $1 AND type = $2 AND subject_id = $3`,
				tx.TenantID, tickets.TypeSLABreached, id).Scan(&raw); err != nil {
				return err
			}
			return json.Unmarshal(raw, &data)
		}))
		require.Equal(t, number, data["number"])
		require.Equal(t, "first_contact", data["sla"])
		require.Equal(t, "dispatcher", data["escalated_to"])
		require.Equal(t, nodeA, data["node_id"])
		require.Contains(t, data, "storefront_id")
		require.Nil(t, data["storefront_id"])

		// The next level checks the same deadline an escalation period after
		// it (not after the check that recorded level 1, a second later).
		b.requireCheckAt(t, p.TenantID, id, ptr(due.Add(60*time.Minute)), "the node manager's level, although the check ran twice")

		// Level 2 then level 3, and no level 4.
		svc2 := b.service(at.Add(60 * time.Minute))
		breached, err = svc2.CheckTimer(ctx, p.TenantID, id, tickets.SLAFirstContact, due, 2)
		require.NoError(t, err)
		require.True(t, breached)
		b.requireCheckAt(t, p.TenantID, id, ptr(due.Add(120*time.Minute)), "the brand's level")
		svc3 := b.service(at.Add(120 * time.Minute))
		breached, err = svc3.CheckTimer(ctx, p.TenantID, id, tickets.SLAFirstContact, due, 3)
		require.NoError(t, err)
		require.True(t, breached)
		b.requireCheckAt(t, p.TenantID, id, nil, "level 3 is the brand: nothing further")
		require.Equal(t, 3, queryInt(t, b, p.TenantID, `SELECT escalation_level FROM tickets WHERE tenant_id = $1 AND id = $2`, id))
		require.Equal(t, 3, queryInt(t, b, p.TenantID, `SELECT count(*) FROM ticket_sla_breaches WHERE tenant_id = $1 AND ticket_id = $2`, id))
		require.Equal(t, 3, queryInt(t, b, p.TenantID, `SELECT count(*) FROM events WHERE tenant_id = $1 AND type = 'ticket.sla_breached' AND subject_id = $2`, id))

		// A late level-1 timer does not lower the escalation level.
		breached, err = svc.CheckTimer(ctx, p.TenantID, id, tickets.SLAFirstContact, due, 1)
		require.NoError(t, err)
		require.False(t, breached)
		require.Equal(t, 3, queryInt(t, b, p.TenantID, `SELECT escalation_level FROM tickets WHERE tenant_id = $1 AND id = $2`, id))
	})

	t.Run("MetMovedOrEndedDoesNothing", func(t *testing.T) {
		cases := map[string]struct {
			state tickets.State
			cols  map[string]any
			next  *time.Time // the next check after
		}{
			"met":       {tickets.StateOnSite, map[string]any{}, nil},
			"moved":     {tickets.StateAssigned, map[string]any{"response_due_at": due.Add(time.Hour)}, ptr(due.Add(time.Hour))},
			"cancelled": {tickets.StateCancelled, map[string]any{"response_due_at": due}, nil},
			"closed":    {tickets.StateClosed, map[string]any{"response_due_at": due}, nil},
			"other SLA": {tickets.StateAssigned, map[string]any{"completion_due_at": due}, ptr(due)},
		}
		for name, c := range cases {
			id, _ := b.ticket(t, p.TenantID, c.state, c.cols)
			breached, err := svc.CheckTimer(ctx, p.TenantID, id, tickets.SLAResponse, due, 1)
			require.NoError(t, err, name)
			require.False(t, breached, name)
			require.Equal(t, 0, queryInt(t, b, p.TenantID, `SELECT count(*) FROM ticket_sla_breaches WHERE tenant_id = $1 AND ticket_id = $2`, id), name)
			require.Equal(t, 0, queryInt(t, b, p.TenantID, `SELECT escalation_level FROM tickets WHERE tenant_id = $1 AND id = $2`, id), name)
			b.requireCheckAt(t, p.TenantID, id, c.next, name)
		}
	})

	t.Run("SubMicrosecondDueTimesMatch", func(t *testing.T) {
		precise := due.Add(123456789 * time.Nanosecond)
		id, _ := b.ticket(t, p.TenantID, tickets.StateNew, map[string]any{"route_due_at": precise})
		breached, err := svc.CheckTimer(ctx, p.TenantID, id, tickets.SLARoute, precise, 1)
		require.NoError(t, err)
		require.True(t, breached)
	})

	t.Run("UnknownTicketIsNotFound", func(t *testing.T) {
		_, err := svc.CheckTimer(ctx, p.TenantID, tenants.NewID(tenants.PrefixTicket), tickets.SLARoute, due, 1)
		require.Equal(t, tenants.CodeNotFound, tenants.ErrorCode(err))
		_, err = svc.CheckTimer(ctx, p.TenantID, "tkt_bad", tickets.SLARoute, due, 1)
		require.Equal(t, tenants.CodeNotFound, tenants.ErrorCode(err))
		q := b.tenant(t, "sla-timers-other", "Asia/Shanghai")
		id, _ := b.ticket(t, p.TenantID, tickets.StateNew, map[string]any{"route_due_at": due})
		_, err = svc.CheckTimer(ctx, q.TenantID, id, tickets.SLARoute, due, 1)
		require.Equal(t, tenants.CodeNotFound, tenants.ErrorCode(err), "another tenant's ticket")
	})
}

func TestSweepSLA(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	b := setup(t)
	p := b.tenant(t, "sla-sweep", "Asia/Shanghai")
	due := time.Date(2026, 11, 30, 2, 0, 0, 0, time.UTC)
	fc, resp, done := due.Add(time.Hour), due.Add(2*time.Hour), due.Add(3*time.Hour)
	// Its response deadline was met (cleared); the next check is the
	// earliest deadline, as a change writes it.
	id, _ := b.ticket(t, p.TenantID, tickets.StateNew, map[string]any{"route_due_at": due, "first_contact_due_at": fc,
		"completion_due_at": done, "sla_check_at": due})
	// Not due by the sweeps below; on a test clock; another tenant's.
	later, _ := b.ticket(t, p.TenantID, tickets.StateNew, map[string]any{"route_due_at": resp.Add(4 * time.Hour), "sla_check_at": resp.Add(4 * time.Hour)})
	clock := tenants.NewID(tenants.PrefixTestClock)
	q := b.tenant(t, "sla-sweep-other", "Asia/Shanghai")
	other, _ := b.ticket(t, q.TenantID, tickets.StateNew, map[string]any{"route_due_at": due, "sla_check_at": due})
	testCtx := pg.WithLivemode(ctx, false)
	require.NoError(t, pg.InTenantTx(testCtx, b.db.App, p.TenantID, func(tx pg.TenantTx) error {
		_, err := tx.Exec(ctx, `INSERT INTO test_clocks (tenant_id, id, name, frozen_time) VALUES ($1, $2, 'sweep', $3)`, tx.TenantID, clock, due)
		return err
	}))
	onClock, _ := b.ticketIn(t, testCtx, p.TenantID, tickets.StateNew, map[string]any{"route_due_at": due, "sla_check_at": due, "test_clock_id": clock})

	// The sweep asks once which tenants and modes have tickets due on the
	// wall clock; the function leaves its caller's scope as it was.
	dueAt := func(at time.Time) []pg.TenantMode {
		t.Helper()
		work, err := b.service(at).TenantsSLADue(ctx, at)
		require.NoError(t, err)
		var tm []pg.TenantMode
		for _, w := range work {
			require.True(t, w.Since.Equal(due), "due since its earliest check, %s", w.Since)
			tm = append(tm, w.TenantMode)
		}
		require.NoError(t, pg.InTenantTx(ctx, b.db.App, q.TenantID, func(tx pg.TenantTx) error {
			var n int
			if err := tx.QueryRow(ctx, `SELECT count(*) FROM tenants_with_work('tickets_sla_due', $1)`, at).Scan(&n); err != nil {
				return err
			}
			var scope string
			if err := tx.QueryRow(ctx, `SELECT current_setting('app.tenant_id', true) || '/' || current_setting('app.livemode', true)`).Scan(&scope); err != nil {
				return err
			}
			require.Equal(t, q.TenantID+"/true", scope, "the scope is the caller's again")
			return nil
		}))
		return tm
	}
	require.Empty(t, dueAt(due.Add(-time.Second)), "nothing due yet")
	require.ElementsMatch(t, []pg.TenantMode{{TenantID: p.TenantID, Live: true}, {TenantID: q.TenantID, Live: true}}, dueAt(due),
		"the clock's ticket, in test mode, waits for its clock")
	_, err := b.db.Owner.Exec(ctx, `UPDATE tenants SET status = 'suspended' WHERE id = $1`, q.TenantID)
	require.NoError(t, err)
	require.Equal(t, []pg.TenantMode{{TenantID: p.TenantID, Live: true}}, dueAt(due), "a suspended tenant is not swept")
	_, err = b.db.Owner.Exec(ctx, `UPDATE tenants SET status = 'active' WHERE id = $1`, q.TenantID)
	require.NoError(t, err)

	sweep := func(at time.Time) int {
		t.Helper()
		n, err := b.service(at).SweepSLA(ctx, p.TenantID, at)
		require.NoError(t, err)
		nt, err := b.service(at).SweepSLA(testCtx, p.TenantID, at)
		require.NoError(t, err)
		require.Zero(t, nt, "the clock's tickets wait for the clock")
		return n
	}
	levels := func(ticket, sla string) int {
		return queryInt(t, b, p.TenantID, `SELECT count(*) FROM ticket_sla_breaches WHERE tenant_id = $1 AND ticket_id = $2 AND sla = $3`, ticket, sla)
	}

	// The route deadline breaches at level 1; the next check is the first
	// contact's deadline, when the route's level 2 also falls due (an hour
	// after the route's deadline, not after the sweep that recorded level 1).
	require.Equal(t, 1, sweep(due.Add(time.Second)))
	require.Equal(t, 0, sweep(due.Add(time.Second)), "a rerun records nothing")
	require.Equal(t, 1, levels(id, "route"))
	b.requireCheckAt(t, p.TenantID, id, &fc)
	require.Equal(t, 1, queryInt(t, b, p.TenantID, `SELECT escalation_level FROM tickets WHERE tenant_id = $1 AND id = $2`, id))

	// The first contact met meanwhile: nothing breaches at its deadline but
	// the route's level 2; the next check is the route's level 3.
	require.NoError(t, pg.InTenantTx(ctx, b.db.App, p.TenantID, func(tx pg.TenantTx) error {
		_, err := tx.Exec(ctx, `UPDATE tickets SET first_contact_due_at = NULL WHERE tenant_id = $1 AND id = $2`, tx.TenantID, id)
		return err
	}))
	require.Equal(t, 1, sweep(fc))
	require.Equal(t, 2, levels(id, "route"))
	b.requireCheckAt(t, p.TenantID, id, ptr(due.Add(2*time.Hour)))

	// No sweep until the completion deadline, two hours on: it catches up
	// on the route's level 3 (due two hours after its deadline, as a live
	// sweep would have recorded it) and breaches the completion at level 1;
	// an hour later the completion's level 2, then its level 3, and
	// nothing more.
	require.Equal(t, 2, sweep(done))
	b.requireCheckAt(t, p.TenantID, id, ptr(done.Add(time.Hour)))
	require.Equal(t, 1, sweep(done.Add(time.Hour)))
	require.Equal(t, 1, sweep(done.Add(2*time.Hour)))
	b.requireCheckAt(t, p.TenantID, id, nil)
	require.Equal(t, 3, levels(id, "route"))
	require.Equal(t, 3, levels(id, "completion"))
	require.Equal(t, 0, levels(id, "first_contact"))
	require.Equal(t, 3, queryInt(t, b, p.TenantID, `SELECT escalation_level FROM tickets WHERE tenant_id = $1 AND id = $2`, id))
	require.Equal(t, 6, queryInt(t, b, p.TenantID, `SELECT count(*) FROM ticket_timeline WHERE tenant_id = $1 AND ticket_id = $2
		AND action = 'sla_breached' AND actor = 'system'`, id))
	require.Equal(t, 6, queryInt(t, b, p.TenantID, `SELECT count(*) FROM events WHERE tenant_id = $1 AND type = 'ticket.sla_breached' AND subject_id = $2`, id))

	// The other tickets: later's deadline is not due yet, the other
	// tenant's is not this tenant's sweep.
	require.Equal(t, 0, levels(later, "route"))
	b.requireCheckAt(t, p.TenantID, later, ptr(resp.Add(4*time.Hour)))
	require.Equal(t, 0, queryInt(t, b, q.TenantID, `SELECT count(*) FROM ticket_sla_breaches WHERE tenant_id = $1 AND ticket_id = $2`, other))

	// A ticket a change holds is left to the next sweep, without an error.
	held, _ := b.ticket(t, p.TenantID, tickets.StateNew, map[string]any{"route_due_at": done, "sla_check_at": done})
	lock, err := b.db.App.Begin(ctx)
	require.NoError(t, err)
	_, err = lock.Exec(ctx, `SELECT set_config('app.tenant_id', $1, true), set_config('app.livemode', 'true', true)`, p.TenantID)
	require.NoError(t, err)
	var locked int
	require.NoError(t, lock.QueryRow(ctx, `SELECT count(*) FROM (SELECT FROM tickets WHERE tenant_id = $1 AND id = $2 FOR UPDATE) l`,
		p.TenantID, held).Scan(&locked))
	require.Equal(t, 1, locked)
	require.Equal(t, 0, sweep(done.Add(2*time.Hour)), "held by a change: skipped")
	b.requireCheckAt(t, p.TenantID, held, &done)
	require.NoError(t, lock.Rollback(ctx))
	require.Equal(t, 3, sweep(done.Add(2*time.Hour)), "released: swept two hours late: levels 1, 2 and 3 (due at the deadline, an hour and two hours after it)")
	require.Equal(t, 3, levels(held, "route"))

	// The clock's ticket breaches on the clock's time.
	n, err := b.service(done).SweepClockSLA(testCtx, p.TenantID, clock, due.Add(-time.Second))
	require.NoError(t, err)
	require.Zero(t, n, "not due yet on the clock")
	n, err = b.service(done).SweepClockSLA(testCtx, p.TenantID, clock, due)
	require.NoError(t, err)
	require.Equal(t, 1, n)
	var breachedAt time.Time
	require.NoError(t, pg.InTenantTx(testCtx, b.db.App, p.TenantID, func(tx pg.TenantTx) error {
		return tx.QueryRow(ctx, `SELECT breached_at FROM ticket_sla_breaches WHERE tenant_id = $1 AND ticket_id = $2`, tx.TenantID, onClock).Scan(&breachedAt)
	}))
	require.True(t, breachedAt.Equal(due), "recorded at the clock's time, %s", breachedAt)
}

// TestSweepSLAPages: more due tickets than a page, one handed over by
// migration 049 (its check at -infinity): one sweep checks them all.
func TestSweepSLAPages(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	b := setup(t)
	p := b.tenant(t, "sla-sweep-pages", "Asia/Shanghai")
	due := time.Date(2026, 11, 30, 2, 0, 0, 0, time.UTC)
	const n = 2*200 + 5 // more than two pages (sweepPage)
	ids := make([]string, 0, n+1)
	for i := range n {
		id, _ := b.ticket(t, p.TenantID, tickets.StateNew, map[string]any{"route_due_at": due, "sla_check_at": due.Add(time.Duration(i%3) * time.Second)})
		ids = append(ids, id)
	}
	handed, _ := b.ticket(t, p.TenantID, tickets.StateNew, map[string]any{"route_due_at": due, "sla_check_at": "-infinity"})
	ids = append(ids, handed)
	at := due.Add(time.Minute)
	work, err := b.service(at).TenantsSLADue(ctx, at)
	require.NoError(t, err, "a check at -infinity is due, and answered as a time")
	require.Len(t, work, 1)
	require.Equal(t, pg.TenantMode{TenantID: p.TenantID, Live: true}, work[0].TenantMode)
	require.True(t, work[0].Since.Equal(time.Unix(0, 0)), "due since the epoch: %s", work[0].Since)
	breaches, err := b.service(at).SweepSLA(ctx, p.TenantID, at)
	require.NoError(t, err)
	require.Equal(t, n+1, breaches)
	require.Equal(t, n+1, queryInt(t, b, p.TenantID, `SELECT count(*) FROM tickets WHERE tenant_id = $1 AND id = ANY ($2) AND sla_check_at = $3`,
		ids, due.Add(time.Hour)), "every one's next check is its level 2, an hour after the deadline")
}

func ptr[T any](v T) *T { return &v }

func TestListBreaches(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	b := setup(t)
	p := b.tenant(t, "sla-breaches", "Asia/Shanghai")
	_, nodeA, nodeC := b.nodes(t, p.TenantID)
	due := time.Date(2026, 11, 30, 2, 0, 0, 0, time.UTC)
	ta, _ := b.ticket(t, p.TenantID, tickets.StateDispatched, map[string]any{"first_contact_due_at": due, "node_id": nodeA})
	tc, _ := b.ticket(t, p.TenantID, tickets.StateDispatched, map[string]any{"completion_due_at": due, "node_id": nodeC})
	tn, _ := b.ticket(t, p.TenantID, tickets.StateNew, map[string]any{"route_due_at": due})
	for i, c := range []struct {
		id  string
		sla tickets.SLA
		lvl int
	}{{ta, tickets.SLAFirstContact, 1}, {tc, tickets.SLACompletion, 1}, {tn, tickets.SLARoute, 1}, {ta, tickets.SLAFirstContact, 2}} {
		breached, err := b.service(due.Add(time.Duration(i+1)*time.Minute)).CheckTimer(ctx, p.TenantID, c.id, c.sla, due, c.lvl)
		require.NoError(t, err)
		require.True(t, breached)
	}
	svc := b.service(due)

	all, next, err := svc.ListBreaches(ctx, p, tickets.BreachFilter{})
	require.NoError(t, err)
	require.Empty(t, next)
	require.Len(t, all, 4)
	require.Equal(t, ta, all[0].TicketID, "newest first")
	require.Equal(t, 2, all[0].Level)
	require.Equal(t, "node_manager", all[0].EscalatedTo)
	require.Equal(t, tn, all[1].TicketID)
	require.Nil(t, all[1].NodeID)

	var paged []tickets.Breach
	cursor := ""
	for {
		page, next, err := svc.ListBreaches(ctx, p, tickets.BreachFilter{Limit: 1, Cursor: cursor})
		require.NoError(t, err)
		paged = append(paged, page...)
		if next == "" {
			break
		}
		cursor = next
	}
	require.Equal(t, all, paged)

	lvl2, _, err := svc.ListBreaches(ctx, p, tickets.BreachFilter{Level: 2})
	require.NoError(t, err)
	require.Len(t, lvl2, 1)
	bySLA, _, err := svc.ListBreaches(ctx, p, tickets.BreachFilter{SLA: "completion"})
	require.NoError(t, err)
	require.Len(t, bySLA, 1)
	require.Equal(t, tc, bySLA[0].TicketID)
	since, _, err := svc.ListBreaches(ctx, p, tickets.BreachFilter{Since: due.Add(3 * time.Minute)})
	require.NoError(t, err)
	require.Len(t, since, 2)

	scoped := tenants.Principal{TenantID: p.TenantID, KeyID: "key", Roles: []string{tenants.RoleNodeManager}, NodeID: nodeC}
	mine, _, err := svc.ListBreaches(ctx, scoped, tickets.BreachFilter{})
	require.NoError(t, err)
	require.Len(t, mine, 1)
	require.Equal(t, tc, mine[0].TicketID)

	_, _, err = svc.ListBreaches(ctx, p, tickets.BreachFilter{SLA: "lunch"})
	requireField(t, err, "sla")
	_, _, err = svc.ListBreaches(ctx, p, tickets.BreachFilter{Level: 4})
	requireField(t, err, "level")
	_, _, err = svc.ListBreaches(ctx, p, tickets.BreachFilter{Cursor: tenants.EncodeCursor("sla_breaches", "nonsense")})
	requireField(t, err, "cursor")
}

func requireField(t *testing.T, err error, location string) {
	t.Helper()
	require.Equal(t, tenants.CodeInvalid, tenants.ErrorCode(err), "%v", err)
	var te *tenants.Error
	require.ErrorAs(t, err, &te)
	require.Equal(t, location, te.Fields[0].Location)
}

func TestSLAPolicy(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	b := setup(t)
	p := b.tenant(t, "sla-policy", "Asia/Shanghai")
	svc := b.service(time.Now())

	pol, err := svc.GetSLAPolicy(ctx, p)
	require.NoError(t, err)
	require.Equal(t, tickets.DefaultSLAPolicy, pol)
	require.Equal(t, 0, pol.Version)

	in := tickets.DefaultSLAPolicy
	in.RouteMinutes, in.EscalationMinutes = 10, 30
	got, err := svc.SetSLAPolicy(ctx, p, in, new(0))
	require.NoError(t, err)
	require.Equal(t, 1, got.Version)
	require.Equal(t, 10, got.RouteMinutes)
	_, err = svc.SetSLAPolicy(ctx, p, in, new(0))
	require.Equal(t, tenants.CodePreconditionFailed, tenants.ErrorCode(err), "the defaults no longer apply")
	_, err = svc.SetSLAPolicy(ctx, p, in, new(7))
	require.Equal(t, tenants.CodePreconditionFailed, tenants.ErrorCode(err))
	in.CallbackMinutes = 60
	got, err = svc.SetSLAPolicy(ctx, p, in, new(1))
	require.NoError(t, err)
	require.Equal(t, 2, got.Version)
	read, err := svc.GetSLAPolicy(ctx, p)
	require.NoError(t, err)
	require.Equal(t, got, read)
	require.Equal(t, 2, queryInt(t, b, p.TenantID, `SELECT count(*) FROM events WHERE tenant_id = $1 AND type = $2`, tickets.TypeSLAPolicyUpdated))

	bad := in
	bad.EscalationMinutes = 0
	bad.UnreachableCloseAfter = 11
	_, err = svc.SetSLAPolicy(ctx, p, bad, nil)
	require.ElementsMatch(t, []string{"escalation_minutes", "unreachable_close_after"}, domaintest.Fields(t, err))

	// The escalation follows the policy.
	due := time.Date(2026, 11, 30, 2, 0, 0, 0, time.UTC)
	id, _ := b.ticket(t, p.TenantID, tickets.StateNew, map[string]any{"route_due_at": due})
	_, err = b.service(due).CheckTimer(ctx, p.TenantID, id, tickets.SLARoute, due, 1)
	require.NoError(t, err)
	b.requireCheckAt(t, p.TenantID, id, ptr(due.Add(30*time.Minute)))
}
