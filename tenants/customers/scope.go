package customers

import (
	"context"

	"github.com/servicenet/servicenet/internal/i18n"
	"github.com/servicenet/servicenet/internal/pg"
	"github.com/servicenet/servicenet/tenants"
	"github.com/servicenet/servicenet/tenants/network"
)

// Scope is what part of the customers context a principal sees: everything,
// or (storefront keys) one storefront's units and the customers it created
// or sold a unit to. Every read and write of units and customers goes
// through a Scope; objects outside it are not found.
type Scope struct {
	// StorefrontID is the storefront the principal is limited to; empty for
	// the whole tenant.
	StorefrontID string
}

// noStorefront is an id no storefront has: the scope of a storefront-role
// principal without a storefront sees nothing.
const noStorefront = "sfr_none"

// ScopeOf returns the principal's scope.
func ScopeOf(p tenants.Principal) Scope {
	switch {
	case p.StorefrontID != "":
		return Scope{StorefrontID: p.StorefrontID}
	case p.HasRole(tenants.RoleStorefront):
		return Scope{StorefrontID: noStorefront}
	}
	return Scope{}
}

// Whole reports whether the scope is the whole tenant.
func (s Scope) Whole() bool { return s.StorefrontID == "" }

// arg is the scope's SQL parameter: NULL for the whole tenant.
func (s Scope) arg() *string { return nullable(s.StorefrontID) }

// The scope predicates; $N is the parameter bound to arg().
//
// unitInScope holds for a unit row aliased u; customerInScope for a customer
// row aliased c.
func unitInScope(n string) string {
	return `(` + n + `::text IS NULL OR u.storefront_id = ` + n + `::text)`
}

func customerInScope(n string) string {
	return `(` + n + `::text IS NULL OR c.storefront_id = ` + n + `::text OR EXISTS (SELECT FROM units su
		WHERE su.tenant_id = c.tenant_id AND su.customer_id = c.id AND su.storefront_id = ` + n + `::text))`
}

// CanSee reports whether a unit sold through storefrontID (nil: not through
// a storefront) is in scope.
func (s Scope) CanSee(storefrontID *string) bool {
	return s.Whole() || (storefrontID != nil && *storefrontID == s.StorefrontID)
}

// CheckCanSell refuses (forbidden) a storefront key whose storefront is
// suspended or gone: such keys may read but not register units, change
// them, record service or sell contracts. Other principals pass. Contexts
// that sell (contracts) call it inside their own transaction; it
// share-locks the storefront row so it cannot be suspended before commit.
func CheckCanSell(ctx context.Context, tx pg.TenantTx, p tenants.Principal) error {
	sc := ScopeOf(p)
	if sc.Whole() {
		return nil
	}
	v := &tenants.Validation{}
	if err := checkStorefrontActive(ctx, tx, v, "", sc.StorefrontID); err != nil {
		return err
	}
	if len(v.Fields()) > 0 {
		return tenants.ErrorMsg(tenants.CodeForbidden, i18n.M("customers.own_storefront_suspended"))
	}
	return nil
}

// OwnerScope is what a principal sees of the objects a storefront brought
// and a network node works on (claims, complaints, service tickets): a
// storefront key its storefront's, a node-scoped key those of its subtree's
// nodes, anyone else the whole tenant.
type OwnerScope struct {
	Storefront *string
	NodePath   *string
}

// ResolveOwnerScope returns p's OwnerScope inside tx.
func ResolveOwnerScope(ctx context.Context, tx pg.TenantTx, p tenants.Principal) (OwnerScope, error) {
	var sc OwnerScope
	if cs := ScopeOf(p); !cs.Whole() {
		sc.Storefront = &cs.StorefrontID
	}
	ns, err := network.ResolveScope(ctx, tx, p)
	if err != nil {
		return sc, err
	}
	sc.NodePath = ns.Path()
	return sc, nil
}

// Served is what a technician's or node key's jobs touch: the customers and
// units of the tickets in its scope (each true). The tickets context works
// it out (ServedTx); the customers context turns it into its own
// predicate: such keys see only these customers and units, and the
// customers masked (Customer.PersonalRelation).
type Served struct {
	Customers map[string]bool
	Units     map[string]bool
}

// JobRelations works out a principal's Served set inside the caller's
// transaction (tickets.ServedTx).
type JobRelations func(ctx context.Context, tx pg.TenantTx, p tenants.Principal) (Served, error)

// served is p's Served set, or nil when p's view does not depend on jobs.
func (s *Service) served(ctx context.Context, tx pg.TenantTx, p tenants.Principal) (*Served, error) {
	if !p.NeedsJobRelation() {
		return nil, nil
	}
	sv, err := s.jobs(ctx, tx, p)
	return &sv, err
}

// customerIDs is the SQL parameter restricting customers to the set: NULL
// for no restriction.
func (sv *Served) customerIDs() []string {
	if sv == nil {
		return nil
	}
	ids := make([]string, 0, len(sv.Customers))
	for id := range sv.Customers {
		ids = append(ids, id)
	}
	return ids
}

// unitIDs restricts units: those of the jobs, and those of the jobs' customers.
func (sv *Served) unitIDs() []string {
	if sv == nil {
		return nil
	}
	ids := make([]string, 0, len(sv.Units))
	for id := range sv.Units {
		ids = append(ids, id)
	}
	return ids
}

// JobUnits is the unit restriction, inside the caller's transaction, of a
// principal whose view depends on its jobs (technician and node keys) in
// the contexts that hang off units (contracts, payouts, swaps): the units
// of the tickets in its scope (tickets.ServedTx), possibly none. It is nil for
// every other principal (no restriction), so a query passes it as a
// text[] parameter and adds `($n::text[] IS NULL OR x.unit_id = ANY ($n))`.
func JobUnits(ctx context.Context, tx pg.TenantTx, jobs JobRelations, p tenants.Principal) ([]string, error) {
	if !p.NeedsJobRelation() {
		return nil, nil
	}
	sv, err := jobs(ctx, tx, p)
	if err != nil {
		return nil, err
	}
	ids := (&sv).unitIDs()
	if ids == nil {
		ids = []string{}
	}
	return ids, nil
}

// UnitScope is what a principal sees of the objects hanging off units
// (contracts, payouts): a storefront key only its storefront's; a technician
// or node key only those of the units its jobs serve (Units non-nil,
// JobUnits); anyone else all. The zero value sees all (a service's own
// reads).
type UnitScope struct {
	StorefrontID string
	Units        []string
}

// UnitScopeTx is p's UnitScope inside tx.
func UnitScopeTx(ctx context.Context, tx pg.TenantTx, jobs JobRelations, p tenants.Principal) (UnitScope, error) {
	units, err := JobUnits(ctx, tx, jobs, p)
	return UnitScope{StorefrontID: p.StorefrontID, Units: units}, err
}

// ActsAsTechnician reports whether p is a technician key (and not also a
// node manager): it sees its own jobs and what they touch, not its node's
// whole subtree.
func ActsAsTechnician(p tenants.Principal) bool {
	return p.HasRole(tenants.RoleTechnician) && !p.HasRole(tenants.RoleNodeManager)
}
