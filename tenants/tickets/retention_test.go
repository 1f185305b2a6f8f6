package tickets_test

import (
	"context"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"

	"github.com/servicenet/servicenet/internal/pg"
	"github.com/servicenet/servicenet/tenants"
	"github.com/servicenet/servicenet/tenants/tickets"
)

// TestApplyRetention: the tenant's retention_days masks at rest the personal
// data of tickets closed longer ago (and the number in full that a message
// about them kept), leaves recent and open ones alone, and does nothing
// while the policy keeps data.
func TestApplyRetention(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	b := setup(t)
	p := b.tenant(t, "retention", "Asia/Shanghai")
	now := time.Date(2026, 12, 2, 10, 0, 0, 0, time.UTC)
	svc := b.service(now)
	// What the customer and the technician wrote holds numbers and names:
	// masked with the contact (the fault, the notes, the comment).
	old, _ := b.ticket(t, p.TenantID, tickets.StateClosed, map[string]any{"closed_at": now.AddDate(0, 0, -400),
		"diagnosis": `{"cause":"performance","notes":"李四说座机 0532-88886666 也能联系"}`, "rating_comment": "李四: 有事打 13800138000"})
	recent, _ := b.ticket(t, p.TenantID, tickets.StateClosed, map[string]any{"closed_at": now.AddDate(0, 0, -10)})
	open, _ := b.ticket(t, p.TenantID, tickets.StateDispatched, nil)
	// A cancelled ticket ends as a closed one does: nothing reopens it.
	cancelled, _ := b.ticket(t, p.TenantID, tickets.StateCancelled, map[string]any{"cancelled_at": now.AddDate(0, 0, -400)})
	cancelledRecently, _ := b.ticket(t, p.TenantID, tickets.StateCancelled, map[string]any{"cancelled_at": now.AddDate(0, 0, -10)})
	phone := func(id string) string {
		var s string
		require.NoError(t, pg.InTenantTx(ctx, b.db.App, p.TenantID, func(tx pg.TenantTx) error {
			return tx.QueryRow(ctx, `SELECT contact ->> 'phone' FROM tickets WHERE tenant_id = $1 AND id = $2`, tx.TenantID, id).Scan(&s)
		}))
		return s
	}

	// A message about each closed ticket, sent by the tenant itself (no
	// gateway, no expiry): its secret part keeps the number in full.
	secret := func(id string) *string {
		var s *string
		require.NoError(t, pg.InTenantTx(ctx, b.db.App, p.TenantID, func(tx pg.TenantTx) error {
			return tx.QueryRow(ctx, `SELECT secret::text FROM notifications WHERE tenant_id = $1 AND subject_id = $2`, tx.TenantID, id).Scan(&s)
		}))
		return s
	}
	for _, id := range []string{old, recent} {
		require.NoError(t, pg.InTenantTx(ctx, b.db.App, p.TenantID, func(tx pg.TenantTx) error {
			_, err := tx.Exec(ctx, `INSERT INTO notifications (tenant_id, id, channel, purpose, subject_id, recipient, secret, via, status, created_by)
				VALUES ($1, $2, 'sms', 'completed', $3, '***0000', '{"to": "+8613900000000", "text": "维修已完成"}', 'event', 'requested', 'test')`,
				tx.TenantID, tenants.NewID(tenants.PrefixNotification), id)
			return err
		}))
	}

	// The old ticket's address changed once: the log has its creation and
	// a change, both in the clear.
	require.NoError(t, pg.InTenantTx(ctx, b.db.App, p.TenantID, func(tx pg.TenantTx) error {
		_, err := tx.Exec(ctx, `UPDATE tickets SET address = '{"region_code":"370212","line":"香港中路 2 号","latitude":36.06,"longitude":120.38}',
			fault = '{"symptom":"请打 138 0013 8000 找李四的妻子, 2026-11-02 买的"}' WHERE tenant_id = $1 AND id = $2`, tx.TenantID, old)
		return err
	}))
	type entry struct {
		Action  string
		Changes map[string]map[string]any
	}
	// logged is what the audit log shows of a ticket, and its raw text.
	logged := func(id string) ([]entry, string) {
		var es []entry
		var raw string
		require.NoError(t, pg.InTenantTx(ctx, b.db.App, p.TenantID, func(tx pg.TenantTx) error {
			rows, err := tx.Query(ctx, `SELECT action, audit_entry_changes(changes, created_row) FROM audit_log
				WHERE tenant_id = $1 AND object_type = 'tickets' AND object_id = $2 ORDER BY id`, tx.TenantID, id)
			if err != nil {
				return err
			}
			es, err = pgx.CollectRows(rows, pgx.RowToStructByPos[entry])
			if err != nil {
				return err
			}
			return tx.QueryRow(ctx, `SELECT string_agg(coalesce(created_row::text, '') || changes::text, ' ') FROM audit_log
				WHERE tenant_id = $1 AND object_type = 'tickets' AND object_id = $2`, tx.TenantID, id).Scan(&raw)
		}))
		return es, raw
	}
	es, raw := logged(old)
	require.Len(t, es, 2)
	require.Contains(t, raw, "+8613900000000")

	n, err := svc.ApplyRetention(ctx, p.TenantID, now)
	require.NoError(t, err)
	require.Zero(t, n, "no retention_days: data is kept")
	require.Equal(t, "+8613900000000", phone(old))

	require.NoError(t, pg.InTenantTx(ctx, b.db.App, p.TenantID, func(tx pg.TenantTx) error {
		_, err := tx.Exec(ctx, `INSERT INTO privacy_policies (tenant_id, grace_hours, retention_days) VALUES ($1, 24, 365)`, tx.TenantID)
		return err
	}))
	n, err = svc.ApplyRetention(ctx, p.TenantID, now)
	require.NoError(t, err)
	require.Equal(t, 2, n)
	require.Equal(t, "139****0000", phone(old), "closed 400 days ago, retention 365: masked at rest")
	require.Equal(t, "139****0000", phone(cancelled), "cancelled 400 days ago: masked at rest")
	require.Equal(t, "+8613900000000", phone(cancelledRecently), "cancelled 10 days ago: kept")
	require.Equal(t, "+8613900000000", phone(recent), "closed 10 days ago: kept")
	require.Equal(t, "+8613900000000", phone(open), "open: kept")
	require.Nil(t, secret(old), "the message about the masked ticket no longer holds the number")
	var symptom, notes, comment string
	require.NoError(t, pg.InTenantTx(ctx, b.db.App, p.TenantID, func(tx pg.TenantTx) error {
		return tx.QueryRow(ctx, `SELECT fault ->> 'symptom', diagnosis ->> 'notes', rating_comment FROM tickets WHERE tenant_id = $1 AND id = $2`,
			tx.TenantID, old).Scan(&symptom, &notes, &comment)
	}))
	require.Equal(t, "请打 138****8000 找李*的妻子, 2026-11-02 买的", symptom, "the fault stays, not the number nor the name")
	require.Equal(t, "李*说座机 053****6666 也能联系", notes)
	require.Equal(t, "李*: 有事打 138****8000", comment)
	require.NotNil(t, secret(recent), "the message about the kept one still does")

	// The audit log holds no more of the masked ticket than the ticket:
	// its creation, its change and the masking's own change (whose old
	// values were the clear ones) show the masked values.
	es, raw = logged(old)
	for _, s := range []string{"13900000000", "李四", "香港中路", "36.06", "120.38", "0013", "88886666", "13800138000"} {
		require.NotContains(t, raw, s, "left in the audit log of the masked ticket")
	}
	contact := map[string]any{"name": "李*", "phone": "139****0000", "phone_display": "139****0000"}
	masked := map[string]any{"region_code": "370212", "line": "香港****"}
	require.Len(t, es, 3)
	require.Equal(t, "create", es[0].Action)
	require.Equal(t, map[string]any{"old": nil, "new": contact}, es[0].Changes["contact"])
	require.Equal(t, map[string]any{"old": nil, "new": masked}, es[0].Changes["address"])
	require.Equal(t, map[string]any{"old": nil, "new": "closed"}, es[0].Changes["state"], "the rest as recorded")
	fault := map[string]any{"symptom": "请打 138****8000 找李*的妻子, 2026-11-02 买的"}
	require.Equal(t, entry{Action: "update", Changes: map[string]map[string]any{"address": {"old": masked, "new": masked},
		"fault": {"old": map[string]any{"symptom": "no_power"}, "new": fault}}}, es[1])
	require.Equal(t, "update", es[2].Action, "the masking")
	require.Equal(t, map[string]any{"old": contact, "new": contact}, es[2].Changes["contact"])
	require.Equal(t, map[string]any{"old": masked, "new": masked}, es[2].Changes["address"])
	require.Equal(t, map[string]any{"old": fault, "new": fault}, es[2].Changes["fault"])
	require.Equal(t, map[string]any{"old": "李*: 有事打 138****8000", "new": "李*: 有事打 138****8000"}, es[2].Changes["rating_comment"])
	_, raw = logged(recent)
	require.Contains(t, raw, "+8613900000000", "the kept ticket's log is kept")

	n, err = svc.ApplyRetention(ctx, p.TenantID, now)
	require.NoError(t, err)
	require.Zero(t, n, "a masked ticket is not masked again")
}
