package tickets_test

import (
	"context"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"

	"github.com/servicenet/servicenet/internal/pg"
	"github.com/servicenet/servicenet/tenants"
	"github.com/servicenet/servicenet/tenants/customers"
	"github.com/servicenet/servicenet/tenants/tickets"
	"github.com/servicenet/servicenet/tenants/warranty"
)

// retentionSetup is a retention test's tenant (slug, in Shanghai) on a
// database of its own, and a tickets service whose clock stands at now, a
// fixed day: a ticket closed 400 days before it is past a policy of 365
// days (retainDays), one closed 10 days before is not.
func retentionSetup(t *testing.T, slug string) (b *bundle, p tenants.Principal, now time.Time, svc *tickets.Service) {
	t.Helper()
	b = setup(t)
	p = b.tenant(t, slug, "Asia/Shanghai")
	now = time.Date(2026, 12, 2, 10, 0, 0, 0, time.UTC)
	return b, p, now, b.service(now)
}

// retainDays gives the tenant the privacy policy that keeps the personal
// data of tickets ended more than days ago masked at rest (a grace period
// of 24 hours).
func (b *bundle) retainDays(t *testing.T, tenantID string, days int) {
	t.Helper()
	ctx := context.Background()
	require.NoError(t, pg.InTenantTx(ctx, b.db.App, tenantID, func(tx pg.TenantTx) error {
		_, err := tx.Exec(ctx, `INSERT INTO privacy_policies (tenant_id, grace_hours, retention_days) VALUES ($1, 24, $2)`, tx.TenantID, days)
		return err
	}))
}

