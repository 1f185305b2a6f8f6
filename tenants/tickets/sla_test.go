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

	"github.com/servicenet/servicenet/internal/pg"
	"github.com/servicenet/servicenet/internal/pgtest"
	"github.com/servicenet/servicenet/jobs"
	"github.com/servicenet/servicenet/tenants"
	"github.com/servicenet/servicenet/tenants/identity"
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
	rc, err := jobs.NewClient(db.App, jobs.Deps{Logger: slog.New(slog.DiscardHandler)}, jobs.Options{TestOnly: true})
	require.NoError(t, err)
	return &bundle{db: db, idn: &identity.Service{DB: db.App}, rc: rc}
}

// service is a tickets service whose clock stands at now and whose timers
// are real River jobs.
func (b *bundle) service(now time.Time) *tickets.Service {
	sw, err := swaps.NewService(b.db.App, swaps.Deps{EnqueueEvaluation: jobs.SwapEvaluationEnqueuer(b.rc), ServingNode: tickets.ServingNodeTx})
	if err != nil {
		panic(err)
	}
	po, err := payouts.NewService(b.db.App, payouts.Deps{EnqueueDeadline: jobs.PayoutDeadlineEnqueuer(b.rc)})
	if err != nil {
		panic(err)
	}
	svc, err := tickets.NewService(b.db.App, tickets.Deps{EnqueueTimers: jobs.TicketTimerEnqueuer(b.rc), Swaps: sw, Payouts: po})
	if err != nil {
		panic(err)
	}
	svc.Now = func() time.Time { return now }
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
	ctx := context.Background()
	id = tenants.NewID(tenants.PrefixTicket)
	number = "SN-20261129-" + strings.ToUpper(id[len(id)-5:])
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

type timerJob struct {
	Args        jobs.TicketTimerArgs
	ScheduledAt time.Time
}

// timerJobs lists the ticket's SLA timer jobs, oldest first.
func (b *bundle) timerJobs(t *testing.T, ticketID string) []timerJob {
	t.Helper()
	ctx := context.Background()
	rows, err := b.db.App.Query(ctx, `SELECT args, scheduled_at FROM river_job WHERE kind = 'ticket_sla_timer' AND args->>'ticket_id' = $1 ORDER BY id`, ticketID)
	require.NoError(t, err)
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (timerJob, error) {
		var j timerJob
		var raw []byte
		if err := r.Scan(&raw, &j.ScheduledAt); err != nil {
			return j, err
		}
		return j, json.Unmarshal(raw, &j.Args)
	})
	require.NoError(t, err)
	return out
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

		// The next level checks the same deadline, an escalation period later.
		js := b.timerJobs(t, id)
		require.Len(t, js, 1, "one escalation timer, although the check ran twice")
		require.Equal(t, jobs.TicketTimerArgs{TenantID: p.TenantID, TicketID: id, SLA: "first_contact", DueAt: due, Level: 2}, normalize(js[0].Args))
		require.True(t, js[0].ScheduledAt.Equal(at.Add(60*time.Minute)), "scheduled at %s", js[0].ScheduledAt)

		// Level 2 then level 3 (from the job's own args), and no level 4.
		svc2 := b.service(at.Add(60 * time.Minute))
		breached, err = svc2.CheckTimer(ctx, p.TenantID, id, tickets.SLA(js[0].Args.SLA), js[0].Args.DueAt, js[0].Args.Level)
		require.NoError(t, err)
		require.True(t, breached)
		js = b.timerJobs(t, id)
		require.Len(t, js, 2)
		require.Equal(t, 3, js[1].Args.Level)
		svc3 := b.service(at.Add(120 * time.Minute))
		breached, err = svc3.CheckTimer(ctx, p.TenantID, id, tickets.SLA(js[1].Args.SLA), js[1].Args.DueAt, js[1].Args.Level)
		require.NoError(t, err)
		require.True(t, breached)
		require.Len(t, b.timerJobs(t, id), 2, "level 3 is the brand: no further timer")
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
		}{
			"met":       {tickets.StateOnSite, map[string]any{}},
			"moved":     {tickets.StateScheduled, map[string]any{"response_due_at": due.Add(time.Hour)}},
			"cancelled": {tickets.StateCancelled, map[string]any{"response_due_at": due}},
			"closed":    {tickets.StateClosed, map[string]any{"response_due_at": due}},
			"other SLA": {tickets.StateScheduled, map[string]any{"completion_due_at": due}},
		}
		for name, c := range cases {
			id, _ := b.ticket(t, p.TenantID, c.state, c.cols)
			breached, err := svc.CheckTimer(ctx, p.TenantID, id, tickets.SLAResponse, due, 1)
			require.NoError(t, err, name)
			require.False(t, breached, name)
			require.Equal(t, 0, queryInt(t, b, p.TenantID, `SELECT count(*) FROM ticket_sla_breaches WHERE tenant_id = $1 AND ticket_id = $2`, id), name)
			require.Equal(t, 0, queryInt(t, b, p.TenantID, `SELECT escalation_level FROM tickets WHERE tenant_id = $1 AND id = $2`, id), name)
			require.Empty(t, b.timerJobs(t, id), name)
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

func TestTimerChain(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	b := setup(t)
	p := b.tenant(t, "sla-chain", "Asia/Shanghai")
	due := time.Date(2026, 11, 30, 2, 0, 0, 0, time.UTC)
	fc, resp, done := due.Add(time.Hour), due.Add(2*time.Hour), due.Add(3*time.Hour)
	// The response deadline was met (cleared): its check is dropped.
	id, _ := b.ticket(t, p.TenantID, tickets.StateNew, map[string]any{"route_due_at": due, "first_contact_due_at": fc,
		"completion_due_at": done})
	chain := []tickets.Deadline{{SLA: tickets.SLAFirstContact, DueAt: fc}, {SLA: tickets.SLAResponse, DueAt: resp},
		{SLA: tickets.SLACompletion, DueAt: done}}

	// One job for a change's deadlines, the earliest, carrying the others.
	require.NoError(t, pg.InTenantTx(ctx, b.db.App, p.TenantID, func(tx pg.TenantTx) error {
		return jobs.TicketTimerEnqueuer(b.rc)(ctx, tx.Tx, []tickets.Timer{{TenantID: p.TenantID, TicketID: id,
			SLA: tickets.SLARoute, DueAt: due, Level: 1, Then: chain}})
	}))
	js := b.timerJobs(t, id)
	require.Len(t, js, 1)
	require.True(t, js[0].ScheduledAt.Equal(due))
	require.Len(t, js[0].Args.Next, 3)

	// The route deadline breaches (level 2 follows) and the chain moves on
	// to the first contact, scheduled at its deadline, the met response
	// dropped.
	for range 2 { // a rerun inserts nothing more
		_, err := b.service(due.Add(time.Second)).CheckTimerThen(ctx, p.TenantID, id, tickets.SLARoute, due, 1, chain)
		require.NoError(t, err)
	}
	js = b.timerJobs(t, id)
	require.Len(t, js, 3, "%+v", js)
	require.Equal(t, 2, js[1].Args.Level)
	require.Equal(t, "route", js[1].Args.SLA)
	next := js[2]
	require.Equal(t, "first_contact", next.Args.SLA)
	require.Equal(t, 1, next.Args.Level)
	require.True(t, next.ScheduledAt.Equal(fc), "at its deadline: %s", next.ScheduledAt)
	require.Len(t, next.Args.Next, 1)
	require.Equal(t, "completion", next.Args.Next[0].SLA)
	require.True(t, next.Args.Next[0].DueAt.Equal(done))

	// Met meanwhile: nothing breaches, and the chain still reaches the
	// completion deadline; its job ends the chain.
	require.NoError(t, pg.InTenantTx(ctx, b.db.App, p.TenantID, func(tx pg.TenantTx) error {
		_, err := tx.Exec(ctx, `UPDATE tickets SET first_contact_due_at = NULL WHERE tenant_id = $1 AND id = $2`, tx.TenantID, id)
		return err
	}))
	breached, err := b.service(fc).CheckTimerThen(ctx, p.TenantID, id, tickets.SLAFirstContact, fc, 1,
		[]tickets.Deadline{{SLA: tickets.SLACompletion, DueAt: done}})
	require.NoError(t, err)
	require.False(t, breached)
	js = b.timerJobs(t, id)
	require.Len(t, js, 4)
	require.Equal(t, "completion", js[3].Args.SLA)
	require.Empty(t, js[3].Args.Next)
	breached, err = b.service(done).CheckTimerThen(ctx, p.TenantID, id, tickets.SLACompletion, done, 1, nil)
	require.NoError(t, err)
	require.True(t, breached)
	require.Len(t, b.timerJobs(t, id), 5, "the completion's level 2, and no further link")
}

// normalize makes a decoded args' time comparable with ==.
func normalize(a jobs.TicketTimerArgs) jobs.TicketTimerArgs {
	a.DueAt = a.DueAt.UTC()
	return a
}

func TestTicketTimerEnqueuer(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	b := setup(t)
	p := b.tenant(t, "sla-enqueue", "Asia/Shanghai")
	id, _ := b.ticket(t, p.TenantID, tickets.StateNew, nil)
	due := time.Date(2026, 11, 30, 2, 0, 0, 0, time.UTC)
	enqueue := jobs.TicketTimerEnqueuer(b.rc)
	timers := []tickets.Timer{
		{TenantID: p.TenantID, TicketID: id, SLA: tickets.SLARoute, DueAt: due, Level: 1},
		{TenantID: p.TenantID, TicketID: id, SLA: tickets.SLAFirstContact, DueAt: due.Add(time.Hour), Level: 1},
		{TenantID: p.TenantID, TicketID: id, SLA: tickets.SLAResponse, DueAt: due.Add(2 * time.Hour), Level: 2, RunAt: due.Add(3 * time.Hour)},
	}
	for range 2 { // a retried transaction inserts the same timers again
		require.NoError(t, pg.InTenantTx(ctx, b.db.App, p.TenantID, func(tx pg.TenantTx) error { return enqueue(ctx, tx.Tx, timers) }))
	}
	js := b.timerJobs(t, id)
	require.Len(t, js, 3, "unique by args")
	require.True(t, js[0].ScheduledAt.Equal(due))
	require.True(t, js[1].ScheduledAt.Equal(due.Add(time.Hour)))
	require.True(t, js[2].ScheduledAt.Equal(due.Add(3*time.Hour)), "RunAt, not DueAt")
	require.True(t, js[2].Args.DueAt.Equal(due.Add(2*time.Hour)))

	// Rolled back with its transaction.
	other, _ := b.ticket(t, p.TenantID, tickets.StateNew, nil)
	err := pg.InTenantTx(ctx, b.db.App, p.TenantID, func(tx pg.TenantTx) error {
		if err := enqueue(ctx, tx.Tx, []tickets.Timer{{TenantID: p.TenantID, TicketID: other, SLA: tickets.SLARoute, DueAt: due, Level: 1}}); err != nil {
			return err
		}
		return tenants.NotFound("something")
	})
	require.Error(t, err)
	require.Empty(t, b.timerJobs(t, other))
}

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
	require.Equal(t, tenants.CodeInvalid, tenants.ErrorCode(err))
	var te *tenants.Error
	require.ErrorAs(t, err, &te)
	locs := []string{}
	for _, f := range te.Fields {
		locs = append(locs, f.Location)
	}
	require.ElementsMatch(t, []string{"escalation_minutes", "unreachable_close_after"}, locs)

	// The escalation timer follows the policy.
	due := time.Date(2026, 11, 30, 2, 0, 0, 0, time.UTC)
	id, _ := b.ticket(t, p.TenantID, tickets.StateNew, map[string]any{"route_due_at": due})
	_, err = b.service(due).CheckTimer(ctx, p.TenantID, id, tickets.SLARoute, due, 1)
	require.NoError(t, err)
	js := b.timerJobs(t, id)
	require.Len(t, js, 1)
	require.True(t, js[0].ScheduledAt.Equal(due.Add(30*time.Minute)))
}
