package tickets_test

import (
	"context"
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/servicenet/servicenet/internal/pg"
	"github.com/servicenet/servicenet/tenants"
	"github.com/servicenet/servicenet/tenants/tickets"
)

func TestReconcile(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	b := setup(t)
	p := b.tenant(t, "reconcile", "Asia/Shanghai")
	_, nodeA, nodeC := b.nodes(t, p.TenantID)
	sh, err := time.LoadLocation("Asia/Shanghai")
	require.NoError(t, err)
	on := func(day, hour, minute int) time.Time { return time.Date(2026, 11, day, hour, minute, 0, 0, sh) }

	// Completed on 29 November in Shanghai:
	noSignoff, _ := b.ticket(t, p.TenantID, tickets.StateCompleted, map[string]any{"completed_at": on(29, 10, 0), "node_id": nodeA})
	unconfirmed, _ := b.ticket(t, p.TenantID, tickets.StateCompleted, map[string]any{"completed_at": on(29, 23, 30),
		"signed_off_at": on(29, 23, 40), "rating": 5, "node_id": nodeC})
	both, _ := b.ticket(t, p.TenantID, tickets.StateCompleted, map[string]any{"completed_at": on(29, 0, 0), "rating": 3, "node_id": nodeA})
	late, _ := b.ticket(t, p.TenantID, tickets.StateCompleted, map[string]any{"completed_at": on(29, 20, 0),
		"signed_off_at": on(30, 9, 0), "rating": 4, "signed_by_code": true, "node_id": nodeC})
	b.ticket(t, p.TenantID, tickets.StateCompleted, map[string]any{"completed_at": on(29, 12, 0),
		"signed_off_at": on(29, 12, 10), "rating": 4, "signed_by_code": true, "node_id": nodeA})
	// Not that day in Shanghai, although it is in UTC:
	nextDay, _ := b.ticket(t, p.TenantID, tickets.StateCompleted, map[string]any{"completed_at": on(30, 0, 10)})
	b.ticket(t, p.TenantID, tickets.StateCompleted, map[string]any{"completed_at": on(28, 23, 50)})
	b.ticket(t, p.TenantID, tickets.StateOnSite, nil)

	svc := b.service(on(30, 1, 0))
	n, err := svc.Reconcile(ctx, p.TenantID, "2026-11-29")
	require.NoError(t, err)
	require.Equal(t, 5, n)
	n, err = svc.Reconcile(ctx, p.TenantID, "2026-11-29")
	require.NoError(t, err)
	require.Equal(t, 5, n, "a rerun finds the same")
	require.Equal(t, 5, queryInt(t, b, p.TenantID, `SELECT count(*) FROM reconciliation_findings WHERE tenant_id = $1`))

	all, next, err := svc.ListFindings(ctx, p, tickets.FindingFilter{})
	require.NoError(t, err)
	require.Empty(t, next)
	type found struct {
		ticket  string
		problem tickets.Problem
	}
	got := []found{}
	for _, f := range all {
		require.Equal(t, "2026-11-29", f.Day)
		require.NotEmpty(t, f.Number)
		got = append(got, found{f.TicketID, f.Problem})
	}
	require.ElementsMatch(t, []found{
		{noSignoff, tickets.ProblemNoSignoff},
		{unconfirmed, tickets.ProblemRatingNotConfirmed},
		{both, tickets.ProblemNoSignoff}, {both, tickets.ProblemRatingNotConfirmed},
		{late, tickets.ProblemNoSignoff},
	}, got)

	var paged []tickets.Finding
	cursor := ""
	for {
		page, next, err := svc.ListFindings(ctx, p, tickets.FindingFilter{Limit: 2, Cursor: cursor})
		require.NoError(t, err)
		paged = append(paged, page...)
		if next == "" {
			break
		}
		cursor = next
	}
	require.Equal(t, all, paged)

	rating, _, err := svc.ListFindings(ctx, p, tickets.FindingFilter{Problem: "rating_not_confirmed"})
	require.NoError(t, err)
	require.Len(t, rating, 2)
	byNode, _, err := svc.ListFindings(ctx, p, tickets.FindingFilter{NodeID: nodeC})
	require.NoError(t, err)
	require.Len(t, byNode, 2)
	scoped := tenants.Principal{TenantID: p.TenantID, KeyID: "key", Roles: []string{tenants.RoleNodeManager}, NodeID: nodeA}
	mine, _, err := svc.ListFindings(ctx, scoped, tickets.FindingFilter{})
	require.NoError(t, err)
	require.Len(t, mine, 3, "node A's tickets only")
	for _, f := range mine {
		require.Equal(t, nodeA, *f.NodeID)
	}

	// The next day (Shanghai) has the ticket completed after midnight.
	n, err = svc.RunReconciliation(ctx, p, "2026-11-30")
	require.NoError(t, err)
	require.Equal(t, 1, n)
	day30, _, err := svc.ListFindings(ctx, p, tickets.FindingFilter{Day: "2026-11-30"})
	require.NoError(t, err)
	require.Len(t, day30, 1)
	require.Equal(t, nextDay, day30[0].TicketID)
	newest, _, err := svc.ListFindings(ctx, p, tickets.FindingFilter{Limit: 1})
	require.NoError(t, err)
	require.Equal(t, "2026-11-30", newest[0].Day, "newest day first")

	_, err = svc.RunReconciliation(ctx, p, "2026-12-01")
	requireField(t, err, "day")
	_, err = svc.RunReconciliation(ctx, p, "29/11/2026")
	requireField(t, err, "day")
	_, _, err = svc.ListFindings(ctx, p, tickets.FindingFilter{Day: "yesterday"})
	requireField(t, err, "day")
	_, _, err = svc.ListFindings(ctx, p, tickets.FindingFilter{Problem: "late"})
	requireField(t, err, "problem")
}