// TestApplyRetention: the tenant's retention_days masks at rest the personal
// data of tickets closed longer ago (and the number in full that a message
// about them kept), leaves recent and open ones alone, and does nothing
// while the policy keeps data.
func TestApplyRetention(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	b, p, now, svc := retentionSetup(t, "retention")
	// What the customer and the technician wrote holds numbers and names:
	// masked with the contact (the fault, the notes, the comment).
	// A personal invoice mailed to another address of the customer's is
	// masked with them (its title as the contact's name).
	old, _ := b.ticket(t, p.TenantID, tickets.StateClosed, map[string]any{"closed_at": now.AddDate(0, 0, -400),
		"diagnosis": `{"cause":"performance","notes":"李四说座机 0532-88886666 也能联系"}`, "rating_comment": "李四: 有事打 13800138000",
		"receipts": `[{"number":"PR-SN-20261129-00001-1","lines":[],"total":{"amount":17000,"currency":"CNY"},"invoice":{"title_type":"personal","title":"李四","delivery":"mail","address":{"region_code":"370212","line":"香港中路 3 号","latitude":36.06,"longitude":120.38},"requested_at":"2026-11-29T10:00:00Z","requested_by":"test"}}]`})
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

	b.retainDays(t, p.TenantID, 365)
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
	var invoice map[string]any
	require.NoError(t, pg.InTenantTx(ctx, b.db.App, p.TenantID, func(tx pg.TenantTx) error {
		return tx.QueryRow(ctx, `SELECT receipts -> 0 -> 'invoice' FROM tickets WHERE tenant_id = $1 AND id = $2`, tx.TenantID, old).Scan(&invoice)
	}))
	require.Equal(t, "李*", invoice["title"], "a person's invoice title is masked as the contact's name")
	require.Equal(t, map[string]any{"region_code": "370212", "line": "香港****"}, invoice["address"], "the mailing address as the service address")
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

// TestRetentionMasksFreeTextsMaskedBefore: a ticket the retention masked
// before it masked free texts (76dd5d6) kept its symptom in the clear, and
// its audit log its contact (before 070): migration 084 marks it, the next
// retention run masks its texts with its customer's name and their copies
// in the log, and a second run changes nothing.
func TestRetentionMasksFreeTextsMaskedBefore(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	b, p, now, svc := retentionSetup(t, "retention-left")
	const symptom = "钱七白天不在, 请打 138-0013-8000 找他妻子"
	old, _ := b.ticket(t, p.TenantID, tickets.StateClosed, map[string]any{"closed_at": now.AddDate(0, 0, -400),
		"rating_comment": "钱七: 有事打 0532 88886666"})
	// Masked the old way too, with nothing in its texts to mask.
	plain, _ := b.ticket(t, p.TenantID, tickets.StateClosed, map[string]any{"closed_at": now.AddDate(0, 0, -400)})
	// Open: never masked, never marked.
	open, _ := b.ticket(t, p.TenantID, tickets.StateDispatched, nil)
	require.NoError(t, pg.InTenantTx(ctx, b.db.App, p.TenantID, func(tx pg.TenantTx) error {
		if _, err := tx.Exec(ctx, `UPDATE tickets SET contact = '{"name":"钱七","phone":"+8613955550101"}',
			address = '{"region_code":"370212","line":"人民路 9 号 1 单元 101"}', fault = jsonb_build_object('symptom', $3::text)
			WHERE tenant_id = $1 AND id = ANY ($2)`, tx.TenantID, []string{old, open}, symptom); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `UPDATE customers c SET name = '钱七', updated_at = now() - interval '5 years' FROM tickets t
			WHERE c.tenant_id = $1 AND t.tenant_id = $1 AND t.id = $2 AND c.id = t.customer_id`, tx.TenantID, old); err != nil {
			return err
		}
		// What the retention did before 76dd5d6 (and before 070 in the
		// log): the contact and address masked, the rest as written.
		_, err := tx.Exec(ctx, `UPDATE tickets t SET contact = jsonb_build_object('name', left(t.contact ->> 'name', 1) || '*', 'phone', '139****0101'),
			address = jsonb_build_object('region_code', '370212', 'line', '人民****'), version = version + 1
			WHERE t.tenant_id = $1 AND t.id = ANY ($2)`, tx.TenantID, []string{old, plain})
		return err
	}))
	migration, err := pg.MigrationFiles.ReadFile("migrations/084_tickets_unmasked_free_text.sql")
	require.NoError(t, err)
	_, err = b.db.Owner.Exec(ctx, string(migration))
	require.NoError(t, err, "084 marks them (it is idempotent)")
	b.retainDays(t, p.TenantID, 365)

	type state struct {
		Symptom, Comment string
		Version          int
		Marked           *bool
		Entries          int
		Log              string
	}
	read := func(id string) state {
		var s state
		require.NoError(t, pg.InTenantTx(ctx, b.db.App, p.TenantID, func(tx pg.TenantTx) error {
			return tx.QueryRow(ctx, `SELECT t.fault ->> 'symptom', coalesce(t.rating_comment, ''), t.version, t.unmasked_free_text,
					(SELECT count(*) FROM audit_log a WHERE a.tenant_id = t.tenant_id AND a.object_type = 'tickets' AND a.object_id = t.id),
					(SELECT string_agg(coalesce(a.created_row::text, '') || a.changes::text, ' ') FROM audit_log a
					  WHERE a.tenant_id = t.tenant_id AND a.object_type = 'tickets' AND a.object_id = t.id)
				FROM tickets t WHERE t.tenant_id = $1 AND t.id = $2`, tx.TenantID, id).
				Scan(&s.Symptom, &s.Comment, &s.Version, &s.Marked, &s.Entries, &s.Log)
		}))
		return s
	}
	before := read(old)
	require.Equal(t, symptom, before.Symptom)
	require.Equal(t, ptr(true), before.Marked)
	require.Contains(t, before.Log, "13955550101", "the old masking left the log in the clear")
	require.Nil(t, read(open).Marked, "an open ticket is not marked")
	plainBefore := read(plain)
	require.Equal(t, ptr(true), plainBefore.Marked)

	// The customers' retention keeps 钱七 in the clear while its ticket's
	// texts wait for the name, then masks it.
	cus, err := customers.NewService(b.db.App, customers.Deps{Jobs: tickets.ServedTx, PurchaseDateMoved: warranty.RedateUnitContractsTx})
	require.NoError(t, err)
	customerName := func() string {
		var s string
		require.NoError(t, pg.InTenantTx(ctx, b.db.App, p.TenantID, func(tx pg.TenantTx) error {
			return tx.QueryRow(ctx, `SELECT c.name FROM customers c JOIN tickets t ON t.tenant_id = c.tenant_id AND t.customer_id = c.id
				WHERE c.tenant_id = $1 AND t.id = $2`, tx.TenantID, old).Scan(&s)
		}))
		return s
	}
	n, err := cus.ApplyRetention(ctx, p.TenantID, now)
	require.NoError(t, err)
	require.Zero(t, n)
	require.Equal(t, "钱七", customerName(), "kept while its ticket is marked")

	n, err = svc.ApplyRetention(ctx, p.TenantID, now)
	require.NoError(t, err)
	require.Equal(t, 2, n, "the two marked tickets; nothing newly past retention")
	after := read(old)
	require.Equal(t, "钱*白天不在, 请打 138****8000 找他妻子", after.Symptom, "its customer's name and the number masked")
	require.Equal(t, "钱*: 有事打 053****6666", after.Comment)
	require.Equal(t, before.Version+1, after.Version)
	require.Nil(t, after.Marked)
	for _, s := range []string{"钱七", "0013", "13800138000", "88886666", "13955550101", "人民路"} {
		require.NotContains(t, after.Log, s, "left in the audit log of the masked ticket")
	}
	require.Contains(t, after.Log, "钱*白天不在, 请打 138****8000 找他妻子")
	require.Equal(t, before.Entries+1, after.Entries, "the masking of the texts is recorded, masked")
	p0 := read(plain)
	require.Equal(t, "no_power", p0.Symptom)
	require.Nil(t, p0.Marked)
	require.Equal(t, plainBefore.Version, p0.Version, "nothing to mask in its texts: not written")
	require.Equal(t, plainBefore.Entries, p0.Entries)
	require.NotContains(t, p0.Log, "13900000000", "its log masked too")
	require.Equal(t, symptom, read(open).Symptom, "open: kept")

	n, err = cus.ApplyRetention(ctx, p.TenantID, now)
	require.NoError(t, err)
	require.Equal(t, 1, n)
	require.Equal(t, "钱*", customerName(), "masked once its ticket is")

	n, err = svc.ApplyRetention(ctx, p.TenantID, now)
	require.NoError(t, err)
	require.Zero(t, n, "a second run masks nothing")
	require.Equal(t, after, read(old))
	require.Equal(t, p0, read(plain))
}
