package warranty

import (
	"context"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/servicenet/servicenet/internal/pg"
	"github.com/servicenet/servicenet/tenants/customers"
)

// DecideSystemTx is DecideTx for the brand itself, whoever asked: the unit
// is read with the tenant's whole view (customers.QueueLoadUnitSystem). A
// service ticket decides so once the ticket itself is in the caller's
// scope; an absent unit is not_found.
func DecideSystemTx(ctx context.Context, tx pg.TenantTx, req DecideRequest, now time.Time) (Entitlement, error) {
	r, err := loadSystemRecords(ctx, tx, req.UnitID)
	if err != nil {
		return Entitlement{}, err
	}
	return decideOn(ctx, tx, req, r, now)
}

// loadSystemRecords is LoadUnitRecords with the tenant's whole view.
func loadSystemRecords(ctx context.Context, tx pg.TenantTx, unitID string) (UnitRecords, error) {
	return loadUnitRecords(ctx, tx, unitID, func(b *pgx.Batch, u *customers.Unit) {
		customers.QueueLoadUnitSystem(b, tx.TenantID, unitID, u)
	})
}

// DecideReportedTx is DecideSystemTx for a repair or service the customer
// reported at reported: the unit's warranty, plans and earlier repairs are
// judged on that day in the tenant's zone, or on the
// purchase date when the unit was registered as bought after it (a unit
// identified later on the ticket). What the customer is entitled to is
// settled when the fault is reported, not when the network gets round to
// it: a warranty or a repeat-repair year that ends while the ticket waits
// for a visit or a part still covers it, and a plan bought after the report
// does not (as a return is judged on the day the customer asked).
func DecideReportedTx(ctx context.Context, tx pg.TenantTx, req DecideRequest, reported, now time.Time) (Entitlement, error) {
	r, err := loadSystemRecords(ctx, tx, req.UnitID)
	if err != nil {
		return Entitlement{}, err
	}
	req.On = max(r.Settings.Today(reported), r.Unit.PurchaseDate)
	if req.On > r.Settings.Today(now) {
		// Bought after the service day itself: not a future decision (422
		// at a field "on" the caller never sent) but a service before the
		// purchase, which the engine refuses at the day served ("date").
		req.On = ""
	}
	return decideOn(ctx, tx, req, r, now)
}
