package customers

import (
	"context"
	"errors"

	"github.com/jackc/pgx/v5"

	"github.com/servicenet/servicenet/internal/pg"
	"github.com/servicenet/servicenet/tenants"
)

// LoadUnitSystemTx reads a unit of tx's tenant whoever sold it, inside the
// caller's transaction: a system read for a context that has already
// decided the caller may act on the unit (the adjudication job, a swap's
// evaluation, a refund the brand owes). An absent or malformed id is
// not_found.
func LoadUnitSystemTx(ctx context.Context, tx pg.TenantTx, id string) (Unit, error) {
	return getUnit(ctx, tx, Scope{}, id, "")
}

// QueueLoadUnitSystem queues LoadUnitSystemTx's read on b into u, so a
// caller reads the unit in the same round trip as what it needs beside it.
// The callback answers not_found as LoadUnitSystemTx does.
func QueueLoadUnitSystem(b *pgx.Batch, tenantID, id string, u *Unit) {
	b.Queue(`SELECT `+unitColumns+unitFrom+` WHERE u.tenant_id = $1 AND u.id = $2`, tenantID, id).
		QueryRow(func(row pgx.Row) error {
			var err error
			if *u, err = scanUnit(row); errors.Is(err, pgx.ErrNoRows) {
				return tenants.NotFound("unit")
			}
			return err
		})
}

// QueueSerialElsewhere queues on b whether the serial of unit unitID is
// also registered to a unit of another model, into elsewhere (false for an
// unknown unit).
func QueueSerialElsewhere(b *pgx.Batch, tenantID, unitID string, elsewhere *bool) {
	b.Queue(`SELECT EXISTS (SELECT FROM units u JOIN units o ON o.tenant_id = u.tenant_id AND o.serial = u.serial
		AND o.model_id <> u.model_id WHERE u.tenant_id = $1 AND u.id = $2)`,
		tenantID, unitID).QueryRow(func(row pgx.Row) error { return row.Scan(elsewhere) })
}

// IsUnitRepairTx reports, inside the caller's transaction, whether id is a
// repair recorded in unit unitID's service history (a malformed id is not).
func IsUnitRepairTx(ctx context.Context, tx pg.TenantTx, id, unitID string) (bool, error) {
	if !tenants.ValidID(tenants.PrefixServiceRecord, id) {
		return false, nil
	}
	var ok bool
	err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT FROM service_records WHERE tenant_id = $1 AND id = $2
		AND unit_id = $3 AND kind = 'repair')`, tx.TenantID, id, unitID).Scan(&ok)
	return ok, err
}
