package customers

import (
	"context"
	"time"

	"github.com/servicenet/servicenet/internal/pg"
	"github.com/servicenet/servicenet/tenants"
)

// ReplaceUnitSystemTx is ReplaceUnit for a swap the brand has approved:
// the old unit is read whoever sold it (no key's scope applies and no
// storefront's selling status is checked), and actor goes on the events.
func ReplaceUnitSystemTx(ctx context.Context, tx pg.TenantTx, actor, oldID string, r Replacement, now time.Time) (Unit, error) {
	// A principal with no storefront, node or role is this context's
	// whole-tenant scope (ScopeOf, CheckCanSell).
	return ReplaceUnit(ctx, tx, tenants.Principal{TenantID: tx.TenantID, KeyID: actor}, oldID, r, now)
}
