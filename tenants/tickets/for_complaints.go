package tickets

import (
	"context"
	"errors"

	"github.com/jackc/pgx/v5"

	"github.com/servicenet/servicenet/internal/pg"
	"github.com/servicenet/servicenet/tenants"
)

// Parties are who a ticket involves: its node and technician (once
// dispatched), the storefront that sold the unit and the customer.
type Parties struct {
	NodeID, TechnicianID, StorefrontID, CustomerID *string
	// UnitID is the ticket's unit (a payout to its customer names it).
	UnitID *string
	// TestClockID is the test clock the ticket lives on (a payout it owes
	// lives on it too).
	TestClockID *string
}

// PartiesTx reads, inside the caller's transaction, who ticket id
// involves, whatever the caller's scope (a complaint is filed against
// them); found is false for an unknown or malformed id.
func PartiesTx(ctx context.Context, tx pg.TenantTx, id string) (p Parties, found bool, err error) {
	if !tenants.ValidID(tenants.PrefixTicket, id) {
		return Parties{}, false, nil
	}
	err = tx.QueryRow(ctx, `SELECT node_id, technician_id, storefront_id, customer_id, unit_id, test_clock_id FROM tickets
		WHERE tenant_id = $1 AND id = $2`, tx.TenantID, id).Scan(&p.NodeID, &p.TechnicianID, &p.StorefrontID, &p.CustomerID, &p.UnitID,
		&p.TestClockID)
	if errors.Is(err, pgx.ErrNoRows) {
		return Parties{}, false, nil
	}
	return p, err == nil, err
}
