package customers

import (
	"context"

	"github.com/jackc/pgx/v5"

	"github.com/servicenet/servicenet/internal/pg"
)

// The system reads: the tenant's own view of its units, for a rule that
// decides for the brand (an entitlement decision, a return's outcome, a
// sale's checks) rather than for the key that asked. They apply no
// principal's scope; the caller has checked its own object's scope.

// LoadUnitSystemTx reads unit unitID of the tenant inside the caller's
// transaction, whoever asked; an absent or malformed id is not_found.
func LoadUnitSystemTx(ctx context.Context, tx pg.TenantTx, unitID string) (Unit, error) {
	return getUnit(ctx, tx, Scope{}, unitID, "")
}

// LockUnitSystemTx is LoadUnitSystemTx with the unit row locked (FOR NO KEY
// UPDATE) until the caller's transaction ends, so two writes that check the
// unit (two sales of a plan for it) cannot race past each other's checks.
func LockUnitSystemTx(ctx context.Context, tx pg.TenantTx, unitID string) (Unit, error) {
	return getUnit(ctx, tx, Scope{}, unitID, "FOR NO KEY UPDATE OF u")
}

// QueueLoadUnitSystem queues, on b, LoadUnitSystemTx's read into u, so a
// caller reads the unit in the same round trip as what it needs beside it;
// the callback answers not_found as LoadUnitSystemTx does.
func QueueLoadUnitSystem(b *pgx.Batch, tenantID, unitID string, u *Unit) {
	queueLoadUnit(b, tenantID, Scope{}, unitID, u)
}
