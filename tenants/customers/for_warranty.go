package customers

import (
	"context"

	"github.com/servicenet/servicenet/internal/pg"
)

// StorefrontExistsTx reports whether the tenant has storefront id (in the
// transaction's mode), for a context that records a storefront as seller
// or owner (contracts, webhook endpoints).
func StorefrontExistsTx(ctx context.Context, tx pg.TenantTx, id string) (bool, error) {
	var ok bool
	err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM storefronts WHERE tenant_id = $1 AND id = $2)`,
		tx.TenantID, id).Scan(&ok)
	return ok, err
}
