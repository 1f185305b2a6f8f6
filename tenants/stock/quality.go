package stock

import (
	"context"

	"github.com/servicenet/servicenet/internal/pg"
)

// PartsUsedTx sums, per ticket, the parts fitted (used) through its
// requisition, for the tickets ids (absent: none used).
func PartsUsedTx(ctx context.Context, tx pg.TenantTx, ticketIDs []string) (map[string]int64, error) {
	rows, err := tx.Query(ctx, `SELECT ticket_id, sum(used) FROM ticket_parts
		WHERE tenant_id = $1 AND ticket_id = ANY($2) GROUP BY ticket_id`, tx.TenantID, ticketIDs)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[string]int64{}
	for rows.Next() {
		var id string
		var n int64
		if err := rows.Scan(&id, &n); err != nil {
			return nil, err
		}
		out[id] = n
	}
	return out, rows.Err()
}
