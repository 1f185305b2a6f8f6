package customers

import (
	"context"

	"github.com/servicenet/servicenet/internal/pg"
	"github.com/servicenet/servicenet/tenants"
)

// SetInstalledOnTx records, in the caller's tenant transaction, that the
// unit was installed on on (YYYY-MM-DD, the tenant's zone): a completed
// installation. The latest installation counts (rule 3's month of free
// tuning runs from it). A date before the purchase is invalid on
// installed_on; an unknown unit is not_found.
func SetInstalledOnTx(ctx context.Context, tx pg.TenantTx, unitID, on string) error {
	tag, err := tx.Exec(ctx, `UPDATE units SET installed_on = $3::date, version = version + 1, updated_at = now()
		WHERE tenant_id = $1 AND id = $2`, tx.TenantID, unitID, on)
	if err != nil {
		return err
	}
	if tag.RowsAffected() == 0 {
		return tenants.Errorf(tenants.CodeNotFound, "no such unit")
	}
	return nil
}

// MarkReturnedTx marks an active unit returned (a refunded return), in the
// caller's tenant transaction; its history stays. A unit that is not
// active is a conflict; an unknown one not_found.
func MarkReturnedTx(ctx context.Context, tx pg.TenantTx, unitID string) error {
	tag, err := tx.Exec(ctx, `UPDATE units SET status = 'returned', version = version + 1, updated_at = now()
		WHERE tenant_id = $1 AND id = $2 AND status = 'active'`, tx.TenantID, unitID)
	if err != nil {
		return err
	}
	if tag.RowsAffected() == 0 {
		return tenants.Errorf(tenants.CodeConflict, "the unit is not active: it was already replaced or returned")
	}
	return nil
}
