package warranty

import (
	"context"

	"github.com/servicenet/servicenet/internal/pg"
	"github.com/servicenet/servicenet/tenants"
)

// IsUnitContractTx reports, inside the caller's transaction, whether id is
// a contract of unit unitID, in any state (a malformed id is not).
func IsUnitContractTx(ctx context.Context, tx pg.TenantTx, id, unitID string) (bool, error) {
	if !tenants.ValidID(tenants.PrefixContract, id) {
		return false, nil
	}
	var ok bool
	err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT FROM contracts WHERE tenant_id = $1 AND id = $2 AND unit_id = $3)`,
		tx.TenantID, id, unitID).Scan(&ok)
	return ok, err
}
