package payouts

import (
	"context"
	"errors"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/servicenet/servicenet/internal/pg"
	"github.com/servicenet/servicenet/tenants"
	"github.com/servicenet/servicenet/tenants/claims"
	"github.com/servicenet/servicenet/tenants/warranty"
)

// Compensation is what a plan contract owes the customer for one repair
// (rule 7's satisfaction compensation): whom, how much, from which day
// and which ticket or claim the repair came through.
type Compensation struct {
	UnitID     string
	ContractID string
	// TicketID is the ticket whose repair owes it; ClaimID the claim that
	// does. Either may be empty, not both.
	TicketID string
	ClaimID  string
	Amount   tenants.Money
	Reason   string
	// RepairedOn is the repair's date (YYYY-MM-DD, tenant's zone): the
	// business days count from it.
	RepairedOn string
	// TestClockID is the test clock of the ticket or claim (NewPayout).
	TestClockID *string
}

// ScheduleCompensation schedules, in the caller's transaction, the
// compensation contract c.ContractID owes for one repair, due the plan's
// business days (default 5) after the repair in the tenant's zone and
// holiday calendar, with its deadline job and event. A repair owes it once:
// when the contract already owes a payout for the same ticket or the same
// claim (a ticket completed again after a reopen, a retry), or, where one
// of the two names no ticket, for a repair on the same day (a claim filed
// for a repair the network completed), nothing is scheduled and the
// existing payout is returned with created false. Two tickets are two
// repairs, on one day too: each owes its own. Concurrent calls for one
// contract queue on a transaction lock.
func (s *Service) ScheduleCompensation(ctx context.Context, tx pg.TenantTx, actor string, c Compensation) (p Payout, created bool, err error) {
	if c.ContractID == "" {
		return Payout{}, false, errors.New("payouts: a compensation needs its contract")
	}
	on, err := time.Parse(time.DateOnly, c.RepairedOn)
	if err != nil {
		return Payout{}, false, errors.New("payouts: a compensation needs the repair date")
	}
	if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock(hashtextextended('payouts.compensation:' || $1 || ':' || $2, 0))`,
		tx.TenantID, c.ContractID); err != nil {
		return Payout{}, false, err
	}
	var id string
	err = tx.QueryRow(ctx, `
		SELECT p.id FROM payouts p
		WHERE p.tenant_id = $1 AND p.contract_id = $2
		  AND ((p.counted_from = $3::date AND ($4 = '' OR p.ticket_id IS NULL)) OR ($4 <> '' AND p.ticket_id = $4) OR ($5 <> '' AND p.claim_id = $5))
		ORDER BY p.id LIMIT 1`, tx.TenantID, c.ContractID, on, c.TicketID, c.ClaimID).Scan(&id)
	switch {
	case err == nil:
		p, err = getPayout(ctx, tx, scope{}, id, "")
		return p, false, err
	case !errors.Is(err, pgx.ErrNoRows):
		return Payout{}, false, err
	}
	st, err := tx.Settings(ctx)
	if err != nil {
		return Payout{}, false, err
	}
	days, err := planBusinessDays(ctx, tx, c.UnitID, c.ContractID)
	if err != nil {
		return Payout{}, false, err
	}
	p, err = s.insert(ctx, tx, actor, st, c.UnitID, NewPayout{UnitID: c.UnitID, ClaimID: c.ClaimID, ContractID: c.ContractID,
		Amount: c.Amount, Reason: c.Reason, BusinessDays: days, TestClockID: c.TestClockID}, on, c.TicketID)
	return p, err == nil, err
}

// planBusinessDays is the payout deadline of the unit's contract's plan
// (default 5).
func planBusinessDays(ctx context.Context, tx pg.TenantTx, unitID, contractID string) (int, error) {
	contracts, err := warranty.UnitContracts(ctx, tx, unitID)
	if err != nil {
		return 0, err
	}
	for _, k := range contracts {
		if k.ID == contractID && k.Plan.PayoutBusinessDays != nil {
			return *k.Plan.PayoutBusinessDays, nil
		}
	}
	return DefaultBusinessDays, nil
}

// ForApprovedClaim schedules the compensation an approved claim owes, in the
// claim's approval transaction: due its plan's business days (default 5)
// after the repair, in the tenant's zone and holiday calendar. A claim the
// engine owes no compensation for schedules nothing, and neither does a
// claim for a repair whose compensation is already owed (the ticket it
// names completed under the plan, or, naming none, a repair of the
// contract on the same day): see ScheduleCompensation. It is wired as claims.Deps.OnApproved.
func (s *Service) ForApprovedClaim(ctx context.Context, tx pg.TenantTx, c claims.Claim) error {
	if c.Decision == nil || c.Decision.Compensation == nil || c.Decision.ContractID == "" {
		return nil
	}
	comp := c.Decision.Compensation
	_, _, err := s.ScheduleCompensation(ctx, tx, "claims", Compensation{UnitID: c.UnitID, ContractID: c.Decision.ContractID,
		TicketID: deref(c.TicketID), ClaimID: c.ID, Amount: comp.Amount, Reason: comp.Reason, RepairedOn: c.OccurredOn,
		TestClockID: c.TestClockID})
	return err
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}
