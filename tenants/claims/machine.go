package claims

import (
	"context"

	"github.com/servicenet/servicenet/internal/pg"
	"github.com/servicenet/servicenet/tenants"
	"github.com/servicenet/servicenet/tenants/statemachine"
)

// machine is the claim state machine for the runner: a claim is locked in
// the principal's scope, If-Match names its revision, and its state must
// admit the action (conflict naming the state otherwise).
var machine = statemachine.Machine[Claim, string]{
	Noun: "claim",
	Load: func(ctx context.Context, tx pg.TenantTx, p tenants.Principal, id string) (Claim, error) {
		sc, err := resolveScope(ctx, tx, p)
		if err != nil {
			return Claim{}, err
		}
		return getClaim(ctx, tx, sc, id, "FOR UPDATE OF c")
	},
	Version: func(c Claim) int { return c.Revision },
	Check: func(c Claim, action string) error {
		if !can(c, action) {
			return conflictState(c, action)
		}
		return nil
	},
}
