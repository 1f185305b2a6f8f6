// Package statemachine owns the skeleton every state machine's action
// shares (tickets, claims, complaints): lock the object in the principal's
// scope, check If-Match, check that its state admits the action. Each
// context keeps its own states, actions, rules and SQL, and changes the
// locked object in its own transaction; this package knows none of them.
package statemachine

import (
	"context"

	"github.com/servicenet/servicenet/internal/pg"
	"github.com/servicenet/servicenet/tenants"
)

// Machine is what the runner needs of one kind of object T acted on by
// actions A.
type Machine[T, A any] struct {
	// Noun names the object in a stale If-Match error ("ticket").
	Noun string
	// Load reads object id in p's scope and locks it for the transaction
	// (FOR UPDATE; not found outside the scope).
	Load func(ctx context.Context, tx pg.TenantTx, p tenants.Principal, id string) (T, error)
	// Version is the object's version (revision), the one If-Match names.
	Version func(obj T) int
	// Check returns the error (a conflict naming the state) when obj's
	// state does not admit action; nil when it does.
	Check func(obj T, action A) error
}

// Lock starts one action on object id for p inside tx: it reads and locks
// the object in p's scope, checks If-Match (ifVersion > 0: precondition
// failed when the object's version differs) and that the object's state
// admits action, and returns the object for the caller to change in the
// same transaction. Errors are returned as they are, in that order.
func (m Machine[T, A]) Lock(ctx context.Context, tx pg.TenantTx, p tenants.Principal, id string, ifVersion int, action A) (T, error) {
	obj, err := m.Load(ctx, tx, p, id)
	if err != nil {
		return obj, err
	}
	if err := tenants.CheckVersion(m.Noun, ifVersion, m.Version(obj)); err != nil {
		var zero T
		return zero, err
	}
	if err := m.Check(obj, action); err != nil {
		var zero T
		return zero, err
	}
	return obj, nil
}
