package tenants

import (
	"context"
	"slices"
)

// Principal is who a request or job acts as. It is built from the credential
// only: the tenant never comes from the URL or the body.
type Principal struct {
	// Operator is the platform operator: no tenant, platform verbs only.
	Operator bool
	TenantID string
	// KeyID is the API key the request authenticated with.
	KeyID string
	Roles []string
	// Live is false for sn_test_ keys.
	Live bool
	// NodeID, when set, restricts the principal to that network node's subtree.
	NodeID string
	// StorefrontID, when set, restricts the principal to its storefront's objects.
	StorefrontID string
	// TechnicianID, when set, is the technician a technician key acts as:
	// it sees only the tickets assigned to it.
	TechnicianID string
	// Language is the tenant's default language (zh-CN or en): what texts
	// are written in when the caller's Accept-Language names no supported one.
	Language string
}

// HasRole reports whether the principal carries role.
func (p Principal) HasRole(role string) bool { return slices.Contains(p.Roles, role) }

// Subject is the name the principal has in audit trails and events.
func (p Principal) Subject() string {
	if p.Operator {
		return "operator"
	}
	return p.KeyID
}

type principalKey struct{}

// WithPrincipal returns ctx carrying p.
func WithPrincipal(ctx context.Context, p Principal) context.Context {
	return context.WithValue(ctx, principalKey{}, p)
}

// PrincipalFrom returns the principal in ctx and whether there was one.
func PrincipalFrom(ctx context.Context) (Principal, bool) {
	p, ok := ctx.Value(principalKey{}).(Principal)
	return p, ok
}
