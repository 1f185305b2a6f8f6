package payouts

import (
	"context"

	"github.com/servicenet/servicenet/internal/pg"
	"github.com/servicenet/servicenet/tenants"
	"github.com/servicenet/servicenet/tenants/claims"
	"github.com/servicenet/servicenet/tenants/warranty"
)

// ForApprovedClaim schedules the compensation an approved claim owes, in the
// claim's approval transaction: due its plan's business days (default 5)
// after the repair, in the tenant's zone and holiday calendar. A claim the
// engine owes no compensation for schedules nothing. It is wired as
// claims.Deps.OnApproved.
func (s *Service) ForApprovedClaim(ctx context.Context, tx pg.TenantTx, c claims.Claim) error {
	if c.Decision == nil || c.Decision.Compensation == nil {
		return nil
	}
	comp := c.Decision.Compensation
	days := DefaultBusinessDays
	if c.Decision.ContractID != "" {
		contracts, err := warranty.UnitContracts(ctx, tx, c.UnitID)
		if err != nil {
			return err
		}
		for _, k := range contracts {
			if k.ID == c.Decision.ContractID && k.Plan.PayoutBusinessDays != nil {
				days = *k.Plan.PayoutBusinessDays
			}
		}
	}
	_, err := s.SchedulePayout(ctx, tx, tenants.Principal{TenantID: tx.TenantID, KeyID: "claims"}, NewPayout{
		UnitID: c.UnitID, ClaimID: c.ID, ContractID: c.Decision.ContractID, Amount: comp.Amount, Reason: comp.Reason,
		From: c.OccurredOn, BusinessDays: days})
	return err
}
