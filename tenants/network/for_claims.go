package network

import "github.com/jackc/pgx/v5"

// QueueNodeExists queues on b whether id is one of the tenant's nodes, into
// found: the read of NodeNamesTx for one node, in the caller's round trip.
func QueueNodeExists(b *pgx.Batch, tenantID, id string, found *bool) {
	*found = false
	b.Queue(`SELECT EXISTS (SELECT FROM nodes WHERE tenant_id = $1 AND id = $2)`, tenantID, id).
		QueryRow(func(row pgx.Row) error { return row.Scan(found) })
}