func TestReconcileYesterdayInTheTenantsZone(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	b := setup(t)
	sh := b.tenant(t, "reconcile-sh", "Asia/Shanghai")
	la := b.tenant(t, "reconcile-la", "America/Los_Angeles")
	utc := func(day, hour, minute int) time.Time { return time.Date(2026, 11, day, hour, minute, 0, 0, time.UTC) }
	// 30 November 01:00 in Shanghai (the 29th in UTC): yesterday at now.
	shIn, _ := b.ticket(t, sh.TenantID, tickets.StateCompleted, map[string]any{"completed_at": utc(29, 17, 0)})
	// 1 December 00:30 in Shanghai: today at now.
	b.ticket(t, sh.TenantID, tickets.StateCompleted, map[string]any{"completed_at": utc(30, 16, 30)})
	// 29 November 23:30 in Los Angeles (the 30th in UTC): yesterday at now.
	laIn, _ := b.ticket(t, la.TenantID, tickets.StateCompleted, map[string]any{"completed_at": utc(30, 7, 30)})
	// 30 November 00:30 in Los Angeles: today at now.
	b.ticket(t, la.TenantID, tickets.StateCompleted, map[string]any{"completed_at": utc(30, 8, 30)})
	now := utc(30, 17, 0) // 1 December 01:00 in Shanghai, 30 November 09:00 in Los Angeles
	svc := b.service(now)

	for _, c := range []struct {
		p      tenants.Principal
		day    string
		ticket string
	}{{sh, "2026-11-30", shIn}, {la, "2026-11-29", laIn}} {
		for range 2 {
			day, n, err := svc.ReconcileYesterday(ctx, c.p.TenantID, now)
			require.NoError(t, err)
			require.Equal(t, c.day, day)
			require.Equal(t, 1, n)
		}
		fs, _, err := svc.ListFindings(ctx, c.p, tickets.FindingFilter{})
		require.NoError(t, err)
		require.Len(t, fs, 1)
		require.Equal(t, c.ticket, fs[0].TicketID)
		require.Equal(t, c.day, fs[0].Day)
		require.Equal(t, tickets.ProblemNoSignoff, fs[0].Problem)
	}
}

// A test clock's tickets have their invoices reconciled on the clock's
// time: every promised day that has ended on the clock, an invoice not
// issued by its end (still outstanding, or issued after it) is one
// invoice_overdue finding of that day; the day the clock stands in is not
// reconciled yet, and tickets off the clock are left to the daily run.
func TestReconcileClockFindsOverdueInvoices(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	b := setup(t)
	p := b.tenant(t, "reconcile-invoices-clock", "Asia/Shanghai")
	sh, err := time.LoadLocation("Asia/Shanghai")
	require.NoError(t, err)
	on := func(day, hour int) time.Time { return time.Date(2026, 12, day, hour, 0, 0, 0, sh) }
	testCtx := pg.WithLivemode(ctx, false)
	clock := tenants.NewID(tenants.PrefixTestClock)
	require.NoError(t, pg.InTenantTx(testCtx, b.db.App, p.TenantID, func(tx pg.TenantTx) error {
		_, err := tx.Exec(testCtx, `INSERT INTO test_clocks (tenant_id, id, name, frozen_time) VALUES ($1, $2, 'invoices', $3)`,
			tx.TenantID, clock, on(5, 10))
		return err
	}))
	invoice := func(n int, promised string, issued *time.Time) map[string]any {
		inv := map[string]any{"title_type": "personal", "title": "李四", "delivery": "later", "promised_on": promised,
			"requested_at": on(1, 11), "requested_by": "test"}
		if issued != nil {
			inv["number"], inv["issued_on"], inv["issued_at"], inv["issued_by"] = "3702", issued.Format(time.DateOnly), *issued, "test"
		}
		return map[string]any{"number": fmt.Sprintf("PR-1-%d", n), "lines": []any{}, "total": map[string]any{"amount": 17000, "currency": "CNY"},
			"invoice": inv}
	}
	onTime, late := on(3, 15), on(5, 9)
	receipts, err := json.Marshal([]any{
		invoice(1, "2026-12-02", nil),     // outstanding past its day: overdue on the 2nd
		invoice(2, "2026-12-03", &onTime), // issued on its day: on time
		invoice(3, "2026-12-04", &late),   // issued the day after: overdue on the 4th
		invoice(4, "2026-12-05", nil),     // the clock's today: not yet
	})
	require.NoError(t, err)
	cols := map[string]any{"completed_at": on(1, 10), "signed_off_at": on(1, 10), "test_clock_id": clock,
		"receipts": string(receipts), "invoice_requested_at": on(1, 11), "invoice_last_issued_at": late}
	onClock, _ := b.ticketIn(t, testCtx, p.TenantID, tickets.StateCompleted, cols)
	delete(cols, "test_clock_id")
	offClock, _ := b.ticketIn(t, testCtx, p.TenantID, tickets.StateCompleted, cols)

	svc := b.service(time.Now())
	for range 2 {
		_, err = svc.ReconcileClock(testCtx, p.TenantID, clock)
		require.NoError(t, err)
	}
	fs, _, err := svc.ListFindings(testCtx, p, tickets.FindingFilter{Problem: string(tickets.ProblemInvoiceOverdue)})
	require.NoError(t, err)
	var days []string
	for _, f := range fs {
		require.Equal(t, onClock, f.TicketID, "the ticket off the clock is left to the daily run (not %s)", offClock)
		days = append(days, f.Day)
	}
	require.Equal(t, []string{"2026-12-04", "2026-12-02"}, days, "newest first, each once")
}
