package tickets_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/servicenet/servicenet/internal/pg"
	"github.com/servicenet/servicenet/tenants/tickets"
)

// TestRetentionMasksVisitLocations: the retention that masks a closed
// ticket's contact and address at rest masks the product location its
// visit exceptions reported (an address of the customer's) the same way;
// a recent ticket's stays, and so do the other reports.
func TestRetentionMasksVisitLocations(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	b, p, now, svc := retentionSetup(t, "retention-visits")
	old, _ := b.ticket(t, p.TenantID, tickets.StateClosed, map[string]any{"closed_at": now.AddDate(0, 0, -400)})
	recent, _ := b.ticket(t, p.TenantID, tickets.StateClosed, map[string]any{"closed_at": now.AddDate(0, 0, -10)})
	const where = "客户父母家，崂山区海尔路8号"
	exceptions := func(id string) []map[string]any {
		var out []map[string]any
		require.NoError(t, pg.InTenantTx(ctx, b.db.App, p.TenantID, func(tx pg.TenantTx) error {
			rows, err := tx.Query(ctx, `SELECT exception FROM ticket_visits WHERE tenant_id = $1 AND ticket_id = $2 ORDER BY seq`, tx.TenantID, id)
			if err != nil {
				return err
			}
			defer rows.Close()
			for rows.Next() {
				var e map[string]any
				if err := rows.Scan(&e); err != nil {
					return err
				}
				out = append(out, e)
			}
			return rows.Err()
		}))
		return out
	}
	require.NoError(t, pg.InTenantTx(ctx, b.db.App, p.TenantID, func(tx pg.TenantTx) error {
		for _, id := range []string{old, recent} {
			if _, err := tx.Exec(ctx, `INSERT INTO ticket_visits (tenant_id, ticket_id, seq, round, arrived_at, outcome, network_visit, exception, actor)
				VALUES ($1, $2, 1, 0, $3, 'product_elsewhere', false, $4, 'test'),
				       ($1, $2, 2, 0, $3, 'customer_not_home', false, '{"reason": "customer_not_home", "slip_left": true}', 'test')`,
				tx.TenantID, id, now.AddDate(0, 0, -401), map[string]any{"reason": "product_elsewhere", "product_location": where}); err != nil {
				return err
			}
		}
		return nil
	}))
	b.retainDays(t, p.TenantID, 365)

	n, err := svc.ApplyRetention(ctx, p.TenantID, now)
	require.NoError(t, err)
	require.Equal(t, 1, n)
	require.Equal(t, []map[string]any{
		{"reason": "product_elsewhere", "product_location": "客户父母家，崂山区****"},
		{"reason": "customer_not_home", "slip_left": true},
	}, exceptions(old), "closed 400 days ago, retention 365: masked at rest")
	require.Equal(t, where, exceptions(recent)[0]["product_location"], "closed 10 days ago: kept")

	// The audit log keeps no more than the visits: their creations and the
	// masking's own change (its old value the clear one) are masked alike.
	logged := func(id string) string {
		var text string
		require.NoError(t, pg.InTenantTx(ctx, b.db.App, p.TenantID, func(tx pg.TenantTx) error {
			return tx.QueryRow(ctx, `SELECT string_agg(coalesce(created_row::text, '') || changes::text, ' ' ORDER BY id)
				FROM audit_log WHERE tenant_id = $1 AND object_type = 'ticket_visits' AND object_id = $2`, tx.TenantID, id).Scan(&text)
		}))
		return text
	}
	require.NotContains(t, logged(old), "海尔路", "the masked visits' log entries")
	require.Contains(t, logged(old), "客户父母家，崂山区****")
	require.Contains(t, logged(recent), where, "a kept ticket's visits' log is kept")
}
