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

// VisitedTx reports, inside the caller's transaction, whether the network
// was ever in the customer's home or held the customer's goods on ticket
// id: a check-in recorded on its timeline (in any round, even a visit a
// power cut then ended; the only way on site), or a carry-in or a
// return's pickup (both from on site, kept for the record). A visit that
// never checked in (customer not home, entry refused at the door) is not
// one. Damage the service did to the customer's property presupposes it.
// An unknown ticket is not visited.
func VisitedTx(ctx context.Context, tx pg.TenantTx, id string) (bool, error) {
	var visited bool
	err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM ticket_timeline WHERE tenant_id = $1 AND ticket_id = $2 AND action = $3)
		OR EXISTS (SELECT 1 FROM tickets WHERE tenant_id = $1 AND id = $2 AND (carry_in IS NOT NULL OR service ? 'pickup'))`,
		tx.TenantID, id, string(ActCheckIn)).Scan(&visited)
	return visited, err
}
