package tenants

// Roles a credential can carry (DESIGN.md "Identity and access"). What each
// may do is the policy in authz/policy.csv.
const (
	RoleTenantAdmin    = "tenant_admin"
	RoleNetworkManager = "network_manager"
	RoleDispatcher     = "dispatcher"
	RoleAgent          = "agent"
	RoleNodeManager    = "node_manager"
	RoleTechnician     = "technician"
	RoleStorefront     = "storefront"
	RoleIntegrator     = "integrator"
	RoleAuditor        = "auditor"
)

// Roles lists every role, in the order documentation shows them.
var Roles = []string{
	RoleTenantAdmin, RoleNetworkManager, RoleDispatcher, RoleAgent, RoleNodeManager,
	RoleTechnician, RoleStorefront, RoleIntegrator, RoleAuditor,
}
