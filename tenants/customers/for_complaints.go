package customers

import (
	"context"

	"github.com/servicenet/servicenet/internal/pg"
	"github.com/servicenet/servicenet/tenants"
)

// CustomerExistsTx reports, inside the caller's transaction, whether id is
// a customer of tx's tenant, whatever the caller's scope (a malformed id
// is not).
func CustomerExistsTx(ctx context.Context, tx pg.TenantTx, id string) (bool, error) {
	if !tenants.ValidID(tenants.PrefixCustomer, id) {
		return false, nil
	}
	var ok bool
	err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT FROM customers WHERE tenant_id = $1 AND id = $2)`, tx.TenantID, id).Scan(&ok)
	return ok, err
}
