package customers

import (
	"context"

	"github.com/jackc/pgx/v5"

	"github.com/servicenet/servicenet/internal/pg"
	"github.com/servicenet/servicenet/tenants"
)

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
