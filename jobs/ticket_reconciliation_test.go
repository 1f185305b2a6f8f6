package jobs_test

import (
	"context"
	"testing"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"
	"github.com/stretchr/testify/require"

	"github.com/servicenet/servicenet/internal/pg"
	"github.com/servicenet/servicenet/jobs"
)

func TestTicketReconciliationJob(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	b := setupContracts(t)
	sh := b.tenant(t, "recon-shanghai", "Asia/Shanghai")
	la := b.tenant(t, "recon-los-angeles", "America/Los_Angeles")
	susp := b.tenant(t, "recon-suspended", "Asia/Shanghai")
	utc := func(day, hour int) time.Time { return time.Date(2026, 11, day, hour, 0, 0, 0, time.UTC) }
	// Completed, never signed off, both on 30 November local time: 01:00 in
	// Shanghai (the 29th in UTC), 01:00 in Los Angeles.
	shT := b.ticketRow(t, sh.TenantID, "completed", "completed_at", utc(29, 17))
	laT := b.ticketRow(t, la.TenantID, "completed", "completed_at", utc(30, 9))
	b.ticketRow(t, susp.TenantID, "completed", "completed_at", utc(29, 17))
	_, err := b.db.Owner.Exec(ctx, `UPDATE tenants SET status = 'suspended' WHERE id = $1`, susp.TenantID)
	require.NoError(t, err)
	// Its invoice, asked for at the completion, was promised for the same
	// day (Shanghai) and is still outstanding.
	require.NoError(t, pg.InTenantTx(ctx, b.db.App, sh.TenantID, func(tx pg.TenantTx) error {
		_, err := tx.Exec(ctx, `UPDATE tickets SET invoice_requested_at = $3, receipts = jsonb_build_array(jsonb_build_object(
			'number', 'PR-1', 'lines', '[]'::jsonb, 'total', '{"amount": 17000, "currency": "CNY"}'::jsonb,
			'invoice', jsonb_build_object('title_type', 'company', 'title', '青岛海尔路科技有限公司', 'delivery', 'later',
				'promised_on', '2026-11-30', 'requested_at', $3::timestamptz, 'requested_by', 'test')))
			WHERE tenant_id = $1 AND id = $2`, tx.TenantID, shT, utc(29, 17))
		return err
	}))
	overdue := func(tenantID, ticketID string) int {
		return b.count(t, tenantID, `SELECT count(*) FROM reconciliation_findings WHERE tenant_id = $1 AND ticket_id = $2 AND problem = 'invoice_overdue' AND day = '2026-11-30'`, ticketID)
	}

	findings := func(tenantID, ticketID string) int {
		return b.count(t, tenantID, `SELECT count(*) FROM reconciliation_findings WHERE tenant_id = $1 AND ticket_id = $2 AND problem = 'no_signoff'`, ticketID)
	}
	work := func(now time.Time) {
		w := &jobs.TicketReconciliationWorker{Tenants: b.idn, Tickets: newTickets(t, b.db.App), Now: func() time.Time { return now }}
		require.NoError(t, w.Work(ctx, &river.Job[jobs.TicketReconciliationArgs]{JobRow: &rivertype.JobRow{}}))
	}

	// 30 November 20:00 UTC: 1 December in Shanghai (yesterday the 30th), 30 November in Los Angeles (yesterday the 29th).
	work(utc(30, 20))
	require.Equal(t, 1, findings(sh.TenantID, shT))
	require.Equal(t, 1, overdue(sh.TenantID, shT), "the invoice was not issued by the end of the 30th")
	require.Equal(t, 0, findings(la.TenantID, laT), "still the 30th in Los Angeles")
	work(utc(30, 21))
	require.Equal(t, 1, findings(sh.TenantID, shT), "reruns are no-ops")
	require.Equal(t, 1, overdue(sh.TenantID, shT))
	require.Equal(t, 2, b.count(t, sh.TenantID, `SELECT count(*) FROM reconciliation_findings WHERE tenant_id = $1`))
	// 1 December 09:00 UTC: 1 December 01:00 in Los Angeles.
	work(time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC))
	require.Equal(t, 1, findings(la.TenantID, laT))
	require.Equal(t, 0, b.count(t, susp.TenantID, `SELECT count(*) FROM reconciliation_findings WHERE tenant_id = $1`), "suspended tenants are skipped")
}
