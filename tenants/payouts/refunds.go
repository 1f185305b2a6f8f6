package payouts

import (
	"context"

	"github.com/servicenet/servicenet/internal/pg"
	"github.com/servicenet/servicenet/tenants"
	"github.com/servicenet/servicenet/tenants/customers"
)

// RefundWaivedCharge schedules, in the caller's transaction, the refund to
// the customer of a service charge that a service promise waived after the
// customer had paid it (an upheld complaint: licence not shown, charges
// beyond the price list, a serious conduct breach), or that the centre
// reduced after it (tickets.ReduceCharges). The brand pays it: it
// names no claim and no plan contract. It is due DefaultBusinessDays
// business days from today in the tenant's zone. source names what
// established the waiver (a complaint id) and goes on the payout.scheduled
// event as actor. The unit is read whoever sold it (a system read: the
// waiver established the debt). The caller guarantees it runs once per
// waiver. clock is the test clock of the ticket whose charge it refunds
// (nil for none): the refund lives on it (NewPayout.TestClockID). It
// returns the payout's id; its shape is the refund the tickets and
// complaints contexts take (tickets.RefundFunc).
func (s *Service) RefundWaivedCharge(ctx context.Context, tx pg.TenantTx, unitID string, clock *string, amount tenants.Money, reason, source string) (string, error) {
	u, err := customers.LoadUnitSystemTx(ctx, tx, unitID)
	o, err := s.schedule(ctx, tx, source, NewPayout{UnitID: unitID, Amount: amount, Reason: reason, BusinessDays: DefaultBusinessDays,
		TestClockID: clock}, u, err)
	return o.ID, err
}
