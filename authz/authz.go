// Package authz decides whether a principal may perform an operation. Role
// permissions come from the embedded policy.csv (defined once, shared by all
// tenants); the only per-tenant data are role assignments, which are the roles
// stored on each API key. Object scope (a node manager's subtree, a
// storefront's own objects) is enforced by the domain queries and answers
// not_found.
package authz

import (
	_ "embed"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/casbin/casbin/v2"
	"github.com/casbin/casbin/v2/model"
	stringadapter "github.com/casbin/casbin/v2/persist/string-adapter"

	"github.com/servicenet/servicenet/tenants"
)

//go:embed model.conf
var modelText string

//go:embed policy.csv
var policyText string

// decisionTTL bounds how long a cached decision may outlive a policy change
// that invalidation missed.
const decisionTTL = time.Minute

// Authorizer is safe for concurrent use.
type Authorizer struct {
	e *casbin.SyncedCachedEnforcer
	// loaded remembers which keys' role assignments are in the enforcer.
	loaded sync.Map // key ID -> struct{}
	// granted caches PermissionsOf by set of roles: the policy is fixed at
	// start, so what a set of roles grants never changes.
	granted sync.Map // sorted roles joined by "," -> []string
}

// New builds an Authorizer from the embedded model and policy.
func New() (*Authorizer, error) {
	m, err := model.NewModelFromString(modelText)
	if err != nil {
		return nil, fmt.Errorf("authz model: %w", err)
	}
	e, err := casbin.NewSyncedCachedEnforcer(m, stringadapter.NewAdapter(policyLines()))
	if err != nil {
		return nil, fmt.Errorf("authz policy: %w", err)
	}
	e.EnableAutoSave(false) // assignments live in api_keys, not in the policy file
	e.SetExpireTime(decisionTTL)
	return &Authorizer{e: e}, nil
}

// policyLines drops comments and blank lines, which the string adapter does not.
func policyLines() string {
	var b strings.Builder
	for line := range strings.Lines(policyText) {
		if t := strings.TrimSpace(line); t != "" && !strings.HasPrefix(t, "#") {
			b.WriteString(t + "\n")
		}
	}
	return b.String()
}

// Allowed reports whether p may use perm. The operator may use only Operator
// operations; tenant principals are decided by the policy.
func (a *Authorizer) Allowed(p tenants.Principal, perm Permission) (bool, error) {
	switch {
	case perm == Public:
		return true, nil
	case perm == Operator || p.Operator:
		return perm == Operator && p.Operator, nil
	case p.TenantID == "" || p.KeyID == "":
		return false, nil
	}
	if _, ok := a.loaded.Load(p.KeyID); !ok {
		rules := make([][]string, 0, len(p.Roles))
		for _, r := range p.Roles {
			rules = append(rules, []string{p.KeyID, r, p.TenantID})
		}
		if _, err := a.e.AddGroupingPoliciesEx(rules); err != nil {
			return false, err
		}
		a.loaded.Store(p.KeyID, struct{}{})
	}
	return a.e.Enforce(p.KeyID, p.TenantID, string(perm))
}

// PermissionsOf lists, sorted, every permission p's roles grant.
func (a *Authorizer) PermissionsOf(p tenants.Principal) ([]string, error) {
	roles := slices.Clone(p.Roles)
	slices.Sort(roles)
	key := strings.Join(roles, ",")
	if v, ok := a.granted.Load(key); ok {
		return v.([]string), nil
	}
	out := []string{}
	for _, perm := range Permissions {
		ok, err := a.Allowed(p, perm)
		if err != nil {
			return nil, err
		}
		if ok {
			out = append(out, string(perm))
		}
	}
	slices.Sort(out)
	a.granted.Store(key, out)
	return out, nil
}

// ForgetKey drops a key's role assignments and every cached decision, after
// the key was revoked. (A revoked key already fails authentication; this
// keeps the enforcer from holding dead assignments.)
func (a *Authorizer) ForgetKey(keyID string) error {
	a.loaded.Delete(keyID)
	if _, err := a.e.RemoveFilteredGroupingPolicy(0, keyID); err != nil {
		return err
	}
	return a.e.InvalidateCache()
}

// RolesWith returns the roles granted perm by the default policy, sorted.
func (a *Authorizer) RolesWith(perm Permission) []string {
	var roles []string
	for _, r := range tenants.Roles {
		// A role name is linked to itself, so the role stands in for a key holding it.
		if ok, _ := a.e.Enforce(r, "*", string(perm)); ok {
			roles = append(roles, r)
		}
	}
	slices.Sort(roles)
	return roles
}
