package authz

// Permission names what an operation does. Every API operation declares
// exactly one; the OpenAPI document carries it as x-permission.
type Permission string

// Pseudo-permissions that are not decided by the role policy.
const (
	// Public operations need no credential (health, readiness).
	Public Permission = "public"
	// Operator operations need the platform operator's token.
	Operator Permission = "platform.operator"
)

// Tenant permissions, granted to roles in policy.csv.
const (
	MeRead        Permission = "me.read"
	TenantRead    Permission = "tenant.read"
	TenantUpdate  Permission = "tenant.update"
	APIKeysCreate Permission = "api_keys.create"
	APIKeysList   Permission = "api_keys.list"
	APIKeysRead   Permission = "api_keys.read"
	APIKeysRevoke Permission = "api_keys.revoke"
	EventsList    Permission = "events.list"
	NetworkRead   Permission = "network.read"
	NetworkWrite  Permission = "network.write"
	NetworkImport Permission = "network.import"
)

// Permissions lists every tenant permission.
var Permissions = []Permission{
	MeRead, TenantRead, TenantUpdate, APIKeysCreate, APIKeysList, APIKeysRead, APIKeysRevoke, EventsList,
	NetworkRead, NetworkWrite, NetworkImport,
}
