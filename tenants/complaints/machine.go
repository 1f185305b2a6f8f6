package complaints

import (
	"context"
	"time"

	"github.com/servicenet/servicenet/internal/pg"
	"github.com/servicenet/servicenet/tenants"
	"github.com/servicenet/servicenet/tenants/statemachine"
)

// machine is the complaint state machine for the runner, reading the
// complaint as of now (its deadline and allowed actions depend on it): a
// complaint is locked in the principal's scope, If-Match names its version,
// and it must admit the action (409 naming the state and the allowed
// actions otherwise).
func machine(now time.Time) statemachine.Machine[Complaint, string] {
	return statemachine.Machine[Complaint, string]{
		Noun: "complaint",
		Load: func(ctx context.Context, tx pg.TenantTx, p tenants.Principal, id string) (Complaint, error) {
			sc, err := resolveScope(ctx, tx, p)
			if err != nil {
				return Complaint{}, err
			}
			return getComplaint(ctx, tx, sc, id, "FOR UPDATE OF c", now)
		},
		Version: func(c Complaint) int { return c.Version },
		Check: func(c Complaint, action string) error {
			if !can(c, action) {
				return conflictState(c, action)
			}
			return nil
		},
	}
}
