package authz_test

import (
	"fmt"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/servicenet/servicenet/authz"
	"github.com/servicenet/servicenet/tenants"
)

func newAuthorizer(t testing.TB) *authz.Authorizer {
	t.Helper()
	a, err := authz.New()
	require.NoError(t, err)
	return a
}

func principal(roles ...string) tenants.Principal {
	return tenants.Principal{TenantID: tenants.NewID(tenants.PrefixTenant), KeyID: tenants.NewID(tenants.PrefixAPIKey), Roles: roles}
}

func allowed(t *testing.T, a *authz.Authorizer, p tenants.Principal, perm authz.Permission) bool {
	t.Helper()
	ok, err := a.Allowed(p, perm)
	require.NoError(t, err)
	return ok
}

// TestPolicy checks policy.csv itself: every line grants a known role a known
// permission (or a family that matches at least one), in domain "*".
func TestPolicy(t *testing.T) {
	t.Parallel()
	raw, err := os.ReadFile("policy.csv")
	require.NoError(t, err)
	lines := 0
	for line := range strings.Lines(string(raw)) {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		lines++
		f := strings.Split(line, ",")
		for i := range f {
			f[i] = strings.TrimSpace(f[i])
		}
		require.Len(t, f, 4, line)
		require.Equal(t, "p", f[0], "only p lines belong in policy.csv (role assignments live on keys): %s", line)
		require.Contains(t, tenants.Roles, f[1], "unknown role: %s", line)
		require.Equal(t, "*", f[2], "grants are shared by every tenant: %s", line)
		family, isFamily := strings.CutSuffix(f[3], "*")
		matches := slices.ContainsFunc(authz.Permissions, func(p authz.Permission) bool {
			if isFamily {
				return strings.HasPrefix(string(p), family)
			}
			return string(p) == f[3]
		})
		require.True(t, matches, "names no permission in authz.Permissions: %s", line)
	}
	require.Greater(t, lines, 10)
}

func TestEveryPermissionIsGranted(t *testing.T) {
	t.Parallel()
	a := newAuthorizer(t)
	seen := map[authz.Permission]bool{}
	for _, perm := range authz.Permissions {
		require.False(t, seen[perm], "%s is listed twice", perm)
		seen[perm] = true
		require.NotEqual(t, authz.Public, perm)
		require.NotEqual(t, authz.Operator, perm)
		require.NotEmpty(t, a.RolesWith(perm), "no role is granted %s", perm)
	}
}

func TestTenantAdminHasEveryTenantPermission(t *testing.T) {
	t.Parallel()
	a := newAuthorizer(t)
	admin := principal(tenants.RoleTenantAdmin)
	for _, perm := range authz.Permissions {
		require.True(t, allowed(t, a, admin, perm), perm)
		require.Contains(t, a.RolesWith(perm), tenants.RoleTenantAdmin, perm)
	}
	require.False(t, allowed(t, a, admin, authz.Operator), "a tenant admin is not the platform operator")
}

func TestRoleMatrix(t *testing.T) {
	t.Parallel()
	a := newAuthorizer(t)
	for _, c := range []struct {
		role  string
		allow []authz.Permission
		deny  []authz.Permission
	}{
		{tenants.RoleAuditor,
			[]authz.Permission{authz.MeRead, authz.TenantRead, authz.APIKeysList, authz.APIKeysRead, authz.EventsList, authz.NetworkRead},
			[]authz.Permission{authz.TenantUpdate, authz.APIKeysCreate, authz.APIKeysRevoke, authz.NetworkWrite, authz.NetworkImport}},
		{tenants.RoleNetworkManager,
			[]authz.Permission{authz.NetworkRead, authz.NetworkWrite, authz.NetworkImport},
			[]authz.Permission{authz.APIKeysCreate, authz.APIKeysList, authz.TenantUpdate, authz.EventsList}},
		{tenants.RoleStorefront,
			// events.list: a storefront reads the events about its own
			// objects (the service scopes the feed to its sales).
			// test_clocks: a storefront drives its own clocks with its own
			// objects on them (the service scopes both).
			[]authz.Permission{authz.MeRead, authz.TenantRead, authz.EventsList, authz.TestClocksRead, authz.TestClocksWrite},
			[]authz.Permission{authz.APIKeysList, authz.NetworkRead, authz.CareRead, authz.CareWrite}},
		{tenants.RoleIntegrator,
			[]authz.Permission{authz.EventsList, authz.NetworkRead, authz.CareRead},
			[]authz.Permission{authz.NetworkWrite, authz.APIKeysCreate, authz.CareWrite}},
		// The care-reminder policy: the admin sets it; agents read it; field roles and storefronts do not.
		{tenants.RoleTenantAdmin,
			[]authz.Permission{authz.CareRead, authz.CareWrite},
			nil},
		{tenants.RoleAgent,
			[]authz.Permission{authz.CareRead},
			[]authz.Permission{authz.CareWrite}},
		{tenants.RoleTechnician,
			nil,
			[]authz.Permission{authz.CareRead, authz.CareWrite}},
	} {
		t.Run(c.role, func(t *testing.T) {
			t.Parallel()
			p := principal(c.role)
			for _, perm := range c.allow {
				require.True(t, allowed(t, a, p, perm), perm)
			}
			for _, perm := range c.deny {
				require.False(t, allowed(t, a, p, perm), perm)
			}
		})
	}
}

