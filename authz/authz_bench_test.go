package authz

import (
	"math/rand/v2"
	"sync"
	"testing"
	"time"

	"github.com/servicenet/servicenet/tenants"
)

// A production-sized enforcer: benchTenants tenants with benchKeysPerTenant
// keys each, role mixes as real tenants have them.
const (
	benchTenants       = 1000
	benchKeysPerTenant = 10
)

var benchRoleMixes = [][]string{
	{tenants.RoleTenantAdmin},
	{tenants.RoleNetworkManager},
	{tenants.RoleDispatcher, tenants.RoleAgent},
	{tenants.RoleAgent},
	{tenants.RoleNodeManager},
	{tenants.RoleTechnician},
	{tenants.RoleStorefront},
	{tenants.RoleIntegrator},
	{tenants.RoleAuditor},
	{tenants.RoleDispatcher, tenants.RoleNetworkManager, tenants.RoleAuditor},
}

type benchFixture struct {
	a          *Authorizer
	principals []tenants.Principal
	warmedAt   time.Time
}

var (
	benchOnce sync.Once
	bench     *benchFixture
)

// warmFixture builds the enforcer once per test binary and makes every
// (key, permission) decision once, so later decisions are cache hits.
func warmFixture(b *testing.B) *benchFixture {
	b.Helper()
	benchOnce.Do(func() {
		start := time.Now()
		a, err := New()
		if err != nil {
			b.Fatal(err)
		}
		f := &benchFixture{a: a}
		for t := range benchTenants {
			tenant := tenants.NewID(tenants.PrefixTenant)
			for k := range benchKeysPerTenant {
				f.principals = append(f.principals, tenants.Principal{TenantID: tenant, KeyID: tenants.NewID(tenants.PrefixAPIKey),
					Roles: benchRoleMixes[(t+k)%len(benchRoleMixes)]})
			}
		}
		for _, p := range f.principals {
			for _, perm := range Permissions {
				if _, err := a.Allowed(p, perm); err != nil {
					b.Fatal(err)
				}
			}
		}
		f.warmedAt = time.Now()
		b.Logf("warmed %d keys × %d permissions in %s", len(f.principals), len(Permissions), f.warmedAt.Sub(start).Round(time.Millisecond))
		bench = f
	})
	if bench == nil {
		b.Fatal("fixture failed to build")
	}
	if time.Since(bench.warmedAt) > decisionTTL/2 {
		b.Skip("cached decisions are close to their TTL; rerun with a shorter -benchtime")
	}
	return bench
}

// BenchmarkEnforceCached measures a decision that was made before: the
// common case for every request of a key that has been seen.
func BenchmarkEnforceCached(b *testing.B) {
	f := warmFixture(b)
	b.Run("Serial", func(b *testing.B) {
		r := rand.New(rand.NewPCG(1, 2))
		b.ReportAllocs()
		for b.Loop() {
			p := f.principals[r.IntN(len(f.principals))]
			if _, err := f.a.Allowed(p, Permissions[r.IntN(len(Permissions))]); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("Parallel", func(b *testing.B) {
		b.ReportAllocs()
		var seed sync.Mutex
		n := uint64(0)
		b.RunParallel(func(pb *testing.PB) {
			seed.Lock()
			n++
			r := rand.New(rand.NewPCG(n, 7))
			seed.Unlock()
			for pb.Next() {
				p := f.principals[r.IntN(len(f.principals))]
				if _, err := f.a.Allowed(p, Permissions[r.IntN(len(Permissions))]); err != nil {
					b.Fatal(err)
				}
			}
		})
	})
}

// BenchmarkEnforceUncached measures the policy evaluation itself (the
// decision cache off), with every key's assignments loaded.
func BenchmarkEnforceUncached(b *testing.B) {
	f := warmFixture(b)
	b.Cleanup(func() { f.a.e.EnableCache(true) })
	f.a.e.EnableCache(false)
	r := rand.New(rand.NewPCG(3, 4))
	b.ReportAllocs()
	for b.Loop() {
		p := f.principals[r.IntN(len(f.principals))]
		if _, err := f.a.Allowed(p, Permissions[r.IntN(len(Permissions))]); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkFirstDecisionForNewKey measures a key's first request: loading its
// role assignments into the enforcer and deciding without a cached answer.
// It uses its own enforcer (each iteration adds a key to it) so it does not
// grow the shared fixture.
func BenchmarkFirstDecisionForNewKey(b *testing.B) {
	a, err := New()
	if err != nil {
		b.Fatal(err)
	}
	// Start from the production size.
	for i := range benchTenants * benchKeysPerTenant {
		p := tenants.Principal{TenantID: tenants.NewID(tenants.PrefixTenant), KeyID: tenants.NewID(tenants.PrefixAPIKey),
			Roles: benchRoleMixes[i%len(benchRoleMixes)]}
		if _, err := a.Allowed(p, MeRead); err != nil {
			b.Fatal(err)
		}
	}
	tenant := tenants.NewID(tenants.PrefixTenant)
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		b.StopTimer()
		p := tenants.Principal{TenantID: tenant, KeyID: tenants.NewID(tenants.PrefixAPIKey), Roles: benchRoleMixes[i%len(benchRoleMixes)]}
		i++
		b.StartTimer()
		if _, err := a.Allowed(p, Permissions[i%len(Permissions)]); err != nil {
			b.Fatal(err)
		}
	}
}
