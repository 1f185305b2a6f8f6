package tickets

import (
	"context"
	"errors"

	"github.com/jackc/pgx/v5"

	"github.com/servicenet/servicenet/internal/pg"
	"github.com/servicenet/servicenet/tenants/claims"
)

// UnitTicketStateTx reads, inside the caller's transaction, what a claim
// needs of ticket id if it is a ticket of unit unitID (its state, its
// number, the reference of the repair its completion records in the
// unit's history, when what it served was reported: reportedAtSQL, the
// node that served it, and what the centre's reductions its completion
// applied moved to the brand: reducedForClaims), in one statement;
// found is false otherwise. No scope applies: the caller has already read
// the unit in its own. The claims context gets it as
// claims.Deps.TicketState (it cannot import this package, which imports
// it).
func UnitTicketStateTx(ctx context.Context, tx pg.TenantTx, id, unitID string) (t claims.Ticket, found bool, err error) {
	return unitTicketTx(ctx, tx, "t.id", id, unitID)
}

// UnitTicketByNumberTx is UnitTicketStateTx for the ticket of unit unitID
// numbered number (the ticket a service record's reference names:
// customers.TicketReference). The claims context gets it as
// claims.Deps.TicketByNumber.
func UnitTicketByNumberTx(ctx context.Context, tx pg.TenantTx, number, unitID string) (t claims.Ticket, found bool, err error) {
	return unitTicketTx(ctx, tx, "t.number", number, unitID)
}

// unitTicketTx reads the ticket of unitID whose column by (t.id or
// t.number) is key.
func unitTicketTx(ctx context.Context, tx pg.TenantTx, by, key, unitID string) (t claims.Ticket, found bool, err error) {
	var applied []ChargeReduction
	err = tx.QueryRow(ctx, `SELECT t.id, t.state, t.number, `+reportedAtSQL+`, coalesce(t.node_id, ''),
		coalesce(t.completion->'reductions', '[]') FROM tickets t
		WHERE t.tenant_id = $1 AND `+by+` = $2 AND t.unit_id = $3`,
		tx.TenantID, key, unitID).Scan(&t.ID, &t.State, &t.Number, &t.ReportedAt, &t.NodeID, &applied)
	if errors.Is(err, pgx.ErrNoRows) {
		return claims.Ticket{}, false, nil
	}
	t.Reduced = reducedForClaims(applied)
	return t, err == nil, err
}

// reducedForClaims is what the reductions a completion applied (its
// reductions) moved to the brand that the brand owes the node, by line,
// in the lines' order: those the completion applied when it completed
// (approved before it), which the customer never paid the node. One
// approved after it was refunded to the customer by the brand
// (RefundPayoutID): the node kept what it had collected. The service
// promises' waivers are no reductions: the network's failure, which it
// bears.
func reducedForClaims(applied []ChargeReduction) []claims.ReducedLine {
	var out []claims.ReducedLine
	for _, r := range applied {
		if r.AppliedAt == nil || r.RefundPayoutID != nil {
			continue
		}
		for _, l := range r.Taken {
			out = append(out, claims.ReducedLine{Kind: l.Kind, PartNumber: l.Code, Amount: l.Amount})
		}
	}
	return out
}

// TicketClockTx reads, inside the caller's transaction, the test clock
// ticket id is on (nil: none, or no such ticket); no scope applies. The
// claims context gets it as claims.Deps.TicketClock: a claim naming a
// ticket on a clock lives on that clock.
func TicketClockTx(ctx context.Context, tx pg.TenantTx, id string) (*string, error) {
	var clock *string
	err := tx.QueryRow(ctx, `SELECT test_clock_id FROM tickets WHERE tenant_id = $1 AND id = $2`, tx.TenantID, id).Scan(&clock)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, nil
	}
	return clock, err
}
