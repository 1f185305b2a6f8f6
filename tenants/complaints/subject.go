package complaints

import (
	"context"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/servicenet/servicenet/internal/pg"
)

// OfCustomerTx returns, inside the caller's transaction, every complaint of
// the customer or about its tickets (a data-subject export; no scope: the
// caller decided).
func OfCustomerTx(ctx context.Context, tx pg.TenantTx, customerID string, ticketIDs []string, now time.Time) ([]Complaint, error) {
	rows, err := tx.Query(ctx, `SELECT `+complaintColumns+` FROM complaints c
		WHERE c.tenant_id = $1 AND (c.customer_id = $2 OR c.ticket_id = ANY ($3)) ORDER BY c.id`, tx.TenantID, customerID, ticketIDs)
	if err != nil {
		return nil, err
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (Complaint, error) { return scanComplaint(r, now) })
	if out == nil {
		out = []Complaint{}
	}
	return out, err
}