func TestPseudoPermissions(t *testing.T) {
	t.Parallel()
	a := newAuthorizer(t)
	operator := tenants.Principal{Operator: true}
	require.True(t, allowed(t, a, tenants.Principal{}, authz.Public))
	require.True(t, allowed(t, a, operator, authz.Operator))
	require.True(t, allowed(t, a, operator, authz.Public))
	require.False(t, allowed(t, a, tenants.Principal{}, authz.Operator))
	for _, perm := range authz.Permissions {
		require.False(t, allowed(t, a, operator, perm), "the operator has no tenant permissions: %s", perm)
		require.False(t, allowed(t, a, tenants.Principal{}, perm), "no credential: %s", perm)
	}
	noKey := principal(tenants.RoleTenantAdmin)
	noKey.KeyID = ""
	require.False(t, allowed(t, a, noKey, authz.MeRead))
	noTenant := principal(tenants.RoleTenantAdmin)
	noTenant.TenantID = ""
	require.False(t, allowed(t, a, noTenant, authz.MeRead))
	require.False(t, allowed(t, a, principal(), authz.MeRead), "a key without roles may do nothing")
	require.False(t, allowed(t, a, principal("root"), authz.MeRead), "an unknown role grants nothing")
	require.False(t, allowed(t, a, principal(tenants.RoleTenantAdmin), "billing.refund"), "a permission no line grants")
}

func TestRolesDoNotCrossTenants(t *testing.T) {
	t.Parallel()
	a := newAuthorizer(t)
	inA := principal(tenants.Roles...)
	for _, perm := range authz.Permissions {
		require.True(t, allowed(t, a, inA, perm), perm)
	}
	// The same key presented with another tenant (which authentication never
	// produces) is granted nothing there, before or after its decisions in
	// A are cached.
	inB := inA
	inB.TenantID = tenants.NewID(tenants.PrefixTenant)
	for _, perm := range authz.Permissions {
		require.False(t, allowed(t, a, inB, perm), perm)
	}
	// Another tenant's admin neither gains nor loses anything from A's keys.
	adminB := principal(tenants.RoleTenantAdmin)
	adminB.TenantID = inB.TenantID
	for _, perm := range authz.Permissions {
		require.True(t, allowed(t, a, adminB, perm), perm)
	}
	// A role name as a tenant ID, or "*", grants nothing.
	star := principal(tenants.RoleAuditor)
	star.TenantID = "*"
	require.False(t, allowed(t, a, star, authz.APIKeysCreate))
}

func TestForgetKey(t *testing.T) {
	t.Parallel()
	a := newAuthorizer(t)
	p := principal(tenants.RoleTenantAdmin)
	require.True(t, allowed(t, a, p, authz.APIKeysCreate))

	// A key's roles never change, so the assignments are loaded once: the
	// same key presented with other roles still decides as before...
	demoted := p
	demoted.Roles = []string{tenants.RoleAuditor}
	require.True(t, allowed(t, a, demoted, authz.APIKeysCreate))

	// ...until the key is forgotten, which drops its assignments and the
	// cached decisions.
	require.NoError(t, a.ForgetKey(p.KeyID))
	require.False(t, allowed(t, a, demoted, authz.APIKeysCreate))
	require.True(t, allowed(t, a, demoted, authz.APIKeysList))

	require.NoError(t, a.ForgetKey(p.KeyID))
	require.NoError(t, a.ForgetKey("key_never_seen"), "forgetting an unknown key is harmless")

	// Other keys are untouched.
	other := principal(tenants.RoleTenantAdmin)
	require.True(t, allowed(t, a, other, authz.APIKeysCreate))
	require.NoError(t, a.ForgetKey(p.KeyID))
	require.True(t, allowed(t, a, other, authz.APIKeysCreate))
}

func TestConcurrentDecisions(t *testing.T) {
	// Goroutines decide for their own keys (and forget them now and then)
	// while others do the same: every decision matches the policy.
	t.Parallel()
	a := newAuthorizer(t)
	want := map[string]map[authz.Permission]bool{}
	for _, role := range tenants.Roles {
		want[role] = map[authz.Permission]bool{}
		for _, perm := range authz.Permissions {
			want[role][perm] = slices.Contains(a.RolesWith(perm), role)
		}
	}
	var wg sync.WaitGroup
	errs := make(chan string, 100)
	for g := range 8 {
		ps := make([]tenants.Principal, 10)
		for i := range ps {
			ps[i] = principal(tenants.Roles[(g+i)%len(tenants.Roles)])
		}
		wg.Go(func() {
			for i := range 2000 {
				p := ps[i%len(ps)]
				perm := authz.Permissions[i%len(authz.Permissions)]
				if i%500 == 499 {
					if err := a.ForgetKey(p.KeyID); err != nil {
						errs <- err.Error()
						return
					}
				}
				ok, err := a.Allowed(p, perm)
				if err != nil || ok != want[p.Roles[0]][perm] {
					errs <- fmt.Sprintf("%s %s: got %t, %v", p.Roles[0], perm, ok, err)
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for e := range errs {
		t.Errorf("wrong decision: %s", e)
	}
}
