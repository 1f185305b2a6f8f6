package payouts

import (
	"context"

	"github.com/servicenet/servicenet/internal/pg"
	"github.com/servicenet/servicenet/tenants"
	"github.com/servicenet/servicenet/tenants/customers"
)

// CompensateDamage schedules, in the caller's transaction, the payout to
// the customer that compensates property a service visit damaged, at the
// value the center assessed (an upheld property_damage complaint; seed
// 000: 给用户家损坏东西应照价赔偿). The brand pays it: it names no claim and
// no plan contract (no payer below the brand exists to charge the node
// back). It names ticketID, the visit's ticket, and is due
// DefaultBusinessDays business days from today in the tenant's zone.
// source names what established the debt (a complaint id) and goes on the
// payout.scheduled event as actor. The unit is read whoever sold it (a
// system read). The caller guarantees it runs once per complaint.
func (s *Service) CompensateDamage(ctx context.Context, tx pg.TenantTx, unitID, ticketID string, amount tenants.Money, reason, source string) (Payout, error) {
	u, err := customers.LoadUnitSystemTx(ctx, tx, unitID)
	return s.schedule(ctx, tx, source, NewPayout{UnitID: unitID, Amount: amount, Reason: reason,
		BusinessDays: DefaultBusinessDays, Payer: PayerBrand, TicketID: ticketID}, u, err)
}
