package customers

import (
	"context"

	"github.com/servicenet/servicenet/internal/pg"
	"github.com/servicenet/servicenet/tenants"
)

// CustomerExistsTx reports, inside the caller's transaction, whether id is
// a customer of tx's tenant in scope sc (ScopeOf the principal who names
// it: a storefront key sees only its own customers and those of the units
// it sold, so another party's customer does not exist for it; a malformed
// id is not one).
func CustomerExistsTx(ctx context.Context, tx pg.TenantTx, sc Scope, id string) (bool, error) {
	if !tenants.ValidID(tenants.PrefixCustomer, id) {
		return false, nil
	}
	var ok bool
	err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT FROM customers c WHERE c.tenant_id = $1 AND c.id = $2 AND `+customerInScope("$3")+`)`,
		tx.TenantID, id, sc.arg()).Scan(&ok)
	return ok, err
}
