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
	r, err := loadUnitRecords(ctx, tx, req.UnitID, func(b *pgx.Batch, u *customers.Unit) {
		customers.QueueLoadUnitSystem(b, tx.TenantID, req.UnitID, u)
	})
	if err != nil {
		return Entitlement{}, err
	}
	return decideOn(ctx, tx, req, r, now)
}
